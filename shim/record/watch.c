/*
 * watch.c - tracemalloc's traced memory since start(): the bytes of the
 * live blocks born in the watched epoch or later, and their peak
 * (heapsnap_watch_start, heapsnap_watch_memory).  The shim's own total
 * (trace_totals) is the whole process's, so "since start()" read from it
 * moved with the frees of older blocks; here a block counts at its birth
 * (hook_insert) and leaves at its death (trace_discharge_block) only when
 * its epoch is the watched one or later, so those frees do not move it.
 * Off (watch_from1 == 0, HS_RARE_WATCH clear), the hooks' plain path does
 * not look, and a birth and a death elsewhere cost one relaxed load; on,
 * one atomic add each, as tracemalloc takes a lock at each.  The peak is
 * raised only once this thread's held frees (pending.c), which happened
 * before the birth, are released: it stays exact, as the shim's own.
 * Weights are the sample's (sample_weigh), as the shim's total.
 */
#include "record.h"

_Atomic uint32_t watch_from1; /* the watched epoch + 1 (at most 65536); 0: off */
static _Atomic int64_t watch_cur;
static _Atomic uint64_t watch_peak;

void watch_start(uint32_t epoch)
{
    atomic_store(&watch_cur, 0);
    atomic_store(&watch_peak, 0);
    hs_rare_mark(HS_RARE_WATCH, 1); /* first: the hooks' plain path skips the watch */
    atomic_store(&watch_from1, (epoch < WATCH_EPOCH_MAX ? epoch : WATCH_EPOCH_MAX) + 1);
}

void watch_stop(void)
{
    atomic_store(&watch_from1, 0);
    atomic_store(&watch_cur, 0);
    atomic_store(&watch_peak, 0);
    hs_rare_mark(HS_RARE_WATCH, 0); /* last */
}

static void watch_raise(uint64_t cur)
{
    uint64_t peak = atomic_load_explicit(&watch_peak, memory_order_relaxed);
    while (cur > peak && !atomic_compare_exchange_weak(&watch_peak, &peak, cur))
        ;
}

void watch_add(int64_t size)
{
    uint64_t n, bytes;
    sample_weigh((uint64_t)(size < 0 ? -size : size), &n, &bytes);
    if (size < 0) {
        atomic_fetch_sub_explicit(&watch_cur, (int64_t)bytes, memory_order_relaxed);
        return;
    }
    int64_t cur = atomic_fetch_add_explicit(&watch_cur, (int64_t)bytes, memory_order_relaxed) +
                  (int64_t)bytes;
    while (cur > 0 && (uint64_t)cur > atomic_load_explicit(&watch_peak, memory_order_relaxed)) {
        if (!pend_settle_one()) { /* no held free left: a true peak */
            watch_raise((uint64_t)cur);
            return;
        }
        cur = atomic_load_explicit(&watch_cur, memory_order_relaxed);
    }
}

void watch_totals(uint64_t *current, uint64_t *peak)
{
    int64_t c = atomic_load(&watch_cur);
    uint64_t cur = c < 0 ? 0 : (uint64_t)c, p = atomic_load(&watch_peak);
    *current = cur;
    *peak = p > cur ? p : cur;
}

/* tracemalloc.reset_peak; clear_traces forgets the blocks (cur 0 too). */
void watch_reset_peak(int clear)
{
    if (clear)
        atomic_store(&watch_cur, 0);
    int64_t c = atomic_load(&watch_cur);
    atomic_store(&watch_peak, c < 0 ? 0 : (uint64_t)c);
}

void trace_discharge_block(const struct tbl_entry *e)
{
    watch_died(e->epoch, e->size);
    trace_discharge(e->trace, e->size);
}
