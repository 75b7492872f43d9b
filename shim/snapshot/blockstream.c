/*
 * blockstream.c - the live blocks in address order for a snapshot's BLOCKS
 * section, in bounded memory.  A sorted copy of the blocks took 32 bytes a
 * block (40 with its slack) on top of the table's 26-38, and doubled a big
 * heap's footprint while the snapshot was written.  Here only the blocks'
 * addresses are gathered, sorted in place, and each block is looked up in
 * the table as it is handed on.  An address is kept in 4 bytes: a first
 * walk counts the blocks under each distinct upper half (addr >> 32; a
 * heap has a handful: the brk heap, each thread arena's 64 MiB heaps), and
 * the second puts each lower half in its upper half's run of one array.
 * With more upper halves than BSTREAM_HIGHS, 8 bytes an address instead.
 *
 * A block freed between the walks and the lookup is left out and one
 * allocated since is not seen, as with any block born or freed during a
 * snapshot's walk; an address reused meanwhile gives the newer block.  The
 * lookups run BSTREAM_AHEAD addresses behind their prefetches: the table
 * is far bigger than the cache.  The leak check and the fatal-signal path
 * keep the copy (blocksort.c): the model wants the whole array, and a
 * crashing thread may hold a stripe.  A fork child's inherited blocks are
 * left out at the walks, counted by the pass that keeps blocks (inh_skip).
 *
 * Where nothing needs the blocks in one address order (a snapshot that
 * types no Python objects: packed BLOCKS, which the reader sorts), one
 * walk copies them into a buffer of BSTREAM_RUN blocks, sorted into a
 * second one (bsort_spread) and handed on whole whenever it fills
 * (bstream_runs): no count, no second walk, no lookup, and the buffers'
 * 256 KiB in place of 4 bytes a live block, which was what lifted a kept
 * heap's peak RSS at its exit snapshot.
 */
#include <string.h>

#include "snapshot.h"

#define BSTREAM_AHEAD 8
#define BSTREAM_HIGHS 64 /* upper halves the 4-byte form takes */
#define BSTREAM_RUN BSORT_SPREAD /* blocks in a run: 128 KiB, twice */

/* One upper half's run: [at, at + n) of the array, room for cap. */
struct bstream_run {
    uint32_t hi;
    uint64_t count, at, n, cap;
};

struct bstream_gather {
    uint32_t *lo;                 /* the 4-byte form: lower halves by run */
    uint64_t *a;                  /* or the 8-byte form */
    uint64_t n, cap;              /* a's */
    struct bstream_run run[BSTREAM_HIGHS];
    unsigned nrun, last;          /* last: the run the previous block was in */
    int over;                     /* a run (or a) overflowed: again, with room */
};

/* The run of upper half hi (added when counting), or NULL. */
static struct bstream_run *bstream_run_of(struct bstream_gather *g, uint32_t hi, int add)
{
    if (g->nrun && g->run[g->last].hi == hi)
        return &g->run[g->last];
    for (unsigned i = 0; i < g->nrun; i++)
        if (g->run[i].hi == hi)
            return &g->run[g->last = i];
    if (!add || g->nrun == BSTREAM_HIGHS)
        return NULL;
    g->run[g->nrun] = (struct bstream_run){.hi = hi};
    return &g->run[g->last = g->nrun++];
}

static int bstream_count(const struct tbl_entry *e, void *arg)
{
    struct bstream_gather *g = arg;
    if (inh_skip(e, 0)) /* counted by the pass that keeps them */
        return 0;
    struct bstream_run *r = bstream_run_of(g, (uint32_t)(e->ptr >> 32), 1);
    if (!r)
        return 1; /* too many: the 8-byte form */
    r->count++;
    return 0;
}

static int bstream_put32(const struct tbl_entry *e, void *arg)
{
    struct bstream_gather *g = arg;
    if (inh_skip(e, 1))
        return 0;
    struct bstream_run *r = bstream_run_of(g, (uint32_t)(e->ptr >> 32), 0);
    if (!r || r->n == r->cap) {
        g->over = 1; /* born since the count */
        return 1;
    }
    g->lo[r->at + r->n++] = (uint32_t)e->ptr;
    return 0;
}

static int bstream_put64(const struct tbl_entry *e, void *arg)
{
    struct bstream_gather *g = arg;
    if (inh_skip(e, 1))
        return 0;
    if (g->n == g->cap) {
        g->over = 1;
        return 1;
    }
    g->a[g->n++] = e->ptr;
    return 0;
}

/* The runs in ascending order of upper half, each given room for its
 * count and slack (blocks born between the walks); the array's words. */
static uint64_t bstream_layout(struct bstream_gather *g, unsigned slack_shift)
{
    uint64_t at = 0;
    for (unsigned i = 1; i < g->nrun; i++)
        for (unsigned j = i; j > 0 && g->run[j - 1].hi > g->run[j].hi; j--) {
            struct bstream_run t = g->run[j];
            g->run[j] = g->run[j - 1];
            g->run[j - 1] = t;
        }
    for (unsigned i = 0; i < g->nrun; i++) {
        struct bstream_run *r = &g->run[i];
        r->at = at;
        r->n = 0;
        r->cap = r->count + (r->count >> slack_shift) + 256;
        at += r->cap;
    }
    g->last = 0;
    return at;
}

