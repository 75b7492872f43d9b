/*
 * fchain.c - frame chains (fchain.h): an array of chains, chain 0 the
 * empty one, each its innermost frame and its parent chain.  They live
 * until fchain_fini (frames_fini's), as the frame records they point at
 * do.
 *
 * Chains are not looked up by (frame, parent): the one made right after
 * its parent is taken again when it has the frame asked (fchain_push's
 * test), and any other push makes a chain.  frames.c asks a chain for
 * each tree node once (node_chain's memo), so a node's chain is found
 * without a push, and two nodes of the same frames get two chains whose
 * stacks are still one (stack_of interns them by their frames).  A table
 * of every chain by (frame, parent) missed the cache once a push on a
 * big snapshot, mostly to find the chain new (docs/performance-hotpath.md,
 * the row of fchain.c).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fchain.h"

static struct {
    struct fchain *v;           /* v[0] is the empty chain */
    size_t n, cap;
} fc;

/* The empty chain, made on first use. */
static int start(void)
{
    if (fc.n)
        return 0;
    if (grow_array((void **)&fc.v, &fc.cap, 1, sizeof(*fc.v)) < 0)
        return -1;
    memset(&fc.v[0], 0, sizeof(fc.v[0]));
    fc.n = 1;
    return 0;
}

int64_t fchain_push(const struct frame *f, int py, uint32_t bits, uint32_t parent)
{
    if (start() < 0)
        return -1;
    if ((size_t)parent + 1 < fc.n && fc.v[parent + 1].parent == parent && fc.v[parent + 1].f == f)
        return parent + 1;
    if (fc.n >= UINT32_MAX - 1 || grow_array((void **)&fc.v, &fc.cap, fc.n + 1, sizeof(*fc.v)) < 0)
        return -1;
    const struct fchain *p = &fc.v[parent];
    fc.v[fc.n] = (struct fchain){f, NULL, parent, p->len + 1, p->npy + (py != 0),
                                 p->bits | bits};
    return (int64_t)fc.n++;
}

struct fchain *fchain_at(uint32_t id)
{
    return start() < 0 ? NULL : &fc.v[id];
}

void fchain_frames(uint32_t id, const struct frame **out)
{
    for (; id; id = fc.v[id].parent)
        *out++ = fc.v[id].f;
}

void fchain_fini(void)
{
    free(fc.v);
    memset(&fc, 0, sizeof(fc));
}
