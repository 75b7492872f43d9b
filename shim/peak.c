/*
 * peak.c - what each trace held at the traced high-water mark (PEAK), and
 * each trace's temporary allocations (TEMPS).
 *
 * The peak.  traces.c keeps per-trace totals only; live sums per trace
 * exist nowhere on the hot path (the snapshot writer derives them from a
 * walk of the table).  So a capture is such a walk (pend_foreach: held
 * frees out, fresh blocks in) into a scratch array, kept as the nonzero
 * (trace, blocks, bytes) items.  traces.c asks for one from its slow paths
 * only (peak_check: after the peak moved on a charge), so the hot path
 * gains nothing; the walk costs O(live blocks), so captures are rationed
 * by HEAPSNAP_PEAK: "on" captures when the peak has grown past the last
 * capture by PEAK_STEP_PPM (1%) or PEAK_FLOOR (64 KiB), whichever is more
 * - a climb from 0 to P pays at most P/64 KiB below 6.4 MiB and then
 * ln(P / 6.4 MiB) / ln(1.01) captures, each walk a geometric share of the
 * last, so the walks add up to about 100 walks of the peak's table;
 * "exact" captures at every new peak (tests: quadratic on a climb), "off"
 * never.  A snapshot whose own live sums are above the capture (the
 * process is at its peak as it writes) offers them instead (peak_put).
 *   Exactness: one thread, "exact": the capture is the peak's state.  One
 * thread, "on": a state whose total C satisfies P / 1.01 < C <= P (or
 * P - 64 KiB < C).  N threads: traces.c's peak itself may miss the true
 * one by less than (N - 1) x 64 KiB, and the walk is not a cut: blocks
 * other threads allocate or free while it runs may be counted or not.
 * Lock: peak.lock guards the capture; only ever tried from a hook (a
 * thread that finds it taken leaves the capture to its holder), taken by
 * the writer and heapsnap_reset_peak; under it only the table walk's own
 * locks (pending, table, arena): between traces and pending in the order.
 *
 * Temporary allocations (heaptrack's definition): a block freed by the
 * thread that allocated it with no other allocation on that thread in
 * between.  Each thread remembers its last recorded block (peak_born,
 * from the record path); a free of that very pointer is one compare
 * (peak_is_temp, in the free hook) and counts for its trace, with the
 * weight of a sampled block, in an arena array of atomic counters.
 */
#include <string.h>

#include "shim.h"

#define PEAK_STEP_PPM 10000u      /* 1%: the relative growth between captures */
#define PEAK_FLOOR (64u * 1024u)  /* ... and at least this many bytes */
#define PEAK_CHUNK_BITS 12
#define PEAK_CHUNK (1u << PEAK_CHUNK_BITS)
#define PEAK_CHUNKS 4096u         /* as traces.c: 16M ids */
#define PEAK_UNIT_SHIFT 16        /* counts in 1/65536 units, as traces.c */

_Atomic uint64_t peak_next;       /* capture when the peak reaches this */
__thread uintptr_t peak_last;     /* this thread's last recorded block */
static __thread uint32_t peak_last_trace;
static __thread uint64_t peak_last_size;

static struct {
    lock_t lock;                  /* the capture below */
    atomic_int mode;              /* 0 not read yet, else PEAK_ON/EXACT/OFF + 1 */
    struct hsnap_peak head;       /* the capture's figures */
    struct hsnap_peak_item *items; /* head.count of them, by trace id */
    size_t items_cap;             /* items' mapping, in items */
    struct trace_live *scratch;   /* a walk's per-trace sums */
    size_t scratch_len;           /* its mapping, in bytes */
    uint32_t scratch_n;           /* traces it covers */
    _Atomic(_Atomic uint64_t *) temps[PEAK_CHUNKS]; /* temporary counts, by id */
} peak;

enum { PEAK_ON = 1, PEAK_EXACT = 2, PEAK_OFF = 3 };

static int peak_mode(void)
{
    int m = atomic_load_explicit(&peak.mode, memory_order_relaxed);
    if (HS_UNLIKELY(!m)) {
        m = (int)opt_int(OPT_PEAK) + 1; /* on|exact|off */
        atomic_store(&peak.mode, m);
    }
    return m;
}

