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

struct snap_mapped_sums {
    struct trace_live *by; /* count: its ranges, bytes: their resident bytes */
    uint32_t n;
};

static void snap_mapped_range(uint32_t trace, uint64_t resident, void *arg)
{
    struct snap_mapped_sums *s = arg;
    if (trace >= s->n)
        return;
    s->by[trace].count++;
    s->by[trace].bytes += resident;
}

/* MAPPED for traces [0, n) into b; 0, or -1 (out of memory: no section). */
int snap_mapped(struct sbuf *b, uint32_t n)
{
    struct hsnap_mapped head = {0};
    struct snap_mapped_sums s = {NULL, n};
    size_t len = (size_t)n * sizeof *s.by;
    reg_reserved(&head.reserved_ranges, &head.reserved_bytes);
    if (n && !(s.by = arena_map(len)))
        return -1;
    if (n)
        reg_foreach_resident(snap_mapped_range, &s);
    for (uint32_t id = 0; id < n; id++)
        if (s.by[id].count) {
            head.count++;
            head.resident_bytes += s.by[id].bytes;
        }
    if (head.count || head.reserved_ranges) {
        sbuf_put(b, &head, sizeof head);
        for (uint32_t id = 0; id < n; id++)
            if (s.by[id].count) {
                struct hsnap_mapped_item it = {id, 0, s.by[id].bytes};
                sbuf_put(b, &it, sizeof it);
            }
    }
    if (s.by)
        arena_unmap(s.by, len);
    return b->err ? -1 : 0;
}
