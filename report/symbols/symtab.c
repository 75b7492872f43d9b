/*
 * symtab.c - dwfl_module_addrinfo's answers kept per interval of addresses
 * (symtab.h).
 *
 * A frame of a module without DWARF (most of Debian's: the interpreter,
 * numpy, libc) is named from the symbol table (sym.c's fallback), and
 * libdwfl's dwfl_module_addrinfo scans the table at every call: on a
 * snapshot of Debian's Python importing numpy and pandas, 8,755 calls
 * were 1.58 G instructions, half of `top`.  Its answer depends on the
 * address only through which symbols start at or below it, which of
 * those reach past it, whether it is a symbol's very start, and which
 * section and module hold it.  So the table's points - every symbol's
 * start and end, each section's bounds, the module's, and the byte after
 * each of them - cut the addresses into intervals where every address
 * gets one answer, found once an interval.  Points past those libdwfl
 * weighs (every symbol is taken, eligible for it or not) only cut finer.
 * Where one symbol alone can answer (symtab_plain: one sized symbol holds
 * the address, no other starts from its start up to the address, none before
 * reaches it) it is the answer; elsewhere libdwfl is asked, and its own
 * answer kept, not a copy of its rules for aliases, nested symbols and
 * labels.  A module's first look-up asks libdwfl alone, so that a module
 * met once does not pay for its table.  test_symtab holds both against
 * libdwfl's own answers.
 */
#include "symtab.h"

#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h" /* grow_array */

#define SYMTAB_DIRECT 1 /* a module's look-ups before its table is made */
#define SYMTAB_ELVES 4  /* symbol files whose sections cut (main, aux) */

/* A symbol libdwfl may answer with: a name, defined, not a section's,
 * file's or thread-local's. */
struct symtab_sym {
    uint64_t start, size;
    const char *name;
    uint32_t order;    /* its place in the table: equal starts keep it */
    uint32_t special;  /* in no section of its own (SHN_ABS and the like) */
};

struct symtab {
    unsigned asked;    /* look-ups so far */
    int broken;        /* no table: libdwfl at every look-up */
    uint64_t *pt;      /* the points, ascending and distinct */
    size_t npt, cap;
    const char **name; /* by interval: [pt[i - 1], pt[i]) is i */
    uint8_t *known;    /* by interval: name holds libdwfl's answer */
    struct symtab_sym *sym; /* by start */
    uint64_t *reach;   /* reach[i]: the furthest end of sym[0..i] */
    size_t nsym, capsym;
};

static const char *symtab_ask(Dwfl_Module *dm, uint64_t addr)
{
    GElf_Off off;
    GElf_Sym es;
    return dwfl_module_addrinfo(dm, addr, &off, &es, NULL, NULL, NULL);
}

static int symtab_put(struct symtab *t, uint64_t v)
{
    if (grow_array((void **)&t->pt, &t->cap, t->npt + 1, sizeof(*t->pt)) < 0)
        return -1;
    t->pt[t->npt++] = v;
    return 0;
}

/* A range's points: its first byte and the next, its end and the next
 * (where libdwfl may take the end as inside). */
static int symtab_range(struct symtab *t, uint64_t lo, uint64_t hi)
{
    return symtab_put(t, lo) || symtab_put(t, lo + 1) || symtab_put(t, hi) ||
           symtab_put(t, hi + 1);
}

/* The bounds of elf's sections, moved by bias: every section, allocated
 * or not (a debug section's address 0 reaches into a module's first
 * pages, and libdwfl's look-up of an address's section meets it). */
static int symtab_sections(struct symtab *t, Elf *elf, GElf_Addr bias)
{
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        uint64_t lo = sh.sh_addr + bias;
        if (symtab_range(t, lo, lo + sh.sh_size))
            return -1;
    }
    return 0;
}

static int symtab_keep(struct symtab *t, const GElf_Sym *s, uint64_t a, const char *name,
                       uint32_t order)
{
    int type = GELF_ST_TYPE(s->st_info);
    if (!name || !name[0] || s->st_shndx == SHN_UNDEF || type == STT_SECTION ||
        type == STT_FILE || type == STT_TLS)
        return 0;
    if (grow_array((void **)&t->sym, &t->capsym, t->nsym + 1, sizeof(*t->sym)) < 0)
        return -1;
    t->sym[t->nsym++] =
        (struct symtab_sym){a, s->st_size, name, order, s->st_shndx >= SHN_LORESERVE};
    return 0;
}

