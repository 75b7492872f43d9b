/*
 * cuindex.c - scope chains through a per-CU index, read once per CU.
 *
 * libdw's dwarf_getscopes walks the unit's top level for every address,
 * then dwarf_getscopes_die walks it again to find the innermost DIE's
 * parents, and an address inside an inlined call walks the whole unit a
 * third time for the inline's abstract origin: in a large CU (CPython's
 * ceval.c) thousands of addresses cost thousands of walks.  Here a CU's
 * first address reads its top level once: each top-level DIE's pc ranges,
 * in walk order.  An address then finds its top-level DIE by binary search
 * and descends only through the DIEs that hold it, which is the path to
 * its innermost scope.  The answer is libdw's own (same DIEs): at each
 * level the first child in walk order that holds pc (__libdw_visit_scopes'
 * order, imported units spliced in place, imported compile units skipped),
 * and an inlined chain only when its abstract origin is one libdw's walk
 * of this unit reaches (libdw 0.188 fails the lookup otherwise): a DIE of
 * the top level, else one of the whole walk, built once per CU on need.
 * Any DWARF error on the way hands the address to libdw's walk itself.
 *
 * Rust's units are the exception where the answer is not libdw's: rustc
 * (LLVM) nests every function, concrete or abstract, in the namespaces of
 * its path (rs_leaks::make_cycle in DW_TAG_namespace "rs_leaks"), and
 * libdw 0.188's walk prunes a namespace, which holds no address, so it
 * finds no scope at all for any address of a Rust program (addr2line
 * finds them).  In a Rust unit the top level is read through its
 * address-less containers (cux_flattens): their functions are top-level
 * DIEs here, in walk order, and an inline's abstract origin among them is
 * reached.  C and C++ units are read as before (GCC and clang put concrete
 * functions at the top level, and their namespaces can be large).
 */
#include <dwarf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cuindex.h"

#define CUX_MAX_DEPTH 256 /* deeper scope nesting goes to libdw's walk */

struct cux_range {
    Dwarf_Addr lo, hi;
    uint32_t idx;      /* the DIE's place in the top level's walk order */
};

struct cux_unit {
    void *key;               /* the CU DIE's addr */
    struct cux_mod *mod;     /* its module's (counters) */
    Dwarf_Die *tops;         /* the top level's DIEs, in walk order */
    size_t ntops, captops;
    struct cux_range *r;     /* their pc ranges, sorted by lo */
    Dwarf_Addr *maxhi;       /* maxhi[i]: the largest hi of r[0..i] */
    size_t nr, capr;
    uint32_t err_at;         /* walk index where libdw's walk fails (UINT32_MAX: never) */
    void **topaddr;          /* tops' DIE addresses, sorted */
    void **seen;             /* every DIE the whole walk visits, sorted */
    size_t nseen, capseen;
    int seen_built, seen_err;
    int flat;                /* a Rust unit: containers read through (cux_flattens) */
    UT_hash_handle hh;
};

/* The walk's imported units, innermost first (cycle check, as libdw's). */
struct cux_imp {
    void *addr;
    const struct cux_imp *up;
};

typedef int (*cux_visit)(Dwarf_Die *die, const struct cux_imp *imp, void *arg);

/* libdw's may_have_scopes: the tags its walk descends into. */
static int cux_descends(Dwarf_Die *die)
{
    switch (dwarf_tag(die)) {
    case DW_TAG_compile_unit: case DW_TAG_module: case DW_TAG_lexical_block:
    case DW_TAG_with_stmt: case DW_TAG_catch_block: case DW_TAG_try_block:
    case DW_TAG_entry_point: case DW_TAG_inlined_subroutine: case DW_TAG_subprogram:
    case DW_TAG_namespace: case DW_TAG_class_type: case DW_TAG_structure_type:
        return 1;
    }
    return 0;
}

/* Visits first and its siblings in __libdw_visit_scopes' order (an
 * imported unit's children in its place).  Returns what a visit returned
 * when nonzero (1 stop, -1 error), 0 at the end, -1 on a DWARF error. */
