/*
 * ehframe.c - what a module's .eh_frame says about one IP, reduced to the
 * rule word that rulecache.c caches and cfi.c walks by (layout in unwindinner.h).
 *
 * The slow path of HEAPSNAP_UNWIND=auto: dl_iterate_phdr finds the module
 * and its PT_GNU_EH_FRAME; .eh_frame_hdr's table gives the FDE; the CIE's
 * and the FDE's instructions up to the IP give the row (a small call-frame
 * interpreter over a bounded reader: a damaged table gives CFI_UNKNOWN,
 * never a fault).  Expressions, val_offset, register rules, signal frames,
 * set_loc, indirect pointers, no FDE: CFI_UNKNOWN, and libunwind walks.  A
 * row is a STEP only in libunwind's STANDARD shape (CFA = rsp or rbp +
 * offset, RA at CFA - 8, rbp unchanged or at CFA - k); RA undefined is
 * STOP.  Not libdw's dwarf_cfi_addrframe: it allocates through the host's
 * malloc, which a hook must not do.
 */
#include <link.h>
#include <string.h>

#include "unwindinner.h"

#define EHF_STATES 8               /* DW_CFA_remember_state depth */
#define EHF_NREG 17                /* DWARF x86-64 columns rax..r15, RA */
#define EHF_RBP 6
#define EHF_RSP 7
#define EHF_RA 16

enum { REG_SAME, REG_UNDEF, REG_OFFSET, REG_OTHER };

struct ehf_row {
    int cfa_reg;                  /* DWARF register, -1 = an expression */
    int64_t cfa_off;
    uint8_t kind[EHF_NREG];       /* REG_* per column */
    int64_t off[EHF_NREG];        /* REG_OFFSET: saved at CFA + off */
    int other;                    /* a column > 16 got a rule we do not do */
};

struct ehf_cie {
    const uint8_t *ins, *end;     /* initial instructions */
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_col;
    uint8_t fde_enc;              /* 'R' */
    int has_z, signal;            /* 'z', 'S' */
};

struct ehf_rd {                   /* a bounded reader */
    const uint8_t *p, *end;
    int bad;
};


/* ---------------- reading ---------------- */

