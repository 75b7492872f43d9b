/*
 * tblfilter.c - the live-block table's presence filter (sampled mode
 * only; its readers are in record.h): tbl_filter.n[b] counts the entries
 * whose tbl_filter_index is b, and tbl_filter_g[b >> 7] those of its group
 * of 128 buckets, moved by table.c on every fresh insert and delete (under
 * the entry's stripe lock; the counters are atomic, as two stripes share a
 * bucket).  A saturated counter (0xff) stays so for good (it then only
 * costs lookups).  With few (sampled) blocks in the table almost every free
 * of an unsampled block is answered by one load of the 512-byte group
 * array, without a lock.  One byte per bucket keeps the buckets at 64 KiB,
 * small enough to stay cached.
 */
#include "record.h"

/* Every group saturated until sampled mode turns the filter on: a free's
 * fast path asks nothing else (record.h). */
_Atomic uint8_t tbl_filter_g[TBL_FILTER_GROUPS] = {[0 ... TBL_FILTER_GROUPS - 1] = 0xff};
struct tbl_filter tbl_filter; /* the buckets: in .bss, as a .data array they were 64 KiB of RSS */

/* Pinned buckets, each + 1 as pinned (0: a pin still storing it); past
 * TBL_FILTER_PINS of them, enable reads every bucket instead.  Only boot
 * blocks are pinned, a handful at most: so enable reads a few bytes, not
 * the 64 KiB of buckets (its instructions, and the pages they would
 * touch). */
#define TBL_FILTER_PINS 64u
static _Atomic uint32_t tbl_filter_pins[TBL_FILTER_PINS];
static atomic_uint tbl_filter_npins;

/* Sampled mode starts, with an empty table: the groups drop to zero, but
 * for those of pinned buckets (boot blocks; a pin stores its bucket, and
 * notes it, before its group, and this reads the notes after clearing the
 * groups, so a pin that races this still leaves its group saturated). */
void tbl_filter_enable(void)
{
    for (unsigned k = 0; k < TBL_FILTER_GROUPS; k++)
        atomic_store_explicit(&tbl_filter_g[k], 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    unsigned n = atomic_load_explicit(&tbl_filter_npins, memory_order_relaxed);
    for (unsigned k = 0; k < n && n <= TBL_FILTER_PINS; k++) {
        uint32_t b1 = atomic_load_explicit(&tbl_filter_pins[k], memory_order_relaxed);
        if (b1) /* else its pin is storing it now: its group store is still to come */
            atomic_store_explicit(&tbl_filter_g[(b1 - 1) >> TBL_FILTER_GROUP_BITS], 0xff,
                                  memory_order_relaxed);
    }
    for (unsigned b = 0; n > TBL_FILTER_PINS && b < (1u << TBL_FILTER_BITS); b++)
        if (atomic_load_explicit(&tbl_filter.n[b], memory_order_relaxed) == 0xff)
            atomic_store_explicit(&tbl_filter_g[b >> TBL_FILTER_GROUP_BITS], 0xff,
                                  memory_order_relaxed);
    hs_rare_mark(HS_RARE_FILTER, 1); /* first: no insert may skip the filter once it is on */
    tbl_filter.on = 1;
}

void tbl_filter_pin(const void *p)
{
    unsigned b = tbl_filter_index((uintptr_t)p);
    atomic_store_explicit(&tbl_filter.n[b], 0xff, memory_order_relaxed);
    unsigned k = atomic_fetch_add_explicit(&tbl_filter_npins, 1, memory_order_relaxed);
    if (k < TBL_FILTER_PINS)
        atomic_store_explicit(&tbl_filter_pins[k], b + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst); /* bucket and note before its group (filter_enable) */
    atomic_store_explicit(&tbl_filter_g[b >> TBL_FILTER_GROUP_BITS], 0xff, memory_order_relaxed);
}

/* Moves counter c by delta (+1 or -1); 0xff stays for good, and 0 does not
 * go below.  1 if c changed. */
static int tbl_filter_step(_Atomic uint8_t *c, int delta)
{
    uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
    do {
        if (v == 0xff || (delta < 0 && v == 0))
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(c, &v, (uint8_t)(v + delta),
                                                    memory_order_relaxed, memory_order_relaxed));
    return 1;
}

/* Every counter back to zero but the saturated ones: a pinned bucket (a
 * boot block, which the real free must never see) stays pinned, and so
 * does its group. */
void tbl_filter_clear(void)
{
    for (unsigned b = 0; b < (1u << TBL_FILTER_BITS); b++)
        if (atomic_load_explicit(&tbl_filter.n[b], memory_order_relaxed) != 0xff)
            atomic_store_explicit(&tbl_filter.n[b], 0, memory_order_relaxed);
    for (unsigned k = 0; k < TBL_FILTER_GROUPS; k++)
        if (atomic_load_explicit(&tbl_filter_g[k], memory_order_relaxed) != 0xff)
            atomic_store_explicit(&tbl_filter_g[k], 0, memory_order_relaxed);
}

/* The bucket moves, and its group with it: only when the bucket did, so
 * that the group is always the sum of its buckets (or saturated).  An
 * insert moves them before the block reaches the program, so no free of
 * it can find its group at zero. */
void tbl_filter_add(uintptr_t ptr, int delta)
{
    unsigned b = tbl_filter_index(ptr);
    if (tbl_filter_step(&tbl_filter.n[b], delta))
        tbl_filter_step(&tbl_filter_g[b >> TBL_FILTER_GROUP_BITS], delta);
}
