/*
 * lossrec.c - builds loss records from snapshots with a LEAKS section (see
 * lossrec.h for the kinds and the merge rule).
 *
 * A record's frames are its trace's expansion (report/frames.c), shared by
 * every record of that stack.  The model's records give the direct and
 * cycle records; one pass over BLOCKS sums the other kinds per (trace, kind)
 * before they are charged to records, so a million reachable blocks cost a
 * million additions and one hash lookup per trace.  Records are keyed by
 * kind and the stack from the allocation site outward: two traces that only
 * differ in their wrapper frames (malloc vs calloc) share a record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "leakset.h"
#include "lossrec.h"
#include "suppress.h"

const char *const lr_kind_names[LR_NKINDS] = {"direct", "indirect", "cycle", "possible",
                                              "reachable"};

struct lr_set {
    struct lr_opts o;
    struct lr_record *recs;        /* uthash by id */
    struct lr_record **shown;
    size_t nshown;
    struct lr_total sum[LR_NKINDS], suppressed;
    uint32_t unstopped;
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
    free(ls->shown);
    free(ls);
}

/* --- records ----------------------------------------------------------- */

/* The record of (kind, owned, trace), created empty when new. */
static struct lr_record *lr_record_get(struct lr_set *ls, const struct frames_trace *t,
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
    r->trace = t;
    r->frames = t->fr;
    r->nframes = t->n;
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
static int lr_ring(const struct snap *s, struct lr_record *r, const struct hsnap_leak_record *mr)
{
    r->ring_blocks = mr->nmembers;
    for (uint32_t i = 0; i < mr->nmembers && i < LR_RING_SHOWN; i++) {
        uint32_t b = lset_member(s, mr->members_off + i);
        const struct frames_trace *t = frames_get(s, s->blocks[b].trace);
        if (!t)
            return -1;
        r->ring[r->nring++] = t->site_name;
    }
    return 0;
}

static int lr_add_model(struct lr_set *ls, const struct snap *s)
{
    for (uint32_t k = 0; k < s->lk.head.nrecords; k++) {
        const struct hsnap_leak_record *mr = &s->lk.records[k];
        const struct frames_trace *t = frames_get(s, s->blocks[mr->root].trace);
        enum lr_kind kind = mr->cls == HSNAP_CLASS_CYCLE ? LR_CYCLE : LR_DIRECT;
        struct lr_record *r = t ? lr_record_get(ls, t, kind, 0) : NULL;
        if (!r)
            return -1;
        struct lr_acc a = {mr->own_bytes, mr->own_blocks, mr->ref_min, mr->ref_max};
        lr_own(r, &a);
        r->indirect_bytes += mr->indirect_bytes;
        r->indirect_blocks += mr->indirect_blocks;
        if (kind == LR_CYCLE && r->ncycles++ == 0 && lr_ring(s, r, mr) < 0)
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

static int lr_charge_accs(struct lr_set *ls, const struct snap *s, const struct lr_acc *acc)
{
    static const enum lr_kind kinds[4] = {LR_INDIRECT, LR_POSSIBLE, LR_REACHABLE, LR_CYCLE};
    for (uint32_t ti = 0; ti < s->ntraces; ti++)
        for (int k = 0; k < 4; k++) {
            const struct lr_acc *a = &acc[(size_t)ti * 4 + k];
            if (!a->blocks)
                continue;
            const struct frames_trace *t = frames_get(s, ti);
            struct lr_record *r = t ? lr_record_get(ls, t, kinds[k], k == 3) : NULL;
            if (!r)
                return -1;
            lr_own(r, a);
        }
    return 0;
}

static int lr_add_blocks(struct lr_set *ls, const struct snap *s)
{
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
    rc = lr_charge_accs(ls, s, acc);
out:
    free(member);
    free(acc);
    return rc;
}

int lr_add_snap(struct lr_set *ls, const struct snap *s, const char *path, char *err,
                size_t errlen)
{
    if (lset_require(s, path, err, errlen) < 0)
        return -1;
    if (lr_add_model(ls, s) < 0 || lr_add_blocks(ls, s) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    ls->unstopped += s->lk.head.unstopped;
    return 0;
}

/* --- filters, suppressions, order --------------------------------------- */

static int lr_kept(const struct lr_set *ls, const struct lr_record *r)
{
    return frames_kept(&ls->o.filter, r->trace);
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
