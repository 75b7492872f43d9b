/*
 * retainers.c - answers "who keeps this memory alive" from RETAINERS.
 *
 * The shim stores, per target trace, one item per source (the trace of a
 * referring block, or a kind of root) with the references it holds and the
 * reachable blocks it was first to reach.  Here items are symbolized and
 * summed per target SITE and source site (several traces share a site;
 * several snapshots are combined), then printed, biggest first:
 *
 *   list.c:5: 32 B still reachable in 2 blocks, kept alive by:
 *      module data (globals): 1 refs, first to reach 1 blocks, 16 B
 *      blocks from list.c:5: 1 refs, first to reach 1 blocks, 16 B
 *
 * "first to reach" is the marking's path: every reachable block is counted
 * once, under the reference the model followed to reach it, so those
 * columns add up to the site's reachable memory; refs counts every
 * reference, so a block kept by two owners shows under both.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cli.h"
#include "frames.h"
#include "json.h"
#include "retainers.h"

struct retainers_row {
    int kind;              /* enum hsnap_ret_kind */
    const char *source;    /* HSNAP_RET_BLOCK: the referring blocks' site */
    uint64_t refs, blocks, bytes;
};

struct retainers_target {
    const char *site;      /* hash key; owned by frames_get */
    uint64_t blocks, bytes;
    struct retainers_row *rows;
    size_t nrows, cap;
    uint32_t *slot;        /* open addressing: a row's index + 1, 0 free; by
                              (kind, source) (retainers_row_hash) */
    size_t nslot;          /* a power of two, at least twice nrows */
    UT_hash_handle hh;
};

static const char *const retainers_root_names[] = {
    NULL, "module data (globals)", "thread stacks", "thread registers",
    "thread-local storage", "registered roots", "memory the program mapped"};

static const char *base_of(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* Does the site of a trace (its name and frame) answer to the user's SITE? */
static int retainers_site_is(const char *name, const struct frame *f, const char *want)
{
    char buf[4200];
    if (!strcmp(name, want) || !strcmp(f->func, want))
        return 1;
    snprintf(buf, sizeof(buf), "%s:%d", base_of(f->file), f->line);
    return !strcmp(buf, want);
}

/* A row's place in its target's index: its kind and its source's text
 * (FNV-1a).  A site of a big Python program is kept by thousands of
 * source sites, so the rows are found by index, not by a search that
 * compared each row's source. */
static size_t retainers_row_hash(int kind, const char *source)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(unsigned)kind;
    for (const unsigned char *p = (const unsigned char *)(source ? source : ""); *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h ^ h >> 29);
}

static int retainers_row_is(const struct retainers_row *r, int kind, const char *source)
{
    return r->kind == kind && (kind != HSNAP_RET_BLOCK || !strcmp(r->source, source));
}

/* t's index made again with twice the slots; 0, or -1 (out of memory). */
static int retainers_index_grow(struct retainers_target *t)
{
    size_t n = t->nslot ? t->nslot * 2 : 16;
    uint32_t *v = calloc(n, sizeof(*v));
    if (!v)
        return -1;
    for (size_t i = 0; i < t->nrows; i++) {
        size_t k = retainers_row_hash(t->rows[i].kind, t->rows[i].source) & (n - 1);
        while (v[k])
            k = (k + 1) & (n - 1);
        v[k] = (uint32_t)i + 1;
    }
    free(t->slot);
    t->slot = v;
    t->nslot = n;
    return 0;
}

static struct retainers_row *retainers_row_get(struct retainers_target *t, int kind, const char *source)
{
    if ((t->nrows + 1) * 2 > t->nslot && (t->nrows >= UINT32_MAX - 1 || retainers_index_grow(t) < 0))
        return NULL;
    size_t k = retainers_row_hash(kind, source) & (t->nslot - 1);
    for (; t->slot[k]; k = (k + 1) & (t->nslot - 1))
        if (retainers_row_is(&t->rows[t->slot[k] - 1], kind, source))
            return &t->rows[t->slot[k] - 1];
    if (grow_array((void **)&t->rows, &t->cap, t->nrows + 1, sizeof(*t->rows)) < 0)
        return NULL;
    struct retainers_row *r = &t->rows[t->nrows++];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->source = source;
    t->slot[k] = (uint32_t)t->nrows;
    return r;
}

