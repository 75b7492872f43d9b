/*
 * pyretain.c - the retained size of every live block at a snapshot: the
 * bytes that would be freed if it went (PYRETAIN, hsnap_format.h).  The
 * graph is the one pyg_build's walk reads, widened: every block holds an
 * edge to each block one of its words points into (a native block
 * anywhere in it, an object at its exact start, untracked objects too),
 * so an object owns its item array, keys table or buffer and what those
 * point to.  The walk reports each such word (pyr_ref); the graph's roots
 * are, under one virtual root, the objects whose refcount exceeds the
 * references found to them (the collector's rule, untracked objects
 * too), the blocks no reference was found to, and the collector's
 * garbage.  The dominator tree (pydom.c; the blocks that hang as trees,
 * pyr_dom_hang, dominated by their one referrer) gives each block its
 * retained bytes, summed up the tree.  A native block's own words are
 * not scanned (only the blocks an object owns): what a C structure
 * points to is a root, charged to no one.  State is one struct, used
 * under the snapshot lock only; all memory from arena_map, given back
 * before the snapshot is written.
 */
#include <string.h>

#include "hsnap_pyformat.h"
#include "pylayout.h"
#include "pyheap.h"
#include "pyretain.h"
#include "pydom.h"
#include "pyrpack.h"

#define PYR_IMMORTAL 0xffffffffull /* 3.12 on: such a count is an immortal's */
#define PYR_CHUNKS 4096u             /* chunks of edges at most (pyrpack.h's) */

static struct {
    const struct pyh_heap *h;
    uint64_t nobj;
    uint8_t *chunk[PYR_CHUNKS]; /* the edges between blocks, packed (pyrpack.h) */
    uint64_t nedge, nchunk;
    uint32_t at;          /* the last chunk's bytes used */
    struct pyrp_st st;    /* the packing's state (pyrpack.h) */
    uint32_t *found;      /* by object: references found to its exact start
                             (pyr_end's, from the edges: not held by the walk) */
    uint32_t *early;      /* by object: the leaked references' early count
                             (pyr_count_early's), for pyr_end to settle */
    uint64_t cur_lo, cur_hi; /* the block the last word was in */
    uint32_t cur;
    int on, oom;
    struct sbuf out;      /* the section, until pyr_retain_put */
} r;
static int pyr_refs;      /* pyr_retain_refs: look for leaked references */
static struct sec_sink pyr_sink; /* put: PYRETAIN streamed to it */
#define PYR_SINK_CHUNK 65536u /* bytes handed to the sink at a time */

void pyr_retain_sink(const struct sec_sink *s)
{
    pyr_sink = s ? *s : (struct sec_sink){0};
}

void pyr_retain_refs(int on)
{
    pyr_refs = on;
}

static void pyr_drop_edges(void)
{
    for (uint64_t c = 0; c < r.nchunk; c++)
        if (r.chunk[c])
            arena_unmap(r.chunk[c], PYRP_CHUNK), r.chunk[c] = NULL;
    r.nchunk = 0;
}

/* The next edge (it: from {0} on) into *x as src << 32 | dst: 1, or 0. */
static inline __attribute__((always_inline)) int pyr_edge(struct pyrp_it *it, uint64_t *x)
{
    uint32_t s, d;
    if (!pyrp_next(r.chunk, r.nchunk, it, &s, &d))
        return 0;
    *x = (uint64_t)s << 32 | d;
    return 1;
}

/* As pyr_edge, the chunks read given back as it passes them (the edges'
 * last read). */
static inline int pyr_edge_last(struct pyrp_it *it, uint64_t *x)
{
    uint64_t c = it->c;
    int got = pyr_edge(it, x);
    for (; c < it->c && c < r.nchunk; c++)
        if (r.chunk[c])
            arena_unmap(r.chunk[c], PYRP_CHUNK), r.chunk[c] = NULL;
    return got;
}

