/*
 * snapmapped.c - a snapshot's MAPPED section: the address space the
 * program reserved (PROT_NONE ranges regions.c keeps apart, charged to
 * nothing) and, for each mmap-kind trace with live ranges, how many of
 * their bytes are resident now (mincore, under the regions' lock: a system
 * call a range, no allocation).  A mapping counts in the heap and the peak
 * whole, touched or not; this is what tells a 512 MiB arena nothing
 * touched from one in use (heapsnap info's "mmap resident").
 *
 *   MAPPED := hsnap_mapped (32 bytes), hsnap_mapped_item[count] (16 each)
 *
 * Written when the program mapped anything; never on the fatal path (the
 * regions' lock may be held by the thread that faulted).
 */
#include <string.h>

#include "snapshot.h"

/* The live ranges' (trace, resident bytes), gathered under the regions'
 * lock into room for the ranges counted just before (a range made
 * meanwhile that finds no room is counted in dropped, and the caller
 * gathers again).  By range, not by trace: a program of a million traces
 * and a few mappings would fault in 16 MiB for an array by trace at
 * every snapshot and state document. */
struct snap_mapped_list {
    uint64_t *key; /* trace << 32 | the range's index in res */
    uint64_t *res; /* its resident bytes */
    uint32_t n, cap, dropped;
};

static void snap_mapped_range(uint32_t trace, uint64_t resident, void *arg)
{
    struct snap_mapped_list *l = arg;
    if (l->n == l->cap) {
        l->dropped++;
        return;
    }
    l->key[l->n] = (uint64_t)trace << 32 | l->n;
    l->res[l->n++] = resident;
}

/* The ranges of the trace at key[*i] and after, their resident bytes
 * added up; *i moves past them.  Its trace. */
static uint32_t snap_mapped_next(const struct snap_mapped_list *l, uint32_t *i, uint64_t *bytes)
{
    uint32_t t = (uint32_t)(l->key[*i] >> 32);
    *bytes = 0;
    for (; *i < l->n && (uint32_t)(l->key[*i] >> 32) == t; ++*i)
        *bytes += l->res[(uint32_t)l->key[*i]];
    return t;
}

/* MAPPED for traces [0, n) into b; 0, or -1 (out of memory: no section). */
int snap_mapped(struct sbuf *b, uint32_t n)
{
    struct hsnap_mapped head = {0};
    struct snap_mapped_list l = {0};
    uint64_t ranges, bytes;
    size_t len = 0;
    reg_reserved(&head.reserved_ranges, &head.reserved_bytes);
    reg_totals(&ranges, &bytes);
    for (int tries = 0; n && ranges && tries < 4; tries++) {
        l.cap = (uint32_t)(ranges + ranges / 8 + 16);
        len = (size_t)l.cap * 2 * sizeof *l.key;
        if (!(l.key = arena_map(len)))
            return -1;
        l.res = l.key + l.cap;
        reg_foreach_resident(snap_mapped_range, &l);
        if (!l.dropped)
            break;
        ranges = (uint64_t)l.n + l.dropped;
        arena_unmap(l.key, len);
        l = (struct snap_mapped_list){0};
    }
    if (n && ranges && !l.key)
        return -1; /* ranges made faster than they were gathered */
    if (l.n > 1)
        bsort_addrs(l.key, l.n);
    for (uint32_t i = 0; i < l.n;)
        if (snap_mapped_next(&l, &i, &bytes) < n) {
            head.count++;
            head.resident_bytes += bytes;
        }
    if (head.count || head.reserved_ranges) {
        sbuf_put(b, &head, sizeof head);
        for (uint32_t i = 0; i < l.n;) {
            uint32_t id = snap_mapped_next(&l, &i, &bytes);
            struct hsnap_mapped_item it = {id, 0, bytes};
            if (id < n)
                sbuf_put(b, &it, sizeof it);
        }
    }
    if (l.key)
        arena_unmap(l.key, len);
    return b->err ? -1 : 0;
}
