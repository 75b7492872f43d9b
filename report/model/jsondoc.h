/*
 * jsondoc.h - the shapes every `--format json` document of heapsnap shares
 * (jdoc_*), written with the json_* writer, so that top, diff, info,
 * trend, leaks and any new command read alike (docs/json.md):
 *   - a top-level object that opens with "schema" ("heapsnap-top") and an
 *     integer "version" (a removed or changed field bumps it; new fields
 *     may appear at any time, readers ignore what they do not know);
 *   - numbers as JSON numbers (bytes and counts as integers, times as
 *     integer nanoseconds), never as formatted text;
 *   - a frame as {function, file, line, module} (file null and line 0 when
 *     unknown); a snapshot as {path, pid, exe, ...}.
 */
#ifndef REPORT_JSONDOC_H
#define REPORT_JSONDOC_H

#include <stdio.h>

#include "frames.h"
#include "json.h"
#include "series.h"
#include "snap.h"
#include "stats.h"

/* The document's opening: json_init on out, then {"schema": schema,
 * "version": version.  jdoc_end closes it and ends the line. */
void jdoc_begin(struct json *j, FILE *out, const char *schema, int version);
void jdoc_end(struct json *j);

/* A frame's four fields, inside an object the caller opened (leaks adds
 * its own after them). */
void jdoc_frame_fields(struct json *j, const struct frame *f);

/* key: [frame objects fr[0..n)], innermost first. */
void jdoc_frames(struct json *j, const char *key, const struct frame *const *fr, int n);

/* A snapshot object: path, pid, exe, time_ns (realtime of the write),
 * sample_interval (0: every allocation was recorded). */
void jdoc_snapshot(struct json *j, const struct snap *s, const char *path);

/* "read": how several snapshots were read (series.h): {rule (top:
 * "latest" or "peak"; diff: "given" for OLD NEW, "earliest_latest" for a
 * series), given (snapshots selected), processes, counted (snapshots that
 * count: top's, one per process; diff's two), summed (bool: top added up
 * more than one process), note (the line said on stderr, "" when none)}. */
void jdoc_series(struct json *j, const struct series *sr, const char *rule, int counted,
                 int summed, const char *note);

/* What a group's key names, beside its text (stats_key): frames (lineno,
 * traceback: e's frames), file and module (filename), function, or module. */
void jdoc_key_fields(struct json *j, enum stats_key key, const struct stat_entry *e);

/* "groups_total" (groups before -n) and "groups": st's groups in print
 * order, at most its -n of them, each {key (as the text shows it), bytes,
 * blocks, and for top allocated_bytes, allocated_blocks, for a diff
 * bytes_diff, blocks_diff, then what the key names: frames (lineno,
 * traceback), file (filename), function, or module}.  -1 out of memory. */
int jdoc_groups(struct json *j, struct stats *st, int diff);

#endif
