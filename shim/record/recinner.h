/*
 * recinner.h - shim/record's own declarations, for its files alone (the
 * door is record.h): the live-block table's layout, which table.c (the
 * probes) and table_hint.c (where a pointer's entry lives: its hash, its
 * region's stripes, its home cluster, and the prefetch that keeps them)
 * share.  The hot helpers are inline here so that both inline them.
 * Also the threads' queues of held frees and fresh blocks, which
 * pending.c and pendwalk.c share, and what traces.c asks of tracefail.c
 * (the failures by trace).
 */
#ifndef HEAPSNAP_RECORD_INNER_H
#define HEAPSNAP_RECORD_INNER_H

#include "record.h"

#define TBL_GROUP_BITS 4 /* stripes in a group: 16 */
#define TBL_GROUPS 8u
#define TBL_STRIPES (TBL_GROUPS << TBL_GROUP_BITS)
#define TBL_REGION_SHIFT 26 /* 64 MiB: glibc's HEAP_MAX_SIZE on 64-bit */
#define TBL_INITIAL 16u /* clusters in a stripe's first array: one page */
#define TBL_MAX_CLUSTERS (1u << 26) /* 16 GiB per stripe: never reached */
#define TBL_LOAD_NUM 7u /* grow past 7/8 full */
#define TBL_LOAD_DEN 8u
#define TBL_CLUSTER 15u /* slots in a cluster */
#define TBL_ALL 0x7fffu /* a cluster's slots, as a mask of its control bytes */
#define TBL_EMPTY 0x00u /* control bytes: 0, the fresh page's byte, or a live slot's */
#define TBL_LIVE 0x80u  /* ... TBL_LIVE | its 7-bit tag */
#define TBL_OVER 15     /* ctrl[TBL_OVER]: entries whose probe passed the cluster */
#define TBL_OVER_MAX 255u /* ... saturated: stays until the array is rebuilt */

#define TBL_PTR_BITS 48
#define TBL_SIZE_BITS 40
#define TBL_LOW(bits) (((uint64_t)1 << (bits)) - 1)

struct tbl_slot {
    uint64_t w0; /* ptr | epoch << 48 */
    uint64_t w1; /* size | trace << 40 */
};

/* Four cache lines: the control bytes share the first with three slots. */
struct tbl_cluster {
    _Alignas(64) uint8_t ctrl[16]; /* 15 slots' bytes, then the overflow count */
    struct tbl_slot slot[TBL_CLUSTER];
};

struct tbl_stripe {
    lock_t lock;
    uint32_t count;            /* live entries */
    /* The fields below change only when the array is rebuilt, and every
     * free and allocation reads them before it takes the lock
     * (tbl_prefetch): on a line of their own they stay shared between
     * cores, where on the lock's line each read would fetch the line
     * another core just wrote. */
    char apart[64 - sizeof(lock_t) - sizeof(uint32_t)];
    uint32_t clusters;         /* in the array; 0 while cl == NULL */
    uint32_t limit;            /* most entries before it grows: 7/8 of the slots */
    struct tbl_cluster *cl;    /* a mapping of its own */
} __attribute__((aligned(64)));

/* The stripes, in table.c. */
extern struct tbl_table {
    struct tbl_stripe stripe[TBL_STRIPES];
} tbl;

/* One multiply (Fibonacci hashing): its high bits depend on every bit of
 * the pointer below them, which is all a stripe (bits 60-63), a home
 * cluster (bits 28-59) and a tag (bits 21-27, which depend on the
 * pointer's bits 4-27: what tells apart blocks near each other) need, at
 * the cost of one instruction on each of a block's three lookups
 * (prefetch, insert, remove). */
static inline uint64_t tbl_hash(uintptr_t ptr)
{
    return (uint64_t)ptr * 0x9e3779b97f4a7c15ULL;
}

/* Which stripes serve an address region: one byte per TBL_REGION_SHIFT
 * region, indexed by the region number's low 12 bits (regions 256 GiB
 * apart share a byte, and so a group: only locality is at stake).  A byte
 * for every region of the 48-bit space was 4 MiB of bss, and bss counts
 * against a program's RLIMIT_AS.  0: not yet claimed; else 1 + the
 * region's group. */
#define TBL_REGIONS (1u << 12)
extern _Atomic uint8_t tbl_region[TBL_REGIONS];
extern _Atomic unsigned tbl_region_next; /* round robin over the groups */
HS_NOINLINE unsigned tbl_region_claim(_Atomic uint8_t *r);
void tbl_claims_hold(void);    /* no group handed out (tbl_lock_all) ... */
void tbl_claims_release(void); /* ... until this */

/* ptr's stripe: its region's group, and within the group the top bits of
 * ptr's hash. */
static inline struct tbl_stripe *tbl_stripe_of(uintptr_t ptr, uint64_t h)
{
    _Atomic uint8_t *r = &tbl_region[(ptr >> TBL_REGION_SHIFT) & (TBL_REGIONS - 1)];
    unsigned g = atomic_load_explicit(r, memory_order_relaxed);
    if (HS_UNLIKELY(!g))
        g = tbl_region_claim(r);
    return &tbl.stripe[(g - 1) << TBL_GROUP_BITS | (unsigned)(h >> (64 - TBL_GROUP_BITS))];
}

