/*
 * snapinherit.c - what a fork child inherited from its parent's heap, as
 * its snapshots write it (HEAPSNAP_INHERITED, the INHERITED section).
 *
 * A forked worker (a multiprocessing Pool's, a DataLoader's) starts with
 * its parent's whole table: millions of blocks after an `import torch`.
 * Writing them at every worker's exit cost each worker what the parent's
 * exit snapshot costs, whatever the worker did (issue 70: 8 DataLoader
 * workers, each writing the 761 MiB it inherited).  memray --follow-fork's
 * child records what it allocates after the fork; so here: the child's
 * fork handler opens a new birth epoch (inh_fork_epoch), and a
 * snapshot's walks of the table (bstream_blocks, bstream_runs, the fatal
 * path's copy in lchk_blocks) ask inh_skip of each block: one born in an
 * earlier epoch is counted into the INHERITED sum and left out of BLOCKS
 * and STATS, so the child's snapshot, its types and its object graph cost
 * what its own blocks do.
 * An inherited block the child frees leaves the table, and so the sum.
 * A leak check (which must see every block: a worker's own leak may be
 * reachable only from an inherited one) reads them all, as before.  State
 * is one struct; a snapshot runs under the snapshot lock.
 */
#include <unistd.h>

#include "snapshot.h"

static struct {
    uint32_t fork_epoch; /* this snapshot's: blocks born below it are inherited */
    uint32_t from;       /* this snapshot's: fork_epoch, or 0 (every block written) */
    uint64_t blocks, bytes; /* this snapshot's inherited blocks still live */
} inh;

/* In the fork child's handler (the only thread, locks free): a new epoch,
 * so that what the child allocates is told from what it inherited; the
 * caller keeps it.  A fork of a fork child sums its grandparent's blocks
 * with its parent's.  Nothing more here (no clock, no system call, no
 * write to a page of its own): each page a fork's child touches first is
 * a fault (test_footprint's fork_page_faults_small). */
uint32_t inh_fork_epoch(void)
{
    return opt_int(OPT_INHERITED) == OPT_INHERITED_SUMMARY ? snap_epoch_advance() : 0;
}

/* A snapshot's start: inherited blocks (born below fork_epoch, 0: not a
 * fork child) summed apart when no leak check reads them; with leaks set
 * (also at its end), none: every other walk sees every block. */
void inh_begin(int leaks, uint32_t fork_epoch)
{
    inh.fork_epoch = fork_epoch;
    inh.from = leaks ? 0 : fork_epoch;
    inh.blocks = inh.bytes = 0;
}

/* The walks' second pass counts anew (a walk tried again with more room). */
void inh_recount(void)
{
    inh.blocks = inh.bytes = 0;
}

int inh_skip(const struct tbl_entry *e, int tally)
{
    if (e->epoch >= inh.from)
        return 0;
    if (tally) {
        inh.blocks++;
        inh.bytes += e->size;
    }
    return 1;
}

uint64_t inh_bytes(void)
{
    return inh.bytes;
}

uint64_t inh_blocks(void)
{
    return inh.blocks;
}

/* INHERITED, when this snapshot summed the inherited blocks apart. */
void inh_put(struct sbuf *b)
{
    if (!inh.from)
        return;
    struct hsnap_inherited h = {(uint32_t)getppid(), inh.fork_epoch, inh.blocks, inh.bytes, {0, 0}};
    sbuf_put(b, &h, sizeof h);
}
