/*
 * lossrec.c - builds loss records from snapshots with a LEAKS section (see
 * lossrec.h for the kinds and the merge rule).
 *
 * Per snapshot: each trace is symbolized once, on first use, into a cached
 * frame list (strings point into the symbolizer, which ls keeps, and into
 * the snapshot, which outlives ls).  The model's records give the direct and
 * cycle records; one pass over BLOCKS sums the other kinds per (trace, kind)
 * before they are charged to records, so a million reachable blocks cost a
 * million additions and one hash lookup per trace.  Records are keyed by
 * kind and the stack from the allocation site outward: two traces that only
 * differ in their wrapper frames (malloc vs calloc) share a record.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"
#include "leakset.h"
#include "lossrec.h"
#include "stats.h"
#include "suppress.h"
#include "sym.h"

const char *const lr_kind_names[LR_NKINDS] = {"direct", "indirect", "cycle", "possible",
                                              "reachable"};

/* One trace of one snapshot, symbolized. */
struct lr_trace {
    int nframes, site;
    struct lr_frame *frames;
    char *id;        /* stack identity from the site outward */
    char *site_name;
};

/* The traces of one snapshot (ntraces of them, filled lazily). */
struct lr_cache {
    const struct snap *s;
    struct symbolizer *z;
    struct lr_trace *t;
    int *done;
};

struct lr_set {
    struct lr_opts o;
    struct lr_record *recs;        /* uthash by id */
    struct lr_record **shown;
    size_t nshown;
    struct lr_total sum[LR_NKINDS], suppressed;
    uint32_t unstopped;
    struct lr_cache *caches;
    size_t ncaches, capcaches;
    struct symbolizer **syms;      /* one per distinct module map */
    size_t nsyms, capsyms;
};

/* Sums of one (trace, kind) over BLOCKS. */
struct lr_acc {
    uint64_t bytes, blocks;
    uint32_t rmin, rmax;
};

int lr_parse_kinds(const char *list, unsigned *kinds, char *err, size_t errlen)
{
    const char *p = list;
    *kinds = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        int k, found = 0;
        for (k = 0; k < LR_NKINDS && !found; k++)
            found = strlen(lr_kind_names[k]) == n && !strncmp(p, lr_kind_names[k], n);
        if (found)
            *kinds |= LR_KIND_BIT(k - 1);
        else if (n == 3 && !strncmp(p, "all", 3))
            *kinds = LR_KINDS_ALL;
        else {
            snprintf(err, errlen, "unknown leak kind '%.*s' (direct, indirect, cycle, "
                     "possible, reachable, all)", (int)n, p);
            return -1;
        }
        p += n + (p[n] == ',');
    }
    if (!*kinds) {
        snprintf(err, errlen, "no leak kind given");
        return -1;
    }
    return 0;
}

struct lr_set *lr_new(const struct lr_opts *o)
{
    struct lr_set *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return NULL;
    ls->o = *o;
    return ls;
}

static void cache_free(struct lr_cache *c)
{
    for (uint32_t i = 0; c->t && i < c->s->ntraces; i++) {
        free(c->t[i].frames);
        free(c->t[i].id);
        free(c->t[i].site_name);
    }
    free(c->t);
    free(c->done);
}

void lr_free(struct lr_set *ls)
{
    struct lr_record *r, *tmp;
    if (!ls)
        return;
    HASH_ITER(hh, ls->recs, r, tmp) {
        HASH_DEL(ls->recs, r);
        free(r->id);
        free(r);
    }
    for (size_t i = 0; i < ls->ncaches; i++)
        cache_free(&ls->caches[i]);
    for (size_t i = 0; i < ls->nsyms; i++)
        sym_free(ls->syms[i]);
    free(ls->caches);
    free(ls->syms);
    free(ls->shown);
    free(ls);
}

/* --- symbolized traces ------------------------------------------------- */

static int lr_push(struct lr_trace *t, size_t *cap, const struct lr_frame *f)
{
    if (grow_array((void **)&t->frames, cap, (size_t)t->nframes + 1, sizeof(*t->frames)) < 0)
        return -1;
    t->frames[t->nframes++] = *f;
    return 0;
}

static int lr_frame_wrapper(const void *frames, size_t i)
{
    return ((const struct lr_frame *)frames)[i].wrapper;
}

