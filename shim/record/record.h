/*
 * record.h - the door of shim/record: the live-block table (table.c,
 * table_hint.c, tblpool.c) with its presence filter (tblfilter.c), the frees and fresh
 * blocks each thread holds back (pending.c), the interned stacks with
 * their per-site sums (traces.c, frametree.c) and failures (tracefail.c),
 * the peak and temporaries (peak.c), sampling, the program's mappings
 * (regions.c), the timeline and the bootstrap buffer.  Below it only base/.  The filter's
 * and the peak's inline tests stay here because the hooks' fast paths
 * read them.  Prefixes: tbl_ (tbl_pool_: tblpool.c, tbl_filter_:
 * tblfilter.c), pend_, trace_, ftree_, peak_, sample_, reg_, timeline_,
 * boot_, watch_ (watch.c: tracemalloc's traced memory since start()),
 * athr_ (athreads.c: the threads that allocate, each trace's).
 * Locks (order in root.h): traces (3), peak (3b), pending (4),
 * table (5), regions (5b), timeline (7).
 */
#ifndef HEAPSNAP_RECORD_H
#define HEAPSNAP_RECORD_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <emmintrin.h>

#include "base.h"
#include "hsnap_format.h"

/* ---- table.c: the live-block table ---- */
struct tbl_entry {
    uintptr_t ptr;  /* 0 = empty slot */
    uint64_t size;  /* requested size */
    uint32_t trace; /* trace id */
    uint32_t epoch; /* birth epoch */
};
int tbl_insert(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
               struct tbl_entry *replaced);
int tbl_hash_insert(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                    struct tbl_entry *replaced); /* the hash alone: tblpool.c */
int tbl_remove(uintptr_t ptr, struct tbl_entry *out);
void tbl_prefetch_ptr(uintptr_t ptr); /* ptr's home slot, ahead of an insert */
/* Where ptr's entry goes: its hash and stripe, worked out once by the
 * prefetch that starts loading its home cluster and given to the insert
 * or remove that follows (a region keeps its stripes for good). */
struct tbl_where {
    uint64_t h;
    void *stripe;
};
void tbl_prefetch_where(uintptr_t ptr, struct tbl_where *w);
void tbl_prefetch_gone(uintptr_t ptr, struct tbl_where *w); /* ... a remove's: all 15 slots */
int tbl_insert_where(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                     struct tbl_entry *replaced, const struct tbl_where *w);
int tbl_remove_where(uintptr_t ptr, struct tbl_entry *out, const struct tbl_where *w);
/* tbl_insert_where with hs_rare 0 (no pool, no filter): hook_insert's plain path */
int tbl_insert_plain(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                     struct tbl_entry *replaced, const struct tbl_where *w);
int tbl_remove_plain(uintptr_t ptr, struct tbl_entry *out, const struct tbl_where *w);
int tbl_find(uintptr_t ptr, struct tbl_entry *out);
typedef int (*tbl_visit_fn)(const struct tbl_entry *e, void *arg);
int tbl_foreach(tbl_visit_fn fn, void *arg);
int tbl_foreach_bounded(tbl_visit_fn fn, void *arg, unsigned tries);
/* fn on a copy of each stripe, its lock dropped: 0, fn's nonzero, or -1 */
int tbl_foreach_copied(tbl_visit_fn fn, void *arg);
/* pending.c: either walk (tries == 0: unbounded) without the held blocks
 * and with the fresh ones;
 * left (may be NULL) gets how many it left out and their bytes, weighed as
 * their discharge will weigh them. */
