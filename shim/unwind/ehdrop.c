/*
 * ehdrop.c - the unwind tables' pages leave the program's resident set
 * once read.  ehframe.c's lookups (and libunwind's, on a fallback) read
 * each module's .eh_frame_hdr and .eh_frame: a few FDEs, but every page
 * read is mapped with its fault-around window, and those pages stay in
 * the resident set for the rest of the run though a walk needs them only
 * on a rule-cache miss.  So the helper thread drops (MADV_DONTNEED) those
 * of the modules that lookups read since its last pass: the page cache
 * keeps them, and the next miss maps them again with a minor fault.
 *
 * Only pages that can hold nothing but the file's bytes: from the first
 * page boundary after PT_GNU_EH_FRAME's start to the last one inside its
 * PT_LOAD's file bytes, and only where that PT_LOAD is neither writable
 * nor executable and lies outside PT_GNU_RELRO (pages a loader, a
 * debugger or the program could have written: DONTNEED would drop their
 * writes).  The vDSO's tables are in its executable segment: never met.
 *
 * Once, at the first pass, the same for libunwind and the liblzma it
 * needs, whole (their read-only and executable segments, outside RELRO):
 * they are loaded with the shim (libunwind's archive is not PIC) for the
 * rare stack that auto leaves to unw_backtrace, and what their loading
 * touched (liblzma's IFUNC resolvers' window of text, both symbol
 * tables) stays resident for nothing until then.  Not a segment with a
 * page of its own in it (written, pagemap.h): a
 * debugger's breakpoint or a uprobe there would be lost.
 */
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "pagemap.h"
#include "unwindinner.h"

_Atomic uint64_t ehf_unw;            /* stacks taken by unw_backtrace (its lookups) */

/* The modules whose tables ehframe.c read since the last pass, by their
 * base (dlpi_addr + 1, so that a non-PIE executable's is not 0): a pass
 * gives back theirs alone, and reads no other module's program headers,
 * where a program that loads hundreds of libraries (a Python process
 * importing torch) paid a madvise a module at every pass, and a page of
 * headers a module, while only a few were read.  More of them than the
 * set holds, or a stack that libunwind took (its reads are not told
 * apart), and the pass takes every module. */
#define EHD_SET 32u

static struct {
    atomic_flag busy;                /* a pass under way (the helper, or the exit) */
    _Atomic uintptr_t read[EHD_SET]; /* modules read since the last pass; 0 = free */
    atomic_int overflow;             /* a module found no room in read[] */
    uint64_t unw_seen;               /* ehf_unw at the last pass */
    int backend_done;                /* libunwind's and liblzma's pages: given back once */
} ehd;

/* What a pass gives back (ehd_module's argument). */
struct ehd_pass {
    uintptr_t base[EHD_SET];         /* the modules read, by dlpi_addr + 1 */
    unsigned n;
    int all;                         /* every module's tables */
    int backend;                     /* libunwind's and liblzma's segments too */
};

/* unwindinner.h: after a lookup read the tables of the module at base
 * (its reads done, so a pass that takes the note gives back what they
 * mapped). */
void ehd_note_read(uintptr_t base)
{
    uintptr_t h = base + 1;
    for (unsigned k = 0; k < EHD_SET; k++) {
        uintptr_t v = atomic_load_explicit(&ehd.read[k], memory_order_relaxed);
        if (v == h)
            return;
        if (v == 0 && (atomic_compare_exchange_strong(&ehd.read[k], &v, h) || v == h))
            return;
    }
    atomic_store_explicit(&ehd.overflow, 1, memory_order_relaxed);
}

#define EHD_PAGE 4096u

/* Whether [a, b) (pages) may hold a page written in this process
 * (pagemap.h); 1 too when pagemap cannot tell.  Static: ehd.busy lets one
 * pass run at a time. */
static int ehd_written(uintptr_t a, uintptr_t b)
{
    static struct pagemap pm;
    int written = 0;
    pagemap_open(&pm);
    for (uintptr_t p = a; !written && p < b; p += PAGEMAP_PAGE)
        written = pagemap_written(&pm, p, b - 1) != 0;
    pagemap_close(&pm);
    return written;
}

/* Gives back [a, b) rounded inwards to pages unless it meets [rlo, rhi)
 * (or, checked: unless a page of it was written). */
static void ehd_drop(uintptr_t a, uintptr_t b, uintptr_t rlo, uintptr_t rhi, int check)
{
    a = (a + EHD_PAGE - 1) & ~(uintptr_t)(EHD_PAGE - 1);
    b &= ~(uintptr_t)(EHD_PAGE - 1);
    if (a >= b || (rlo < b && a < rhi) || (check && ehd_written(a, b)))
        return;
    madvise((void *)a, b - a, MADV_DONTNEED); /* a failure leaves them resident: no harm */
}

/* Whether info is libunwind (it holds unw_backtrace) or liblzma. */
static int ehd_backend(const struct dl_phdr_info *info)
{
    uintptr_t unw = (uintptr_t)&unw_backtrace;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && unw - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
            return 1;
    }
    const char *name = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    return name && strncmp(name, "/liblzma.so", 11) == 0;
}

static int ehd_picked(const struct ehd_pass *pass, const struct dl_phdr_info *info)
{
    for (unsigned k = 0; k < pass->n; k++)
        if (pass->base[k] == info->dlpi_addr + 1)
            return 1;
    return 0;
}

static int ehd_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    const struct ehd_pass *pass = arg;
    int picked = pass->all || ehd_picked(pass, info);
    if (!picked && !pass->backend)
        return 0; /* its headers not read: a page a module */
    uintptr_t eh = 0, relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_EH_FRAME)
            eh = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = info->dlpi_addr + ph->p_vaddr;
            relro_hi = relro_lo + ph->p_memsz;
        }
    }
    int whole = pass->backend && ehd_backend(info);
    if (!whole && !(eh && picked))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
            continue;
        if (whole)
            ehd_drop(lo, lo + ph->p_filesz, relro_lo, relro_hi, 1);
        else if (eh && eh - lo < ph->p_filesz && !(ph->p_flags & PF_X))
            ehd_drop(eh, lo + ph->p_filesz, relro_lo, relro_hi, 0);
    }
    return 0;
}

/* unwind.h: the helper thread or the exit, outside any hook and with no
 * shim lock held (it takes the loader lock); 1 when it dropped, 0 when no
 * lookup read a table since the last pass (or one is under way). */
int unwind_drop_tables(void)
{
    if (!unwind_host || atomic_flag_test_and_set(&ehd.busy))
        return 0;
    struct ehd_pass pass = {.n = 0};
    for (unsigned k = 0; k < EHD_SET; k++) {
        uintptr_t h = atomic_exchange_explicit(&ehd.read[k], 0, memory_order_relaxed);
        if (h)
            pass.base[pass.n++] = h;
    }
    uint64_t unw = atomic_load_explicit(&ehf_unw, memory_order_relaxed);
    pass.all = atomic_exchange_explicit(&ehd.overflow, 0, memory_order_relaxed) ||
               unw != ehd.unw_seen;
    ehd.unw_seen = unw;
    int any = pass.n || pass.all || !ehd.backend_done;
    if (any) {
        pass.backend = !ehd.backend_done && unw == 0; /* libunwind's too, if no stack needed it */
        ehd.backend_done = 1;
        unwind_host->iterate_phdr(ehd_module, &pass);
    }
    atomic_flag_clear(&ehd.busy);
    return any;
}