static int lr_expand(const struct lr_set *ls, struct lr_cache *c, uint32_t ti,
                     struct lr_trace *t)
{
    static const struct sym_frame none[2] = {
        {"<unknown>", "??", 0, -1, "??", 0}, {"<unsampled>", "??", 0, -1, "??", 0}};
    const struct snap_trace *st = &c->s->traces[ti];
    size_t cap = 0;
    for (int i = 0; i < st->depth; i++) {
        const struct sym_frame *sf;
        int n = sym_lookup(c->z, st->ips[i], &sf);
        for (int j = 0; j < n; j++) {
            const char *path = sf[j].mod >= 0 ? c->s->modules[sf[j].mod].path : "";
            struct lr_frame f = {st->ips[i], sf[j].func, fmt_path(sf[j].file),
                                 sf[j].line, sf[j].module, path, stats_is_wrapper(&sf[j])};
            if (lr_push(t, &cap, &f) < 0)
                return -1;
        }
    }
    if (t->nframes == 0) {
        const struct sym_frame *sf = &none[(st->flags & HSNAP_TRACE_UNSAMPLED) != 0];
        struct lr_frame f = {0, sf->func, sf->file, 0, sf->module, "", 0};
        if (lr_push(t, &cap, &f) < 0)
            return -1;
    }
    t->site = (int)stats_site(t->frames, (size_t)t->nframes, lr_frame_wrapper);
    for (int i = t->site + 1; i < t->nframes; i++)
        t->frames[i].wrapper = 0; /* libc's start-up frames are callers, not wrappers */
    return 0;
}

/* "file.c:12", or the function when there is no source file. */
static char *lr_site_name(const struct lr_frame *f)
{
    char buf[4200];
    if (strcmp(f->file, "??") != 0)
        snprintf(buf, sizeof(buf), "%s:%d", f->file, f->line);
    else
        snprintf(buf, sizeof(buf), "%s", f->func);
    return strdup(buf);
}

static char *lr_stack_id(const struct lr_trace *t)
{
    size_t len = 1, at = 0;
    for (int i = t->site; i < t->nframes; i++)
        len += strlen(t->frames[i].file) + strlen(t->frames[i].func) +
               strlen(t->frames[i].module) + 16;
    char *id = malloc(len);
    if (!id)
        return NULL;
    id[0] = 0;
    for (int i = t->site; i < t->nframes; i++) {
        const struct lr_frame *f = &t->frames[i];
        at += (size_t)snprintf(id + at, len - at, "%s\x1f%d\x1f%s\x1f%s\x1e", f->file,
                               f->line, f->func, f->module);
    }
    return id;
}

/* The symbolized trace ti of cache c, or NULL when out of memory. */
static struct lr_trace *lr_trace_get(const struct lr_set *ls, struct lr_cache *c, uint32_t ti)
{
    struct lr_trace *t = &c->t[ti];
    if (c->done[ti])
        return t;
    if (lr_expand(ls, c, ti, t) < 0 || !(t->id = lr_stack_id(t)) ||
        !(t->site_name = lr_site_name(&t->frames[t->site])))
        return NULL;
    c->done[ti] = 1;
    return t;
}

/* --- records ----------------------------------------------------------- */

/* The record of (kind, owned, trace), created empty when new. */
static struct lr_record *lr_record_get(struct lr_set *ls, const struct lr_trace *t,
                                       enum lr_kind kind, int owned)
{
    struct lr_record *r;
    size_t len = strlen(t->id) + 3;
    char *id = malloc(len);
    if (!id)
        return NULL;
    snprintf(id, len, "%c%c%s", 'a' + kind, owned ? 'o' : '-', t->id);
    HASH_FIND(hh, ls->recs, id, len - 1, r);
    if (r) {
        free(id);
        return r;
    }
    if (!(r = calloc(1, sizeof(*r)))) {
        free(id);
        return NULL;
    }
    r->kind = kind;
    r->owned = owned;
    r->id = id;
    r->frames = t->frames;
    r->nframes = t->nframes;
    r->site = t->site;
    r->site_name = t->site_name;
    r->supp = -1;
    HASH_ADD_KEYPTR(hh, ls->recs, r->id, len - 1, r);
    return r;
}

static void lr_own(struct lr_record *r, const struct lr_acc *a)
{
    if (!r->blocks || a->rmin < r->ref_min)
        r->ref_min = a->rmin;
    if (a->rmax > r->ref_max)
        r->ref_max = a->rmax;
    r->bytes += a->bytes;
    r->blocks += a->blocks;
}

/* Names the sites of the cycle's first LR_RING_SHOWN members in r. */
static int lr_ring(const struct lr_set *ls, struct lr_cache *c, struct lr_record *r,
                   const struct hsnap_leak_record *mr)
{
    r->ring_blocks = mr->nmembers;
    for (uint32_t i = 0; i < mr->nmembers && i < LR_RING_SHOWN; i++) {
        uint32_t b = lset_member(c->s, mr->members_off + i);
        struct lr_trace *t = lr_trace_get(ls, c, c->s->blocks[b].trace);
        if (!t)
            return -1;
        r->ring[r->nring++] = t->site_name;
    }
    return 0;
}

