/*
 * pytypes.c - PYTYPES (shim/hsnap_format.h) read and checked: the types'
 * names copied out, and each object's type put on its block, found by
 * address in BLOCKS (both ascending: one merge).  An object whose address
 * BLOCKS lacks (born while the snapshot was written) is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cli.h"
#include "escape.h"
#include "pytypes.h"
#include "snap.h"

/* pytypes_decode's steps.  The head's counts against the payload's
 * length; 0, or -1 with err. */
static int pytypes_check_head(const struct hsnap_pytypes_head *h, uint64_t len, char *err,
                              size_t errlen)
{
    uint64_t rest = len - sizeof *h;
    if (h->nlinks > rest / sizeof(struct hsnap_pylink) ||
        h->nparents > rest / sizeof(struct hsnap_pylink) - h->nlinks)
        return snap_section_fail(err, errlen, "PYTYPES", "%llu links, %llu parents in %llu "
                                 "bytes", (unsigned long long)h->nlinks,
                                 (unsigned long long)h->nparents, (unsigned long long)len);
    rest -= (h->nlinks + h->nparents) * sizeof(struct hsnap_pylink);
    if (h->nobjects > rest / sizeof(struct hsnap_pyobj) ||
        h->ntypes >
            (rest - h->nobjects * sizeof(struct hsnap_pyobj)) / sizeof(struct hsnap_pytype) ||
        h->names_len != rest - h->nobjects * sizeof(struct hsnap_pyobj) -
                            (uint64_t)h->ntypes * sizeof(struct hsnap_pytype))
        return snap_section_fail(err, errlen, "PYTYPES", "%u types, %llu objects and %llu "
                                 "name bytes do not match %llu payload bytes", h->ntypes,
                                 (unsigned long long)h->nobjects,
                                 (unsigned long long)h->names_len, (unsigned long long)len);
    return 0;
}

/* The arrays per block (every block typeless and unlinked), the types'
 * names copied out and the names kept; 0, or -1 with err. */
static int pytypes_read_types(struct snap *s, const struct hsnap_pytypes_head *h,
                              const struct hsnap_pytype *t, const char *names, char *err,
                              size_t errlen)
{
    struct snap_pyobjs *py = &s->py;
    uint64_t nb = s->nblocks ? s->nblocks : 1;
    py->types = calloc(h->ntypes ? h->ntypes : 1, sizeof *py->types);
    py->block_type = big_malloc(nb * sizeof *py->block_type);
    py->block_off = big_calloc(nb, sizeof *py->block_off);
    py->block_flags = big_calloc(nb, sizeof *py->block_flags);
    py->block_next = big_malloc(nb * sizeof *py->block_next);
    py->block_parent = big_malloc(nb * sizeof *py->block_parent);
    py->names = malloc(h->names_len ? h->names_len : 1);
    if (!py->types || !py->block_type || !py->block_off || !py->block_flags || !py->block_next ||
        !py->block_parent || !py->names)
        return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
    py->ntypes = h->ntypes;
    for (uint32_t i = 0; i < h->ntypes; i++) {
        if (t[i].name_off > h->names_len || t[i].name_len > h->names_len - t[i].name_off)
            return snap_section_fail(err, errlen, "PYTYPES", "type %u: name past the names", i);
        char *raw = strndup(names + t[i].name_off, t[i].name_len);
        /* a type's name is the program's (type(NAME, ...)): escaped, as frames' are */
        py->types[i].name = raw && esc_text_needed(raw) ? esc_text_dup(raw) : raw;
        if (py->types[i].name != raw)
            free(raw);
        if (!py->types[i].name)
            return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
        py->types[i].flags = t[i].flags;
    }
    py->graph = (h->flags & HSNAP_PYTYPES_GRAPH) != 0;
    memcpy(py->names, names, h->names_len);
    py->names_len = h->names_len;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        py->block_type[i] = PYTYPE_NONE;
        py->block_next[i].block = py->block_parent[i].block = UINT64_MAX;
        py->block_parent[i].label = HSNAP_PYLABEL_OTHER; /* not ROOT: no parent */
    }
    return 0;
}

/* Each object on its block, found by address (both ascending: one merge);
 * at[i] is object i's block or UINT64_MAX.  0, or -1 with err. */
