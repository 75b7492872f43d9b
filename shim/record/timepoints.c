/*
 * timepoints.c - the heap over time (TIMELINE): a bounded array of (t,
 * traced bytes) points, appended from the allocation slow path (life_tick)
 * at most every step, 10 ms at first; when it is full, every other point
 * is dropped and the step doubles.  Its lock is entry 7 of root.h's order.
 *   A point counts what the program holds: the traced bytes less the frees
 * the threads hold back (pend_held_bytes, read before the lock: it takes
 * table stripes).  The heap falls as well as rises: a thread whose frees
 * fold (TRACE_FOLD) asks for a point (timeline_fall), within
 * the step too, at most once a step; and the helper thread, when it wakes
 * (every 0.1 s or sooner while it runs), adds one when the heap moved since
 * the last (timeline_idle): a block freed, or held back, by a thread that
 * then idles.  Without the helper (HEAPSNAP_SITELINE=0, HEAPSNAP_STATE=0,
 * no interval nor signal), a fall after the early point, or a free held
 * by a thread that then idles, waits for the next point or the exit.
 */
#include <string.h>

#include "record.h"

#define TL_MAX 4096u
#define TL_STEP_NS 10000000ull /* 10 ms */

static struct {
    lock_t lock;
    unsigned n;              /* points used */
    uint64_t step;           /* minimum spacing, ns */
    atomic_int early;        /* the last point came within the step (a fall's) */
    _Atomic uint64_t last;   /* monotonic time of the last point */
    _Atomic uint64_t lastv;  /* ... and its bytes */
    struct hsnap_point p[TL_MAX];
} tl; /* in .bss: as .data, 64 KiB of file pages counted in the peak RSS */

void timeline_init(void)
{
    lock_take(&tl.lock);
    tl.n = 0;
    tl.step = TL_STEP_NS;
    atomic_store(&tl.early, 0);
    lock_drop(&tl.lock);
}

static void tl_halve(void)
{
    for (unsigned i = 0; i < tl.n / 2; i++)
        tl.p[i] = tl.p[2 * i];
    tl.n /= 2;
    tl.step *= 2;
}

/* What the program holds now: the traced bytes less the held frees. */
static uint64_t tl_bytes(void)
{
    uint64_t cur, held = pend_held_bytes(); /* no lock of ours held: it takes stripes */
    trace_totals(&cur, NULL);
    return cur > held ? cur - held : 0;
}

/* Appends a point of cur bytes at now when the step has passed since the
 * last, or (early) once within it. */
static void tl_point(uint64_t now, uint64_t cur, int early)
{
    if (!lock_try(&tl.lock))
        return;
    uint64_t last = atomic_load_explicit(&tl.last, memory_order_relaxed);
    int due = now - last >= tl.step;
    if (now < last) /* another thread's point came after our clock's read */
        due = early = 0;
    if (due || (early && !atomic_load_explicit(&tl.early, memory_order_relaxed))) {
        if (tl.n == TL_MAX)
            tl_halve();
        tl.p[tl.n++] = (struct hsnap_point){clock_uptime_ns(now), cur};
        atomic_store_explicit(&tl.early, !due, memory_order_relaxed);
        atomic_store(&tl.last, now);
        atomic_store(&tl.lastv, cur);
    }
    lock_drop(&tl.lock);
}

void timeline_tick(void)
{
    uint64_t now = clock_mono_ns();
    if (now - atomic_load_explicit(&tl.last, memory_order_relaxed) < tl.step)
        return;
    tl_point(now, tl_bytes(), 0);
}

void timeline_fall(void)
{
    uint64_t now = clock_mono_ns();
    if (now - atomic_load_explicit(&tl.last, memory_order_relaxed) < tl.step &&
        atomic_load_explicit(&tl.early, memory_order_relaxed))
        return; /* this step's early point is taken: the next point shows it */
    tl_point(now, tl_bytes(), 1);
}

void timeline_idle(void)
{
    uint64_t now = clock_mono_ns();
    if (now - atomic_load_explicit(&tl.last, memory_order_relaxed) < tl.step)
        return;
    uint64_t cur = tl_bytes();
    if (cur != atomic_load_explicit(&tl.lastv, memory_order_relaxed))
        tl_point(now, cur, 0);
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