/* The threshold after a capture of a state of `bytes` traced bytes. */
static uint64_t peak_step(uint64_t bytes)
{
    if (peak_mode() == PEAK_EXACT)
        return bytes + 1;
    uint64_t step = bytes / 1000000u * PEAK_STEP_PPM;
    return bytes + (step > PEAK_FLOOR ? step : PEAK_FLOOR);
}

static int peak_live_block(const struct tbl_entry *e, void *arg)
{
    (void)arg;
    trace_live_add(peak.scratch, peak.scratch_n, e->trace, e->size);
    return 0;
}

/* Room for n traces in the scratch array (zeroed) and for n items; lock
 * held.  0, or -1 when the arena has none. */
static int peak_room(uint32_t n)
{
    size_t len = ((size_t)n * sizeof *peak.scratch + 4095) & ~(size_t)4095;
    if (len > peak.scratch_len) {
        struct trace_live *s = arena_map(len);
        if (!s)
            return -1;
        arena_unmap(peak.scratch, peak.scratch_len);
        peak.scratch = s;
        peak.scratch_len = len;
    } else if (n) {
        memset(peak.scratch, 0, (size_t)n * sizeof *peak.scratch);
    }
    if (n > peak.items_cap) {
        size_t cap = n + n / 2 + 64, ilen = cap * sizeof *peak.items;
        struct hsnap_peak_item *it = arena_map(ilen);
        if (!it)
            return -1;
        if (peak.head.count)
            memcpy(it, peak.items, peak.head.count * sizeof *it);
        arena_unmap(peak.items, peak.items_cap * sizeof *peak.items);
        peak.items = it;
        peak.items_cap = cap;
    }
    peak.scratch_n = n;
    return 0;
}

/* The capture becomes live[0..n) (sums as trace_live_add makes them),
 * taken t_ns after start; lock held, items room for n. */
static void peak_keep(const struct trace_live *live, uint32_t n, uint64_t t_ns, uint32_t flags)
{
    uint64_t half = 1u << (PEAK_UNIT_SHIFT - 1), blocks = 0, bytes = 0;
    uint32_t k = 0;
    for (uint32_t id = 0; id < n; id++) {
        if (!live[id].count && !live[id].bytes)
            continue;
        struct hsnap_peak_item *it = &peak.items[k++];
        it->trace = id;
        it->reserved = 0;
        it->blocks = (live[id].count + half) >> PEAK_UNIT_SHIFT;
        it->bytes = live[id].bytes;
        blocks += it->blocks;
        bytes += it->bytes;
    }
    uint32_t step = peak_mode() == PEAK_EXACT ? 0 : PEAK_STEP_PPM;
    peak.head = (struct hsnap_peak){.t_ns = t_ns, .bytes = bytes, .blocks = blocks,
                                    .count = k, .flags = flags, .step_ppm = step,
                                    .floor = step ? PEAK_FLOOR : 0};
}

static uint64_t peak_since_start(void)
{
    uint64_t now = life_now_ns(), start = life_start_ns();
    return now > start ? now - start : 0;
}

/* Walks the live blocks into the capture; lock held, hook_guard set.
 * 0, or -1 (the capture is unchanged). */
static int peak_walk(void)
{
    uint64_t t = peak_since_start();
    if (peak_room(trace_count()) != 0)
        return -1;
    if (pend_foreach(peak_live_block, NULL, 0, NULL) != 0)
        return -1;
    peak_keep(peak.scratch, peak.scratch_n, t, 0);
    atomic_store_explicit(&peak_next, peak_step(peak.head.bytes), memory_order_relaxed);
    return 0;
}

/* From traces.c's slow paths, on a charge that raised the peak to at
 * least peak_next (hook_guard set, no lock held). */
HS_NOINLINE void peak_capture(uint64_t peak_now)
{
    if (peak_mode() == PEAK_OFF) {
        atomic_store(&peak_next, UINT64_MAX);
        return;
    }
    if (!lock_try(&peak.lock))
        return; /* another thread is capturing: its walk is as near */
    if (peak_now >= atomic_load_explicit(&peak_next, memory_order_relaxed) &&
        peak_walk() != 0)
        atomic_store(&peak_next, peak_step(peak_now)); /* no memory: later */
    lock_drop(&peak.lock);
}

/* heapsnap_reset_peak, heapsnap_clear_traces: the peak restarts from now,
 * so the capture does too (a walk of now's blocks). */
