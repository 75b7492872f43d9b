/*
 * wrappers.h - which frames are the allocator's machinery rather than a
 * program's own (frames.h states the rules): the C and C++ runtimes, the
 * shim, allocation functions by name (built in, and --alloc-fn's), the C++
 * standard library's allocating templates by name where DWARF is silent, and in
 * a Python stack the interpreter's own code.  Verdicts on one frame's
 * fields; frames.c asks once per frame record.
 */
#ifndef REPORT_WRAPPERS_H
#define REPORT_WRAPPERS_H

#include "frames.h"

/* 1 when f is an allocator wrapper in any stack: the allocator's machinery
 * or an allocation function (by its full name). */
int wrap_is_wrapper(const struct frame *f);

/* 1 when f is the interpreter's machinery (libpython, the python
 * executable, ctypes, libffi): a wrapper in a Python stack. */
int wrap_is_py_machinery(const struct frame *f);

/* 1 when f is the C runtime's (libc, the dynamic loader): in a Python
 * stack, left out beyond the native site. */
int wrap_is_py_runtime(const struct frame *f);

/* A frame of tracemalloc's own C that makes its tables (not one of its
 * allocator hooks): a Python stack whose site it is keeps it as its site
 * rather than the Python line tracemalloc was recording. */
int wrap_is_tracemalloc_own(const struct frame *f);

/* Forgets --alloc-fn and --no-default-alloc-fns. */
void wrap_fini(void);

#endif
