/*
 * elfsym.c - a function defined by the program, found by name, for the
 * hooks a program defines for LeakSanitizer (__lsan_is_turned_off,
 * __lsan_default_suppressions), without dlsym: a failing dlsym allocates
 * its error message (which the program may free later, or which may wait
 * on a malloc lock held by code that a signal handler calling _exit
 * interrupted).  Two places, as LSan linked into the executable sees them:
 *
 *   the loaded modules' dynamic symbols (.dynsym, read in memory through
 *   PT_DYNAMIC and DT_HASH / DT_GNU_HASH), in the loader's search order,
 *   libheapsnap.so's own skipped: what dlsym(RTLD_DEFAULT) would find;
 *   the executable file's static symbol table (.symtab): an executable
 *   does not export its functions unless linked with -rdynamic.  A
 *   stripped file has none: nothing is found ("not defined").
 *
 * Every address, count and string is checked against the module's span
 * or the file's size before use; nothing here allocates.  Called outside
 * the hooks, with the re-entry guard set.
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "base/sysmap.h"
#include <sys/stat.h>
#include <unistd.h>

#include "root.h"

/* The section header at index i, or NULL when it lies outside the file. */
static const Elf64_Shdr *elfsym_shdr(const char *m, size_t len, const Elf64_Ehdr *eh, unsigned i)
{
    uint64_t off = eh->e_shoff + (uint64_t)i * eh->e_shentsize;
    if (i >= eh->e_shnum || eh->e_shentsize < sizeof(Elf64_Shdr) || off < eh->e_shoff ||
        off > len || len - off < sizeof(Elf64_Shdr))
        return NULL;
    return (const Elf64_Shdr *)(m + off);
}

/* [off, off + size) lies inside a file of len bytes. */
static int elfsym_inside(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

/* The defined function called name in the mapped file: its st_value, or 0. */
static uint64_t elfsym_scan(const char *m, size_t len, const char *name)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
    size_t nlen = strlen(name);
    if (len < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64)
        return 0;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        const Elf64_Shdr *sh = elfsym_shdr(m, len, eh, i), *st;
        if (!sh || sh->sh_type != SHT_SYMTAB || sh->sh_entsize != sizeof(Elf64_Sym) ||
            !elfsym_inside(sh->sh_offset, sh->sh_size, len) ||
            !(st = elfsym_shdr(m, len, eh, sh->sh_link)) ||
            !elfsym_inside(st->sh_offset, st->sh_size, len))
            continue;
        const Elf64_Sym *sym = (const Elf64_Sym *)(m + sh->sh_offset);
        const char *str = m + st->sh_offset;
        for (uint64_t k = 0; k < sh->sh_size / sizeof *sym; k++) {
            const Elf64_Sym *s = &sym[k];
            if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
                !s->st_value || s->st_name >= st->sh_size || st->sh_size - s->st_name <= nlen)
                continue;
            if (memcmp(str + s->st_name, name, nlen + 1) == 0)
                return s->st_value;
        }
    }
    return 0;
}

struct elfsym_exe {
    uintptr_t bias;
    uint64_t lo, hi; /* its PT_LOAD span: an address found must lie inside */
};

static int elfsym_exe_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct elfsym_exe *x = arg;
    const char *id;
    size_t id_len;
    x->bias = (uintptr_t)info->dlpi_addr;
    mod_span(info, &x->lo, &x->hi, &id, &id_len);
    return 1; /* the first module is the executable */
}

/* ---------------- .dynsym of the loaded modules ---------------- */

struct elfsym_dyn {
    const char *const *names;
    void **out;
    unsigned n, left;
};

static int elfsym_dyn_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct elfsym_dyn *d = arg;
    uint64_t lo, hi;
    const char *id;
    size_t id_len;
    struct dsym_table t;
    mod_span(info, &lo, &hi, &id, &id_len);
    if (!hi || unwind_in_shim(lo) || dsym_table(info, lo, hi, &t) != 0 ||
        unwind_in_shim((uintptr_t)t.sym))
        return 0;
    uintptr_t strtab = (uintptr_t)t.str, strsz = t.strsz;
    uint32_t count = t.count;
    const ElfW(Sym) *sym = t.sym;
    for (uint32_t k = 0; k < count; k++) {
        if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_shndx == SHN_UNDEF ||
            sym[k].st_name >= strsz)
            continue;
        const char *name = (const char *)strtab + sym[k].st_name;
        size_t room = strsz - sym[k].st_name;
        for (unsigned i = 0; i < d->n; i++) {
            size_t len = strlen(d->names[i]);
            uintptr_t a = (uintptr_t)info->dlpi_addr + (uintptr_t)sym[k].st_value;
            if (!d->out[i] && room > len && !memcmp(name, d->names[i], len + 1) && a >= lo &&
                a < hi) {
                d->out[i] = (void *)a;
                d->left--;
            }
        }
    }
    return d->left == 0;
}

/* ---------------- .symtab of the executable file ---------------- */

/* Each name in names[0..n) that the program defines: its address into
 * out[i], else NULL: first the loaded modules' exported functions, then
 * the executable file's own.  One mapping of the file for all of them. */
void elfsym_find(const char *const *names, void **out, unsigned n)
{
    struct stat st;
    struct elfsym_dyn d = {names, out, n, n};
    for (unsigned i = 0; i < n; i++)
        out[i] = NULL;
    loader_iterate_phdr(elfsym_dyn_cb, &d);
    if (!d.left)
        return;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    void *m = fstat(fd, &st) == 0 && st.st_size > 0
                  ? sys_mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
                  : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED)
        return;
    struct elfsym_exe x = {0, 0, 0};
    loader_iterate_phdr(elfsym_exe_cb, &x);
    for (unsigned i = 0; i < n; i++) {
        if (out[i])
            continue;
        uint64_t v = elfsym_scan(m, (size_t)st.st_size, names[i]);
        uintptr_t a = x.bias + (uintptr_t)v;
        out[i] = v && a >= x.lo && a < x.hi ? (void *)a : NULL;
    }
    sys_munmap(m, (size_t)st.st_size);
}
