/*
 * peak.c - what each trace held at the traced high-water mark (PEAK), and
 * each trace's temporary allocations (TEMPS).
 *
 * Live sums per trace, per thread, in dense lines of cells (peak_move,
 * from traces.c: a plain load and store in the thread's own line; threads
 * past PEAK_LINES share line 0 with atomic adds; lines past 0 are mapped
 * PEAK_LINE_CHUNK at a time as threads claim them).  A capture adds the
 * lines up; traces.c asks for one (peak_check) once the peak passed the
 * last capture by a step (HEAPSNAP_PEAK on, exact or off: docs/design.md,
 * "The peak and the timeline", says how exact each is).  The site line and
 * the state documents read the lines' sums now (peak_live_bytes,
 * peak_live), the site line only while they are the table's
 * (peak_lines_exact: no move lost or in doubt).  A temporary
 * allocation is heaptrack's: freed by the very next allocation event
 * (malloc, free, realloc) of its thread (peak_born, peak_freed: one compare
 * in the free hook; heaptrack orders the whole process's events).
 *   Lock: peak.lock guards the capture (peak.cap).  A hook only tries
 * it; the writer and heapsnap_reset_peak take it.  A hook that finds it
 * taken captures into peak.side under peak.side_lock (tried too: a thread
 * that finds both taken leaves the moment to their holders), which the
 * next holder of peak.lock adopts when nearer the peak (peak_adopt_side):
 * the lock's holder may be a writer copying the capture out, for as long
 * as that takes, while the program passes its peak.  Order: peak.lock,
 * then peak.side_lock (tried, or taken by heapsnap_reset_peak alone).
 */
#include <string.h>

#include "record.h"

#define PEAK_STEP_PPM 10000u      /* 1%: the relative growth between captures */
#define PEAK_FLOOR 4096u          /* ... and at least this many bytes */
#define PEAK_TRACE_BYTES 16u      /* ... and as many per trace */
#define PEAK_UNIT_SHIFT 16        /* counts in 1/65536 units, as TRACE_UNIT_SHIFT */

_Atomic uint64_t peak_next;       /* capture when the peak reaches this */
static struct peak_line peak_line0;      /* the shared line */
static struct peak_line peak_line_none;  /* HEAPSNAP_PEAK=off: every thread's, no cells */
#define PEAK_LINE_CHUNKS ((PEAK_LINES - 2) / PEAK_LINE_CHUNK + 1)
/* lines 1.. (per-thread live sums), by (k - 1) / PEAK_LINE_CHUNK: mapped
 * when a claim reaches them, never unmapped (peak_mine points into them) */
static _Atomic(struct peak_line *) peak_line_chunk[PEAK_LINE_CHUNKS];
static atomic_uint peak_lines_top;       /* lines ever claimed: [0, top) */
/* peak_mine (hs_hot): this thread's line, or NULL */
static __thread int peak_lineless;       /* no line to claim (or ended) */
__thread int peak_idle;                  /* HEAPSNAP_PEAK=off: count nothing */
/* peak_last (hs_hot): this thread's last recorded block */

/* One trace's live sums at the capture, kept only for a trace that held
 * something then (count and bytes above zero): most traces of a big
 * program (libtorch's C++ stacks under one import) held nothing at its
 * peak, and a dense array by id mapped 16 bytes for each of them. */
struct peak_kept {
    uint64_t count, bytes;        /* count in 1/65536 units; one 16-byte store */
    uint32_t id, pad;
};

/* A capture: its figures and what each trace held. */
struct peak_cap {
    struct hsnap_peak head;       /* the capture's figures */
    struct peak_kept *kept;       /* the traces that held something */
    size_t kept_len;              /* its mapping, in bytes */
    uint32_t kept_items;          /* entries in kept, by rising id */
    uint32_t kept_n;              /* traces it covers: ids [0, kept_n) */
    void *scratch;                /* PEAK_CHUNK sums, once a chunk had cells on two lines */
};

