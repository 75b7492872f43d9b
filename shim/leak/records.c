/*
 * records.c - the reference model's phase 5 and its output: each source
 * component of the leak graph (a direct leak, or a cycle nothing else
 * points into) becomes a loss record and claims, by BFS, every leak it
 * reaches that no earlier root claimed (so the records' sums equal the
 * class totals); and the LEAKS section's encoding of the result.  The run
 * state is model.c's (scan.h).
 */
#include "scan.h"

/* ---- phase 5: loss records ----------------------------------------------- */

/* inmap bit c: component c has an edge from another component. */
static inline int inmap_get(const struct scan *s, uint32_t c)
{
    return (s->inmap[c / 64] >> (c % 64)) & 1;
}

/* Mark the components something else points into; count the records (one
 * per other component) and the members of the cycle records. */
static int rec_count(struct scan *s, size_t *nrec, size_t *nmem)
{
    s->inmap = scratch_alloc(s, inmap_bytes(s));
    if (!s->inmap)
        return MODEL_ENOMEM;
    memset(s->inmap, 0, inmap_bytes(s));
    for (uint32_t v = 0; v < s->u; v++)
        for (uint32_t e = s->off[v]; s->edge[e] != SENT; e++) {
            uint32_t c = comp_of(s, s->edge[e]);
            if (c != comp_of(s, v))
                s->inmap[c / 64] |= 1ull << (c % 64);
        }
    *nrec = s->ncomp;
    for (size_t k = 0; k < inmap_bytes(s) / sizeof(uint64_t); k++)
        *nrec -= (size_t)__builtin_popcountll(s->inmap[k]);
    *nmem = 0;
    for (uint32_t v = 0; v < s->u; v++)
        *nmem += !inmap_get(s, comp_of(s, v)) && s->b[s->ub[v]].cls == HSNAP_CLASS_CYCLE;
    return MODEL_OK;
}

static void rec_own(struct scan *s, struct hsnap_leak_record *r, uint32_t v)
{
    const struct hsnap_block *b = &s->b[s->ub[v]];
    if (!r->own_blocks || b->refcount < r->ref_min)
        r->ref_min = b->refcount;
    if (b->refcount > r->ref_max)
        r->ref_max = b->refcount;
    r->own_bytes += b->size;
    r->own_blocks++;
}

/* Claim, breadth first from v, every unclaimed leak v reaches.  Members of
 * v's own component are the record's own blocks; the rest are indirect. */
static void rec_claim(struct scan *s, struct hsnap_leak_record *r, uint32_t v)
{
    uint32_t head = 0, tail = 0, c = comp_of(s, v);
    s->b[s->ub[v]].flags |= F_OWNED;
    s->stk[tail++] = v;
    while (head < tail) {
        uint32_t x = s->stk[head++];
        if (s->ops->on_owned)
            s->ops->on_owned(s->ub[x], r->root, s->ops->ctx);
        if (comp_of(s, x) == c) {
            rec_own(s, r, x);
        } else {
            r->indirect_bytes += s->b[s->ub[x]].size;
            r->indirect_blocks++;
        }
        for (uint32_t e = s->off[x]; s->edge[e] != SENT; e++) {
            struct hsnap_block *bw = &s->b[s->ub[s->edge[e]]];
            if (!(bw->flags & F_OWNED)) {
                bw->flags |= F_OWNED;
                s->stk[tail++] = s->edge[e];
            }
        }
    }
}

/* Write a cycle's members in cycle order: a depth-first preorder along edges
 * inside the component from its root (for a ring, the ring's order).  Clears
 * F_OWNED on the way to mark "written"; off[] serves as the edge cursor. */
static void rec_walk(struct scan *s, uint32_t v, uint32_t *out)
{
    uint32_t c = comp_of(s, v), depth = 0, k = 0;
    s->b[s->ub[v]].flags &= ~F_OWNED;
    out[k++] = s->ub[v];
    s->stk[depth++] = v;
    while (depth) {
        uint32_t x = s->stk[depth - 1], w = s->edge[s->off[x]];
        if (w == SENT) {
            depth--;
            continue;
        }
        s->off[x]++;
        struct hsnap_block *bw = &s->b[s->ub[w]];
        if (comp_of(s, w) == c && (bw->flags & F_OWNED)) {
            bw->flags &= ~F_OWNED;
            out[k++] = s->ub[w];
            s->stk[depth++] = w;
        }
    }
}