static int symtab_sym_cmp(const void *a, const void *b)
{
    const struct symtab_sym *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

static int symtab_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int symtab_build(struct symtab *t, Dwfl_Module *dm)
{
    int nsym = dwfl_module_getsymtab(dm);
    Elf *elves[SYMTAB_ELVES];
    GElf_Addr biases[SYMTAB_ELVES];
    int nelf = 0;
    Dwarf_Addr lo, hi, bias;
    if (nsym < 0 || !dwfl_module_info(dm, NULL, &lo, &hi, NULL, NULL, NULL, NULL) ||
        symtab_range(t, lo, hi))
        return -1;
    Elf *main_elf = dwfl_module_getelf(dm, &bias);
    if (main_elf) {
        elves[nelf] = main_elf, biases[nelf++] = bias;
        if (symtab_sections(t, main_elf, bias))
            return -1;
    }
    for (int i = 0; i < nsym; i++) {
        GElf_Sym s;
        GElf_Addr a, b;
        GElf_Word shndx;
        Elf *elf = NULL;
        const char *name = dwfl_module_getsym_info(dm, i, &s, &a, &shndx, &elf, &b);
        if (!name)
            continue;
        if (symtab_range(t, a, a + s.st_size) || symtab_keep(t, &s, a, name, (uint32_t)i))
            return -1;
        int seen = 0;
        for (int k = 0; k < nelf; k++)
            seen |= elves[k] == elf && biases[k] == b;
        if (elf && !seen && nelf < SYMTAB_ELVES) { /* an aux table's own sections */
            elves[nelf] = elf, biases[nelf++] = b;
            if (symtab_sections(t, elf, b))
                return -1;
        }
    }
    qsort(t->pt, t->npt, sizeof(*t->pt), symtab_cmp);
    size_t n = 0;
    for (size_t i = 0; i < t->npt; i++)
        if (!n || t->pt[i] != t->pt[n - 1])
            t->pt[n++] = t->pt[i];
    t->npt = n;
    qsort(t->sym, t->nsym, sizeof(*t->sym), symtab_sym_cmp);
    if (t->nsym && !(t->reach = malloc(t->nsym * sizeof(*t->reach))))
        return -1;
    for (size_t i = 0; i < t->nsym; i++) {
        uint64_t end = t->sym[i].start + t->sym[i].size;
        t->reach[i] = i && t->reach[i - 1] > end ? t->reach[i - 1] : end;
    }
    t->name = calloc(n + 1, sizeof(*t->name));
    t->known = calloc(n + 1, 1);
    return t->name && t->known ? 0 : -1;
}

/* The answer without libdwfl where only one reading exists: one symbol
 * with a size holds addr, it starts last at or below addr and alone at
 * its start, and no symbol before it reaches addr.  libdwfl then takes
 * it, global or local: no other sized symbol holds addr, and no other
 * starts at addr (a global without a size there would keep it from the
 * locals).  Anything else (aliases, nested symbols, labels without a
 * size, an absolute symbol, which libdwfl matches only at its start) is
 * libdwfl's to weigh: NULL. */
static const char *symtab_plain(const struct symtab *t, uint64_t addr)
{
    size_t lo = 0, hi = t->nsym; /* the first symbol past addr */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (t->sym[m].start <= addr)
            lo = m + 1;
        else
            hi = m;
    }
    if (!lo)
        return NULL;
    const struct symtab_sym *c = &t->sym[lo - 1];
    if (!c->size || addr - c->start >= c->size || c->special)
        return NULL;
    if (lo > 1 && (t->sym[lo - 2].start == c->start || t->reach[lo - 2] > addr))
        return NULL;
    return c->name;
}

const char *symtab_name(struct symtab **st, Dwfl_Module *dm, uint64_t addr)
{
    struct symtab *t = *st;
    if (!t && !(t = *st = calloc(1, sizeof(*t))))
        return symtab_ask(dm, addr);
    if (t->broken || ++t->asked <= SYMTAB_DIRECT)
        return symtab_ask(dm, addr);
    if (!t->name && symtab_build(t, dm) != 0) {
        t->broken = 1;
        return symtab_ask(dm, addr);
    }
    size_t lo = 0, hi = t->npt; /* the first point past addr: its interval */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (t->pt[m] <= addr)
            lo = m + 1;
        else
            hi = m;
    }
    if (!t->known[lo]) {
        const char *plain = symtab_plain(t, addr);
        t->name[lo] = plain ? plain : symtab_ask(dm, addr);
        t->known[lo] = 1;
    }
    return t->name[lo];
}

void symtab_free(struct symtab *st)
{
    if (!st)
        return;
    free(st->pt);
    free(st->name);
    free(st->known);
    free(st->sym);
    free(st->reach);
    free(st);
}
