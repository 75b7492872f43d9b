/*
 * pypath.c - the retention path of a Python object as a Python developer
 * reads it: from the named root the shim's graph reached it from
 * (PYTYPES' parents, shim/python/pyroots.c) through each holder, with the
 * holder's key, index or attribute and the type at each step:
 *   module app, global _cache (dict) -> ['user42'] (app.Result)
 *     -> Result.data (list) -> [0] (app.Item)
 * An instance's __dict__ and the dict's key read as one attribute step
 * (Result.data), a module's globals dict and its key as the global, a C
 * stack's word by its function ("C stack of thread 7 in f (ext.c:42)").  A
 * path no named root starts begins "outside" (C code, the interpreter's
 * own state, or a leaked reference hold its first object).  `top
 * --retainers --key type` lists the distinct paths per type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codename.h"
#include "fmt.h"
#include "json.h"
#include "pypath.h"
#include "snap.h"

#define PYPATH_STEPS 24 /* steps of a path shown (the innermost ones) */
#define PYPATH_SHOWN 5  /* distinct paths shown a type */

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
    size_t at = *len;
    if (at >= n)
        return;
#define PUT(...) (at += (size_t)snprintf(out + at, at < n ? n - at : 0, __VA_ARGS__))
    if (r->label == HSNAP_PYLABEL_DICT && next && next->label == HSNAP_PYLABEL_KEY && next->name) {
        /* an instance's attribute (its type's name), a class's (its own) */
        if (r->name)
            PUT("%.*s.%.*s (%s)", (int)r->name_len, r->name, (int)next->name_len, next->name,
                pypath_type(s, nb));
        else
            PUT("%s.%.*s (%s)", pypath_short(ht), (int)next->name_len, next->name,
                pypath_type(s, nb));
        *skip = 1;
    } else if (r->label == HSNAP_PYLABEL_DICT) {
        PUT("%s.__dict__ (%s)", pypath_short(ht), bt);
    } else if (shape && (r->label == HSNAP_PYLABEL_KEY || r->label == HSNAP_PYLABEL_INDEX ||
                         (r->label == HSNAP_PYLABEL_FIELD && !strcmp(ht, "tuple") &&
                          r->value >= 24))) {
        PUT("[...] (%s)", bt); /* pypath_shape: which key or index is left out */
    } else if (r->label == HSNAP_PYLABEL_KEY) {
        if (r->name)
            PUT("['%.*s'] (%s)", (int)r->name_len, r->name, bt);
        else
            PUT("[...] (%s)", bt);
    } else if (r->label == HSNAP_PYLABEL_INDEX) {
        PUT("[%u] (%s)", r->value, bt);
    } else if (r->label == HSNAP_PYLABEL_ATTR && r->name) {
        PUT("%s.%.*s (%s)", pypath_short(ht), (int)r->name_len, r->name, bt);
    } else if (r->label == HSNAP_PYLABEL_FIELD && !strcmp(ht, "tuple") && r->value >= 24) {
        PUT("[%u] (%s)", (r->value - 24) / 8, bt);
    } else if (r->label == HSNAP_PYLABEL_FIELD && r->name) {
        PUT("%s.%.*s (%s)", pypath_short(ht), (int)r->name_len, r->name, bt);
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
    char fn[512];
    for (const char *p = t; root->value == HSNAP_PYROOT_CSTACK && p + tag < t + len; p++)
        if (!memcmp(p, HSNAP_PYROOT_AT, tag))
            at = p;
    int k = -1;
    if (at) {
        uint64_t pc = 0;
        for (const char *p = at + tag; p < t + len; p++)
            pc = pc << 4 | (uint64_t)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
        if (codename_of(s, pc, fn, sizeof fn) && strncmp(fn, "0x", 2))
            k = snprintf(out, n, "%.*s in %s", (int)(at - t), t, fn);
    }
    if (k < 0)
        k = snprintf(out, n, "%.*s", (int)len, t);
    return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
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
        if (root->value == HSNAP_PYROOT_MODULE)
            len = (size_t)snprintf(out, n, "%.*s, global %.*s (%s)", (int)root->name_len,
                                   root->name, (int)kr->name_len, kr->name,
                                   pypath_type(s, chain[i - 1]));
        else
            len = (size_t)snprintf(out, n, "sys.modules['%.*s'] (%s)", (int)kr->name_len,
                                   kr->name, pypath_type(s, chain[i - 1]));
        i--;
    } else {
        len = pypath_root(s, root, out, n);
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

/* A type's share of a snapshot's reached objects. */
struct pypath_type {
    uint32_t type;
    uint64_t count, bytes;
};

static int pypath_type_cmp(const void *pa, const void *pb)
{
    const struct pypath_type *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return (a->type > b->type) - (a->type < b->type);
}

/* The distinct paths of type t's objects in s, with how many each: text
 * lines, or a JSON array into j. */
static int pypath_paths(const struct snap *s, uint32_t t, FILE *out, struct json *j)
{
    char *paths[PYPATH_SHOWN] = {0}, buf[2048];
    uint64_t count[PYPATH_SHOWN] = {0}, more = 0;
    int np = 0, rc = 0;
    for (uint64_t b = 0; b < s->nblocks; b++) {
        if (s->py.block_type[b] != t || !pypath_has(s, b))
            continue;
        if (s->py.block_flags[b] & HSNAP_PYOBJ_GARBAGE)
            snprintf(buf, sizeof buf, "garbage awaiting the collector (no root reaches it)");
        else
            pypath_of(s, b, buf, sizeof buf);
        int k;
        for (k = 0; k < np && strcmp(paths[k], buf); k++)
            ;
        if (k == np && np < PYPATH_SHOWN && !(paths[np++] = strdup(buf)))
            rc = -1, np--;
        if (k < np)
            count[k]++;
        else
            more++;
    }
    if (j)
        json_arr_begin(j);
    for (int k = 0; k < np; k++) {
        if (j) {
            json_obj_begin(j);
            json_kstr(j, "path", paths[k]);
            json_ku64(j, "objects", count[k]);
            json_obj_end(j);
        } else {
            fprintf(out, "    %llu object%s: %s\n", (unsigned long long)count[k],
                    count[k] == 1 ? "" : "s", paths[k]);
        }
        free(paths[k]);
    }
    if (j)
        json_arr_end(j);
    if (!j && more)
        fprintf(out, "    %llu more object%s by other paths\n", (unsigned long long)more,
                more == 1 ? "" : "s");
    return rc;
}

int pypath_by_type(const struct snap *snaps, int n, long limit, FILE *out, struct json *j)
{
    if (j)
        json_arr_begin(j);
    for (int i = 0; i < n; i++) {
        const struct snap *s = &snaps[i];
        if (!s->py.graph)
            continue;
        struct pypath_type *ty = calloc(s->py.ntypes ? s->py.ntypes : 1, sizeof *ty);
        if (!ty)
            return -1;
        for (uint32_t t = 0; t < s->py.ntypes; t++)
            ty[t].type = t;
        for (uint64_t b = 0; b < s->nblocks; b++)
            if (pypath_has(s, b)) {
                ty[s->py.block_type[b]].count++;
                ty[s->py.block_type[b]].bytes += s->blocks[b].size;
            }
        qsort(ty, s->py.ntypes, sizeof *ty, pypath_type_cmp);
        uint32_t shown = s->py.ntypes;
        while (shown && !ty[shown - 1].count)
            shown--;
        if (limit > 0 && (uint64_t)limit < shown)
            shown = (uint32_t)limit;
        if (!j)
            fprintf(out, "Python objects by type: who holds them (shortest paths from a root)\n");
        for (uint32_t k = 0; k < shown; k++) {
            char sz[64];
            fmt_size(sz, sizeof sz, (double)ty[k].bytes, 0);
            if (j) {
                json_obj_begin(j);
                json_kstr(j, "type", s->py.types[ty[k].type].name);
                json_ku64(j, "objects", ty[k].count);
                json_ku64(j, "size", ty[k].bytes);
                json_key(j, "paths");
            } else {
                fprintf(out, "  %s: %llu object%s, %s\n", s->py.types[ty[k].type].name,
                        (unsigned long long)ty[k].count, ty[k].count == 1 ? "" : "s", sz);
            }
            if (pypath_paths(s, ty[k].type, out, j) < 0) {
                free(ty);
                return -1;
            }
            if (j)
                json_obj_end(j);
        }
        if (!j)
            fprintf(out, "\n");
        free(ty);
    }
    if (j)
        json_arr_end(j);
    return 0;
}
