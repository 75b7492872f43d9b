// link: shim/snapshot/siteline.c shim/base/lock.c
/*
 * test_siteline.c - the per-site timeline's bookkeeping (sl_record, sl_halve),
 * without a process around it: the top-N choice, the halving that keeps
 * the points bounded for a run of any length (and the highest point in
 * it), and the section it writes (trace ids past the snapshot's TRACES
 * folded into "other").
 */
#include <stdlib.h>

#include "snapshot.h"
#include "unit.h"

/* ---- what siteline.c needs of the rest of the shim ---- */
int sample_estimates;
long opt_int(enum opt_id id) { return id == OPT_SITELINE ? 10 : 0; } /* 10 ms */
struct sample_weight sample_weigh_estimate(uint64_t size) { return (struct sample_weight){0, 0}; }
void trace_live_add(struct trace_live *live, uint32_t n, uint32_t id, uint64_t size)
{
    if (id < n)
        live[id].bytes += size;
}
void trace_alloc_counts(uint64_t *a, uint64_t *f) { *a = *f = 0; }
void opt_debug_count(const char *what, uint64_t n) {}
int reg_ever_tracked(void) { return 1; } /* the mmap kind is read */
uint32_t trace_count(void) { return 0; }
unsigned trace_stack(uint32_t id, uintptr_t *ip, unsigned max, unsigned *flags)
{
    *flags = id == 4 || id == 5 ? HSNAP_TRACE_MMAP : 0; /* traces 4 and 5: mappings */
    return 1;
}
int pend_foreach(tbl_visit_fn fn, void *arg, unsigned tries, struct pend_left *left) { return 0; }
void *arena_map(size_t n) { return calloc(1, n); }
void arena_unmap(void *p, size_t n) { free(p); }
uint64_t clock_mono_ns(void) { return 0; }
uint64_t clock_uptime_ns(uint64_t mono) { return mono; }
int sbuf_reserve(struct sbuf *b, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = b->len + n;
        b->p = realloc(b->p, b->cap);
    }
    return b->p ? 0 : (b->err = 1, -1);
}
void sbuf_put(struct sbuf *b, const void *data, size_t n)
{
    if (sbuf_reserve(b, n) == 0) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
    }
}

void sbuf_u32(struct sbuf *b, uint32_t v) { sbuf_put(b, &v, sizeof v); }
void sbuf_u64(struct sbuf *b, uint64_t v) { sbuf_put(b, &v, sizeof v); }

static struct sl_point pt_at(uint64_t t, uint64_t heap)
{
    struct sl_point p = {{t, heap, 0, heap}, {{0}}};
    for (unsigned i = 0; i < SL_SITES; i++)
        p.site[i].trace = HSNAP_SITELINE_NONE;
    return p;
}

/* The points as a snapshot would write them: head, then count points. */
static struct hsnap_siteline_head put(struct sbuf *b, uint32_t ntraces)
{
    struct hsnap_siteline_head h = {0};
    b->len = 0;
    if (sl_put(b, NULL, NULL, 0, ntraces, 0) == 0 && b->len >= sizeof h)
        memcpy(&h, b->p, sizeof h);
    return h;
}

static const struct sl_point *put_point(const struct sbuf *b, uint32_t i)
{
    return (const struct sl_point *)(b->p + sizeof(struct hsnap_siteline_head) +
                                     i * (sizeof(struct hsnap_siteline_point) +
                                          SL_SITES * sizeof(struct hsnap_siteline_site)));
}

TEST_BEGIN(siteline_top_keeps_the_largest_biggest_first)
    struct trace_live live[10] = {{0}};
    uint64_t bytes[10] = {5, 0, 70, 3, 70, 9, 1, 0, 40, 2};
    struct hsnap_siteline_site top[4];
    for (int i = 0; i < 10; i++)
        live[i].bytes = bytes[i];
    expect_eq_u64(sl_top(live, 10, top, 4), 200);
    uint32_t want[4] = {2, 4, 8, 5}; /* ties: the lower id first */
    for (int i = 0; i < 4; i++)
        expect_true(top[i].trace == want[i], "slot %d: trace %u, want %u", i, top[i].trace, want[i]);
    expect_eq_u64(top[3].bytes, 9);
    /* fewer holders than slots: the rest are empty */
    expect_eq_u64(sl_top(live, 2, top, 4), 5);
    expect_true(top[0].trace == 0 && top[1].trace == HSNAP_SITELINE_NONE && top[1].bytes == 0,
                "slots after the holders are not empty");
TEST_END

TEST_BEGIN(siteline_halve_keeps_every_other_and_the_highest)
    struct sl_point v[9];
    for (int i = 0; i < 9; i++)
        v[i] = pt_at((uint64_t)i, 10);
    v[5].p.heap = 99; /* odd index: it would go */
    unsigned n = sl_halve(v, 9);
    expect_eq_u64(n, 5);
    uint64_t want[5] = {0, 2, 5, 6, 8};
    for (unsigned i = 0; i < n; i++)
        expect_true(v[i].p.t_ns == want[i], "point %u at %llu, want %llu", i,
                    (unsigned long long)v[i].p.t_ns, (unsigned long long)want[i]);
TEST_END

/* The helper's schedule for ten hours: a point every step, the step as the
 * halvings left it. */