/* A set of blocks with each one's rank in it (a bit a block, the count
 * before each word of 64): 16 bytes for 64 blocks where an array of
 * indices took 256. */
struct pyr_rank {
    uint64_t bits;
    uint64_t before;
};

static inline int pyr_in(const struct pyr_rank *k, uint32_t v)
{
    return (k[v / 64].bits >> (v % 64)) & 1;
}

/* v's index among the set's (v in it). */
static inline uint32_t pyr_rank_of(const struct pyr_rank *k, uint32_t v)
{
    const struct pyr_rank *w = &k[v / 64];
    return (uint32_t)(w->before + (uint64_t)hs_popcount64(w->bits & ((1ull << (v % 64)) - 1)));
}

/* The counts before each word, once the bits are set (n blocks); how
 * many are in the set. */
static uint32_t pyr_rank_end(struct pyr_rank *k, uint32_t n)
{
    uint64_t c = 0;
    for (uint32_t w = 0; w < (n + 63) / 64; w++)
        k[w].before = c, c += (uint64_t)hs_popcount64(k[w].bits);
    return (uint32_t)c;
}

/* The walk's arrays given back (the section kept). */
static void pyr_release(void)
{
    pyr_drop_edges();
    if (r.found)
        arena_unmap(r.found, r.nobj * sizeof *r.found);
    if (r.early)
        arena_unmap(r.early, r.nobj * sizeof *r.early);
    struct sbuf keep = r.out;
    memset(&r, 0, sizeof r);
    r.out = keep;
}

void pyr_begin(const struct pyh_heap *h, uint64_t nobj)
{
    pyr_release();
    sbuf_free(&r.out);
    if (!h->want || !h->nblk || h->nblk >= PYDOM_NONE - 1 || !nobj)
        return;
    r.h = h, r.nobj = nobj, r.on = 1, r.cur = PYG_NONE;
}

int pyr_scans(const struct pyh_obj *o, const struct pyh_type *t)
{
    /* the untracked ones that can hold references: a tuple or a dict the
     * collector stopped tracking (their items atomic), a gc type's */
    return r.on && !o->tracked && (t->flags & PY_TPF_HAVE_GC);
}

/* The block that holds address a (the last one, as a rule), or PYG_NONE. */
static uint32_t pyr_block_of(uint64_t a)
{
    if (a >= r.cur_lo && a < r.cur_hi)
        return r.cur;
    const struct pyh_block *b = r.h->blk;
    uint64_t lo = pyh_blks_upto(r.h, a);
    if (!lo--)
        return PYG_NONE;
    uint64_t size = pyh_size(r.h, &b[lo]);
    if (a - b[lo].addr >= size)
        return PYG_NONE;
    r.cur_lo = b[lo].addr, r.cur_hi = b[lo].addr + size, r.cur = (uint32_t)lo;
    return r.cur;
}

void pyr_from(uint32_t bj)
{
    if (!r.on || bj >= r.h->nblk)
        return;
    r.cur_lo = r.h->blk[bj].addr;
    r.cur_hi = r.cur_lo + pyh_size(r.h, &r.h->blk[bj]);
    r.cur = bj;
}

void pyr_ref(uint64_t at, uint32_t bj)
{
    if (!r.on || r.oom)
        return;
    uint32_t from = pyr_block_of(at);
    if (from == PYG_NONE || from == bj)
        return;
    if (!r.nchunk || r.at + PYRP_EDGE_MAX > PYRP_CHUNK) {
        if (r.nchunk >= PYR_CHUNKS || !(r.chunk[r.nchunk] = arena_map(PYRP_CHUNK))) {
            r.oom = 1;
            return;
        }
        r.nchunk++, r.at = PYRP_HEAD;
    }
    uint8_t *c = r.chunk[r.nchunk - 1];
    r.at += pyrp_put(c + r.at, &r.st, from, bj);
    memcpy(c, &r.at, sizeof r.at);
    r.nedge++;
}

/* Whether block v is held from outside the graph (a root's child);
 * indeg: references found to it. */