struct pend_left {
    uint64_t blocks, bytes;
};
int pend_foreach(tbl_visit_fn fn, void *arg, unsigned tries, struct pend_left *left);
#define PEND_DRAIN UINT_MAX /* pend_foreach's tries: the table drained (tbl_drain) */
#define PEND_COPIED (UINT_MAX - 1) /* ... fn outside the stripes' locks (tbl_foreach_copied) */
uint64_t pend_live_count(void);                      /* the table's blocks and the fresh */
uint64_t pend_held_bytes(void); /* what the held frees' blocks weigh now (no lock held) */
void pend_held_foreach(void (*fn)(const struct tbl_entry *e, void *arg), void *arg); /* ... each */
uint64_t pend_held_sig(void);   /* which blocks are held now, as one word: changes when they do */
unsigned pend_forget_fresh(void);                    /* trace_clear: queues left to others */
void pend_forget_owed(void); /* trace_reset_counts: what pend_forget_fresh left, forgotten */
void tbl_lock_all(void);
void tbl_unlock_all(void);
uint64_t tbl_count(void);
size_t tbl_bytes(void);
size_t tbl_shrink(void); /* after a peak: oversized stripes move into smaller arrays; bytes freed */
void tbl_clear(tbl_visit_fn fn, void *arg); /* fn sees each entry, then it goes */
int tbl_drain(tbl_visit_fn fn, void *arg); /* a fork's last walk: each stripe unmapped after */
struct tbl_probe_stats {   /* tbl_probe_stats: what probes cost right now */
    uint64_t entries;      /* live entries counted */
    uint64_t slots;        /* slots in the arrays */
    uint64_t clusters;     /* clusters of 15 slots (a probe reads one at a time) */
    uint64_t hit_reads;    /* sum over entries of the clusters a lookup reads */
    uint64_t miss_reads;   /* sum over clusters of the clusters read by a probe
                            * for an absent key whose home is that cluster */
    uint64_t wrapped;      /* entries stored past the array's end, at its start */
    uint32_t max_dist;     /* longest distance, in clusters, from an entry to its home */
};
void tbl_probe_stats(struct tbl_probe_stats *st);
unsigned tbl_stripe_index(uintptr_t ptr); /* which stripe holds ptr (tests) */
/* tblpool.c: the table's store for the blocks of a pool allocator's
 * regions (pymalloc's arenas), kept by place.  A region's pages are of one
 * size, a power of two, and begin with a header that names their block
 * size; the geometry says where (the same for every region). */
struct tbl_pool_geom {
    uint16_t first;      /* offset of a page's first block */
    uint16_t class_at;   /* offset of the header's uint32_t size class c: blocks of */
    uint16_t last_at;    /* (c + 1) << class_shift bytes; of the uint32_t offset of */
    uint8_t class_shift; /* the page's last block (the page's size less a block) */
    uint8_t classes;     /* size classes: c below this */
};
#define TBL_POOL_ADDR_BITS 48 /* regions below 2^48 */
int tbl_pool_add(uintptr_t lo, size_t n, const struct tbl_pool_geom *g); /* 0, or -1: the hash's */
void tbl_pool_drop(uintptr_t lo, size_t n); /* before its memory goes */
extern int tbl_pool_on; /* some region was added: table.c asks tblpool.c first */
#define TBL_POOL_NOT_MINE (-2) /* tbl_pool_insert: not a pool's block, the hash's */
int tbl_pool_insert(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                    struct tbl_entry *replaced);
int tbl_pool_take(uintptr_t ptr, struct tbl_entry *out, int erase); /* 0: the hash's to answer */
uintptr_t tbl_pool_page(uintptr_t a, unsigned *bsize, size_t *size,
                        unsigned *first); /* a's page, or 0 */
#define TBL_POOL_DRAIN UINT_MAX        /* tbl_pool_foreach: no lock, each region emptied */
#define TBL_POOL_CLEAR (UINT_MAX - 1)  /* ... every lock held, each region emptied */
int tbl_pool_foreach(tbl_visit_fn fn, void *arg, unsigned how); /* how: tries, 0, or the above */
void tbl_pool_lock_all(void);
void tbl_pool_unlock_all(void);
uint64_t tbl_pool_count(void);
size_t tbl_pool_bytes(void);
/* The presence filter (on only in sampled mode): a counter per pointer-hash
 * bucket of the entries in the table, so that a free of a block the table
 * cannot hold costs one load and no lock.  Its group is the whole test of
 * a free's fast path (hook_pass_free): until sampled mode turns it on, and in
 * every other mode, every group reads saturated (0xff from the start; the
 * buckets stay 0 and are never read), so that no free passes without the
 * careful path.  Above the buckets, a counter per
 * group of 128 of them (512 bytes, which stay in the L1 cache): with few
 * sampled blocks live, most frees are answered there, without touching the
 * 64 KiB of buckets, whose random line the free of a cold block missed;
 * the groups keep the 64 KiB's resolution for programs with many sampled
 * blocks.  A group counts what its buckets count, and
 * saturates (0xff, for good) no later than any of them, so a zero group
 * means zero buckets. */
