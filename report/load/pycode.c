/*
 * pycode.c - PYCODE decoded, and CPython's line tables read offline (the
 * reading itself is hsnap_pyline.h's, which the shim's in-process dump
 * shares), each code's table decoded once into sorted runs for the CLI's
 * lookups (pycode_line_of); 3.10's byte-pair tables rewritten as location
 * tables for merge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hsnap_pyline.h"
#include "pycode.h"
#include "snap.h"

static int fail(char *err, size_t errlen, const char *msg, unsigned long long v)
{
    snprintf(err, errlen, "section PYCODE: %s%llu", msg, v);
    return -1;
}

int pycode_line(uint32_t version, const uint8_t *lt, uint32_t len, int32_t firstline,
                int64_t off)
{
    return hsnap_py_line(version, lt, len, firstline, off);
}

/* Ends the run at end with line: one run while the line stays. */
static void run_put(struct pycode_lines *l, int64_t end, int32_t line)
{
    if (l->n && l->line[l->n - 1] == line) {
        l->end[l->n - 1] = end;
        return;
    }
    l->end[l->n] = end;
    l->line[l->n++] = line;
}

/* The runs of hsnap_py_line_310's walk: a pair of no bytes moves the line
 * only. */
static void runs_310(struct pycode_lines *l, const uint8_t *lt, uint32_t len, int32_t line)
{
    int64_t end = 0;
    for (uint32_t i = 0; i + 1 < len; i += 2) {
        int8_t delta = (int8_t)lt[i + 1];
        if (delta != -128)
            line += delta;
        if (lt[i]) {
            end += lt[i];
            run_put(l, end, delta == -128 ? -1 : line);
        }
    }
}

/* The runs of hsnap_py_line_location's walk, entry for entry. */
static void runs_location(struct pycode_lines *l, const uint8_t *lt, uint32_t len,
                          int32_t line)
{
    int64_t at = 0;
    uint32_t i = 0;
    while (i < len) {
        int noline;
        at += hsnap_py_location_entry(lt, len, &i, &line, &noline);
        run_put(l, at, noline ? -1 : line);
    }
}

static int lines_build(uint32_t version, const struct snap_pycode *c, struct pycode_lines *l)
{
    size_t cap = (size_t)c->lt_len + 1; /* an entry or pair takes a byte at least */
    l->end = big_malloc(cap * sizeof(*l->end));
    l->line = big_malloc(cap * sizeof(*l->line));
    if (!l->end || !l->line) {
        free(l->end);
        free(l->line);
        l->end = NULL;
        l->line = NULL;
        return -1;
    }
    l->n = 0;
    if (version < 0x030b0000u)
        runs_310(l, c->linetable, c->lt_len, c->firstline);
    else
        runs_location(l, c->linetable, c->lt_len, c->firstline);
    /* the runs are far fewer than the bytes: the room they did not take
     * goes back at once, so the next code's lines follow in the same pages */
    void *end = realloc(l->end, (l->n ? l->n : 1) * sizeof(*l->end));
    void *line = realloc(l->line, (l->n ? l->n : 1) * sizeof(*l->line));
    l->end = end ? end : l->end;
    l->line = line ? line : l->line;
    return 0;
}

int pycode_line_of(const struct snap *s, uint32_t code, int64_t off)
{
    const struct snap_pycode *c = &s->pycodes[code];
    struct pycode_lines *l = s->pylines ? &s->pylines[code] : NULL;
    if (off < 0)
        return c->firstline;
    if (!l || (l->n == UINT32_MAX && lines_build(s->py_version, c, l) < 0))
        return pycode_line(s->py_version, c->linetable, c->lt_len, c->firstline, off);
    int64_t key = s->py_version < 0x030b0000u ? off * 2 : off;
    uint32_t lo = 0, hi = l->n; /* the first run that ends past key */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->end[mid] > key)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < l->n ? l->line[lo] : 0;
}

