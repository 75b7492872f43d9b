/*
 * blockwhy.h - "who holds this block", native blocks one at a time (the
 * HOLDERS section): leaks --why SITE's block-by-block part.
 */
#ifndef REPORT_BLOCKWHY_H
#define REPORT_BLOCKWHY_H

#include <stdio.h>

#include "snap.h"

/* For the native blocks of snaps[0..n) allocated at site (as
 * retainers_print matches it) that a leak check classed, what each rests
 * on: a reachable or possibly lost block the reference the model
 * followed to it and the root at the top, named (a global by symbol and
 * module, a thread by tid and comm, a thread-local variable), with the
 * offset an interior pointer points at; a leaked block whether it is
 * direct, one of a cycle (its members) or indirect under which root.  At
 * most a few blocks per class and snapshot.  Returns 1 when site has such
 * blocks in a snapshot with HOLDERS, else 0 (nothing printed). */
int bwhy_print(const struct snap *snaps, int n, const char *site, FILE *out);

/* leaks --why SITE --format json: the same blocks as a JSON array of
 * {"snapshot", "address", "size", "class" (as the text names it),
 * "held_by" (the text after the colon)}.  1 when site has such blocks,
 * else 0, or -1 (out of memory: the array is left open). */
struct json;
int bwhy_json(const struct snap *snaps, int n, const char *site, struct json *j);

#endif
