/*
 * cfi.c - the unwind rules behind HEAPSNAP_UNWIND=auto: a per-IP cache of
 * x86-64 CFI rules, filled by interpreting the module's .eh_frame.
 *
 * Why our own: libunwind's unw_backtrace spends most of its time setting up
 * a full cursor (unw_getcontext, unw_init_local) before its x86-64 fast
 * trace even starts, and that fast trace - a per-IP cache of "CFA = rsp or
 * rbp + offset, RA at CFA-8, rbp unchanged or at CFA+k" - is not exposed
 * through its API.  This file is that technique, on our own terms:
 *
 *   cfi_walk    the walk: for each frame, the cached RULE of its IP (the
 *               first frame's IP as is, every caller's return address - 1),
 *               then the caller's (rip, rsp = CFA, rbp).  Every address read
 *               is checked against the thread's stack bounds first; any doubt
 *               (a rule we cannot express, a bad CFA, unknown bounds) returns
 *               -1 and the caller falls back to unw_backtrace for the WHOLE
 *               stack, so a stack is libunwind's or identical to it.
 *   the cache   1 << CFI_CACHE_BITS slots of {key = IP + 1, rule word}, open
 *               addressed, insert-only until a full clear.  Readers take no
 *               lock: a writer stores the rule, then the key (release); the
 *               rule word carries a tag of its IP, so a reader racing a
 *               clear sees an empty or mismatched rule and takes the slow
 *               path.  Writers use lock_try and skip the insert when busy:
 *               nothing here ever waits.
 *   slow path   dl_iterate_phdr (no shim lock is ever held here: it takes
 *               the loader lock) finds the module and its PT_GNU_EH_FRAME;
 *               the .eh_frame_hdr table gives the FDE; the CIE's initial
 *               instructions and the FDE's up to the IP give the row.  What
 *               we do not interpret exactly - expressions, val_offset,
 *               register rules, signal frames ('S'), set_loc, indirect
 *               pointers, no FDE - is cached as CFI_UNKNOWN, so the next
 *               capture through that IP falls back at once.
 *
 * The rules we accept are a subset of what libunwind's fast trace calls a
 * STANDARD frame (Gstash_frame.c), and we stop where it stops (RA undefined:
 * the outermost frame; a return address below 0x4000), so the recorded IPs
 * are the same raw return addresses unw_backtrace records.
 *
 * dlclose: a module unloaded and another loaded at the same address would
 * make cached rules stale.  dl_iterate_phdr's dlpi_subs counts unloads; it
 * is read on every slow path and, per thread, every CFI_CHECK_EVERY walks;
 * when it moved, the cache is cleared.  The window left (fewer than
 * CFI_CHECK_EVERY captures per thread after a dlclose + dlopen at the same
 * address) can only mis-step a walk whose reads are bounds-checked anyway.
 * (libunwind's own per-thread trace cache has no such check at all.)
 *
 * Measured (tests/bench, -O2 -g, callgrind instructions of the whole run,
 * libunwind -> this): churn 200000 20000 1: 413M -> 354M (native 50M);
 * deep 20000 1000: 385M -> 292M (native 26M).  CPU time, median of 9
 * alternated runs: churn1 quick 2.76x -> 2.69x, deep quick 4.20x -> 3.90x.
 * What is left of the capture is a dependent chain per frame (return
 * address -> slot -> rule -> CFA -> next return address).  The key is the
 * IP + 1 (a caller's return address as is: no subtraction per frame), and
 * the rule word's layout makes the first-probe check of tag and kind one
 * mask and cfa_off one shift: deep 20000 1000 278.9M -> 243.4M instructions
 * (cfi_walk 175.1M -> 137.8M, ~52 -> ~41 per frame).
 */
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "shim.h"

#define CFI_CACHE_BITS 16          /* 64K slots x 16 B = 1 MiB */
#define CFI_PROBES 8               /* linear probes before a clear */
#define CFI_CHECK_EVERY 256        /* walks between dlpi_subs checks */
#define CFI_STATES 8               /* DW_CFA_remember_state depth */
#define CFI_NREG 17                /* DWARF x86-64 columns rax..r15, RA */
#define CFI_RBP 6
#define CFI_RSP 7
#define CFI_RA 16
#define CFI_MAX_CFA_OFF (1u << 28)
#define CFI_MAX_RBP_K (1u << 14)
#define CFI_MIN_RA 0x4000u         /* libunwind's "somewhere bogus" */

/* The rule word: kind 0-1, tag 2-19 (its cache key's low 18 bits: a
 * reader racing a clear and a refill of its slot by another key sees a
 * mismatch, or an empty kind, and takes the slow path), cfa_rbp 20,
 * rbp_saved 21, rbp_k 22-35, cfa_off 36-63.  The walk's first-probe check
 * of tag and kind is a shift, an xor and a mask; cfa_off is one shift. */
#define CFI_TAG_MASK (((uint64_t)1 << 18) - 1)
#define CFI_TAG_SHIFT 2
#define CFI_KIND_SHIFT 0
#define CFI_W_CFA_RBP ((uint64_t)1 << 20)
#define CFI_W_RBP_SAVED ((uint64_t)1 << 21)
#define CFI_K_SHIFT 22
#define CFI_OFF_SHIFT 36
#define CFI_W(kind) ((uint64_t)(kind) << CFI_KIND_SHIFT)
#define CFI_KIND(w) ((unsigned)((w) >> CFI_KIND_SHIFT & 3))
#define CFI_CHECK_MASK (CFI_TAG_MASK << CFI_TAG_SHIFT | CFI_W(3))

