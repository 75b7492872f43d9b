/*
 * elfsym.c - a function of the program's own executable, found by name in
 * the file's static symbol table (.symtab), for the hooks a program defines
 * for LeakSanitizer (__lsan_is_turned_off, __lsan_default_suppressions):
 * an executable does not export its functions (they are not in .dynsym,
 * so dlsym cannot see them) unless it was linked with -rdynamic, and LSan,
 * linked into the executable, finds them at link time.  A stripped file
 * has no .symtab: nothing is found, which the caller treats as "not
 * defined".
 *
 * The file is mapped read-only and every offset, count and string is
 * checked against its size before use; nothing here allocates through the
 * program's malloc.  Called outside the hooks, with the re-entry guard set.
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

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
    snap_module_span(info, &x->lo, &x->hi, &id, &id_len);
    return 1; /* the first module is the executable */
}

/* Each name in names[0..n) that the executable defines: its address into
 * out[i], else NULL.  One mapping of the file for all of them. */
void elfsym_find(const char *const *names, void **out, unsigned n)
{
    struct stat st;
    for (unsigned i = 0; i < n; i++)
        out[i] = NULL;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    void *m = fstat(fd, &st) == 0 && st.st_size > 0
                  ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
                  : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED)
        return;
    struct elfsym_exe x = {0, 0, 0};
    life_iterate_phdr(elfsym_exe_cb, &x);
    for (unsigned i = 0; i < n; i++) {
        uint64_t v = elfsym_scan(m, (size_t)st.st_size, names[i]);
        uintptr_t a = x.bias + (uintptr_t)v;
        out[i] = v && a >= x.lo && a < x.hi ? (void *)a : NULL;
    }
    munmap(m, (size_t)st.st_size);
}
