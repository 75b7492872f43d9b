/*
 * pyretainread.c - PYRETAIN (shim/hsnap_format.h) read and checked: the
 * dominator tree the shim built over the live blocks, put on the blocks by
 * address (both ascending: one merge).  A block the section leaves out
 * retains its own size and hangs from the roots; an entry whose address
 * BLOCKS lacks (born while the snapshot was written) is left out, and what
 * it dominated then hangs from the roots too.  Objects flagged with leaked
 * references (a refcount above the pointers found to them) keep both
 * counts.  pyobjs_decode reads the primary Python sections in their
 * order; PYRETAIN is derived (snap_derived drops it whole when
 * it disagrees with BLOCKS).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pycode.h"
#include "snap.h"

int pyretain_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
    const size_t es = sizeof(struct hsnap_pyretain);
    if (len % es)
        return snap_section_fail(err, errlen, "PYRETAIN", "%llu bytes: not a whole number "
                                 "of %zu-byte entries", (unsigned long long)len, es);
    uint64_t n = len / es, nb = s->nblocks ? s->nblocks : 1;
    struct snap_pyobjs *py = &s->py;
    uint64_t *at = malloc((n ? n : 1) * sizeof *at); /* entry -> block */
    py->block_retained = big_malloc(nb * sizeof *py->block_retained);
    py->block_idom = big_malloc(nb * sizeof *py->block_idom);
    py->block_held = big_calloc(nb, 1);
    if (!at || !py->block_retained || !py->block_idom || !py->block_held) {
        free(at);
        return snap_section_fail(err, errlen, "PYRETAIN", "out of memory");
    }
    for (uint64_t i = 0; i < s->nblocks; i++) {
        py->block_retained[i] = s->blocks[i].size;
        py->block_idom[i] = UINT64_MAX;
    }
    struct hsnap_pyretain e, prev = {0};
    uint64_t b = 0;
    for (uint64_t i = 0; i < n; i++, prev = e) {
        memcpy(&e, p + i * es, es);
        const char *why = i && e.addr <= prev.addr ? "addresses not ascending"
                          : e.idom != HSNAP_PYRETAIN_ROOT && e.idom >= n ? "dominator past the entries"
                          : e.idom == i ? "its own dominator" : NULL;
        if (why) {
            free(at);
            return snap_section_fail(err, errlen, "PYRETAIN", "entry %llu: %s",
                                     (unsigned long long)i, why);
        }
        while (b < s->nblocks && s->blocks[b].addr < e.addr)
            b++;
        at[i] = UINT64_MAX;
        if (b < s->nblocks && s->blocks[b].addr == e.addr) {
            if (e.retained < s->blocks[b].size) {
                free(at);
                return snap_section_fail(err, errlen, "PYRETAIN", "entry %llu: retains %llu "
                                         "bytes, less than its own %llu", (unsigned long long)i,
                                         (unsigned long long)e.retained,
                                         (unsigned long long)s->blocks[b].size);
            }
            at[i] = b;
            py->block_retained[b] = e.retained;
            py->block_held[b] = (e.flags & HSNAP_PYRETAIN_HELD) != 0;
            if ((e.flags & HSNAP_PYRETAIN_LEAKREF) && py->block_type[b] != PYTYPE_NONE &&
                e.refs < e.refcnt) {
                if (!py->block_refcnt && (!(py->block_refcnt = big_calloc(nb, 4)) ||
                                          !(py->block_refs = big_calloc(nb, 4)))) {
                    free(at);
                    return snap_section_fail(err, errlen, "PYRETAIN", "out of memory");
                }
                py->block_refcnt[b] = e.refcnt;
                py->block_refs[b] = e.refs;
                py->leakrefs++;
            }
        }
    }
    for (uint64_t i = 0; i < n; i++) { /* the dominators, as blocks */
        memcpy(&e, p + i * es, es);
        if (at[i] != UINT64_MAX && e.idom != HSNAP_PYRETAIN_ROOT)
            py->block_idom[at[i]] = at[e.idom];
    }
    free(at);
    return 0;
}

void pyretain_drop(struct snap *s)
{
    struct snap_pyobjs *py = &s->py;
    free(py->block_retained), free(py->block_idom), free(py->block_held);
    free(py->block_refcnt), free(py->block_refs);
    py->block_retained = NULL, py->block_idom = NULL, py->block_refs = NULL;
    py->block_held = NULL, py->block_refcnt = NULL;
    py->leakrefs = 0;
}

int pyobjs_decode(struct snap *s, const uint8_t *code, uint64_t code_len, const uint8_t *types,
                  uint64_t types_len, char *err, size_t errlen)
{
    return (code && pycode_decode(s, code, code_len, err, errlen)) ||
                   (types && pytypes_decode(s, types, types_len, err, errlen))
               ? -1
               : 0;
}
