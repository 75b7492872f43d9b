/*
 * peak.c - what each trace held at the traced high-water mark (PEAK), and
 * each trace's temporary allocations (TEMPS).
 *
 * The peak.  traces.c keeps per-trace totals only (snapshots derive live
 * sums from a walk of the table), and a walk at each 1% of growth cost
 * 1-28% more instructions on the benchmark (docs/performance.md).  So
 * this file counts each trace's frees, per thread: every discharge adds
 * to the thread's own line of per-trace cells (peak_discharge, from
 * traces.c) - a plain load and store, no locked instruction, like
 * traces.c's shards; a charge does nothing new.  Threads past
 * PEAK_LINES share line 0 with atomic adds.  A capture takes the totals
 * less the lines' frees (O(traces x lines)) into the kept items.
 * traces.c asks for one from
 * its slow paths only (peak_check: after a charge moved the peak), when
 * the peak has passed the last capture by PEAK_STEP_PPM (1%) or
 * PEAK_FLOOR (4 KiB), whichever is more (HEAPSNAP_PEAK=on): a climb
 * from 0 to P pays at most 100 captures below 400 KiB and
 * ln(P / 400 KiB) / ln(1.01) above; "exact" captures at every new peak
 * (tests), "off" never.  A snapshot whose own live sums are above the
 * capture (the process is at its peak as it writes) offers them instead.
 *   Exactness: one thread, "exact": the capture is the peak's state; "on":
 * a state whose total C satisfies P / 1.01 < C <= P (or P - 4 KiB < C).
 * N threads: traces.c's peak itself may miss the true one by less than
 * (N - 1) x 64 KiB, and a capture reads the lines while their threads
 * write them: it is exact for each cell, not a cut across cells.
 * Lock: peak.lock guards the capture; only tried from a hook (a thread
 * that finds it taken leaves the capture to its holder), taken by the
 * writer and heapsnap_reset_peak; nothing is taken under it.
 *
 * Temporary allocations (heaptrack's definition): a block freed by the
 * thread that allocated it with no other allocation on that thread in
 * between.  Each thread remembers its last recorded block (peak_born,
 * from the record path); a free of that very pointer is one compare
 * (peak_freed, in the free hook) and counts for its trace, with the
 * weight of a sampled block, in an arena array of atomic counters.
 */
#include <string.h>

#include "shim.h"

#define PEAK_STEP_PPM 10000u      /* 1%: the relative growth between captures */
#define PEAK_FLOOR 4096u          /* ... and at least this many bytes */
#define PEAK_UNIT_SHIFT 16        /* counts in 1/65536 units, as traces.c */

_Atomic uint64_t peak_next;       /* capture when the peak reaches this */
struct peak_line peak_lines[PEAK_LINES]; /* per-thread live sums; 0 shared */
static atomic_uint peak_lines_top;       /* lines ever claimed: [0, top) */
__thread struct peak_line *peak_mine;    /* this thread's line, or NULL */
static __thread int peak_lineless;       /* no line to claim (or ended) */
__thread int peak_idle;                  /* HEAPSNAP_PEAK=off: count nothing */
__thread struct peak_last peak_last; /* this thread's last recorded block */

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

/* ---------------- the live sums ---------------- */

/* A line's cells for id's chunk, made if missing (only its thread makes
 * them, but line 0's are shared: a CAS). */
static struct peak_cell *peak_chunk(struct peak_line *l, uint32_t id)
{
    _Atomic(struct peak_cell *) *slot = &l->chunk[id >> PEAK_CHUNK_BITS];
    struct peak_cell *c = atomic_load_explicit(slot, memory_order_acquire), *none = NULL;
    if (c)
        return c;
    if (!(c = arena_alloc(PEAK_CHUNK * sizeof *c)))
        return NULL;
    if (!atomic_compare_exchange_strong(slot, &none, c)) {
        arena_free(c, PEAK_CHUNK * sizeof *c);
        return none;
    }
    return c;
}

static struct peak_line *peak_claim(void)
{
    for (unsigned k = 1; k < PEAK_LINES; k++) {
        int free_line = 0;
        if (atomic_compare_exchange_strong(&peak_lines[k].owned, &free_line, 1)) {
            unsigned top = atomic_load(&peak_lines_top);
            while (top < k + 1 && !atomic_compare_exchange_weak(&peak_lines_top, &top, k + 1))
                ;
            return peak_mine = &peak_lines[k];
        }
    }
    peak_lineless = 1;
    return NULL;
}

/* peak_discharge's slow path: the thread's first free, a new chunk of
 * ids, or no line of its own (line 0, atomic adds). */
HS_NOINLINE void peak_discharge_slow(uint32_t id, uint64_t n, uint64_t bytes)
{
    struct peak_line *l = peak_mine;
    struct peak_cell *c;
    if (peak_mode() == PEAK_OFF) {
        peak_idle = 1; /* the hot path pays a load and a branch */
        return;
    }
    if (!l && !peak_lineless)
        l = peak_claim();
    if (l && (c = peak_chunk(l, id))) {
        c += id & (PEAK_CHUNK - 1);
        atomic_store_explicit(&c->count, atomic_load_explicit(&c->count, memory_order_relaxed) + n,
                              memory_order_relaxed);
        atomic_store_explicit(&c->bytes, atomic_load_explicit(&c->bytes, memory_order_relaxed) + bytes,
                              memory_order_relaxed);
        return;
    }
    unsigned top = atomic_load(&peak_lines_top);
    while (top < 1 && !atomic_compare_exchange_weak(&peak_lines_top, &top, 1))
        ;
    if (!(c = peak_chunk(&peak_lines[0], id)))
        return; /* out of memory: the arena's warning is enough */
    c += id & (PEAK_CHUNK - 1);
    atomic_fetch_add_explicit(&c->count, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->bytes, bytes, memory_order_relaxed);
}

