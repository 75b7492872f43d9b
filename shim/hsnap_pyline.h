/*
 * hsnap_pyline.h - CPython's line tables read without the interpreter:
 * a frame's line from the co_linetable bytes PYCODE keeps (hsnap_format.h)
 * and its instruction offset.  Shared by the CLI (pycode_line) and the
 * shim's in-process dump (heapsnap_dump), so both give a frame one line.
 *
 * 3.11 on: the location table is a sequence of entries, each covering 1-8
 * code units.  An entry's first byte has bit 7 set, bits 3-6 its kind and
 * bits 0-2 its length - 1.  Kind 15: no line; 14 (long form): a signed
 * varint line delta, then end line delta, column and end column as
 * varints; 13 (no column): a signed varint line delta; 10-12 (one line):
 * the line delta is kind - 10, then two column bytes; 0-9 (short): delta 0
 * and one column byte.  Varints are 6 bits a byte, least significant
 * first, bit 6 says another follows; a signed varint is (v >> 1), negated
 * when v & 1.  The running line starts at co_firstlineno and moves by each
 * delta, as CPython's PyCode_Addr2Line does.
 * 3.10: byte pairs (lnotab_notes.txt): the bytes of code the entry covers
 * (unsigned), then the line delta (signed; -128: no line).
 */
#ifndef HSNAP_PYLINE_H
#define HSNAP_PYLINE_H

#include <stdint.h>

/* A varint from lt[*i] on (bounded by len). */
static inline uint32_t hsnap_py_varint(const uint8_t *lt, uint32_t len, uint32_t *i)
{
    uint32_t v = 0, shift = 0;
    while (*i < len) {
        uint8_t b = lt[(*i)++];
        if (shift < 32)
            v |= (uint32_t)(b & 63) << shift;
        shift += 6;
        if (!(b & 64))
            break;
    }
    return v;
}

static inline int32_t hsnap_py_svarint(const uint8_t *lt, uint32_t len, uint32_t *i)
{
    uint32_t v = hsnap_py_varint(lt, len, i);
    return v & 1 ? -(int32_t)(v >> 1) : (int32_t)(v >> 1);
}

/* The location table's entry at lt[*i] (3.11 on): *i moved past it and
 * any stray bytes after it, *line moved by its delta; its code units
 * (1-8), and in *noline whether it has no line (kind 15). */
static inline int hsnap_py_location_entry(const uint8_t *lt, uint32_t len, uint32_t *i,
                                          int32_t *line, int *noline)
{
    uint8_t b = lt[(*i)++];
    int kind = (b >> 3) & 15;
    if (kind == 14) {
        *line += hsnap_py_svarint(lt, len, i);
        for (int k = 0; k < 3; k++)
            hsnap_py_varint(lt, len, i);
    } else if (kind == 13) {
        *line += hsnap_py_svarint(lt, len, i);
    } else if (kind >= 10 && kind <= 12) {
        *line += kind - 10;
        *i += 2;
    } else if (kind < 10) {
        *i += 1;
    }
    while (*i < len && !(lt[*i] & 128)) /* stray bytes: to the next entry */
        (*i)++;
    *noline = kind == 15;
    return (b & 7) + 1;
}

/* 3.11 on; off in code units.  -1: no line there; 0: off past the table. */
static inline int hsnap_py_line_location(const uint8_t *lt, uint32_t len, int32_t firstline,
                                         int64_t off)
{
    int64_t at = 0;
    int32_t line = firstline;
    uint32_t i = 0;
    while (i < len) {
        int noline, units = hsnap_py_location_entry(lt, len, &i, &line, &noline);
        if (off < at + units)
            return noline ? -1 : line;
        at += units;
    }
    return 0;
}

/* 3.10's table; off in code units (two bytes each). */
static inline int hsnap_py_line_310(const uint8_t *lt, uint32_t len, int32_t firstline,
                                    int64_t off)
{
    int64_t addr = off * 2, end = 0;
    int32_t line = firstline;
    for (uint32_t i = 0; i + 1 < len; i += 2) {
        int64_t start = end;
        int8_t delta = (int8_t)lt[i + 1];
        end += lt[i];
        if (delta != -128)
            line += delta;
        if (start != end && addr < end)
            return delta == -128 ? -1 : line;
    }
    return 0;
}

/* The line of instruction offset off (code units; negative: the frame had
 * not started, its first line) in a table of Py_Version version. */
static inline int hsnap_py_line(uint32_t version, const uint8_t *lt, uint32_t len,
                                int32_t firstline, int64_t off)
{
    if (off < 0)
        return firstline;
    if (version < 0x030b0000u)
        return hsnap_py_line_310(lt, len, firstline, off);
    return hsnap_py_line_location(lt, len, firstline, off);
}

#endif