static int ehf_need(struct ehf_rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

static uint64_t ehf_fixed(struct ehf_rd *r, size_t n)
{
    uint64_t v = 0;
    if (!ehf_need(r, n))
        return 0;
    memcpy(&v, r->p, n); /* little-endian */
    r->p += n;
    return v;
}

static uint64_t ehf_uleb(struct ehf_rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; ehf_need(r, 1); shift += 7) {
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t ehf_sleb(struct ehf_rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0x80;
    while ((b & 0x80) && ehf_need(r, 1)) {
        b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* A DW_EH_PE-encoded value; pcrel is relative to the field, datarel to
 * base (the .eh_frame_hdr).  Indirect and the rarer bases are refused. */
static uint64_t ehf_ptr(struct ehf_rd *r, uint8_t enc, uintptr_t base)
{
    uintptr_t at = (uintptr_t)r->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00: v = ehf_fixed(r, 8); break;
    case 0x01: v = ehf_uleb(r); break;
    case 0x02: v = ehf_fixed(r, 2); break;
    case 0x03: v = ehf_fixed(r, 4); break;
    case 0x04: v = ehf_fixed(r, 8); break;
    case 0x09: v = (uint64_t)ehf_sleb(r); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)ehf_fixed(r, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)ehf_fixed(r, 4); break;
    case 0x0c: v = ehf_fixed(r, 8); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & 0xf0) {
    case 0x00: return v;
    case 0x10: return v + at;
    case 0x30:
        if (base)
            return v + base;
        break;
    }
    r->bad = 1;
    return 0;
}

/* The CIE at p (bounded by end); 0 or -1. */
static int ehf_parse_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *end,
                         struct ehf_cie *c)
{
    struct ehf_rd r = {p, end, p < lo};
    uint64_t len = ehf_fixed(&r, 4);
    if (r.bad || len == 0 || len >= 0xfffffff0u || len > (uint64_t)(end - r.p))
        return -1;
    r.end = r.p + len;
    if (ehf_fixed(&r, 4) != 0)
        return -1; /* not a CIE */
    unsigned version = (unsigned)ehf_fixed(&r, 1);
    const uint8_t *aug = r.p;
    while (ehf_need(&r, 1) && *r.p)
        r.p++;
    r.p++;
    if (r.bad || (version != 1 && version != 3))
        return -1;
    memset(c, 0, sizeof *c);
    c->code_align = ehf_uleb(&r);
    c->data_align = ehf_sleb(&r);
    c->ra_col = version == 1 ? ehf_fixed(&r, 1) : ehf_uleb(&r);
    if (*aug == 'z') {
        uint64_t alen = ehf_uleb(&r);
        if (r.bad || alen > (uint64_t)(r.end - r.p))
            return -1;
        const uint8_t *adata_end = r.p + alen;
        c->has_z = 1;
        for (const uint8_t *a = aug + 1; *a && !r.bad; a++) {
            if (*a == 'R')
                c->fde_enc = (uint8_t)ehf_fixed(&r, 1);
            else if (*a == 'L')
                ehf_fixed(&r, 1);
            else if (*a == 'P') {
                uint8_t enc = (uint8_t)ehf_fixed(&r, 1);
                ehf_ptr(&r, enc & 0x0f, 0); /* skipped: only its size matters */
            } else if (*a == 'S')
                c->signal = 1;
            else if (*a != 'B')
                return -1;
        }
        if (r.bad || r.p > adata_end)
            return -1;
        r.p = adata_end;
    } else if (*aug) {
        return -1;
    }
    c->ins = r.p;
    c->end = r.end;
    return r.bad ? -1 : 0;
}

/* ---------------- the interpreter ---------------- */

static void ehf_set(struct ehf_row *row, uint64_t reg, int kind, int64_t off)
{
    if (reg < EHF_NREG) {
        row->kind[reg] = (uint8_t)kind;
        row->off[reg] = off;
    } else if (kind == REG_OTHER) {
        row->other = 1;
    }
}

/* One instruction that is not an advance; 0, or -1 for "not supported". */
static int ehf_op(struct ehf_rd *r, uint8_t op, const struct ehf_cie *c, struct ehf_row *row,
                  const struct ehf_row *init, struct ehf_row *stack, int *depth)
{
    uint64_t reg;
    switch (op >> 6) {
    case 2: ehf_set(row, op & 0x3f, REG_OFFSET, (int64_t)ehf_uleb(r) * c->data_align); return 0;
    case 3:
        if (!init)
            return -1;
        reg = op & 0x3f;
        ehf_set(row, reg, init->kind[reg], init->off[reg]);
        return 0;
    }
    switch (op) {
    case 0x00: return 0;                                       /* nop */
    case 0x05:                                                 /* offset_extended */
        reg = ehf_uleb(r);
        ehf_set(row, reg, REG_OFFSET, (int64_t)ehf_uleb(r) * c->data_align);
        return 0;
    case 0x06:                                                 /* restore_extended */
        reg = ehf_uleb(r);
        if (!init)
            return -1;
        if (reg < EHF_NREG)
            ehf_set(row, reg, init->kind[reg], init->off[reg]);
        return 0;
    case 0x07: ehf_set(row, ehf_uleb(r), REG_UNDEF, 0); return 0; /* undefined */
    case 0x08: ehf_set(row, ehf_uleb(r), REG_SAME, 0); return 0;  /* same_value */
    case 0x09:                                                 /* register */
        reg = ehf_uleb(r);
        ehf_uleb(r);
        ehf_set(row, reg, REG_OTHER, 0);
        return 0;
    case 0x0a:                                                 /* remember_state */
        if (*depth >= EHF_STATES)
            return -1;
        stack[(*depth)++] = *row;
        return 0;
    case 0x0b:                                                 /* restore_state */
        if (*depth <= 0)
            return -1;
        *row = stack[--(*depth)];
        return 0;
    case 0x0c:                                                 /* def_cfa */
        row->cfa_reg = (int)ehf_uleb(r);
        row->cfa_off = (int64_t)ehf_uleb(r);
        return 0;
    case 0x0d: row->cfa_reg = (int)ehf_uleb(r); return 0;     /* def_cfa_register */
    case 0x0e: row->cfa_off = (int64_t)ehf_uleb(r); return 0; /* def_cfa_offset */
    case 0x0f:                                                 /* def_cfa_expression */
        return -1; /* an expression: the walk cannot follow it */
    case 0x11:                                                 /* offset_extended_sf */
        reg = ehf_uleb(r);
        ehf_set(row, reg, REG_OFFSET, ehf_sleb(r) * c->data_align);
        return 0;
    case 0x12:                                                 /* def_cfa_sf */
        row->cfa_reg = (int)ehf_uleb(r);
        row->cfa_off = ehf_sleb(r) * c->data_align;
        return 0;
    case 0x13: row->cfa_off = ehf_sleb(r) * c->data_align; return 0; /* def_cfa_offset_sf */
    case 0x2e: ehf_uleb(r); return 0;                          /* GNU_args_size */
    }
    return -1; /* set_loc, expression, val_*, vendor ops: not ours */
}

/* Runs p..end from location loc, stopping before the first advance past ip.
 * 0, or -1 when an instruction we do not interpret was reached.
 * advance_loc and def_cfa_offset with a one-byte operand are nearly every
 * instruction of a big function's program (a push or a pop each, at its
 * address: nearly all of cc1's), so they are taken here, on a pointer of
 * the loop's own, before anything else; the rest go through a reader
 * (ehf_op), which costs a rule-cache miss far more instructions
 * (docs/performance.md). */
static int ehf_run(const uint8_t *p, const uint8_t *end, const struct ehf_cie *c, uintptr_t loc,
                   uintptr_t ip, struct ehf_row *row, const struct ehf_row *init)
{
    struct ehf_row stack[EHF_STATES];
    int depth = 0;
    const uint64_t align = c->code_align;
    while (p < end) {
        uint8_t op = *p++;
        uint64_t delta;
        if ((op >> 6) == 1) {
            delta = op & 0x3f;
        } else if (op == 0x0e && p < end && *p < 0x80) {
            row->cfa_off = *p++;
            continue;
        } else {
            struct ehf_rd r = {p, end, 0};
            if (op == 0x02)
                delta = ehf_fixed(&r, 1);
            else if (op == 0x03)
                delta = ehf_fixed(&r, 2);
            else if (op == 0x04)
                delta = ehf_fixed(&r, 4);
            else if (ehf_op(&r, op, c, row, init, stack, &depth) < 0)
                return -1;
            else
                delta = UINT64_MAX; /* not an advance */
            if (r.bad)
                return -1;
            p = r.p;
            if (delta == UINT64_MAX)
                continue;
        }
        uintptr_t next = loc + delta * align;
        if (next > ip)
            return 0;
        loc = next;
    }
    return 0;
}

static void ehf_row_init(struct ehf_row *row)
{
    memset(row, 0, sizeof *row); /* every column REG_SAME */
    row->cfa_reg = -1;
}

/* The row's rule word (without tag), within what the walk can do. */
static uint64_t ehf_classify(const struct ehf_row *row, const struct ehf_cie *c)
{
    if (c->signal || c->ra_col != EHF_RA || row->other)
        return CFI_W(CFI_UNKNOWN);
    for (int i = 0; i < EHF_NREG; i++)
        if (row->kind[i] == REG_OTHER)
            return CFI_W(CFI_UNKNOWN);
    if ((row->cfa_reg != EHF_RSP && row->cfa_reg != EHF_RBP) || row->cfa_off < 0 ||
        row->cfa_off >= (int64_t)CFI_MAX_CFA_OFF || row->kind[EHF_RSP] != REG_SAME)
        return CFI_W(CFI_UNKNOWN);
    if (row->kind[EHF_RA] == REG_UNDEF)
        return CFI_W(CFI_STOP);
    if (row->kind[EHF_RA] != REG_OFFSET || row->off[EHF_RA] != -8)
        return CFI_W(CFI_UNKNOWN);
    uint64_t w = CFI_W(CFI_STEP) | (row->cfa_reg == EHF_RBP ? CFI_W_CFA_RBP : 0) |
                 (uint64_t)row->cfa_off << CFI_OFF_SHIFT;
    if (row->kind[EHF_RBP] == REG_SAME)
        return w;
    if (row->kind[EHF_RBP] != REG_OFFSET || row->off[EHF_RBP] >= 0 ||
        -row->off[EHF_RBP] >= (int64_t)CFI_MAX_RBP_K || (row->off[EHF_RBP] & 7))
        return CFI_W(CFI_UNKNOWN); /* 8-aligned: the walk checks the CFA only */
    return w | CFI_W_RBP_SAVED | (uint64_t)(-row->off[EHF_RBP]) << CFI_K_SHIFT;
}

void ehf_decode(uint64_t w, struct cfi_rule *out)
{
    out->kind = CFI_KIND(w);
    out->cfa_rbp = out->kind == CFI_STEP && (w & CFI_W_CFA_RBP); /* else: CFI_W_NOFDE */
    out->rbp_saved = !!(w & CFI_W_RBP_SAVED);
    out->cfa_off = (uint32_t)(w >> CFI_OFF_SHIFT);
    out->rbp_k = (uint32_t)(w >> CFI_K_SHIFT & (CFI_MAX_RBP_K - 1));
}

/* CIE initial instructions, then the FDE's up to ip: the rule word.  A
 * call of its own (shim/text.order lists it: test_text_order). */
static HS_NOINLINE uint64_t ehf_eval_word(const struct ehf_cie *c, const uint8_t *fde,
                                          const uint8_t *fde_end, uintptr_t start, uintptr_t ip)
{
    struct ehf_row init, row;
    ehf_row_init(&init);
    if (ehf_run(c->ins, c->end, c, 0, UINTPTR_MAX, &init, NULL) < 0)
        return CFI_W(CFI_UNKNOWN);
    row = init;
    if (ehf_run(fde, fde_end, c, start, ip, &row, &init) < 0)
        return CFI_W(CFI_UNKNOWN);
    return ehf_classify(&row, c);
}

int ehf_eval(const uint8_t *cie_ins, size_t cie_len, const uint8_t *fde_ins, size_t fde_len,
             const struct ehf_cie_info *info, uintptr_t start, uintptr_t ip, struct cfi_rule *out)
{
    struct ehf_cie c = {cie_ins, cie_ins + cie_len, info->code_align, info->data_align,
                        info->ra_col, 0, 1, info->signal};
    ehf_decode(ehf_eval_word(&c, fde_ins, fde_ins + fde_len, start, ip), out);
    return (int)out->kind;
}

/* ---------------- modules and FDEs ---------------- */

struct ehf_mod {
    uintptr_t ip;                 /* in: the address looked up */
    uintptr_t ip_end;             /* out: the end of the file bytes of ip's PT_LOAD */
    const uint8_t *hdr;           /* out: its .eh_frame_hdr, or NULL */
    const uint8_t *lo, *hi;       /* out: the PT_LOAD holding hdr */
    uintptr_t base;               /* out: the module's dlpi_addr */
    unsigned long long subs;      /* out: dlpi_subs */
    int found;                    /* out: a module holds ip */
};

/* The module's .eh_frame_hdr at eh (0: none) and the PT_LOAD holding it,
 * [*lo, *hi) its file bytes; left alone when no PT_LOAD holds it. */
static void ehf_hdr_in(const struct dl_phdr_info *info, uintptr_t eh, const uint8_t **hdr,
                       const uint8_t **lo, const uint8_t **hi)
{
    for (int i = 0; eh && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t at = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && eh - at < ph->p_filesz) {
            *hdr = (const uint8_t *)eh;
            *lo = (const uint8_t *)at;
            *hi = (const uint8_t *)(at + ph->p_filesz);
        }
    }
}

