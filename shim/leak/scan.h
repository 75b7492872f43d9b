/*
 * scan.h - the reference model's run state (struct scan), shared by the
 * two files of the one algorithm: model.c (phases 0-4: check, mark,
 * possible, the leak graph, its components) and records.c (phase 5, the
 * loss records, and the LEAKS section's encoding).  Private to them.
 */
#ifndef HSNAP_SCAN_H
#define HSNAP_SCAN_H

#include <string.h>

#include "model.h"

#define NONE UINT32_MAX
#define SENT UINT32_MAX         /* ends a node's edge list */
#define DONE_BIT 0x80000000u    /* rindex of a node whose component is done */
#define F_NOTROOT 0x40u         /* Pearce: rindex was lowered (0x10 is MODEL_BF_PARTIAL) */
#define F_OWNED 0x20u           /* claimed by a loss record */
#define F_HASIN 0x80u           /* another leak's edge in the graph points to it */

/* A run of blocks with no gap of CLUSTER_GAP or more; see index_build. */
struct cluster {
    uintptr_t lo, span;  /* [lo, lo+span) covers its blocks */
    uint32_t first_page; /* its page table starts at page[first_page] */
};

/* One run's state; lives on model_run's stack. */
struct scan {
    struct hsnap_block *b;       /* the caller's array, sorted by addr */
    uint32_t n;
    uintptr_t lo, span;          /* [lo, lo+span) covers every block */
    struct cluster *cl;          /* the lookup index, or NULL */
    uint32_t ncl;
    uint32_t *page;              /* per cluster: pages + 1 block indices */
    size_t npage;
    unsigned shift;              /* page size = 1 << shift */
    const struct model_ops *ops;
    size_t held, peak;           /* scratch bytes, for out->scratch_peak */
    uint32_t *work;              /* phase 1-2 worklist, a queue; n slots */
    uint32_t nwork, head;        /* pushed; the next to read */
    uint64_t *rootread;          /* a bit a block, its words read as a root
                                    range's (scan_root_blocks; a rerun's:
                                    the first run's); NULL: ranges read whole */
    int rootread_own;            /* rootread is scratch, not model_keep's */
    uint32_t *ub;                /* leak node -> block index, ascending */
    uint32_t u;
    uint32_t *off;               /* leak node -> first edge */
    uint32_t *edge;              /* node ids, each list ends with SENT */
    size_t nedge;                /* E + u */
    uint32_t *rindex;            /* Pearce's rindex, then DONE_BIT|comp */
    uint32_t *stk;               /* shared stacks, then the BFS queue */
    uint32_t ncomp;
    uint64_t *inmap;             /* 1 bit per comp: has an in-edge */
    uint64_t *keep;              /* model_keep's bits, or NULL */
    int again;                   /* model_rerun: the counts are kept */
};

/* model_keep's two bits of block i: reached from the program's roots by
 * on_marked, and an interior reference met by then (model_rerun adds
 * those it meets after, for phase 2's seeds). */
#define KEEP_ROOTED 0u
#define KEEP_INTERIOR 1u

static inline int keep_get(const uint64_t *k, uint32_t i, unsigned which)
{
    size_t bit = 2 * (size_t)i + which;
    return (int)(k[bit / 64] >> (bit % 64) & 1);
}

static inline void keep_set(uint64_t *k, uint32_t i, unsigned which)
{
    size_t bit = 2 * (size_t)i + which;
    k[bit / 64] |= 1ull << (bit % 64);
}

static inline size_t keep_bytes(size_t n)
{
    return (2 * n + 63) / 64 * sizeof(uint64_t);
}

/* A bitmap of a bit a block (scan.rootread, model_keep.read). */
static inline size_t bits_bytes(size_t n)
{
    return (n + 63) / 64 * sizeof(uint64_t);
}

static inline void *scratch_alloc(struct scan *s, size_t size)
{
    void *p = s->ops->alloc(size ? size : 1, s->ops->ctx);
    if (p) {
        s->held += size;
        if (s->held > s->peak)
            s->peak = s->held;
    }
    return p;
}

static inline void scratch_free(struct scan *s, void *p, size_t size)
{
    if (!p)
        return;
    s->ops->free(p, size ? size : 1, s->ops->ctx);
    s->held -= size;
}

/* The component of leak node v (phase 4's result). */
static inline uint32_t comp_of(const struct scan *s, uint32_t v)
{
    return s->rindex[v] & ~DONE_BIT;
}

/* inmap: a bit per component, set when another component points into it. */
static inline size_t inmap_bytes(const struct scan *s)
{
    return ((size_t)s->ncomp + 63) / 64 * sizeof(uint64_t);
}

/* The leak node of block j (which must be a leak). */
static inline uint32_t graph_node(const struct scan *s, uint32_t j)
{
    uint32_t l = 0, r = s->u;
    while (l < r) {
        uint32_t m = l + (r - l) / 2;
        if (s->ub[m] < j)
            l = m + 1;
        else
            r = m;
    }
    return l;
}

/* Phase 5: one loss record per leak root, into *out; MODEL_OK or an error. */
int rec_build(struct scan *s, struct model_result *out);

#endif
