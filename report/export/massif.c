/*
 * massif.c - one process's snapshots in Valgrind massif's output format
 * (massif.out.PID), for ms_print and massif-visualizer:
 *
 *   desc: / cmd: / time_unit: ms
 *   snapshot=N  time= mem_heap_B= mem_heap_extra_B=0 mem_stacks_B=0
 *   heap_tree=empty | detailed
 *   nK: BYTES (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
 *    nK: BYTES 0xADDR: func (file:line)       one space deeper per level
 *
 * Every point of the process's heap series (prof_build: its TIMELINE
 * points, its snapshots' totals and peaks) is a massif snapshot in time order, in
 * milliseconds since the process started; those that are heapsnap
 * snapshots are detailed, with the tree massif draws: the allocation sites
 * first, then their callers, children largest first.  The peak (the
 * largest PEAK capture among the snapshots, peak_decode) is one more
 * snapshot at its own time, heap_tree=peak, as massif marks its peak:
 * ms_print draws it with '#' and prints its tree.  ms_print applies its
 * own threshold to the trees.  Frames' names come escaped (esc_text); the
 * module paths and the command line, as recorded, are escaped here, so no
 * byte of a snapshot can end a line early or reach a terminal raw.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "export.h"

struct ms_stack {
    long *ids;             /* prof_ftab numbers, from the site outward */
    int n;
    int64_t bytes;
};

struct ms {
    FILE *out;
    struct prof_ftab ft;
    struct ms_stack *st;
    size_t nst;
};

/* --- one detailed tree ------------------------------------------------------- */

static int id_at(const struct ms_stack *s, int d) { return d < s->n ? (int)s->ids[d] : -1; }

static int stack_order(const void *a, const void *b)
{
    const struct ms_stack *x = a, *y = b;
    for (int d = 0;; d++) {
        int i = id_at(x, d), j = id_at(y, d);
        if (i != j)
            return i < j ? -1 : 1;
        if (i < 0)
            return 0;
    }
}

struct ms_group {
    size_t lo, hi;         /* stacks [lo, hi) share the frame at this depth */
    int64_t bytes;
};

static int group_order(const void *a, const void *b)
{
    const struct ms_group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->lo < y->lo ? -1 : 1;
}

/* The runs of stacks [lo, hi) that have a frame at depth d and share it;
 * NULL when out of memory (*n = 0 and no runs is not an error). */
static struct ms_group *ms_groups(struct ms *m, size_t lo, size_t hi, int d, size_t *n,
                                  int *oom)
{
    struct ms_group *g = malloc((hi - lo + 1) * sizeof(*g));
    *n = 0;
    if (!g) {
        *oom = 1;
        return NULL;
    }
    for (size_t i = lo; i < hi; i++) {
        if (id_at(&m->st[i], d) < 0)
            continue;
        if (*n && g[*n - 1].hi == i && id_at(&m->st[g[*n - 1].lo], d) == id_at(&m->st[i], d)) {
            g[*n - 1].hi = i + 1;
        } else {
            g[(*n)++] = (struct ms_group){i, i + 1, 0};
        }
        struct ms_group *last = &g[*n - 1];
        last->bytes = m->st[i].bytes > INT64_MAX - last->bytes ? INT64_MAX
                                                               : last->bytes + m->st[i].bytes;
    }
    qsort(g, *n, sizeof(*g), group_order);
    return g;
}

/* s as recorded (a path, the command line), escaped (esc_text). */
static void ms_text(struct ms *m, const char *s)
{
    char *e = esc_text_needed(s) ? esc_text_dup(s) : NULL;
    fputs(e ? e : esc_text_needed(s) ? "?" : s, m->out);
    free(e);
}

static void ms_name(struct ms *m, const struct frame *f)
{
    if (frames_has_file(f)) {
        fprintf(m->out, "0x%" PRIx64 ": %s (%s:%d)\n", f->ip, f->func, f->file, f->line);
        return;
    }
    fprintf(m->out, "0x%" PRIx64 ": %s (in ", f->ip, f->func);
    ms_text(m, f->path[0] ? f->path : f->module);
    fputs(")\n", m->out);
}