TEST_BEGIN(siteline_bounded_after_many_points)
    struct sbuf b = {0};
    const uint64_t step = 10000000, end = 36000ull * 1000000000; /* 10 ms; 10 h */
    uint64_t t = 0, points = 0, peak_at = 0;
    struct hsnap_siteline_head h = put(&b, 0);
    for (; t < end; t += h.step_ns, points++) {
        struct sl_point p = pt_at(t, points % 1000);
        if (points == 1001) /* the peak, at an odd point */
            p.p.heap = 1u << 30, peak_at = t;
        sl_record(&p);
        h = put(&b, 0);
        expect_true(h.count <= SL_MAX + 1, "%u points after %llu", h.count,
                    (unsigned long long)points);
    }
    /* SL_MAX points at most, and the snapshot's own */
    expect_true(h.count >= SL_MAX / 2 + 1, "%u points", h.count);
    expect_true(points < 8 * SL_MAX, "%llu points taken in 10 h", (unsigned long long)points);
    expect_true(h.step_ns >= end / SL_MAX / 2 && h.step_ns <= end / SL_MAX * 2,
                "step %llu ns after 10 h", (unsigned long long)h.step_ns);
    expect_eq_u64(h.first_step_ns, step);
    int peak = 0;
    for (uint32_t i = 0; i + 1 < h.count; i++) {
        const struct sl_point *p = put_point(&b, i);
        peak |= p->p.heap == 1u << 30 && p->p.t_ns == peak_at;
        expect_true(!i || p->p.t_ns > put_point(&b, i - 1)->p.t_ns, "point %u out of order", i);
    }
    expect_true(peak, "the highest point was dropped");
    /* spread over the whole run: the first kept point is near its start,
     * the last near its end */
    expect_true(put_point(&b, 0)->p.t_ns <= 2 * h.step_ns, "first point at %llu",
                (unsigned long long)put_point(&b, 0)->p.t_ns);
    expect_true(put_point(&b, h.count - 2)->p.t_ns >= end - 2 * h.step_ns,
                "last point at %llu", (unsigned long long)put_point(&b, h.count - 2)->p.t_ns);
    free(b.p);
TEST_END

TEST_BEGIN(siteline_put_folds_unknown_traces_into_other)
    struct sbuf b = {0};
    struct trace_live live[6] = {{0}};
    uint64_t bytes[6] = {10, 600, 20, 500, 30, 0};
    for (int i = 0; i < 6; i++)
        live[i].bytes = bytes[i];
    b.len = 0;
    expect_true(sl_put(&b, NULL, live, 6, 3, 0) == 0, "sl_put failed"); /* TRACES has ids 0..2 */
    struct hsnap_siteline_head h;
    memcpy(&h, b.p, sizeof h);
    const struct sl_point *now = put_point(&b, h.count - 1);
    expect_eq_u64(now->p.heap, 1160);
    expect_true(now->site[0].trace == 1 && now->site[1].trace == 2 &&
                now->site[2].trace == 0 && now->site[3].trace == HSNAP_SITELINE_NONE,
                "sites %u %u %u %u", now->site[0].trace, now->site[1].trace,
                now->site[2].trace, now->site[3].trace);
    expect_eq_u64(now->p.other, 500 + 30); /* traces 3 and 4 */
    uint64_t sum = now->p.other;
    for (unsigned i = 0; i < SL_SITES; i++)
        sum += now->site[i].bytes;
    expect_eq_u64(sum, now->p.heap);
    free(b.p);
TEST_END

/* MAPLINE: per point, the bytes of the mmap kind's traces in its heap,
 * those born after TRACES too (they are in the heap, in other). */
TEST_BEGIN(siteline_put_counts_the_mmap_kind_per_point)
    struct sbuf b = {0}, ml = {0};
    struct trace_live live[6] = {{0}};
    uint64_t bytes[6] = {10, 600, 20, 500, 30, 7};
    for (int i = 0; i < 6; i++)
        live[i].bytes = bytes[i];
    expect_true(sl_put(&b, &ml, live, 6, 5, 0) == 0, "sl_put failed");
    struct hsnap_siteline_head h;
    memcpy(&h, b.p, sizeof h);
    uint32_t head[2];
    uint64_t last;
    expect_eq_u64(ml.len, 8 + 8 * (uint64_t)h.count);
    memcpy(head, ml.p, 8);
    memcpy(&last, ml.p + ml.len - 8, 8);
    expect_true(head[0] == h.count && head[1] == 0, "head %u %u", head[0], head[1]);
    expect_eq_u64(last, 30 + 7);
    /* no trace of the mmap kind among the snapshot's: no MAPLINE */
    b.len = ml.len = 0;
    expect_true(sl_put(&b, &ml, live, 6, 4, 0) == 0 && ml.len == 0, "MAPLINE of %zu bytes", ml.len);
    free(b.p);
    free(ml.p);
TEST_END

int main(void)
{
    siteline_top_keeps_the_largest_biggest_first();
    siteline_halve_keeps_every_other_and_the_highest();
    siteline_bounded_after_many_points();
    siteline_put_folds_unknown_traces_into_other();
    siteline_put_counts_the_mmap_kind_per_point();
    return 0;
}
