/*
 * pagemap.h - whether a page of this process was ever written, as
 * /proc/self/pagemap tells: a page present as the process's own (a
 * private mapping's page turns anonymous at its first write) or swapped
 * out was; one neither reads as zeros or as its file's bytes.  Its users:
 * the unwinder gives back table pages no debugger wrote (ehd_written); the
 * Python roots' scan (pyroot_page_unwritten), the leak check's roots
 * (roots_cut_written) and the leaked references' count (pyl_scan_written)
 * skip pages that can hold no reference the program made, the last two a
 * written piece of a range at a time (pagemap_piece).
 *
 * A kernel or sandbox may hide the flags (all zeros): pagemap_open reads
 * the caller's own stack page, written by then, and keeps the file only if
 * it says so; every other answer is then "cannot tell".  The entries are
 * read in windows of PAGEMAP_BATCH from the page asked toward the far end
 * of the caller's range, never past it: the kernel walks the page tables
 * of every entry asked for.
 */
#ifndef HEAPSNAP_PAGEMAP_H
#define HEAPSNAP_PAGEMAP_H

#include <stdint.h>

#define PAGEMAP_PAGE 4096u
#define PAGEMAP_BATCH 512u /* entries read at a time */

struct pagemap {
    int fd1;                 /* the file's descriptor + 1; 0: cannot tell */
    uint64_t first, n;       /* e[] holds the entries of pages [first, first + n) */
    uint64_t e[PAGEMAP_BATCH];
};

/* Opens /proc/self/pagemap into pm, if its flags can be trusted. */
void pagemap_open(struct pagemap *pm);
void pagemap_close(struct pagemap *pm);

/* Whether the page at p was ever written: 1 yes, 0 never, -1 cannot tell.
 * far is the other end of the caller's range (below p: a scan downward),
 * how far a window read may reach. */
int pagemap_written(struct pagemap *pm, uintptr_t p, uintptr_t far);

/* The next piece of [*at, hi) that may hold written pages (a page
 * pagemap_written does not call never written: "cannot tell" is kept):
 * from its first such page (or *at) to its last (or hi), a run of gap
 * unwritten pages or more ending it, a shorter run left inside it.
 * 1 with [*lo, *end) set and *at moved past it; 0 when none is left. */
int pagemap_piece(struct pagemap *pm, uintptr_t *at, uintptr_t hi, unsigned gap, uintptr_t *lo,
                  uintptr_t *end);

#endif
