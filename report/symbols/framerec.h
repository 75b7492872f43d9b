/*
 * framerec.h - every frame a command meets, stored once: one record per
 * inline level of a distinct (module file, file address), one per distinct
 * Python (file, qualified name, line).  Stacks (frames.c) are arrays of
 * pointers to these records, so a frame shared by a hundred thousand
 * stacks is symbolized, judged and named once.  A record's IDENT numbers
 * what a stack's identity shows of it (file, line, function, module):
 * equal idents, equal text; that text and the site name are kept once per
 * ident.
 */
#ifndef REPORT_FRAMEREC_H
#define REPORT_FRAMEREC_H

#include <stdint.h>

#include "frames.h"

struct frec {
    struct frame f;       /* first: a record's frame pointer is the record's */
    uint32_t bits;        /* judge_frame's verdicts on it; 0 until it looks */
};

/* The records of the return address at file address off in registry
 * module mod (sym.h; -1: off is a raw ip outside every module), innermost
 * inlined first: how many (>= 1), with *out at them, or -1 when out of
 * memory.  ip is the address as recorded, kept by the records made now. */
int frec_native(int mod, uint64_t off, uint64_t ip, struct frec *const **out);

/* The record of the Python frame (file, qualname, line), as a list of one
 * in *out; word is the frame's recorded word, kept when the record is
 * made now.  0, or -1 when out of memory. */
int frec_python(const char *file, const char *qualname, int line, uint64_t word,
                struct frec *const **out);

/* Numbers r's identity as its fields read now into r->f.ident (the caller
 * has fixed its function's name); -1 when out of memory. */
int frec_ident(struct frec *r);

/* An ident's text, "file\x1fline\x1ffunction\x1fmodule\x1e", and its site
 * name ("file.c:12", or the function without a file). */
const char *frec_ident_text(uint32_t ident);
const char *frec_site_name(uint32_t ident);

/* The module a Python file is, as Python names it ("json.decoder"). */
void frec_py_module(const char *file, char *buf, size_t n);

/* Releases every record and ident. */
void frec_fini(void);

#endif
