/*
 * pydomain.c - tracemalloc's domains, as the shim keeps them: the blocks a
 * C extension tracks with PyTraceMalloc_Track(domain, ptr, size) (numpy:
 * 389047 for its arrays' data), by address, with the size tracked; domain
 * 0 (the Python objects') is not kept.  pytrack.c's wrappers of
 * PyTraceMalloc_Track and _Untrack fill it; heapsnap_dump reads it
 * (pyw_domain_of), outside the table's locks: its lock is taken alone (the
 * lock order's "pydomain"), and held over fork (pyw_domain_fork).  A block
 * whose size is not the tracked one (its address reused after a missed
 * untrack) reads as domain 0.  Open addressing, linear probing with
 * backward-shift deletion, in the shim's own mappings.
 */
#include "base.h"
#include "pywrap.h"

struct pt_slot {
    uintptr_t p; /* 0: empty */
    uint64_t size;
    uint32_t domain;
};

static struct {
    lock_t lock;
    struct pt_slot *s;
    uint32_t cap, n;      /* slots (a power of two), used */
    _Atomic uint32_t any; /* n != 0, read without the lock */
} pt;

static uint32_t pt_home(uintptr_t p, uint32_t cap)
{
    return (uint32_t)((p * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static uint32_t pt_find(uintptr_t p)
{
    uint32_t i = pt_home(p, pt.cap);
    while (pt.s[i].p && pt.s[i].p != p)
        i = (i + 1) & (pt.cap - 1);
    return i;
}

/* Room for one more (at most half full); -1: no memory, nothing kept. */
static int pt_room(void)
{
    if ((pt.n + 1) * 2 <= pt.cap)
        return 0;
    uint32_t cap = pt.cap ? pt.cap * 2 : 1024;
    struct pt_slot *s = arena_map((size_t)cap * sizeof *s), *old = pt.s;
    if (!s)
        return -1;
    uint32_t was = pt.cap;
    pt.s = s;
    pt.cap = cap;
    for (uint32_t i = 0; i < was; i++)
        if (old[i].p)
            pt.s[pt_find(old[i].p)] = old[i];
    if (old)
        arena_unmap(old, (size_t)was * sizeof *old);
    return 0;
}

/* Slot i out, the run after it shifted back (linear probing). */
static void pt_erase(uint32_t i)
{
    uint32_t j = i;
    pt.s[i].p = 0;
    pt.n--;
    for (;;) {
        j = (j + 1) & (pt.cap - 1);
        if (!pt.s[j].p)
            break;
        uint32_t h = pt_home(pt.s[j].p, pt.cap);
        if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
            pt.s[i] = pt.s[j];
            pt.s[j].p = 0;
            i = j;
        }
    }
}

/* PyTraceMalloc_Track: ptr's block is in domain (0: out of the table). */
void pyw_domain_set(unsigned domain, uintptr_t p, uint64_t size)
{
    if (!p)
        return;
    lock_take(&pt.lock);
    uint32_t i = pt.cap ? pt_find(p) : 0;
    if (pt.cap && pt.s[i].p) {
        if (domain)
            pt.s[i] = (struct pt_slot){p, size, domain};
        else
            pt_erase(i);
    } else if (domain && pt_room() == 0) {
        pt.s[pt_find(p)] = (struct pt_slot){p, size, domain};
        pt.n++;
    }
    atomic_store_explicit(&pt.any, pt.n != 0, memory_order_relaxed);
    lock_drop(&pt.lock);
}

/* PyTraceMalloc_Untrack: out of the table if it was in that domain. */
void pyw_domain_unset(unsigned domain, uintptr_t p)
{
    lock_take(&pt.lock);
    uint32_t i = pt.cap ? pt_find(p) : 0;
    if (pt.cap && pt.s[i].p && pt.s[i].domain == domain)
        pt_erase(i);
    atomic_store_explicit(&pt.any, pt.n != 0, memory_order_relaxed);
    lock_drop(&pt.lock);
}

int pyw_domain_any(void)
{
    return atomic_load_explicit(&pt.any, memory_order_relaxed) != 0;
}

uint32_t pyw_domain_of(uintptr_t p, uint64_t size)
{
    uint32_t d = 0;
    lock_take(&pt.lock);
    if (pt.cap) {
        const struct pt_slot *s = &pt.s[pt_find(p)];
        if (s->p && s->size == size)
            d = s->domain;
    }
    lock_drop(&pt.lock);
    return d;
}

/* Fork: prepare (0) takes the lock, parent (1) and child (2) drop it. */
void pyw_domain_fork(int phase)
{
    if (phase == 0)
        lock_take(&pt.lock);
    else
        lock_drop(&pt.lock);
}