static int pytypes_place_objects(struct snap *s, const struct hsnap_pytypes_head *h,
                                 const struct hsnap_pyobj *o, uint64_t *at, char *err,
                                 size_t errlen)
{
    struct snap_pyobjs *py = &s->py;
    uint64_t b = 0;
    for (uint64_t i = 0; i < h->nobjects; i++) {
        at[i] = UINT64_MAX;
        if (o[i].type >= h->ntypes)
            return snap_section_fail(err, errlen, "PYTYPES", "object %llu: type %u of %u",
                                     (unsigned long long)i, o[i].type, h->ntypes);
        if (i && o[i].addr <= o[i - 1].addr)
            return snap_section_fail(err, errlen, "PYTYPES",
                                     "object %llu: addresses not ascending",
                                     (unsigned long long)i);
        while (b < s->nblocks && s->blocks[b].addr < o[i].addr)
            b++;
        if (b < s->nblocks && s->blocks[b].addr == o[i].addr) {
            py->block_type[b] = o[i].type;
            py->block_off[b] = o[i].offset;
            py->block_flags[b] = py->graph ? o[i].flags : 0;
            py->garbage += (py->block_flags[b] & HSNAP_PYOBJ_GARBAGE) != 0;
            py->nobjects++;
            at[i] = b;
        }
    }
    return 0;
}

/* With the graph, the links (each object's next) and parents on the
 * blocks their objects are on; 0, or -1 with err. */
static int pytypes_read_links(struct snap *s, const struct hsnap_pytypes_head *h,
                              const struct hsnap_pylink *l, const uint64_t *at, char *err,
                              size_t errlen)
{
    struct snap_pyobjs *py = &s->py;
    for (uint64_t i = 0; py->graph && i < h->nlinks + h->nparents; i++) {
        if (l[i].from >= h->nobjects || l[i].to >= h->nobjects ||
            l[i].name_off > h->names_len || l[i].name_len > h->names_len - l[i].name_off)
            return snap_section_fail(err, errlen, "PYTYPES", "link %llu: object %u or %u "
                                     "of %llu, or its name past the names",
                                     (unsigned long long)i, l[i].from, l[i].to,
                                     (unsigned long long)h->nobjects);
        if (at[l[i].from] == UINT64_MAX || at[l[i].to] == UINT64_MAX)
            continue;
        /* a parent from a named root: the path ends there */
        int root = i >= h->nlinks && l[i].label == HSNAP_PYLABEL_ROOT;
        struct snap_pyref r = {i < h->nlinks ? at[l[i].to] : root ? UINT64_MAX : at[l[i].from],
                               l[i].label & ~HSNAP_PYLINK_REPR,
                               l[i].value, l[i].name_len ? py->names + l[i].name_off : NULL,
                               l[i].name_len, !!(l[i].label & HSNAP_PYLINK_REPR)};
        if (i < h->nlinks)
            py->block_next[at[l[i].from]] = r;
        else
            py->block_parent[at[l[i].to]] = r;
    }
    return 0;
}

int pytypes_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
    struct hsnap_pytypes_head h;
    if (len < sizeof h)
        return snap_section_fail(err, errlen, "PYTYPES", "too short (%llu bytes)",
                                 (unsigned long long)len);
    memcpy(&h, p, sizeof h);
    if (pytypes_check_head(&h, len, err, errlen) < 0)
        return -1;
    const struct hsnap_pyobj *o = (const void *)(p + sizeof h);
    const struct hsnap_pytype *t = (const void *)(o + h.nobjects);
    const char *names = (const char *)(t + h.ntypes);
    if (pytypes_read_types(s, &h, t, names, err, errlen) < 0)
        return -1;
    uint64_t *at = big_malloc((h.nobjects ? h.nobjects : 1) * sizeof *at); /* -> block */
    if (!at)
        return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
    const struct hsnap_pylink *l = (const void *)(names + h.names_len);
    if (pytypes_place_objects(s, &h, o, at, err, errlen) < 0 ||
        pytypes_read_links(s, &h, l, at, err, errlen) < 0) {
        free(at);
        return -1;
    }
    s->py.obj_block = at; /* for PYOWNED */
    s->py.nobj_all = h.nobjects;
    return 0;
}

