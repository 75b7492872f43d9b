/*
 * series.h - the one counting rule for several snapshots, which every
 * command that reads several applies (top, diff, export, html and their
 * JSON).  Snapshots of one process (the same pid and shim start time) are
 * a series, a history of that process: it counts once, by its latest
 * snapshot, or by the one holding its highest traced peak when the command
 * reads peaks.  Snapshots of different processes (a fork tree, the images
 * of an exec) add up.  series_note says which, in one line.
 */
#ifndef REPORT_SERIES_H
#define REPORT_SERIES_H

#include <stddef.h>

#include "snap.h"

struct series {
    int n;              /* snapshots given */
    int nsel;           /* of them selected (the caller's mask) */
    int nprocs;         /* distinct processes among the selected */
    int nused;          /* snapshots that count: one per process */
    int peak;           /* chosen by highest traced peak, not by time */
    int *proc;          /* per snapshot: its process's index, -1 when not selected */
    unsigned char *use; /* per snapshot: 1 when it counts in the answer */
};

/* Whether a and b are snapshots of one process (and one image of it). */
int series_same_proc(const struct snap *a, const struct snap *b);

/* Whether a was written after b (time, then the process's sequence number). */
int series_later(const struct snap *a, const struct snap *b);

/* Decides, for snaps[0..n) (sel: a mask of the selected ones, or NULL for
 * all), which count: the latest of each process, or with peak the one
 * whose traced peak is highest (the latest among equals).  0, or -1 when
 * out of memory; release with series_free either way. */
int series_pick(struct series *sr, const struct snap *snaps, int n,
                const unsigned char *sel, int peak);

/* The snapshot of process p that counts (its index in snaps), or -1. */
int series_used(const struct series *sr, int p);

/* One line saying how the snapshots were read, without a newline: "3
 * snapshots of pid 1234 (grow): the latest, 12:00:05 (iv.1234.3.hsnap)",
 * "2 processes, summed", "5 snapshots of 2 processes: the latest of each,
 * summed"; "" for a single snapshot.  Returns buf. */
const char *series_note(const struct series *sr, const struct snap *snaps,
                        char *const *paths, char *buf, size_t len);

/* The rule's name for JSON: "latest" or "peak". */
const char *series_rule(const struct series *sr);

void series_free(struct series *sr);

#endif
