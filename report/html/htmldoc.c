/*
 * htmldoc.c - the page `heapsnap html` writes (report/commands/html.c): one
 * self-contained page (no network: the script and style sheet are embedded
 * in the CLI by report/html/assets.S and written inline, and a
 * Content-Security-Policy forbids every fetch) with a flame graph, memory
 * over time (heap, RSS and the largest sites: report/model/prof.c's
 * series), the top table (and by Python type, with PYTYPES), the diff of
 * the earliest and latest snapshots of one program, the leak check and who
 * holds the Python objects.
 *
 * The page is three parts: the style sheet, the data, and the script that
 * draws it (report/html/: page.js, fold.js, leaks.js, timeline.js, calls.js,
 * sizes.js).  The data
 * is one JSON document inside <script type="application/json">, written
 * HTML-safe (json.c: no '<', '>' or '&' survives, so no "</script>" or "<!--"
 * can end or bend it, and the browser never runs it); the script reads it
 * with JSON.parse and builds the DOM with textContent, so a name from a
 * program (a C++ template, a hostile file name) is only ever text.  The data
 * holds stacks aggregated per distinct stack (report/model/prof.h), never per
 * block, so a snapshot of a million blocks makes a page of its traces' size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "json.h"
#include "lossrec.h"
#include "pycollected.h"
#include "pyretained.h"
#include "pyholders.h"
#include "pypath.h"
#include "retainers.h"
#include "stats.h"

extern const char html_page_js[], html_page_css[], html_fold_js[], html_leaks_js[],
    html_timeline_js[], html_calls_js[], html_sizes_js[];

/* --- stacks, frames and the timeline ------------------------------------------ */

struct html_seq {
    const uint32_t *ids;
    const size_t *off;
};

/* Stacks in the order of their frame numbers, outermost first: a stack
 * comes before those it is a prefix of, and stacks that share a prefix
 * are next to each other. */
static int html_seq_cmp(const void *a, const void *b, void *ctx)
{
    const struct html_seq *q = ctx;
    size_t i = *(const size_t *)a, k = *(const size_t *)b;
    size_t la = q->off[i + 1] - q->off[i], lb = q->off[k + 1] - q->off[k];
    for (size_t d = 0; d < la && d < lb; d++)
        if (q->ids[q->off[i] + d] != q->ids[q->off[k] + d])
            return q->ids[q->off[i] + d] < q->ids[q->off[k] + d] ? -1 : 1;
    return la < lb ? -1 : la > lb;
}

