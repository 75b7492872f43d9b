/*
 * pyholders.h - who holds the Python objects, their shortest paths from a
 * root grouped by shape: leaks --why SITE's Python part (per site) and
 * top --retainers' (per type), the one grouping for both.
 */
#ifndef REPORT_PYHOLDERS_H
#define REPORT_PYHOLDERS_H

#include <stdio.h>

struct json;
struct snap;

/* For the Python objects allocated at SITE ("file:line" as shown,
 * "basename:line", or a function, as retainers_print matches it), the
 * paths from a root that hold them (pypath.h), grouped: a few distinct
 * paths are listed each with how many objects take it; the paths of one
 * shape (pypath_shape: the same steps but for which key or index) beyond
 * PYHOLD_LISTED are one line with their count and a few examples.  Text
 * into out, or (j not NULL) a JSON array, one object per snapshot that has
 * such objects.  How many objects it found (capped at INT32_MAX: 0 when
 * no snapshot holds the graph or none was allocated at SITE), or -1 (out
 * of memory). */
int pyholders_print(const struct snap *snaps, int n, const char *site, FILE *out,
                    struct json *j);

/* top --retainers: per type (the limit with the most bytes of objects
 * pypath_has), its objects' paths grouped as pyholders_print groups
 * them; text into out, or (j not NULL) a JSON array of {"type",
 * "objects", "size", "paths" (as leaks --why's), "more_objects"}.  0, or
 * -1 (out of memory). */
int pyholders_by_type(const struct snap *snaps, int n, long limit, FILE *out, struct json *j);

#endif