#define TBL_FILTER_BITS 16
#define TBL_FILTER_GROUP_BITS 7
#define TBL_FILTER_GROUPS (1u << (TBL_FILTER_BITS - TBL_FILTER_GROUP_BITS))
extern _Atomic uint8_t tbl_filter_g[TBL_FILTER_GROUPS]; /* .data: saturated from the start */
extern struct tbl_filter { /* .bss: 64 KiB no page of which is touched outside sampled mode */
    _Atomic uint8_t n[1u << TBL_FILTER_BITS];
    int on;
} tbl_filter;
void tbl_filter_enable(void);
void tbl_filter_pin(const void *p); /* p's bucket says "maybe" for good */
void tbl_filter_add(uintptr_t ptr, int delta); /* table.c: an entry came (+1) or went (-1) */
void tbl_filter_clear(void);                   /* table.c: the table was emptied */
/* The filter's bucket of p: the top bits of a multiplicative hash (one
 * multiply, on the free path of every unsampled block). */
static inline unsigned tbl_filter_index(uintptr_t p)
{
    return (unsigned)((p * 0x9e3779b97f4a7c15ULL) >> (64 - TBL_FILTER_BITS));
}
static inline int tbl_filter_group_hit(uintptr_t p) /* p's group counts some entry */
{
    return atomic_load_explicit(&tbl_filter_g[tbl_filter_index(p) >> TBL_FILTER_GROUP_BITS],
                                memory_order_relaxed) != 0;
}
static inline int tbl_filter_hit(uintptr_t p) /* p's bucket counts some entry */
{
    return tbl_filter_group_hit(p) &&
           atomic_load_explicit(&tbl_filter.n[tbl_filter_index(p)], memory_order_relaxed) != 0;
}
static inline int tbl_maybe(uintptr_t p) /* 0: p is certainly not in the table */
{
    return !tbl_filter.on || tbl_filter_hit(p);
}

/* ---- traces.c: interned stacks and per-site sums ---- */
struct trace_stat { /* live sums are derived at snapshot time: trace_live */
    _Atomic uint64_t total_count, total_bytes;
};
struct trace_live {
    uint64_t count, bytes; /* count in 1/65536 units, as the totals */
};
int trace_intern(const uintptr_t *ip, unsigned depth, unsigned flags, uint32_t *id);
/* trace_intern for a stack most likely new (pyfr_trace's splices, which
 * the thread's recent splices missed): the tree straight away, no cache slot. */
int trace_intern_new(const uintptr_t *ip, unsigned depth, unsigned flags, uint32_t *id);
uint64_t trace_hash(const uintptr_t *ip, unsigned depth); /* of a stack: well mixed, all 64 bits */
/* murmur3's 64-bit finalizer, trace_hash's last step: every bit of h
 * carried to every bit of the result (pyfr_native_name's second hash too) */
static inline uint64_t trace_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}
int trace_intern_unsampled(uint32_t *id); /* the <unsampled> pseudo-trace */
void trace_charge(uint32_t id, uint64_t size);    /* a block was born */
void trace_charge_plain(uint32_t id, uint64_t size); /* ... with hook_plain's word (weight 1,
                                                        the thread's own shard and line) */
void trace_discharge(uint32_t id, uint64_t size); /* a block died */
void trace_discharge_plain(uint32_t id, uint64_t size); /* ... the same */
void trace_recut(uint32_t id, uint64_t was, const uint64_t *left, unsigned n); /* a mapped
                                                       range cut down to n pieces */
void trace_rejoin(uint32_t id, const uint64_t *parts, unsigned n); /* n cut pieces one
                                                                     range again */