enum { REG_SAME, REG_UNDEF, REG_OFFSET, REG_OTHER };

struct cfi_row {
    int cfa_reg;                  /* DWARF register, -1 = an expression */
    int64_t cfa_off;
    uint8_t kind[CFI_NREG];       /* REG_* per column */
    int64_t off[CFI_NREG];        /* REG_OFFSET: saved at CFA + off */
    int other;                    /* a column > 16 got a rule we do not do */
};

struct cfi_cie {
    const uint8_t *ins, *end;     /* initial instructions */
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_col;
    uint8_t fde_enc;              /* 'R' */
    int has_z, signal;            /* 'z', 'S' */
};

struct cfi_rd {                   /* a bounded reader */
    const uint8_t *p, *end;
    int bad;
};

struct cfi_slot {
    _Atomic uint64_t key;         /* the looked-up IP, 0 = empty */
    _Atomic uint64_t rule;        /* the rule word, 0 = not there */
};

static struct {
    struct cfi_slot *slot;        /* NULL: not set up, every walk falls back */
    lock_t lock;                  /* writers (insert, clear); readers none */
    unsigned used;                /* slots filled, under lock */
    _Atomic unsigned long long subs; /* dlpi_subs the cache is valid for */
} cfi;

static __thread unsigned cfi_countdown; /* walks to the next dlpi_subs check */

/* ---------------- reading .eh_frame ---------------- */