static int pyr_held(uint32_t v, uint64_t indeg)
{
    uint32_t o = pyh_obj_of(r.h, v);
    if (o == PYG_NONE)
        return indeg == 0;
    const struct pyh_obj *ob = &r.h->obj[o];
    return ob->refcnt >= PYR_IMMORTAL || ob->refcnt > r.found[o] ||
           ob->garbage;
}

/* The successors' arrays (pyr_end's), given back once pyr_dom_idom is done
 * with them (its done). */
struct pyr_succ {
    uint32_t **start, **succ;
    size_t ls, lsucc;
    char *late;      /* the dominators' work not yet resident (pyr_dom_work_late) */
    size_t nlate;
};
static void pyr_succ_done(void *arg)
{
    struct pyr_succ *s = arg;
    arena_unmap(*s->succ, s->lsucc), *s->succ = NULL;
    arena_unmap(*s->start, s->ls), *s->start = NULL;
    arena_populate(s->late, s->nlate);
}

/* The pointers found in memory to each object held from outside the
 * graph (r.found's words then), or NULL.  An early count (r.early) is
 * handed to settle in r.found's place. */
static const uint32_t *pyr_leakrefs(const uint8_t *held, pyr_count_fn count, pyr_count_fn settle)
{
    uint8_t *want;
    if (!count || !(want = arena_map(r.nobj)))
        return NULL;
    uint64_t i;
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(r.h, r.nobj, &it, &i);) {
        const struct pyh_obj *o = &r.h->obj[i];
        want[i] = held[it.bj] && o->refcnt && o->refcnt < PYR_IMMORTAL;
    }
    pyr_count_fn fn = count;
    if (r.early && settle) { /* found's counts are read: pyr_preds' */
        arena_unmap(r.found, r.nobj * sizeof *r.found), r.found = r.early, r.early = NULL;
        fn = settle;
    }
    int rc = fn(r.h, r.nobj, want, r.found);
    arena_unmap(want, r.nobj);
    return rc == 0 ? r.found : NULL;
}

/* Each block's retained bytes, w (6 or 8) bytes a block: 6 where every
 * block's bytes together are below 2^48 (a retained size is at most
 * that sum; x86-64's user space is 2^47 bytes), little-endian. */
struct pyr_ret {
    uint8_t *b;
    size_t len;
    unsigned w;
};
static inline uint64_t pyr_ret_get(const struct pyr_ret *t, uint32_t v)
{
    uint64_t x = 0;
    if (t->w == 8)
        memcpy(&x, t->b + (size_t)v * 8, 8);
    else
        memcpy(&x, t->b + (size_t)v * 6, 6);
    return x;
}
static inline void pyr_ret_set(struct pyr_ret *t, uint32_t v, uint64_t x)
{
    if (t->w == 8)
        memcpy(t->b + (size_t)v * 8, &x, 8);
    else
        memcpy(t->b + (size_t)v * 6, &x, 6);
}
static int pyr_ret_map(struct pyr_ret *t, uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t v = 0; v < n; v++)
        sum += pyh_size(r.h, &r.h->blk[v]);
    t->w = sum >> 48 ? 8 : 6;
    t->len = (size_t)n * t->w;
    if (!(t->b = arena_map_full(t->len))) /* written whole, next */
        return -1;
    for (uint32_t v = 0; v < n; v++)
        pyr_ret_set(t, v, pyh_size(r.h, &r.h->blk[v]));
    return 0;
}

/* The section into r.out from the dominators (n blocks, the virtual root
 * n): an entry for every object and every block that is dominated by
 * another or dominates one.  kept: scratch, (n + 63) / 64 words, zeroed;
 * words (pyr_leakrefs) and rc (each object's count, saturated at 2^32 -
 * 1): both or none. */
