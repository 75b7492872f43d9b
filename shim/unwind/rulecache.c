/*
 * rulecache.c - the rule word (unwindinner.h) of every IP the CFI walk (cfi.c)
 * has met: slots of {key = IP + 1, rule word}, open addressed, insert-only
 * until a full clear.  It starts at 1 << RCACHE_MIN_BITS slots and doubles,
 * by a clear, when half full or a run of probes is crowded, up to
 * 1 << RCACHE_BITS, so that its pages grow with the program's rules.
 *   Rules: readers take no lock (a writer stores the rule, then the key
 * with release; the rule carries a tag of its IP, so a reader racing a
 * clear sees a mismatch and takes the slow path).  Writers use lock_try
 * and skip the insert when busy: nothing here waits.  The walk probes a
 * key's first slot itself (rcache_slot_of); the rest is here.
 *   slow path  ehframe.c, no shim lock held (it takes the loader lock);
 *              what it cannot express is cached as CFI_UNKNOWN.
 *   dlclose    dlpi_subs, read on every slow path and every
 *              CFI_CHECK_EVERY walks of a thread (rcache_check): when it
 *              moved, a clear.
 */
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>

#include "unwindinner.h"

#define RCACHE_PROBES 8 /* linear probes before a clear */

struct rcache rcache;

/* ---------------- lookups and inserts ---------------- */

/* The rule word's check on its slot's key: the key's low 18 bits. */
static inline uint64_t rcache_tag(uintptr_t key)
{
    return ((uint64_t)key & CFI_TAG_MASK) << CFI_TAG_SHIFT;
}

/* The tag matches and the kind is not empty. */
static inline int rcache_tag_ok(uint64_t w, uintptr_t key)
{
    return ((w ^ rcache_tag(key)) & CFI_TAG_MASK << CFI_TAG_SHIFT) == 0 &&
           CFI_KIND(w) != CFI_EMPTY;
}

/* With rcache.lock held: forget every rule.  Dropping the pages empties every
 * slot (zero is empty) and gives them back: storing zeros in 64K slots made
 * the whole 1 MiB resident at a program's first dlclose (+1 MiB of RSS,
 * docs/performance.md, issue 21).  A reader racing it sees what it saw
 * racing the stores: an empty key, or its key with an empty rule. */
static void rcache_clear_locked(unsigned long long subs)
{
    size_t n = (size_t)1 << RCACHE_BITS;
    if (madvise(rcache.slot, n * sizeof *rcache.slot, MADV_DONTNEED) != 0)
        for (size_t i = 0; i < n; i++) { /* not a mapping of its own (a test's host) */
            atomic_store_explicit(&rcache.slot[i].rule, 0, memory_order_relaxed);
            atomic_store_explicit(&rcache.slot[i].key, 0, memory_order_release);
        }
    rcache.used = 0;
    atomic_store(&rcache.subs, subs);
}

/* With rcache.lock held: the slots in use made resident at once, for a
 * cache emptied to be filled again (grown, or full at its most): it fills
 * nearly every page of them (256 slots a page, half of them used at the
 * next growth), and a page a probe reads before an insert writes it
 * faults twice (`import torch` meets 94k rules: 4.6k faults here). */
static void rcache_populate_locked(void)
{
    uint64_t mask = atomic_load_explicit(&rcache.mask, memory_order_relaxed);
    arena_populate(rcache.slot, (size_t)(mask + 1) * sizeof *rcache.slot);
}

/* With rcache.lock held: a cache full at its most emptied, to be filled
 * again at once. */
static void rcache_refill_locked(void)
{
    rcache_clear_locked(atomic_load(&rcache.subs));
    rcache_populate_locked();
}

/* With rcache.lock held: a cache half full (or a crowded run of probes)
 * moves to twice the slots, emptied; 0 once it is at its most.  A
 * reader racing it may look in a slot of the old size: it checks the key
 * and the rule's tag there as anywhere, so it finds the right rule or
 * misses. */
static int rcache_grow_locked(void)
{
    uint64_t mask = atomic_load_explicit(&rcache.mask, memory_order_relaxed);
    if (mask >= ((uint64_t)1 << RCACHE_BITS) - 1)
        return 0;
    rcache_clear_locked(atomic_load(&rcache.subs));
    atomic_store_explicit(&rcache.mask, mask << 1 | 1, memory_order_relaxed);
    rcache_populate_locked();
    return 1;
}

