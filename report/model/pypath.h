/*
 * pypath.h - the retention path of a Python object, from the named root
 * that reaches it (PYTYPES' parents), as text.
 */
#ifndef REPORT_PYPATH_H
#define REPORT_PYPATH_H

#include <stddef.h>
#include <stdint.h>

struct snap;

/* The path of block b (an object the graph reached) into out (n bytes):
 * "module app, global CACHE (dict) -> ['k'] (app.Result) -> Result.data
 * (list)"; its length (0: no path: no object, no graph). */
size_t pypath_of(const struct snap *s, uint64_t b, char *out, size_t n);

#endif
