/*
 * frames.h - the one frame model of the CLI: a snapshot's traces expanded
 * into frames (inlined functions are frames of their own), innermost first,
 * with their allocation site.
 *
 * This is the part of the frames module (report/frames.c on main) that the
 * exports and the HTML report use, kept to its interface so that they build
 * before that module lands; the module replaces both files.
 * The ALLOCATION SITE is the first frame that is not an allocator wrapper
 * (stats_is_wrapper); if every frame is one, the outermost.  A trace
 * without frames is one placeholder frame whose fields read "<unknown>"
 * ("<unsampled>" for the sampler's trace).
 */
#ifndef REPORT_FRAMES_H
#define REPORT_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

struct frame {
    uint64_t ip;          /* the recorded return address (0: a placeholder) */
    const char *func;     /* function, "module+0xoff", or a placeholder */
    const char *file;     /* source file as shown (relative below the cwd), "??" */
    const char *dwarf_file; /* source file as recorded in DWARF, "??" */
    int line;             /* 0 when unknown */
    const char *module;   /* module basename, "??" outside every module */
    const char *path;     /* module path as recorded, "" outside every module */
    int inlined;          /* inlined into the next frame */
    int wrapper;          /* an allocator wrapper before the allocation site */
};

struct frames_trace {
    int n, site;          /* fr[site] is the allocation site; n >= 1 */
    const struct frame *fr; /* innermost first */
    const char *id;       /* the stack from the site outward: equal ids, equal stacks */
    const char *site_name; /* "file.c:12", or the function without a file */
};

/* Trace ti of s expanded, or NULL when out of memory.  The result lives
 * until frames_fini. */
const struct frames_trace *frames_get(const struct snap *s, uint32_t ti);

/* 1 when f has a source file. */
int frames_has_file(const struct frame *f);

/* Releases every expansion, and the symbolizers. */
void frames_fini(void);

#endif