static void pyr_put(uint32_t n, const uint32_t *idom, const struct pyr_ret *ret, const uint8_t *held,
                    struct pyr_rank *kept, const uint32_t *words, const uint32_t *rcs)
{
    const struct pyh_block *b = r.h->blk;
    for (uint32_t v = 0; v < n; v++)
        if (pyh_obj_of(r.h, v) != PYG_NONE || pyr_ret_get(ret, v) != pyh_size(r.h, &b[v]) ||
            (idom[v] != n && idom[v] != PYDOM_NONE))
            kept[v / 64].bits |= 1ull << (v % 64);
    uint32_t k = pyr_rank_end(kept, n);
    size_t bytes = (size_t)k * sizeof(struct hsnap_pyretain);
    if (sbuf_reserve(&r.out, pyr_sink.put && bytes > PYR_SINK_CHUNK ? PYR_SINK_CHUNK : bytes) != 0)
        return;
    if (pyr_sink.put && k)
        pyr_sink.begin(pyr_sink.arg, bytes);
    for (uint32_t v = 0; v < n; v++) {
        if (!pyr_in(kept, v))
            continue;
        uint32_t d = idom[v] == n || idom[v] == PYDOM_NONE ? HSNAP_PYRETAIN_ROOT
                                                           : pyr_rank_of(kept, idom[v]);
        struct hsnap_pyretain e = {b[v].addr, pyr_ret_get(ret, v), d, held[v] ? HSNAP_PYRETAIN_HELD : 0, 0, 0};
        uint32_t o = pyh_obj_of(r.h, v);
        uint64_t rc = o != PYG_NONE && rcs ? rcs[o] : 0;
        if (words && rcs && o != PYG_NONE && held[v] && rc < PYR_IMMORTAL && words[o] < rc) {
            e.flags |= HSNAP_PYRETAIN_LEAKREF; /* more counts than pointers to it */
            e.refcnt = rc > UINT32_MAX ? UINT32_MAX : (uint32_t)rc;
            e.refs = words[o];
        }
        if (pyr_sink.put && r.out.len + sizeof e > PYR_SINK_CHUNK) { /* streamed */
            pyr_sink.put(pyr_sink.arg, r.out.p, r.out.len);
            r.out.len = 0;
        }
        memcpy(r.out.p + r.out.len, &e, sizeof e); /* reserved above */
        r.out.len += sizeof e;
    }
    if (pyr_sink.put) {
        if (r.out.len)
            pyr_sink.put(pyr_sink.arg, r.out.p, r.out.len);
        sbuf_free(&r.out);
    }
}

/* The hanging nodes' queue (pyr_dom_hang's q) and each one's predecessor
 * (its idom then), held through the dominators and the sizes packed:
 * a node's difference from the one before, then its predecessor's from
 * the one before's, zigzagged, in 7-bit groups (pyvar_put), the high bit
 * set on all but a group's last, so that it reads back either way.
 * The queue goes up the trees a level at a time (the leaves in order,
 * then their predecessors), so both differences are small as a rule. */
struct pyr_q {
    uint8_t *b;
    size_t len, cap;
    uint32_t last, lastp; /* the last node, its predecessor */
};
static size_t pyr_q_put(uint8_t *b, const uint32_t *q, uint32_t nq, const uint32_t *one)
{
    size_t len = 0;
    uint8_t t[2 * PYVAR_MAX];
    for (uint32_t k = 0, v = 0, w = 0; k < nq; v = q[k], w = one[q[k]], k++) {
        uint8_t *o = b ? b + len : t;
        uint32_t n = pyvar_put(o, pyvar_zig((int64_t)q[k] - v));
        len += n + pyvar_put(o + n, pyvar_zig((int64_t)one[q[k]] - w));
    }
    return len;
}
static int pyr_q_pack(struct pyr_q *p, const uint32_t *q, uint32_t nq, const uint32_t *one)
{
    size_t len = pyr_q_put(NULL, q, nq, one);
    if (!(p->b = arena_map(len + 1)))
        return -1;
    p->cap = len + 1, p->len = pyr_q_put(p->b, q, nq, one);
    p->last = nq ? q[nq - 1] : 0, p->lastp = nq ? one[q[nq - 1]] : 0;
    return 0;
}
/* The next node from *at (*v, *w: the node and predecessor before, 0 at
 * first): the node, its predecessor into *w. */
