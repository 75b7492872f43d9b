/*
 * growth.h - growth per call site across a series of snapshots of one process
 * (report/model/growth.c), used by `heapsnap trend` and the gate's
 * --max-trend-growth rule.
 */
#ifndef REPORT_TREND_H
#define REPORT_TREND_H

#include "snap.h"
#include "stats.h"

#define TREND_AGES 9 /* block-age buckets: 0..7 epochs, then 8 or more */

struct trend_site {
    const struct stat_entry *e;  /* the group in the last snapshot (frames, key) */
    int64_t first, last;         /* live bytes in the first and last snapshot */
    int64_t first_count, last_count;
    int64_t ages[TREND_AGES];    /* last snapshot's blocks by epochs survived */
};

struct trend;

/* A trend over sites grouped by key (lineno, function, ...). NULL: no memory. */
struct trend *trend_new(enum stats_key key);
void trend_free(struct trend *tr);

/* Groups per key and Python type (--key KEY,type), before trend_run. */
void trend_by_type(struct trend *tr, int by_type);

/* Sorts the series by (seq, time) and finds the growing sites over its
 * steady part (trend_steady): those whose live bytes never shrink from one
 * snapshot to the next and end higher than they started.  The series must outlive tr.  Returns 0, or -1 with err. */
int trend_run(struct trend *tr, const struct snap **series, int n, char *err,
              size_t errlen);

/* The growing sites, biggest growth first; valid until trend_free. */
const struct trend_site *trend_sites(const struct trend *tr, size_t *n);

/* After trend_run: how many snapshots the steady part holds (the series
 * less its exit or fatal-signal snapshot when two or more remain; *left_out
 * then 1). */
int trend_steady(const struct trend *tr, int *left_out);

/* 1 when the last snapshot has BLOCKS (so ages are meaningful). */
int trend_has_ages(const struct trend *tr);

#endif
