/*
 * pycycle.c - the one link each garbage object keeps (PYTYPES' links, the
 * path `leaks` prints for a group of garbage), chosen so that the path
 * from a group's object is a cycle through it.  The garbage are grouped
 * as the CLI groups them, by allocation site (the block's trace) and
 * type; for each group, one of its objects (the first few in address
 * order, until one has one) gets the shortest cycle through it, found
 * breadth first over the garbage's edges, and every object on that cycle
 * keeps the cycle's edge as its link.  Cycles so kept share no object, so
 * each link stays on its own cycle: an object already on one is its
 * group's answer.  The garbage those cycles hold (a dead class's
 * functions: on no cycle) keep the reference that holds them, from a
 * kept cycle breadth first; the rest their first reference to garbage.
 * The searches are bounded (PYC_STEPS objects a cycle,
 * PYC_TRIES objects a group, PYC_BUDGET edges in all, PYC_GROUPS), and
 * their arrays are by garbage object only (16 bytes each), mapped for the
 * pass and given back.
 */
#include "record.h"
#include "pygraph.h"
#include "pyedge.h"

#define PYC_STEPS 12          /* objects of a cycle looked for (3.10: an
                                 instance and its __dict__ are two) */
#define PYC_TRIES 8           /* objects of a group tried for one */
#define PYC_BUDGET (1u << 24) /* edges looked at by all the searches */
#define PYC_GROUPS (1u << 17) /* slots of the groups' table, at most (2 MiB) */

struct pyc_group {
    uint64_t key; /* (trace + 1) << 32 | type; 0: a free slot */
    uint32_t tries, done;
};

/* The place of object o among the garbage gl[0, n) (ascending). */
static uint32_t pyc_index(const uint32_t *gl, uint32_t n, uint32_t o)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (gl[mid] < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Object o's group (trace, type) in the table grp (mask + 1 slots, *used
 * of them taken), or NULL: the table is full (three quarters). */
static struct pyc_group *pyc_group_of(const struct pyh_heap *h, uint32_t o,
                                      struct pyc_group *grp, uint64_t mask, uint64_t *used)
{
    struct tbl_entry e;
    uint64_t addr = h->blk[pyh_blk_of(h, o)].addr;
    uint32_t trace = tbl_find(addr, &e) || pend_find_fresh(addr, &e) ? e.trace : UINT32_MAX;
    uint64_t key = ((uint64_t)trace + 1) << 32 | h->obj[o].type;
    uint64_t at = (key * 0x9e3779b97f4a7c15ull) >> 20;
    for (;; at++) {
        struct pyc_group *s = &grp[at & mask];
        if (!s->key) {
            if (*used >= (mask + 1) / 4 * 3)
                return NULL;
            ++*used;
            s->key = key;
        }
        if (s->key == key)
            return s;
    }
}

struct pyc_search {
    const struct pyh_heap *h;
    const struct pye_csr *c;
    const uint32_t *gl;
    uint32_t n;
    uint32_t *mark, *from, *queue; /* by garbage index */
    uint32_t stamp;
    uint64_t budget;
    uint32_t *via;
};

/* The shortest cycle through garbage object r among the garbage on no
 * kept cycle, kept in via; 1, or 0: none within PYC_STEPS. */