/* ---- watch.c: tracemalloc's traced memory since start() ---- */
#define WATCH_EPOCH_MAX 65535u /* a block's epoch reads at most this */
extern _Atomic uint32_t watch_from1;
void watch_start(uint32_t epoch);
void watch_stop(void);
void watch_add(int64_t size);
void watch_totals(uint64_t *current, uint64_t *peak);
void watch_reset_peak(int clear);
void trace_discharge_block(const struct tbl_entry *e); /* a table block died */
/* A block born in epoch (snap_epoch) or one of that epoch dying: counted
 * while watching, when the epoch is the watched one or later. */
static inline int watch_counts(uint32_t epoch)
{
    uint32_t w = atomic_load_explicit(&watch_from1, memory_order_relaxed);
    return __builtin_expect(w != 0, 0) &&
           (epoch < WATCH_EPOCH_MAX ? epoch : WATCH_EPOCH_MAX) + 1 >= w;
}
static inline void watch_born(uint32_t epoch, uint64_t size)
{
    if (watch_counts(epoch))
        watch_add((int64_t)size);
}
static inline void watch_died(uint32_t epoch, uint64_t size)
{
    if (watch_counts(epoch))
        watch_add(-(int64_t)size);
}
void trace_forget(uint64_t size);                  /* trace_clear forgets a live block */
uint32_t trace_count(void);
#define TRACE_DEPTH_MAX 256 /* frames in a stack, at most (HEAPSNAP_DEPTH's bound) */
/* For the writer, with trace_lock held: the stack and sums of trace id.
 * trace_stack copies the first max frames (innermost first) to ip and
 * returns the depth; an unknown id has none (0, flags 0). */
unsigned trace_stack(uint32_t id, uintptr_t *ip, unsigned max, unsigned *flags);
unsigned trace_node(uint32_t id, uint32_t *node, unsigned *flags); /* innermost node; depth */
void trace_read_stat(uint32_t id, const struct trace_live *live, struct hsnap_stat *out);
void trace_live_add(struct trace_live *live, uint32_t n, uint32_t id, uint64_t size);
void trace_live_ready(struct trace_live *live, uint32_t n, uint64_t blocks);
void trace_lock(void);
int trace_lock_bounded(unsigned tries);
void trace_unlock(void);
void trace_index_drop(void); /* the index of stacks by hash given back (trace_lock held) */
void trace_totals(uint64_t *current, uint64_t *peak);
void trace_reset_peak(void);
void trace_clear(void);
void trace_reset_counts(void); /* an attach after a detach: totals and peak from now */

/* The twin of trace id for blocks allocated under __lsan_disable: the
 * same frames, HSNAP_TRACE_DISABLED; interned at first use.  The twin's
 * id, or id itself when out of memory. */
uint32_t trace_disabled_twin(uint32_t id);

int trace_twin_new(uint32_t id, unsigned flags, uint32_t *twin); /* same frames, more flags */

/* tracefail.c: failed allocations (FAILED): a call at trace id returned NULL for size
 * bytes (HSNAP_FAILED_OVERFLOW: n * size overflowed); unweighted, kept
 * beside the traces' sums.  trace_fail takes the intern lock (call it
 * after the unwind); trace_fail_put, FAILED's payload for the traces
 * below n (nothing when none failed), wants it held. */
void trace_fail(uint32_t id, uint64_t size);
struct sbuf;
void trace_fail_put(struct sbuf *b, uint32_t n);

/* The index of trace id's thread (athreads.c), HSNAP_THREAD_NONE for a
 * pseudo-trace of every thread's or an unknown id. */
uint32_t trace_thread(uint32_t id);

/* ---- athreads.c: the threads that allocate (THREADS) ---- */
#define ATHR_MAX 1024u /* indexes given; the threads past them share index 0 */
uint32_t athr_mine(void);      /* this thread's index, given at its first call */
void athr_thread_end(void);    /* its name read once more, the record closed */
void athr_after_fork_child(void);
uint32_t athr_count(void);     /* indexes given so far (0 included), at most ATHR_MAX */
/* Record i (< athr_count) into out; fresh: a running thread's name read
 * again (a snapshot, not the fatal path).  0: no record there (yet). */
int athr_get(uint32_t i, struct hsnap_thread *out, int fresh);
/* The running thread tid's Python name (len bytes, under
 * HSNAP_THREAD_NAME), shown instead of its comm from now on, after its
 * end too (the snapshot writer's, which reads them). */
