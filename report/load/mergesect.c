/*
 * mergesect.c - the sections `heapsnap merge` carries over item by item,
 * each item's traces renumbered through the input's map to merged ids
 * (tmap): BLOCKS (addresses tagged with the input's index), LEAKS (block
 * and member indexes shifted past the earlier inputs'), RETAINERS (summed
 * per target and source), THREADS (each input's records renumbered, so
 * the threads of different processes stay apart; merge_threads), and the
 * per-trace sections FAILED and PYGCFREED, gathered and folded per merged
 * trace by one pair of helpers (merge_sites_add, merge_sites_fold).  cmd_merge owns the driver, the
 * modules and the traces themselves.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mergesect.h"

/* --- blocks and leaks ---------------------------------------------------- */

/* 1 when s's blocks already carry an input index in bits 48..63 (s is a
 * merged snapshot): a second tag would reorder them, so merge refuses. */
int merged_blocks(const struct snap *s)
{
    return s->has_blocks && s->nblocks && s->blocks[s->nblocks - 1].addr >> 48;
}

int merge_blocks(struct merge *mg, const struct snap *s, uint64_t input,
                        const uint32_t *tmap)
{
    uint64_t n = mg->out.nblocks;
    if (grow_array((void **)&mg->blocks, &mg->capblocks, n + s->nblocks + 1,
                   sizeof(*mg->blocks)) < 0)
        return -1;
    struct hsnap_block *p = mg->blocks;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        p[n + i] = s->blocks[i];
        p[n + i].addr = (s->blocks[i].addr & ((1ull << 48) - 1)) | (input << 48);
        p[n + i].trace = tmap[s->blocks[i].trace];
    }
    mg->out.nblocks = n + s->nblocks;
    return 0;
}

/* A LEAKS payload's parts; 0 when its length matches the header. */
static int leaks_split(const struct snap *s, struct hsnap_leaks_head *h, const uint8_t **tot,
                       const uint8_t **rec, const uint8_t **mem)
{
    if (!s->leaks || s->leaks_len < sizeof(*h))
        return -1;
    memcpy(h, s->leaks, sizeof(*h));
    uint64_t want = sizeof(*h) + 16ull * h->nclass + 56ull * h->nrecords + 4ull * h->nmembers;
    if (want != s->leaks_len)
        return -1;
    *tot = s->leaks + sizeof(*h);
    *rec = *tot + 16ull * h->nclass;
    *mem = *rec + 56ull * h->nrecords;
    return 0;
}

/* Builds the merged LEAKS payload from every input (all have one). */
int merge_leaks(struct merge *mg, const struct snap *in, int n)
{
    struct hsnap_leaks_head h, oh = {.nclass = HSNAP_CLASS_RUNTIME + 1};
    struct hsnap_leak_total tot[HSNAP_CLASS_RUNTIME + 1] = {{0, 0}};
    const uint8_t *t = NULL, *r = NULL, *m = NULL;
    for (int i = 0; i < n; i++) {
        if (leaks_split(&in[i], &h, &t, &r, &m) < 0)
            return 1; /* unreadable: drop LEAKS */
        for (uint32_t c = 0; c < h.nclass && c <= HSNAP_CLASS_RUNTIME; c++) {
            struct hsnap_leak_total x;
            memcpy(&x, t + 16ull * c, sizeof(x));
            tot[c].bytes += x.bytes;
            tot[c].blocks += x.blocks;
        }
        oh.nrecords += h.nrecords;
        oh.nmembers += h.nmembers;
        oh.unstopped += h.unstopped;
        oh.scan_ns += h.scan_ns;
        if (h.scratch_bytes > oh.scratch_bytes)
            oh.scratch_bytes = h.scratch_bytes;
    }
    size_t len = sizeof(oh) + sizeof(tot) + 56ull * oh.nrecords + 4ull * oh.nmembers;
    uint8_t *out = malloc(len), *ro, *mo;
    if (!out)
        return -1;
    memcpy(out, &oh, sizeof(oh));
    memcpy(out + sizeof(oh), tot, sizeof(tot));
    ro = out + sizeof(oh) + sizeof(tot);
    mo = ro + 56ull * oh.nrecords;
    uint32_t block_base = 0, member_base = 0;
    for (int i = 0; i < n; i++) {
        if (leaks_split(&in[i], &h, &t, &r, &m) < 0) { /* read whole above: never */
            free(out);
            return 1;
        }
        for (uint32_t k = 0; k < h.nrecords; k++, ro += 56) {
            struct hsnap_leak_record rec;
            memcpy(&rec, r + 56ull * k, sizeof(rec));
            rec.root += block_base;
            rec.members_off += member_base;
            memcpy(ro, &rec, sizeof(rec));
        }
        for (uint32_t k = 0; k < h.nmembers; k++, mo += 4) {
            uint32_t v;
            memcpy(&v, m + 4ull * k, 4);
            v += block_base;
            memcpy(mo, &v, 4);
        }
        block_base += (uint32_t)in[i].nblocks;
        member_base += h.nmembers;
    }
    mg->leaks = out;
    mg->out.leaks = out;
    mg->out.leaks_len = len;
    return 0;
}