static int ehf_find_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct ehf_mod *m = arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        return 1; /* too old a loader to tell: m->found stays 0 */
    m->subs = info->dlpi_subs;
    uintptr_t eh = 0;
    int hit = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && m->ip - lo < ph->p_memsz) {
            hit = 1;
            m->ip_end = lo + ph->p_filesz;
        }
        if (ph->p_type == PT_GNU_EH_FRAME)
            eh = lo;
    }
    if (!hit)
        return 0;
    m->found = 1;
    m->base = info->dlpi_addr;
    ehf_hdr_in(info, eh, &m->hdr, &m->lo, &m->hi);
    return 1;
}

/* The FDE covering ip from the .eh_frame_hdr search table, or NULL; *none
 * is set when the table was read and says that no FDE starts at or below
 * ip. */
static const uint8_t *ehf_search(const struct ehf_mod *m, uintptr_t ip, int *none)
{
    struct ehf_rd r = {m->hdr, m->hi, 0};
    uintptr_t base = (uintptr_t)m->hdr;
    uint8_t version = (uint8_t)ehf_fixed(&r, 1), ptr_enc = (uint8_t)ehf_fixed(&r, 1);
    uint8_t count_enc = (uint8_t)ehf_fixed(&r, 1), table_enc = (uint8_t)ehf_fixed(&r, 1);
    if (r.bad || version != 1 || table_enc != 0x3b || ptr_enc == 0xff || count_enc == 0xff)
        return NULL; /* 0x3b = datarel sdata4: what every linker writes */
    ehf_ptr(&r, ptr_enc, base);
    uint64_t n = ehf_ptr(&r, count_enc, base);
    if (r.bad || n == 0 || n > (uint64_t)(m->hi - r.p) / 8)
        return NULL;
    const uint8_t *table = r.p;
    uint64_t lo = 0, hi = n; /* the last entry with start <= ip */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        int32_t start;
        memcpy(&start, table + mid * 8, 4);
        if (base + (intptr_t)start <= ip)
            lo = mid;
        else
            hi = mid;
    }
    int32_t start, fde;
    memcpy(&start, table + lo * 8, 4);
    memcpy(&fde, table + lo * 8 + 4, 4);
    if (base + (intptr_t)start > ip) {
        *none = 1;
        return NULL;
    }
    return (const uint8_t *)(base + (intptr_t)fde);
}

