/*
 * native.c - the native stacks that Python frames are spliced into,
 * numbered: a stack with evaluation frames is named for the unwinder's
 * memo by its number (UNWIND_NAME_FRAMES | number, see hooks.c's
 * hook_stack), so that the same native frames, walked again after the
 * memo forgot them, get the same name, and the thread's recent splices
 * (stack.c) keyed by that name are found again.  A number stands for
 * exactly one native stack (its frames and truncation flag, compared in
 * full), for good: records are never freed, like traces, and their
 * frames are frametree.c's tree's (trace_node_intern: most of a stack's
 * frames are stored already, by the traces).  Only a walk
 * (a memo miss) comes here; the table is under the room's lock (code.c's
 * py_code_lock), which fork's handlers hold.
 */
#include <string.h>

#include "inner.h"

#define PY_NATIVE_MAX (1u << 24) /* numbers handed out, at most */

struct py_native {
    uint64_t hash;
    uint32_t node;           /* the frames: frametree.c's tree */
    uint16_t depth;
    uint16_t truncated;
};

static struct {
    struct py_native **recs; /* by number */
    uint32_t n, cap;
    uint32_t *index;         /* number + 1 by hash; 0 = empty */
    uint32_t slots;          /* power of two */
} nat;

/* traces.c's hash of the frames, told apart from the same frames cut short. */
static uint64_t py_native_hash(const uintptr_t *ip, unsigned depth, int truncated)
{
    return trace_hash(ip, depth) ^ (truncated ? 0x5bd1e9955bd1e995ull : 0);
}

static inline uint32_t py_native_slot(uint64_t hash, uint32_t slots)
{
    return (uint32_t)(hash >> 20) & (slots - 1);
}

static int py_native_same(const struct py_native *r, uint64_t hash, const uintptr_t *ip,
                          unsigned depth, int truncated)
{
    return r->hash == hash && r->depth == depth && r->truncated == (truncated != 0) &&
           ftree_same(r->node, ip, depth);
}

/* Records and index grown for one more number: 0, or -1. */
static int py_native_grow(void)
{
    if (nat.n + 1 > nat.cap) {
        struct py_native **r = py_array_double(nat.recs, nat.n, &nat.cap, sizeof *r, 256);
        if (!r)
            return -1;
        nat.recs = r;
    }
    if ((nat.n + 1) * 2 <= nat.slots)
        return 0;
    uint32_t slots = nat.slots ? nat.slots * 2 : 512;
    uint32_t *ix = arena_alloc(slots * sizeof *ix);
    if (!ix)
        return -1;
    for (uint32_t k = 0; k < nat.n; k++) {
        uint32_t s = py_native_slot(nat.recs[k]->hash, slots);
        while (ix[s])
            s = (s + 1) & (slots - 1);
        ix[s] = k + 1;
    }
    if (nat.index)
        arena_free(nat.index, nat.slots * sizeof *nat.index);
    nat.index = ix, nat.slots = slots;
    return 0;
}

uint32_t py_native_name(const uintptr_t *ip, unsigned depth, int truncated)
{
    uint64_t h = py_native_hash(ip, depth, truncated);
    uint32_t name = UNWIND_NO_NAME;
    py_code_lock();
    uint32_t s = nat.slots ? py_native_slot(h, nat.slots) : 0;
    for (; nat.slots && nat.index[s]; s = (s + 1) & (nat.slots - 1))
        if (py_native_same(nat.recs[nat.index[s] - 1], h, ip, depth, truncated)) {
            name = UNWIND_NAME_FRAMES | (nat.index[s] - 1);
            goto out;
        }
    if (nat.n >= PY_NATIVE_MAX || py_native_grow() != 0)
        goto out;
    uint32_t node;
    struct py_native *r;
    if (trace_node_intern(ip, depth, &node) != 0 || !(r = arena_keep(sizeof *r)))
        goto out;
    r->hash = h;
    r->node = node;
    r->depth = (uint16_t)depth;
    r->truncated = truncated != 0;
    s = py_native_slot(h, nat.slots);
    while (nat.index[s])
        s = (s + 1) & (nat.slots - 1);
    nat.recs[nat.n] = r;
    nat.index[s] = nat.n + 1;
    name = UNWIND_NAME_FRAMES | nat.n++;
out:
    py_code_unlock();
    return name;
}