int pytypes_decode_owned(struct snap *s, const uint8_t *p, uint64_t len, char *err,
                         size_t errlen)
{
    struct snap_pyobjs *py = &s->py;
    uint64_t n;
    if (!p) /* no PYOWNED */
        return 0;
    if (len < 8 || (memcpy(&n, p, 8), n != (len - 8) / sizeof(struct hsnap_pyowned)) ||
        (len - 8) % sizeof(struct hsnap_pyowned))
        return snap_section_fail(err, errlen, "PYOWNED", "%llu bytes are not a count and its "
                                 "items", (unsigned long long)len);
    const struct hsnap_pyowned *w = (const void *)(p + 8);
    if (!(py->block_owner = big_malloc((s->nblocks ? s->nblocks : 1) * sizeof *py->block_owner)))
        return snap_section_fail(err, errlen, "PYOWNED", "out of memory");
    for (uint64_t i = 0; i < s->nblocks; i++)
        py->block_owner[i] = UINT64_MAX;
    for (uint64_t i = 0, b = 0; i < n; i++) {
        if (w[i].owner >= py->nobj_all || (i && w[i].addr <= w[i - 1].addr))
            return snap_section_fail(err, errlen, "PYOWNED", "item %llu: owner %u of %llu, or "
                                     "addresses not ascending", (unsigned long long)i,
                                     w[i].owner, (unsigned long long)py->nobj_all);
        while (b < s->nblocks && s->blocks[b].addr < w[i].addr)
            b++;
        if (b < s->nblocks && s->blocks[b].addr == w[i].addr &&
            py->block_type[b] == PYTYPE_NONE) /* a block BLOCKS lacks, or typed: not owned */
            py->block_owner[b] = py->obj_block[w[i].owner];
    }
    return 0;
}

void pytypes_drop_owned(struct snap *s)
{
    free(s->py.block_owner);
    s->py.block_owner = NULL;
}

void pytypes_free(struct snap *s)
{
    for (uint32_t i = 0; s->py.types && i < s->py.ntypes; i++)
        free(s->py.types[i].name);
    free(s->py.types);
    free(s->py.block_type);
    free(s->py.block_off);
    free(s->py.block_flags);
    free(s->py.block_next);
    free(s->py.block_parent);
    free(s->py.block_owner);
    free(s->py.obj_block);
    free(s->py.names);
    free(s->py.block_retained);
    free(s->py.block_idom);
    free(s->py.block_held);
    free(s->py.block_refcnt);
    free(s->py.block_refs);
    memset(&s->py, 0, sizeof s->py);
}

const char *pytypes_of_block(const struct snap *s, uint64_t i)
{
    if (!s->py.block_type || i >= s->nblocks || s->py.block_type[i] == PYTYPE_NONE)
        return NULL;
    return s->py.types[s->py.block_type[i]].name;
}

/* A merged type: interned by name. */
struct pytypes_named {
    const char *name; /* the merged snap's copy */
    uint32_t id;
    UT_hash_handle hh;
};

/* pytypes_merge's steps.  The arrays per merged block, every block typeless
 * and unlinked; block_owner when some input has one.  0, or -1. */
static int pytypes_merge_alloc(struct snap *out, const struct snap *in, int n)
{
    struct snap_pyobjs *py = &out->py;
    uint64_t nb = out->nblocks ? out->nblocks : 1;
    py->block_type = big_malloc(nb * sizeof *py->block_type);
    py->block_off = big_calloc(nb, sizeof *py->block_off);
    py->block_flags = big_calloc(nb, sizeof *py->block_flags);
    py->block_next = big_malloc(nb * sizeof *py->block_next);
    py->block_parent = big_malloc(nb * sizeof *py->block_parent);
    int owned = 0;
    for (int i = 0; i < n; i++)
        owned |= in[i].py.block_owner != NULL;
    if (owned && !(py->block_owner = big_malloc(nb * sizeof *py->block_owner)))
        return -1;
    if (!py->block_type || !py->block_off || !py->block_flags || !py->block_next ||
        !py->block_parent)
        return -1;
    for (uint64_t b = 0; b < out->nblocks; b++) {
        py->block_type[b] = PYTYPE_NONE;
        py->block_next[b].block = py->block_parent[b].block = UINT64_MAX;
        py->block_parent[b].label = HSNAP_PYLABEL_OTHER; /* not ROOT: no parent */
        if (owned)
            py->block_owner[b] = UINT64_MAX;
    }
    return 0;
}