/* Reads the FDE at fde in module m up to its address range: its CIE (*c)
 * and the code it covers, [*start, *start + *range), with r left at what
 * follows (the augmentation data; r->bad when the range did not read).
 * -1 when its length or its CIE cannot be read. */
static int ehf_fde_range(const struct ehf_mod *m, const uint8_t *fde, struct ehf_rd *r,
                         struct ehf_cie *c, uintptr_t *start, uintptr_t *range)
{
    *r = (struct ehf_rd){fde, m->hi, fde < m->lo};
    uint64_t len = ehf_fixed(r, 4);
    if (r->bad || len == 0 || len >= 0xfffffff0u || len > (uint64_t)(m->hi - r->p))
        return -1;
    r->end = r->p + len;
    const uint8_t *id_at = r->p;
    uint32_t id = (uint32_t)ehf_fixed(r, 4);
    if (id == 0 || (uintptr_t)id > (uintptr_t)(id_at - m->lo) ||
        ehf_parse_cie(id_at - id, m->lo, m->hi, c) < 0)
        return -1;
    *start = ehf_ptr(r, c->fde_enc, 0);
    *range = ehf_ptr(r, c->fde_enc & 0x0f, 0);
    return 0;
}

/* The rule word for ip inside module m; *none set when the FDE found,
 * the last to start at or below ip, ends below it. */
