/*
 * lossrec.c - builds loss records from snapshots with a LEAKS section (see
 * lossrec.h for the kinds and the merge rule).
 *
 * A record's frames are its trace's expansion (frames_get), shared by
 * every record of that stack.  The model's records give the direct and
 * cycle records; one pass over BLOCKS sums the other kinds per (trace, kind)
 * before they are charged to records (a kind only summed, to its total), so
 * a million reachable blocks cost a million additions and one hash lookup
 * per trace.  Records are keyed by
 * kind and the stack from the allocation site outward: two traces that only
 * differ in their wrapper frames (malloc vs calloc) share a record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hashfn.h"
#include "hidx.h"
#include "framerec.h"
#include "identrank.h"
#include "lset.h"
#include "lossrec.h"
#include "progress.h"
#include "supp.h"

const char *const lossrec_kind_names[LOSSREC_NKINDS] = {"direct", "indirect", "cycle", "possible",
                                              "reachable"};
const char *const lossrec_kind_words[LOSSREC_NKINDS] = {"direct", "indirect", "cycle",
                                                        "possibly lost", "still reachable"};

struct lossrec_set {
    struct lossrec_opts o;
    /* The records in the order made, and by key: a C program's snapshot
     * with 719,822 indirect blocks makes as many records under --kinds
     * all, whose uthash chains cost a cache miss a record at each look-up
     * (hidx.h). */
    struct lossrec_record **recs;
    size_t nrecs, caprecs;
    struct hidx bykey;
    unsigned char *scratch;             /* a key being looked up */
    size_t capscratch;
    struct identrank ir;                /* lossrec_finish's order of the stacks */
    struct lossrec_record **shown;
    size_t nshown;
    size_t nranked;           /* records before -n kept the nshown largest */
    struct lossrec_group *groups; /* by_site: the records' sites, largest first */
    size_t ngroups;           /* of them kept by -n */
    size_t ngroups_all;       /* before -n */
    struct lossrec_total sum[LOSSREC_NKINDS], suppressed;
    struct lossrec_total unrecorded[LOSSREC_NKINDS]; /* lossrec_sums_only's */
    uint32_t unstopped;
    struct lossrec_total runtime;       /* HSNAP_CLASS_RUNTIME, summed */
    uint64_t partial;         /* blocks the check could not read whole */
};

/* Sums of one (trace, kind) over BLOCKS. */
struct lossrec_acc {
    uint64_t bytes, blocks;
    uint32_t rmin, rmax;
};

int lossrec_parse_kinds(const char *list, unsigned *kinds, char *err, size_t errlen)
{
    const char *p = list;
    *kinds = 0;
    while (*p) {
        size_t n = strcspn(p, ",");
        int k, found = 0;
        for (k = 0; k < LOSSREC_NKINDS && !found; k++)
            found = strlen(lossrec_kind_names[k]) == n && !strncmp(p, lossrec_kind_names[k], n);
        if (found)
            *kinds |= LOSSREC_KIND_BIT(k - 1);
        else if (n == 3 && !strncmp(p, "all", 3))
            *kinds = LOSSREC_KINDS_ALL;
        else {
            snprintf(err, errlen, "bad value for --kinds: '%s' (a comma list of direct, "
                     "indirect, cycle, possible, reachable, or all)", list);
            return -1;
        }
        p += n + (p[n] == ',');
    }
    if (!*kinds) {
        snprintf(err, errlen, "bad value for --kinds: '%s' (a comma list of direct, indirect, "
                 "cycle, possible, reachable, or all)", list);
        return -1;
    }
    return 0;
}

struct lossrec_set *lossrec_new(const struct lossrec_opts *o)
{
    struct lossrec_set *ls = calloc(1, sizeof(*ls));
    if (!ls)
        return NULL;
    ls->o = *o;
    return ls;
}

void lossrec_free(struct lossrec_set *ls)
{
    if (!ls)
        return;
    for (size_t i = 0; i < ls->nrecs; i++) {
        free(ls->recs[i]->key);
        free(ls->recs[i]);
    }
    free(ls->recs);
    hidx_free(&ls->bykey);
    free(ls->scratch);
    identrank_free(&ls->ir);
    free(ls->shown);
    free(ls->groups);
    free(ls);
}

/* --- records ----------------------------------------------------------- */

/* A record's key: kind, owned, two bytes of 0, then the idents (4-byte
 * aligned in the key's malloc'd bytes: read as words by lossrec_cmp). */