/* Every input's refs' names, one after the other: at[i] is where input
 * i's begin in the copy (a ref's name is rebased from its input's names
 * to it).  0, or -1. */
static int pytypes_merge_names(struct snap_pyobjs *py, const struct snap *in, int n,
                               uint64_t *at)
{
    uint64_t names_len = 0;
    for (int i = 0; i < n; i++) {
        at[i] = names_len;
        if (in[i].py.block_type)
            names_len += in[i].py.names_len;
    }
    py->names = malloc(names_len ? names_len : 1);
    py->names_len = names_len;
    if (!py->names)
        return -1;
    for (int i = 0; i < n; i++)
        if (in[i].py.block_type)
            memcpy(py->names + at[i], in[i].py.names, in[i].py.names_len);
    return 0;
}

/* ip's types interned by name into py->types (byname its index, *cap its
 * room), tmap[t] the merged id of ip's type t.  0, or -1. */
static int pytypes_merge_types(struct snap_pyobjs *py, const struct snap_pyobjs *ip,
                               struct pytypes_named **byname, uint32_t *cap, uint32_t *tmap)
{
    struct pytypes_named *e;
    for (uint32_t t = 0; t < ip->ntypes; t++) {
        const char *name = ip->types[t].name;
        HASH_FIND_STR(*byname, name, e);
        if (e) {
            tmap[t] = e->id;
            py->types[e->id].flags |= ip->types[t].flags;
            continue;
        }
        if (py->ntypes == *cap) {
            uint32_t nc = *cap ? *cap * 2 : 64;
            struct snap_pytype *g = realloc(py->types, nc * sizeof *g);
            if (!g)
                return -1;
            py->types = g;
            *cap = nc;
        }
        e = calloc(1, sizeof *e);
        py->types[py->ntypes].name = strdup(name);
        py->types[py->ntypes].flags = ip->types[t].flags;
        if (!e || !py->types[py->ntypes].name) {
            free(e);
            free(py->types[py->ntypes].name);
            return -1;
        }
        e->name = py->types[py->ntypes].name;
        e->id = tmap[t] = py->ntypes++;
        HASH_ADD_KEYPTR(hh, *byname, e->name, strlen(e->name), e);
    }
    return 0;
}

/* Input s's objects on their merged blocks (base + b): owners, types
 * through tmap, and with the graph its flags and links, their names
 * rebased to names (s's names' place in py->names). */
static void pytypes_merge_blocks(struct snap_pyobjs *py, const struct snap *s, uint64_t base,
                                 const uint32_t *tmap, const char *names)
{
    const struct snap_pyobjs *ip = &s->py;
    for (uint64_t b = 0; b < s->nblocks && ip->block_owner; b++)
        if (ip->block_owner[b] != UINT64_MAX)
            py->block_owner[base + b] = base + ip->block_owner[b];
    for (uint64_t b = 0; b < s->nblocks; b++) {
        if (ip->block_type[b] == PYTYPE_NONE)
            continue;
        uint64_t o = base + b;
        py->block_type[o] = tmap[ip->block_type[b]];
        py->block_off[o] = ip->block_off[b];
        py->nobjects++;
        if (!py->graph)
            continue;
        py->block_flags[o] = ip->block_flags[b];
        py->garbage += (ip->block_flags[b] & HSNAP_PYOBJ_GARBAGE) != 0;
        const struct snap_pyref *r[2] = {&ip->block_next[b], &ip->block_parent[b]};
        struct snap_pyref *w[2] = {&py->block_next[o], &py->block_parent[o]};
        for (int k = 0; k < 2; k++) {
            if (r[k]->block == UINT64_MAX)
                continue;
            *w[k] = *r[k];
            w[k]->block = base + r[k]->block;
            if (r[k]->name)
                w[k]->name = names + (uint64_t)(r[k]->name - ip->names);
        }
    }
}

