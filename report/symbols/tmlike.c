/*
 * tmlike.c - tracemalloc's own tables made before the shim learned its
 * hooks.  The shim flags an allocation of tracemalloc's hooks for
 * themselves (HSNAP_TRACE_TMOWN) once a pass-through call taught it the
 * hooks' ranges (pyfr_tm_see); what they allocated before, from
 * python3 -X tracemalloc's start-up to the wrap of the allocator domains,
 * is unflagged, and without debug information its frames are anonymous
 * (its tracebacks, which 3.10-3.12 leave behind at stop(), then failed a
 * gate).  The same code made both: a trace whose two innermost return
 * addresses (the allocating call in tracemalloc's C, and its caller) are
 * a flagged trace's is tracemalloc's own too.  Two, not one: the first
 * alone may be a shared helper's (_Py_hashtable_set's allocation), whose
 * caller then is tracemalloc's.
 */
#include "tmlike.h"

#include <stdlib.h>
#include <string.h>

#include "hsnap_format.h"
#include "snap.h"

struct tmlike {
    uint64_t (*pairs)[2]; /* sorted, distinct */
    size_t n;
};

static int pair_cmp(const void *pa, const void *pb)
{
    const uint64_t *a = pa, *b = pb;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return (a[1] > b[1]) - (a[1] < b[1]);
}

struct tmlike *tmlike_new(const struct snap *s)
{
    struct tmlike *tl = calloc(1, sizeof *tl);
    size_t n = 0;
    if (!tl)
        return NULL;
    for (uint32_t i = 0; i < s->ntraces; i++)
        n += (s->traces[i].flags & HSNAP_TRACE_TMOWN) && s->traces[i].depth >= 2;
    if (!n)
        return tl;
    if (!(tl->pairs = malloc(n * sizeof *tl->pairs))) {
        free(tl);
        return NULL;
    }
    for (uint32_t i = 0; i < s->ntraces; i++) {
        const struct snap_trace *t = &s->traces[i];
        if ((t->flags & HSNAP_TRACE_TMOWN) && t->depth >= 2) {
            tl->pairs[tl->n][0] = snap_ip(s, t, 0);
            tl->pairs[tl->n++][1] = snap_ip(s, t, 1);
        }
    }
    qsort(tl->pairs, tl->n, sizeof *tl->pairs, pair_cmp);
    size_t k = 0;
    for (size_t i = 0; i < tl->n; i++)
        if (!k || pair_cmp(tl->pairs[k - 1], tl->pairs[i]))
            memcpy(tl->pairs[k++], tl->pairs[i], sizeof *tl->pairs);
    tl->n = k;
    return tl;
}

int tmlike_has(const struct tmlike *tl, const struct snap *s, const struct snap_trace *t)
{
    if (!tl || !tl->n || t->depth < 2 || (t->flags & HSNAP_TRACE_TMOWN))
        return 0;
    uint64_t key[2] = {snap_ip(s, t, 0), snap_ip(s, t, 1)};
    return bsearch(key, tl->pairs, tl->n, sizeof *tl->pairs, pair_cmp) != NULL;
}

void tmlike_free(struct tmlike *tl)
{
    if (tl)
        free(tl->pairs);
    free(tl);
}
