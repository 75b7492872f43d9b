/*
 * preseed.c - CPython's lists, dicts, small tuples and keys tables made
 * before the wrap, booked as blocks.  An object a free list hands out
 * again never reaches the allocator: one made before the domains were
 * wrapped would be no block of ours, so no object of the graph (its
 * list's item array unowned, its items held from outside).  The dead ones
 * on the free lists at the wrap (pyseed.c finds them) and the live ones,
 * which die onto them later (pyseedlive.c), are booked by dom_poll, under
 * the GIL and with the guard set, as blocks made by the interpreter's
 * initialization: one frame, Py_InitializeFromConfig's start, so `top`
 * names that site as it names a post-wrap object's first life's.  A free
 * (a full collection's clear_freelists, a live one's death past a full
 * free list) takes them off the books as any block's.  Sampled mode books
 * none (a block is booked by the bytes sampled); an address already
 * booked (attached again, a malloc'd one) is left alone.  The root says
 * whether it samples and gives the snapshot's epoch (pyw_preseed's
 * arguments): this room calls nothing above it.  The objects a
 * stretch with the thread's recording off made (pyexit_register's module
 * and call: a globals dict, argument tuples) die onto the same lists, no
 * blocks either: pyw_preseed_again books the dead ones again at its end.
 */
#include <stddef.h>

#include "pywrap.h"
#include "record.h"

struct preseed_arg {
    uint32_t id;
    uint32_t (*epoch)(void);
};

static void preseed_one(uintptr_t block, uint64_t size, void *arg)
{
    const struct preseed_arg *a = arg;
    uint32_t id = a->id;
    struct tbl_entry old;
    if (tbl_find(block, &old) || tbl_insert(block, size, id, a->epoch(), &old) < 0)
        return;
    trace_charge(id, size);
}

static uint32_t preseed_trace = UINT32_MAX; /* pyw_preseed's, once interned */

void pyw_preseed(void *(*lookup)(const char *), int sample, uint32_t (*epoch)(void))
{
    uintptr_t init = (uintptr_t)lookup("Py_InitializeFromConfig");
    struct preseed_arg a = {0, epoch};
    if (sample || !init)
        return;
    uintptr_t ip = init + 1; /* a return address's: the function's start named */
    if (trace_intern(&ip, 1, 0, &a.id) != 0)
        return;
    preseed_trace = a.id;
    pyw_seed_each(preseed_one, &a);
    if (!clock_is_late()) /* an attach's session counts what it saw made */
        pyw_seed_live(preseed_one, &a);
}

void pyw_preseed_again(int sample, uint32_t (*epoch)(void))
{
    struct preseed_arg a = {preseed_trace, epoch};
    if (!sample && a.id != UINT32_MAX)
        pyw_seed_each(preseed_one, &a);
}