static struct retainers_target *retainers_target_get(struct retainers_target **all, const char *site)
{
    struct retainers_target *t;
    HASH_FIND_STR(*all, site, t);
    if (t)
        return t;
    if (!(t = calloc(1, sizeof(*t))))
        return NULL;
    t->site = site;
    HASH_ADD_KEYPTR(hh, *all, t->site, strlen(t->site), t);
    return t;
}

/* Adds snapshot k's items whose target site answers to want (all if NULL). */
static int retainers_add(const struct snap *s, const char *want, struct retainers_target **all)
{
    for (uint32_t i = 0; i < s->nretainers; i++) {
        const struct hsnap_retainer *it = &s->retainers[i];
        const struct frames_trace *to = frames_get(s, it->target_trace), *from = NULL;
        if (!to)
            return -1;
        const char *site = to->site_name, *src = NULL;
        if (want && !retainers_site_is(site, to->fr[to->site], want))
            continue;
        if (it->source_kind == HSNAP_RET_BLOCK) {
            if (!(from = frames_get(s, it->source_trace)))
                return -1;
            src = from->site_name;
        }
        struct retainers_target *t = retainers_target_get(all, site);
        struct retainers_row *r = t ? retainers_row_get(t, (int)it->source_kind, src) : NULL;
        if (!r)
            return -1;
        r->refs += it->refs;
        r->blocks += it->blocks;
        r->bytes += it->bytes;
        t->blocks += it->blocks;
        t->bytes += it->bytes;
    }
    return 0;
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

static int retainers_row_cmp(const void *pa, const void *pb)
{
    const struct retainers_row *a = pa, *b = pb;
    int c = cmp_u64(b->bytes, a->bytes);
    if (!c) c = cmp_u64(b->refs, a->refs);
    if (!c) c = a->kind - b->kind;
    return c ? c : strcmp(a->source ? a->source : "", b->source ? b->source : "");
}

static int retainers_target_cmp(const void *pa, const void *pb)
{
    const struct retainers_target *a = *(void *const *)pa, *b = *(void *const *)pb;
    int c = cmp_u64(b->bytes, a->bytes);
    return c ? c : strcmp(a->site, b->site);
}

/* py: a Python process's, whose pymalloc arenas are registered roots too */
static void retainers_print_target(struct retainers_target *t, int py, FILE *out)
{
    fprintf(out, "%s: %llu B still reachable in %llu blocks, kept alive by:\n", t->site,
            (unsigned long long)t->bytes, (unsigned long long)t->blocks);
    for (size_t i = 0; i < t->nrows; i++) {
        const struct retainers_row *r = &t->rows[i];
        if (r->kind == HSNAP_RET_BLOCK)
            fprintf(out, "   blocks from %s", r->source);
        else if (py && r->kind == HSNAP_RET_USER)
            fprintf(out, "   registered roots and pymalloc's arenas");
        else
            fprintf(out, "   %s", retainers_root_names[r->kind]);
        fprintf(out, ": %llu refs, first to reach %llu blocks, %llu B\n",
                (unsigned long long)r->refs, (unsigned long long)r->blocks,
                (unsigned long long)r->bytes);
    }
}

static void retainers_free_all(struct retainers_target *all)
{
    struct retainers_target *t, *tmp;
    HASH_ITER(hh, all, t, tmp) {
        HASH_DEL(all, t);
        free(t->rows);
        free(t->slot);
        free(t);
    }
}

/* Why s has no RETAINERS: no leak check, or one that kept none (the
 * shim's table could not be mapped or grown: out of memory; a heapsnap
 * older than the section; a merge of such a snapshot). */
static const char *retainers_absent_why(const struct snap *s)
{
    return s->lk.present ? "its leak check kept none: it ran out of memory for them, or "
                           "predates them"
                         : "written by a leak check: run with --leaks or HEAPSNAP_LEAKS=1";
}

/* The targets answering to site (all if NULL), biggest first, into *vp
 * (*np of them; the caller frees them with retainers_free_all).  0, or -1
 * with err. */
static int retainers_collect(const struct snap *snaps, char **paths, int n, const char *site,
                             struct retainers_target **allp, struct retainers_target ***vp,
                             size_t *np, char *err, size_t errlen)
{
    struct retainers_target *all = NULL, *t, *tmp;
    *allp = NULL;
    *vp = NULL;
    int any = 0;
    for (int k = 0; k < n; k++) {
        any |= snaps[k].has_retainers;
        if (!snaps[k].has_retainers && !snaps[k].py.graph) {
            snprintf(err, errlen, "%s: no retainer data in this snapshot (%s)", paths[k],
                     retainers_absent_why(&snaps[k]));
            return -1;
        }
    }
    if (!any) { /* the Python graph alone: its holders answer */
        snprintf(err, errlen, "%s: no retainer data in this snapshot (%s)", paths[0],
                 retainers_absent_why(&snaps[0]));
        return -1;
    }
    for (int k = 0; k < n; k++)
        if (snaps[k].has_retainers && retainers_add(&snaps[k], site, &all) < 0) {
            retainers_free_all(all);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    size_t nt = HASH_COUNT(all), i = 0;
    struct retainers_target **v = malloc((nt + 1) * sizeof(*v));
    if (!v || (site && nt == 0)) {
        if (v)
            snprintf(err, errlen, "--why %s: no allocation site by that name holds live "
                     "memory (give file.c:LINE as shown, or a function)", site);
        else
            snprintf(err, errlen, "out of memory");
        free(v);
        retainers_free_all(all);
        return -1;
    }
    HASH_ITER(hh, all, t, tmp) v[i++] = t;
    qsort(v, nt, sizeof(*v), retainers_target_cmp);
    for (i = 0; i < nt; i++)
        qsort(v[i]->rows, v[i]->nrows, sizeof(*v[i]->rows), retainers_row_cmp);
    *allp = all;
    *vp = v;
    *np = nt;
    return 0;
}

int retainers_print(const struct snap *snaps, char **paths, int n,
              const char *site, long limit, FILE *out, char *err, size_t errlen)
{
    struct retainers_target *all, **v;
    size_t nt;
    int py = 0;
    for (int i = 0; i < n; i++)
        py |= snaps[i].py_version != 0;
    if (retainers_collect(snaps, paths, n, site, &all, &v, &nt, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < nt && (limit <= 0 || i < (size_t)limit); i++)
        retainers_print_target(v[i], py, out);
    free(v);
    retainers_free_all(all);
    return 0;
}

int retainers_json(const struct snap *snaps, char **paths, int n, const char *site,
                   struct json *j, char *err, size_t errlen)
{
    struct retainers_target *all, **v;
    size_t nt;
    if (retainers_collect(snaps, paths, n, site, &all, &v, &nt, err, errlen) < 0)
        return -1;
    json_arr_begin(j);
    for (size_t i = 0; i < nt; i++) {
        json_obj_begin(j);
        json_kstr(j, "site", v[i]->site);
        json_ku64(j, "bytes", v[i]->bytes);
        json_ku64(j, "blocks", v[i]->blocks);
        json_key(j, "kept_by");
        json_arr_begin(j);
        for (size_t r = 0; r < v[i]->nrows; r++) {
            const struct retainers_row *row = &v[i]->rows[r];
            json_obj_begin(j);
            if (row->kind == HSNAP_RET_BLOCK)
                json_kstr(j, "blocks_from", row->source);
            else
                json_kstr(j, "root", retainers_root_names[row->kind]);
            json_ku64(j, "refs", row->refs);
            json_ku64(j, "first_to_reach_blocks", row->blocks);
            json_ku64(j, "first_to_reach_bytes", row->bytes);
            json_obj_end(j);
        }
        json_arr_end(j);
        json_obj_end(j);
    }
    json_arr_end(j);
    free(v);
    retainers_free_all(all);
    return 0;
}
