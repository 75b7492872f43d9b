/*
 * tracefail.c - failed allocations by trace (the snapshot's FAILED).
 *
 * A call of the malloc family that returned NULL (or whose n * size
 * overflowed, HSNAP_FAILED_OVERFLOW) is counted against the trace of its
 * stack, with the largest size asked: whole calls, never weighted by
 * sampling, kept beside the traces' sums (trace_read_stat) but apart from
 * them, as few programs ever see a failure.  The counts live in an open
 * addressing table keyed by trace id, at most half full, in arena blocks
 * that double when it fills; slots are never deleted (trace_clear zeroes
 * their counts), so a probe stops at the first empty slot.
 *   Lock: the traces' intern lock (trace_lock) guards the table: failures
 * are rare, and the snapshot's writer holds that lock while it reads the
 * traces and this table together (trace_fail_put).
 */
#include "recinner.h"

/* A trace's failed allocations: calls that returned NULL, and the
 * largest size asked (whole calls: never weighted). */
struct trace_fail {
    uint32_t id1;            /* the trace's id + 1; 0 = empty slot */
    uint32_t reserved;
    uint64_t count, max;
};
#define TRACE_FAIL_MIN 64u   /* the table's first size, in slots */

/* Under the intern lock (trace_lock), all of it. */
static struct {
    struct trace_fail *tab;  /* failed allocations by id (arena); NULL until one */
    uint32_t cap, n;         /* its slots (a power of two), used */
} trace_fails;

static inline uint32_t trace_fail_home(uint32_t id, uint32_t cap)
{
    return (uint32_t)(((uint64_t)(id + 1) * 0x9e3779b97f4a7c15ULL) >> 40) & (cap - 1);
}

/* The slot of trace id (empty when absent); lock held, table made. */
static struct trace_fail *trace_fail_slot(struct trace_fail *tab, uint32_t cap, uint32_t id)
{
    uint32_t k = trace_fail_home(id, cap);
    while (tab[k].id1 && tab[k].id1 != id + 1)
        k = (k + 1) & (cap - 1);
    return &tab[k];
}

/* Room for one more, at most half full; 0, or -1 out of memory. */
static int trace_fail_room(void)
{
    if (trace_fails.tab && (trace_fails.n + 1) * 2 <= trace_fails.cap)
        return 0;
    uint32_t cap = trace_fails.tab ? trace_fails.cap * 2 : TRACE_FAIL_MIN;
    struct trace_fail *tab = arena_alloc(cap * sizeof *tab);
    if (!tab)
        return -1;
    for (uint32_t k = 0; trace_fails.tab && k < trace_fails.cap; k++)
        if (trace_fails.tab[k].id1)
            *trace_fail_slot(tab, cap, trace_fails.tab[k].id1 - 1) = trace_fails.tab[k];
    if (trace_fails.tab)
        arena_free(trace_fails.tab, trace_fails.cap * sizeof *tab);
    trace_fails.tab = tab;
    trace_fails.cap = cap;
    return 0;
}

/* A call at trace id returned NULL for size bytes (HSNAP_FAILED_OVERFLOW:
 * n * size overflowed).  Takes the intern lock: failures are rare. */
void trace_fail(uint32_t id, uint64_t size)
{
    trace_lock();
    struct trace_fail *f =
        trace_fails.tab ? trace_fail_slot(trace_fails.tab, trace_fails.cap, id) : NULL;
    if ((!f || !f->id1) && trace_fail_room() == 0) {
        f = trace_fail_slot(trace_fails.tab, trace_fails.cap, id);
        f->id1 = id + 1;
        trace_fails.n++;
    }
    if (f && f->id1) {
        f->count++;
        if (size > f->max)
            f->max = size;
    }
    trace_unlock();
}

/* FAILED's payload (hsnap_format.h), for the traces below n, in id order;
 * nothing when none failed.  The intern lock held. */
void trace_fail_put(struct sbuf *b, uint32_t n)
{
    uint32_t count = 0;
    if (!trace_fails.n)
        return;
    for (uint32_t k = 0; k < trace_fails.cap; k++)
        count += trace_fails.tab[k].id1 && trace_fails.tab[k].count &&
                 trace_fails.tab[k].id1 <= n;
    if (!count || sbuf_reserve(b, 8 + (size_t)count * sizeof(struct hsnap_failed)) != 0)
        return;
    sbuf_u32(b, count);
    sbuf_u32(b, 0);
    for (uint32_t id = 0; id < n && count; id++) {
        const struct trace_fail *f = trace_fail_slot(trace_fails.tab, trace_fails.cap, id);
        if (!f->id1 || !f->count)
            continue;
        struct hsnap_failed it = {id, 0, f->count, f->max};
        sbuf_put(b, &it, sizeof it);
        count--;
    }
}

/* trace_clear: every count restarts from zero.  The slots stay (there are
 * no deletions: probes stop at an empty slot).  The intern lock held. */
void trace_fail_clear(void)
{
    for (uint32_t k = 0; trace_fails.tab && k < trace_fails.cap; k++)
        trace_fails.tab[k].count = trace_fails.tab[k].max = 0;
}