/* The home cluster of hash h among c clusters: fastrange over bits 28-59
 * (the top four pick the stripe in its group), and the tag, bits 21-27. */
static inline uint32_t tbl_home(uint64_t h, uint32_t c)
{
    return (uint32_t)((uint64_t)(uint32_t)(h >> 28) * c >> 32);
}

/* The stripes of the groups handed out so far (table_hint.c). */
unsigned tbl_stripes_used(void);

/* The threads' queues of held frees and fresh blocks: pending.c fills and
 * empties them, pendwalk.c reads them for a walk of the table (who may
 * touch a slot, and when: pending.c). */
#define PEND_DEPTH 4      /* blocks a thread holds */
#define PEND_QUEUES 64    /* threads that hold any */
#define PEND_YOUNG_BITS 6 /* blocks remembered as young: 64, direct-mapped */
#define PEND_SCORE 1024   /* bound of the old-minus-young score (pend_hold) */
#define PEND_KEPT_OFF 1024 /* fresh blocks pushed out alive, net: keep none fresh */
#define PEND_KEPT_YOUNG 4  /* ... less this for each that died fresh or young */
#define PEND_NEAR_STACK (1u << 18) /* a free this far above its frame: of the stack */
#define PEND_FRESH_BITS 4 /* fresh slots per thread: 16, direct-mapped */
#define PEND_FRESH (1u << PEND_FRESH_BITS)
#define PEND_SLOTS (PEND_FRESH + 1) /* ... and the one entering the table */

/* A block not yet in the table.  The fields are written before p (release)
 * by the slot's thread; other threads read them under the flock, or
 * between two loads of p (pend_look). */
struct pend_fresh {
    _Atomic uintptr_t p; /* 0 = empty */
    uint64_t size;
    uint32_t trace, epoch;
};

struct pend_queue {
    void *_Atomic p[PEND_DEPTH]; /* NULL = empty */
    struct tbl_where where[PEND_DEPTH]; /* p[i]'s, from its prefetch (this thread's) */
    uintptr_t follow;            /* where the next block would follow the last (pend_born) */
    uintptr_t ahead_at;          /* the block whose where ahead is, if any */
    struct tbl_where ahead;      /* worked out a block early (pend_where_ahead) */
    unsigned next;               /* the slot the next free goes to */
    int score;                   /* > 0: this thread holds (pend_hold) */
    int kept;                    /* fresh blocks pushed out alive, less PEND_KEPT_YOUNG
                                    for each freed fresh (pend_keep_none) */
    int kept_off;                /* kept reached PEND_KEPT_OFF: none kept fresh */
    atomic_int owned;
    lock_t flock;                /* emptying a full fresh slot (above) */
    atomic_int forget;           /* trace_clear came: forget the fresh blocks */
    struct pend_fresh fresh[PEND_SLOTS]; /* by pend_fresh_of; the last: entering */
    uintptr_t young[1u << PEND_YOUNG_BITS]; /* recent allocations, by pend_young */
} __attribute__((aligned(64)));

extern struct pend_queue pend_q[PEND_QUEUES];
extern atomic_uint pend_q_top; /* queues ever claimed: [0, top) (every loop over them) */

/* Whether q's thread holds no free: its slots all read empty.  Only that
 * thread fills a slot, so one it reads empty stays so until it fills it
 * (another thread may empty a slot, never fill one); plain loads, where
 * an exchange a slot was a locked instruction each. */
static inline int pend_none_held(const struct pend_queue *q)
{
    _Static_assert(PEND_DEPTH == 4, "pend_none_held reads four slots");
    return !((uintptr_t)atomic_load_explicit(&q->p[0], memory_order_relaxed) |
             (uintptr_t)atomic_load_explicit(&q->p[1], memory_order_relaxed) |
             (uintptr_t)atomic_load_explicit(&q->p[2], memory_order_relaxed) |
             (uintptr_t)atomic_load_explicit(&q->p[3], memory_order_relaxed));
}

/* The calling thread's queue when it holds a free, else NULL
 * (pend_settle_one's test, for callers that would otherwise call it to
 * learn there is none); then pend_release_oldest releases one. */
static inline struct pend_queue *pend_holding(void)
{
    struct pend_queue *q = pend_self;
    return q && !pend_none_held(q) ? q : NULL;
}
int pend_release_oldest(struct pend_queue *q);

static inline void pend_fresh_read(const struct pend_fresh *f, uintptr_t p, struct tbl_entry *e)
{
    e->ptr = p;
    e->size = __atomic_load_n(&f->size, __ATOMIC_RELAXED);
    e->trace = __atomic_load_n(&f->trace, __ATOMIC_RELAXED);
    e->epoch = __atomic_load_n(&f->epoch, __ATOMIC_RELAXED);
}

/* Reads a slot another thread may change, between two loads of its
 * pointer: the pointer and *e, or 0 if the slot was empty or changed
 * meanwhile. */
static inline uintptr_t pend_fresh_peek(const struct pend_fresh *f, struct tbl_entry *e)
{
    uintptr_t p = atomic_load_explicit(&f->p, memory_order_acquire);
    if (!p)
        return 0;
    pend_fresh_read(f, p, e);
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&f->p, memory_order_relaxed) == p ? p : 0;
}

/* tracefail.c: trace_clear zeroes every trace's failures (the intern lock
 * held; the slots stay). */
void trace_fail_clear(void);

#endif
