/*
 * pytypes.c - PYTYPES (shim/hsnap_format.h) read and checked: the types'
 * names copied out, and each object's type put on its block, found by
 * address in BLOCKS (both ascending: one merge).  An object whose address
 * BLOCKS lacks (born while the snapshot was written) is left out.
 */
#include <stdlib.h>
#include <string.h>

#include "pytypes.h"
#include "snap.h"

int pytypes_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
    struct hsnap_pytypes_head h;
    if (len < sizeof h)
        return snap_section_fail(err, errlen, "PYTYPES", "too short (%llu bytes)",
                                 (unsigned long long)len);
    memcpy(&h, p, sizeof h);
    uint64_t rest = len - sizeof h;
    if (h.nlinks > rest / sizeof(struct hsnap_pylink) ||
        h.nparents > rest / sizeof(struct hsnap_pylink) - h.nlinks)
        return snap_section_fail(err, errlen, "PYTYPES", "%llu links, %llu parents in %llu "
                                 "bytes", (unsigned long long)h.nlinks,
                                 (unsigned long long)h.nparents, (unsigned long long)len);
    rest -= (h.nlinks + h.nparents) * sizeof(struct hsnap_pylink);
    if (h.nobjects > rest / sizeof(struct hsnap_pyobj) ||
        h.ntypes > (rest - h.nobjects * sizeof(struct hsnap_pyobj)) / sizeof(struct hsnap_pytype) ||
        h.names_len != rest - h.nobjects * sizeof(struct hsnap_pyobj) -
                           (uint64_t)h.ntypes * sizeof(struct hsnap_pytype))
        return snap_section_fail(err, errlen, "PYTYPES", "%u types, %llu objects and %llu "
                                 "name bytes do not match %llu payload bytes", h.ntypes,
                                 (unsigned long long)h.nobjects,
                                 (unsigned long long)h.names_len, (unsigned long long)len);
    const struct hsnap_pyobj *o = (const void *)(p + sizeof h);
    const struct hsnap_pytype *t = (const void *)(o + h.nobjects);
    const char *names = (const char *)(t + h.ntypes);
    struct snap_pyobjs *py = &s->py;
    py->types = calloc(h.ntypes ? h.ntypes : 1, sizeof *py->types);
    py->block_type = malloc((s->nblocks ? s->nblocks : 1) * sizeof *py->block_type);
    py->block_off = calloc(s->nblocks ? s->nblocks : 1, sizeof *py->block_off);
    py->block_flags = calloc(s->nblocks ? s->nblocks : 1, sizeof *py->block_flags);
    py->block_next = malloc((s->nblocks ? s->nblocks : 1) * sizeof *py->block_next);
    py->block_parent = malloc((s->nblocks ? s->nblocks : 1) * sizeof *py->block_parent);
    py->names = malloc(h.names_len ? h.names_len : 1);
    if (!py->types || !py->block_type || !py->block_off || !py->block_flags || !py->block_next ||
        !py->block_parent || !py->names)
        return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
    py->ntypes = h.ntypes;
    for (uint32_t i = 0; i < h.ntypes; i++) {
        if (t[i].name_off > h.names_len || t[i].name_len > h.names_len - t[i].name_off)
            return snap_section_fail(err, errlen, "PYTYPES", "type %u: name past the names", i);
        if (!(py->types[i].name = strndup(names + t[i].name_off, t[i].name_len)))
            return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
        py->types[i].flags = t[i].flags;
    }
    py->graph = (h.flags & HSNAP_PYTYPES_GRAPH) != 0;
    memcpy(py->names, names, h.names_len);
    for (uint64_t i = 0; i < s->nblocks; i++) {
        py->block_type[i] = PYTYPE_NONE;
        py->block_next[i].block = py->block_parent[i].block = UINT64_MAX;
    }
    uint64_t b = 0, *at = malloc((h.nobjects ? h.nobjects : 1) * sizeof *at); /* -> block */
    if (!at)
        return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
    for (uint64_t i = 0; i < h.nobjects; i++) {
        at[i] = UINT64_MAX;
        if (o[i].type >= h.ntypes) {
            free(at);
            return snap_section_fail(err, errlen, "PYTYPES", "object %llu: type %u of %u",
                                     (unsigned long long)i, o[i].type, h.ntypes);
        }
        if (i && o[i].addr <= o[i - 1].addr) {
            free(at);
            return snap_section_fail(err, errlen, "PYTYPES",
                                     "object %llu: addresses not ascending",
                                     (unsigned long long)i);
        }
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
    const struct hsnap_pylink *l = (const void *)(names + h.names_len);
    for (uint64_t i = 0; py->graph && i < h.nlinks + h.nparents; i++) {
        if (l[i].from >= h.nobjects || l[i].to >= h.nobjects ||
            l[i].name_off > h.names_len || l[i].name_len > h.names_len - l[i].name_off) {
            free(at);
            return snap_section_fail(err, errlen, "PYTYPES", "link %llu: object %u or %u "
                                     "of %llu, or its name past the names",
                                     (unsigned long long)i, l[i].from, l[i].to,
                                     (unsigned long long)h.nobjects);
        }
        if (at[l[i].from] == UINT64_MAX || at[l[i].to] == UINT64_MAX)
            continue;
        /* a parent from a named root: the path ends there */
        int root = i >= h.nlinks && l[i].label == HSNAP_PYLABEL_ROOT;
        struct snap_pyref r = {i < h.nlinks ? at[l[i].to] : root ? UINT64_MAX : at[l[i].from],
                               l[i].label,
                               l[i].value, l[i].name_len ? py->names + l[i].name_off : NULL,
                               l[i].name_len};
        if (i < h.nlinks)
            py->block_next[at[l[i].from]] = r;
        else
            py->block_parent[at[l[i].to]] = r;
    }
    free(at);
    return 0;
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
    free(s->py.names);
    memset(&s->py, 0, sizeof s->py);
}

const char *pytypes_of_block(const struct snap *s, uint64_t i)
{
    if (!s->py.block_type || i >= s->nblocks || s->py.block_type[i] == PYTYPE_NONE)
        return NULL;
    return s->py.types[s->py.block_type[i]].name;
}
