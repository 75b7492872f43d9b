/*
 * lossprint.h - loss records as text (lossprint_record, lossprint_sites), for
 * `heapsnap leaks` and `heapsnap run --leaks`.
 */
#ifndef REPORT_LOSSPRINT_H
#define REPORT_LOSSPRINT_H

#include <stdio.h>

#include "lossrec.h"

struct lossprint_opts {
    int refs;                  /* each record's refcount range */
    int gen;                   /* a suppression after each: 0 no, 1 lsan, 2 valgrind */
    int all_frames;            /* --all-frames: the allocator's frames before the
                                  first of the program's, marked [wrapper] */
};

/* Record r, numbered among n, with its stack and a blank line after. */
void lossprint_record(const struct lossrec_record *r, size_t n, const struct lossprint_opts *o,
                      FILE *out);

/* After lossrec_finish with by_site: "N loss records in M sites", then each
 * site that -n kept, largest first, with its largest record (every one when
 * every), then one line of what was left out, ending in more ("-n 0 shows
 * all").  Nothing when there is no record. */
void lossprint_sites(const struct lossrec_set *ls, int every, const struct lossprint_opts *o,
                     const char *more, FILE *out);

#endif