/* Appends s's RETAINERS with merged trace ids (sorted by merge_retainers). */
int merge_rets(struct merge *mg, const struct snap *s, const uint32_t *tmap)
{
    uint64_t n = (uint64_t)mg->nrets + s->nretainers;
    if (n > UINT32_MAX ||
        grow_array((void **)&mg->rets, &mg->caprets, n + 1, sizeof(*mg->rets)) < 0)
        return -1;
    struct hsnap_retainer *p = mg->rets;
    for (uint32_t i = 0; i < s->nretainers; i++) {
        struct hsnap_retainer r = s->retainers[i];
        r.target_trace = tmap[r.target_trace];
        if (r.source_kind == HSNAP_RET_BLOCK)
            r.source_trace = tmap[r.source_trace];
        p[mg->nrets++] = r;
    }
    return 0;
}

static int cmp_ret(const void *pa, const void *pb)
{
    const struct hsnap_retainer *a = pa, *b = pb;
    if (a->target_trace != b->target_trace)
        return a->target_trace < b->target_trace ? -1 : 1;
    if (a->source_kind != b->source_kind)
        return a->source_kind < b->source_kind ? -1 : 1;
    return (a->source_trace > b->source_trace) - (a->source_trace < b->source_trace);
}

/* The format's order (target, source kind, source trace) with equal items
 * summed. */
void merge_retainers(struct merge *mg)
{
    uint32_t k = 0;
    qsort(mg->rets, mg->nrets, sizeof(*mg->rets), cmp_ret);
    for (uint32_t i = 0; i < mg->nrets; i++) {
        if (k && !cmp_ret(&mg->rets[k - 1], &mg->rets[i])) {
            mg->rets[k - 1].refs += mg->rets[i].refs;
            mg->rets[k - 1].blocks += mg->rets[i].blocks;
            mg->rets[k - 1].bytes += mg->rets[i].bytes;
        } else {
            mg->rets[k++] = mg->rets[i];
        }
    }
    mg->nrets = k;
    mg->out.retainers = mg->rets;
    mg->out.nretainers = k;
}

/* --- threads ------------------------------------------------------------ */

int merge_threads_plan(struct merge *mg, const struct snap *in, int n)
{
    uint64_t total = 1;
    int others = 0;
    for (int i = 0; i < n; i++) {
        if (!in[i].has_threads)
            return 0; /* a thread key over some inputs would misread the rest */
        total += in[i].nthreads;
        for (uint32_t r = 0; r < in[i].nthreads; r++)
            others |= (in[i].threads[r].flags & HSNAP_THREAD_OTHERS) != 0;
    }
    if (total >= HSNAP_THREAD_NONE)
        return 0; /* more threads than indexes: THREADS dropped */
    if (grow_array((void **)&mg->thr, &mg->capthr, total, sizeof(*mg->thr)) < 0)
        return -1;
    mg->thr_base = !others; /* index 0 stays the threads past the shim's table */
    if (others)
        mg->thr[mg->nthr++] = (struct hsnap_thread){.index = 0, .flags = HSNAP_THREAD_OTHERS};
    mg->out.has_threads = 1;
    return 0;
}

int merge_threads(struct merge *mg, const struct snap *s, uint16_t *ttmap)
{
    uint16_t *rmap = malloc((s->nthreads + 1) * sizeof(*rmap));
    if (!rmap)
        return -1;
    for (uint32_t r = 0; r < s->nthreads; r++) {
        if (s->threads[r].flags & HSNAP_THREAD_OTHERS) {
            rmap[r] = 0; /* merge_threads_plan's shared record */
            continue;
        }
        mg->thr[mg->nthr] = s->threads[r];
        mg->thr[mg->nthr].index = mg->nthr + mg->thr_base;
        rmap[r] = (uint16_t)mg->nthr++;
    }
    for (uint32_t ti = 0; ti < s->ntraces; ti++)
        ttmap[ti] = s->trace_thread[ti] == HSNAP_THREAD_NONE ? HSNAP_THREAD_NONE
                                                              : rmap[s->trace_thread[ti]];
    free(rmap);
    return 0;
}