void athr_py_name(int32_t tid, const char *name, uint32_t len);

void trace_alloc_counts(uint64_t *allocs, uint64_t *frees); /* sharded sums */
void trace_thread_end(void);       /* the thread's own line of sums goes back */
/* lines_mine (hs_hot) set when this thread's own pending queue,
 * trace shard and peak line are all there: each claim asks (the careful
 * paths make them), each thread end clears it first. */
void trace_lines_check(void);
void trace_after_fork_child(void); /* ... and every other thread's */
struct trace_counters {
    _Atomic uint64_t foreign_frees;
};
extern struct trace_counters trace_counters;

/* ---- boot.c: the bootstrap buffer, before the real allocator is known ---- */
#define BOOT_SIZE (256u * 1024u)
extern char boot_buf[BOOT_SIZE];
static inline int boot_has(const void *p) /* one compare: below it (NULL too) wraps */
{
    return (uintptr_t)p - (uintptr_t)boot_buf < BOOT_SIZE;
}
void *boot_alloc(size_t n, size_t align); /* zeroed, never freed; NULL: full */
size_t boot_size(const void *p);          /* a boot block's size */

/* ---- pending.c: frees each thread holds back for a few calls, and its
 * fresh blocks, not yet in the table ---- */
#define PEND_BIG 65536u         /* an allocation this big releases them first */
/* pend_self (hs_hot) */
void pend_init(void (*real_free)(void *), int sampled); /* as recording starts */
void *pend_hold(void *p);       /* holds p; returns the block to release now */
void *pend_hold_where(void *p, struct tbl_where *w); /* ... and its where, for pend_release_where */
void *pend_hold_plain(void *p, struct tbl_where *w); /* ... with hook_plain's word (a queue) */
void pend_release(void *p);     /* a held free's end: out of the books, real free */
void pend_release_where(void *p, const struct tbl_where *w); /* ... from pend_hold */
void pend_release_plain(void *p, const struct tbl_where *w); /* ... with hs_rare 0 */
void pend_settle(void);         /* releases what this thread holds */
int pend_settle_one(void);     /* releases the oldest block it holds: 0 if none */
void pend_settle_held(uintptr_t p); /* realloc of p: settles first if this thread holds p */
struct tbl_entry;
/* pend_fresh_on (hs_hot) 0: the two below do nothing (save the call) */
int pend_keep(uintptr_t p, uint64_t size, uint32_t trace, uint32_t epoch); /* 0: kept fresh */
int pend_keep_fresh(uintptr_t p, uint64_t size, uint32_t trace, uint32_t epoch); /* ... plain */
int pend_take(uintptr_t p, struct tbl_entry *e);       /* 1: p was this thread's fresh block */
int pend_take_fresh(uintptr_t p, struct tbl_entry *e); /* ... hook_plain_fresh's, inlined */
int pend_take_other(uintptr_t p, struct tbl_entry *e); /* ... another thread's */
/* This thread allocated p (tracked, n bytes); w gets p's where when its
 * slot was the one prefetched (w->stripe NULL otherwise). */
void pend_born(uintptr_t p, size_t n, struct tbl_where *w);
void pend_born_held(uintptr_t p, size_t n, struct tbl_where *w); /* ... with hook_plain's word */
void pend_born_fresh(uintptr_t p, struct tbl_where *w); /* ... hook_plain_fresh's: kept fresh */
int pend_find_fresh(uintptr_t p, struct tbl_entry *e); /* a copy, the block stays */
int pend_take_any(uintptr_t p, struct tbl_entry *e, int fresh); /* 1: p left the books */
void pend_drop(void *p, int fresh); /* out of the books, discharged (or foreign) */
int pend_unbook(void *p, int fresh); /* the same, silent about unknown blocks */
void pend_lock_all(void);                              /* fork */
void pend_unlock_all(void);
static inline void pend_room(size_t n) /* before an allocation of n bytes */
{
    if (HS_UNLIKELY(n >= PEND_BIG) && pend_self)
        pend_settle();
}
void pend_thread_begin(void);
void pend_thread_end(void);
void pend_after_fork_child(void);