#define LOSSREC_KEY_HEAD 4u

static const uint32_t *rec_idents(const struct lossrec_record *r)
{
    return (const uint32_t *)(const void *)(r->key + LOSSREC_KEY_HEAD);
}

struct rec_key {
    const unsigned char *p;
    size_t len;
};

static int rec_same(const void *item, const void *key)
{
    const struct lossrec_record *r = item;
    const struct rec_key *k = key;
    return r->keylen == k->len && !memcmp(r->key, k->p, k->len);
}

/* The record of (kind, owned, trace), created empty when new. */
static struct lossrec_record *lossrec_record_get(struct lossrec_set *ls, const struct frames_trace *t,
                                       enum lossrec_kind kind, int owned)
{
    struct lossrec_record *r;
    size_t len = LOSSREC_KEY_HEAD +
                 (size_t)(t->n > t->first ? t->n - t->first : 0) * sizeof(uint32_t);
    if (grow_array((void **)&ls->scratch, &ls->capscratch, len, 1) < 0)
        return NULL;
    unsigned char *key = ls->scratch;
    key[0] = (unsigned char)kind;
    key[1] = owned != 0;
    key[2] = key[3] = 0;
    for (int i = t->first; i < t->n; i++)
        memcpy(key + LOSSREC_KEY_HEAD + (size_t)(i - t->first) * sizeof(uint32_t),
               &t->fr[i]->ident, sizeof(uint32_t));
    uint64_t h = hashfn_bytes64(key, len);
    struct rec_key k = {key, len};
    if ((r = hidx_find(&ls->bykey, h, rec_same, &k)) != NULL)
        return r;
    if (grow_array((void **)&ls->recs, &ls->caprecs, ls->nrecs + 1, sizeof(*ls->recs)) < 0 ||
        !(r = calloc(1, sizeof(*r))))
        return NULL;
    if (!(r->key = malloc(len)) || hidx_add(&ls->bykey, h, r) < 0) {
        free(r->key);
        free(r);
        return NULL;
    }
    memcpy(r->key, key, len);
    r->keylen = len;
    ls->recs[ls->nrecs++] = r;
    r->kind = kind;
    r->owned = owned;
    r->trace = t;
    r->frames = t->fr;
    r->nframes = t->n;
    r->site = t->site;
    r->first = t->first;
    r->site_name = t->site_name;
    r->supp = -1;
    return r;
}

static void lossrec_own(struct lossrec_record *r, const struct lossrec_acc *a)
{
    if (!r->blocks || a->rmin < r->ref_min)
        r->ref_min = a->rmin;
    if (a->rmax > r->ref_max)
        r->ref_max = a->rmax;
    r->bytes += a->bytes;
    r->blocks += a->blocks;
}

/* Names the sites of the cycle's first LOSSREC_RING_SHOWN members in r. */
static int lossrec_ring(const struct snap *s, struct lossrec_record *r, const struct hsnap_leak_record *mr)
{
    r->ring_blocks = mr->nmembers;
    for (uint32_t i = 0; i < mr->nmembers && i < LOSSREC_RING_SHOWN; i++) {
        uint32_t b = lset_member(s, mr->members_off + i);
        const struct frames_trace *t = frames_get(s, s->blocks[b].trace);
        if (!t)
            return -1;
        r->ring[r->nring++] = t->site_name;
    }
    return 0;
}

static int lossrec_add_model(struct lossrec_set *ls, const struct snap *s)
{
    for (uint32_t k = 0; k < s->lk.head.nrecords; k++) {
        const struct hsnap_leak_record *mr = &s->lk.records[k];
        const struct frames_trace *t = frames_get(s, s->blocks[mr->root].trace);
        enum lossrec_kind kind = mr->cls == HSNAP_CLASS_CYCLE ? LOSSREC_CYCLE : LOSSREC_DIRECT;
        struct lossrec_record *r = t ? lossrec_record_get(ls, t, kind, 0) : NULL;
        if (!r)
            return -1;
        struct lossrec_acc a = {mr->own_bytes, mr->own_blocks, mr->ref_min, mr->ref_max};
        lossrec_own(r, &a);
        r->indirect_bytes += mr->indirect_bytes;
        r->indirect_blocks += mr->indirect_blocks;
        if (kind == LOSSREC_CYCLE && r->ncycles++ == 0 && lossrec_ring(s, r, mr) < 0)
            return -1;
    }
    return 0;
}

