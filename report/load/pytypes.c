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
    if (!py->types || !py->block_type || !py->block_off)
        return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
    py->ntypes = h.ntypes;
    for (uint32_t i = 0; i < h.ntypes; i++) {
        if (t[i].name_off > h.names_len || t[i].name_len > h.names_len - t[i].name_off)
            return snap_section_fail(err, errlen, "PYTYPES", "type %u: name past the names", i);
        if (!(py->types[i].name = strndup(names + t[i].name_off, t[i].name_len)))
            return snap_section_fail(err, errlen, "PYTYPES", "out of memory");
        py->types[i].flags = t[i].flags;
    }
    for (uint64_t i = 0; i < s->nblocks; i++)
        py->block_type[i] = PYTYPE_NONE;
    uint64_t b = 0;
    for (uint64_t i = 0; i < h.nobjects; i++) {
        if (o[i].type >= h.ntypes)
            return snap_section_fail(err, errlen, "PYTYPES", "object %llu: type %u of %u",
                                     (unsigned long long)i, o[i].type, h.ntypes);
        if (i && o[i].addr <= o[i - 1].addr)
            return snap_section_fail(err, errlen, "PYTYPES",
                                     "object %llu: addresses not ascending",
                                     (unsigned long long)i);
        while (b < s->nblocks && s->blocks[b].addr < o[i].addr)
            b++;
        if (b < s->nblocks && s->blocks[b].addr == o[i].addr) {
            py->block_type[b] = o[i].type;
            py->block_off[b] = o[i].offset;
            py->nobjects++;
        }
    }
    return 0;
}

void pytypes_free(struct snap *s)
{
    for (uint32_t i = 0; s->py.types && i < s->py.ntypes; i++)
        free(s->py.types[i].name);
    free(s->py.types);
    free(s->py.block_type);
    free(s->py.block_off);
    memset(&s->py, 0, sizeof s->py);
}

const char *pytypes_of_block(const struct snap *s, uint64_t i)
{
    if (!s->py.block_type || i >= s->nblocks || s->py.block_type[i] == PYTYPE_NONE)
        return NULL;
    return s->py.types[s->py.block_type[i]].name;
}
