/*
 * sym.h - offline symbolization of raw instruction pointers, once per
 * command.
 *
 * A module FILE (path and build ID) is registered once, whatever process or
 * snapshot it was loaded in and at whatever load bias, and is looked up by
 * its file address (ip - bias).  Results are cached per (module, address)
 * for the whole command: the snapshots of ten runs of one program share
 * every lookup.  sym_lookup turns one address into one or more frames: the
 * innermost inlined function first, the real (out-of-line) function last.
 * The state is one process-wide registry (the CLI runs one command per
 * process); sym_fini releases it.
 */
#ifndef REPORT_SYM_H
#define REPORT_SYM_H

#include <stdint.h>

#include "snap.h"

struct sym_frame {
    const char *func;   /* demangled name, symbol-table name, "module+0xoff" or "0xip" */
    const char *file;   /* source file as recorded in DWARF, or "??" */
    int line;           /* 0 when unknown */
    int inlined;        /* this frame was inlined into the next one */
};

/* The registry index of m's file (added on first sight), or -1 when out of
 * memory.  A module that cannot be opened is warned about once, on its
 * first lookup, and its frames fall back to "module+0xoffset". */
int sym_module(const struct snap_module *m);

/* The module's path as recorded, and its basename. */
const char *sym_module_path(int mod);
const char *sym_module_base(int mod);

/* Frames for the return address whose file address in module mod is off
 * (off - 1 is looked up); mod -1: off is a raw ip outside every module.
 * Returns how many (>= 1) and points *out at them; they live until
 * sym_fini.  Out of memory gives one "??" frame. */
int sym_lookup(int mod, uint64_t off, const struct sym_frame **out);

/* The data symbol of module mod holding file address off (an object's,
 * or with tls a thread-local's, whose off is the offset into the module's
 * TLS block), from .symtab or, stripped, .dynsym: its name (valid until
 * sym_fini) and *delta, off less its start; NULL when none holds it. */
const char *sym_data(int mod, uint64_t off, int tls, uint64_t *delta);

/* Releases every module and cached frame. */
void sym_fini(void);

#endif
