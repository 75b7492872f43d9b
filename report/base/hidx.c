/*
 * hidx.c - the growth of hidx.h's index: a doubling moves the slots into a
 * new array (big_calloc: a big index on huge pages), reading no item.
 */
#include <stdlib.h>

#include "cli.h"
#include "hidx.h"

#define HIDX_FIRST 1024u

static void hidx_put(struct hidx_slot *slot, size_t cap, uint64_t h, void *item)
{
    size_t mask = cap - 1, i = (size_t)h & mask;
    while (slot[i].item)
        i = (i + 1) & mask;
    slot[i].hash = h;
    slot[i].item = item;
}

int hidx_add(struct hidx *x, uint64_t h, void *item)
{
    if (4 * (x->n + 1) > 3 * x->cap) {
        size_t cap = x->cap ? 2 * x->cap : HIDX_FIRST;
        if (cap < x->cap || cap > SIZE_MAX / sizeof(struct hidx_slot))
            return -1;
        struct hidx_slot *slot = big_calloc(cap, sizeof(*slot));
        if (!slot)
            return -1;
        for (size_t i = 0; i < x->cap; i++)
            if (x->slot[i].item)
                hidx_put(slot, cap, x->slot[i].hash, x->slot[i].item);
        free(x->slot);
        x->slot = slot;
        x->cap = cap;
    }
    hidx_put(x->slot, x->cap, h, item);
    x->n++;
    return 0;
}

void hidx_free(struct hidx *x)
{
    free(x->slot);
    x->slot = NULL;
    x->cap = x->n = 0;
}