static int rec_alloc(struct scan *s, struct model_result *out, size_t nrec, size_t nmem)
{
    out->nrecords = nrec;
    out->nmembers = nmem;
    out->records = s->ops->alloc(nrec * sizeof(*out->records), s->ops->ctx);
    if (nmem)
        out->members = s->ops->alloc(nmem * sizeof(uint32_t), s->ops->ctx);
    if (!out->records || (nmem && !out->members))
        return MODEL_ENOMEM;
    memset(out->records, 0, nrec * sizeof(*out->records));
    out->out_bytes = nrec * sizeof(*out->records) + nmem * sizeof(uint32_t);
    return MODEL_OK;
}

int rec_build(struct scan *s, struct model_result *out)
{
    size_t nrec, nmem, k = 0, m = 0;
    int rc = rec_count(s, &nrec, &nmem);
    if (!rc)
        rc = rec_alloc(s, out, nrec, nmem);
    if (rc)
        return rc;
    for (uint32_t v = 0; v < s->u; v++) { /* address order */
        if (inmap_get(s, comp_of(s, v)) || (s->b[s->ub[v]].flags & F_OWNED))
            continue; /* not a source, or its record is made */
        struct hsnap_leak_record *r = &out->records[k++];
        r->root = s->ub[v];
        r->cls = s->b[s->ub[v]].cls;
        rec_claim(s, r, v);
        if (r->cls == HSNAP_CLASS_CYCLE) {
            r->members_off = (uint32_t)m;
            r->nmembers = (uint32_t)r->own_blocks;
            m += r->nmembers;
        }
    }
    for (size_t i = 0; i < nrec; i++)
        if (out->records[i].cls == HSNAP_CLASS_CYCLE)
            rec_walk(s, graph_node(s, out->records[i].root),
                     out->members + out->records[i].members_off);
    return MODEL_OK;
}

void model_result_free(struct model_result *out, const struct model_ops *ops)
{
    if (out->records)
        ops->free(out->records, out->nrecords * sizeof(*out->records), ops->ctx);
    if (out->members)
        ops->free(out->members, out->nmembers * sizeof(uint32_t), ops->ctx);
    memset(out, 0, sizeof(*out));
}

void model_result_unverified(struct hsnap_block *b, size_t n, struct model_result *out,
                             const struct model_ops *ops)
{
    static const int judged[] = {HSNAP_CLASS_POSSIBLE, HSNAP_CLASS_DIRECT, HSNAP_CLASS_INDIRECT,
                                 HSNAP_CLASS_CYCLE};
    for (size_t i = 0; i < n; i++)
        if (b[i].cls >= HSNAP_CLASS_POSSIBLE && b[i].cls <= HSNAP_CLASS_CYCLE)
            b[i].cls = HSNAP_CLASS_IGNORED;
    for (size_t k = 0; k < sizeof judged / sizeof *judged; k++) {
        struct hsnap_leak_total *t = &out->total[judged[k]];
        out->total[HSNAP_CLASS_IGNORED].blocks += t->blocks;
        out->total[HSNAP_CLASS_IGNORED].bytes += t->bytes;
        *t = (struct hsnap_leak_total){0};
    }
    if (out->records)
        ops->free(out->records, out->nrecords * sizeof(*out->records), ops->ctx);
    if (out->members)
        ops->free(out->members, out->nmembers * sizeof(uint32_t), ops->ctx);
    out->records = NULL;
    out->members = NULL;
    out->nrecords = out->nmembers = 0;
    out->out_bytes = 0;
}

/* ---- the LEAKS section --------------------------------------------------- */

size_t model_result_encode(const struct model_result *r, void *buf, size_t cap)
{
    struct hsnap_leaks_head h = {
        .nclass = MODEL_NCLASS, .nrecords = (uint32_t)r->nrecords,
        .nmembers = (uint32_t)r->nmembers, .unstopped = r->unstopped,
        .scan_ns = r->scan_ns, .scratch_bytes = r->scratch_peak, .stop_ns = r->stop_ns};
    size_t lens[4] = {sizeof(h), sizeof(r->total),
                      r->nrecords * sizeof(*r->records), r->nmembers * sizeof(uint32_t)};
    const void *parts[4] = {&h, r->total, r->records, r->members};
    size_t need = lens[0] + lens[1] + lens[2] + lens[3];
    if (!buf || cap < need)
        return need;
    unsigned char *p = buf;
    for (int k = 0; k < 4; p += lens[k], k++)
        if (lens[k])
            memcpy(p, parts[k], lens[k]);
    return need;
}