static int lr_add_model(struct lr_set *ls, struct lr_cache *c)
{
    for (uint32_t k = 0; k < c->s->lk.head.nrecords; k++) {
        const struct hsnap_leak_record *mr = &c->s->lk.records[k];
        struct lr_trace *t = lr_trace_get(ls, c, c->s->blocks[mr->root].trace);
        enum lr_kind kind = mr->cls == HSNAP_CLASS_CYCLE ? LR_CYCLE : LR_DIRECT;
        struct lr_record *r = t ? lr_record_get(ls, t, kind, 0) : NULL;
        if (!r)
            return -1;
        struct lr_acc a = {mr->own_bytes, mr->own_blocks, mr->ref_min, mr->ref_max};
        lr_own(r, &a);
        r->indirect_bytes += mr->indirect_bytes;
        r->indirect_blocks += mr->indirect_blocks;
        if (kind == LR_CYCLE && r->ncycles++ == 0 && lr_ring(ls, c, r, mr) < 0)
            return -1;
    }
    return 0;
}

/* Slot of a block class in the per-trace sums: 0 indirect, 1 possible,
 * 2 reachable, 3 cycle blocks outside every root cycle; -1 for the rest. */
static int lr_slot(const struct hsnap_block *b, const uint8_t *member)
{
    switch (b->cls) {
    case HSNAP_CLASS_INDIRECT: return 0;
    case HSNAP_CLASS_POSSIBLE: return 1;
    case HSNAP_CLASS_REACHABLE: return 2;
    case HSNAP_CLASS_CYCLE: return member ? -1 : 3;
    }
    return -1;
}

static int lr_charge_accs(struct lr_set *ls, struct lr_cache *c, const struct lr_acc *acc)
{
    static const enum lr_kind kinds[4] = {LR_INDIRECT, LR_POSSIBLE, LR_REACHABLE, LR_CYCLE};
    for (uint32_t ti = 0; ti < c->s->ntraces; ti++)
        for (int k = 0; k < 4; k++) {
            const struct lr_acc *a = &acc[(size_t)ti * 4 + k];
            if (!a->blocks)
                continue;
            struct lr_trace *t = lr_trace_get(ls, c, ti);
            struct lr_record *r = t ? lr_record_get(ls, t, kinds[k], k == 3) : NULL;
            if (!r)
                return -1;
            lr_own(r, a);
        }
    return 0;
}

static int lr_add_blocks(struct lr_set *ls, struct lr_cache *c)
{
    const struct snap *s = c->s;
    uint8_t *member = calloc(s->nblocks ? s->nblocks : 1, 1);
    struct lr_acc *acc = calloc((size_t)s->ntraces * 4 + 1, sizeof(*acc));
    int rc = -1;
    if (!member || !acc)
        goto out;
    for (uint32_t k = 0; k < s->lk.head.nrecords; k++)
        for (uint32_t i = 0; i < s->lk.records[k].nmembers; i++)
            member[lset_member(s, s->lk.records[k].members_off + i)] = 1;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        const struct hsnap_block *b = &s->blocks[i];
        int slot = lr_slot(b, member[i] ? member : NULL);
        if (slot < 0)
            continue;
        struct lr_acc *a = &acc[(size_t)b->trace * 4 + slot];
        struct lr_acc one = {b->size, 1, b->refcount, b->refcount};
        if (!a->blocks || one.rmin < a->rmin)
            a->rmin = one.rmin;
        if (one.rmax > a->rmax)
            a->rmax = one.rmax;
        a->bytes += one.bytes;
        a->blocks++;
    }
    rc = lr_charge_accs(ls, c, acc);
out:
    free(member);
    free(acc);
    return rc;
}

static struct symbolizer *lr_symbolizer(struct lr_set *ls, const struct snap *s)
{
    for (size_t i = 0; i < ls->nsyms; i++)
        if (sym_same_map(ls->syms[i], s))
            return ls->syms[i];
    if (grow_array((void **)&ls->syms, &ls->capsyms, ls->nsyms + 1, sizeof(*ls->syms)) < 0)
        return NULL;
    struct symbolizer *z = sym_new(s);
    if (z)
        ls->syms[ls->nsyms++] = z;
    return z;
}

int lr_add_snap(struct lr_set *ls, const struct snap *s, const char *path, char *err,
                size_t errlen)
{
    if (!s->lk.present) {
        snprintf(err, errlen, "%s: no leak check in this snapshot (run with --leaks or "
                 "HEAPSNAP_LEAKS=1)", path);
        return -1;
    }
    if (grow_array((void **)&ls->caches, &ls->capcaches, ls->ncaches + 1,
                   sizeof(*ls->caches)) < 0)
        goto oom;
    struct lr_cache *c = &ls->caches[ls->ncaches];
    memset(c, 0, sizeof(*c));
    c->s = s;
    c->t = calloc(s->ntraces ? s->ntraces : 1, sizeof(*c->t));
    c->done = calloc(s->ntraces ? s->ntraces : 1, sizeof(*c->done));
    ls->ncaches++;
    if (!c->t || !c->done || !(c->z = lr_symbolizer(ls, s)) || lr_add_model(ls, c) < 0 ||
        lr_add_blocks(ls, c) < 0)
        goto oom;
    ls->unstopped += s->lk.head.unstopped;
    return 0;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    return -1;
}