static void html_values(struct json *j)
{
    json_key(j, "values");
    json_arr_begin(j);
    for (int v = 0; v < PROF_NVALUES; v++) {
        json_obj_begin(j);
        json_kstr(j, "name", prof_values[v].name);
        json_kstr(j, "title", prof_values[v].title);
        json_kstr(j, "unit", prof_values[v].unit);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void html_frames(struct json *j, const struct prof_ftab *ft)
{
    json_key(j, "frames"); /* [function, file ("" without one), line, module] */
    json_arr_begin(j);
    for (size_t i = 0; i < ft->n; i++) {
        const struct frame *f = ft->frames[i];
        json_arr_begin(j);
        json_str(j, f->func);
        json_str(j, frames_has_file(f) ? f->file : "");
        json_i64(j, f->line);
        json_str(j, f->module);
        json_arr_end(j);
    }
    json_arr_end(j);
}

/* "stacks": [[shared, [frames], [values]]...] in html_seq_cmp's order: each
 * stack's frames (outermost first) are the first `shared` of the previous
 * stack's, then its own; so the page builds the tree in one pass, and a
 * program with many similar stacks makes a small page. */
static int html_stacks(struct json *j, const struct prof *p)
{
    struct prof_ftab ft = {0};
    struct html_seq q;
    size_t *order = malloc((p->nstacks + 1) * sizeof(*order));
    uint32_t *ids = NULL;
    size_t *off = NULL;
    if (!order || prof_ftab_number(&ft, p->stacks, p->nstacks, &ids, &off) < 0) {
        free(order);
        prof_ftab_free(&ft);
        return -1;
    }
    q.ids = ids;
    q.off = off;
    for (size_t i = 0; i < p->nstacks; i++)
        order[i] = i;
    qsort_r(order, p->nstacks, sizeof(*order), html_seq_cmp, &q);
    html_values(j);
    json_key(j, "stacks");
    json_arr_begin(j);
    for (size_t k = 0, prev = 0; k < p->nstacks; k++) {
        size_t i = order[k], shared = 0, n = off[i + 1] - off[i];
        while (k && shared < n && shared < off[prev + 1] - off[prev] &&
               ids[off[i] + shared] == ids[off[prev] + shared])
            shared++;
        json_arr_begin(j);
        json_u64(j, shared);
        json_arr_begin(j);
        for (size_t d = shared; d < n; d++)
            json_i64(j, ids[off[i] + d]);
        json_arr_end(j);
        json_arr_begin(j);
        for (int v = 0; v < PROF_NVALUES; v++)
            json_i64(j, p->stacks[i].v[v]);
        json_arr_end(j);
        json_arr_end(j);
        prev = i;
    }
    json_arr_end(j);
    html_frames(j, &ft);
    prof_ftab_free(&ft);
    free(ids);
    free(off);
    free(order);
    return 0;
}

static void html_series(struct json *j, const struct prof *p)
{
    json_key(j, "series"); /* kind, label, proc, t (ms since the first start), v */
    json_arr_begin(j);
    for (size_t i = 0; i < p->nseries; i++) {
        const struct prof_series *se = &p->series[i];
        json_obj_begin(j);
        json_kstr(j, "kind", se->kind);
        json_kstr(j, "label", se->label);
        json_ki64(j, "proc", se->proc);
        json_key(j, "t");
        json_arr_begin(j);
        for (size_t k = 0; k < se->n; k++)
            json_u64(j, se->pts[k].t_ns / 1000000);
        json_arr_end(j);
        json_key(j, "v");
        json_arr_begin(j);
        for (size_t k = 0; k < se->n; k++)
            json_i64(j, se->pts[k].v);
        json_arr_end(j);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_key(j, "snapshots");
    json_arr_begin(j);
    for (size_t i = 0; i < p->nin; i++) {
        const struct snap *s = p->in[i].s;
        json_obj_begin(j);
        json_kstr(j, "path", p->in[i].path);
        json_ku64(j, "pid", s->meta.pid);
        json_ki64(j, "series", p->in[i].proc);
        json_ku64(j, "t", s->meta.time_ns > p->t0_ns ? (s->meta.time_ns - p->t0_ns) / 1000000 : 0);
        json_ku64(j, "bytes", s->meta.current_bytes);
        json_ku64(j, "blocks", s->meta.live_blocks);
        json_ku64(j, "peak", s->meta.peak_bytes);
        if (s->has_peak) { /* the capture: when (ms since the first start), how much */
            uint64_t at = s->meta.start_ns + s->peak.t_ns;
            json_ku64(j, "peak_t", at > p->t0_ns ? (at - p->t0_ns) / 1000000 : 0);
            json_ku64(j, "peak_held", s->peak.bytes);
        }
        json_kbool(j, "latest", p->in[i].latest);
        json_kbool(j, "leaks", s->lk.present);
        char note[128];
        if (snap_attached_note(s, note, sizeof(note)))
            json_kstr(j, "attached", note);
        json_obj_end(j);
    }
    json_arr_end(j);
}

/* --- the top table and the diff ---------------------------------------------- */

/* The tables' views: at exit or at the peak; in a Python process, by
 * Python line (Python frames only) or by native line. */
enum { VIEW_PEAK = 1, VIEW_NATIVE = 2, VIEW_FOLD = 4 }; /* VIEW_FOLD: pyfold_site */

/* stats over snaps[i] for the i with want[i] (NULL: all), key lineno, in
 * view (VIEW_* bits). */
static struct stats *html_stats(const struct prof *p, const int *want, int view, char *err,
                                size_t errlen)
{
    struct stats_opts so;
    memset(&so, 0, sizeof(so));
    so.key = KEY_LINENO;
    so.kind = prof_get_kind(); /* --kind */
    so.peak = (view & VIEW_PEAK) != 0;
    so.native_site = (view & VIEW_NATIVE) != 0;
    so.python_only = !so.native_site;
    so.fold = (view & VIEW_FOLD) != 0;
    struct stats *st = stats_new(&so);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < p->nin; i++)
        if ((!want || want[i]) && stats_add_snap(st, p->in[i].s, p->in[i].path, err, errlen) < 0) {
            stats_free(st);
            return NULL;
        }
    return st;
}

static int html_rows(struct json *j, struct stats *st, int diff, long rows,
                     const struct pyretained_sum *ret, uint32_t nret)
{
    size_t n;
    struct stat_entry **v = stats_sort(st, diff, &n);
    if (!v)
        return -1;
    json_arr_begin(j);
    for (size_t i = 0; i < n && (rows == 0 || (long)i < rows); i++) {
        const struct stat_entry *e = v[i];
        char site[4400];
        stats_key(KEY_LINENO, e, site, sizeof(site));
        json_obj_begin(j);
        json_kstr(j, "site", site);
        json_kstr(j, "func", e->frames[e->head]->func);
        json_ki64(j, "size", e->size);
        json_ki64(j, "count", e->count);
        for (uint32_t k = 0; k < nret; k++) /* PYRETAIN: what the group retains */
            if (ret[k].e == e) {
                json_ku64(j, "retained", ret[k].retained);
                break;
            }
        if (diff) {
            json_ki64(j, "size_diff", e->size_diff);
            json_ki64(j, "count_diff", e->count_diff);
        }
        json_obj_end(j);
    }
    json_arr_end(j);
    return 0;
}

/* The top table of the latest snapshots in view under key; -1 with err. */
static int html_top(struct json *j, const char *key, const struct prof *p, const int *want,
                    int view, long rows, char *err, size_t errlen)
{
    struct stats *top = html_stats(p, want, view, err, errlen);
    if (!top)
        return -1;
    /* the retained sizes, when the snapshots have them (not at the peak) */
    const struct snap *in[64];
    int nin = 0;
    for (size_t i = 0; i < p->nin && nin < 64 && !(view & VIEW_PEAK); i++)
        if ((!want || want[i]) && p->in[i].s->py.block_retained)
            in[nin++] = p->in[i].s;
    struct pyretained_sum *ret = NULL;
    uint32_t nret = 0;
    int rc = nin ? pyretained_groups(top, stats_opts(top), in, nin, &ret, &nret) : 0;
    json_key(j, key);
    if (rc == 0)
        rc = html_rows(j, top, 0, rows, ret, nret);
    free(ret);
    stats_free(top);
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* 1 when the snapshots were written by a Python process. */
static int html_python(const struct prof *p)
{
    for (size_t i = 0; i < p->nin; i++)
        if (p->in[i].s->npycodes)
            return 1;
    return 0;
}

/* "top" (and "top_native" and "top_folded" for Python), "top_peak"
 * ("top_peak_native", "top_peak_folded") when every latest snapshot
 * captured its peak. */
static int html_tops(struct json *j, const struct prof *p, const int *want, int py, long rows,
                     char *err, size_t errlen)
{
    static const char *const keys[] = {"top", "top_peak", "top_native", "top_peak_native",
                                       "top_folded", "top_peak_folded"};
    int peak = 1;
    for (size_t i = 0; i < p->nin; i++)
        peak = peak && (!want[i] || p->in[i].s->has_peak);
    for (int view = 0; view < 6; view++)
        if ((!(view & VIEW_PEAK) || peak) && (!(view & (VIEW_NATIVE | VIEW_FOLD)) || py) &&
            html_top(j, keys[view], p, want, view, rows, err, errlen) < 0)
            return -1;
    return 0;
}

/* "top_types": the latest snapshots' live blocks by Python type (as
 * `top --key type`), when every one has PYTYPES; null otherwise. */
static int html_types(struct json *j, const struct prof *p, const int *want, long rows,
                      char *err, size_t errlen)
{
    struct stats_opts so;
    memset(&so, 0, sizeof(so));
    so.key = KEY_TYPE;
    so.kind = prof_get_kind();
    json_key(j, "top_types");
    int typed = 1;
    for (size_t i = 0; i < p->nin; i++)
        typed = typed && (!want[i] || p->in[i].s->py.block_type);
    struct stats *st = typed ? stats_new(&so) : NULL;
    if (!typed) {
        json_null(j);
        return 0;
    }
    for (size_t i = 0; st && i < p->nin; i++)
        if (want[i] && stats_add_snap(st, p->in[i].s, p->in[i].path, err, errlen) < 0) {
            stats_free(st);
            return -1;
        }
    size_t n;
    struct stat_entry **v = st ? stats_sort(st, 0, &n) : NULL;
    if (!v) {
        stats_free(st);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_arr_begin(j);
    for (size_t i = 0; i < n && (rows == 0 || (long)i < rows); i++) {
        json_obj_begin(j);
        json_kstr(j, "type", v[i]->type);
        json_ki64(j, "size", v[i]->size);
        json_ki64(j, "count", v[i]->count);
        json_obj_end(j);
    }
    json_arr_end(j);
    stats_free(st);
    return 0;
}

/* The snapshots the page's diff compares: the latest (*last), and the
 * earliest of the same program (*first): a diff across programs (a shell
 * and the tools it ran) compares unrelated heaps, so none is offered then
 * (*first == *last).  In time; the order given breaks ties. */
static void html_diff_pair(const struct prof *p, size_t *first, size_t *last)
{
    *last = 0;
    for (size_t i = 1; i < p->nin; i++)
        if (p->in[i].s->meta.time_ns >= p->in[*last].s->meta.time_ns)
            *last = i;
    *first = *last;
    for (size_t i = 0; i < p->nin; i++)
        if (!strcmp(p->in[i].s->exe, p->in[*last].s->exe) &&
            p->in[i].s->meta.time_ns < p->in[*first].s->meta.time_ns)
            *first = i;
}

/* "diff": the rows of snapshot last against first (native and folded
 * views too in a Python profile); want is scratch of p->nin.  0, or -1
 * with err. */
static int html_diff(struct json *j, const struct prof *p, int *want, int py, size_t first,
                     size_t last, long rows, char *err, size_t errlen)
{
    struct stats *old = NULL, *cur = NULL, *nold = NULL, *ncur = NULL, *fold = NULL, *fcur = NULL;
    int rc = -1;
    memset(want, 0, p->nin * sizeof(*want));
    want[first] = 1;
    if (!(old = html_stats(p, want, 0, err, errlen)) ||
        (py && !(nold = html_stats(p, want, VIEW_NATIVE, err, errlen))) ||
        (py && !(fold = html_stats(p, want, VIEW_FOLD, err, errlen))))
        goto out;
    want[first] = 0;
    want[last] = 1;
    if (!(cur = html_stats(p, want, 0, err, errlen)) ||
        (py && !(ncur = html_stats(p, want, VIEW_NATIVE, err, errlen))) ||
        (py && !(fcur = html_stats(p, want, VIEW_FOLD, err, errlen))))
        goto out;
    if (stats_compare(cur, old) < 0 ||
        (py && (stats_compare(ncur, nold) < 0 || stats_compare(fcur, fold) < 0)))
        goto oom;
    json_obj_begin(j);
    json_kstr(j, "old", p->in[first].path);
    json_kstr(j, "new", p->in[last].path);
    json_key(j, "rows");
    if (html_rows(j, cur, 1, rows, NULL, 0) < 0)
        goto oom;
    if (py) {
        json_key(j, "rows_native");
        if (html_rows(j, ncur, 1, rows, NULL, 0) < 0)
            goto oom;
        json_key(j, "rows_folded");
        if (html_rows(j, fcur, 1, rows, NULL, 0) < 0)
            goto oom;
    }
    json_obj_end(j);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    stats_free(old);
    stats_free(cur);
    stats_free(nold);
    stats_free(ncur);
    stats_free(fold);
    stats_free(fcur);
    return rc;
}

static int html_tables(struct json *j, const struct prof *p, long rows, char *err,
                       size_t errlen)
{
    int *want = calloc(p->nin + 1, sizeof(*want));
    int rc = -1, py = html_python(p);
    size_t first = 0, last = 0;
    if (!want) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_kbool(j, "python", py);
    for (size_t i = 0; i < p->nin; i++)
        want[i] = p->in[i].latest;
    if (html_tops(j, p, want, py, rows, err, errlen) < 0 ||
        html_types(j, p, want, rows, err, errlen) < 0 ||
        gcfreed_html(j, p, want, rows, prof_get_kind(), err, errlen) < 0)
        goto out;
    json_key(j, "diff");
    if (p->nin >= 2)
        html_diff_pair(p, &first, &last);
    if (first == last) { /* one snapshot, or no earlier one of the same program */
        json_null(j);
        rc = 0;
    } else
        rc = html_diff(j, p, want, py, first, last, rows, err, errlen);
out:
    free(want);
    return rc;
}

/* --- the leak check ------------------------------------------------------------- */

static void html_record(struct json *j, const struct lossrec_record *r)
{
    json_obj_begin(j);
    json_kstr(j, "kind", lossrec_kind_names[r->kind]);
    json_kbool(j, "owned", r->owned);
    json_ku64(j, "bytes", r->bytes);
    json_ku64(j, "blocks", r->blocks);
    json_ku64(j, "indirect_bytes", r->indirect_bytes);
    json_ku64(j, "indirect_blocks", r->indirect_blocks);
    json_kstr(j, "site", r->site_name);
    json_key(j, "stack"); /* from the site outward: [function, file, line, module] */
    json_arr_begin(j);
    for (int i = r->first; i < r->nframes; i++) {
        json_arr_begin(j);
        const struct frame *f = r->frames[i];
        json_str(j, f->func);
        json_str(j, frames_has_file(f) ? f->file : "");
        json_i64(j, f->line);
        json_str(j, f->module);
        json_arr_end(j);
    }
    json_arr_end(j);
    json_ku64(j, "ring_blocks", r->ring_blocks);
    json_key(j, "ring");
    json_arr_begin(j);
    for (int i = 0; i < r->nring; i++)
        json_str(j, r->ring[i]);
    json_arr_end(j);
    json_obj_end(j);
}

/* Who retains the most reachable memory, as `top --retainers` prints it;
 * NULL when the snapshots hold no retainer data. */
static char *html_retainers(const struct snap *snaps, char **paths, int n)
{
    char *text = NULL, why[512];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    int rc = retainers_print(snaps, paths, n, NULL, 10, f, why, sizeof(why));
    if (fclose(f) != 0 || rc < 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int html_leaks(struct json *j, const struct prof *p, long rows, char *err,
                      size_t errlen)
{
    struct lossrec_opts lo = {.kinds = LOSSREC_KINDS_ALL & ~LOSSREC_KIND_BIT(LOSSREC_REACHABLE),
                         .limit = rows};
    struct snap *lk = calloc(p->nin + 1, sizeof(*lk)); /* copies: lossrec reads them */
    char **paths = calloc(p->nin + 1, sizeof(*paths));
    struct lossrec_set *ls = lossrec_new(&lo);
    int n = 0, rc = -1;
    json_key(j, "leaks");
    if (!lk || !paths || !ls)
        goto oom;
    for (size_t i = 0; i < p->nin; i++)
        if (p->in[i].latest && p->in[i].s->lk.present) {
            lk[n] = *p->in[i].s;
            paths[n] = (char *)p->in[i].path;
            if (lossrec_add_snap(ls, &lk[n], paths[n], err, errlen) < 0)
                goto out;
            n++;
        }
    if (n == 0) {
        json_null(j);
        rc = 0;
        goto out;
    }
    if (lossrec_finish(ls) < 0)
        goto oom;
    size_t nshown;
    struct lossrec_total supp;
    struct lossrec_record *const *v = lossrec_shown(ls, &nshown);
    const struct lossrec_total *sum = lossrec_summary(ls, &supp);
    json_obj_begin(j);
    json_key(j, "summary");
    json_obj_begin(j);
    struct lossrec_total rt = lossrec_runtime(ls);
    for (int k = 0; k <= LOSSREC_NKINDS + 1; k++) { /* the words and order of leaks' summary */
        const struct lossrec_total *t = k < LOSSREC_NKINDS ? &sum[k] : k == LOSSREC_NKINDS ? &rt : &supp;
        json_key(j, k < LOSSREC_NKINDS ? lossrec_kind_words[k] : k == LOSSREC_NKINDS ? "runtime" : "suppressed");
        json_arr_begin(j);
        json_u64(j, t->bytes);
        json_u64(j, t->blocks);
        json_arr_end(j);
    }
    json_obj_end(j);
    json_key(j, "records");
    json_arr_begin(j);
    for (size_t i = 0; i < nshown; i++)
        html_record(j, v[i]);
    json_arr_end(j);
    char *ret = html_retainers(lk, paths, n);
    json_kstr(j, "retainers", ret);
    free(ret);
    json_obj_end(j);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    lossrec_free(ls);
    free(lk);
    free(paths);
    return rc;
}

/* Who holds the Python objects of the latest snapshots (pypath.h), by
 * type: the text `top --retainers --key type` prints; null without a graph. */
static int html_pyretainers(struct json *j, const struct prof *p)
{
    char *text = NULL;
    size_t len = 0;
    int any = 0;
    json_key(j, "python_retainers");
    for (size_t i = 0; i < p->nin; i++)
        any |= p->in[i].latest && p->in[i].s->py.graph;
    FILE *f = any ? open_memstream(&text, &len) : NULL;
    for (size_t i = 0; f && i < p->nin; i++)
        if (p->in[i].latest && pyholders_by_type(p->in[i].s, 1, 10, f, NULL) < 0)
            break;
    if (f && fclose(f) != 0) {
        free(text);
        return -1;
    }
    json_str(j, text && len ? text : NULL);
    free(text);
    return 0;
}

/* --- the size histogram ------------------------------------------------------- */

/* "sizes": the latest snapshots' live blocks by power-of-two size class, as
 * heaptrack's histogram: [[low bound (0, 1, 2, 4, ...), blocks, bytes]...],
 * the classes that hold a block, smallest first; null when a snapshot holds
 * no blocks (HEAPSNAP_BLOCKS=0).  Class k > 0 holds sizes [2^(k-1), 2^k). */
static void html_sizes(struct json *j, const struct prof *p)
{
    uint64_t n[65] = {0}, bytes[65] = {0};
    int any = 0, all = 1, kind = prof_get_kind();
    json_key(j, "sizes");
    for (size_t i = 0; i < p->nin; i++) {
        const struct snap *s = p->in[i].s;
        if (!p->in[i].latest)
            continue;
        all = all && s->blocks;
        for (uint64_t b = 0; s->blocks && b < s->nblocks; b++) {
            uint64_t z = s->blocks[b].size;
            if (!snap_kind_kept(kind, s, s->blocks[b].trace))
                continue;
            int k = z ? 64 - __builtin_clzll(z) : 0;
            n[k]++;
            bytes[k] += z;
            any = 1;
        }
    }
    if (!any || !all) {
        json_null(j);
        return;
    }
    json_arr_begin(j);
    for (int k = 0; k < 65; k++)
        if (n[k]) {
            json_arr_begin(j);
            json_u64(j, k ? 1ull << (k - 1) : 0);
            json_u64(j, n[k]);
            json_u64(j, bytes[k]);
            json_arr_end(j);
        }
    json_arr_end(j);
}

/* --- the page --------------------------------------------------------------------- */

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>heapsnap report</title>\n<style>\n";

static const char html_body[] =
    "</style>\n</head>\n<body>\n"
    "<noscript>This report draws itself with JavaScript.</noscript>\n"
    "<script type=\"application/json\" id=\"heapsnap-data\">";

int html_page(FILE *out, const struct prof *p, long rows, int all_frames, char *err,
              size_t errlen)
{
    struct json j;
    fputs(html_head, out);
    fputs(html_page_css, out);
    fputs(html_body, out);
    json_init_compact(&j, out, 1);
    json_obj_begin(&j);
    json_ki64(&j, "version", 1);
    json_kstr(&j, "exe", p->in[0].s->exe && p->in[0].s->exe[0] ? p->in[0].s->exe : "?");
    json_ki64(&j, "processes", p->nprocs);
    json_kbool(&j, "all_frames", all_frames);
    if (html_stacks(&j, p) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    html_series(&j, p);
    if (html_tables(&j, p, rows, err, errlen) < 0 || html_leaks(&j, p, rows, err, errlen) < 0)
        return -1;
    html_sizes(&j, p);
    if (html_pyretainers(&j, p) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_obj_end(&j);
    fputs("</script>\n<script>\n", out);
    fputs(html_fold_js, out);     /* heapsnapFold, which page.js calls */
    fputs(html_leaks_js, out);    /* heapsnapLeaks, which page.js calls */
    fputs(html_timeline_js, out); /* heapsnapTimeline, which page.js calls */
    fputs(html_calls_js, out);    /* heapsnapCalls, which page.js calls */
    fputs(html_sizes_js, out);    /* heapsnapSizes, which page.js calls */
    fputs(html_page_js, out);
    fputs("</script>\n</body>\n</html>\n", out);
    if (ferror(out)) {
        snprintf(err, errlen, "cannot write");
        return -1;
    }
    return 0;
}
