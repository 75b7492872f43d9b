/*
 * native.c - the native stacks that Python frames are spliced into,
 * numbered: a stack with evaluation frames is named for the unwinder's
 * memo by its number (UNWIND_NAME_FRAMES | number, see
 * hook_stack), so that the same native frames, walked again after the
 * memo forgot them, get the same name, and the thread's recent splices
 * (stack.c) keyed by that name are found again.  A number stands for one
 * native stack (its frames and truncation flag) for good, and is never
 * handed out again; the table remembers the last PY_NATIVE_KEEP numbers'
 * stacks (two hashes of them: pyfr_native_key), so a stack met again
 * after that many others gets a new number.  Only a walk (a memo miss)
 * comes here; the table is under the room's lock (pyfr_code_lock), which
 * fork's handlers hold.
 */
#include "unwind.h"
#include "pyreads.h"
#include "pyframes.h"

/* What a name is worth after the memo forgot its stack: the thread's
 * plans (PY_PLANS a thread) and recent splices (stack.c, recent.c) keyed
 * by it, each a few thousand names at most, so the table needs to
 * remember no more names than they hold: kept for good, names cost 16
 * bytes each and their index 8-16 more (import torch makes 770k of them:
 * 17 MiB and more, for the 378k found again).  A forgotten stack's new number
 * costs a plan and a splice made again, never a wrong one: numbers are
 * not reused, so every answer kept under the old number stays true. */
#define PY_NATIVE_KEEP (1u << 16) /* names remembered (a ring by number) */
#define PY_NATIVE_MAX 0x7fffffffu /* numbers handed out, at most: below UNWIND_NO_NAME */

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
 * the kernel moves its pages), not doubled, up to PY_NATIVE_KEEP: the
 * shim's own memory counts what it maps.  Number k's record is
 * recs[k % PY_NATIVE_KEEP] while remembered (k >= n - PY_NATIVE_KEEP);
 * the index holds the remembered numbers alone, at most 3/4 full.  An
 * index slot carries the hash's bits from 20 up beside the number
 * (pyfr_native_slot_of): a probe passes another name's slot, and a
 * deletion finds where an entry belongs, without reading its record.
 * Most stacks asked are new (import torch: 770k of 1.15M), and each
 * record read was a cache miss of its own: a probe's slot, a forgotten
 * number's slot and every slot its deletion shifted read one. */
static struct {
    struct pyfr_native_key *recs; /* by number, side by side */
    uint32_t n, cap;         /* numbers handed out; records mapped */
    uint64_t *index;         /* pyfr_native_slot_of by hash; 0 = empty */
    uint32_t slots;          /* power of two */
} nat;

static inline struct pyfr_native_key *pyfr_native_rec(uint32_t number)
{
    return &nat.recs[number & (PY_NATIVE_KEEP - 1)];
}

/* Numbers the table remembers: [n - this, n). */
static inline uint32_t pyfr_native_live(void)
{
    return nat.n < PY_NATIVE_KEEP ? nat.n : PY_NATIVE_KEEP;
}

/* An index slot: the hash's bits 20-51 (its place's bits among them) in
 * the upper half, number + 1 in the lower (never 0). */
static inline uint64_t pyfr_native_slot_of(uint64_t hash, uint32_t number)
{
    return (hash >> 20) << 32 | ((uint64_t)number + 1);
}

/* Where an index slot x belongs (its home). */
static inline uint32_t pyfr_native_home(uint64_t x, uint32_t slots)
{
    return (uint32_t)(x >> 32) & (slots - 1);
}

static int pyfr_native_same(const struct pyfr_native_key *r, struct pyfr_native_key k)
{
    return r->hash == k.hash && r->check == k.check;
}

/* x placed at its home or the first empty slot after it. */
static inline void pyfr_native_put(uint64_t *ix, uint32_t slots, uint64_t x)
{
    uint32_t s = pyfr_native_home(x, slots);
    while (ix[s])
        s = (s + 1) & (slots - 1);
    ix[s] = x;
}

/* Records and index grown for one more number: 0, or -1. */
static int pyfr_native_grow(void)
{
    if (nat.n + 1 > nat.cap && nat.cap < PY_NATIVE_KEEP) {
        size_t old = (size_t)nat.cap * sizeof *nat.recs, len = old + old / 8;
        len = (len > 4096 ? len + 4095 : 4096) & ~(size_t)4095;
        if (len > PY_NATIVE_KEEP * sizeof *nat.recs)
            len = PY_NATIVE_KEEP * sizeof *nat.recs;
        struct pyfr_native_key *r = nat.recs ? arena_remap(nat.recs, old, len) : arena_map(len);
        if (!r)
            return -1;
        nat.recs = r;
        nat.cap = (uint32_t)(len / sizeof *r);
    }
    uint32_t live = pyfr_native_live();
    if (4 * ((uint64_t)live + 1) <= 3 * (uint64_t)nat.slots)
        return 0;
    uint32_t slots = nat.slots ? nat.slots * 2 : 512;
    uint64_t *ix = arena_alloc(slots * sizeof *ix);
    if (!ix)
        return -1;
    for (uint32_t i = 0; i < nat.slots; i++) /* the slots say where they go */
        if (nat.index[i])
            pyfr_native_put(ix, slots, nat.index[i]);
    if (nat.index)
        arena_free(nat.index, nat.slots * sizeof *nat.index);
    nat.index = ix, nat.slots = slots;
    return 0;
}

/* The oldest remembered number, whose record number n's takes, out of
 * the index: its slot emptied and the run after it shifted back over it
 * (linear probing's deletion: each entry stays reachable from its home
 * slot, with no tombstones to clear).  Its record is read for its hash,
 * a line the new record is written to next. */
static void pyfr_native_forget(void)
{
    uint32_t old = nat.n - PY_NATIVE_KEEP, mask = nat.slots - 1;
    uint64_t x = pyfr_native_slot_of(pyfr_native_rec(old)->hash, old);
    uint32_t i = pyfr_native_home(x, nat.slots);
    while (nat.index[i] != x)
        if (!nat.index[i = (i + 1) & mask])
            return; /* not there: nothing to take out */
    for (uint32_t j = (i + 1) & mask; nat.index[j]; j = (j + 1) & mask) {
        uint32_t home = pyfr_native_home(nat.index[j], nat.slots);
        /* stays when its home lies cyclically in (i, j] */
        if (((j - home) & mask) < ((j - i) & mask))
            continue;
        nat.index[i] = nat.index[j];
        i = j;
    }
    nat.index[i] = 0;
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
    uint32_t name = UNWIND_NO_NAME, hi = (uint32_t)(k.hash >> 20);
    pyfr_code_lock();
    uint32_t s = nat.slots ? hi & (nat.slots - 1) : 0;
    for (uint64_t x; nat.slots && (x = nat.index[s]) != 0; s = (s + 1) & (nat.slots - 1))
        if ((uint32_t)(x >> 32) == hi && pyfr_native_same(pyfr_native_rec((uint32_t)x - 1), k)) {
            name = UNWIND_NAME_FRAMES | ((uint32_t)x - 1);
            goto out;
        }
    if (nat.n >= PY_NATIVE_MAX || pyfr_native_grow() != 0)
        goto out;
    if (nat.n >= PY_NATIVE_KEEP)
        pyfr_native_forget();
    *pyfr_native_rec(nat.n) = k;
    pyfr_native_put(nat.index, nat.slots, pyfr_native_slot_of(k.hash, nat.n));
    name = UNWIND_NAME_FRAMES | nat.n++;
out:
    pyfr_code_unlock();
    return name;
}
