/*
 * fchain.c - frame chains (fchain.h): an array of chains, chain 0 the
 * empty one, and an open-addressed table (a power of two, at most half
 * full) of their ids by (innermost frame, parent chain), so that equal
 * frame sequences are one chain whatever snapshot or node they came
 * from.  They live until fchain_fini (frames_fini's), as the frame
 * records they point at do.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fchain.h"

static struct {
    struct fchain *v;           /* v[0] is the empty chain */
    size_t n, cap;
    uint32_t *slots;            /* ids by (f, parent); 0: free */
    size_t capslots;
} fc;

static size_t slot_of(const struct frame *f, uint32_t parent, size_t cap)
{
    uint64_t k = (uint64_t)(uintptr_t)f + (uint64_t)parent * 0x9e3779b97f4a7c15ull;
    return (size_t)((k * 0xff51afd7ed558ccdull) >> 32) & (cap - 1);
}

static int grow_slots(void)
{
    size_t cap = fc.capslots ? fc.capslots * 2 : 4096;
    uint32_t *s = big_calloc(cap, sizeof(*s));
    if (!s)
        return -1;
    for (size_t i = 0; i < fc.capslots; i++)
        if (fc.slots[i]) {
            const struct fchain *c = &fc.v[fc.slots[i]];
            size_t k = slot_of(c->f, c->parent, cap);
            while (s[k])
                k = (k + 1) & (cap - 1);
            s[k] = fc.slots[i];
        }
    free(fc.slots);
    fc.slots = s;
    fc.capslots = cap;
    return 0;
}

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
    if (start() < 0 || ((fc.n + 1) * 2 > fc.capslots && grow_slots() < 0))
        return -1;
    size_t k = slot_of(f, parent, fc.capslots);
    for (; fc.slots[k]; k = (k + 1) & (fc.capslots - 1)) {
        const struct fchain *c = &fc.v[fc.slots[k]];
        if (c->f == f && c->parent == parent)
            return fc.slots[k];
    }
    if (fc.n >= UINT32_MAX - 1 || grow_array((void **)&fc.v, &fc.cap, fc.n + 1, sizeof(*fc.v)) < 0)
        return -1;
    const struct fchain *p = &fc.v[parent];
    fc.v[fc.n] = (struct fchain){f, NULL, parent, p->len + 1, p->npy + (py != 0),
                                 p->bits | bits};
    fc.slots[k] = (uint32_t)fc.n;
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
    free(fc.slots);
    memset(&fc, 0, sizeof(fc));
}
