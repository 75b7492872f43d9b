/*
 * native.c - the native stacks that Python frames are spliced into,
 * numbered: a stack with evaluation frames is named for the unwinder's
 * memo by its number (UNWIND_NAME_FRAMES | number, see
 * hook_stack), so that the same native frames, walked again after the
 * memo forgot them, get the same name, and the thread's recent splices
 * (stack.c) keyed by that name are found again.  A number stands for one
 * native stack (its frames and truncation flag) for good, kept as two
 * hashes of them (pyfr_native_key): records are never freed, like traces.  Only
 * a walk (a memo miss) comes here; the table is under the room's lock
 * (pyfr_code_lock), which fork's handlers hold.
 */
#include "unwind.h"
#include "pyreads.h"
#include "pyframes.h"

#define PY_NATIVE_MAX (1u << 24) /* numbers handed out, at most */

/* A stack is known by two 64-bit hashes of its frames (with its depth and
 * truncation flag), not by its frames: kept, they cost a record of 16
 * bytes instead of the frames' nodes in ftree_walk_in's tree (a Python
 * start-up names ten thousand native stacks some 60 frames deep, import
 * torch a million), and a match is two compares instead of a walk up 60
 * nodes.  Both lanes (pyfr_native_step) run from the outermost frame in,
 * so that a stack sharing its outer frames with the one before starts
 * from the lanes that one had there (stack.c's pyfr_last); each step is a
 * bijection of its lane, the two of other operations and multipliers,
 * and the depth and truncation flag are folded in at the end.  Two stacks
 * share a name only when both hashes agree: about n^2 / 2^129 for n
 * names, so the record is the two hashes alone. */
struct pyfr_native_key {
    uint64_t hash, check;
};

static struct pyfr_native_key pyfr_native_key(struct pyfr_native_lanes s, unsigned depth,
                                              int truncated)
{
    uint64_t salt = truncated ? 0x5bd1e9955bd1e995ull : 0;
    struct pyfr_native_key k = {
        trace_mix(s.c ^ ((uint64_t)depth << 32) ^ salt),
        trace_mix((s.d ^ s.d >> 27) * 0x94d049bb133111ebULL + depth) ^ salt};
    return k;
}

/* The records are one mapping grown by an eighth in place (arena_remap:
 * the kernel moves its pages), not doubled: the shim's own memory counts
 * what it maps.  The index is at most 3/4 full. */
static struct {
    struct pyfr_native_key *recs; /* by number, side by side: a probe's one miss */
    uint32_t n, cap;
    uint32_t *index;         /* number + 1 by hash; 0 = empty */
    uint32_t slots;          /* power of two */
} nat;

static inline uint32_t pyfr_native_slot(uint64_t hash, uint32_t slots)
{
    return (uint32_t)(hash >> 20) & (slots - 1);
}

static int pyfr_native_same(const struct pyfr_native_key *r, struct pyfr_native_key k)
{
    return r->hash == k.hash && r->check == k.check;
}

/* Records and index grown for one more number: 0, or -1. */
static int pyfr_native_grow(void)
{
    if (nat.n + 1 > nat.cap) {
        size_t old = (size_t)nat.cap * sizeof *nat.recs, len = old + old / 8;
        len = (len > 4096 ? len + 4095 : 4096) & ~(size_t)4095;
        struct pyfr_native_key *r = nat.recs ? arena_remap(nat.recs, old, len) : arena_map(len);
        if (!r)
            return -1;
        nat.recs = r;
        nat.cap = (uint32_t)(len / sizeof *r);
    }
    if (4 * ((uint64_t)nat.n + 1) <= 3 * (uint64_t)nat.slots)
        return 0;
    uint32_t slots = nat.slots ? nat.slots * 2 : 512;
    uint32_t *ix = arena_alloc(slots * sizeof *ix);
    if (!ix)
        return -1;
    for (uint32_t k = 0; k < nat.n; k++) {
        uint32_t s = pyfr_native_slot(nat.recs[k].hash, slots);
        while (ix[s])
            s = (s + 1) & (slots - 1);
        ix[s] = k + 1;
    }
    if (nat.index)
        arena_free(nat.index, nat.slots * sizeof *nat.index);
    nat.index = ix, nat.slots = slots;
    return 0;
}

uint32_t pyfr_native_name(const uintptr_t *ip, unsigned depth, int truncated)
{
    struct pyfr_native_lanes s = PY_NATIVE_SEED;
    for (unsigned i = depth; i-- > 0;)
        s = pyfr_native_step(s, ip[i]);
    return pyfr_native_name_of(s, depth, truncated);
}

uint32_t pyfr_native_name_of(struct pyfr_native_lanes lanes, unsigned depth, int truncated)
{
    struct pyfr_native_key k = pyfr_native_key(lanes, depth, truncated);
    uint32_t name = UNWIND_NO_NAME;
    pyfr_code_lock();
    uint32_t s = nat.slots ? pyfr_native_slot(k.hash, nat.slots) : 0;
    for (; nat.slots && nat.index[s]; s = (s + 1) & (nat.slots - 1))
        if (pyfr_native_same(&nat.recs[nat.index[s] - 1], k)) {
            name = UNWIND_NAME_FRAMES | (nat.index[s] - 1);
            goto out;
        }
    if (nat.n >= PY_NATIVE_MAX || pyfr_native_grow() != 0)
        goto out;
    nat.recs[nat.n] = k;
    s = pyfr_native_slot(k.hash, nat.slots);
    while (nat.index[s])
        s = (s + 1) & (nat.slots - 1);
    nat.index[s] = nat.n + 1;
    name = UNWIND_NAME_FRAMES | nat.n++;
out:
    pyfr_code_unlock();
    return name;
}