/* The thread ends: its line goes back (its sums stay in it, for the next
 * owner to go on from); what it still moves goes to line 0. */
void peak_thread_end(void)
{
    struct peak_line *l = peak_mine;
    peak_mine = NULL;
    peak_lineless = 1;
    if (l)
        atomic_store_explicit(&l->owned, 0, memory_order_release);
}

/* In a fork's child only this thread is left: the other lines go back. */
void peak_after_fork_child(void)
{
    for (unsigned k = 1; k < PEAK_LINES; k++)
        if (&peak_lines[k] != peak_mine)
            atomic_store_explicit(&peak_lines[k].owned, 0, memory_order_relaxed);
    lock_drop(&peak.lock); /* a thread that was capturing is gone */
}

/* heapsnap_clear_traces: every live block is forgotten. */
static void peak_clear_lines(void)
{
    unsigned top = atomic_load(&peak_lines_top);
    for (unsigned k = 0; k < top; k++)
        for (unsigned j = 0; j < PEAK_CHUNKS; j++) {
            struct peak_cell *c = atomic_load(&peak_lines[k].chunk[j]);
            for (unsigned i = 0; c && i < PEAK_CHUNK; i++) {
                atomic_store_explicit(&c[i].count, 0, memory_order_relaxed);
                atomic_store_explicit(&c[i].bytes, 0, memory_order_relaxed);
            }
        }
}

/* The threshold after a capture of a state of `bytes` traced bytes. */
static uint64_t peak_step(uint64_t bytes)
{
    if (peak_mode() == PEAK_EXACT)
        return bytes + 1;
    uint64_t step = bytes / 1000000u * PEAK_STEP_PPM;
    return bytes + (step > PEAK_FLOOR ? step : PEAK_FLOOR);
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

/* Live sums per trace into the scratch array: totals (traces.c) minus
 * every line's frees; lock held.  A sum below zero (a block charged
 * after its trace's totals were read and freed before its line was: other
 * threads at work) reads as nothing. */
static void peak_sum(uint32_t n)
{
    unsigned top = atomic_load_explicit(&peak_lines_top, memory_order_acquire);
    trace_sum_totals(peak.scratch, n);
    for (unsigned k = 0; k < top; k++)
        for (uint32_t base = 0; base < n; base += PEAK_CHUNK) {
            struct peak_cell *c = atomic_load_explicit(&peak_lines[k].chunk[base >> PEAK_CHUNK_BITS],
                                                       memory_order_acquire);
            uint32_t end = n - base < PEAK_CHUNK ? n - base : PEAK_CHUNK;
            for (uint32_t j = 0; c && j < end; j++) {
                peak.scratch[base + j].count -= atomic_load_explicit(&c[j].count, memory_order_relaxed);
                peak.scratch[base + j].bytes -= atomic_load_explicit(&c[j].bytes, memory_order_relaxed);
            }
        }
    for (uint32_t id = 0; id < n; id++)
        if ((int64_t)peak.scratch[id].count < 0 || (int64_t)peak.scratch[id].bytes < 0)
            peak.scratch[id] = (struct trace_live){0, 0};
}

/* Takes a capture of now's live sums; lock held.  0, or -1 (the capture
 * is unchanged: no memory). */
static int peak_take(void)
{
    uint64_t t = peak_since_start();
    if (peak_room(trace_count()) != 0)
        return -1;
    peak_sum(peak.scratch_n);
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
        peak_take() != 0)
        atomic_store(&peak_next, peak_step(peak_now)); /* no memory: later */
    lock_drop(&peak.lock);
}

/* heapsnap_reset_peak, heapsnap_clear_traces: the peak restarts from now,
 * so the capture does too. */
void peak_reset(void)
{
    if (peak_mode() == PEAK_OFF)
        return;
    int saved = guard_enter();
    lock_take(&peak.lock);
    if (peak_take() != 0) {
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

/* The free hook found p == peak_last: a temporary allocation. */
HS_NOINLINE void peak_temp(void)
{
    uint32_t id = peak_last.trace;
    peak_last.p = 0;
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
    sample_weigh(peak_last.size, &n, &bytes);
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

/* heapsnap_clear_traces: live sums and temporary counts restart from zero. */
void peak_clear(void)
{
    peak_clear_lines();
    for (unsigned k = 0; k < PEAK_CHUNKS; k++) {
        _Atomic uint64_t *c = atomic_load(&peak.temps[k]);
        for (unsigned j = 0; c && j < PEAK_CHUNK; j++)
            atomic_store_explicit(&c[j], 0, memory_order_relaxed);
    }
    peak_last.p = 0;
}