/* Brings the cache up to dlpi_subs; 0, or -1 if it could not (busy). */
static int rcache_sync(unsigned long long subs)
{
    if (subs == atomic_load_explicit(&rcache.subs, memory_order_relaxed))
        return 0;
    if (!lock_try(&rcache.lock))
        return -1;
    if (subs != atomic_load(&rcache.subs))
        rcache_clear_locked(subs);
    lock_drop(&rcache.lock);
    return 0;
}

static void rcache_insert(uintptr_t ip, uint64_t w)
{
    if (!lock_try(&rcache.lock))
        return; /* someone else is writing: use the rule uncached */
    uint64_t mask = atomic_load_explicit(&rcache.mask, memory_order_relaxed);
    if (rcache.used >= (mask + 1) / 2 && !rcache_grow_locked() &&
        rcache.used >= (mask + 1) / 4 * 3)
        rcache_refill_locked();
    mask = atomic_load_explicit(&rcache.mask, memory_order_relaxed);
    uint64_t h = rcache_slot_of(ip);
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < RCACHE_PROBES; i++) {
            struct rcache_slot *s = &rcache.slot[(h + i) & mask];
            uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
            if (k == ip)
                goto out;
            if (k == 0) {
                atomic_store_explicit(&s->rule, w, memory_order_relaxed);
                atomic_store_explicit(&s->key, ip, memory_order_release);
                rcache.used++;
                goto out;
            }
        }
        if (!rcache_grow_locked()) /* a crowded run: start over, larger if it can */
            rcache_refill_locked();
        mask = atomic_load_explicit(&rcache.mask, memory_order_relaxed);
        h = rcache_slot_of(ip);
    }
out:
    lock_drop(&rcache.lock);
}

/* The slow path: find, interpret, cache.  No lock held on entry.  A key
 * is the looked-up IP + 1: a caller's return address as is. */
static HS_NOINLINE uint64_t rcache_miss(uintptr_t key)
{
    int found;
    unsigned long long subs;
    unwind_deep++; /* the decoder's path runs deep on the stack */
    uint64_t w = ehf_rule(key - 1, &found, &subs) | rcache_tag(key);
    if (found && rcache_sync(subs) == 0)
        rcache_insert(key, w);
    return w;
}

/* Probes from key's slot on, then the slow path (the walk probes the
 * first slot itself). */
HS_NOINLINE uint64_t rcache_lookup(uintptr_t key)
{
    uint64_t mask = atomic_load_explicit(&rcache.mask, memory_order_relaxed);
    uint64_t h = rcache_slot_of(key) & mask;
    for (unsigned i = 0; i < RCACHE_PROBES; i++) {
        struct rcache_slot *s = &rcache.slot[(h + i) & mask];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key) {
            uint64_t w = atomic_load_explicit(&s->rule, memory_order_relaxed);
            if (rcache_tag_ok(w, key))
                return w;
            break;
        }
        if (k == 0)
            break;
    }
    return rcache_miss(key);
}

unsigned rcache_slots(void)
{
    return (unsigned)atomic_load_explicit(&rcache.mask, memory_order_relaxed) + 1;
}

int rcache_rule_at(uintptr_t ip, struct cfi_rule *out)
{
    ehf_decode(rcache.slot ? rcache_lookup(ip + 1) : rcache_miss(ip + 1), out);
    return (int)out->kind;
}

/* ---------------- the modules ---------------- */

static int rcache_subs_of(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        *(unsigned long long *)arg = info->dlpi_subs;
    return 1;
}

/* Brings the cache up to the modules loaded now; 0, or -1 if it could
 * not (busy). */
int rcache_check(void)
{
    unsigned long long subs = atomic_load(&rcache.subs);
    unwind_deep++;
    unwind_host->iterate_phdr(rcache_subs_of, &subs);
    return rcache_sync(subs);
}

/* ---------------- life ---------------- */

static void rcache_after_fork_child(void)
{
    lock_drop(&rcache.lock); /* only this thread is left; the table is consistent */
    ehf_after_fork_child();
}

int rcache_init(void)
{
    size_t bytes = sizeof(struct rcache_slot) << RCACHE_BITS;
    if (rcache.slot)
        return 0;
    unsigned long long subs = 0;
    unwind_host->iterate_phdr(rcache_subs_of, &subs);
    atomic_store(&rcache.subs, subs);
    struct rcache_slot *s = unwind_host->map(bytes);
    if (!s)
        return -1;
    pthread_atfork(NULL, NULL, rcache_after_fork_child);
    atomic_store(&rcache.mask, ((uint64_t)1 << RCACHE_MIN_BITS) - 1);
    rcache.slot = s;
    return 0;
}