/* Slot of a block class in the per-trace sums: 0 indirect, 1 possible,
 * 2 reachable, 3 cycle blocks outside every root cycle; -1 for the rest. */
static int lossrec_slot(const struct hsnap_block *b, const uint8_t *member)
{
    switch (b->cls) {
    case HSNAP_CLASS_INDIRECT: return 0;
    case HSNAP_CLASS_POSSIBLE: return 1;
    case HSNAP_CLASS_REACHABLE: return 2;
    case HSNAP_CLASS_CYCLE: return member ? -1 : 3;
    }
    return -1;
}

/* Whether kind's records would only be summed: a kind neither shown nor
 * suppressible, with no filter (a filter's totals count only the records
 * it keeps), whose records would only add up to its total, each stack
 * named on the way (import torch's still reachable blocks). */
static int lossrec_sums_only(const struct lossrec_set *ls, enum lossrec_kind kind)
{
    unsigned bit = LOSSREC_KIND_BIT(kind);
    return !ls->o.filter.ninclude && !ls->o.filter.nexclude && !(ls->o.kinds & bit) &&
           !((!ls->o.supp_kinds || ls->o.supp_kinds & bit) && supp_has_kind(ls->o.supp, kind));
}

/* The per-(trace, slot) sums of one snapshot, for the slots whose records
 * are made: only the pairs that have a block get one, found by key
 * (trace * 4 + slot) in an open-addressed table sized to those blocks.
 * A slot that is only summed (lossrec_sums_only: the summary's still
 * reachable blocks, most of a big program's) goes straight to the totals:
 * an index of every trace (16 bytes a trace) and a sum per pair cost a
 * Python program's summary 30 MB for a few records. */
struct lossrec_accs {
    uint64_t *key;            /* key + 1; 0: an empty slot */
    struct lossrec_acc *acc;  /* by slot */
    size_t cap, n;            /* a power of two; pairs in it */
};

static struct lossrec_acc *lossrec_acc_of(struct lossrec_accs *x, uint64_t key)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (x->cap - 1);
    while (x->key[i] && x->key[i] != key + 1)
        i = (i + 1) & (x->cap - 1);
    if (!x->key[i]) {
        x->key[i] = key + 1;
        x->n++;
    }
    return &x->acc[i];
}

static int cmp_key(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

static const enum lossrec_kind lossrec_slot_kinds[4] = {LOSSREC_INDIRECT, LOSSREC_POSSIBLE,
                                                        LOSSREC_REACHABLE, LOSSREC_CYCLE};

/* The pairs' records, by trace and then slot (the order records are made
 * in, as when every trace was indexed). */
static int lossrec_charge_accs(struct lossrec_set *ls, const struct snap *s,
                               const struct lossrec_accs *x)
{
    uint64_t *keys = malloc((x->n + 1) * sizeof *keys);
    size_t n = 0;
    int rc = -1;
    if (!keys)
        return -1;
    for (size_t i = 0; i < x->cap; i++)
        if (x->key[i])
            keys[n++] = x->key[i] - 1;
    qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t k = 0; k < n; k++) {
        uint32_t ti = (uint32_t)(keys[k] / 4), slot = (uint32_t)(keys[k] % 4);
        const struct frames_trace *t = frames_get(s, ti);
        struct lossrec_record *r =
            t ? lossrec_record_get(ls, t, lossrec_slot_kinds[slot], slot == 3) : NULL;
        if (!r)
            goto out;
        lossrec_own(r, lossrec_acc_of((struct lossrec_accs *)x, keys[k]));
    }
    rc = 0;
out:
    free(keys);
    return rc;
}

