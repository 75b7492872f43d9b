/*
 * siteline.c - memory over time, per site (the SITELINE section): at each
 * point the traced heap, the resident set, and the live bytes of the
 * SL_SITES largest traces, the rest summed as "other".
 *
 * Points are taken by the helper thread (life.c), never by a hook, into
 * the helper's scratch, and /proc/self/statm read with raw system calls
 * (no stdio, no allocation, no fd kept).  A point's sums are the hooks'
 * per-trace lines (peak_live_bytes: traces times lines, whatever the
 * heap's size) less the frees the threads hold back (pend_held_foreach:
 * the program freed them), when the lines are the table's
 * (peak_lines_exact) and cost less than a walk (sl_way); else a walk of
 * the live blocks (pend_foreach, each stripe copied under its lock) and the
 * mapped ranges.  Both give the same bytes (test
 * sitelive_last_point_is_the_snapshots_lines; HEAPSNAP_SITELINE_CHECK
 * compares them at each snapshot).  A point with no change since the last
 * reuses its sites.  Schedule: a point every step (HEAPSNAP_SITELINE); when SL_MAX
 * are kept, every other one goes (never the highest) and the step
 * doubles.  Points are paid for (HEAPSNAP_SITELINE_COST): one is skipped
 * until the process used 100 times its way's CPU time since the last, or
 * ten times that passed on the clock.  A snapshot adds a point of its own.
 *   Lock: sl.lock (after timeline in root.h), held only to append or copy
 * points; the sums are had under none of ours.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "snapshot.h"

#define SL_FATAL_TRIES 2000u /* lock attempts on the fatal-signal path */
/* sl_way's costs, in a line's cell added (peak_live_bytes' inner loop):
 * what the lines pay a trace beyond a walk (the clamp, the scratch's page
 * faults for traces that hold nothing), and a live block's visit in a
 * walk (the table's slot, the held and fresh filters, trace_live_add), as
 * the kept100k workload's helper thread counts them under callgrind */
#define SL_TRACE_CELLS 6u
#define SL_BLOCK_CELLS 12u

enum { SL_LINES, SL_WALK, SL_WAYS }; /* how a point's sums are had */

static struct {
    lock_t lock;              /* n, step, pt */
    unsigned n;               /* points used */
    uint64_t step;            /* ns between points now; 0 = not started */
    uint64_t cost_ns[SL_WAYS]; /* a point's CPU time, by way: the lesser of its last two */
    uint64_t last_cpu[SL_WAYS]; /* the last point's of that way */
    unsigned way;             /* the last point's */
    uint64_t summed_at;       /* monotonic time of the last point's sums' end */
    uint64_t pcpu_at;         /* the process's CPU time then */
    _Atomic uint64_t taken[SL_WAYS]; /* points taken each way (HEAPSNAP_VERBOSE) */
    _Atomic uint64_t checked, differed; /* HEAPSNAP_SITELINE_CHECK's traces */
    _Atomic uint64_t due;     /* monotonic time of the next point */
    _Atomic int ended;        /* the exit snapshot has begun (sl_end) */
    /* the helper's own (one helper per process): */
    struct trace_live *live;  /* a point's scratch, cap entries (arena_map), or NULL */
    uint32_t cap;
    uint64_t ops;             /* allocations + frees at the last point's sums */
    uint64_t held;            /* ... and pend_held_sig then */
    struct sl_point pt[SL_MAX];
} sl;

uint64_t sl_step_ns(void)
{
    return (uint64_t)opt_int(OPT_SITELINE) * 1000000ull;
}

/* ---------------- the points ---------------- */

/* Keeps every other of the n points (the first of each pair), except that
 * the one with the highest heap stays wherever it is; returns how many are
 * left (n / 2, rounded up). */
unsigned sl_halve(struct sl_point *pt, unsigned n)
{
    unsigned top = 0, k = 0;
    for (unsigned i = 1; i < n; i++)
        if (pt[i].p.heap > pt[top].p.heap)
            top = i;
    for (unsigned i = 0; i < n; i += 2)
        pt[k++] = pt[i + 1 == top ? top : i];
    return k;
}