static inline __attribute__((always_inline)) uint32_t pyr_q_next(const struct pyr_q *p, size_t *at,
                                                             uint32_t *v, uint32_t *w)
{
    uint64_t z;
    *at += pyvar_get(p->b + *at, &z);
    *v = (uint32_t)((int64_t)*v + pyvar_unzig(z));
    *at += pyvar_get(p->b + *at, &z);
    *w = (uint32_t)((int64_t)*w + pyvar_unzig(z));
    return *v;
}
/* The difference whose groups end at *end (*end moved to its first). */
static inline __attribute__((always_inline)) int64_t pyr_q_back(const struct pyr_q *p, size_t *end)
{
    size_t e = *end, a = e - 1;
    while (a > 0 && (p->b[a - 1] & 0x80))
        a--;
    uint64_t z = 0;
    for (size_t i = a; i < e; i++)
        z |= (uint64_t)(p->b[i] & 0x7f) << (7 * (i - a));
    *end = a;
    return pyvar_unzig(z);
}
/* The node before end (*end moved back), *v and *w the node and
 * predecessor after it (at first p->last and p->lastp, which they are):
 * the node, *v and *w set to the ones before it. */
static uint32_t pyr_q_prev(const struct pyr_q *p, size_t *end, uint32_t *v, uint32_t *w)
{
    uint32_t node = *v;
    *w = (uint32_t)((int64_t)*w - pyr_q_back(p, end));
    *v = (uint32_t)((int64_t)node - pyr_q_back(p, end));
    return node;
}

/* The dominators of the blocks that do not hang (pyr_dom_hang): their
 * graph, with the nodes numbered anew (block v, in the set id, is node
 * pyr_rank_of(id, v); block inv[c] is node c; the virtual root nu), given
 * to pyr_dom_idom; each one's idom
 * into idom[v] (n: the root), and the nodes in depth first order into
 * order (as blocks, with *reached of them).  *idomp NULL: idom (l4
 * bytes) is mapped once the dominators' work is given back, with the
 * nq hanging nodes' predecessors from pq first.  0, or -1 (out of
 * memory: nothing written).  The edges are given back once read. */
