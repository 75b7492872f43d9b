/*
 * heapprof.c - `heapsnap serve`'s /debug/pprof/heap and /allocs (serve.h):
 * one process's state as Go's net/http/pprof serves its heap profile, so
 * that go tool pprof, Parca and Pyroscope's scrapers read it unchanged.
 *
 * The export's pprof writer (pprof_write) does the encoding; this chooses
 * what Go's profile holds: the four sample types alloc_objects,
 * alloc_space, inuse_objects, inuse_space in that order, period type
 * space/bytes, no default sample type for heap and alloc_space for allocs
 * (runtime/pprof's writeHeapProto).  With ?seconds=N, as Go's delta
 * profile, every value is the later state's less the earlier one's, stack
 * by stack (live values may fall below zero); the two loads are of the
 * same process, so their stacks are merged by the frames' identity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "prof.h"
#include "serve.h"

#define HEAPPROF_GO_VALUES 4 /* alloc_objects alloc_space inuse_objects inuse_space */

/* now less base, stack by stack, into *out. */
static int heapprof_delta(const struct snap *now, const struct snap *base,
                          struct prof_stack **out, size_t *nout)
{
    struct prof_stack *a = NULL, *b = NULL, *d = NULL;
    size_t na = 0, nb = 0, nd = 0;
    const struct snap *sa[1] = {now}, *sb[1] = {base};
    int rc = -1;
    if (prof_sum(sa, 1, &a, &na) < 0 || prof_sum(sb, 1, &b, &nb) < 0)
        goto out;
    uint32_t top = 0;
    for (size_t i = 0; i < na; i++)
        top = a[i].t->shown > top ? a[i].t->shown : top;
    for (size_t j = 0; j < nb; j++)
        top = b[j].t->shown > top ? b[j].t->shown : top;
    size_t *at = calloc((size_t)top + 1, sizeof *at); /* shown -> 1 + index in d */
    if (!at || !(d = big_calloc(na + nb + 1, sizeof *d))) {
        free(at);
        goto out;
    }
    for (size_t i = 0; i < na; i++) {
        d[nd] = a[i];
        at[a[i].t->shown] = ++nd;
    }
    for (size_t j = 0; j < nb; j++) {
        if (!at[b[j].t->shown]) {
            d[nd] = b[j];
            memset(d[nd].v, 0, sizeof d[nd].v);
            at[b[j].t->shown] = ++nd;
        }
        struct prof_stack *e = &d[at[b[j].t->shown] - 1];
        for (int v = 0; v < PROF_NVALUES; v++)
            e->v[v] -= b[j].v[v];
    }
    free(at);
    *out = d;
    *nout = nd;
    d = NULL;
    rc = 0;
out:
    free(a);
    free(b);
    free(d);
    return rc;
}

int heapprof_build(const struct snap *s, const struct snap *base, int kind, uint8_t **buf,
                   size_t *len, char *err, size_t errlen)
{
    struct prof_input in[2] = {{.s = s, .path = "state", .latest = 1},
                               {.s = base, .path = "state", .latest = 0}};
    /* a delta's duration is its window (Go's delta profiles), else the process's life */
    struct prof p = {.in = in, .nin = base ? 2 : 1, .nprocs = 1,
                     .t0_ns = base ? base->meta.time_ns : s->meta.start_ns};
    struct export_opts o = {.value = PROF_INUSE_SPACE, .nvalues = HEAPPROF_GO_VALUES,
                            .default_type = kind == HEAPPROF_ALLOCS ? "alloc_space" : ""};
    char *mem = NULL;
    size_t mlen = 0;
    *buf = NULL;
    *len = 0;
    int rc = base ? heapprof_delta(s, base, &p.stacks, &p.nstacks)
                  : prof_sum((const struct snap *const[]){s}, 1, &p.stacks, &p.nstacks);
    if (rc < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    FILE *f = open_memstream(&mem, &mlen);
    if (!f) {
        free(p.stacks);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = pprof_write(&p, &o, f, err, errlen);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    free(p.stacks);
    if (rc != 0) {
        free(mem);
        return -1;
    }
    *buf = (uint8_t *)mem;
    *len = mlen;
    return 0;
}