/* The nodes below a node: the groups of stacks [lo, hi) at depth d. */
static int ms_children(struct ms *m, size_t lo, size_t hi, int d)
{
    int oom = 0;
    size_t n, nsub;
    struct ms_group *g = ms_groups(m, lo, hi, d, &n, &oom);
    for (size_t i = 0; !oom && i < n; i++) {
        free(ms_groups(m, g[i].lo, g[i].hi, d + 1, &nsub, &oom));
        fprintf(m->out, "%*sn%zu: %" PRId64 " ", d + 1, "", nsub, g[i].bytes);
        ms_name(m, m->ft.frames[m->st[g[i].lo].ids[d]]);
        if (!oom && ms_children(m, g[i].lo, g[i].hi, d + 1) < 0)
            oom = 1;
    }
    free(g);
    return oom ? -1 : 0;
}

/* The tree of snapshot s (live bytes per stack), massif's kind ("detailed"
 * or "peak"). */
static int ms_tree(struct ms *m, const struct snap *s, const char *kind, int64_t *total)
{
    struct prof_stack *ps;
    size_t n, nroot;
    int oom = 0;
    if (prof_sum(&s, 1, &ps, &n) < 0)
        return -1;
    m->st = calloc(n + 1, sizeof(*m->st));
    m->nst = 0;
    *total = 0;
    for (size_t i = 0; m->st && !oom && i < n; i++) {
        struct ms_stack *t = &m->st[m->nst];
        if (ps[i].v[PROF_INUSE_SPACE] <= 0)
            continue;
        m->nst++;
        t->bytes = ps[i].v[PROF_INUSE_SPACE];
        *total = t->bytes > INT64_MAX - *total ? INT64_MAX : *total + t->bytes;
        t->n = ps[i].t->n - ps[i].t->first;
        if (!(t->ids = malloc((size_t)t->n * sizeof(*t->ids))))
            oom = 1;
        for (int d = 0; !oom && d < t->n; d++)
            if ((t->ids[d] = prof_ftab_index(&m->ft, ps[i].t->fr[ps[i].t->first + d])) < 0)
                oom = 1;
    }
    if (!m->st || oom)
        goto out;
    qsort(m->st, m->nst, sizeof(*m->st), stack_order);
    free(ms_groups(m, 0, m->nst, 0, &nroot, &oom));
    fprintf(m->out, "mem_heap_B=%" PRId64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n"
                    "heap_tree=%s\n", *total, kind);
    fprintf(m->out, "n%zu: %" PRId64 " (heap allocation functions) malloc/new/new[], "
                    "--alloc-fns, etc.\n", nroot, *total);
    if (!oom && ms_children(m, 0, m->nst, 0) < 0)
        oom = 1;
out:
    oom = oom || !m->st;
    for (size_t i = 0; m->st && i < m->nst; i++)
        free(m->st[i].ids);
    free(m->st);
    m->st = NULL;
    free(ps);
    return oom ? -1 : 0;
}

/* --- the series -------------------------------------------------------------- */

static uint64_t ms_time(const struct prof *p, const struct snap *s)
{
    return s->meta.time_ns > p->t0_ns ? s->meta.time_ns - p->t0_ns : 0;
}

static int by_time(const void *a, const void *b)
{
    const struct snap *const *x = a, *const *y = b;
    uint64_t s = (*x)->meta.time_ns, t = (*y)->meta.time_ns;
    return s < t ? -1 : s > t;
}

/* The snapshot with the largest peak capture, or NULL when none has one. */
static const struct snap *ms_peak(const struct prof *p)
{
    const struct snap *best = NULL;
    for (size_t i = 0; i < p->nin; i++)
        if (p->in[i].s->has_peak && (!best || p->in[i].s->peak.bytes > best->peak.bytes))
            best = p->in[i].s;
    return best;
}

