/*
 * pycode.h - Python code objects as a snapshot's PYCODE section keeps them
 * (shim/hsnap_format.h): decoded and validated once at load, and the line
 * of an instruction offset, from CPython's line table (3.10's
 * pairs, or the location table of Objects/locations.md), offline.
 */
#ifndef REPORT_PYCODE_H
#define REPORT_PYCODE_H

#include <stddef.h>
#include <stdint.h>

struct snap_pycode {
    int32_t firstline;         /* co_firstlineno */
    char *file;                /* co_filename, NUL-terminated copy */
    char *qualname;            /* co_qualname, NUL-terminated copy */
    const uint8_t *linetable;  /* co_linetable bytes, into the snapshot's buffer */
    uint32_t lt_len;
};

struct snap;

/* A code's line table decoded once: its runs of offsets that have one line,
 * sorted, each ending (exclusive) at end[k] (code units from 3.11 on,
 * bytes before) with line[k] (-1: no line).  n == UINT32_MAX: not built
 * yet. */
struct pycode_lines {
    int64_t *end;
    int32_t *line;
    uint32_t n;
};

/* Fills s->pycodes from the PYCODE payload; 0, or -1 with err.  Checks
 * every Python frame word of s's traces names a code it holds. */
int pycode_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);
void pycode_free(struct snap *s);

/* The line of the instruction at code-unit offset off (-1: before the
 * first) in a line table of CPython version (Py_Version's form: 3.10's
 * pairs before 0x030b0000, the location table from 3.11 on); firstline
 * when off < 0, -1 when the table gives no line there (and 0 past its
 * end). */
int pycode_line(uint32_t version, const uint8_t *lt, uint32_t len, int32_t firstline,
                int64_t off);

/* pycode_line for code number code of s (< s->npycodes), from its line
 * table decoded at the first lookup and a binary search after: a start-up
 * stack names the same few codes thousands of times. */
int pycode_line_of(const struct snap *s, uint32_t code, int64_t off);

/* The number of the code of Python frame word w (HSNAP_IS_PYFRAME): an
 * index into s->pycodes when below s->npycodes. */
uint64_t pycode_word_code(uint64_t w);

/* The code and line of Python frame word w of s (HSNAP_IS_PYFRAME): its
 * code (a placeholder "<unknown>" one, not in s->pycodes, when s holds
 * no such code) and in *line (unless NULL) pycode_line_of's line (0 for
 * the placeholder). */
const struct snap_pycode *pycode_of_word(const struct snap *s, uint64_t w, int *line);

/* A 3.10 line table (len bytes) rewritten as a location table (3.11 on)
 * that gives the same line for each code unit: a malloc'd block of
 * *out_len bytes, or NULL (out of memory).  merge's output holds one
 * format. */
uint8_t *pycode_to_location(const uint8_t *lt, uint32_t len, int32_t firstline,
                            uint32_t *out_len);

#endif