uint64_t pycode_word_code(uint64_t w)
{
    return (w & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT;
}

const struct snap_pycode *pycode_of_word(const struct snap *s, uint64_t w, int *line)
{
    static const struct snap_pycode missing = {0, "<unknown>", "<python>", NULL, 0};
    uint64_t code = pycode_word_code(w);
    if (code >= s->npycodes) {
        if (line)
            *line = 0;
        return &missing;
    }
    if (line)
        *line = pycode_line_of(s, (uint32_t)code, (int64_t)(w & HSNAP_PY_OFF_MASK) - 1);
    return &s->pycodes[code];
}

/* Appends a location-table entry of units (1-8) code units: kind 13 (a
 * line delta, no column) or 15 (no line). */
static uint32_t put_entry(uint8_t *o, uint32_t k, int kind, int units, int32_t delta)
{
    o[k++] = (uint8_t)(0x80 | kind << 3 | (units - 1));
    if (kind == 15)
        return k;
    uint32_t v = delta < 0 ? (uint32_t)-delta << 1 | 1 : (uint32_t)delta << 1;
    do {
        o[k++] = (uint8_t)((v & 63) | (v > 63 ? 64 : 0));
        v >>= 6;
    } while (v);
    return k;
}

uint8_t *pycode_to_location(const uint8_t *lt, uint32_t len, int32_t firstline,
                            uint32_t *out_len)
{
    /* a pair covers at most 255 bytes: 16 entries of at most 7 bytes */
    uint8_t *o = malloc((size_t)len / 2 * 16 * 7 + 1);
    int32_t line = firstline, at = firstline; /* the 3.10 line, the table's */
    uint32_t k = 0;
    if (!o)
        return NULL;
    for (uint32_t i = 0; i + 1 < len; i += 2) {
        int8_t delta = (int8_t)lt[i + 1];
        int units = lt[i] / 2;
        if (delta != -128)
            line += delta;
        for (; units > 0; units -= 8) {
            int n = units < 8 ? units : 8;
            if (delta == -128) {
                k = put_entry(o, k, 15, n, 0);
            } else {
                k = put_entry(o, k, 13, n, line - at);
                at = line;
            }
        }
    }
    *out_len = k;
    return o;
}

static int take(const uint8_t **p, uint64_t *left, void *dst, uint64_t n)
{
    if (n > *left)
        return -1;
    if (dst)
        memcpy(dst, *p, n);
    *p += n;
    *left -= n;
    return 0;
}

static char *copy_str(const uint8_t *p, uint32_t n)
{
    char *s = malloc((size_t)n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

int pycode_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
    uint32_t n;
    if (take(&p, &len, &n, 4) || take(&p, &len, &s->py_version, 4))
        return fail(err, errlen, "too short: ", len);
    if ((uint64_t)n * 16 > len)
        return fail(err, errlen, "count does not fit: ", n);
    if (snap_budget_take(&s->budget,
                         (uint64_t)n * (sizeof(*s->pycodes) + sizeof(*s->pylines)) + len,
                         "PYCODE", err, errlen) < 0)
        return -1;
    s->pycodes = calloc(n ? n : 1, sizeof(*s->pycodes));
    s->pylines = calloc(n ? n : 1, sizeof(*s->pylines));
    if (!s->pycodes || !s->pylines)
        return fail(err, errlen, "out of memory at code ", 0);
    s->npycodes = n;
    for (uint32_t i = 0; i < n; i++)
        s->pylines[i].n = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        struct snap_pycode *c = &s->pycodes[i];
        uint32_t h[4];
        if (take(&p, &len, h, 16) || (uint64_t)h[1] + h[2] + h[3] > len)
            return fail(err, errlen, "overrun at code ", i);
        c->firstline = (int32_t)h[0];
        c->file = copy_str(p, h[1]);
        c->qualname = copy_str(p + h[1], h[2]);
        c->linetable = p + h[1] + h[2];
        c->lt_len = h[3];
        if (!c->file || !c->qualname)
            return fail(err, errlen, "out of memory at code ", i);
        take(&p, &len, NULL, (uint64_t)h[1] + h[2] + h[3]);
    }
    if (len)
        return fail(err, errlen, "stray bytes at the end: ", len);
    return 0;
}

void pycode_free(struct snap *s)
{
    for (uint32_t i = 0; s->pycodes && i < s->npycodes; i++) {
        free(s->pycodes[i].file);
        free(s->pycodes[i].qualname);
    }
    for (uint32_t i = 0; s->pylines && i < s->npycodes; i++) {
        free(s->pylines[i].end);
        free(s->pylines[i].line);
    }
    free(s->pylines);
    s->pylines = NULL;
    free(s->pycodes);
    s->pycodes = NULL;
    s->npycodes = 0;
}
