/*
 * export.h - the writers behind `heapsnap export` (report/commands/export.c),
 * one file each, all reading a struct prof (report/model/prof.h).
 */
#ifndef REPORT_EXPORT_H
#define REPORT_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "prof.h"

struct export_opts {
    int value;          /* enum prof_value: folded's value, speedscope's first */
    int nvalues;        /* pprof: the first N of prof_values only (0: all); 4 is
                           Go's heap profile (alloc_*, inuse_*, in its order) */
    const char *default_type; /* pprof: default_sample_type (NULL: inuse_space,
                                 "": none, as Go's heap profile) */
};

/* Each writes p to out; 0, or -1 with a one-line reason in err ("out of
 * memory", "massif: ..."). */
int pprof_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                size_t errlen);
int folded_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                 size_t errlen);
int speedscope_write(const struct prof *p, const struct export_opts *o, FILE *out,
                     char *err, size_t errlen);
int massif_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                 size_t errlen);
int tmtraces_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                   size_t errlen); /* tmtraces.c: for heapsnap.Snapshot.load */
int tmbin_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                size_t errlen); /* tmtraces.c: the same, binary, frames once */

/* A frame's name as the text formats show it: "func (file:line)", or the
 * function alone without a file (buf holds it). */
const char *export_frame_name(const struct frame *f, char *buf, size_t n);

#endif