static int cfi_need(struct cfi_rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

static uint64_t cfi_fixed(struct cfi_rd *r, size_t n)
{
    uint64_t v = 0;
    if (!cfi_need(r, n))
        return 0;
    memcpy(&v, r->p, n); /* little-endian */
    r->p += n;
    return v;
}

static uint64_t cfi_uleb(struct cfi_rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; cfi_need(r, 1); shift += 7) {
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t cfi_sleb(struct cfi_rd *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0x80;
    while ((b & 0x80) && cfi_need(r, 1)) {
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
static uint64_t cfi_ptr(struct cfi_rd *r, uint8_t enc, uintptr_t base)
{
    uintptr_t at = (uintptr_t)r->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00: v = cfi_fixed(r, 8); break;
    case 0x01: v = cfi_uleb(r); break;
    case 0x02: v = cfi_fixed(r, 2); break;
    case 0x03: v = cfi_fixed(r, 4); break;
    case 0x04: v = cfi_fixed(r, 8); break;
    case 0x09: v = (uint64_t)cfi_sleb(r); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)cfi_fixed(r, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)cfi_fixed(r, 4); break;
    case 0x0c: v = cfi_fixed(r, 8); break;
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
static int cfi_parse_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *end,
                         struct cfi_cie *c)
{
    struct cfi_rd r = {p, end, p < lo};
    uint64_t len = cfi_fixed(&r, 4);
    if (r.bad || len == 0 || len >= 0xfffffff0u || len > (uint64_t)(end - r.p))
        return -1;
    r.end = r.p + len;
    if (cfi_fixed(&r, 4) != 0)
        return -1; /* not a CIE */
    unsigned version = (unsigned)cfi_fixed(&r, 1);
    const uint8_t *aug = r.p;
    while (cfi_need(&r, 1) && *r.p)
        r.p++;
    r.p++;
    if (r.bad || (version != 1 && version != 3))
        return -1;
    memset(c, 0, sizeof *c);
    c->code_align = cfi_uleb(&r);
    c->data_align = cfi_sleb(&r);
    c->ra_col = version == 1 ? cfi_fixed(&r, 1) : cfi_uleb(&r);
    if (*aug == 'z') {
        uint64_t alen = cfi_uleb(&r);
        if (r.bad || alen > (uint64_t)(r.end - r.p))
            return -1;
        const uint8_t *adata_end = r.p + alen;
        c->has_z = 1;
        for (const uint8_t *a = aug + 1; *a && !r.bad; a++) {
            if (*a == 'R')
                c->fde_enc = (uint8_t)cfi_fixed(&r, 1);
            else if (*a == 'L')
                cfi_fixed(&r, 1);
            else if (*a == 'P') {
                uint8_t enc = (uint8_t)cfi_fixed(&r, 1);
                cfi_ptr(&r, enc & 0x0f, 0); /* skipped: only its size matters */
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

static void cfi_set(struct cfi_row *row, uint64_t reg, int kind, int64_t off)
{
    if (reg < CFI_NREG) {
        row->kind[reg] = (uint8_t)kind;
        row->off[reg] = off;
    } else if (kind == REG_OTHER) {
        row->other = 1;
    }
}

/* One instruction that is not an advance; 0, or -1 for "not supported". */
static int cfi_op(struct cfi_rd *r, uint8_t op, const struct cfi_cie *c, struct cfi_row *row,
                  const struct cfi_row *init, struct cfi_row *stack, int *depth)
{
    uint64_t reg;
    switch (op >> 6) {
    case 2: cfi_set(row, op & 0x3f, REG_OFFSET, (int64_t)cfi_uleb(r) * c->data_align); return 0;
    case 3:
        if (!init)
            return -1;
        reg = op & 0x3f;
        cfi_set(row, reg, init->kind[reg], init->off[reg]);
        return 0;
    }
    switch (op) {
    case 0x00: return 0;                                       /* nop */
    case 0x05:                                                 /* offset_extended */
        reg = cfi_uleb(r);
        cfi_set(row, reg, REG_OFFSET, (int64_t)cfi_uleb(r) * c->data_align);
        return 0;
    case 0x06:                                                 /* restore_extended */
        reg = cfi_uleb(r);
        if (!init)
            return -1;
        if (reg < CFI_NREG)
            cfi_set(row, reg, init->kind[reg], init->off[reg]);
        return 0;
    case 0x07: cfi_set(row, cfi_uleb(r), REG_UNDEF, 0); return 0; /* undefined */
    case 0x08: cfi_set(row, cfi_uleb(r), REG_SAME, 0); return 0;  /* same_value */
    case 0x09:                                                 /* register */
        reg = cfi_uleb(r);
        cfi_uleb(r);
        cfi_set(row, reg, REG_OTHER, 0);
        return 0;
    case 0x0a:                                                 /* remember_state */
        if (*depth >= CFI_STATES)
            return -1;
        stack[(*depth)++] = *row;
        return 0;
    case 0x0b:                                                 /* restore_state */
        if (*depth <= 0)
            return -1;
        *row = stack[--(*depth)];
        return 0;
    case 0x0c:                                                 /* def_cfa */
        row->cfa_reg = (int)cfi_uleb(r);
        row->cfa_off = (int64_t)cfi_uleb(r);
        return 0;
    case 0x0d: row->cfa_reg = (int)cfi_uleb(r); return 0;     /* def_cfa_register */
    case 0x0e: row->cfa_off = (int64_t)cfi_uleb(r); return 0; /* def_cfa_offset */
    case 0x0f:                                                 /* def_cfa_expression */
        return -1; /* an expression: the walk cannot follow it */
    case 0x11:                                                 /* offset_extended_sf */
        reg = cfi_uleb(r);
        cfi_set(row, reg, REG_OFFSET, cfi_sleb(r) * c->data_align);
        return 0;
    case 0x12:                                                 /* def_cfa_sf */
        row->cfa_reg = (int)cfi_uleb(r);
        row->cfa_off = cfi_sleb(r) * c->data_align;
        return 0;
    case 0x13: row->cfa_off = cfi_sleb(r) * c->data_align; return 0; /* def_cfa_offset_sf */
    case 0x2e: cfi_uleb(r); return 0;                          /* GNU_args_size */
    }
    return -1; /* set_loc, expression, val_*, vendor ops: not ours */
}

/* Runs p..end from location loc, stopping before the first advance past ip.
 * 0, or -1 when an instruction we do not interpret was reached. */
static int cfi_run(const uint8_t *p, const uint8_t *end, const struct cfi_cie *c, uintptr_t loc,
                   uintptr_t ip, struct cfi_row *row, const struct cfi_row *init)
{
    struct cfi_row stack[CFI_STATES];
    int depth = 0;
    struct cfi_rd r = {p, end, 0};
    while (r.p < r.end && !r.bad) {
        uint8_t op = *r.p++;
        uint64_t delta;
        if ((op >> 6) == 1)
            delta = op & 0x3f;
        else if (op == 0x02)
            delta = cfi_fixed(&r, 1);
        else if (op == 0x03)
            delta = cfi_fixed(&r, 2);
        else if (op == 0x04)
            delta = cfi_fixed(&r, 4);
        else {
            if (cfi_op(&r, op, c, row, init, stack, &depth) < 0)
                return -1;
            continue;
        }
        uintptr_t next = loc + delta * c->code_align;
        if (next > ip)
            return 0;
        loc = next;
    }
    return r.bad ? -1 : 0;
}

static void cfi_row_init(struct cfi_row *row)
{
    memset(row, 0, sizeof *row); /* every column REG_SAME */
    row->cfa_reg = -1;
}

/* The row's rule word (without tag), within what the walk can do. */
static uint64_t cfi_classify(const struct cfi_row *row, const struct cfi_cie *c)
{
    if (c->signal || c->ra_col != CFI_RA || row->other)
        return CFI_W(CFI_UNKNOWN);
    for (int i = 0; i < CFI_NREG; i++)
        if (row->kind[i] == REG_OTHER)
            return CFI_W(CFI_UNKNOWN);
    if ((row->cfa_reg != CFI_RSP && row->cfa_reg != CFI_RBP) || row->cfa_off < 0 ||
        row->cfa_off >= (int64_t)CFI_MAX_CFA_OFF || row->kind[CFI_RSP] != REG_SAME)
        return CFI_W(CFI_UNKNOWN);
    if (row->kind[CFI_RA] == REG_UNDEF)
        return CFI_W(CFI_STOP);
    if (row->kind[CFI_RA] != REG_OFFSET || row->off[CFI_RA] != -8)
        return CFI_W(CFI_UNKNOWN);
    uint64_t w = CFI_W(CFI_STEP) | (row->cfa_reg == CFI_RBP ? CFI_W_CFA_RBP : 0) |
                 (uint64_t)row->cfa_off << CFI_OFF_SHIFT;
    if (row->kind[CFI_RBP] == REG_SAME)
        return w;
    if (row->kind[CFI_RBP] != REG_OFFSET || row->off[CFI_RBP] >= 0 ||
        -row->off[CFI_RBP] >= (int64_t)CFI_MAX_RBP_K || (row->off[CFI_RBP] & 7))
        return CFI_W(CFI_UNKNOWN); /* 8-aligned: the walk checks the CFA only */
    return w | CFI_W_RBP_SAVED | (uint64_t)(-row->off[CFI_RBP]) << CFI_K_SHIFT;
}

static void cfi_decode(uint64_t w, struct cfi_rule *out)
{
    out->kind = CFI_KIND(w);
    out->cfa_rbp = !!(w & CFI_W_CFA_RBP);
    out->rbp_saved = !!(w & CFI_W_RBP_SAVED);
    out->cfa_off = (uint32_t)(w >> CFI_OFF_SHIFT);
    out->rbp_k = (uint32_t)(w >> CFI_K_SHIFT & (CFI_MAX_RBP_K - 1));
}

/* CIE initial instructions, then the FDE's up to ip: the rule word. */
static uint64_t cfi_eval_word(const struct cfi_cie *c, const uint8_t *fde, const uint8_t *fde_end,
                              uintptr_t start, uintptr_t ip)
{
    struct cfi_row init, row;
    cfi_row_init(&init);
    if (cfi_run(c->ins, c->end, c, 0, UINTPTR_MAX, &init, NULL) < 0)
        return CFI_W(CFI_UNKNOWN);
    row = init;
    if (cfi_run(fde, fde_end, c, start, ip, &row, &init) < 0)
        return CFI_W(CFI_UNKNOWN);
    return cfi_classify(&row, c);
}

int cfi_eval(const uint8_t *cie_ins, size_t cie_len, const uint8_t *fde_ins, size_t fde_len,
             const struct cfi_cie_info *info, uintptr_t start, uintptr_t ip, struct cfi_rule *out)
{
    struct cfi_cie c = {cie_ins, cie_ins + cie_len, info->code_align, info->data_align,
                        info->ra_col, 0, 1, info->signal};
    cfi_decode(cfi_eval_word(&c, fde_ins, fde_ins + fde_len, start, ip), out);
    return (int)out->kind;
}

/* ---------------- modules and FDEs ---------------- */

struct cfi_mod {
    uintptr_t ip;                 /* in: the address looked up */
    const uint8_t *hdr;           /* out: its .eh_frame_hdr, or NULL */
    const uint8_t *lo, *hi;       /* out: the PT_LOAD holding hdr */
    unsigned long long subs;      /* out: dlpi_subs */
    int found;                    /* out: a module holds ip */
};

static int cfi_find_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct cfi_mod *m = arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        return 1; /* too old a loader to tell: m->found stays 0 */
    m->subs = info->dlpi_subs;
    uintptr_t eh = 0;
    int hit = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && m->ip - lo < ph->p_memsz)
            hit = 1;
        if (ph->p_type == PT_GNU_EH_FRAME)
            eh = lo;
    }
    if (!hit)
        return 0;
    m->found = 1;
    for (int i = 0; eh && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && eh - lo < ph->p_filesz) {
            m->hdr = (const uint8_t *)eh;
            m->lo = (const uint8_t *)lo;
            m->hi = (const uint8_t *)(lo + ph->p_filesz);
        }
    }
    return 1;
}

/* The FDE covering ip from the .eh_frame_hdr search table, or NULL. */
static const uint8_t *cfi_search(const struct cfi_mod *m, uintptr_t ip)
{
    struct cfi_rd r = {m->hdr, m->hi, 0};
    uintptr_t base = (uintptr_t)m->hdr;
    uint8_t version = (uint8_t)cfi_fixed(&r, 1), ptr_enc = (uint8_t)cfi_fixed(&r, 1);
    uint8_t count_enc = (uint8_t)cfi_fixed(&r, 1), table_enc = (uint8_t)cfi_fixed(&r, 1);
    if (r.bad || version != 1 || table_enc != 0x3b || ptr_enc == 0xff || count_enc == 0xff)
        return NULL; /* 0x3b = datarel sdata4: what every linker writes */
    cfi_ptr(&r, ptr_enc, base);
    uint64_t n = cfi_ptr(&r, count_enc, base);
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
    if (base + (intptr_t)start > ip)
        return NULL;
    return (const uint8_t *)(base + (intptr_t)fde);
}

/* The rule word for ip inside module m. */
static uint64_t cfi_from_fde(const struct cfi_mod *m, const uint8_t *fde, uintptr_t ip)
{
    struct cfi_rd r = {fde, m->hi, fde < m->lo};
    uint64_t len = cfi_fixed(&r, 4);
    if (r.bad || len == 0 || len >= 0xfffffff0u || len > (uint64_t)(m->hi - r.p))
        return CFI_W(CFI_UNKNOWN);
    r.end = r.p + len;
    const uint8_t *id_at = r.p;
    uint32_t id = (uint32_t)cfi_fixed(&r, 4);
    struct cfi_cie c;
    if (id == 0 || (uintptr_t)id > (uintptr_t)(id_at - m->lo) ||
        cfi_parse_cie(id_at - id, m->lo, m->hi, &c) < 0)
        return CFI_W(CFI_UNKNOWN);
    uintptr_t start = cfi_ptr(&r, c.fde_enc, 0);
    uintptr_t range = cfi_ptr(&r, c.fde_enc & 0x0f, 0);
    if (c.has_z) {
        uint64_t alen = cfi_uleb(&r);
        if (alen > (uint64_t)(r.end - r.p))
            return CFI_W(CFI_UNKNOWN);
        r.p += alen;
    }
    if (r.bad || ip < start || ip - start >= range)
        return CFI_W(CFI_UNKNOWN); /* no FDE covers ip */
    return cfi_eval_word(&c, r.p, r.end, start, ip);
}

/* ---------------- the cache ---------------- */

static uint64_t cfi_hash(uintptr_t ip)
{
    return (uint64_t)ip * 0x9e3779b97f4a7c15ULL;
}

/* The rule word's check on its slot's key: the key's low 18 bits. */
static inline uint64_t cfi_tag(uintptr_t key)
{
    return ((uint64_t)key & CFI_TAG_MASK) << CFI_TAG_SHIFT;
}

/* The tag matches and the kind is not empty. */
static inline int cfi_tag_ok(uint64_t w, uintptr_t key)
{
    return ((w ^ cfi_tag(key)) & CFI_TAG_MASK << CFI_TAG_SHIFT) == 0 &&
           CFI_KIND(w) != CFI_EMPTY;
}

/* With cfi.lock held: forget every rule. */
static void cfi_clear_locked(unsigned long long subs)
{
    size_t n = (size_t)1 << CFI_CACHE_BITS;
    for (size_t i = 0; i < n; i++) {
        atomic_store_explicit(&cfi.slot[i].rule, 0, memory_order_relaxed);
        atomic_store_explicit(&cfi.slot[i].key, 0, memory_order_release);
    }
    cfi.used = 0;
    atomic_store(&cfi.subs, subs);
}

/* Brings the cache up to dlpi_subs; 0, or -1 if it could not (busy). */
static int cfi_sync(unsigned long long subs)
{
    if (subs == atomic_load_explicit(&cfi.subs, memory_order_relaxed))
        return 0;
    if (!lock_try(&cfi.lock))
        return -1;
    if (subs != atomic_load(&cfi.subs))
        cfi_clear_locked(subs);
    lock_drop(&cfi.lock);
    return 0;
}

static void cfi_insert(uintptr_t ip, uint64_t w)
{
    uint64_t mask = ((uint64_t)1 << CFI_CACHE_BITS) - 1;
    uint64_t h = cfi_hash(ip) >> (64 - CFI_CACHE_BITS);
    if (!lock_try(&cfi.lock))
        return; /* someone else is writing: use the rule uncached */
    if (cfi.used >= (mask + 1) / 4 * 3)
        cfi_clear_locked(atomic_load(&cfi.subs));
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < CFI_PROBES; i++) {
            struct cfi_slot *s = &cfi.slot[(h + i) & mask];
            uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
            if (k == ip)
                goto out;
            if (k == 0) {
                atomic_store_explicit(&s->rule, w, memory_order_relaxed);
                atomic_store_explicit(&s->key, ip, memory_order_release);
                cfi.used++;
                goto out;
            }
        }
        cfi_clear_locked(atomic_load(&cfi.subs)); /* a crowded run: start over */
    }
out:
    lock_drop(&cfi.lock);
}

/* The slow path: find, interpret, cache.  No lock held on entry.  A key
 * is the looked-up IP + 1: a caller's return address as is. */
static HS_NOINLINE uint64_t cfi_miss(uintptr_t key)
{
    uintptr_t ip = key - 1;
    struct cfi_mod m = {.ip = ip};
    dl_iterate_phdr(cfi_find_module, &m);
    uint64_t w = CFI_W(CFI_UNKNOWN);
    if (m.found && m.hdr) {
        const uint8_t *fde = cfi_search(&m, ip);
        if (fde)
            w = cfi_from_fde(&m, fde, ip);
    }
    w |= cfi_tag(key);
    if (m.found && cfi_sync(m.subs) == 0)
        cfi_insert(key, w);
    return w;
}

static uint64_t cfi_slot_of(uintptr_t key)
{
    return cfi_hash(key) >> (64 - CFI_CACHE_BITS);
}

/* Probes from key's slot on, then the slow path. */
static HS_NOINLINE uint64_t cfi_lookup_far(uintptr_t key)
{
    uint64_t mask = ((uint64_t)1 << CFI_CACHE_BITS) - 1, h = cfi_slot_of(key);
    for (unsigned i = 0; i < CFI_PROBES; i++) {
        struct cfi_slot *s = &cfi.slot[(h + i) & mask];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key) {
            uint64_t w = atomic_load_explicit(&s->rule, memory_order_relaxed);
            if (cfi_tag_ok(w, key))
                return w;
            break;
        }
        if (k == 0)
            break;
    }
    return cfi_miss(key);
}