static int cux_children(Dwarf_Die *first, const struct cux_imp *imp, cux_visit fn, void *arg)
{
    Dwarf_Die d = *first;
    int ret;
    do {
        while (dwarf_tag(&d) == DW_TAG_imported_unit) {
            Dwarf_Die orig = d, unit, kid;
            Dwarf_Attribute attr;
            if (dwarf_formref_die(dwarf_attr(&d, DW_AT_import, &attr), &unit) &&
                dwarf_tag(&unit) != DW_TAG_compile_unit && dwarf_child(&unit, &kid) == 0) {
                for (const struct cux_imp *i = imp; i; i = i->up)
                    if (i->addr == orig.addr)
                        return -1;
                struct cux_imp here = {orig.addr, imp};
                int r = cux_children(&kid, &here, fn, arg);
                if (r != 0)
                    return r;
            }
            if ((ret = dwarf_siblingof(&orig, &d)) != 0)
                return ret < 0 ? -1 : 0;
        }
        int r = fn(&d, imp, arg);
        if (r != 0)
            return r;
    } while ((ret = dwarf_siblingof(&d, &d)) == 0);
    return ret < 0 ? -1 : 0;
}

/* Visits the children of parent, if libdw's walk would. */
static int cux_below(Dwarf_Die *parent, const struct cux_imp *imp, cux_visit fn, void *arg)
{
    Dwarf_Die kid;
    if (!cux_descends(parent) || !dwarf_haschildren(parent))
        return 0;
    int r = dwarf_child(parent, &kid);
    if (r != 0)
        return r < 0 ? -1 : 0;
    return cux_children(&kid, imp, fn, arg);
}

/* Whether a DIE of a Rust unit is a container whose children are read as
 * top-level DIEs: the namespaces and types that hold functions and no
 * address of their own. */
static int cux_flattens(Dwarf_Die *die)
{
    switch (dwarf_tag(die)) {
    case DW_TAG_namespace: case DW_TAG_structure_type: case DW_TAG_class_type:
    case DW_TAG_union_type: case DW_TAG_enumeration_type:
        return 1;
    }
    return 0;
}

