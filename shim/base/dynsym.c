/*
 * dynsym.c - a loaded module's dynamic symbols (.dynsym), read in memory
 * through its PT_DYNAMIC: the table, its strings, and how many symbols it
 * holds (DT_HASH's nchain, or past DT_GNU_HASH's last chain), every
 * address checked against the module's span before use.  For what looks
 * a symbol up without dlsym or dladdr: a function of the program's by
 * name (elfsym.c), whether a static datum lies in a symbol (pysyms.c),
 * where dladdr walks every symbol of the module for each address.  The
 * caller keeps the module loaded meanwhile (inside dl_iterate_phdr's
 * callback).  Nothing here allocates.
 */
#include <elf.h>
#include <link.h>

#include "base.h"

/* A dynamic-section address: glibc relocates most in place, a read-only
 * dynamic section (the vDSO's) keeps file addresses.  0 when outside the
 * module's span [lo, hi). */
static uintptr_t dsym_ptr(const struct dl_phdr_info *info, uint64_t lo, uint64_t hi, uintptr_t v)
{
    if (v >= lo && v < hi)
        return v;
    v += (uintptr_t)info->dlpi_addr;
    return v >= lo && v < hi ? v : 0;
}

/* How many symbols .dynsym holds: DT_HASH's nchain, or past the last
 * chain of DT_GNU_HASH; 0 when unknown. */
static uint32_t dsym_count(uintptr_t hash, uintptr_t gnu, uint64_t hi)
{
    if (hash && hash + 8 <= hi)
        return ((const uint32_t *)hash)[1];
    if (!gnu || gnu + 16 > hi)
        return 0;
    const uint32_t *h = (const uint32_t *)gnu;
    uint32_t nbuckets = h[0], symoffset = h[1], bloom = h[2], last = 0;
    const uint32_t *buckets = (const uint32_t *)(gnu + 16 + (uintptr_t)bloom * 8);
    const uint32_t *chain = buckets + nbuckets;
    if ((uintptr_t)chain > hi || (uintptr_t)chain < gnu)
        return 0;
    for (uint32_t b = 0; b < nbuckets; b++)
        last = buckets[b] > last ? buckets[b] : last;
    if (last < symoffset)
        return symoffset;
    for (; (uintptr_t)&chain[last - symoffset + 1] <= hi; last++)
        if (chain[last - symoffset] & 1)
            return last + 1;
    return 0;
}

int dsym_table(const struct dl_phdr_info *info, uint64_t lo, uint64_t hi, struct dsym_table *t)
{
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn || !hi)
        return -1;
    uintptr_t strtab = 0, symtab = 0, hash = 0, gnu = 0, strsz = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_STRTAB)
            strtab = dsym_ptr(info, lo, hi, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_SYMTAB)
            symtab = dsym_ptr(info, lo, hi, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_HASH)
            hash = dsym_ptr(info, lo, hi, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_GNU_HASH)
            gnu = dsym_ptr(info, lo, hi, dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRSZ)
            strsz = dyn->d_un.d_val;
    }
    uint32_t count = dsym_count(hash, gnu, hi);
    if (!strtab || !symtab || !strsz || strtab + strsz > hi ||
        symtab + (uint64_t)count * sizeof(ElfW(Sym)) > hi)
        return -1;
    t->sym = (const ElfW(Sym) *)symtab;
    t->str = (const char *)strtab;
    t->strsz = strsz;
    t->count = count;
    return 0;
}