int cfi_rule_at(uintptr_t ip, struct cfi_rule *out)
{
    cfi_decode(cfi.slot ? cfi_lookup_far(ip + 1) : cfi_miss(ip + 1), out);
    return (int)out->kind;
}

/* ---------------- the walk ---------------- */

static int cfi_subs_of(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        *(unsigned long long *)arg = info->dlpi_subs;
    return 1;
}

/* Every CFI_CHECK_EVERY walks of this thread: has a module gone? */
static int cfi_check_unloads(void)
{
    if (HS_LIKELY(cfi_countdown-- > 0))
        return 0;
    unsigned long long subs = atomic_load(&cfi.subs);
    dl_iterate_phdr(cfi_subs_of, &subs);
    if (cfi_sync(subs) < 0) {
        cfi_countdown = 0; /* busy: fall back now, check again next time */
        return -1;
    }
    cfi_countdown = CFI_CHECK_EVERY;
    return 0;
}

/* ---------------- the memo: the last walk of this thread ---------------- */

/* A walk is a pure function of its state before each step - (key, rsp,
 * rbp) - the cached rules and the stack words it reads: the return address
 * at rsp_next - 8 and, where the rule restores rbp, the word at rbp_at.
 * Each thread keeps its last successful walk as that chain of states.
 * When a new walk reaches a state with the same rsp and key as one of the
 * memo's, the memo's later steps are replayed instead of re-derived: a
 * replayed step compares the return address word with what it held then
 * (and, for a CFA based on rbp, rbp with the value it had then) and loads
 * the restored rbp, with no cache probe and no rule decode.  The first
 * difference ends the replay, and the ordinary walk goes on from that very
 * state (and may meet the memo again further out), so the result is always
 * what the ordinary walk gives: the outer frames that did not change (deep
 * recursion, an interpreter's loop) are checked, not assumed.  Rules are a
 * function of the loaded modules, so the memo is dropped when dlpi_subs
 * moves.  Two buffers alternate: the new walk is recorded into one while
 * the other is read.
 * The caller may name a walk's result (cfi_name: hooks.c gives the trace
 * id).  A new walk that starts in the memo's first state and whose every
 * read would see the same word again gives the same frames: it returns the
 * name without writing a frame or touching the memo, and the caller skips
 * interning the stack (a loop allocating from one place; deep's four
 * allocations per recursion).  callgrind, deep 20000 1000: 201.1M ->
 * 151.6M instructions; churn (six sites in random order) +1.2%. */
