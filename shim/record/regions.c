/*
 * regions.c - the anonymous memory the program mapped itself (the mmap
 * kind): a sorted array of disjoint page ranges [lo, hi), each charged to
 * the mmap-kind twin of the stack that mapped it (traces.c's
 * trace_twin_new, HSNAP_TRACE_MMAP), kept apart from the live-block table
 * because ranges split: an munmap of a range's middle leaves two, a
 * MAP_FIXED over part of one cuts it.  maphooks.c feeds it; the snapshot
 * and the site line add the ranges to their live sums (reg_foreach), never
 * to BLOCKS: the leak check does not see them (they are roots, as any
 * mapping of the program: leak/roots.c).
 *   Address space reserved (PROT_NONE: the CUDA driver, jemalloc, Go, the
 * JVM) is a range of trace REG_RESERVED: in the array, so that its pieces
 * split, move and leave as any range's, but charged to no trace (never in
 * the heap, the peak or top) and summed apart when read (reg_reserved).  A piece
 * made accessible (mprotect, or mmap MAP_FIXED over it) becomes the mmap
 * kind at the committing call's stack; one made PROT_NONE again goes back
 * (reg_protect).
 *
 * One lock (root.h: 5b, after the table, before the arena, whose blocks it
 * takes under it); the charges and discharges a change makes are handed to
 * traces.c after it is dropped.  The array and the twin map live in the
 * arena; mapping calls are system calls, rare next to malloc, so a binary
 * search and a memmove are cheap enough, and the malloc path pays nothing.
 */
#include <string.h>
#include <sys/mman.h>

#include "record.h"

#define REG_MIN 64u       /* the array's first capacity, in ranges */
#define REG_TWINS_MIN 64u /* the twin map's first size, in slots */

struct reg_range {
    uintptr_t lo, hi; /* page-aligned, lo < hi */
    uint32_t trace;   /* mmap-kind trace id */
    uint32_t epoch;   /* birth epoch */
};

struct reg_twin {
    uint32_t id1;   /* a trace's id + 1; 0 = empty slot */
    uint32_t twin;  /* its mmap-kind twin's id */
};

static struct {
    lock_t lock;              /* everything below */
    struct reg_range *r;      /* sorted by lo, disjoint (arena) */
    uint32_t n, cap;
    struct reg_twin *tw;      /* trace id -> twin, open-addressed (arena) */
    uint32_t tw_n, tw_cap;
    _Atomic uint32_t file_maps; /* file-backed mappings made (META) */
} reg;

/* ---------------- the array ---------------- */