/* --- filters, suppressions, order --------------------------------------- */

static int lr_frame_matches(const struct lr_frame *f, const char *pat)
{
    return !fnmatch(pat, f->file, 0) || !fnmatch(pat, f->func, 0) ||
           !fnmatch(pat, f->module, 0) || (f->path[0] && !fnmatch(pat, f->path, 0));
}

static int lr_kept(const struct lr_set *ls, const struct lr_record *r)
{
    const struct lr_frame *f = &r->frames[r->site];
    int kept = ls->o.ninclude == 0;
    for (int i = 0; i < ls->o.ninclude && !kept; i++)
        kept = lr_frame_matches(f, ls->o.include[i]);
    for (int i = 0; i < ls->o.nexclude && kept; i++)
        kept = !lr_frame_matches(f, ls->o.exclude[i]);
    return kept;
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

/* Smallest first: total bytes, blocks, kind, then the stack (stable output). */
static int lr_cmp(const void *pa, const void *pb)
{
    const struct lr_record *a = *(void *const *)pa, *b = *(void *const *)pb;
    int c = cmp_u64(a->bytes + a->indirect_bytes, b->bytes + b->indirect_bytes);
    if (!c) c = cmp_u64(a->blocks, b->blocks);
    if (!c) c = (int)a->kind - (int)b->kind;
    return c ? c : strcmp(a->id, b->id);
}

static void lr_reverse(struct lr_record **v, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        struct lr_record *t = v[i];
        v[i] = v[n - 1 - i];
        v[n - 1 - i] = t;
    }
}

int lr_finish(struct lr_set *ls)
{
    struct lr_record *r, *tmp;
    size_t n = 0;
    free(ls->shown);
    ls->shown = malloc((HASH_COUNT(ls->recs) + 1) * sizeof(*ls->shown));
    if (!ls->shown)
        return -1;
    memset(ls->sum, 0, sizeof(ls->sum));
    memset(&ls->suppressed, 0, sizeof(ls->suppressed));
    HASH_ITER(hh, ls->recs, r, tmp) {
        r->index = 0;
        if (!lr_kept(ls, r))
            continue;
        r->supp = ls->o.supp && (!ls->o.supp_kinds || ls->o.supp_kinds & LR_KIND_BIT(r->kind))
                      ? supp_match(ls->o.supp, r->kind, r->frames, r->nframes, r->site) : -1;
        struct lr_total *t = r->supp >= 0 ? &ls->suppressed : &ls->sum[r->kind];
        t->bytes += r->bytes;
        t->blocks += r->blocks;
        if (r->supp >= 0)
            supp_charge(ls->o.supp, r->supp, r->bytes, r->blocks);
        else if (ls->o.kinds & LR_KIND_BIT(r->kind))
            ls->shown[n++] = r;
    }
    qsort(ls->shown, n, sizeof(*ls->shown), lr_cmp);
    size_t skip = ls->o.limit > 0 && (size_t)ls->o.limit < n ? n - (size_t)ls->o.limit : 0;
    memmove(ls->shown, ls->shown + skip, (n - skip) * sizeof(*ls->shown));
    ls->nshown = n - skip;
    if (ls->o.largest_first)
        lr_reverse(ls->shown, ls->nshown);
    for (size_t i = 0; i < ls->nshown; i++)
        ls->shown[i]->index = (int)i + 1;
    return 0;
}

struct lr_record *const *lr_shown(const struct lr_set *ls, size_t *n)
{
    *n = ls->nshown;
    return ls->shown;
}

const struct lr_total *lr_summary(const struct lr_set *ls, struct lr_total *suppressed)
{
    if (suppressed)
        *suppressed = ls->suppressed;
    return ls->sum;
}

uint32_t lr_unstopped(const struct lr_set *ls) { return ls->unstopped; }

struct lr_record *lr_all(const struct lr_set *ls) { return ls->recs; }

const char *lr_site_of(struct lr_set *ls, size_t snap, uint32_t ti,
                       const struct lr_frame **site)
{
    struct lr_trace *t = lr_trace_get(ls, &ls->caches[snap], ti);
    if (t && site)
        *site = &t->frames[t->site];
    return t ? t->site_name : NULL;
}