struct cfi_state {
    uintptr_t rsp, key, rbp;
    uintptr_t how;                /* the step from here: rbp_at | CFI_HOW_CFA_RBP */
};

#define CFI_HOW_CFA_RBP ((uintptr_t)1) /* its CFA was rbp-based (rbp_at is 8-aligned) */

enum { CFI_END_CAP, CFI_END_STOP, CFI_END_LOW_RA }; /* how a walk ended */

struct cfi_memo {
    unsigned n;                   /* steps recorded: states 0..n; 0 = nothing */
    unsigned max;                 /* frames the walk could give */
    unsigned end;                 /* CFI_END_* */
    uint32_t tag;                 /* the caller's name for its result (cfi_name) */
    unsigned long long subs;      /* the modules the rules came from */
    uintptr_t top8;
    struct cfi_state *st;         /* cap + 1 states */
};

static __thread struct {
    struct cfi_memo m[2];
    unsigned cur;                 /* m[cur] is the last walk */
    unsigned cap;                 /* steps each buffer holds; 0 = not set up */
    int off;                      /* no memo on this thread (ended, or no memory) */
    int fresh;                    /* m[cur] is the walk just made (cfi_name may name it) */
    uint64_t replayed;            /* frames taken from the memo (HEAPSNAP_VERBOSE) */
} cfi_memo;

