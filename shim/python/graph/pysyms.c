/*
 * pysyms.c - whether a word of a C extension's static data lies in one of
 * its module's dynamic symbols, before pyroots.c asks dladdr1 for the
 * symbol's name: glibc's dladdr reads every symbol of the module for each
 * address (libtorch_python has thousands), and most words of static data
 * that hold an object lie in no symbol, as a Cython module's statics do
 * (docs/performance-python.md has the figures).  So each module's symbols
 * that meet the segment being scanned are listed once, as spans sorted
 * and merged (a word in none: no name, no call); a word in one is named by
 * dladdr1 as before (which symbol it picks among several is glibc's), so
 * the names are dladdr's, only fewer calls.  The spans are a superset of
 * those dladdr takes (any defined symbol with a size but TLS ones), so a
 * word it would name is never left out.  One module's at a time (the
 * scan takes the modules in turn), rebuilt when the next one asks; read
 * inside dl_iterate_phdr's callback, so that the module stays loaded.
 */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "base.h"
#include "pygraph.h"

static struct {
    uintptr_t (*span)[2]; /* [lo, hi), sorted, disjoint */
    uint32_t n, cap;
    uintptr_t seg_lo, seg_hi; /* the segment they are of; 0: none made */
    int unknown;              /* none could be read: every word asks dladdr1 */
} ps;

struct pysym_find {
    uintptr_t lo, hi; /* the writable segment asked about */
    const char *name;
    int found;
};

/* Symbol s of module info (at base) as a span meeting [lo, hi): 1 with
 * it in *a, *b. */
static int pysym_span(const ElfW(Sym) *s, uintptr_t base, uintptr_t lo, uintptr_t hi,
                      uintptr_t *a, uintptr_t *b)
{
    if (!s->st_size || (s->st_shndx == SHN_UNDEF && !s->st_value) ||
        ELF64_ST_TYPE(s->st_info) == STT_TLS)
        return 0;
    *a = base + (uintptr_t)s->st_value, *b = *a + (uintptr_t)s->st_size;
    return *b > *a && *a < hi && *b > lo;
}

static int pysym_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct pysym_find *f = arg;
    uint64_t mlo = UINT64_MAX, mhi = 0;
    int holds = 0;
    (void)size;
    if (info->dlpi_name != f->name)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD)
            continue;
        holds |= a == f->lo;
        mlo = a < mlo ? a : mlo;
        mhi = a + ph->p_memsz > mhi ? a + ph->p_memsz : mhi;
    }
    if (!holds)
        return 0;
    f->found = 1;
    struct dsym_table t;
    if (dsym_table(info, mlo, mhi, &t) != 0)
        return 1; /* no symbols: no word lies in one */
    const ElfW(Sym) *sym = t.sym;
    uint32_t n = 0;
    uintptr_t a, b;
    for (uint32_t k = 0; k < t.count; k++)
        n += (uint32_t)pysym_span(&sym[k], info->dlpi_addr, f->lo, f->hi, &a, &b);
    if (n > ps.cap) {
        if (ps.span)
            arena_unmap(ps.span, (size_t)ps.cap * sizeof *ps.span);
        ps.cap = n;
        if (!(ps.span = arena_map((size_t)n * sizeof *ps.span))) {
            ps.cap = 0;
            ps.unknown = 1;
            return 1;
        }
    }
    for (uint32_t k = 0; k < t.count && ps.n < n; k++)
        if (pysym_span(&sym[k], info->dlpi_addr, f->lo, f->hi, &a, &b))
            ps.span[ps.n][0] = a, ps.span[ps.n++][1] = b;
    return 1;
}

/* ps.span sorted by start, then merged where spans meet or overlap. */
static void pysym_sort(void)
{
    span_sort(ps.span, ps.n);
    uint32_t m = 0;
    for (uint32_t i = 0; i < ps.n; i++) {
        if (m && ps.span[i][0] <= ps.span[m - 1][1]) {
            if (ps.span[i][1] > ps.span[m - 1][1])
                ps.span[m - 1][1] = ps.span[i][1];
            continue;
        }
        ps.span[m][0] = ps.span[i][0], ps.span[m++][1] = ps.span[i][1];
    }
    ps.n = m;
}

int pyg_sym_may_hold(uintptr_t lo, uintptr_t hi, const char *name, uintptr_t at)
{
    if (ps.seg_lo != lo || ps.seg_hi != hi) {
        struct pysym_find f = {lo, hi, name, 0};
        ps.n = 0, ps.unknown = 0, ps.seg_lo = lo, ps.seg_hi = hi;
        loader_iterate_phdr(pysym_module, &f);
        if (!f.found)
            ps.unknown = 1; /* unloaded since, or not found: dladdr1 answers */
        pysym_sort();
    }
    if (ps.unknown)
        return 1;
    uint32_t l = 0, r = ps.n; /* the first span starting past at */
    while (l < r) {
        uint32_t m = l + (r - l) / 2;
        if (ps.span[m][0] <= at)
            l = m + 1;
        else
            r = m;
    }
    return l && at < ps.span[l - 1][1];
}

void pyg_syms_end(void)
{
    if (ps.span)
        arena_unmap(ps.span, (size_t)ps.cap * sizeof *ps.span);
    memset(&ps, 0, sizeof ps);
}