static int pyc_cycle(struct pyc_search *s, uint32_t r)
{
    uint32_t head = 0, tail = 0, level_end, ri = pyc_index(s->gl, s->n, r);
    s->stamp++;
    s->mark[ri] = s->stamp;
    s->queue[tail++] = ri;
    for (uint32_t depth = 0; depth < PYC_STEPS && head < tail; depth++) {
        for (level_end = tail; head < level_end; head++) {
            uint32_t v = s->gl[s->queue[head]];
            for (uint32_t at = pye_start(s->c, v), end = at + pye_len(s->c, v); at < end;) {
                uint32_t k = at, d = pye_dst(s->c, &at, v);
                if (!s->budget)
                    return 0;
                s->budget--;
                if (!s->h->obj[d].garbage || (d != r && s->via[d] != PYG_NONE))
                    continue;
                if (d == r) { /* closed: keep the cycle's edges */
                    s->via[v] = k;
                    while (v != r) {
                        uint32_t f = s->from[pyc_index(s->gl, s->n, v)];
                        v = pye_src(s->c, f);
                        s->via[v] = f;
                    }
                    return 1;
                }
                uint32_t di = pyc_index(s->gl, s->n, d);
                if (s->mark[di] == s->stamp || depth + 2 > PYC_STEPS)
                    continue;
                s->mark[di] = s->stamp;
                s->from[di] = k;
                s->queue[tail++] = di;
            }
        }
    }
    return 0;
}

/* The garbage the kept cycles lead to, breadth first from them: each
 * object's link is the edge that reached it (its holder's: pyg_mark puts
 * it as HSNAP_PYLINK_HELD), so that its holders lead back to a cycle;
 * queue has room for every garbage object (indices into gl). */
static void pyc_held(struct pyc_search *s)
{
    uint32_t head = 0, tail = 0;
    for (uint32_t j = 0; j < s->n; j++)
        if (s->via[s->gl[j]] != PYG_NONE)
            s->queue[tail++] = j;
    while (head < tail) {
        uint32_t v = s->gl[s->queue[head++]];
        for (uint32_t at = pye_start(s->c, v), end = at + pye_len(s->c, v); at < end;) {
            uint32_t k = at, d = pye_dst(s->c, &at, v);
            if (s->h->obj[d].garbage && s->via[d] == PYG_NONE) {
                s->via[d] = k;
                s->queue[tail++] = pyc_index(s->gl, s->n, d);
            }
        }
    }
}

/* The first reference of each garbage object still without a link to
 * other garbage. */
static void pyc_first(const struct pyh_heap *h, const struct pye_csr *c, uint32_t *via)
{
    for (uint32_t i = 0, at = 0; i < c->nobj; i++) {
        uint32_t end = at + pye_len(c, i);
        if (h->obj[i].garbage && via[i] == PYG_NONE)
            while (at < end) {
                uint32_t e = at;
                if (h->obj[pye_dst(c, &at, i)].garbage) {
                    via[i] = e;
                    break;
                }
            }
        at = end;
    }
}

void pyg_cycle_links(const struct pyh_heap *h, const struct pye_csr *c, uint32_t *via)
{
    uint64_t nobj = c->nobj;
    uint64_t n = 0, slots = 16, used = 0;
    for (uint64_t i = 0; i < nobj; i++)
        n += h->obj[i].garbage;
    while (slots < 2 * n && slots < PYC_GROUPS)
        slots *= 2;
    size_t len = n * 16 + slots * sizeof(struct pyc_group);
    char *m = n && n < UINT32_MAX / 4 ? arena_map(len) : NULL;
    if (m) {
        struct pyc_search s = {h, c, (uint32_t *)m, (uint32_t)n, NULL, NULL, NULL, 0, PYC_BUDGET,
                               via};
        s.mark = (uint32_t *)m + n, s.from = s.mark + n, s.queue = s.from + n;
        struct pyc_group *grp = (struct pyc_group *)(m + n * 16);
        uint32_t *gl = (uint32_t *)m, k = 0;
        for (uint64_t i = 0; i < nobj; i++)
            if (h->obj[i].garbage)
                gl[k++] = (uint32_t)i;
        for (uint32_t j = 0; j < k && s.budget; j++) {
            struct pyc_group *g = pyc_group_of(h, gl[j], grp, slots - 1, &used);
            if (!g || g->done)
                continue;
            if (via[gl[j]] != PYG_NONE || (g->tries < PYC_TRIES && (g->tries++, pyc_cycle(&s, gl[j]))))
                g->done = 1;
        }
        pyc_held(&s);
        arena_unmap(m, len);
    }
    pyc_first(h, c, via);
}