static _Atomic uint64_t cfi_replayed_ended; /* ... by threads that ended */

/* Buffers for walks of up to cap steps, from the arena; 0, or -1. */
static HS_NOINLINE int cfi_memo_setup(unsigned cap)
{
    if (cfi_memo.off)
        return -1;
    size_t one = (size_t)(cap + 1) * sizeof(struct cfi_state);
    struct cfi_state *st = arena_alloc(2 * one);
    if (!st) {
        cfi_memo.off = 1;
        return -1;
    }
    cfi_memo.m[0] = (struct cfi_memo){.tag = CFI_NO_TAG, .st = st};
    cfi_memo.m[1] = (struct cfi_memo){.tag = CFI_NO_TAG, .st = st + cap + 1};
    cfi_memo.cap = cap;
    return 0;
}

/* The thread is ending: give the buffers back; no memo from now on. */
void cfi_thread_end(void)
{
    atomic_fetch_add_explicit(&cfi_replayed_ended, cfi_memo.replayed, memory_order_relaxed);
    cfi_memo.replayed = 0;
    if (cfi_memo.cap)
        arena_free(cfi_memo.m[0].st, 2 * (size_t)(cfi_memo.cap + 1) * sizeof(struct cfi_state));
    cfi_memo.cap = 0;
    cfi_memo.off = 1;
}

/* ---------------- the walk ---------------- */