/* The peak snapshot, when its time has come before the next point at t
 * (more: another point follows); 1 when written (its time in *when), -1
 * out of memory. */
static int ms_peak_at(struct ms *m, const struct prof *p, const struct snap **pk, uint64_t t,
                      int more, size_t num, uint64_t *when)
{
    uint64_t at = (*pk)->meta.start_ns + (*pk)->peak.t_ns;
    at = at > p->t0_ns ? at - p->t0_ns : 0;
    *when = at;
    if (more && at > t)
        return 0;
    struct snap view = **pk; /* the same traces (and frames), the peak's sums */
    int64_t total;
    view.stats = (*pk)->peak_stats;
    *pk = NULL;
    fprintf(m->out, "#-----------\nsnapshot=%zu\n#-----------\ntime=%" PRIu64 "\n", num,
            at / 1000000);
    return ms_tree(m, &view, "peak", &total) < 0 ? -1 : 1;
}

/* Writes the header and every point of the series, the snapshots among them
 * detailed, and the peak. */
static int ms_series(struct ms *m, const struct prof *p, const struct snap **snaps)
{
    const struct prof_series *se = &p->series[0];
    const struct snap *s0 = p->in[0].s, *pk = ms_peak(p);
    size_t k = 0, num = 0;
    fprintf(m->out, "desc: heapsnap export of %zu snapshot%s\ncmd: ", p->nin,
            p->nin == 1 ? "" : "s");
    ms_text(m, s0->cmdline && s0->cmdline[0] ? s0->cmdline : s0->exe && s0->exe[0] ? s0->exe : "?");
    fputs("\ntime_unit: ms\n", m->out);
    for (size_t i = 0; i < se->n || k < p->nin || pk; num++) {
        int more = i < se->n || k < p->nin, r = 0;
        uint64_t next = k < p->nin ? ms_time(p, snaps[k]) : 0;
        if (i < se->n && (k >= p->nin || se->pts[i].t_ns < next))
            next = se->pts[i].t_ns;
        uint64_t at;
        if (pk && (r = ms_peak_at(m, p, &pk, next, more, num, &at)) != 0) {
            if (r < 0)
                return -1;
            if (i < se->n && se->pts[i].t_ns == at) /* the series' point of the peak */
                i++;
            continue;
        }
        int detailed = k < p->nin && (i >= se->n || ms_time(p, snaps[k]) <= se->pts[i].t_ns);
        uint64_t t = detailed ? ms_time(p, snaps[k]) : se->pts[i].t_ns;
        fprintf(m->out, "#-----------\nsnapshot=%zu\n#-----------\ntime=%" PRIu64 "\n", num,
                t / 1000000);
        if (detailed) {
            int64_t total;
            if (ms_tree(m, snaps[k++], "detailed", &total) < 0)
                return -1;
            if (i < se->n && se->pts[i].t_ns == t) /* the series has this point too */
                i++;
            continue;
        }
        fprintf(m->out, "mem_heap_B=%" PRId64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n"
                        "heap_tree=empty\n", se->pts[i++].v);
    }
    return 0;
}

int massif_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                 size_t errlen)
{
    if (p->nprocs != 1) {
        snprintf(err, errlen, "massif: the snapshots are of %d processes and a massif file "
                              "holds one (give one process's snapshots, or merge them first)",
                 p->nprocs);
        return -1;
    }
    struct ms m = {.out = out};
    const struct snap **snaps = malloc(p->nin * sizeof(*snaps));
    int rc = -1;
    if (snaps) {
        for (size_t i = 0; i < p->nin; i++)
            snaps[i] = p->in[i].s;
        qsort(snaps, p->nin, sizeof(*snaps), by_time);
        rc = ms_series(&m, p, snaps);
    }
    free(snaps);
    prof_ftab_free(&m.ft);
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    else if (ferror(out) && (rc = -1) < 0)
        snprintf(err, errlen, "cannot write");
    return rc;
}
