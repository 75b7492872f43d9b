/*
 * escape.c - what a name may look like when printed.  Names come from
 * snapshots (command lines, executable and module paths, written by any
 * program, or crafted) and from debug info (function and file names), so
 * they may hold newlines, escape sequences or bytes that are not UTF-8.
 * Printed raw, a newline forges an output line ("::error ..." is a GitHub
 * Actions command when it starts a line of a step's output), an ESC
 * sequence drives the terminal, and an invalid byte makes JSON or XML
 * unparseable.  Text output escapes such names once, when they enter the
 * CLI (the symbolizer, sym_*, and the printers of snapshot strings); the JSON,
 * XML and GitHub writers (json_str, emit_xml_str) additionally replace what their
 * format forbids, for names that reach them from anywhere else (argv).
 * Backslashes are kept as they are, so ordinary names print unchanged.
 * Well-formed characters that reorder or break the text around them (the
 * bidirectional controls: U+202E makes "exe.txt" of "txt.exe"; the line
 * and paragraph separators) print as "\uXXXX".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

int esc_utf8_len(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    int n;
    uint32_t v, lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, v = c & 0x0f, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, v = c & 0x07, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    *cp = v;
    return n;
}

/* Whether cp reorders the text around it or breaks its line: the
 * bidirectional marks, embeddings, overrides and isolates (Unicode's
 * Bidi_Control), U+2028 and U+2029. */
static int esc_bidi(uint32_t cp)
{
    return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Bytes of s to copy as they are at this point (0: escape one byte; -n:
 * escape the n-byte character at s as "\uXXXX", its code point in *cpp). */
static int esc_keep_cp(const unsigned char *s, uint32_t *cpp)
{
    uint32_t cp;
    int n = esc_utf8_len(s, &cp);
    if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        return 0;
    if (esc_bidi(cp)) {
        *cpp = cp;
        return -n;
    }
    return n;
}

static int esc_keep(const unsigned char *s)
{
    uint32_t cp;
    return esc_keep_cp(s, &cp);
}

/* Writes the escape of s[0, end) into out (at most n bytes, NUL included,
 * when out is not NULL); returns the full length, as snprintf does.  quote:
 * a backslash and a single quote escaped too (esc_text_n's). */
static size_t esc_put(const char *str, const char *end, int quote, char *out, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *e = (const unsigned char *)end;
    size_t len = 0, w = 0;
    int cut = 0;
    char tmp[8];
    while (s < e) {
        uint32_t cp = 0;
        unsigned char last[5] = {0}; /* s's last bytes, NUL-ended: no read past end */
        const unsigned char *q = s;
        if (e - s < 4)
            q = memcpy(last, s, (size_t)(e - s));
        /* a NUL inside s is a byte like another: esc_utf8_len stops at it */
        int k = *s ? esc_keep_cp(q, &cp) : 0;
        const char *piece = (const char *)s;
        size_t plen = (size_t)k;
        if (k < 0) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)cp);
            piece = tmp;
            plen = strlen(tmp);
            k = -k;
        } else if (!k || (quote && (*s == '\\' || *s == '\''))) {
            if (*s == '\n' || *s == '\t' || *s == '\r')
                snprintf(tmp, sizeof(tmp), "\\%c", *s == '\n' ? 'n' : *s == '\t' ? 't' : 'r');
            else if (*s == '\\' || *s == '\'')
                snprintf(tmp, sizeof(tmp), "\\%c", *s);
            else
                snprintf(tmp, sizeof(tmp), "\\x%02x", *s);
            piece = tmp;
            plen = strlen(tmp);
            k = 1;
        }
        if (out && !cut && w + plen < n) { /* never half an escape */
            memcpy(out + w, piece, plen);
            w += plen;
        } else {
            cut = 1;
        }
        len += plen;
        s += k;
    }
    if (out && n)
        out[w] = 0;
    return len;
}

size_t esc_text_n(const char *s, size_t len, int quote, char *out, size_t n)
{
    size_t i = 0; /* printable ASCII (no backslash or quote when quoted): as it is */
    while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f &&
           !(quote && (s[i] == '\\' || s[i] == '\'')))
        i++;
    if (i < len)
        return esc_put(s, s + len, quote, out, n);
    if (out && n) {
        size_t k = len < n ? len : n - 1;
        memcpy(out, s, k);
        out[k] = 0;
    }
    return len;
}

int esc_text_needed(const char *str)
{
    for (const unsigned char *s = (const unsigned char *)str; *s;) {
        int k = esc_keep(s);
        if (k <= 0)
            return 1;
        s += k;
    }
    return 0;
}

char *esc_text_dup(const char *s)
{
    if (!esc_text_needed(s))
        return strdup(s);
    const char *end = s + strlen(s);
    size_t len = esc_put(s, end, 0, NULL, 0);
    char *out = malloc(len + 1);
    if (out)
        esc_put(s, end, 0, out, len + 1);
    return out;
}

const char *esc_text(const char *s, char *buf, size_t n)
{
    esc_put(s, s + strlen(s), 0, buf, n);
    return buf;
}