/* One ordinary step from *c: 1 = *c is now the caller's state (its key
 * the frame to record) and *how says how the step went, 0 = the walk ends
 * here (the outermost frame's rule), 2 = it ends on a return address below
 * CFI_MIN_RA, -1 = fall back.  Per frame: one probe of the cache (key, then one
 * mask checks tag and kind together: anything but a first-probe STEP goes
 * to cfi_lookup_far), then the return address's slot at = CFA - 8, which
 * must be 8-aligned in [rsp, top - 8] (so the CFA grows by 8 at least and
 * every read is inside the stack); a saved rbp is at at + 8 - rbp_k, an
 * aligned address below at (classify keeps rbp_k a multiple of 8), checked
 * against lo only. */
static inline int cfi_step(struct cfi_state *c, uintptr_t *how, uintptr_t lo, uintptr_t top8)
{
    uintptr_t key = c->key;
    struct cfi_slot *s = (struct cfi_slot *)((char *)cfi.slot + (cfi_hash(key) >>
                         (64 - CFI_CACHE_BITS - 4) & ~(uint64_t)15)); /* one shift */
    uint64_t w = CFI_W(CFI_EMPTY);
    if (HS_LIKELY(atomic_load_explicit(&s->key, memory_order_acquire) == key))
        w = atomic_load_explicit(&s->rule, memory_order_relaxed);
    if (HS_UNLIKELY(((w ^ (uint64_t)key << CFI_TAG_SHIFT) & CFI_CHECK_MASK) != CFI_W(CFI_STEP))) {
        w = cfi_lookup_far(key);
        if (CFI_KIND(w) != CFI_STEP)
            return CFI_KIND(w) == CFI_STOP ? 0 : -1;
    }
    uintptr_t cfa_rbp = (w & CFI_W_CFA_RBP) != 0;
    uintptr_t at = (cfa_rbp ? c->rbp : c->rsp) + (uintptr_t)(w >> CFI_OFF_SHIFT) - 8;
    if (HS_UNLIKELY(at < c->rsp || at > top8 || (at & 7)))
        return -1;
    uintptr_t ra = *(const uintptr_t *)at, rbp_at = 0;
    if (w & CFI_W_RBP_SAVED) {
        uintptr_t k = (uintptr_t)(w >> CFI_K_SHIFT & (CFI_MAX_RBP_K - 1));
        if (HS_UNLIKELY(at + 8 - k < lo))
            return -1;
        rbp_at = at + 8 - k;
    }
    if (HS_UNLIKELY(ra < CFI_MIN_RA))
        return 2; /* libunwind's end: not recorded */
    *how = rbp_at | cfa_rbp;
    c->key = ra; /* a caller: the rule of its call instruction, ra - 1 */
    c->rsp = at + 8;
    if (rbp_at)
        c->rbp = *(const uintptr_t *)rbp_at;
    return 1;
}

/* Replays the memo's steps from state i, where the walk is at *c (same rsp
 * and key), while they would read the same: appends them to the record rec
 * and to o, and leaves *c at the state the ordinary walk goes on from.
 * Returns the index of that state in the memo.  The saved-rbp slot of a
 * replayed step is checked against this walk's lo, as the ordinary step
 * does; an rbp-based CFA needs rbp as it was. */
static inline unsigned cfi_replay(const struct cfi_state *st, unsigned i, unsigned lim,
                                  struct cfi_state *c, struct cfi_state **rec, uintptr_t lo,
                                  uintptr_t **out)
{
    struct cfi_state *r = *rec;
    uintptr_t *o = *out, rbp = c->rbp;
    for (; i < lim; i++) {
        const struct cfi_state *s = &st[i];
        uintptr_t how = s->how;
        if (*(const uintptr_t *)(s[1].rsp - 8) != s[1].key)
            break;
        if (how) {
            if ((how & CFI_HOW_CFA_RBP) && rbp != s->rbp)
                break;
            if (how > CFI_HOW_CFA_RBP && (how & ~CFI_HOW_CFA_RBP) < lo)
                break;
        }
        *r = *s;
        r->rbp = rbp;
        r++;
        if (how > CFI_HOW_CFA_RBP)
            rbp = *(const uintptr_t *)(how & ~CFI_HOW_CFA_RBP);
        *o++ = s[1].key;
    }
    *c = (struct cfi_state){st[i].rsp, st[i].key, rbp, 0};
    *rec = r;
    *out = o;
    return i;
}

/* The walk, with the memo old (NULL: none) and recording into nw (NULL:
 * none).  A walk that falls back leaves the memo as it was. */