static int cux_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Top-level visit: records the DIE and its ranges; a ranges error ends the
 * index there (libdw's walk fails at that DIE for an address not yet held). */
static int cux_top(Dwarf_Die *die, const struct cux_imp *imp, void *arg)
{
    struct cux_unit *u = arg;
    u->mod->dies++;
    if (cux_grow((void **)&u->tops, &u->captops, u->ntops + 1, sizeof(*u->tops)) < 0)
        return -1;
    uint32_t idx = (uint32_t)u->ntops;
    u->tops[u->ntops++] = *die;
    Dwarf_Addr base, lo, hi;
    ptrdiff_t at = 0;
    while ((at = dwarf_ranges(die, at, &base, &lo, &hi)) > 0) {
        if (hi <= lo)
            continue;
        if (cux_grow((void **)&u->r, &u->capr, u->nr + 1, sizeof(*u->r)) < 0)
            return -1;
        u->r[u->nr++] = (struct cux_range){lo, hi, idx};
    }
    if (at < 0) {
        u->err_at = idx;
        return 1;
    }
    Dwarf_Die kid;
    if (u->flat && cux_flattens(die) && dwarf_child(die, &kid) == 0)
        return cux_children(&kid, imp, cux_top, u);
    return 0;
}

static int cux_range_cmp(const void *a, const void *b)
{
    const struct cux_range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cux_ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static int cux_has(void *const *sorted, size_t n, void *addr)
{
    return n && bsearch(&addr, sorted, n, sizeof(*sorted), cux_ptr_cmp) != NULL;
}

static void cux_unit_free(struct cux_unit *u)
{
    free(u->tops);
    free(u->r);
    free(u->maxhi);
    free(u->topaddr);
    free(u->seen);
    free(u);
}

/* The unit's index, read on its first address; NULL when out of memory. */
static struct cux_unit *cux_unit_get(struct cux_mod *m, Dwarf_Die *cu)
{
    struct cux_unit *u;
    void *key = cu->addr;
    HASH_FIND_PTR(m->units, &key, u);
    if (u)
        return u;
    if (!(u = calloc(1, sizeof(*u))))
        return NULL;
    u->key = key;
    u->mod = m;
    u->err_at = UINT32_MAX;
    u->flat = dwarf_srclang(cu) == DW_LANG_Rust;
    Dwarf_Die kid;
    int r = dwarf_child(cu, &kid);
    if (r < 0)
        u->err_at = 0;
    else if (r == 0 && cux_children(&kid, NULL, cux_top, u) < 0 && u->err_at == UINT32_MAX)
        u->err_at = (uint32_t)u->ntops; /* a sibling error, or out of memory */
    if (u->nr) {
        qsort(u->r, u->nr, sizeof(*u->r), cux_range_cmp);
        u->maxhi = malloc(u->nr * sizeof(*u->maxhi));
    }
    u->topaddr = malloc((u->ntops ? u->ntops : 1) * sizeof(*u->topaddr));
    if ((u->nr && !u->maxhi) || !u->topaddr) {
        cux_unit_free(u);
        return NULL;
    }
    for (size_t i = 0; i < u->nr; i++)
        u->maxhi[i] = i && u->maxhi[i - 1] > u->r[i].hi ? u->maxhi[i - 1] : u->r[i].hi;
    for (size_t i = 0; i < u->ntops; i++)
        u->topaddr[i] = u->tops[i].addr;
    qsort(u->topaddr, u->ntops, sizeof(*u->topaddr), cux_ptr_cmp);
    HASH_ADD_PTR(m->units, key, u);
    m->indexed++;
    return u;
}

/* The walk index of the first top-level DIE holding pc, or -1. */
static int64_t cux_top_find(const struct cux_unit *u, Dwarf_Addr pc)
{
    size_t lo = 0, hi = u->nr; /* first range with .lo > pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u->r[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    int64_t best = -1;
    for (size_t i = lo; i-- > 0 && u->maxhi[i] > pc;)
        if (pc < u->r[i].hi && (best < 0 || u->r[i].idx < best))
            best = u->r[i].idx;
    return best;
}

/* The descent's state: the path from the top level to the innermost DIE. */
struct cux_path {
    struct cux_mod *mod;
    Dwarf_Addr pc;
    Dwarf_Die die[CUX_MAX_DEPTH];
    int n;
};

/* pc_match and pc_record of dwarf_getscopes: the first child holding pc
 * is on the path; its own first such child follows, down to a DIE none of
 * whose children hold pc.  Returns 1 when the path ends here. */
static int cux_match(Dwarf_Die *die, const struct cux_imp *imp, void *arg)
{
    struct cux_path *p = arg;
    p->mod->dies++;
    int r = dwarf_haspc(die, p->pc);
    if (r <= 0)
        return r;
    if (p->n == CUX_MAX_DEPTH)
        return -1;
    p->die[p->n++] = *die;
    r = cux_below(die, imp, cux_match, p);
    return r < 0 ? -1 : 1;
}

/* Whole-walk visit: every DIE the walk reaches (origin_match's domain). */
static int cux_see(Dwarf_Die *die, const struct cux_imp *imp, void *arg)
{
    struct cux_unit *u = arg;
    u->mod->dies++;
    if (cux_grow((void **)&u->seen, &u->capseen, u->nseen + 1, sizeof(*u->seen)) < 0)
        return -1;
    u->seen[u->nseen++] = die->addr;
    return cux_below(die, imp, cux_see, u);
}

/* Whether libdw's walk of the unit reaches origin: 1 yes, 0 no, -1 unknown
 * (the walk fails before its end). */
static int cux_reaches(struct cux_mod *m, struct cux_unit *u, Dwarf_Die *cu, Dwarf_Die *origin)
{
    if (cux_has(u->topaddr, u->ntops, origin->addr))
        return 1;
    if (!u->seen_built) {
        u->seen_built = 1;
        Dwarf_Die kid;
        int r = dwarf_child(cu, &kid);
        u->seen_err = r < 0 || (r == 0 && cux_children(&kid, NULL, cux_see, u) < 0);
        qsort(u->seen, u->nseen, sizeof(*u->seen), cux_ptr_cmp);
        m->walked++;
    }
    if (cux_has(u->seen, u->nseen, origin->addr))
        return 1;
    return u->seen_err ? -1 : 0;
}

/* libdw's own answer, as sym_lookup asked it before this index: the innermost
 * scope by dwarf_getscopes, then its chain by dwarf_getscopes_die. */
static int cux_slow(struct cux_mod *m, Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **out)
{
    Dwarf_Die *scopes = NULL, inner;
    m->slow++;
    int ns = dwarf_getscopes(cu, pc, &scopes);
    if (ns <= 0) {
        free(scopes);
        return -1;
    }
    inner = scopes[0];
    free(scopes);
    scopes = NULL;
    ns = dwarf_getscopes_die(&inner, &scopes);
    if (ns <= 0) {
        free(scopes);
        return 0;
    }
    *out = scopes;
    return ns;
}

static int cux_fast(struct cux_mod *m, Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **out);

int cux_scopes(struct cux_mod *m, Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **out)
{
    int n = cux_fast(m, cu, pc, out);
    if (!m->check)
        return n;
    Dwarf_Die *want = NULL;
    unsigned long slow = m->slow;
    int k = cux_slow(m, cu, pc, &want);
    m->slow = slow;
    int same = k == n;
    for (int i = 0; same && i < n - 1; i++) /* the root: the CU or a partial unit */
        same = want[i].addr == (*out)[i].addr;
    m->differ += !same;
    free(want);
    return n;
}

static int cux_fast(struct cux_mod *m, Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **out)
{
    *out = NULL;
    struct cux_unit *u = cux_unit_get(m, cu);
    if (!u)
        return cux_slow(m, cu, pc, out);
    int64_t top = cux_top_find(u, pc);
    if (top < 0 || (uint64_t)top > u->err_at)
        return u->err_at != UINT32_MAX ? cux_slow(m, cu, pc, out) : -1;
    struct cux_path *p = malloc(sizeof(*p));
    if (!p)
        return cux_slow(m, cu, pc, out);
    p->mod = m;
    p->pc = pc;
    p->n = 1;
    p->die[0] = u->tops[top];
    if (cux_below(&p->die[0], NULL, cux_match, p) < 0) {
        free(p);
        return cux_slow(m, cu, pc, out);
    }
    int inl = p->n;
    while (inl-- > 0 && dwarf_tag(&p->die[inl]) != DW_TAG_inlined_subroutine)
        ;
    if (inl >= 0) { /* dwarf_getscopes' search for the inline's origin */
        Dwarf_Attribute attr;
        Dwarf_Die origin;
        int r = -1;
        if (dwarf_formref_die(dwarf_attr(&p->die[inl], DW_AT_abstract_origin, &attr), &origin))
            r = cux_reaches(m, u, cu, &origin);
        if (r < 0) {
            free(p);
            return cux_slow(m, cu, pc, out);
        }
        if (r == 0) {
            free(p);
            m->fast++;
            return -1;
        }
    }
    Dwarf_Die *chain = malloc((p->n + 1) * sizeof(*chain));
    if (!chain) {
        free(p);
        return cux_slow(m, cu, pc, out);
    }
    for (int i = 0; i < p->n; i++)
        chain[i] = p->die[p->n - 1 - i];
    chain[p->n] = *cu;
    int n = p->n + 1;
    free(p);
    m->fast++;
    *out = chain;
    return n;
}

unsigned cux_count_units(Dwarf *dw)
{
    Dwarf_CU *cu = NULL;
    uint8_t type;
    unsigned n = 0;
    while (dwarf_get_units(dw, cu, &cu, NULL, &type, NULL, NULL) == 0)
        n += type == DW_UT_compile || type == DW_UT_partial || type == DW_UT_skeleton;
    return n;
}

void cux_fini(struct cux_mod *m)
{
    struct cux_unit *u, *tmp;
    HASH_ITER(hh, m->units, u, tmp) {
        HASH_DEL(m->units, u);
        cux_unit_free(u);
    }
    memset(m, 0, sizeof(*m));
}