static struct {
    lock_t lock;                  /* cap */
    lock_t side_lock;             /* side, side_new */
    atomic_int mode;              /* 0 not read yet, else PEAK_ON/EXACT/OFF + 1 */
    struct peak_cap cap;          /* the capture the snapshots write */
    struct peak_cap side;         /* one taken while lock was held (peak_capture) */
    atomic_int side_new;          /* side holds a capture not yet adopted */
    atomic_int doubt;             /* the lines may have left the table's sums: peak_lines_exact */
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

/* Line k, or NULL while its chunk is not mapped (a reader skips it: no
 * thread has claimed it, nor written to it). */
static struct peak_line *peak_line(unsigned k)
{
    if (!k)
        return &peak_line0;
    struct peak_line *c = atomic_load_explicit(&peak_line_chunk[(k - 1) / PEAK_LINE_CHUNK],
                                               memory_order_acquire);
    return c ? c + (k - 1) % PEAK_LINE_CHUNK : NULL;
}

/* Maps chunk j of lines, unless another thread did first: 0, or -1 (no
 * memory: arena_map warned and degraded).  Called with no lock held, as
 * from a hook: a leak check holds the arena's mapping lock while it stops
 * the threads. */
static int peak_line_grow(unsigned j)
{
    size_t bytes = PEAK_LINE_CHUNK * sizeof(struct peak_line);
    struct peak_line *none = NULL, *c = arena_map(bytes);
    if (!c)
        return -1;
    for (unsigned i = 0; i < PEAK_LINE_CHUNK; i++)
        c[i].index = 1 + j * PEAK_LINE_CHUNK + i;
    if (!atomic_compare_exchange_strong(&peak_line_chunk[j], &none, c))
        arena_unmap(c, bytes); /* another thread's came first */
    return 0;
}

/* Where the cells go when not in the arena (the state file, which
 * state_init_as names at start-up, before the first block): NULL, the arena. */
static struct peak_store peak_store;

/* The cells made in the arena before there was a store (an attach that
 * kept no state file, then one that keeps it: state_reattach; or live's
 * request in such a session: state_late) move to the store, sums and all:
 * the file's readers (heapsnap live) find only the cells its directory
 * names, and saw none of a thread's sums until then.  A chunk the store
 * cannot give stays where it is.  The old chunks stay allocated: hooks
 * may record meanwhile, and one may hold a chunk's address for a few
 * instructions (a sum it moves there then is lost to the view; the
 * snapshots' sums come from the table).  It happens once in a process's
 * life: the store, once set, stays. */
static void peak_adopt(void)
{
    unsigned top = atomic_load(&peak_lines_top);
    for (unsigned k = 0; k < top; k++) {
        struct peak_line *l = peak_line(k);
        for (unsigned j = 0; l && j < PEAK_CHUNKS; j++) {
            struct peak_cell *c = atomic_load(&l->chunk[j]), *f;
            if (!c || !(f = peak_store.cells(l->index, j)))
                continue;
            for (unsigned i = 0; i < PEAK_CHUNK; i++) {
                atomic_store_explicit(&f[i].count, atomic_load(&c[i].count), memory_order_relaxed);
                atomic_store_explicit(&f[i].bytes, atomic_load(&c[i].bytes), memory_order_relaxed);
            }
            atomic_store_explicit(&l->chunk[j], f, memory_order_release);
        }
    }
}

void peak_set_store(const struct peak_store *s)
{
    int late = !peak_store.cells && s->cells;
    peak_store = *s;
    if (late && atomic_load(&peak_lines_top)) /* a move made meanwhile may be lost */
        peak_doubt();
    if (late)
        peak_adopt();
}

/* A line's cells for id's chunk, made if missing (only its thread makes
 * them, but line 0's are shared: a CAS). */
static struct peak_cell *peak_chunk(struct peak_line *l, uint32_t id)
{
    _Atomic(struct peak_cell *) *slot = &l->chunk[id >> PEAK_CHUNK_BITS];
    struct peak_cell *c = atomic_load_explicit(slot, memory_order_acquire), *none = NULL;
    if (c)
        return c;
    /* in the state file when there is one (peak_set_store): the sums survive a kill */
    int kept = peak_store.cells &&
               (c = peak_store.cells(l->index, id >> PEAK_CHUNK_BITS)) != NULL;
    if (!c && !(c = arena_alloc(PEAK_CHUNK * sizeof *c)))
        return NULL;
    if (!atomic_compare_exchange_strong(slot, &none, c)) {
        if (kept)
            peak_store.drop(c);
        else
            arena_free(c, PEAK_CHUNK * sizeof *c);
        return none;
    }
    /* The newest traces' chunk past the first fills as they come, a cell's
     * first touch a write (line_own_add): a fault a page, 3.8k of them in
     * the state file's chunks as `import torch` makes 1.14M traces (which
     * keep only their first page resident for a program with few sites,
     * state_map_near).  Resident in one call; an older chunk (a thread's
     * first charge of old traces) stays sparse, as the first does. */
    uint32_t newest = trace_count() - 1;
    if (id >> PEAK_CHUNK_BITS && id >> PEAK_CHUNK_BITS == newest >> PEAK_CHUNK_BITS)
        arena_populate(c, PEAK_CHUNK * sizeof *c);
    return c;
}

/* A free line for this thread, in the chunks mapped (a new chunk only
 * when all their lines are owned); NULL when there is none or no memory
 * for one: the thread shares line 0, as past PEAK_LINES. */
static struct peak_line *peak_claim(void)
{
    struct peak_line *l = NULL;
    for (unsigned k = 1; k < PEAK_LINES && !l; k++) {
        struct peak_line *c = peak_line(k);
        if (!c && (peak_line_grow((k - 1) / PEAK_LINE_CHUNK) != 0 || !(c = peak_line(k))))
            break;
        if (line_claim(&c->owned, &peak_lines_top, k))
            l = c;
    }
    if (!l)
        peak_lineless = 1;
    peak_mine = l;
    trace_lines_check();
    return l;
}

/* peak_move's slow path: the thread's first move, a new chunk of ids, or
 * no line of its own (line 0, atomic adds). */
HS_NOINLINE void peak_move_slow(uint32_t id, int64_t n, int64_t bytes)
{
    struct peak_line *l = peak_mine;
    struct peak_cell *c;
    if (peak_mode() == PEAK_OFF) {
        peak_idle = 1; /* the hot path pays a load and a branch */
        if (!l) { /* the plain paths' line (lines_mine): one without cells */
            peak_mine = &peak_line_none;
            trace_lines_check();
        }
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
    line_top_raise(&peak_lines_top, 1);
    if (!(c = peak_chunk(&peak_line0, id))) {
        peak_doubt(); /* out of memory: the arena's warning is enough */
        return;
    }
    c += id & (PEAK_CHUNK - 1);
    atomic_fetch_add_explicit(&c->count, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->bytes, bytes, memory_order_relaxed);
}

/* The thread ends: its line goes back (its sums stay in it, for the next
 * owner to go on from); what it still moves goes to line 0. */
void peak_thread_end(void)
{
    struct peak_line *l = peak_mine;
    lines_mine = 0; /* the plain paths' line goes first (record.h) */
    peak_mine = NULL;
    peak_lineless = 1;
    if (l)
        atomic_store_explicit(&l->owned, 0, memory_order_release);
}

/* In a fork's child only this thread is left: the other lines go back.
 * Only lines ever claimed, and only where owned: the lines are 32 KiB
 * apart, and a write to each cost every fork's child 63 page faults. */
void peak_after_fork_child(void)
{
    unsigned top = atomic_load(&peak_lines_top);
    for (unsigned k = 1; k < top; k++) {
        struct peak_line *l = peak_line(k);
        if (l && l != peak_mine && atomic_load_explicit(&l->owned, memory_order_relaxed))
            atomic_store_explicit(&l->owned, 0, memory_order_relaxed);
    }
    lock_drop(&peak.lock); /* a thread that was capturing is gone */
    lock_drop(&peak.side_lock);
}

/* heapsnap_clear_traces: every live block is forgotten. */
static void peak_clear_lines(void)
{
    unsigned top = atomic_load(&peak_lines_top);
    for (unsigned k = 0; k < top; k++) {
        struct peak_line *l = peak_line(k);
        for (unsigned j = 0; l && j < PEAK_CHUNKS; j++) {
            struct peak_cell *c = atomic_load(&l->chunk[j]);
            for (unsigned i = 0; c && i < PEAK_CHUNK; i++) {
                atomic_store_explicit(&c[i].count, 0, memory_order_relaxed);
                atomic_store_explicit(&c[i].bytes, 0, memory_order_relaxed);
            }
        }
    }
}

/* The least growth between two captures, with n traces: PEAK_FLOOR, or
 * PEAK_TRACE_BYTES per trace, which bounds the captures' cost (a few
 * instructions per trace) per byte the program allocates. */
static uint64_t peak_floor(uint32_t n)
{
    uint64_t f = (uint64_t)n * PEAK_TRACE_BYTES;
    return f > PEAK_FLOOR ? f : PEAK_FLOOR;
}

/* The threshold after a capture of a state of `bytes` traced bytes. */
static uint64_t peak_step(uint64_t bytes)
{
    if (peak_mode() == PEAK_EXACT)
        return bytes + 1;
    uint64_t step = bytes / 1000000u * PEAK_STEP_PPM, floor = peak_floor(trace_count());
    return bytes + (step > floor ? step : floor);
}

/* Room for n entries in c's kept array; its lock held.  0, or -1 when the
 * arena has none (arena_map warned, and the shim degrades).  Grown by an eighth and
 * whole pages, its pages moved by the kernel (arena_remap): captures come
 * often while a program starts, and a copy to a fresh mapping faulted
 * every page in again.  Not doubled: a program of a million traces would
 * map up to 16 MiB it never uses (the shim's own memory counts mappings). */
static int peak_room(struct peak_cap *c, uint32_t n)
{
    size_t need = (size_t)n * sizeof *c->kept, len;
    if (need > c->kept_len) {
        len = (need + need / 8 + 4095) & ~(size_t)4095;
        struct peak_kept *k = c->kept ? arena_remap(c->kept, c->kept_len, len) : arena_map(len);
        if (!k)
            return -1;
        arena_populate((char *)k + c->kept_len, len - c->kept_len); /* filled next */
        c->kept = k;
        c->kept_len = len;
    }
    return 0;
}

static uint64_t peak_since_start(void)
{
    uint64_t now = clock_now_ns(), start = clock_start_ns();
    return now > start ? now - start : 0;
}

/* The capture's head figures for its kept sums, at write time (negative
 * sums - a line read while its thread moved a block - count nothing). */
static void peak_head(void)
{
    struct peak_cap *c = &peak.cap;
    uint64_t half = 1u << (PEAK_UNIT_SHIFT - 1), blocks = 0, bytes = 0;
    uint32_t count = 0;
    for (uint32_t i = 0; i < c->kept_items; i++) {
        const struct peak_kept *k = &c->kept[i];
        count++;
        blocks += (k->count + half) >> PEAK_UNIT_SHIFT;
        bytes += k->bytes;
    }
    uint32_t step = peak_mode() == PEAK_EXACT ? 0 : PEAK_STEP_PPM;
    c->head.bytes = bytes;
    c->head.blocks = blocks;
    c->head.count = count;
    c->head.step_ppm = step;
    c->head.floor = step ? (uint32_t)peak_floor(c->kept_n) : 0;
}

/* A cell's two sums as one SSE2 vector: a capture adds them up with one
 * paddq per trace and line. */
typedef int64_t peak_pair __attribute__((vector_size(16), aligned(8), may_alias));

/* Appends trace id's sums to capture c when they hold something (a
 * trace whose lines add up to less than nothing, read while they moved,
 * holds nothing); its lock held.  0, or -1 when out of memory. */
static inline int peak_keep_one(struct peak_cap *c, uint32_t id, int64_t count, int64_t bytes)
{
    if (count <= 0 || bytes < 0)
        return 0;
    if (HS_UNLIKELY((size_t)(c->kept_items + 1) * sizeof *c->kept > c->kept_len) &&
        peak_room(c, c->kept_items + 1) != 0)
        return -1;
    c->kept[c->kept_items++] = (struct peak_kept){(uint64_t)count, (uint64_t)bytes, id, 0};
    return 0;
}

/* The capture made the dense sums live[0, n); lock held.  0, or -1 when
 * out of memory (then the capture holds what fitted, as peak_sum's). */
static int peak_keep_dense(const struct trace_live *live, uint32_t n)
{
    struct peak_cap *c = &peak.cap;
    c->kept_items = 0;
    c->kept_n = n;
    for (uint32_t id = 0; id < n; id++)
        if (peak_keep_one(c, id, (int64_t)live[id].count, (int64_t)live[id].bytes) != 0)
            return -1;
    return 0;
}

/* The lines added up into out for traces [0, n).  Plain loads
 * of cells other threads may be writing (each sum a whole 8-byte word on
 * x86-64, as its thread stores it). */
static uint64_t peak_sum_into(struct trace_live *out, uint32_t n)
{
    unsigned top = atomic_load_explicit(&peak_lines_top, memory_order_acquire);
    peak_pair *restrict k = (peak_pair *)out, acc = {0, 0};
    for (uint32_t base = 0; base < n; base += PEAK_CHUNK) {
        uint32_t end = n - base < PEAK_CHUNK ? n - base : PEAK_CHUNK;
        int set = 0; /* the first line with cells here is copied, the others added */
        for (unsigned l = 0; l < top; l++) {
            struct peak_line *line = peak_line(l);
            if (!line)
                continue;
            const peak_pair *restrict c = (const peak_pair *)atomic_load_explicit(
                &line->chunk[base >> PEAK_CHUNK_BITS], memory_order_acquire);
            if (!c)
                continue;
            if (set)
                for (uint32_t j = 0; j < end; j++)
                    k[base + j] += c[j];
            else
                for (uint32_t j = 0; j < end; j++)
                    k[base + j] = c[j];
            for (uint32_t j = 0; j < end; j++)
                acc += c[j];
            set = 1;
        }
        if (!set)
            memset(&k[base], 0, (size_t)end * sizeof *k);
    }
    return acc[1] > 0 ? (uint64_t)acc[1] : 0;
}

/* Ids [base, base + end) of the lines added up: the cells of the one
 * line that has any there (one thread's program), else their sum in
 * cap's scratch; NULL when no line has cells there, or when out of
 * memory for the scratch (*fail set: the arena warned, the shim
 * degrades). */
static const peak_pair *peak_lines_chunk(struct peak_cap *cap, unsigned top, uint32_t base,
                                         uint32_t end, int *fail)
{
    const peak_pair *one = NULL;
    unsigned lines = 0;
    for (unsigned l = 0; l < top; l++) {
        struct peak_line *line = peak_line(l);
        const peak_pair *c = line ? (const peak_pair *)atomic_load_explicit(
                                        &line->chunk[base >> PEAK_CHUNK_BITS],
                                        memory_order_acquire)
                                  : NULL;
        if (!c)
            continue;
        if (lines == 1 && !cap->scratch &&
            !(cap->scratch = arena_alloc(PEAK_CHUNK * sizeof(peak_pair)))) {
            *fail = 1;
            return NULL;
        }
        peak_pair *scratch = cap->scratch;
        if (lines == 1)
            for (uint32_t j = 0; j < end; j++)
                scratch[j] = one[j];
        if (lines >= 1)
            for (uint32_t j = 0; j < end; j++)
                scratch[j] += c[j];
        one = c;
        lines++;
    }
    return lines == 1 ? one : lines ? (const peak_pair *)cap->scratch : NULL;
}

/* The lines added up into the capture for traces [0, n), a chunk of ids
 * at a time (peak_lines_chunk).  The sum of every cell; *fail set when out of
 * memory (the capture keeps what fitted, and peak_head sums that). */
static uint64_t peak_sum(struct peak_cap *cap, uint32_t n, int *fail)
{
    unsigned top = atomic_load_explicit(&peak_lines_top, memory_order_acquire);
    peak_pair acc = {0, 0};
    cap->kept_items = 0;
    cap->kept_n = n;
    *fail = 0;
    for (uint32_t base = 0; base < n; base += PEAK_CHUNK) {
        uint32_t end = n - base < PEAK_CHUNK ? n - base : PEAK_CHUNK;
        const peak_pair *k = peak_lines_chunk(cap, top, base, end, fail);
        if (*fail)
            return 0;
        /* the array's end in locals: its stores could alias cap's fields */
        struct peak_kept *out = cap->kept;
        uint32_t items = cap->kept_items, room = (uint32_t)(cap->kept_len / sizeof *out);
        for (uint32_t j = 0; k && j < end; j++) {
            peak_pair v = k[j];
            acc += v;
            if ((int64_t)(((uint64_t)v[0] - 1) | (uint64_t)v[1]) < 0)
                continue; /* count <= 0 or bytes < 0 (a count is never INT64_MIN) */
            if (HS_UNLIKELY(items == room)) {
                if (peak_room(cap, items + 1) != 0) {
                    cap->kept_items = items;
                    *fail = 1;
                    return 0;
                }
                out = cap->kept;
                room = (uint32_t)(cap->kept_len / sizeof *out);
            }
            *(peak_pair *)&out[items] = v;
            out[items++].id = base + j;
        }
        cap->kept_items = items;
    }
    return acc[1] > 0 ? (uint64_t)acc[1] : 0;
}

/* The bytes the lines add up to for traces [0, n), a trace that holds
 * nothing (peak_live) counted as none: what peak_sum would keep, with
 * no array by trace (a snapshot of a million traces would fault in 16
 * MiB for it, each time).  *fail as peak_sum's. */
static uint64_t peak_lines_bytes(struct peak_cap *cap, uint32_t n, int *fail)
{
    unsigned top = atomic_load_explicit(&peak_lines_top, memory_order_acquire);
    uint64_t bytes = 0;
    *fail = 0;
    for (uint32_t base = 0; base < n; base += PEAK_CHUNK) {
        uint32_t end = n - base < PEAK_CHUNK ? n - base : PEAK_CHUNK;
        const peak_pair *k = peak_lines_chunk(cap, top, base, end, fail);
        if (*fail)
            return 0;
        for (uint32_t j = 0; k && j < end; j++)
            if ((int64_t)(((uint64_t)k[j][0] - 1) | (uint64_t)k[j][1]) >= 0)
                bytes += (uint64_t)k[j][1];
    }
    return bytes;
}

/* The live sums now of traces [0, n) (the state file's document, state_beat_now):
 * a trace whose lines add up to less than nothing (read while they moved:
 * a block freed by another thread than its own, one line down before the
 * other is read up) holds nothing.  A mapped range cut in pieces counts
 * as its pieces (trace_recut), so a count of 0 is a trace with nothing. */
void peak_live(struct trace_live *out, uint32_t n)
{
    peak_sum_into(out, n);
    for (uint32_t id = 0; id < n; id++)
        if ((int64_t)out[id].count <= 0 || (int64_t)out[id].bytes < 0)
            out[id] = (struct trace_live){0, 0};
}

/* The lines' live sums now of traces [0, n) (the site line, sl_sample),
 * as summed: the caller takes the held frees out after (sl_unheld), so a
 * trace's bytes stand whatever its count; bytes read below nothing (while
 * they moved) are none. */
void peak_live_bytes(struct trace_live *out, uint32_t n)
{
    peak_sum_into(out, n);
    for (uint32_t id = 0; id < n; id++)
        if ((int64_t)out[id].bytes < 0)
            out[id].bytes = 0;
}

/* The lines may no longer add up to the live blocks' sums: a move lost
 * (no memory for a cell), cells adopted while hooks moved them
 * (peak_adopt), a clear while other threads kept fresh blocks
 * (trace_clear).  For good: a walk of the table answers from then on. */
void peak_doubt(void)
{
    atomic_store(&peak.doubt, 1);
}

/* Whether peak_live's sums are the table's (the fresh blocks, the held
 * ones and the mapped ranges with them; the site line, sl_sample):
 * lines kept (not HEAPSNAP_PEAK=off), none in doubt, and not a child no
 * fork handler reached (its moves are not made: base_unforked). */
int peak_lines_exact(void)
{
    return peak_mode() != PEAK_OFF && !atomic_load_explicit(&peak.doubt, memory_order_relaxed) &&
           !base_unforked();
}

/* Lines ever claimed, line 0 counted (what peak_live adds up for each
 * chunk of ids at most). */
unsigned peak_lines_used(void)
{
    return atomic_load_explicit(&peak_lines_top, memory_order_relaxed);
}

/* Takes into c a capture of now's live sums, the peak being peak_now;
 * c's lock held.  The next is due a step above the higher of the two: with
 * several threads the sums may lag trace_totals' peak (its folds), and a
 * threshold above the sums alone would capture at every move of the peak.
 * 0, or -1 (no memory: c holds part of a capture). */
static int peak_take(struct peak_cap *c, uint64_t peak_now)
{
    uint64_t t = peak_since_start();
    uint32_t n = trace_count();
    int fail;
    uint64_t bytes = peak_sum(c, n, &fail);
    if (fail)
        return -1;
    c->head = (struct hsnap_peak){.t_ns = t, .bytes = bytes};
    atomic_store_explicit(&peak_next, peak_step(bytes > peak_now ? bytes : peak_now),
                          memory_order_relaxed);
    return 0;
}

/* The side capture as the capture, when one was taken and holds more;
 * peak.lock held.  Skipped while a hook takes one (the next holder of
 * the lock looks again). */
static void peak_adopt_side(void)
{
    if (!atomic_load_explicit(&peak.side_new, memory_order_acquire) || !lock_try(&peak.side_lock))
        return;
    if (atomic_load_explicit(&peak.side_new, memory_order_relaxed) &&
        peak.side.head.bytes > peak.cap.head.bytes) {
        struct peak_cap c = peak.cap; /* buffers swapped: each keeps its mapping */
        peak.cap = peak.side;
        peak.side = c;
    }
    atomic_store_explicit(&peak.side_new, 0, memory_order_relaxed);
    lock_drop(&peak.side_lock);
}

/* From trace_charge's slow paths, on a charge that raised the peak to at
 * least peak_next (guard_on set, no lock held).  With peak.lock taken,
 * by a writer copying the capture out or another capture, this moment
 * goes to the side capture: a writer may hold the lock past the peak
 * (a block freed again at once), and the capture of it would be lost. */
HS_NOINLINE void peak_capture(uint64_t peak_now)
{
    if (peak_mode() == PEAK_OFF) {
        atomic_store(&peak_next, UINT64_MAX);
        return;
    }
    struct peak_cap *c = &peak.cap;
    lock_t *l = &peak.lock;
    if (lock_try(l)) {
        peak_adopt_side();
    } else if (c = &peak.side, l = &peak.side_lock, !lock_try(l)) {
        return; /* both taken: another thread is capturing, as near */
    }
    if (peak_now >= atomic_load_explicit(&peak_next, memory_order_relaxed)) {
        if (peak_take(c, peak_now) != 0)
            atomic_store(&peak_next, peak_step(peak_now)); /* no memory: later */
        else if (c == &peak.side)
            atomic_store_explicit(&peak.side_new, 1, memory_order_release);
    }
    lock_drop(l);
}

/* heapsnap_reset_peak, heapsnap_clear_traces: the peak restarts from now,
 * so the capture does too. */
void peak_reset(void)
{
    if (peak_mode() == PEAK_OFF)
        return;
    int saved = guard_enter();
    lock_take(&peak.lock);
    lock_take(&peak.side_lock); /* a side capture is of the peak before */
    atomic_store(&peak.side_new, 0);
    uint64_t now;
    trace_totals(NULL, &now);
    if (peak_take(&peak.cap, now) != 0) {
        peak.cap.head = (struct hsnap_peak){0};
        peak.cap.kept_n = peak.cap.kept_items = 0;
        atomic_store(&peak_next, 0);
    }
    lock_drop(&peak.side_lock);
    lock_drop(&peak.lock);
    guard_leave(saved);
}

/* The lines' sums now, as the capture when above it: the traced size
 * can pass the capture without one (a charge that raised the peak while
 * another thread held the capture's lock, a snapshot's live sums taken
 * before blocks born since: a leak check on a fork, the program's threads
 * running on), and the peak is never below a snapshot's total.  Lock
 * held. */
static void peak_now_above(uint32_t n, uint64_t held)
{
    uint64_t cur;
    int fail;
    trace_totals(&cur, NULL);
    if (cur <= peak.cap.head.bytes + held || !n) /* held: freed, not yet released */
        return;
    uint64_t bytes = peak_lines_bytes(&peak.cap, n, &fail);
    if (fail || bytes <= peak.cap.head.bytes + held)
        return;
    peak_sum(&peak.cap, n, &fail); /* peak_head sums what it kept */
    if (fail)
        return;
    peak.cap.head = (struct hsnap_peak){.t_ns = peak_since_start(), .bytes = bytes,
                                        .flags = HSNAP_PEAK_AT_SNAPSHOT};
    atomic_store(&peak_next, peak_step(bytes));
}

/* The PEAK payload to s: its head, then its items as they are read from
 * the capture (a snapshot's writer compresses them as they come, where a
 * copy of them, the section's size, lay on a big heap's exit peak:
 * peak_put keeps one for the writers that want it).  live[0..n) are the
 * snapshot's own live sums; when they are above the capture, this moment
 * is nearer the peak and becomes the capture, and so do the lines' sums
 * now (peak_now_above), less held, the bytes of the frees the threads
 * still hold (the lines count them until they are released).  tries: 0
 * waits for the lock, else bounded.  0, or -1 (nothing written: no PEAK
 * section). */
#define PEAK_OUT_ITEMS 128 /* items handed to a writer at a time: 3 KiB of stack */
int peak_write(const struct sec_sink *s, const struct trace_live *live, uint32_t n,
               uint32_t ntraces, unsigned tries, uint64_t held)
{
    uint64_t half = 1u << (PEAK_UNIT_SHIFT - 1), bytes = 0;
    if (peak_mode() == PEAK_OFF)
        return -1;
    if (tries ? !lock_take_bounded(&peak.lock, tries) : (lock_take(&peak.lock), 0))
        return -1;
    peak_adopt_side();
    for (uint32_t id = 0; live && id < n; id++)
        bytes += live[id].bytes;
    peak_head();
    if (live && bytes > peak.cap.head.bytes && peak_keep_dense(live, n) == 0) {
        peak.cap.head = (struct hsnap_peak){.t_ns = peak_since_start(), .bytes = bytes,
                                        .flags = HSNAP_PEAK_AT_SNAPSHOT};
        atomic_store(&peak_next, peak_step(bytes));
    }
    if (!tries)
        peak_now_above(n, held);
    peak_head();
    /* a capture the hooks made after the caller counted its ntraces may
     * name newer ones: the snapshot (or state document) has no stacks for
     * them, so its PEAK is the capture's part over [0, ntraces) (not n:
     * the live sums' room runs past the traces counted) */
    const struct peak_cap *c = &peak.cap;
    struct hsnap_peak head = c->head;
    uint32_t items = c->kept_items;
    while (items && c->kept[items - 1].id >= ntraces) {
        const struct peak_kept *k = &c->kept[--items];
        head.count--;
        head.blocks -= (k->count + half) >> PEAK_UNIT_SHIFT;
        head.bytes -= k->bytes;
    }
    s->begin(s->arg, sizeof head + (size_t)head.count * sizeof(struct hsnap_peak_item));
    s->put(s->arg, &head, sizeof head);
    if (s->run)
        s->run(s->arg, sizeof(struct hsnap_peak_item));
    struct hsnap_peak_item it[PEAK_OUT_ITEMS];
    uint32_t m = 0;
    for (uint32_t i = 0; i < items; i++) {
        const struct peak_kept *k = &c->kept[i];
        it[m++] = (struct hsnap_peak_item){k->id, 0, (k->count + half) >> PEAK_UNIT_SHIFT,
                                           k->bytes};
        if (m == PEAK_OUT_ITEMS || i + 1 == items) {
            s->put(s->arg, it, (size_t)m * sizeof *it);
            m = 0;
        }
    }
    if (s->end)
        s->end(s->arg);
    lock_drop(&peak.lock);
    return 0;
}

static void peak_sbuf_begin(void *arg, uint64_t bytes)
{
    sbuf_reserve_all(arg, bytes); /* a failure marks it: the puts then do nothing */
}

static void peak_sbuf_put(void *arg, const void *p, size_t n)
{
    sbuf_put(arg, p, n);
}

int peak_put(struct sbuf *b, const struct trace_live *live, uint32_t n, uint32_t ntraces,
             unsigned tries, uint64_t held)
{
    const struct sec_sink s = {peak_sbuf_begin, NULL, peak_sbuf_put, NULL, b};
    return peak_write(&s, live, n, ntraces, tries, held) != 0 || b->err ? -1 : 0;
}

/* The capture's live sums by trace into out (room for n traces; negative
 * sums read as nothing); the traces it covers, at most n (the in-process
 * dump, heapsnap_dump's HEAPSNAP_DUMP_PEAK). */
uint32_t peak_kept(struct trace_live *out, uint32_t n)
{
    if (peak_mode() == PEAK_OFF)
        return 0;
    lock_take(&peak.lock);
    peak_adopt_side();
    const struct peak_cap *c = &peak.cap;
    if (n > c->kept_n)
        n = c->kept_n;
    memset(out, 0, (size_t)n * sizeof *out);
    for (uint32_t i = 0; i < c->kept_items && c->kept[i].id < n; i++)
        out[c->kept[i].id] = (struct trace_live){c->kept[i].count, c->kept[i].bytes};
    lock_drop(&peak.lock);
    return n;
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

/* TEMPS' counts of traces [from, from + k) into out, as the section has
 * them (whole blocks, rounded): read as the section is written, a run at
 * a time, never held whole (9 MiB at a million traces, at every state
 * document and at exit). */
void peak_temps(uint32_t from, uint32_t k, uint64_t *out)
{
    uint64_t half = 1u << (PEAK_UNIT_SHIFT - 1);
    for (uint32_t i = 0; i < k; i++) {
        uint32_t id = from + i;
        _Atomic uint64_t *c = atomic_load_explicit(&peak.temps[id >> PEAK_CHUNK_BITS],
                                                   memory_order_acquire);
        uint64_t v = c ? atomic_load_explicit(&c[id & (PEAK_CHUNK - 1)], memory_order_relaxed) : 0;
        out[i] = (v + half) >> PEAK_UNIT_SHIFT;
    }
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
