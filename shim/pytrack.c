/*
 * pytrack.c - tracemalloc's domains: a block that a C extension tracks
 * with PyTraceMalloc_Track(domain, ptr, size) (numpy: domain 389047 for
 * its arrays' data) keeps that domain, which heapsnap_dump hands over
 * (pytrack_domain), so the Python package's DomainFilter sees it.
 *
 * Why GOT entries: Debian's python3 is a static build whose executable
 * defines PyTraceMalloc_Track, and the executable comes first in the
 * lookup order, so a preloaded definition is never what an extension's
 * call reaches (memray rewrites the same entries for the same reason).
 * Once the allocator domains are wrapped (dom_poll), every loaded module's
 * JUMP_SLOT and GLOB_DAT entries against PyTraceMalloc_Track and _Untrack
 * are rewritten to ours, which call the interpreter's after (so a running
 * tracemalloc still gets them); and the interpreter module's entry to
 * dlopen, the one CPython loads extensions with, goes to pytrack_dlopen,
 * which rewrites the new modules' entries before their PyInit runs
 * (CPython passes dlopen a path with a '/', so the caller glibc sees, the
 * shim, changes no search).  Domains: python/pydomain.c.  Not in the
 * attach build, whose GOT rewrite (attach/got.c) owns the dlopen entries.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "python.h"
#include "root.h"

static struct {
    lock_t walk;             /* the GOT walks */
    int (*track)(unsigned, uintptr_t, size_t);
    int (*untrack)(unsigned, uintptr_t);
    void *(*dlopen)(const char *, int);
    uintptr_t track_at;      /* the interpreter's PyTraceMalloc_Track: its module */
    unsigned long long adds; /* the loader's count at the last walk */
} pt;

static int pytrack_track(unsigned domain, uintptr_t p, size_t size)
{
    py_domain_set(domain, p, size);
    return pt.track(domain, p, size);
}

static int pytrack_untrack(unsigned domain, uintptr_t p)
{
    py_domain_unset(domain, p);
    return pt.untrack(domain, p);
}

/* ---------------- the GOT entries ---------------- */

static void *pytrack_dlopen(const char *file, int mode);

/* Writes v into *at, opening a RELRO page for the write. */
static void pt_write(void **at, void *v, const struct dl_phdr_info *info)
{
    uintptr_t a = (uintptr_t)at, page = (uintptr_t)getpagesize(), lo = 0, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            lo = (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr) & ~(page - 1);
            hi = (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz) &
                 ~(page - 1);
        }
    int ro = a >= lo && a < hi;
    void *pg = (void *)(a & ~(page - 1));
    if (ro && mprotect(pg, page, PROT_READ | PROT_WRITE) != 0)
        return;
    __atomic_store_n(at, v, __ATOMIC_RELEASE);
    if (ro)
        mprotect(pg, page, PROT_READ);
}

static uintptr_t pt_dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
    return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

/* Does the module hold address a in one of its segments? */
static int pt_holds(const struct dl_phdr_info *info, uintptr_t a)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && a - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
            return 1;
    }
    return 0;
}

static void pt_rela(const struct dl_phdr_info *info, const ElfW(Rela) *r, size_t n,
                    const ElfW(Sym) *sym, const char *str, int interp)
{
    for (size_t i = 0; i < n; i++) {
        unsigned type = ELF64_R_TYPE(r[i].r_info), si = ELF64_R_SYM(r[i].r_info);
        if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !si)
            continue;
        const char *name = str + sym[si].st_name;
        void *ours;
        if (!strcmp(name, "PyTraceMalloc_Track"))
            ours = (void *)pytrack_track;
        else if (!strcmp(name, "PyTraceMalloc_Untrack"))
            ours = (void *)pytrack_untrack;
        else if (interp && pt.dlopen && !strcmp(name, "dlopen"))
            ours = (void *)pytrack_dlopen;
        else
            continue;
        void **at = (void **)(info->dlpi_addr + r[i].r_offset);
        if (__atomic_load_n(at, __ATOMIC_ACQUIRE) != ours)
            pt_write(at, ours, info);
    }
}

static int pt_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const ElfW(Dyn) *dyn = NULL;
    (void)size, (void)arg;
    pt.adds = info->dlpi_adds;
    if (pt_holds(info, (uintptr_t)pytrack_track) || strstr(name, "linux-vdso") ||
        strstr(name, "/ld-linux") || strstr(name, "/ld64.so"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn)
        return 0;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    const ElfW(Rela) *jmp = NULL, *rela = NULL;
    size_t njmp = 0, nrela = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: sym = (const ElfW(Sym) *)pt_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_STRTAB: str = (const char *)pt_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_JMPREL: jmp = (const ElfW(Rela) *)pt_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: njmp = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        case DT_RELA: rela = (const ElfW(Rela) *)pt_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_RELASZ: nrela = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        default: break;
        }
    }
    if (!sym || !str)
        return 0;
    int interp = pt_holds(info, pt.track_at);
    if (jmp)
        pt_rela(info, jmp, njmp, sym, str, interp);
    if (rela)
        pt_rela(info, rela, nrela, sym, str, interp);
    return 0;
}

static int pt_count(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    *(unsigned long long *)arg = info->dlpi_adds;
    return 1;
}

/* Every module loaded since the last walk (all of them, the first time). */
static void pt_walk(void)
{
    unsigned long long adds = 0;
    int saved = guard_enter();
    loader_iterate_phdr(pt_count, &adds);
    lock_take(&pt.walk);
    if (adds != pt.adds)
        loader_iterate_phdr(pt_module, NULL);
    lock_drop(&pt.walk);
    guard_leave(saved);
}

/* The interpreter's dlopen: the extension's entries before its PyInit. */
static void *pytrack_dlopen(const char *file, int mode)
{
    void *h = pt.dlopen(file, mode);
    if (h)
        pt_walk();
    return h;
}

static void pytrack_prepare(void)
{
    py_domain_fork(0);
}

static void pytrack_parent(void)
{
    py_domain_fork(1);
}

static void pytrack_child(void)
{
    py_domain_fork(2);
}

/* The domains wrapped (dom_poll): the interpreter's functions found, every
 * loaded module's entries rewritten.  Once. */
void pytrack_arm(void *(*lookup)(const char *))
{
    static int armed;
#ifdef HEAPSNAP_ATTACH_BUILD
    armed = 1;
#endif
    if (armed)
        return;
    armed = 1;
    loader_enter(); /* dlsym takes the loader's lock */
    pt.track = (int (*)(unsigned, uintptr_t, size_t))lookup("PyTraceMalloc_Track");
    pt.untrack = (int (*)(unsigned, uintptr_t))lookup("PyTraceMalloc_Untrack");
    pt.dlopen = (void *(*)(const char *, int))lookup("dlopen");
    loader_leave();
    if (!pt.track || !pt.untrack)
        return;
    pt.track_at = (uintptr_t)pt.track;
    pt.adds = ~0ull;
    pthread_atfork(pytrack_prepare, pytrack_parent, pytrack_child);
    pt_walk();
}