int pytypes_merge(struct snap *out, const struct snap *in, int n)
{
    struct snap_pyobjs *py = &out->py;
    uint64_t base = 0;
    int any = 0, graph = 1;
    for (int i = 0; i < n; i++) {
        if (!in[i].py.block_type)
            continue;
        any = 1;
        graph &= in[i].py.graph;
    }
    if (!any || !out->has_blocks)
        return 0;
    if (pytypes_merge_alloc(out, in, n) < 0)
        return -1;
    py->graph = graph;
    uint64_t *at = calloc((size_t)n + 1, sizeof *at);
    if (!at)
        return -1;
    struct pytypes_named *byname = NULL, *e, *tmp;
    uint32_t cap = 0;
    int rc = pytypes_merge_names(py, in, n, at);
    for (int i = 0; i < n && rc == 0; base += in[i].nblocks, i++) {
        const struct snap_pyobjs *ip = &in[i].py;
        if (!ip->block_type)
            continue;
        uint32_t *tmap = malloc((ip->ntypes ? ip->ntypes : 1) * sizeof *tmap);
        if (!tmap || pytypes_merge_types(py, ip, &byname, &cap, tmap) < 0)
            rc = -1;
        else
            pytypes_merge_blocks(py, &in[i], base, tmap, py->names + at[i]);
        free(tmap);
    }
    HASH_ITER(hh, byname, e, tmp) {
        HASH_DEL(byname, e);
        free(e);
    }
    free(at);
    return rc;
}

int pytypes_unread_note(const struct snap *s, char *buf, size_t n)
{
    static const char *const why[HSNAP_PYUNREAD_WHY_MAX + 1] = {
        [HSNAP_PYUNREAD_UNKNOWN] = "a version heapsnap has no layout for",
        [HSNAP_PYUNREAD_OLD] = "older than 3.10",
        [HSNAP_PYUNREAD_NO_OFFSETS] = "it publishes no _Py_DebugOffsets",
        [HSNAP_PYUNREAD_OTHER_VERSION] = "its _Py_DebugOffsets name another version",
        [HSNAP_PYUNREAD_SHAPE] = "its _Py_DebugOffsets have a shape heapsnap does not read "
                                 "(a version newer than this heapsnap)",
        [HSNAP_PYUNREAD_FREE_THREADED] = "a free-threaded build",
        [HSNAP_PYUNREAD_RANGE] = "its _Py_DebugOffsets are out of range",
        [HSNAP_PYUNREAD_SYMBOLS] = "symbols heapsnap needs are missing",
        [HSNAP_PYUNREAD_CLAIMED] = "HEAPSNAP_PYTHON named another version",
        [HSNAP_PYUNREAD_OBJECTS] = "",
        [HSNAP_PYUNREAD_UNVERIFIED] = "its frames did not read as the layout says: a build "
                                      "heapsnap misreads",
    };
    const struct hsnap_pyunread *u = &s->pyunread;
    if (!u->why) /* snap_load checked it is one of them */
        return 0;
    if (u->why == HSNAP_PYUNREAD_OBJECTS)
        snprintf(buf, n, "CPython %u.%u's objects were not read (its Python lines were): no "
                 "types, cycles or holders for this version yet (docs/python.md, \"Versions\")",
                 u->version >> 24, (u->version >> 16) & 0xff);
    else if (u->version)
        snprintf(buf, n, "CPython %u.%u was not read (%s): native frames only, no Python lines "
                 "or objects (docs/python.md, \"Versions\")", u->version >> 24,
                 (u->version >> 16) & 0xff, why[u->why]);
    else
        snprintf(buf, n, "a CPython of a version it does not say was not read: native frames "
                 "only, no Python lines or objects (docs/python.md, \"Versions\")");
    return 1;
}

int pytypes_capped_note(const struct snap *s, char *buf, size_t n)
{
    if (!s->py.capped_blocks)
        return 0;
    snprintf(buf, n, "the Python objects were not read (no types, cycles or holders): %llu live "
             "blocks, over HEAPSNAP_PYTHON_OBJECTS=%llu; raise it (HEAPSNAP_PYTHON_OBJECTS=%llu "
             "or more, docs/python.md)", (unsigned long long)s->py.capped_blocks,
             (unsigned long long)s->py.cap, (unsigned long long)s->py.capped_blocks);
    return 1;
}