/* The addresses of the live blocks into *g, in the 4-byte form when the
 * upper halves allow, each run (or the whole) sorted; 0, or -1. */
static int bstream_gather(struct bstream_gather *g, struct pend_left *left)
{
    memset(g, 0, sizeof *g);
    int r = pend_foreach(bstream_count, g, 0, NULL);
    if (r < 0)
        return -1;
    int wide = r > 0;
    for (unsigned shift = 3, tries = 0;; shift = shift > 0 ? shift - 1 : 0) {
        uint64_t words;
        g->over = 0;
        if (wide) {
            words = g->cap = pend_live_count() + (pend_live_count() >> shift) + 1024;
            g->n = 0;
            g->a = arena_map(words * sizeof *g->a);
        } else {
            words = bstream_layout(g, shift);
            g->lo = arena_map(words * sizeof *g->lo);
        }
        if (!g->a && !g->lo)
            return -1;
        inh_recount();
        r = pend_foreach(wide ? bstream_put64 : bstream_put32, g, 0, left);
        if (r == 0)
            break;
        if (wide)
            arena_unmap(g->a, words * sizeof *g->a);
        else
            arena_unmap(g->lo, words * sizeof *g->lo);
        g->a = NULL;
        g->lo = NULL;
        if (r < 0 || !g->over || ++tries == 8) /* a heap that outgrows every room */
            return -1;
        if (!wide) /* counts again: the heap may have moved on */
            for (unsigned i = 0; i < g->nrun; i++)
                g->run[i].count += g->run[i].count / 2 + 1024;
    }
    if (wide)
        bsort_addrs(g->a, g->n);
    else
        for (unsigned i = 0; i < g->nrun; i++)
            bsort_u32(g->lo + g->run[i].at, g->run[i].n);
    return 0;
}

static void bstream_one(uint64_t p, uint64_t ahead, bstream_fn fn, void *arg)
{
    struct tbl_entry e;
    if (ahead)
        tbl_prefetch_ptr(ahead);
    if (!tbl_find(p, &e) && !pend_find_fresh(p, &e))
        return; /* freed since */
    struct hsnap_block b = {.addr = e.ptr, .size = e.size, .trace = e.trace, .epoch = e.epoch};
    fn(&b, arg);
}

/* A run's blocks as they come (a), and in address order (s: bsort_spread). */
struct bstream_runs {
    struct hsnap_block *a, *s; /* BSTREAM_RUN each */
    uint32_t n;
    bstream_run_fn fn;
    void *arg;
};

static void bstream_run_out(struct bstream_runs *r)
{
    bsort_spread(r->a, r->s, r->n);
    if (r->n)
        r->fn(r->s, r->n, r->arg);
    r->n = 0;
}

static int bstream_run_take(const struct tbl_entry *e, void *arg)
{
    struct bstream_runs *r = arg;
    if (inh_skip(e, 1))
        return 0;
    r->a[r->n] = (struct hsnap_block){.addr = e->ptr, .size = e->size, .trace = e->trace,
                                      .epoch = e->epoch};
    if (++r->n == BSTREAM_RUN)
        bstream_run_out(r);
    return 0;
}

int bstream_runs(bstream_run_fn fn, void *arg, struct pend_left *left)
{
    const size_t room = 2 * BSTREAM_RUN * sizeof(struct hsnap_block);
    struct hsnap_block *m = arena_map(room);
    if (!m)
        return -1;
    struct bstream_runs r = {m, m + BSTREAM_RUN, 0, fn, arg};
    int rc = pend_foreach(bstream_run_take, &r, 0, left);
    if (rc == 0)
        bstream_run_out(&r);
    arena_unmap(m, room);
    return rc < 0 ? -1 : 0;
}

int bstream_blocks(bstream_fn fn, void *arg, struct pend_left *left)
{
    struct bstream_gather g;
    if (bstream_gather(&g, left) != 0)
        return -1;
    if (g.a) {
        for (uint64_t i = 0; i < g.n; i++)
            bstream_one(g.a[i], i + BSTREAM_AHEAD < g.n ? g.a[i + BSTREAM_AHEAD] : 0, fn, arg);
        arena_unmap(g.a, g.cap * sizeof *g.a);
        return 0;
    }
    uint64_t words = 0;
    for (unsigned k = 0; k < g.nrun; k++) {
        const struct bstream_run *r = &g.run[k];
        const uint64_t hi = (uint64_t)r->hi << 32;
        words = r->at + r->cap;
        for (uint64_t i = 0; i < r->n; i++)
            bstream_one(hi | g.lo[r->at + i],
                        i + BSTREAM_AHEAD < r->n ? hi | g.lo[r->at + i + BSTREAM_AHEAD] : 0, fn,
                        arg);
    }
    arena_unmap(g.lo, words * sizeof *g.lo);
    return 0;
}