/* The first range whose hi is above a (n when none). */
static uint32_t reg_first_above(uintptr_t a)
{
    uint32_t lo = 0, hi = reg.n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (reg.r[mid].hi <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Room for k more ranges; 0, or -1 out of memory.  Lock held. */
static int reg_room(uint32_t k)
{
    if (reg.n + k <= reg.cap)
        return 0;
    uint32_t cap = reg.cap ? reg.cap * 2 : REG_MIN;
    while (cap < reg.n + k)
        cap *= 2;
    struct reg_range *r = arena_alloc((size_t)cap * sizeof *r);
    if (!r)
        return -1;
    if (reg.r) {
        memcpy(r, reg.r, (size_t)reg.n * sizeof *r);
        arena_free(reg.r, (size_t)reg.cap * sizeof *r);
    }
    reg.r = r;
    reg.cap = cap;
    return 0;
}

static void reg_open(uint32_t i, uint32_t k) /* k free slots at i */
{
    memmove(&reg.r[i + k], &reg.r[i], (size_t)(reg.n - i) * sizeof *reg.r);
    reg.n += k;
}

static void reg_close(uint32_t i, uint32_t k) /* k slots at i gone */
{
    memmove(&reg.r[i], &reg.r[i + k], (size_t)(reg.n - i - k) * sizeof *reg.r);
    reg.n -= k;
}

/* One range's part cut away, and what is left of the range: 0, 1 or 2
 * pieces (trace_recut's left). */
struct reg_cutout {
    struct reg_range cut;
    uint64_t left[2];
    uint32_t nleft;
    uint32_t join; /* REG_JOIN_*: where the left pieces lie */
};

/* Cuts [lo, hi) out of the ranges, at most max of them: the parts cut
 * into out, their number returned; *rest set when ranges over [lo, hi)
 * are left for another call.  A range split in two takes a slot more:
 * when none can be had, its back part is dropped too (reported cut).
 * Lock held. */
static uint32_t reg_cut(uintptr_t lo, uintptr_t hi, struct reg_cutout *out, uint32_t max,
                        int *rest)
{
    uint32_t i = reg_first_above(lo), got = 0;
    while (got < max && i < reg.n && reg.r[i].lo < hi) {
        struct reg_range *x = &reg.r[i];
        struct reg_cutout o = {.cut = *x};
        o.cut.lo = x->lo > lo ? x->lo : lo;
        o.cut.hi = x->hi < hi ? x->hi : hi;
        if (x->lo < lo && x->hi > hi && reg_room(1) == 0) { /* a hole in the middle */
            x = &reg.r[i];
            reg_open(i + 1, 1);
            reg.r[i + 1] = *x;
            reg.r[i + 1].lo = hi;
            x->hi = lo;
            o.left[o.nleft++] = lo - x->lo;
            o.left[o.nleft++] = reg.r[i + 1].hi - hi;
            o.join = REG_JOIN_LO | REG_JOIN_HI;
            i += 2;
        } else if (x->lo < lo) { /* its back (and, out of memory, all after lo) */
            o.cut.hi = x->hi;
            x->hi = lo;
            o.left[o.nleft++] = lo - x->lo;
            o.join = REG_JOIN_LO;
            i++;
        } else if (x->hi > hi) { /* its front */
            x->lo = hi;
            o.left[o.nleft++] = x->hi - hi;
            o.join = REG_JOIN_HI;
            i++;
        } else {
            reg_close(i, 1);
        }
        out[got++] = o;
    }
    *rest = i < reg.n && reg.r[i].lo < hi;
    return got;
}

/* ---------------- the twin map ---------------- */

static struct reg_twin *reg_twin_slot(struct reg_twin *tab, uint32_t cap, uint32_t id)
{
    uint32_t k = (uint32_t)(((uint64_t)(id + 1) * 0x9e3779b97f4a7c15ULL) >> 40) & (cap - 1);
    while (tab[k].id1 && tab[k].id1 != id + 1)
        k = (k + 1) & (cap - 1);
    return &tab[k];
}

static int reg_twin_room(void)
{
    if (reg.tw && (reg.tw_n + 1) * 2 <= reg.tw_cap)
        return 0;
    uint32_t cap = reg.tw ? reg.tw_cap * 2 : REG_TWINS_MIN;
    struct reg_twin *tab = arena_alloc((size_t)cap * sizeof *tab);
    if (!tab)
        return -1;
    for (uint32_t k = 0; reg.tw && k < reg.tw_cap; k++)
        if (reg.tw[k].id1)
            *reg_twin_slot(tab, cap, reg.tw[k].id1 - 1) = reg.tw[k];
    if (reg.tw)
        arena_free(reg.tw, (size_t)reg.tw_cap * sizeof *tab);
    reg.tw = tab;
    reg.tw_cap = cap;
    return 0;
}

/* The mmap-kind twin of trace id (made at first use), or -1 out of
 * memory.  Takes the lock, then (a new twin) the intern lock alone. */
int64_t reg_twin(uint32_t id)
{
    lock_take(&reg.lock);
    struct reg_twin *s = reg.tw ? reg_twin_slot(reg.tw, reg.tw_cap, id) : NULL;
    int64_t twin = s && s->id1 ? (int64_t)s->twin : -1;
    lock_drop(&reg.lock);
    if (twin >= 0)
        return twin;
    uint32_t w;
    if (trace_twin_new(id, HSNAP_TRACE_MMAP, &w) != 0)
        return -1;
    lock_take(&reg.lock);
    s = reg_twin_room() == 0 ? reg_twin_slot(reg.tw, reg.tw_cap, id) : NULL;
    if (s && s->id1) {
        w = s->twin; /* another thread made one first: its record stays unused */
    } else if (s) {
        s->id1 = id + 1;
        s->twin = w;
        reg.tw_n++;
    }
    lock_drop(&reg.lock);
    return w;
}

/* ---------------- changes ---------------- */

#define REG_CUT_MAX REG_PIECES /* ranges one change discharges one by one */

/* What a cut removed, out of the books (lock dropped): each range's sums
 * follow its pieces (trace_recut); a reserved range's are no trace's. */
static void reg_discharge(const struct reg_cutout *cut, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        if (cut[k].cut.trace != REG_RESERVED)
            trace_recut(cut[k].cut.trace,
                        cut[k].cut.hi - cut[k].cut.lo + cut[k].left[0] + cut[k].left[1],
                        cut[k].left, cut[k].nleft);
}

/* [lo, hi) is a new mapping of trace (an mmap-kind id; UINT32_MAX: one
 * not tracked, a file's or one not sampled; REG_RESERVED: address space
 * only, charged to nothing): whatever was tracked there is gone (MAP_FIXED
 * over it, or unmapped behind the hooks' back), and the new range
 * charged, born in epoch. */
void reg_add(uintptr_t lo, uintptr_t hi, uint32_t trace, uint32_t epoch)
{
    struct reg_cutout cut[REG_CUT_MAX];
    uint32_t n, added = 0;
    int rest;
    lock_take(&reg.lock);
    while (n = reg_cut(lo, hi, cut, REG_CUT_MAX, &rest), rest) {
        lock_drop(&reg.lock); /* the charges are made with no lock held */
        reg_discharge(cut, n);
        lock_take(&reg.lock);
    }
    if (trace != UINT32_MAX && reg_room(1) == 0) {
        uint32_t i = reg_first_above(lo);
        reg_open(i, 1);
        reg.r[i] = (struct reg_range){lo, hi, trace, epoch};
        added = 1;
    }
    lock_drop(&reg.lock);
    reg_discharge(cut, n);
    if (added && trace != REG_RESERVED)
        trace_charge(trace, hi - lo);
}

/* [lo, hi) is about to be unmapped: out of the books first, so that
 * another thread's new mapping at the same addresses is not cut. */
void reg_remove(uintptr_t lo, uintptr_t hi)
{
    struct reg_cutout cut[REG_CUT_MAX];
    uint32_t n;
    int rest;
    do {
        lock_take(&reg.lock);
        n = reg_cut(lo, hi, cut, REG_CUT_MAX, &rest);
        lock_drop(&reg.lock);
        reg_discharge(cut, n);
    } while (rest);
}

/* The first range over [lo, hi) of the other kind than trace's (reserved
 * or not): its piece inside [lo, hi) into *at; 0 when none.  Lock held. */
static int reg_other(uintptr_t lo, uintptr_t hi, uint32_t trace, struct reg_range *at)
{
    for (uint32_t i = reg_first_above(lo); i < reg.n && reg.r[i].lo < hi; i++)
        if ((reg.r[i].trace == REG_RESERVED) != (trace == REG_RESERVED)) {
            *at = reg.r[i];
            at->lo = at->lo > lo ? at->lo : lo;
            at->hi = at->hi < hi ? at->hi : hi;
            return 1;
        }
    return 0;
}

/* The bytes of [lo, hi) reserved now (mprotect's hook: a stack is walked
 * only when something is to commit). */
uint64_t reg_reserved_in(uintptr_t lo, uintptr_t hi)
{
    uint64_t b = 0;
    lock_take(&reg.lock);
    for (uint32_t i = reg_first_above(lo); i < reg.n && reg.r[i].lo < hi; i++)
        if (reg.r[i].trace == REG_RESERVED)
            b += (reg.r[i].hi < hi ? reg.r[i].hi : hi) - (reg.r[i].lo > lo ? reg.r[i].lo : lo);
    lock_drop(&reg.lock);
    return b;
}

/* [lo, hi)'s protection changed (mprotect): to PROT_NONE (trace
 * REG_RESERVED), its accessible pieces in the books are decommitted
 * (discharged, reserved again); to access (trace: the committing call's
 * mmap-kind id), its reserved pieces are committed, each charged to trace,
 * born in epoch (REG_UNTRACKED: not recorded, they leave the books).
 * Pieces of the same kind keep their site; what the books do not hold
 * (malloc's, a file's) is left alone. */
void reg_protect(uintptr_t lo, uintptr_t hi, uint32_t trace, uint32_t epoch)
{
    struct reg_cutout cut[REG_CUT_MAX];
    struct reg_range piece;
    uint64_t charged[REG_CUT_MAX];
    int again = 1, rest;
    while (again) { /* REG_CUT_MAX pieces at a time: the charges wait for the lock's drop */
        uint32_t n = 0, c = 0;
        again = 0;
        lock_take(&reg.lock);
        while (reg_other(lo, hi, trace, &piece) && reg_room(2) == 0) {
            if (n == REG_CUT_MAX) {
                again = 1;
                break;
            }
            reg_cut(piece.lo, piece.hi, &cut[n++], 1, &rest);
            if (trace == REG_UNTRACKED)
                continue; /* committed, not recorded: out of the reserved total */
            uint32_t i = reg_first_above(piece.lo);
            reg_open(i, 1);
            reg.r[i] = (struct reg_range){piece.lo, piece.hi, trace, epoch};
            if (trace != REG_RESERVED)
                charged[c++] = piece.hi - piece.lo;
        }
        lock_drop(&reg.lock);
        reg_discharge(cut, n);
        for (uint32_t k = 0; k < c; k++)
            trace_charge(trace, charged[k]);
    }
}

/* mremap's old range leaves the books: its pieces into out, at most
 * REG_PIECES of them (the lock is dropped; each stays charged as a range of
 * its own, the rest of its range's sums following what is left of that:
 * trace_recut), for the caller to discharge or restore; pieces past those
 * are gone for good.  The number of pieces, 0 when nothing there was
 * tracked. */
uint32_t reg_take(uintptr_t lo, uintptr_t hi, struct reg_piece *out)
{
    struct reg_cutout cut[REG_PIECES];
    int rest;
    lock_take(&reg.lock);
    uint32_t n = reg_cut(lo, hi, cut, REG_PIECES, &rest);
    lock_drop(&reg.lock);
    for (uint32_t k = 0; k < n; k++) {
        const struct reg_range *x = &cut[k].cut;
        uint64_t left[3] = {cut[k].left[0], cut[k].left[1], 0};
        left[cut[k].nleft] = x->hi - x->lo; /* the piece taken, a range until its end */
        out[k] = (struct reg_piece){x->lo, x->hi, x->trace, x->epoch, cut[k].join};
        if (x->trace != REG_RESERVED && cut[k].nleft)
            trace_recut(x->trace, left[0] + left[1] + left[2], left, cut[k].nleft + 1);
    }
    if (rest) /* past what a caller restores: gone for good */
        reg_remove(lo, hi);
    return n;
}

/* Whether range x may take back piece p (the range p was cut from, or what
 * is left of it: same trace, same birth).  Lock held. */
static int reg_joins(const struct reg_range *x, const struct reg_piece *p)
{
    return x->trace == p->trace && x->epoch == p->epoch;
}

/* Piece p back in the books, joined to what is left of its range on each
 * side it was cut from (p->join) and still there, so that the ranges are
 * as before the cut: the bytes of the ranges joined into parts (p's
 * among them), their number returned (1: p alone, a range of its own);
 * -1 when p needs a slot and none can be had.  Lock held. */
static int reg_put_back(const struct reg_piece *p, uint64_t parts[3])
{
    uint32_t i = reg_first_above(p->lo), n = 0;
    struct reg_range *below = i > 0 && reg.r[i - 1].hi == p->lo ? &reg.r[i - 1] : NULL;
    struct reg_range *above = i < reg.n && reg.r[i].lo == p->hi ? &reg.r[i] : NULL;
    below = (p->join & REG_JOIN_LO) && below && reg_joins(below, p) ? below : NULL;
    above = (p->join & REG_JOIN_HI) && above && reg_joins(above, p) ? above : NULL;
    if (below)
        parts[n++] = below->hi - below->lo;
    parts[n++] = p->hi - p->lo;
    if (above)
        parts[n++] = above->hi - above->lo;
    if (below && above) {
        below->hi = above->hi;
        reg_close(i, 1);
    } else if (below) {
        below->hi = p->hi;
    } else if (above) {
        above->lo = p->lo;
    } else {
        if (reg_room(1) != 0)
            return -1;
        reg_open(i, 1);
        reg.r[i] = (struct reg_range){p->lo, p->hi, p->trace, p->epoch};
    }
    return (int)n;
}

/* The pieces reg_take took, back in the books (mremap failed): each
 * joined again to what its cut left of its range, the ranges and their
 * sums as before the take (trace_rejoin); a piece with no room left
 * leaves the books. */
void reg_restore(const struct reg_piece *p, uint32_t n)
{
    uint64_t parts[REG_PIECES][3];
    int joined[REG_PIECES];
    lock_take(&reg.lock);
    for (uint32_t k = 0; k < n; k++)
        joined[k] = reg_put_back(&p[k], parts[k]);
    lock_drop(&reg.lock);
    for (uint32_t k = 0; k < n; k++) {
        if (p[k].trace == REG_RESERVED)
            continue;
        if (joined[k] < 0)
            trace_discharge(p[k].trace, p[k].hi - p[k].lo);
        else if (joined[k] > 1)
            trace_rejoin(p[k].trace, parts[k], (unsigned)joined[k]);
    }
}

void reg_file_map(void)
{
    atomic_fetch_add_explicit(&reg.file_maps, 1, memory_order_relaxed);
}

uint32_t reg_file_maps(void)
{
    return atomic_load_explicit(&reg.file_maps, memory_order_relaxed);
}

/* ---------------- readers ---------------- */

/* Each live range to fn (trace, bytes), under the lock: fn takes no lock.
 * tries: 0 waits, else a bounded attempt (the fatal path); 0, or -1 (the
 * lock could not be had). */
int reg_foreach(void (*fn)(uint32_t trace, uint64_t bytes, void *arg), void *arg,
                unsigned tries)
{
    if (tries ? !lock_take_bounded(&reg.lock, tries) : (lock_take(&reg.lock), 0))
        return -1;
    for (uint32_t i = 0; i < reg.n; i++)
        if (reg.r[i].trace != REG_RESERVED)
            fn(reg.r[i].trace, reg.r[i].hi - reg.r[i].lo, arg);
    lock_drop(&reg.lock);
    return 0;
}

/* Whether a mapping was ever tracked (an mmap-kind twin made): before
 * one, no trace is of the mmap kind (sl_fill reads no kind). */
int reg_ever_tracked(void)
{
    return __atomic_load_n(&reg.tw_n, __ATOMIC_RELAXED) != 0;
}

/* The live ranges and their bytes (tests, heapsnap info's totals); of
 * the reserved ranges when reserved is set, else of the others. */
static void reg_sum(int reserved, uint64_t *ranges, uint64_t *bytes)
{
    uint64_t b = 0, n = 0;
    lock_take(&reg.lock);
    for (uint32_t i = 0; i < reg.n; i++)
        if ((reg.r[i].trace == REG_RESERVED) == reserved)
            b += reg.r[i].hi - reg.r[i].lo, n++;
    lock_drop(&reg.lock);
    *ranges = n;
    *bytes = b;
}

void reg_totals(uint64_t *ranges, uint64_t *bytes)
{
    reg_sum(0, ranges, bytes);
}

/* The address space reserved now (the snapshot's MAPPED head). */
void reg_reserved(uint64_t *ranges, uint64_t *bytes)
{
    reg_sum(1, ranges, bytes);
}

/* The bytes of [lo, hi) resident now (mincore: a system call, no
 * allocation; a page it cannot say counts resident).  Lock held: the
 * vector is one buffer. */
static uint64_t reg_resident(uintptr_t lo, uintptr_t hi)
{
    static unsigned char vec[4096];
    const uintptr_t page = 4096;
    uint64_t in = 0;
    for (uintptr_t a = lo; a < hi;) {
        uintptr_t n = (hi - a) / page < sizeof vec ? (hi - a) / page : sizeof vec;
        if (!n)
            break;
        if (mincore((void *)a, n * page, vec) != 0)
            in += n * page;
        else
            for (uintptr_t k = 0; k < n; k++)
                in += (vec[k] & 1) ? page : 0;
        a += n * page;
    }
    return in;
}

/* Each accessible range's resident bytes now to fn (trace, bytes, arg),
 * under the lock, as reg_foreach. */
void reg_foreach_resident(void (*fn)(uint32_t trace, uint64_t bytes, void *arg), void *arg)
{
    lock_take(&reg.lock);
    for (uint32_t i = 0; i < reg.n; i++)
        if (reg.r[i].trace != REG_RESERVED)
            fn(reg.r[i].trace, reg_resident(reg.r[i].lo, reg.r[i].hi), arg);
    lock_drop(&reg.lock);
}

/* trace_clear: every range forgotten (its bytes as trace_forget's). */
void reg_clear(void)
{
    lock_take(&reg.lock);
    uint32_t k = 0;
    for (uint32_t i = 0; i < reg.n; i++)
        if (reg.r[i].trace != REG_RESERVED)
            trace_forget(reg.r[i].hi - reg.r[i].lo);
        else
            reg.r[k++] = reg.r[i]; /* address space stays reserved */
    reg.n = k;
    lock_drop(&reg.lock);
}

void reg_lock(void) /* fork: the child keeps the parent's ranges (same mappings) */
{
    lock_take(&reg.lock);
}

void reg_unlock(void)
{
    lock_drop(&reg.lock);
}