static int cfi_steps(struct cfi_state c, uintptr_t top8, uintptr_t *ip, uintptr_t *end,
                     const struct cfi_memo *old, struct cfi_memo *nw)
{
    const uintptr_t lo = c.rsp;
    uintptr_t *out = ip;
    struct cfi_state *rec = nw ? nw->st : NULL;
    unsigned m = 0, on = old ? old->n : 0;
    int r = 1;
    while (out < end) {
        while (m < on && old->st[m].rsp < c.rsp)
            m++;
        if (m < on && old->st[m].rsp == c.rsp && old->st[m].key == c.key) {
            unsigned lim = on - m > (unsigned)(end - out) ? m + (unsigned)(end - out) : on;
            uintptr_t *from = out;
            m = cfi_replay(old->st, m, lim, &c, &rec, lo, &out);
            cfi_memo.replayed += (uint64_t)(out - from);
            if (out > from)
                continue;
        }
        uintptr_t rsp = c.rsp, key = c.key, rbp = c.rbp, how;
        r = cfi_step(&c, &how, lo, top8);
        if (r != 1)
            break;
        *out++ = c.key;
        if (rec)
            *rec++ = (struct cfi_state){rsp, key, rbp, how};
    }
    if (r < 0)
        return -1;
    if (nw) {
        *rec = (struct cfi_state){c.rsp, c.key, c.rbp, 0};
        nw->n = (unsigned)(rec - nw->st);
        nw->max = (unsigned)(end - ip);
        nw->end = out == end ? CFI_END_CAP : r == 0 ? CFI_END_STOP : CFI_END_LOW_RA;
        nw->tag = CFI_NO_TAG;
        cfi_memo.fresh = 1;
        nw->top8 = top8;
        nw->subs = atomic_load_explicit(&cfi.subs, memory_order_relaxed);
        cfi_memo.cur ^= 1;
    }
    return (int)(out - ip);
}

/* Frames replayed so far by ended threads and the calling one. */
uint64_t cfi_replayed(void)
{
    return atomic_load(&cfi_replayed_ended) + cfi_memo.replayed;
}

/* Would a walk from (rsp, key, rbp) give exactly the memo's frames again?
 * The memo's state 0 is (rsp, key); every word its steps read still holds
 * what it held (rbp too, where a CFA was based on it), and the walk ended
 * at its cap or on the outermost frame's rule, which read nothing.  Reads
 * only: the memo stays as it is. */
static int cfi_same_again(const struct cfi_memo *old, uintptr_t rbp, uintptr_t lo)
{
    const struct cfi_state *st = old->st;
    if (old->end == CFI_END_LOW_RA)
        return 0;
    for (unsigned i = 0; i < old->n; i++) {
        uintptr_t how = st[i].how, rbp_at = how & ~CFI_HOW_CFA_RBP;
        if (*(const uintptr_t *)(st[i + 1].rsp - 8) != st[i + 1].key)
            return 0;
        if (HS_UNLIKELY(how)) {
            if (((how & CFI_HOW_CFA_RBP) && rbp != st[i].rbp) || (rbp_at && rbp_at < lo))
                return 0;
            if (rbp_at)
                rbp = *(const uintptr_t *)rbp_at;
        }
    }
    return 1;
}

/* The walk from the state (key, rsp, rbp): key is an IP + 1.  With tag
 * (may be NULL): when the walk would repeat the memo's exactly and the
 * caller has named that result (cfi_name), *tag gets the name and ip[] is
 * left alone; else *tag is CFI_NO_TAG. */
static int cfi_walk_key(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
                        unsigned max, uint32_t *tag)
{
    if (tag)
        *tag = CFI_NO_TAG;
    cfi_memo.fresh = 0;
    if (!cfi.slot || top < rsp + 8 || cfi_check_unloads() < 0)
        return -1;
    struct cfi_memo *old = NULL, *nw = NULL;
    if (HS_LIKELY(cfi_memo.cap >= max) ||
        (!cfi_memo.cap && cfi_memo_setup(max + HS_UNWIND_SLACK) == 0)) {
        old = &cfi_memo.m[cfi_memo.cur];
        nw = &cfi_memo.m[cfi_memo.cur ^ 1];
        if (old->top8 != top - 8 || old->subs != atomic_load_explicit(&cfi.subs, memory_order_relaxed))
            old = NULL;
    }
    if (tag && old && old->tag != CFI_NO_TAG && old->max == max && old->st[0].rsp == rsp &&
        old->st[0].key == key && cfi_same_again(old, rbp, rsp)) {
        *tag = old->tag;
        cfi_memo.fresh = 1;
        cfi_memo.replayed += old->n;
        return (int)old->n;
    }
    struct cfi_state c = {.rsp = rsp, .key = key, .rbp = rbp};
    return cfi_steps(c, top - 8, ip, ip + max, old, nw);
}

/* Names the result of this thread's last walk, if it was one of ours. */
void cfi_name(uint32_t name)
{
    if (cfi_memo.fresh)
        cfi_memo.m[cfi_memo.cur].tag = name;
}

int cfi_walk(uintptr_t rip, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
             unsigned max)
{
    return cfi_walk_key(rip + 1, rsp, rbp, top, ip, max, NULL);
}

int cfi_walk_caller(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
                    unsigned max, uint32_t *tag)
{
    return cfi_walk_key(ra, cfa, rbp, top, ip, max, tag);
}

/* ---------------- life ---------------- */

static void cfi_after_fork_child(void)
{
    lock_drop(&cfi.lock); /* only this thread is left; the table is consistent */
}

int cfi_init(void)
{
    size_t bytes = sizeof(struct cfi_slot) << CFI_CACHE_BITS;
    if (cfi.slot)
        return 0;
    unsigned long long subs = 0;
    dl_iterate_phdr(cfi_subs_of, &subs);
    atomic_store(&cfi.subs, subs);
    struct cfi_slot *s = arena_map(bytes);
    if (!s)
        return -1;
    pthread_atfork(NULL, NULL, cfi_after_fork_child);
    cfi.slot = s;
    return 0;
}