/* ---- regions.c: anonymous memory the program mapped (the mmap kind) ---- */
struct reg_piece {          /* a tracked range, as mremap takes and restores it */
    uintptr_t lo, hi;
    uint32_t trace, epoch;
    uint32_t join;          /* REG_JOIN_*: the sides its range went on past */
};
#define REG_JOIN_LO 1u      /* a piece of its range stayed below lo */
#define REG_JOIN_HI 2u      /* ... above hi */
#define REG_PIECES 16u      /* reg_take's out: room for this many */
#define REG_UNTRACKED UINT32_MAX /* reg_add's trace: a mapping not charged */
#define REG_RESERVED (UINT32_MAX - 1) /* ... address space only (PROT_NONE): kept apart */
int64_t reg_twin(uint32_t id);                   /* id's mmap-kind twin; -1 no memory */
void reg_add(uintptr_t lo, uintptr_t hi, uint32_t trace, uint32_t epoch); /* a new mapping */
void reg_remove(uintptr_t lo, uintptr_t hi);     /* before an munmap */
void reg_protect(uintptr_t lo, uintptr_t hi, uint32_t trace, uint32_t epoch); /* mprotect */
uint64_t reg_reserved_in(uintptr_t lo, uintptr_t hi); /* reserved bytes there */
void reg_reserved(uint64_t *ranges, uint64_t *bytes);  /* the reserved total */
void reg_foreach_resident(void (*fn)(uint32_t trace, uint64_t bytes, void *arg), void *arg);
uint32_t reg_take(uintptr_t lo, uintptr_t hi, struct reg_piece *out); /* mremap's old */
void reg_restore(const struct reg_piece *p, uint32_t n); /* ... back: it failed */
void reg_file_map(void);                         /* a file-backed mapping was made */
uint32_t reg_file_maps(void);
int reg_foreach(void (*fn)(uint32_t trace, uint64_t bytes, void *arg), void *arg,
                unsigned tries);
void reg_totals(uint64_t *ranges, uint64_t *bytes);
int reg_ever_tracked(void);                      /* an mmap-kind twin was made */
void reg_clear(void);                            /* trace_clear */
void reg_lock(void);                             /* fork */
void reg_unlock(void);

/* ---- frametree.c: the tree of frames stacks are kept in.  A node stands
 * for the frames from it out to the root, for good; making nodes and tags
 * takes the caller's lock (traces.c's), reading a stack back none. ---- */
unsigned ftree_path_shared(const uintptr_t *ip, unsigned depth); /* outer frames known */
int64_t ftree_walk_in(const uintptr_t *ip, unsigned depth, unsigned k); /* innermost node */
int ftree_same(uint32_t node, const uintptr_t *ip, unsigned depth);
int ftree_found(uint32_t node, const uintptr_t *ip, unsigned depth); /* the thread's path */
unsigned ftree_copy(uint32_t node, unsigned depth, uintptr_t *ip, unsigned max);
uint32_t ftree_tag(uint32_t node);
void ftree_set_tag(uint32_t node, uint32_t tag);
uintptr_t ftree_frame(uint32_t node, uint32_t *parent); /* a node's frame and parent */
void ftree_index_drop(void); /* the index given back until nodes are made again */
/* How many of the m words before a and before b are equal, counted from
 * the end in (a[-1] == b[-1], a[-2] == b[-2], ...): two stacks' shared
 * outer frames.  Eight words a turn in SSE2 (x86-64's baseline), their
 * 32-bit lanes compared and and-ed, then four, then one at a time, so
 * that a long shared part costs well under one instruction a word (the
 * walks' compares: ftree_walk_in's path, pyfr_walk_take;
 * scripts/bench/pystartcount.py). */
static inline int ftree_same4(const uintptr_t *x, const uintptr_t *y)
{
    __m128i e = _mm_and_si128(
        _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(x - 2)),
                        _mm_loadu_si128((const __m128i *)(y - 2))),
        _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(x - 4)),
                        _mm_loadu_si128((const __m128i *)(y - 4))));
    return _mm_movemask_epi8(e) == 0xffff;
}