static int lossrec_add_blocks(struct lossrec_set *ls, const struct snap *s)
{
    uint8_t *member = big_calloc(s->nblocks ? s->nblocks : 1, 1);
    struct lossrec_accs x = {NULL, NULL, 0, 0};
    int only[4], rc = -1;
    size_t want = 0;
    if (!member)
        goto out;
    for (int k = 0; k < 4; k++)
        only[k] = k < 3 && lossrec_sums_only(ls, lossrec_slot_kinds[k]);
    for (uint32_t k = 0; k < s->lk.head.nrecords; k++)
        for (uint32_t i = 0; i < s->lk.records[k].nmembers; i++)
            member[lset_member(s, s->lk.records[k].members_off + i)] = 1;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        int slot = lossrec_slot(&s->blocks[i], member[i] ? member : NULL);
        want += slot >= 0 && !only[slot];
    }
    for (x.cap = 16; x.cap < 2 * want; x.cap *= 2)
        ;
    if (!(x.key = big_calloc(x.cap, sizeof *x.key)) ||
        !(x.acc = big_malloc(x.cap * sizeof *x.acc)))
        goto out;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        const struct hsnap_block *b = &s->blocks[i];
        int slot = lossrec_slot(b, member[i] ? member : NULL);
        if (slot < 0)
            continue;
        if (only[slot]) {
            ls->unrecorded[lossrec_slot_kinds[slot]].bytes += b->size;
            ls->unrecorded[lossrec_slot_kinds[slot]].blocks++;
            continue;
        }
        size_t n0 = x.n;
        struct lossrec_acc *a = lossrec_acc_of(&x, (uint64_t)b->trace * 4 + (uint64_t)slot);
        if (x.n != n0)
            *a = (struct lossrec_acc){0, 0, 0, 0};
        if (!a->blocks || b->refcount < a->rmin)
            a->rmin = b->refcount;
        if (b->refcount > a->rmax)
            a->rmax = b->refcount;
        a->bytes += b->size;
        a->blocks++;
    }
    rc = lossrec_charge_accs(ls, s, &x);
out:
    free(member);
    free(x.key);
    free(x.acc);
    return rc;
}