static uint64_t ehf_from_fde(const struct ehf_mod *m, const uint8_t *fde, uintptr_t ip, int *none)
{
    struct ehf_rd r;
    struct ehf_cie c;
    uintptr_t start, range;
    if (ehf_fde_range(m, fde, &r, &c, &start, &range) < 0)
        return CFI_W(CFI_UNKNOWN);
    if (c.has_z) {
        uint64_t alen = ehf_uleb(&r);
        if (alen > (uint64_t)(r.end - r.p))
            return CFI_W(CFI_UNKNOWN);
        r.p += alen;
    }
    if (r.bad || ip < start || ip - start >= range) {
        *none = !r.bad;
        return CFI_W(CFI_UNKNOWN); /* no FDE covers ip */
    }
    return ehf_eval_word(&c, r.p, r.end, start, ip);
}

/* Whether the code at ra (a return address, in a PT_LOAD whose file bytes
 * end at end) is neither of what libunwind's unw_step recognises where no
 * FDE covers an address (x86_64/Gstep.c, Gos-linux.c): a PLT entry (jmp
 * *x(%rip); push $n; jmp) or the signal trampoline (mov $15, %rax;
 * syscall).  Both are read as unw_step reads them, 16 bytes from ra. */
static int ehf_plain_code(uintptr_t ra, uintptr_t end)
{
    uint64_t w0, w1;
    if (ra > end || end - ra < 16)
        return 0;
    memcpy(&w0, (const void *)ra, 8);
    memcpy(&w1, (const void *)(ra + 8), 8);
    if ((w0 & 0xffff) == 0x25ff && (w0 >> 48 & 0xff) == 0x68 && (w1 >> 24 & 0xff) == 0xe9)
        return 0; /* a PLT entry */
    return !(w0 == 0x0f0000000fc0c748ull && (w1 & 0xff) == 0x05);
}

