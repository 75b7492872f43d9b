/*
 * pypath.h - the retention path of a Python object, from the named root
 * that reaches it (PYTYPES' parents), as text.
 */
#ifndef REPORT_PYPATH_H
#define REPORT_PYPATH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct snap;

/* The path of block b (an object the graph reached) into out (n bytes):
 * "module app, global CACHE (dict) -> ['k'] (app.Result) -> Result.data
 * (list)"; its length (0: no path: no object, no graph). */
size_t pypath_of(const struct snap *s, uint64_t b, char *out, size_t n);

/* pypath_of with every subscript (a dict's key, a list's or a tuple's
 * index) written "[...]": the path's shape, the same for every item of
 * one container ("module app, global CACHE (dict) -> [...] (list)"); a
 * module's global, an attribute and a root keep their names. */
size_t pypath_shape(const struct snap *s, uint64_t b, char *out, size_t n);

/* Whether block b is an object whose holders the path can name: one the
 * gc tracks (a path, or "outside"), or an untracked one (str, bytes, an
 * untracked tuple) the graph reached from a tracked holder or a root. */
int pypath_has(const struct snap *s, uint64_t b);

#endif
