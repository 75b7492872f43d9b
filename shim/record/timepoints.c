/*
 * timepoints.c - the heap over time (TIMELINE): a bounded array of (t,
 * traced bytes) points, appended from the allocation slow path (life_tick)
 * at most every step, 10 ms at first; when it is full, every other point
 * is dropped and the step doubles.  Its lock is entry 7 of root.h's order.
 */
#include <string.h>

#include "record.h"

#define TL_MAX 4096u
#define TL_STEP_NS 10000000ull /* 10 ms */

static struct {
    lock_t lock;
    unsigned n;              /* points used */
    uint64_t step;           /* minimum spacing, ns */
    _Atomic uint64_t last;   /* monotonic time of the last point */
    struct hsnap_point p[TL_MAX];
} tl; /* in .bss: as .data, 64 KiB of file pages counted in the peak RSS */

void timeline_init(void)
{
    lock_take(&tl.lock);
    tl.n = 0;
    tl.step = TL_STEP_NS;
    lock_drop(&tl.lock);
}

static void tl_halve(void)
{
    for (unsigned i = 0; i < tl.n / 2; i++)
        tl.p[i] = tl.p[2 * i];
    tl.n /= 2;
    tl.step *= 2;
}

void timeline_tick(void)
{
    uint64_t now = clock_mono_ns();
    if (now - atomic_load_explicit(&tl.last, memory_order_relaxed) < tl.step)
        return;
    if (!lock_try(&tl.lock))
        return;
    if (now - tl.last >= tl.step) {
        if (tl.n == TL_MAX)
            tl_halve();
        uint64_t cur;
        trace_totals(&cur, NULL);
        tl.p[tl.n++] = (struct hsnap_point){clock_uptime_ns(now), cur};
        atomic_store(&tl.last, now);
    }
    lock_drop(&tl.lock);
}

/* Copies up to cap points; returns how many there are (cap 0: just count). */
unsigned timeline_copy(struct hsnap_point *dst, unsigned cap)
{
    unsigned n = tl.n < cap ? tl.n : cap;
    if (dst)
        memcpy(dst, tl.p, n * sizeof *dst);
    return cap ? n : tl.n;
}

void timeline_lock(void)
{
    lock_take(&tl.lock);
}

int timeline_lock_bounded(unsigned tries)
{
    return lock_take_bounded(&tl.lock, tries);
}

void timeline_unlock(void)
{
    lock_drop(&tl.lock);
}