/* ---------------- the modules' spans ---------------- */

/* Every loaded module's PT_LOAD segments as one pass over the loader's
 * list saw them, sorted by address: a rule's miss finds its module by a
 * binary search instead of a pass over every module's program headers
 * (import torch: ~190 modules, a hundred thousand misses, ~5,000
 * instructions of each in the pass).  The spans hold while the loader's
 * counts of loads and unloads (dlpi_adds, dlpi_subs: read from the first
 * module at each miss, the list's lock taken and let go at once) are the
 * pass's; a pass that saw two spans overlap, or a loader too old to give
 * the counts, keeps none (ehf_find_module's first hit in list order
 * decides then).  Under ehs.lock, only tried: a miss that finds it busy
 * makes the pass as before.  The arena's memory, grown by doubling. */
struct ehf_span {
    uintptr_t lo, end, file_end; /* a PT_LOAD: [lo, end) in memory, its file bytes to file_end */
    uint32_t mod;                /* its module in ehs.mod */
};
struct ehf_smod {
    uintptr_t base;
    const uint8_t *hdr, *lo, *hi; /* as ehf_mod has them */
};
static struct {
    lock_t lock;
    int valid;                   /* the spans are the counts' */
    unsigned long long adds, subs;
    struct ehf_span *span;
    uintptr_t (*ord)[2];         /* (lo, its span's index), sorted: span_sort */
    struct ehf_smod *mod;
    unsigned nspan, capspan, nmod, capmod, capord;
    int failed;                  /* this pass: no memory, an old loader */
} ehs;

/* The loader's counts, from its first module: 1, or 0 (none given). */
static int ehf_counts(struct dl_phdr_info *info, size_t size, void *arg)
{
    unsigned long long *c = arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        return 1;
    c[0] = info->dlpi_adds;
    c[1] = info->dlpi_subs;
    c[2] = 1;
    return 1;
}

static int ehf_grow(void **p, unsigned *cap, unsigned need, size_t each)
{
    if (need <= *cap)
        return 0;
    unsigned n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = unwind_host->alloc((size_t)n * each);
    if (!q)
        return -1;
    if (*p) {
        memcpy(q, *p, (size_t)*cap * each);
        unwind_host->free(*p, (size_t)*cap * each);
    }
    *p = q;
    *cap = n;
    return 0;
}

/* The pass: each module's spans and its .eh_frame_hdr (ehf_find_module's
 * reading of the same headers). */
static int ehf_spans_add(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs ||
        ehf_grow((void **)&ehs.mod, &ehs.capmod, ehs.nmod + 1, sizeof *ehs.mod) != 0 ||
        ehf_grow((void **)&ehs.span, &ehs.capspan, ehs.nspan + info->dlpi_phnum,
                 sizeof *ehs.span) != 0) {
        ehs.failed = 1;
        return 1;
    }
    ehs.adds = info->dlpi_adds;
    ehs.subs = info->dlpi_subs;
    struct ehf_smod *m = &ehs.mod[ehs.nmod];
    *m = (struct ehf_smod){.base = info->dlpi_addr};
    uintptr_t eh = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && ph->p_memsz)
            ehs.span[ehs.nspan++] = (struct ehf_span){lo, lo + ph->p_memsz, lo + ph->p_filesz,
                                                      ehs.nmod};
        if (ph->p_type == PT_GNU_EH_FRAME)
            eh = lo;
    }
    ehf_hdr_in(info, eh, &m->hdr, &m->lo, &m->hi);
    ehs.nmod++;
    return 0;
}

/* With ehs.lock held: the spans made again, their order by address
 * (span_sort) and the overlap test. */