static int pyr_dominate(uint32_t n, uint32_t nu, uint64_t roots, const struct pyr_rank *id,
                        const uint8_t *held, uint32_t **idomp, size_t l4, const struct pyr_q *pq,
                        uint32_t nq, uint32_t **order, uint32_t *reached)
{
    size_t ls = ((size_t)nu + 2) * 4, lc = ((size_t)nu + 1) * 4, lw = 0, lsucc = 0;
    /* each array is written whole: resident at once, not a fault a page
     * (the work as the dominators need it: the forest's part once the
     * successors are given back, pyr_succ_done) */
    uint32_t *start = arena_map_full(ls), *inv = arena_map_full(lc), *cidom = arena_map_full(lc);
    uint32_t *corder = arena_map_full(lc), *succ = NULL;
    char *work = NULL;
    uint64_t m = roots;
    int rc = -1;
    if (!start || !inv || !cidom || !corder)
        goto done;
    for (uint32_t v = 0, c = 0; v < n; v++)
        if (pyr_in(id, v))
            inv[c++] = v;
    uint64_t x;
    for (struct pyrp_it it = {0}; pyr_edge(&it, &x);) { /* the out-degrees: start[c + 1] */
        if (pyr_in(id, (uint32_t)x) && !held[(uint32_t)x]) /* nor does its source */
            start[pyr_rank_of(id, (uint32_t)(x >> 32)) + 1]++, m++;
    }
    lsucc = (size_t)m * 4 + 4;
    if (!(succ = arena_map_full(lsucc)))
        goto done;
    start[nu + 1] = roots;
    for (uint32_t c = 0; c <= nu; c++)
        start[c + 1] += start[c];
    for (struct pyrp_it it = {0}; pyr_edge_last(&it, &x);) { /* counting sort by source */
        if (pyr_in(id, (uint32_t)x) && !held[(uint32_t)x])
            succ[start[pyr_rank_of(id, (uint32_t)(x >> 32))]++] = pyr_rank_of(id, (uint32_t)x);
    }
    for (uint32_t v = 0; v < n; v++)
        if (held[v])
            succ[start[nu]++] = pyr_rank_of(id, v);
    for (uint32_t c = nu + 1; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
    pyr_drop_edges();
    lw = pyr_dom_work_bytes(nu + 1, m);
    size_t loff, llen; /* made resident once the successors are given back */
    pyr_dom_work_late(nu + 1, &loff, &llen);
    if (!(work = arena_map(lw)))
        goto done;
    arena_populate(work, loff);
    arena_populate(work + loff + llen, lw - loff - llen);
    struct pyr_succ sd = {&start, &succ, ls, lsucc, work + loff, llen};
    *reached = pyr_dom_idom(nu + 1, nu, start, succ, cidom, corder, work, pyr_succ_done, &sd);
    arena_unmap(work, lw), work = NULL;
    if (!*idomp) { /* the hanging nodes' from pq, the others' below */
        if (!(*idomp = arena_map_full(l4))) /* every block's, below */
            goto done;
        size_t at = 0;
        for (uint32_t k = 0, v = 0, w = 0; k < nq; k++) {
            pyr_q_next(pq, &at, &v, &w);
            (*idomp)[v] = w;
        }
    }
    uint32_t *idom = *idomp;
    for (uint32_t c = 0; c < nu; c++)
        idom[inv[c]] = cidom[c] == nu ? n : cidom[c] == PYDOM_NONE ? PYDOM_NONE : inv[cidom[c]];
    for (uint32_t k = 0; k < *reached; k++) /* as blocks (the root n) */
        corder[k] = corder[k] == nu ? n : inv[corder[k]];
    *order = corder, corder = NULL;
    rc = 0;
done:
    if (work)
        arena_unmap(work, lw);
    if (succ)
        arena_unmap(succ, lsucc);
    if (start)
        arena_unmap(start, ls);
    if (inv)
        arena_unmap(inv, lc);
    if (cidom)
        arena_unmap(cidom, lc);
    if (corder)
        arena_unmap(corder, lc);
    return rc;
}

/* Each block's one predecessor into idom (PYDOM_MANY: more than one),
 * the references found to each object's exact start counted, and each
 * block's held mark (pyr_held): the roots' count. */
static uint64_t pyr_preds(uint32_t n, uint32_t *idom, uint8_t *held)
{
    uint64_t x, roots = 0;
    memset(idom, 0xff, (size_t)n * 4);
    for (struct pyrp_it it = {0}; pyr_edge(&it, &x);) {
        uint32_t v = (uint32_t)x, ob = pyh_obj_of(r.h, v);
        idom[v] = idom[v] == PYDOM_NONE ? (uint32_t)(x >> 32) : PYDOM_MANY;
        if (ob != PYG_NONE) /* a reference to an object's exact start */
            r.found[ob]++;
    }
    for (uint32_t v = 0; v < n; v++)
        roots += held[v] = (uint8_t)pyr_held(v, idom[v] != PYDOM_NONE);
    return roots;
}

/* pyr_dom_hang_reach's, over the packed queue pq of nq blocks. */
static void pyr_hang_reach_packed(uint32_t *idom, const struct pyr_q *pq, uint32_t nq)
{
    size_t end = pq->len;
    uint32_t u = pq->last, w = pq->lastp;
    for (uint32_t k = nq; k-- > 0;) {
        uint32_t v = pyr_q_prev(pq, &end, &u, &w);
        if (idom[idom[v]] == PYDOM_NONE)
            idom[v] = PYDOM_NONE;
    }
}

/* Each block's retained bytes summed into its dominator's: the nq blocks
 * that hang (q, or pq packed: given back as read), each below its
 * predecessor, first; then the reached ones in order, children before
 * their dominator. */
static void pyr_sum(uint32_t n, const uint32_t *idom, struct pyr_ret *ret, const uint32_t *q,
                    const struct pyr_q *pq, uint32_t nq, const uint32_t *order, uint32_t reached)
{
    size_t at = 0;
    uint64_t dropped = 0; /* pq's bytes given back as read the last time */
    for (uint32_t k = 0, u = 0, w = 0; k < nq; k++) {
        uint32_t v = q ? q[k] : pyr_q_next(pq, &at, &u, &w);
        if (!q && (k & 0xffff) == 0xffff)
            pyh_drop(pq->b, at, &dropped);
        if (idom[v] != PYDOM_NONE)
            pyr_ret_set(ret, idom[v], pyr_ret_get(ret, idom[v]) + pyr_ret_get(ret, v));
    }
    for (uint32_t k = reached; k-- > 1;) {
        uint32_t v = order[k];
        if (idom[v] != n)
            pyr_ret_set(ret, idom[v], pyr_ret_get(ret, idom[v]) + pyr_ret_get(ret, v));
    }
}

/* The objects' array is given back before the dominators' work (the
 * stop's peak): the leaked references looked for first (pyr_leakrefs:
 * their words, or NULL), and the counts they need kept into *rcs (NULL
 * when unmapped); without them the references found are no longer read. */
static const uint32_t *pyr_counts(const uint8_t *held, pyr_count_fn count, pyr_count_fn settle,
                                  uint32_t **rcs)
{
    const uint32_t *words = pyr_refs ? pyr_leakrefs(held, count, settle) : NULL;
    if (words && (*rcs = arena_map(r.nobj * 4)))
        for (uint64_t i = 0; i < r.nobj; i++)
            (*rcs)[i] = r.h->obj[i].refcnt >= UINT32_MAX ? UINT32_MAX : (uint32_t)r.h->obj[i].refcnt;
    if (!words)
        arena_unmap(r.found, r.nobj * sizeof *r.found), r.found = NULL;
    return words;
}

/* The blocks that hang as trees (pyr_dom_hang) into q, their count; each
 * block's out-degree into left first, and the blocks that do not hang
 * into set.  An edge to a root's child changes no one's dominator (the
 * root's own edge to it is a way around whatever led there): left out,
 * so that an instance's reference to its class, held, does not keep the
 * instance from hanging. */
static uint32_t pyr_hang(uint32_t n, uint32_t *idom, const uint8_t *held, uint32_t *left,
                         uint32_t *q, struct pyr_rank *set)
{
    uint64_t x;
    for (struct pyrp_it it = {0}; pyr_edge(&it, &x);) {
        left[x >> 32] += !held[(uint32_t)x];
    }
    uint32_t nq = pyr_dom_hang(n, idom, left, held, q);
    for (uint32_t v = 0; v < n; v++)
        if (left[v] != PYDOM_NONE)
            set[v / 64].bits |= 1ull << (v % 64);
    return nq;
}

void pyr_count_early(pyr_count_fn early)
{
    if (!r.on || r.oom || !early || r.early || r.found)
        return;
    uint32_t n = (uint32_t)r.h->nblk;
    size_t l4 = (size_t)n * 4 + 4;
    uint32_t *idom = arena_map_full(l4);
    uint8_t *held = idom ? arena_map_full(n) : NULL;
    if (held && (r.found = arena_map(r.nobj * sizeof *r.found))) {
        pyr_preds(n, idom, held); /* made again by pyr_end: the owners' pass adds
                                   * edges meanwhile, so its want may be fewer */
        if (pyr_leakrefs(held, early, NULL))
            r.early = r.found, r.found = NULL;
    }
    if (r.found)
        arena_unmap(r.found, r.nobj * sizeof *r.found), r.found = NULL;
    if (held)
        arena_unmap(held, n);
    if (idom)
        arena_unmap(idom, l4);
}

void pyr_end(void (*drop_objs)(void), pyr_count_fn count, pyr_count_fn settle)
{
    if (!r.on)
        return;
    uint32_t n = (uint32_t)r.h->nblk, nq = 0, nu = 0, reached = 0;
    size_t l4 = (size_t)n * 4 + 4, lset = ((size_t)n + 63) / 64 * 16;
    size_t lorder = 0;
    uint32_t *rcs = NULL, *q = NULL, *order = NULL, *idom = NULL, *left = NULL;
    const uint32_t *words = NULL;
    struct pyr_ret ret = {0}; /* mapped once the dominators' memory is given back */
    uint8_t *held = NULL;
    struct pyr_rank *set = NULL; /* the blocks that do not hang, then those put */
    struct pyr_q pq = {0};      /* q packed */
    /* idom: each block's one predecessor first (pyr_dom_hang's one); left:
     * its out-degree, given back once the blocks that hang are known; both
     * and held written whole (left read first), so resident at once */
    if (r.oom || r.nedge >= UINT32_MAX - (uint64_t)n || !(idom = arena_map_full(l4)) ||
        !(held = arena_map_full(n)) || !(r.found = arena_map(r.nobj * sizeof *r.found)))
        goto done;
    uint64_t roots = pyr_preds(n, idom, held);
    words = pyr_counts(held, count, settle, &rcs);
    drop_objs();
    if (!(left = arena_map_full(l4)) || !(q = arena_map(l4)) || !(set = arena_map(lset)))
        goto done;
    nq = pyr_hang(n, idom, held, left, q, set);
    nu = pyr_rank_end(set, n);
    arena_unmap(left, l4), left = NULL;
    /* q and each one's predecessor packed, idom given back through the
     * dominators' work (made anew by pyr_dominate); else both held */
    if (pyr_q_pack(&pq, q, nq, idom) == 0)
        arena_unmap(q, l4), q = NULL, arena_unmap(idom, l4), idom = NULL;
    if (pyr_dominate(n, nu, roots, set, held, &idom, l4, &pq, nq, &order, &reached) != 0)
        goto done;
    lorder = ((size_t)nu + 1) * 4;
    if (q)
        pyr_dom_hang_reach(idom, q, nq);
    else
        pyr_hang_reach_packed(idom, &pq, nq);
    if (pyr_ret_map(&ret, n) != 0)
        goto done;
    pyr_sum(n, idom, &ret, q, &pq, nq, order, reached);
    if (q)
        arena_unmap(q, l4), q = NULL;
    if (pq.b)
        arena_unmap(pq.b, pq.cap), pq.b = NULL;
    arena_unmap(order, lorder), order = NULL;
    memset(set, 0, lset);
    pyr_put(n, idom, &ret, held, set, words, rcs);
done:
    if (pq.b)
        arena_unmap(pq.b, pq.cap);
    if (rcs)
        arena_unmap(rcs, r.nobj * 4);
    if (ret.b)
        arena_unmap(ret.b, ret.len);
    if (order)
        arena_unmap(order, lorder);
    if (q)
        arena_unmap(q, l4);
    if (set)
        arena_unmap(set, lset);
    if (held)
        arena_unmap(held, n);
    if (left)
        arena_unmap(left, l4);
    if (idom)
        arena_unmap(idom, l4);
    pyr_release();
}

void pyr_retain_put(struct sbuf *b)
{
    if (b && !r.out.err && r.out.len && !b->len) { /* handed over, not copied */
        sbuf_free(b);
        *b = r.out;
        r.out = (struct sbuf){0};
        return;
    }
    if (b && !r.out.err && r.out.len)
        sbuf_put(b, r.out.p, r.out.len);
    sbuf_free(&r.out);
}