/* Appends a point, halving first when full.  Lock held. */
void sl_record(const struct sl_point *p)
{
    if (!sl.step)
        sl.step = sl_step_ns();
    if (sl.n == SL_MAX) {
        sl.n = sl_halve(sl.pt, sl.n);
        sl.step *= 2;
    }
    sl.pt[sl.n++] = *p;
}

/* The k largest of live[0..n) by bytes into top[0..k), biggest first (ties:
 * the lower id), unused slots NONE; returns the sum of all n. */
uint64_t sl_top(const struct trace_live *live, uint32_t n, struct hsnap_siteline_site *top,
                unsigned k)
{
    unsigned used = 0;
    uint64_t sum = 0;
    for (uint32_t id = 0; id < n; id++) {
        uint64_t b = live[id].bytes;
        sum += b;
        if (!b || (used == k && b <= top[k - 1].bytes))
            continue;
        unsigned i = used < k ? used++ : k - 1;
        for (; i > 0 && top[i - 1].bytes < b; i--)
            top[i] = top[i - 1];
        top[i] = (struct hsnap_siteline_site){id, 0, b};
    }
    for (unsigned i = used; i < k; i++)
        top[i] = (struct hsnap_siteline_site){HSNAP_SITELINE_NONE, 0, 0};
    return sum;
}

/* A point of the live sums live[0..n): heap, sites, other, and the bytes
 * of the mmap kind's traces (none, and no trace's flags read, before a
 * mapping was tracked: reg_ever_tracked). */
static void sl_fill(struct sl_point *pt, const struct trace_live *live, uint32_t n)
{
    unsigned flags;
    uint32_t maps = reg_ever_tracked() ? n : 0;
    pt->p.heap = sl_top(live, n, pt->site, SL_SITES);
    pt->p.other = pt->p.heap;
    for (unsigned i = 0; i < SL_SITES; i++)
        pt->p.other -= pt->site[i].bytes;
    pt->mapped = 0;
    for (uint32_t id = 0; id < maps; id++)
        if (live[id].bytes && (trace_stack(id, NULL, 0, &flags), flags & HSNAP_TRACE_MMAP))
            pt->mapped += live[id].bytes;
}

/* ---------------- sampling (the helper thread) ---------------- */

/* The resident set in bytes from /proc/self/statm ("size resident ..." in
 * pages); 0 when it cannot be read. */