static void ehf_spans_fill(void)
{
    ehs.valid = 0;
    ehs.nspan = ehs.nmod = 0;
    ehs.failed = 0;
    unwind_host->iterate_phdr(ehf_spans_add, NULL);
    if (ehs.failed || !ehs.nspan || /* no span to search: the pass answers */
        ehf_grow((void **)&ehs.ord, &ehs.capord, ehs.nspan, sizeof *ehs.ord) != 0)
        return;
    for (unsigned i = 0; i < ehs.nspan; i++)
        ehs.ord[i][0] = ehs.span[i].lo, ehs.ord[i][1] = i;
    span_sort(ehs.ord, ehs.nspan);
    for (unsigned i = 1; i < ehs.nspan; i++)
        if (ehs.span[ehs.ord[i - 1][1]].end > ehs.ord[i][0])
            return;
    ehs.valid = 1;
}

/* m's module from the spans (m->found 0: none holds m->ip); 0, or -1 when
 * the spans could not answer (busy, no counts, not kept): then the pass. */
static int ehf_spans_find(struct ehf_mod *m)
{
    unsigned long long c[3] = {0, 0, 0};
    unwind_host->iterate_phdr(ehf_counts, c);
    if (!c[2] || !lock_try(&ehs.lock))
        return -1;
    if (!ehs.valid || ehs.adds != c[0] || ehs.subs != c[1])
        ehf_spans_fill();
    int r = -1;
    if (ehs.valid && ehs.adds == c[0] && ehs.subs == c[1]) {
        unsigned lo = 0, hi = ehs.nspan; /* the last span with lo <= ip */
        while (hi - lo > 1) {
            unsigned mid = lo + (hi - lo) / 2;
            if (ehs.ord[mid][0] <= m->ip)
                lo = mid;
            else
                hi = mid;
        }
        const struct ehf_span *sp = &ehs.span[ehs.ord[lo][1]];
        m->subs = c[1];
        if (sp->lo <= m->ip && m->ip < sp->end) {
            const struct ehf_smod *md = &ehs.mod[sp->mod];
            m->found = 1;
            m->ip_end = sp->file_end;
            m->base = md->base;
            m->hdr = md->hdr;
            m->lo = md->lo;
            m->hi = md->hi;
        }
        r = 0;
    }
    lock_drop(&ehs.lock);
    return r;
}

void ehf_after_fork_child(void)
{
    ehs.valid = 0; /* a pass the fork cut short: made again at the next miss */
    lock_drop(&ehs.lock);
}

/* ip's module: from the spans, else by a pass over the loader's list. */
static void ehf_module_of(struct ehf_mod *m)
{
    if (ehf_spans_find(m) != 0)
        unwind_host->iterate_phdr(ehf_find_module, m);
}

/* The rule word (untagged) for ip: CFI_UNKNOWN when no loaded module has
 * an FDE for it or its row is beyond what the walk does.  *found: a module
 * holds ip; *subs: the loader's dlpi_subs seen meanwhile.  Takes the
 * loader lock (dl_iterate_phdr): never call it with a shim lock held. */
uint64_t ehf_rule(uintptr_t ip, int *found, unsigned long long *subs)
{
    struct ehf_mod m = {.ip = ip};
    uint64_t w = CFI_W(CFI_UNKNOWN);
    int none = 0;
    ehf_module_of(&m);
    if (m.found && m.hdr) {
        const uint8_t *fde = ehf_search(&m, ip, &none);
        if (fde)
            w = ehf_from_fde(&m, fde, ip, &none);
        ehd_note_read(m.base);
    }
    if (none && ehf_plain_code(ip + 1, m.ip_end))
        w |= CFI_W_NOFDE;
    *found = m.found;
    *subs = m.subs;
    return w;
}

/* unwind.h: the function (its FDE's range) holding ip; 0, or -1 when no
 * loaded module's .eh_frame covers it.  Takes the loader lock. */
int unwind_func_range(uintptr_t ip, uintptr_t *lo, uintptr_t *hi)
{
    struct ehf_mod m = {.ip = ip};
    int none = 0;
    ehf_module_of(&m);
    const uint8_t *fde = m.found && m.hdr ? ehf_search(&m, ip, &none) : NULL;
    struct ehf_rd r;
    struct ehf_cie c;
    uintptr_t start, range;
    int bad = !fde || ehf_fde_range(&m, fde, &r, &c, &start, &range) < 0 || r.bad ||
              ip < start || ip - start >= range;
    if (m.found && m.hdr)
        ehd_note_read(m.base);
    if (bad)
        return -1;
    *lo = start;
    *hi = start + range;
    return 0;
}