void peak_reset(void)
{
    if (peak_mode() == PEAK_OFF)
        return;
    int saved = guard_enter();
    lock_take(&peak.lock);
    if (peak_walk() != 0) {
        peak.head = (struct hsnap_peak){0};
        atomic_store(&peak_next, 0);
    }
    lock_drop(&peak.lock);
    guard_leave(saved);
}

/* The PEAK payload into b.  live[0..n) are the snapshot's own live sums;
 * when they are above the capture, this moment is nearer the peak and
 * becomes the capture.  tries: 0 waits for the lock, else bounded.
 * 0, or -1 (nothing written: no PEAK section). */
int peak_put(struct sbuf *b, const struct trace_live *live, uint32_t n, unsigned tries)
{
    if (peak_mode() == PEAK_OFF)
        return -1;
    if (tries ? !lock_take_bounded(&peak.lock, tries) : (lock_take(&peak.lock), 0))
        return -1;
    uint64_t bytes = 0;
    for (uint32_t id = 0; live && id < n; id++)
        bytes += live[id].bytes;
    if (live && bytes > peak.head.bytes && peak_room(n) == 0) {
        peak_keep(live, n, peak_since_start(), HSNAP_PEAK_AT_SNAPSHOT);
        atomic_store(&peak_next, peak_step(bytes));
    }
    sbuf_put(b, &peak.head, sizeof peak.head);
    sbuf_put(b, peak.items, (size_t)peak.head.count * sizeof *peak.items);
    lock_drop(&peak.lock);
    return b->err ? -1 : 0;
}

/* ---------------- temporary allocations ---------------- */

/* The record path: p (of size bytes, trace id) is this thread's newest. */
void peak_born(uintptr_t p, uint32_t id, uint64_t size)
{
    peak_last = p;
    peak_last_trace = id;
    peak_last_size = size;
}

/* The free hook found p == peak_last: a temporary allocation. */
HS_NOINLINE void peak_temp(void)
{
    uint32_t id = peak_last_trace;
    peak_last = 0;
    _Atomic uint64_t *c = atomic_load_explicit(&peak.temps[id >> PEAK_CHUNK_BITS],
                                               memory_order_acquire);
    if (HS_UNLIKELY(!c)) {
        _Atomic uint64_t *fresh = arena_alloc(PEAK_CHUNK * sizeof *fresh), *none = NULL;
        if (!fresh)
            return;
        if (!atomic_compare_exchange_strong(&peak.temps[id >> PEAK_CHUNK_BITS], &none, fresh)) {
            arena_free(fresh, PEAK_CHUNK * sizeof *fresh);
            c = none;
        } else {
            c = fresh;
        }
    }
    uint64_t n, bytes;
    sample_weigh(peak_last_size, &n, &bytes);
    atomic_fetch_add_explicit(&c[id & (PEAK_CHUNK - 1)], n, memory_order_relaxed);
}

/* The TEMPS payload for traces [0, n) into b: u32 n, u32 0, u64 count[n]. */
int peak_put_temps(struct sbuf *b, uint32_t n)
{
    uint64_t half = 1u << (PEAK_UNIT_SHIFT - 1);
    if (sbuf_reserve(b, 8 + (size_t)n * 8) != 0)
        return -1;
    sbuf_u32(b, n);
    sbuf_u32(b, 0);
    for (uint32_t id = 0; id < n; id++) {
        _Atomic uint64_t *c = atomic_load_explicit(&peak.temps[id >> PEAK_CHUNK_BITS],
                                                   memory_order_acquire);
        uint64_t v = c ? atomic_load_explicit(&c[id & (PEAK_CHUNK - 1)], memory_order_relaxed) : 0;
        sbuf_u64(b, (v + half) >> PEAK_UNIT_SHIFT);
    }
    return b->err ? -1 : 0;
}

/* heapsnap_clear_traces: the counts restart from zero. */
void peak_clear_temps(void)
{
    for (unsigned k = 0; k < PEAK_CHUNKS; k++) {
        _Atomic uint64_t *c = atomic_load(&peak.temps[k]);
        for (unsigned j = 0; c && j < PEAK_CHUNK; j++)
            atomic_store_explicit(&c[j], 0, memory_order_relaxed);
    }
    peak_last = 0;
}