int lossrec_add_snap(struct lossrec_set *ls, const struct snap *s, const char *path, char *err,
                size_t errlen)
{
    if (lset_require(s, path, err, errlen) < 0)
        return -1;
    progress_step("symbolizing", path);
    if (lossrec_add_model(ls, s) < 0 || lossrec_add_blocks(ls, s) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    ls->unstopped += s->lk.head.unstopped;
    ls->runtime.bytes += s->lk.total[HSNAP_CLASS_RUNTIME].bytes;
    ls->runtime.blocks += s->lk.total[HSNAP_CLASS_RUNTIME].blocks;
    for (uint64_t i = 0; s->blocks && i < s->nblocks; i++)
        ls->partial += (s->blocks[i].flags & HSNAP_BLOCK_PARTIAL) != 0;
    return 0;
}

/* --- filters, suppressions, order --------------------------------------- */

static int lossrec_kept(const struct lossrec_set *ls, const struct lossrec_record *r)
{
    return frames_kept(&ls->o.filter, r->trace);
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

/* A record's place in lossrec_finish's order, its fields side by side:
 * a sort of pointers to 720,000 records read two of them, scattered, at
 * each compare. */
struct rec_rank {
    uint64_t bytes, blocks;  /* own and indirect bytes; own blocks */
    uint32_t kind;           /* kind << 1 | owned */
    struct lossrec_record *r;
};

/* Largest first: total bytes, blocks, kind, then the stack (stable
 * output): the stacks' identities in strcmp's order, compared by their
 * idents' ranks (identrank.h; arg, or NULL to compare the texts). */
static int lossrec_cmp(const void *pa, const void *pb, void *arg)
{
    const struct rec_rank *x = pa, *y = pb;
    int c = cmp_u64(y->bytes, x->bytes);
    if (!c) c = cmp_u64(y->blocks, x->blocks);
    if (!c) c = (x->kind > y->kind) - (x->kind < y->kind); /* owned: as the text id's '-' < 'o' */
    if (c)
        return c;
    const struct lossrec_record *a = x->r, *b = y->r;
    c = arg ? identrank_cmp(arg, rec_idents(a), (a->keylen - LOSSREC_KEY_HEAD) / 4, rec_idents(b),
                            (b->keylen - LOSSREC_KEY_HEAD) / 4)
            : IDENTRANK_WHOLE;
    return c != IDENTRANK_WHOLE ? c : strcmp(lossrec_stack_id(a), lossrec_stack_id(b));
}

/* A record's place by site: its site's rank (the sites' names in strcmp's
 * order, lossrec_site_ranks), then its own rank. */
struct site_rank {
    uint32_t site;
    int index;
    struct lossrec_record *r;
};

/* By site, then rank: a site's records side by side, its largest first. */
static int lossrec_cmp_site(const void *pa, const void *pb)
{
    const struct site_rank *a = pa, *b = pb;
    int c = (a->site > b->site) - (a->site < b->site);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

struct site_name {
    const char *s;
    uint32_t rank;
};

static int cmp_name_at(const void *pa, const void *pb)
{
    uintptr_t a = (uintptr_t)((const struct site_name *)pa)->s;
    uintptr_t b = (uintptr_t)((const struct site_name *)pb)->s;
    return (a > b) - (a < b);
}

static int cmp_name(const void *pa, const void *pb)
{
    return strcmp(((const struct site_name *)pa)->s, ((const struct site_name *)pb)->s);
}

/* Each of the n records v gets the rank of its site's name among theirs
 * (equal names, equal ranks).  The names are a few texts kept once per
 * ident (frec_site_name): their distinct addresses are ordered by text,
 * then each record finds its own by address.  -1 when out of memory. */
static int lossrec_site_ranks(struct lossrec_record **v, size_t n)
{
    struct site_name *nm = malloc((n + 1) * sizeof(*nm));
    if (!nm)
        return -1;
    for (size_t i = 0; i < n; i++)
        nm[i].s = v[i]->site_name;
    qsort(nm, n, sizeof(*nm), cmp_name_at);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || nm[i].s != nm[m - 1].s)
            nm[m++] = nm[i];
    qsort(nm, m, sizeof(*nm), cmp_name);
    for (size_t i = 0, rank = 0; i < m; i++) {
        if (i && strcmp(nm[i].s, nm[i - 1].s))
            rank++;
        nm[i].rank = (uint32_t)rank;
    }
    qsort(nm, m, sizeof(*nm), cmp_name_at);
    for (size_t i = 0; i < n; i++) {
        struct site_name key = {v[i]->site_name, 0};
        const struct site_name *f = bsearch(&key, nm, m, sizeof(*nm), cmp_name_at);
        v[i]->site_rank = f ? f->rank : 0; /* every name is there */
    }
    free(nm);
    return 0;
}

/* Largest first: bytes, blocks, then the rank of the largest record. */
static int lossrec_cmp_group(const void *pa, const void *pb)
{
    const struct lossrec_group *a = pa, *b = pb;
    int c = cmp_u64(b->bytes, a->bytes);
    if (!c) c = cmp_u64(b->blocks, a->blocks);
    return c ? c : a->largest - b->largest;
}

/* Groups the n ranked records of ls->shown by site (by_site), largest
 * group first, and lays the records out group by group.  -1 when out of
 * memory. */
static int lossrec_group(struct lossrec_set *ls, size_t n)
{
    struct lossrec_record **v = malloc((n + 1) * sizeof(*v));
    free(ls->groups);
    ls->groups = calloc(n + 1, sizeof(*ls->groups));
    ls->ngroups = 0;
    if (!v || !ls->groups) {
        free(v);
        return -1;
    }
    memcpy(v, ls->shown, n * sizeof(*v));
    struct site_rank *sr = big_malloc((n + 1) * sizeof(*sr));
    if (!sr || lossrec_site_ranks(v, n) < 0) {
        free(sr);
        free(v);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        sr[i] = (struct site_rank){v[i]->site_rank, v[i]->index, v[i]};
    qsort(sr, n, sizeof(*sr), lossrec_cmp_site);
    for (size_t i = 0; i < n; i++)
        v[i] = sr[i].r;
    free(sr);
    for (size_t i = 0; i < n; i++) {
        struct lossrec_group *g = &ls->groups[ls->ngroups - 1];
        if (i == 0 || v[i]->site_rank != v[i - 1]->site_rank) {
            g = &ls->groups[ls->ngroups++];
            g->site = v[i]->site_name;
            g->first = i;
            g->largest = v[i]->index;
        }
        g->n++;
        g->bytes += v[i]->bytes + v[i]->indirect_bytes;
        g->blocks += v[i]->blocks;
    }
    qsort(ls->groups, ls->ngroups, sizeof(*ls->groups), lossrec_cmp_group);
    size_t at = 0;
    for (size_t k = 0; k < ls->ngroups; k++) {
        struct lossrec_group *g = &ls->groups[k];
        memcpy(ls->shown + at, v + g->first, g->n * sizeof(*v));
        g->first = at;
        at += g->n;
    }
    free(v);
    return 0;
}

/* ls->ir for the n records v, or NULL (a frame with no ident: the texts
 * compared); -1 when out of memory. */
static int lossrec_rank_stacks(struct lossrec_set *ls, struct lossrec_record *const *v, size_t n,
                               struct identrank **ir)
{
    *ir = NULL;
    identrank_free(&ls->ir);
    for (size_t i = 0; i < n; i++)
        for (size_t k = LOSSREC_KEY_HEAD; k + 4 <= v[i]->keylen; k += 4) {
            uint32_t id;
            memcpy(&id, v[i]->key + k, 4);
            if (id == FRAMES_NO_IDENT)
                return 0;
            if (identrank_note(&ls->ir, id) < 0)
                return -1;
        }
    if (identrank_make(&ls->ir, frec_ident_text) < 0)
        return -1;
    *ir = &ls->ir;
    return 0;
}

int lossrec_finish(struct lossrec_set *ls)
{
    struct lossrec_record *r;
    struct identrank *ir;
    size_t n = 0;
    free(ls->shown);
    ls->shown = malloc((ls->nrecs + 1) * sizeof(*ls->shown));
    if (!ls->shown)
        return -1;
    memcpy(ls->sum, ls->unrecorded, sizeof(ls->sum));
    memset(&ls->suppressed, 0, sizeof(ls->suppressed));
    for (size_t i = 0; i < ls->nrecs; i++) {
        r = ls->recs[i];
        r->index = 0;
        if (!lossrec_kept(ls, r))
            continue;
        r->supp = ls->o.supp && (!ls->o.supp_kinds || ls->o.supp_kinds & LOSSREC_KIND_BIT(r->kind))
                      ? supp_match(ls->o.supp, r->kind, r->frames, r->nframes, r->site) : -1;
        struct lossrec_total *t = r->supp >= 0 ? &ls->suppressed : &ls->sum[r->kind];
        t->bytes += r->bytes;
        t->blocks += r->blocks;
        if (r->supp >= 0)
            supp_charge(ls->o.supp, r->supp, r->bytes, r->blocks);
        else if (ls->o.kinds & LOSSREC_KIND_BIT(r->kind))
            ls->shown[n++] = r;
    }
    struct rec_rank *rk = big_malloc((n + 1) * sizeof(*rk));
    if (!rk || lossrec_rank_stacks(ls, ls->shown, n, &ir) < 0) {
        free(rk);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        r = ls->shown[i];
        rk[i] = (struct rec_rank){r->bytes + r->indirect_bytes, r->blocks,
                                  (uint32_t)r->kind << 1 | (r->owned != 0), r};
    }
    qsort_r(rk, n, sizeof(*rk), lossrec_cmp, ir);
    for (size_t i = 0; i < n; i++)
        ls->shown[i] = rk[i].r;
    free(rk);
    /* Numbered among all n records, largest first, as if -n had not cut
     * them: -n 2 of 6 shows records 1 and 2 of 6. */
    for (size_t i = 0; i < n; i++)
        ls->shown[i]->index = (int)i + 1;
    ls->nranked = n;
    ls->nshown = ls->o.limit > 0 && (size_t)ls->o.limit < n ? (size_t)ls->o.limit : n;
    if (!ls->o.by_site)
        return 0;
    if (lossrec_group(ls, n) < 0)
        return -1;
    ls->ngroups_all = ls->ngroups;
    if (ls->o.limit > 0 && (size_t)ls->o.limit < ls->ngroups)
        ls->ngroups = (size_t)ls->o.limit;
    ls->nshown = ls->ngroups ? ls->groups[ls->ngroups - 1].first + ls->groups[ls->ngroups - 1].n : 0;
    return 0;
}

const struct lossrec_group *lossrec_groups(const struct lossrec_set *ls, size_t *n,
                                           size_t *all)
{
    *n = ls->ngroups;
    if (all)
        *all = ls->ngroups_all;
    return ls->groups;
}

size_t lossrec_ranked(const struct lossrec_set *ls) { return ls->nranked; }

struct lossrec_record *const *lossrec_shown(const struct lossrec_set *ls, size_t *n)
{
    *n = ls->nshown;
    return ls->shown;
}

const struct lossrec_total *lossrec_summary(const struct lossrec_set *ls, struct lossrec_total *suppressed)
{
    if (suppressed)
        *suppressed = ls->suppressed;
    return ls->sum;
}

uint32_t lossrec_unstopped(const struct lossrec_set *ls) { return ls->unstopped; }
struct lossrec_total lossrec_runtime(const struct lossrec_set *ls) { return ls->runtime; }
uint64_t lossrec_partial(const struct lossrec_set *ls) { return ls->partial; }

struct lossrec_record *const *lossrec_all(const struct lossrec_set *ls, size_t *n)
{
    *n = ls->nrecs;
    return ls->recs;
}

const char *lossrec_stack_id(const struct lossrec_record *r)
{
    const char *id = frames_id(r->trace);
    return id ? id : "";
}