static inline int ftree_same8(const uintptr_t *x, const uintptr_t *y)
{
    __m128i e = _mm_and_si128(
        _mm_and_si128(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(x - 2)),
                                      _mm_loadu_si128((const __m128i *)(y - 2))),
                      _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(x - 4)),
                                      _mm_loadu_si128((const __m128i *)(y - 4)))),
        _mm_and_si128(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(x - 6)),
                                      _mm_loadu_si128((const __m128i *)(y - 6))),
                      _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(x - 8)),
                                      _mm_loadu_si128((const __m128i *)(y - 8)))));
    return _mm_movemask_epi8(e) == 0xffff;
}

static inline unsigned ftree_tail_same(const uintptr_t *a, const uintptr_t *b, unsigned m)
{
    const uintptr_t *x = a, *y = b, *x8 = a - (m & ~7u), *x0 = a - m;
    while (x != x8 && ftree_same8(x, y))
        x -= 8, y -= 8;
    if (x0 + 4 <= x && ftree_same4(x, y))
        x -= 4, y -= 4;
    while (x != x0 && x[-1] == y[-1])
        x--, y--;
    return (unsigned)(a - x);
}

/* ---- peak.c: the peak's capture (PEAK) and temporary allocations (TEMPS) ---- */
#define PEAK_CHUNK_BITS 12
#define PEAK_CHUNK (1u << PEAK_CHUNK_BITS)  /* trace ids per chunk of cells */
#define PEAK_CHUNKS 4096u                   /* as TRACE_CHUNKS: 16M ids */
#define PEAK_LINES 64                       /* threads with a line of their own */
#define PEAK_LINE_CHUNK 8                   /* lines 1.. mapped this many at a time */
struct peak_cell {                          /* one trace's live sums on one line */
    _Atomic int64_t count, bytes;           /* count in 1/65536 units; < 0: this
                                               thread freed others' blocks */
};
struct peak_line {
    atomic_int owned;                       /* claimed by a live thread (never line 0) */
    unsigned index;                         /* its number, 0 to PEAK_LINES - 1 */
    _Atomic(struct peak_cell *) chunk[PEAK_CHUNKS]; /* by id >> PEAK_CHUNK_BITS */
};
/* peak_mine (hs_hot) */
extern __thread int peak_idle;       /* HEAPSNAP_PEAK=off: count nothing */
void peak_move_slow(uint32_t id, int64_t n, int64_t bytes);
/* A block of trace id was born (+) or died (-) (traces.c, with the weights
 * it has): this thread's line of live sums per trace moves. */
static inline void peak_move_in(uint32_t id, int64_t n, int64_t bytes, int plain)
{
    struct peak_line *l = peak_mine;
    struct peak_cell *c;
    /* The cells may be the parent's file's pages; plain: the hooks' plain
     * test read the fork mark (HS_FORK_MARK) and lines_mine, a line. */
    if (!plain && base_unforked())
        return;
    if ((plain || HS_LIKELY(l != NULL)) &&
        HS_LIKELY((c = atomic_load_explicit(&l->chunk[id >> PEAK_CHUNK_BITS],
                                            memory_order_relaxed)) != NULL)) {
        c += id & (PEAK_CHUNK - 1);
        line_own_add(&c->count, (uint64_t)n);
        line_own_add(&c->bytes, (uint64_t)bytes);
    } else if (!peak_idle) {
        peak_move_slow(id, n, bytes);
    }
}
static inline void peak_move(uint32_t id, int64_t n, int64_t bytes)
{
    peak_move_in(id, n, bytes, 0);
}
void peak_thread_end(void);
void peak_after_fork_child(void);
extern _Atomic uint64_t peak_next; /* capture when the peak reaches it */
void peak_capture(uint64_t peak_now);
/* traces.c's slow paths, after a charge raised the peak: a capture when
 * it passed the threshold.  Not on the hot path: only where the peak moved. */
static inline void peak_check(uint64_t peak_now)
{
    if (HS_UNLIKELY(peak_now >= atomic_load_explicit(&peak_next, memory_order_relaxed)))
        peak_capture(peak_now);
}
void peak_reset(void);                /* heapsnap_reset_peak, _clear_traces */
struct sbuf;
/* PEAK into b: live[0, n) the snapshot's sums, ntraces the traces its
 * TRACES holds (items past them left out) */
