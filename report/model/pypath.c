/*
 * pypath.c - the retention path of a Python object as a Python developer
 * reads it: from the named root the shim's graph reached it from
 * (PYTYPES' parents, pyg_roots_collect) through each holder, with the
 * holder's key, index or attribute and the type at each step:
 *   module app, global _cache (dict) -> ['user42'] (app.Result)
 *     -> Result.data (list) -> [0] (app.Item)
 * An instance's __dict__ and the dict's key read as one attribute step
 * (Result.data), a module's globals dict and its key as the global, a C
 * stack's word by its function ("C stack of thread 7 in f (ext.c:42)").  A
 * path no named root starts begins "outside" (C code, the interpreter's
 * own state, or a leaked reference hold its first object).  leaks --why
 * and top --retainers group them (pyholders.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codename.h"
#include "escape.h"
#include "pypath.h"
#include "snap.h"

#define PYPATH_STEPS 24 /* steps of a path shown (the innermost ones) */
#define PYPATH_NAME 512 /* a name's text, escaped, at most */

/* A name the program made (a key, an attribute, a global, a module's), as
 * printable text (esc_text_n): no control character, bidi mark or NUL
 * reaches the output raw; quote: a str key, shown as Python's repr shows
 * it inside its single quotes (backslash and quote escaped too). */
static const char *pypath_name(const char *s, size_t len, int quote, char *buf)
{
    esc_text_n(s ? s : "", s ? len : 0, quote, buf, PYPATH_NAME);
    return buf;
}

/* The short name of a type ("Result" of "app.Result"). */
static const char *pypath_short(const char *t)
{
    const char *dot = strrchr(t, '.');
    return dot ? dot + 1 : t;
}

static const char *pypath_type(const struct snap *s, uint64_t b)
{
    return s->py.types[s->py.block_type[b]].name;
}

/* How holder h holds b (r: b's parent link), then b's type, into out at
 * *len; *skip: the step after is this one's (a __dict__'s key). */
static void pypath_step(const struct snap *s, uint64_t h, uint64_t b, const struct snap_pyref *r,
                        const struct snap_pyref *next, uint64_t nb, char *out, size_t n,
                        size_t *len, int *skip, int shape)
{
    const char *ht = pypath_type(s, h), *bt = pypath_type(s, b);
    char n1[PYPATH_NAME], n2[PYPATH_NAME];
    size_t at = *len;
    if (at >= n)
        return;
#define PUT(...) (at += (size_t)snprintf(out + at, at < n ? n - at : 0, __VA_ARGS__))
    if (r->label == HSNAP_PYLABEL_DICT && next && next->label == HSNAP_PYLABEL_KEY && next->name &&
        !next->repr) {
        /* an instance's attribute (its type's name), a class's (its own) */
        if (r->name)
            PUT("%s.%s (%s)", pypath_name(r->name, r->name_len, 0, n1),
                pypath_name(next->name, next->name_len, 0, n2), pypath_type(s, nb));
        else
            PUT("%s.%s (%s)", pypath_short(ht), pypath_name(next->name, next->name_len, 0, n2),
                pypath_type(s, nb));
        *skip = 1;
    } else if (r->label == HSNAP_PYLABEL_DICT && r->name) { /* a class's, by its name */
        PUT("%s.__dict__ (%s)", pypath_name(r->name, r->name_len, 0, n1), bt);
    } else if (r->label == HSNAP_PYLABEL_DICT) {
        PUT("%s.__dict__ (%s)", pypath_short(ht), bt);
    } else if (shape && (r->label == HSNAP_PYLABEL_KEY || r->label == HSNAP_PYLABEL_INDEX ||
                         (r->label == HSNAP_PYLABEL_FIELD && !strcmp(ht, "tuple") &&
                          r->value >= 24))) {
        PUT("[...] (%s)", bt); /* pypath_shape: which key or index is left out */
    } else if (r->label == HSNAP_PYLABEL_KEY) {
        if (r->name)
            PUT(r->repr ? "[%s] (%s)" : "['%s'] (%s)",
                pypath_name(r->name, r->name_len, !r->repr, n1), bt);
        else
            PUT("[...] (%s)", bt);
    } else if (r->label == HSNAP_PYLABEL_INDEX) {
        PUT("[%u] (%s)", r->value, bt);
    } else if (r->label == HSNAP_PYLABEL_ATTR && r->name) {
        PUT("%s.%s (%s)", pypath_short(ht), pypath_name(r->name, r->name_len, 0, n1), bt);
    } else if (r->label == HSNAP_PYLABEL_FIELD && !strcmp(ht, "tuple") && r->value >= 24) {
        PUT("[%u] (%s)", (r->value - 24) / 8, bt);
    } else if (r->label == HSNAP_PYLABEL_FIELD && r->name &&
               memchr(r->name, '.', r->name_len)) { /* a class's: "Node.__mro__" */
        PUT("%s (%s)", pypath_name(r->name, r->name_len, 0, n1), bt);
    } else if (r->label == HSNAP_PYLABEL_FIELD && r->name) {
        PUT("%s.%s (%s)", pypath_short(ht), pypath_name(r->name, r->name_len, 0, n1), bt);
    } else {
        PUT("%s", bt);
    }
#undef PUT
    *len = at < n ? at : n - 1;
}

/* A named root's description: a C stack's code address (its tail
 * HSNAP_PYROOT_AT "HEX") as the function it lies in, "in f (ext.c:42)";
 * unnamed (no symbols, an older reader's way), as written. */