static uint64_t sl_rss(void)
{
    char buf[160];
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    long n = syscall(SYS_read, (int)fd, buf, sizeof buf - 1);
    syscall(SYS_close, (int)fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *s = buf;
    while (*s && *s != ' ')
        s++;
    uint64_t pages = 0;
    for (s++; *s >= '0' && *s <= '9'; s++)
        pages = pages * 10 + (uint64_t)(*s - '0');
    unsigned long page = getauxval(AT_PAGESZ);
    return pages * (page ? page : 4096);
}

static int sl_visit(const struct tbl_entry *e, void *arg)
{
    struct trace_live *live = arg;
    trace_live_add(live, sl.cap, e->trace, e->size);
    return 0;
}

static void sl_visit_range(uint32_t trace, uint64_t bytes, void *arg) /* reg_foreach */
{
    trace_live_add(arg, sl.cap, trace, bytes);
}

/* The scratch array for cap traces, fresh from mmap (zero); 0, or -1 out
 * of memory.  Mapped for the point only (sl_scratch_drop after it): kept
 * between points, it would be the shim's own memory for the whole run, 16
 * bytes a trace, where a point's sums come every few seconds at most; the
 * faults count in the point's CPU time, which HEAPSNAP_SITELINE_COST
 * paces. */
static int sl_scratch(uint32_t cap)
{
    cap = cap ? cap : 1;
    struct trace_live *live = arena_map((size_t)cap * sizeof *live);
    if (!live)
        return -1;
    sl.live = live;
    sl.cap = cap;
    return 0;
}

static void sl_scratch_drop(void)
{
    arena_unmap(sl.live, (size_t)sl.cap * sizeof *sl.live);
    sl.live = NULL;
    sl.cap = 0;
}

/* Nothing was allocated or freed since the last walk: the last point's
 * sites hold, into pt.  1 when so. */
static int sl_unchanged(struct sl_point *pt, uint64_t *ops, uint64_t *held)
{
    uint64_t a, f;
    trace_alloc_counts(&a, &f);
    *ops = a + f;
    *held = pend_held_sig(); /* a free held back counts when released */
    lock_take(&sl.lock);
    int same = sl.n > 0 && *ops == sl.ops && *held == sl.held;
    if (same)
        *pt = sl.pt[sl.n - 1];
    lock_drop(&sl.lock);
    return same;
}

/* A point's sites from a walk of the live blocks; 0, or -1 out of memory. */
static int sl_walk(struct sl_point *pt)
{
    uint32_t n = trace_count();
    if (sl_scratch(n + n / 8 + 64) != 0) /* room for traces made during the walk */
        return -1;
    trace_live_ready(sl.live, sl.cap, pend_live_count());
    /* copies of the stripes: an insert waits for a copy, not for the sums */
    int rc = pend_foreach(sl_visit, sl.live, PEND_COPIED, NULL) != 0 ||
                     reg_foreach(sl_visit_range, sl.live, 0) != 0
                 ? -1
                 : 0;
    if (!rc)
        sl_fill(pt, sl.live, sl.cap);
    sl_scratch_drop();
    return rc;
}

struct sl_sums {
    struct trace_live *live; /* n of them */
    uint32_t n;
};

/* A held free's block out of the lines' sums (struct sl_sums): the
 * program freed it, and a walk leaves it out (pend_foreach).  A sum read
 * while the block was released counts it once, not less than none. */
static void sl_unheld(const struct tbl_entry *e, void *arg)
{
    const struct sl_sums *s = arg;
    uint64_t c, bytes;
    if (e->trace >= s->n)
        return;
    struct trace_live *l = &s->live[e->trace];
    sample_weigh(e->size, &c, &bytes);
    l->count -= c;
    l->bytes -= bytes < l->bytes ? bytes : l->bytes;
}

/* The live sums of traces [0, n) into live from the lines, less the held
 * frees: the table's blocks, the fresh ones and the mapped ranges (a range
 * cut in pieces counted as its pieces: trace_recut), as a walk finds
 * them. */
static void sl_line_sums(struct trace_live *live, uint32_t n)
{
    struct sl_sums s = {live, n};
    peak_live_bytes(live, n);
    pend_held_foreach(sl_unheld, &s);
}

/* A point's sites from the lines; 0, or -1 out of memory. */
static int sl_lines(struct sl_point *pt)
{
    uint32_t n = trace_count();
    if (sl_scratch(n) != 0)
        return -1;
    arena_populate(sl.live, (size_t)n * sizeof *sl.live); /* written whole next */
    sl_line_sums(sl.live, n);
    sl_fill(pt, sl.live, n);
    sl_scratch_drop();
    return 0;
}

/* Whether the lines' sums are the walk's: kept and trusted
 * (peak_lines_exact).  A mapped range cut in pieces weighs its pieces
 * again (trace_recut), with sampled weights too. */
static int sl_lines_exact(void)
{
    return peak_lines_exact();
}

/* How the next point's sums are had: from the lines when they are exact
 * and add up fewer cells (n traces on each line used, and each trace's own
 * work) than a walk visits live blocks, weighed by SL_BLOCK_CELLS. */
static unsigned sl_way(void)
{
    if (!sl_lines_exact())
        return SL_WALK;
    uint64_t cells = (uint64_t)trace_count() * (peak_lines_used() + SL_TRACE_CELLS);
    return cells <= pend_live_count() * SL_BLOCK_CELLS ? SL_LINES : SL_WALK;
}

/* The monotonic time of the next point; 0 when off. */
uint64_t sl_due(void)
{
    if (!sl_step_ns() || atomic_load_explicit(&sl.ended, memory_order_relaxed))
        return 0;
    uint64_t due = atomic_load_explicit(&sl.due, memory_order_relaxed);
    return due ? due : 1; /* the first point: at once */
}

/* The exit snapshot has begun (or, in a fork's child, not: 0): the
 * helper takes no point from now on.  The snapshot takes its own; one of
 * the helper's meanwhile would be on top of the snapshot's buffers, its
 * scratch 16 bytes a trace (20 MiB at `import torch`'s exit, where one
 * was taken during the snapshot about every other run). */
void sl_end(int ended)
{
    atomic_store(&sl.ended, ended);
}

/* CPU time of the helper thread (CLOCK_THREAD_CPUTIME_ID: what a walk
 * costs, whatever else the machine runs) or of the whole process. */
static uint64_t sl_cpu_ns(clockid_t id)
{
    return clock_cpu_ns(id);
}

/* Whether a point taken way's way now keeps within HEAPSNAP_SITELINE_COST
 * (percent): since the last point, the process has used 100/cost times
 * that way's CPU time (a busy program), or ten times that has passed on
 * the clock (an idle one).  Each way's own cost: the lines' points, a few
 * cells a trace, come at every step where the walk's would wait. */
static int sl_affordable(unsigned way, uint64_t now, uint64_t pcpu)
{
    long pct = opt_int(OPT_SITELINE_COST);
    if (!pct || !sl.summed_at)
        return 1;
    uint64_t budget = sl.cost_ns[way] * 100 / (uint64_t)pct;
    return pcpu - sl.pcpu_at >= budget || now - sl.summed_at >= 10 * budget;
}

/* Takes a point (the helper, when sl_due has come), unless the program
 * has done too little since the last walk to pay for one. */
void sl_sample(void)
{
    struct sl_point pt;
    uint64_t start = clock_mono_ns(), ops, held, cpu = 0;
    uint64_t step = sl.step ? sl.step : sl_step_ns();
    atomic_store(&sl.due, start + step);
    int same = sl_unchanged(&pt, &ops, &held);
    unsigned way = same ? SL_LINES : sl_way();
    if (!same) {
        if (!sl_affordable(way, start, sl_cpu_ns(CLOCK_PROCESS_CPUTIME_ID)))
            return;
        cpu = sl_cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        if ((way == SL_LINES ? sl_lines(&pt) : sl_walk(&pt)) != 0) { /* out of memory: */
            atomic_store(&sl.due, start + 1000 * step); /* try again much later */
            return;
        }
        atomic_fetch_add_explicit(&sl.taken[way], 1, memory_order_relaxed);
        cpu = sl_cpu_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
        sl.summed_at = clock_mono_ns();
        sl.pcpu_at = sl_cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    }
    pt.p.t_ns = clock_uptime_ns(start);
    pt.p.rss = sl_rss();
    lock_take(&sl.lock);
    if (!same) { /* one slow point (page faults, the first) does not count */
        sl.cost_ns[way] = sl.last_cpu[way] < cpu ? sl.last_cpu[way] : cpu;
        sl.last_cpu[way] = cpu;
        sl.way = way;
        sl.ops = ops;
        sl.held = held;
    }
    sl_record(&pt);
    lock_drop(&sl.lock);
}

/* ---------------- the snapshot's section ---------------- */

/* HEAPSNAP_SITELINE_CHECK: the lines' sums (sl_line_sums), count and
 * bytes, beside a snapshot's own from its walk, live[0..n), trace by
 * trace: the traces
 * compared and those that differ counted (HEAPSNAP_VERBOSE prints both,
 * so far, at each snapshot: the exit's comes after the destructors), a
 * warning at the first that differs.  Only where the lines are exact, and
 * not in a fork's child that sums its inherited blocks apart (inh_bytes).
 * For tests: the two agree when no other thread moves a block between the
 * walk and this. */
void sl_check(const struct trace_live *live, uint32_t n)
{
    if (!opt_int(OPT_SITELINE_CHECK) || !live || !n || !sl_lines_exact() || inh_bytes())
        return;
    size_t len = (size_t)n * sizeof *live;
    struct trace_live *mine = arena_map(len);
    if (!mine)
        return;
    sl_line_sums(mine, n);
    uint64_t differ = 0;
    for (uint32_t id = 0; id < n; id++)
        differ += mine[id].bytes != live[id].bytes || mine[id].count != live[id].count;
    arena_unmap(mine, len);
    uint64_t checked = atomic_fetch_add(&sl.checked, n) + n;
    uint64_t before = atomic_fetch_add(&sl.differed, differ);
    if (differ && !before)
        opt_warn("siteline: check: the lines' live bytes differ from the walk's at a snapshot",
                 "", "");
    opt_debug_count("siteline: check: traces compared with the walk: ", checked);
    opt_debug_count("siteline: check: traces that differed: ", before + differ);
}

/* Sites of traces past ntraces (born after the snapshot's TRACES) go to
 * other; the rest keep their order. */
static void sl_clip(struct sl_point *pt, uint32_t ntraces)
{
    unsigned k = 0;
    for (unsigned i = 0; i < SL_SITES; i++) {
        struct hsnap_siteline_site s = pt->site[i];
        if (s.trace != HSNAP_SITELINE_NONE && s.trace >= ntraces) {
            pt->p.other += s.bytes;
            continue;
        }
        pt->site[k++] = s;
    }
    for (; k < SL_SITES; k++)
        pt->site[k] = (struct hsnap_siteline_site){HSNAP_SITELINE_NONE, 0, 0};
}

static void sl_put_point(struct sbuf *b, struct sl_point *pt, uint32_t ntraces)
{
    sl_clip(pt, ntraces);
    sbuf_put(b, &pt->p, sizeof pt->p);
    sbuf_put(b, pt->site, sizeof pt->site);
}

/* Whether a trace below n is of the mmap kind. */
static int sl_any_mapped(uint32_t n)
{
    unsigned flags;
    for (uint32_t id = 0; id < n; id++)
        if (trace_stack(id, NULL, 0, &flags), flags & HSNAP_TRACE_MMAP)
            return 1;
    return 0;
}

/* The SITELINE payload into b (nothing when HEAPSNAP_SITELINE is 0): the
 * points so far, then one at this moment from the snapshot's live sums
 * live[0..nlive) (NULL: none).  Trace ids below ntraces (the TRACES
 * written).  With ml, MAPLINE's into it when a trace is of the mmap kind.
 * 0, or -1 (a lock the fatal path could not get, or memory). */
int sl_put(struct sbuf *b, struct sbuf *ml, const struct trace_live *live, uint32_t nlive,
           uint32_t ntraces, int fatal)
{
    if (!sl_step_ns())
        return 0;
    if (ml && !sl_any_mapped(ntraces))
        ml = NULL;
    struct sl_point now = {0};
    now.p.rss = sl_rss();
    sl_fill(&now, live, live ? nlive : 0);
    if (fatal ? !lock_take_bounded(&sl.lock, SL_FATAL_TRIES) : (lock_take(&sl.lock), 0))
        return -1;
    /* The time under the lock: a point the helper records while this
     * snapshot waits carries its own start time, which must not come
     * after ours (points are in time order). */
    now.p.t_ns = clock_uptime_ns(clock_mono_ns());
    struct hsnap_siteline_head h = {sl.n + 1, SL_SITES, sl.step ? sl.step : sl_step_ns(),
                                    sl.cost_ns[sl.way], sl_step_ns()};
    if (sbuf_reserve(b, sizeof h + (size_t)h.count * (sizeof now.p + sizeof now.site)) == 0) {
        sbuf_put(b, &h, sizeof h);
        for (unsigned i = 0; i < sl.n; i++) {
            struct sl_point pt = sl.pt[i];
            sl_put_point(b, &pt, ntraces);
        }
        sl_put_point(b, &now, ntraces);
    }
    if (ml && sbuf_reserve(ml, 8 + (size_t)h.count * 8) == 0) {
        sbuf_u32(ml, h.count);
        sbuf_u32(ml, 0);
        for (unsigned i = 0; i < sl.n; i++)
            sbuf_u64(ml, sl.pt[i].mapped);
        sbuf_u64(ml, now.mapped);
    }
    lock_drop(&sl.lock);
    return b->err || (ml && ml->err) ? -1 : 0;
}

/* HEAPSNAP_VERBOSE: how the helper's points' sums were had (tests use it
 * to see that the lines, or the walk, really answered). */
__attribute__((destructor)) static void sl_report(void)
{
    uint64_t lines = atomic_load(&sl.taken[SL_LINES]), walks = atomic_load(&sl.taken[SL_WALK]);
    if (lines || walks) {
        opt_debug_count("siteline: points from the lines: ", lines);
        opt_debug_count("siteline: points from a walk: ", walks);
    }
}

/* A new attach (life_attach): the points start again. */
void sl_reset(void)
{
    lock_take(&sl.lock);
    sl.n = 0;
    sl.step = 0;
    sl.ops = 0;
    atomic_store(&sl.due, 0);
    lock_drop(&sl.lock);
}

void sl_lock(void)
{
    lock_take(&sl.lock);
}

void sl_unlock(void)
{
    lock_drop(&sl.lock);
}