int peak_put(struct sbuf *b, const struct trace_live *live, uint32_t n, uint32_t ntraces,
             unsigned tries, uint64_t held);
/* ... or to a sink (base.h) as it is read from the capture: the head,
 * its items' run, the items a few at a time, end (peak.lock held: a
 * capture the hooks take meanwhile goes to the side one) */
int peak_write(const struct sec_sink *s, const struct trace_live *live, uint32_t n,
               uint32_t ntraces, unsigned tries, uint64_t held);
void peak_temps(uint32_t from, uint32_t k, uint64_t *out); /* TEMPS' counts, a run */
void peak_live(struct trace_live *out, uint32_t n); /* the lines' live sums now */
void peak_live_bytes(struct trace_live *out, uint32_t n); /* ... bytes as they are */
int peak_lines_exact(void);           /* ... are the table's (the site line's choice) */
unsigned peak_lines_used(void);       /* lines ever claimed */
void peak_doubt(void);                /* ... not the table's any more, for good */
uint32_t peak_kept(struct trace_live *out, uint32_t n); /* the capture's; traces covered */
struct peak_store { /* cells kept elsewhere than the arena (state_cells) */
    void *(*cells)(unsigned line, unsigned chunk); /* zeroed cells, or NULL: the arena */
    void (*drop)(const void *c);                   /* ... not kept after all */
};
void peak_set_store(const struct peak_store *s); /* cells made before move to it */
void peak_clear(void);                /* heapsnap_clear_traces */
/* peak_last (hs_hot): this thread's last recorded block */
static inline void peak_born(uintptr_t p, uint32_t id, uint64_t size) /* the record path */
{
    struct hs_recent *l = &peak_last;
    l->p = ~p;
    l->size = size;
    l->trace = id;
}
void peak_temp(void);
/* TEMPS, in the free hook (and realloc's free of its old block): a
 * compare and branch.  Heaptrack's rule: temporary only when the very next
 * event after its allocation frees it, so any free ends the chance of the
 * block before it (test temps_interleaved_are_not_temporary). */
static inline void peak_freed(const void *p)
{
    if (HS_UNLIKELY(~(uintptr_t)p == peak_last.p))
        peak_temp();
    else
        peak_last.p = 0;
}

/* ---- sample.c: HEAPSNAP_SAMPLE ---- */
void sample_init(void);
uint64_t sample_interval(void);       /* 0 = off */
int sample_weighted(void);            /* sums are estimates (not LEAKS) */
int sample_hit(int64_t *left, size_t n); /* countdown ran out: sampled? */
extern int sample_estimates;          /* = sample_weighted(), for the hot path */
/* Returned, not written through pointers: the inlined sample_weigh's
 * outputs stay in registers (an address passed out kept them in memory,
 * stored once and loaded at each use, on every charge and discharge). */
struct sample_weight {
    uint64_t count, bytes;
};
struct sample_weight sample_weigh_estimate(uint64_t size);
/* What a recorded block of size bytes stands for: *count in 1/65536 units,
 * *bytes in bytes.  Weight 1 unless estimates are on (inline: every charge
 * and discharge asks). */
static inline void sample_weigh(uint64_t size, uint64_t *count, uint64_t *bytes)
{
    if (HS_LIKELY(!sample_estimates)) {
        *count = 1u << 16;
        *bytes = size;
        return;
    }
    struct sample_weight w = sample_weigh_estimate(size);
    *count = w.count;
    *bytes = w.bytes;
}

/* ---- timeline.c: the heap over time ---- */
void timeline_init(void);    /* start-up, and a new attach: empty */
void timeline_tick(void);    /* life_tick: a point, when one is due */
void timeline_fall(void);    /* trace_fold, the heap fell: a point, early once a step */
void timeline_idle(void);    /* the helper: a point, when the heap moved since the last */
/* With the timeline lock held by the caller of timeline_lock. */
unsigned timeline_copy(struct hsnap_point *dst, unsigned cap);
void timeline_lock(void);
int timeline_lock_bounded(unsigned tries);
void timeline_unlock(void);

#endif