static size_t pypath_root(const struct snap *s, const struct snap_pyref *root, char *out,
                          size_t n)
{
    const char *t = root->name ? root->name : "", *at = NULL;
    size_t len = root->name ? root->name_len : 0, tag = sizeof HSNAP_PYROOT_AT - 1;
    char fn[512], nm[PYPATH_NAME];
    for (const char *p = t; root->value == HSNAP_PYROOT_CSTACK && p + tag < t + len; p++)
        if (!memcmp(p, HSNAP_PYROOT_AT, tag))
            at = p;
    int k = -1;
    if (at) {
        uint64_t pc = 0;
        for (const char *p = at + tag; p < t + len; p++)
            pc = pc << 4 | (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
        if (codename_of(s, pc, fn, sizeof fn) && strncmp(fn, "0x", 2))
            k = snprintf(out, n, "%s in %s", pypath_name(t, (size_t)(at - t), 0, nm), fn);
    }
    if (k < 0)
        k = snprintf(out, n, "%s", pypath_name(t, len, 0, nm));
    return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}

/* The root's text at out[0, len) with each item step the shim named in it
 * (" -> [12]", " -> ['k']": the items of a global's container that is no
 * object of the graph, pyroot_container) as "[...]", pypath_shape's way,
 * within n bytes; the new length. */
static size_t pypath_root_shape(char *out, size_t len, size_t n)
{
    char *src = strndup(out, len);
    size_t w = 0;
    if (!src)
        return len;
    for (size_t i = 0; i < len && w + 1 < n;) {
        const char *close = NULL;
        if (!strncmp(src + i, " -> [", 5) && i + 5 < len &&
            (src[i + 5] == '\'' || (src[i + 5] >= '0' && src[i + 5] <= '9')))
            close = memchr(src + i + 5, ']', len - i - 5);
        if (close) {
            w += (size_t)snprintf(out + w, n - w, " -> [...]");
            i = (size_t)(close - src) + 1;
        } else {
            out[w++] = src[i++];
        }
    }
    if (w >= n)
        w = n - 1;
    out[w] = 0;
    free(src);
    return w;
}

int pypath_has(const struct snap *s, uint64_t b)
{
    if (!s->py.block_parent || b >= s->nblocks || s->py.block_type[b] == PYTYPE_NONE)
        return 0;
    return (s->py.block_flags[b] & HSNAP_PYOBJ_TRACKED) ||
           s->py.block_parent[b].block != UINT64_MAX ||
           s->py.block_parent[b].label == HSNAP_PYLABEL_ROOT;
}

static size_t pypath_write(const struct snap *s, uint64_t b, char *out, size_t n, int shape)
{
    uint64_t chain[PYPATH_STEPS];
    int k = 0;
    size_t len = 0;
    if (!n)
        return 0;
    out[0] = 0;
    if (!s->py.block_parent || b >= s->nblocks || s->py.block_type[b] == PYTYPE_NONE)
        return 0;
    for (uint64_t at = b; at != UINT64_MAX && k < PYPATH_STEPS; at = s->py.block_parent[at].block)
        chain[k++] = at;
    uint64_t top = chain[k - 1];
    const struct snap_pyref *root = &s->py.block_parent[top];
    int i = k - 1, skip = 0;
    if (k == PYPATH_STEPS && root->block != UINT64_MAX) {
        len = (size_t)snprintf(out, n, "... -> %s", pypath_type(s, top));
    } else if (root->label != HSNAP_PYLABEL_ROOT) {
        len = (size_t)snprintf(out, n, "outside (C code or the interpreter) -> %s",
                               pypath_type(s, top));
    } else if ((root->value == HSNAP_PYROOT_MODULE || root->value == HSNAP_PYROOT_SYSMODULES) &&
               i > 0 && s->py.block_parent[chain[i - 1]].label == HSNAP_PYLABEL_KEY &&
               s->py.block_parent[chain[i - 1]].name) {
        /* a module's globals dict and a key: the global; sys.modules and a key */
        const struct snap_pyref *kr = &s->py.block_parent[chain[i - 1]];
        char n1[PYPATH_NAME], n2[PYPATH_NAME];
        if (root->value == HSNAP_PYROOT_MODULE)
            len = (size_t)snprintf(out, n, "%s, global %s (%s)",
                                   pypath_name(root->name, root->name_len, 0, n1),
                                   pypath_name(kr->name, kr->name_len, 0, n2),
                                   pypath_type(s, chain[i - 1]));
        else
            len = (size_t)snprintf(out, n, "sys.modules['%s'] (%s)",
                                   pypath_name(kr->name, kr->name_len, 1, n1),
                                   pypath_type(s, chain[i - 1]));
        i--;
    } else {
        len = pypath_root(s, root, out, n);
        if (shape)
            len = pypath_root_shape(out, len, n);
        if (len < n)
            len += (size_t)snprintf(out + len, n - len, " (%s)", pypath_type(s, top));
    }
    if (len >= n)
        len = n - 1;
    for (; i > 0; i--) {
        if (skip) {
            skip = 0;
            continue;
        }
        const struct snap_pyref *r = &s->py.block_parent[chain[i - 1]];
        const struct snap_pyref *next = i > 1 ? &s->py.block_parent[chain[i - 2]] : NULL;
        len += (size_t)snprintf(out + len, n - len, " -> ");
        if (len >= n) {
            len = n - 1;
            break;
        }
        pypath_step(s, chain[i], chain[i - 1], r, next, i > 1 ? chain[i - 2] : 0, out, n, &len,
                    &skip, shape);
    }
    return len;
}

size_t pypath_of(const struct snap *s, uint64_t b, char *out, size_t n)
{
    return pypath_write(s, b, out, n, 0);
}

size_t pypath_shape(const struct snap *s, uint64_t b, char *out, size_t n)
{
    return pypath_write(s, b, out, n, 1);
}
