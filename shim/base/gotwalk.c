/*
 * gotwalk.c - a module's GOT entries against given names: from its
 * PT_DYNAMIC, each JUMP_SLOT and GLOB_DAT relocation (DT_JMPREL and
 * DT_RELA) whose symbol is one of the names is handed to a callback with
 * the entry's address, and the callback may rewrite it (gotw_write opens a
 * RELRO page between two mprotect calls).  The loader and the vDSO are
 * never walked.  Used by the attach's rewrite of the malloc family
 * (got_hook) and by tracemalloc's domains (pyw_track_arm); each keeps its
 * own lock, skips its own module and decides what to write.  x86-64 only,
 * as the rest of the shim.
 *
 * dl_iterate_phdr lists a module from its mapping on, while another
 * thread's dlopen has yet to relocate it: an entry written then is
 * overwritten by the loader, or (a lazy JUMP_SLOT) has the module's base
 * added to it, a wild jump at the module's first malloc; and the RELRO
 * page put back read-only faults the loader's own writes.  So a module
 * _dl_find_object does not know yet (it learns a dlopen's modules after
 * their relocation) is left for a later walk (gotw_module answers 1).
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base.h"
#include "sysmap.h"

/* A dynamic entry's address: the loader relocates most in place, not all. */
static uintptr_t gotw_dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
    return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

/* The RELRO range of a module, page-rounded ([0, 0) when none). */
static void gotw_relro(struct gotw_mod *m)
{
    const struct dl_phdr_info *info = m->info;
    size_t page = (size_t)getpagesize();
    m->relro_lo = m->relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            uintptr_t a = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            m->relro_lo = a & ~(page - 1);
            m->relro_hi = (a + info->dlpi_phdr[i].p_memsz) & ~(page - 1); /* the linker pads it */
        }
}

/* Writes v into *at, opening a RELRO page for the write; 0 or -1. */
int gotw_write(void **at, void *v, const struct gotw_mod *m)
{
    uintptr_t a = (uintptr_t)at, page = (uintptr_t)getpagesize();
    int ro = a >= m->relro_lo && a < m->relro_hi;
    void *pg = (void *)(a & ~(page - 1));
    if (ro && sys_mprotect(pg, page, PROT_READ | PROT_WRITE) != 0)
        return -1;
    __atomic_store_n(at, v, __ATOMIC_RELEASE);
    if (ro)
        sys_mprotect(pg, page, PROT_READ);
    return 0;
}

/* glibc 2.35's; without it (an older glibc) every listed module is taken
 * as finished, the walk as before. */
extern int _dl_find_object(void *pc, struct dl_find_object *result) __attribute__((weak));

/* Has the loader finished the module (relocated, RELRO applied)? */
static int gotw_ready(const struct dl_phdr_info *info)
{
    struct dl_find_object found;
    if (!_dl_find_object)
        return 1;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD) {
            void *a = (void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
            return _dl_find_object(a, &found) == 0;
        }
    return 1;
}

/* Does the module hold address a in one of its segments? */
int gotw_holds(const struct dl_phdr_info *info, uintptr_t a)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && a - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
            return 1;
    }
    return 0;
}

static int gotw_index(const char *name, const char *const *names, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(name, names[i]))
            return (int)i;
    return -1;
}

/* One relocation table of a module: each entry against one of the names. */
static void gotw_rela(struct gotw_mod *m, const ElfW(Rela) *r, size_t n, const ElfW(Sym) *sym,
                      const char *str, const char *const *names, unsigned nnames, gotw_fn fn,
                      void *arg)
{
    for (size_t i = 0; i < n; i++) {
        unsigned type = ELF64_R_TYPE(r[i].r_info), si = ELF64_R_SYM(r[i].r_info);
        if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !si)
            continue;
        int k = gotw_index(str + sym[si].st_name, names, nnames);
        if (k >= 0)
            fn((void **)(m->info->dlpi_addr + r[i].r_offset), (unsigned)k, m, arg);
    }
}

/* Calls fn for every entry of the module (a dl_iterate_phdr callback's
 * info) against one of names[0..n): fn(entry, index in names, module, arg).
 * 0; 1 when the module is not finished yet (another thread's dlopen is
 * relocating it: gotw_ready), none of its entries seen. */
int gotw_module(const struct dl_phdr_info *info, const char *const *names, unsigned n,
                 gotw_fn fn, void *arg)
{
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const ElfW(Dyn) *dyn = NULL;
    if (strstr(name, "linux-vdso") || strstr(name, "/ld-linux") || strstr(name, "/ld64.so"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn)
        return 0;
    if (!gotw_ready(info))
        return 1;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    const ElfW(Rela) *jmp = NULL, *rela = NULL;
    size_t njmp = 0, nrela = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: sym = (const ElfW(Sym) *)gotw_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_STRTAB: str = (const char *)gotw_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_JMPREL: jmp = (const ElfW(Rela) *)gotw_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: njmp = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        case DT_RELA: rela = (const ElfW(Rela) *)gotw_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_RELASZ: nrela = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        default: break;
        }
    }
    if (!sym || !str)
        return 0;
    struct gotw_mod m = {.info = info};
    gotw_relro(&m);
    if (jmp)
        gotw_rela(&m, jmp, njmp, sym, str, names, n, fn, arg);
    if (rela)
        gotw_rela(&m, rela, nrela, sym, str, names, n, fn, arg);
    return 0;
}

static int gotw_count(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    *(unsigned long long *)arg = info->dlpi_adds;
    return 1;
}

/* The loader's count of loads so far (dlpi_adds): a walk is due when it
 * differs from the one the last walk saw. */
unsigned long long gotw_adds(void)
{
    unsigned long long adds = 0;
    loader_iterate_phdr(gotw_count, &adds);
    return adds;
}