/* --- sections of per-trace items (FAILED, PYGCFREED) ------------------ */

/* Every such item opens with its u32 TRACES index (hsnap_failed's and
 * hsnap_pygcfreed's trace), the one field the gathering reads. */
_Static_assert(offsetof(struct hsnap_failed, trace) == 0, "trace first");
_Static_assert(offsetof(struct hsnap_pygcfreed, trace) == 0, "trace first");

int merge_sites_add(struct msites *ms, const void *items, uint32_t n, size_t size,
                    const uint32_t *tmap)
{
    if (grow_array(&ms->items, &ms->cap, (size_t)ms->n + n + 1, size) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *o = (uint8_t *)ms->items + (size_t)ms->n++ * size;
        uint32_t t;
        memcpy(o, (const uint8_t *)items + (size_t)i * size, size);
        memcpy(&t, o, 4);
        t = tmap[t];
        memcpy(o, &t, 4);
    }
    return 0;
}

static int cmp_site(const void *pa, const void *pb)
{
    uint32_t a, b;
    memcpy(&a, pa, 4);
    memcpy(&b, pb, 4);
    return (a > b) - (a < b);
}

/* Sorts ms's items by trace and folds each run of one trace into its first
 * item (fold(into, from)); returns how many are left (ms->n). */
static uint32_t merge_sites_fold(struct msites *ms, size_t size,
                                 void (*fold)(void *into, const void *from))
{
    uint8_t *p = ms->items;
    uint32_t k = 0;
    if (!ms->n)
        return 0;
    qsort(p, ms->n, size, cmp_site);
    for (uint32_t i = 0; i < ms->n; i++) {
        uint8_t *it = p + (size_t)i * size;
        if (k && !cmp_site(p + (size_t)(k - 1) * size, it))
            fold(p + (size_t)(k - 1) * size, it);
        else if (k++ != i)
            memcpy(p + (size_t)(k - 1) * size, it, size);
    }
    return ms->n = k;
}

#define MERGE_MAX_FAILED (1ull << 52) /* the reader's bound on one site's count */

/* The calls summed, the largest size asked (HSNAP_FAILED_OVERFLOW is the
 * largest). */
static void fold_failed(void *into, const void *from)
{
    struct hsnap_failed *o = into;
    const struct hsnap_failed *f = from;
    o->count = o->count + f->count > MERGE_MAX_FAILED ? MERGE_MAX_FAILED : o->count + f->count;
    if (f->max_size > o->max_size)
        o->max_size = f->max_size;
}

/* FAILED's order (increasing traces), one item per merged site. */
void merge_failed(struct merge *mg)
{
    uint32_t k = merge_sites_fold(&mg->fails, sizeof(struct hsnap_failed), fold_failed);
    mg->out.failed = k ? mg->fails.items : NULL;
    mg->out.nfailed = k;
}

static void fold_gcfreed(void *into, const void *from)
{
    struct hsnap_pygcfreed *o = into;
    const struct hsnap_pygcfreed *f = from;
    o->objects += f->objects;
    o->bytes += f->bytes;
}

/* One item per merged site, the counts summed; the interpreters' collected
 * summed (unknown when one input did not say), dropped summed.  Kept when
 * every input has the section (a sum over some would read as the whole). */
void merge_gcfreed(struct merge *mg, const struct snap *in, int n)
{
    uint64_t collected = 0, dropped = 0;
    for (int i = 0; i < n; i++) {
        if (!in[i].has_gcfreed)
            return;
        collected = in[i].gc_collected == UINT64_MAX || collected == UINT64_MAX
                        ? UINT64_MAX : collected + in[i].gc_collected;
        dropped += in[i].gc_dropped;
    }
    uint32_t k = merge_sites_fold(&mg->gcf, sizeof(struct hsnap_pygcfreed), fold_gcfreed);
    mg->out.has_gcfreed = 1;
    mg->out.gcfreed = k ? mg->gcf.items : NULL;
    mg->out.ngcfreed = k;
    mg->out.gc_collected = collected;
    mg->out.gc_dropped = dropped;
}
