/*
 * sym.h - offline symbolization of a snapshot's raw instruction pointers.
 *
 * One symbolizer per loaded snapshot (each has its own module map and load
 * biases).  sym_lookup turns one ip into one or more frames: the innermost
 * inlined function first, the real (out-of-line) function last.  Results are
 * cached per ip, so a trace table with few distinct ips costs few lookups.
 */
#ifndef REPORT_SYM_H
#define REPORT_SYM_H

#include <stdint.h>

#include "snap.h"

struct sym_frame {
    const char *func;   /* demangled name, symbol-table name, or "mod+0xoff" */
    const char *file;   /* source file as recorded in DWARF, or "??" */
    int line;           /* 0 when unknown */
    int mod;            /* index into snap.modules, or -1 */
    const char *module; /* module basename, or "??" */
    int inlined;        /* this frame was inlined into the next one */
};

struct symbolizer;

/* A symbolizer over s's module map; s must outlive it.  NULL only when out
 * of memory.  Modules that cannot be opened are warned about (once, on first
 * use) and their frames fall back to "module+0xoffset". */
struct symbolizer *sym_new(const struct snap *s);

/* Frames for ip (a return address: ip - 1 is looked up).  Returns how many
 * (>= 1) and points *out at them; they live as long as the symbolizer. */
int sym_lookup(struct symbolizer *z, uint64_t ip, const struct sym_frame **out);

void sym_free(struct symbolizer *z);

/* 1 if s has exactly z's module map (paths, biases, ranges): the processes of
 * a fork tree share one, so their snapshots can share one symbolizer. */
int sym_same_map(const struct symbolizer *z, const struct snap *s);

#endif
