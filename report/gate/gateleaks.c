/*
 * gateleaks.c - the gate's leak check: for each process, the loss records
 * of its last snapshot (lossrec_new, the records `heapsnap leaks` prints),
 * one finding per (leak kind, stack from the allocation site out), minus
 * suppressed records and minus what --site-limit budgets allow.
 *
 * Loss records, not raw BLOCKS classes, so that the gate and `leaks
 * --suppressions` agree on what a suppression hides (a record's whole
 * symbolized stack).  One suppression set serves every process: its counts
 * are summed, and "stale" means it matched no leak anywhere; only leaked
 * kinds are matched (direct, indirect, cycle, possible).  A direct or
 * cycle finding counts its records' own and owned indirect bytes, as
 * `leaks`, Valgrind and LSan's SUMMARY do; indirect findings count against
 * the limits only when neither direct nor cycle is in --fail-on.  Cycle
 * blocks owned by another leak fold into the cycle finding of their stack.
 */
#include <stdlib.h>
#include <string.h>
#include <fnmatch.h>

#include "cli.h"
#include "gateleaks.h"
#include "lossrec.h"
#include "lset.h"
#include "supp.h"

/* The kinds the gate fails on, in report order, with their rule ids. */
static const struct {
    int cls;           /* enum hsnap_class bit of gate_rules.fail_on */
    enum lossrec_kind kind;
    const char *rule;
} leak_rules[] = {
    {HSNAP_CLASS_POSSIBLE, LOSSREC_POSSIBLE, "leak-possible"},
    {HSNAP_CLASS_DIRECT, LOSSREC_DIRECT, "leak-direct"},
    {HSNAP_CLASS_INDIRECT, LOSSREC_INDIRECT, "leak-indirect"},
    {HSNAP_CLASS_CYCLE, LOSSREC_CYCLE, "leak-cycle"},
};

#define NLEAK_RULES (sizeof(leak_rules) / sizeof(leak_rules[0]))
#define LEAKED_KINDS (LOSSREC_KINDS_ALL & ~LOSSREC_KIND_BIT(LOSSREC_REACHABLE))

struct leakcheck {
    const struct gate_rules *r;
    struct supp_set *supp;      /* NULL without --suppressions or a program's own */
    struct lossrec_set **sets;       /* one per process checked (records live here) */
    int nsets;
    size_t capsets;
    struct stat_entry **ents;   /* findings' stacks (frames point into sets) */
    int nents;
    size_t capents;
};

/* One finding in the making: a stack's records of one kind, merged. */
struct leak_item {
    struct stat_entry *e;       /* size and count: the records' totals */
    int64_t indirect;           /* of size, the bytes owned indirectly */
    int64_t owned_bytes, owned_blocks; /* of size and count, blocks that a
                                  direct or cycle record owns (indirect
                                  records, owned cycle blocks) */
    int supp;
};

struct leakcheck *leakcheck_new(const struct gate_rules *r, const struct snap *snaps,
                                char *const *paths, int n, char *err, size_t errlen)
{
    struct leakcheck *gl = calloc(1, sizeof(*gl));
    if (!gl || (r->nsupp && !(gl->supp = supp_new()))) {
        free(gl);
        snprintf(err, errlen, "gate: out of memory");
        return NULL;
    }
    gl->r = r;
    for (int i = 0; i < r->nsupp; i++)
        if (supp_load(gl->supp, r->supp[i], err, errlen) < 0) {
            leakcheck_free(gl);
            return NULL;
        }
    if (supp_add_snaps(&gl->supp, snaps, paths, n, err, errlen) < 0) {
        leakcheck_free(gl);
        return NULL;
    }
    return gl;
}

void leakcheck_free(struct leakcheck *gl)
{
    if (!gl)
        return;
    for (int i = 0; i < gl->nents; i++)
        free(gl->ents[i]);
    for (int i = 0; i < gl->nsets; i++)
        lossrec_free(gl->sets[i]);
    free(gl->ents);
    free(gl->sets);
    supp_free(gl->supp);
    free(gl);
}

struct supp_set *leakcheck_supp(const struct leakcheck *gl) { return gl->supp; }

/* A stat_entry over r's frames from the allocation site outward (the shape
 * every writer prints); its frames belong to frames_get. */
static struct stat_entry *entry_of(struct leakcheck *gl, const struct lossrec_record *r)
{
    struct stat_entry *e = calloc(1, sizeof(*e));
    if (!e || grow_array((void **)&gl->ents, &gl->capents, (size_t)gl->nents + 1,
                         sizeof(*gl->ents)) < 0) {
        free(e);
        return NULL;
    }
    gl->ents[gl->nents++] = e;
    e->id = (char *)lossrec_stack_id(r); /* the stack alone (frames_id's, not freed) */
    e->nframes = r->nframes - r->first;
    e->frames = r->frames + r->first;
    e->head = r->site - r->first;
    return e;
}

static int cmp_stack(const void *pa, const void *pb)
{
    const struct lossrec_record *a = *(void *const *)pa, *b = *(void *const *)pb;
    return strcmp(lossrec_stack_id(a), lossrec_stack_id(b));
}

/* Biggest first, then the stack: the order findings are reported in. */
static int cmp_item(const void *pa, const void *pb)
{
    const struct leak_item *a = pa, *b = pb;
    if (a->e->size != b->e->size)
        return a->e->size > b->e->size ? -1 : 1;
    if (a->e->count != b->e->count)
        return a->e->count > b->e->count ? -1 : 1;
    return strcmp(a->e->id, b->e->id);
}

/* The records of one kind, merged per stack, biggest first; *n of them. */
static struct leak_item *kind_items(struct leakcheck *gl, const struct lossrec_set *ls,
                                    enum lossrec_kind kind, size_t *n)
{
    size_t nrec = 0, k = 0, nall;
    struct lossrec_record *const *all = lossrec_all(ls, &nall);
    for (size_t i = 0; i < nall; i++)
        nrec += all[i]->kind == kind;
    struct lossrec_record **v = malloc((nrec + 1) * sizeof(*v));
    struct leak_item *it = calloc(nrec + 1, sizeof(*it));
    if (!v || !it)
        goto oom;
    for (size_t i = 0; i < nall; i++)
        if (all[i]->kind == kind)
            v[k++] = all[i];
    qsort(v, nrec, sizeof(*v), cmp_stack);
    for (size_t i = 0; i < nrec; i++) {
        if (*n == 0 || cmp_stack(&v[i], &v[i - 1])) {
            if (!(it[*n].e = entry_of(gl, v[i])))
                goto oom;
            it[(*n)++].supp = v[i]->supp;
        }
        it[*n - 1].e->size += (int64_t)(v[i]->bytes + v[i]->indirect_bytes);
        it[*n - 1].indirect += (int64_t)v[i]->indirect_bytes;
        if (v[i]->kind == LOSSREC_INDIRECT || v[i]->owned) {
            it[*n - 1].owned_bytes += (int64_t)v[i]->bytes;
            it[*n - 1].owned_blocks += (int64_t)v[i]->blocks;
        }
        it[*n - 1].e->count += (int64_t)(v[i]->blocks + v[i]->indirect_blocks);
    }
    free(v);
    qsort(it, *n, sizeof(*it), cmp_item);
    return it;
oom:
    free(v);
    free(it);
    return NULL;
}

/* The budget index of a site-limit whose pattern matches the site, or -1. */
static int site_budget(const struct gate_rules *r, const struct stat_entry *e)
{
    char key[4200];
    const struct frame *f = e->frames[e->head];
    snprintf(key, sizeof(key), "%s:%d", f->file, f->line);
    for (int i = 0; i < r->nsites; i++)
        if (!fnmatch(r->site_pat[i], key, 0) || !fnmatch(r->site_pat[i], f->file, 0) ||
            !fnmatch(r->site_pat[i], f->func, 0))
            return i;
    return -1;
}

struct leak_sums {
    int64_t bytes, blocks;            /* counted against the limits */
    int64_t site_used[GATE_MAX_SITES];
};

/* 1 when owned blocks are already in the totals of the direct and cycle
 * records that own them (either of those kinds fails). */
static int owners_fail(const struct gate_rules *r)
{
    return (r->fail_on & (1u << HSNAP_CLASS_DIRECT | 1u << HSNAP_CLASS_CYCLE)) != 0;
}

/* Findings for one kind of one process; adds what counts to sums. */
static int leak_kind(struct leakcheck *gl, struct verdict *g, int proc, size_t rule,
                     const struct lossrec_set *ls, struct leak_sums *sums)
{
    size_t n = 0;
    struct leak_item *it = kind_items(gl, ls, leak_rules[rule].kind, &n);
    if (!it)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct gate_finding *f = verdict_finding_add(g, leak_rules[rule].rule, proc, it[i].e);
        if (!f) {
            free(it);
            return -1;
        }
        f->bytes = it[i].e->size;
        f->blocks = it[i].e->count;
        f->indirect = it[i].indirect;
        f->supp = it[i].supp;
        int64_t bytes = f->bytes, blocks = f->blocks;
        if (owners_fail(gl->r)) {
            bytes -= it[i].owned_bytes;
            blocks -= it[i].owned_blocks;
        }
        f->owned = bytes == 0 && blocks == 0;
        int b = f->supp >= 0 || f->owned ? -1 : site_budget(gl->r, it[i].e);
        if (f->supp >= 0 || f->owned ||
            (b >= 0 && sums->site_used[b] + bytes <= gl->r->site_max[b])) {
            if (b >= 0)
                sums->site_used[b] += bytes;
            continue;
        }
        sums->bytes += bytes;
        sums->blocks += blocks;
        f->over = 1;
    }
    free(it);
    return 0;
}

/* The loss records of snapshot s, suppressions applied. */
static struct lossrec_set *leak_records(struct leakcheck *gl, const struct snap *s,
                                   const char *path, char *err, size_t errlen)
{
    struct lossrec_opts o = {.kinds = LEAKED_KINDS, .supp = gl->supp, .supp_kinds = LEAKED_KINDS};
    struct lossrec_set *ls = NULL;
    if (grow_array((void **)&gl->sets, &gl->capsets, (size_t)gl->nsets + 1,
                   sizeof(*gl->sets)) < 0 ||
        !(ls = lossrec_new(&o)))
        return NULL;
    gl->sets[gl->nsets++] = ls;
    if (lossrec_add_snap(ls, s, path, err, errlen) < 0 || lossrec_finish(ls) < 0)
        return NULL;
    return ls;
}

static void leak_message(struct gate_check *c, const struct gate_rules *r,
                         const struct leak_sums *sums)
{
    int64_t mb = r->max_bytes, mk = r->max_blocks;
    if (mb < 0 && mk < 0)
        mb = mk = 0;
    c->failed = (mb >= 0 && sums->bytes > mb) || (mk >= 0 && sums->blocks > mk);
    char ab[40] = "any", ak[40] = "any";
    if (mb >= 0)
        snprintf(ab, sizeof(ab), "%lld", (long long)mb);
    if (mk >= 0)
        snprintf(ak, sizeof(ak), "%lld", (long long)mk);
    snprintf(c->msg, sizeof(c->msg), "%lld bytes in %lld blocks lost (loss record totals, "
             "indirect included; allowed: %s bytes, %s blocks)", (long long)sums->bytes,
             (long long)sums->blocks, ab, ak);
}

/* The snapshot of process p whose leak check the rule judges: its last,
 * or, when the program's __lsan_do_leak_check() ran the check before the
 * exit (LSan's "no check at exit after it"), the last that holds one. */
static const struct snap *leak_snap(const struct gate_proc *p)
{
    if (p->last->lk.present || !(p->last->meta.flags & HSNAP_META_LSAN_CHECKED))
        return p->last;
    for (int i = p->nseries; i-- > 0;)
        if (p->series[i]->lk.present)
            return p->series[i];
    return p->last;
}

int leakcheck_check(struct leakcheck *gl, struct verdict *g, int proc, char *err,
                 size_t errlen)
{
    const struct gate_rules *r = gl->r;
    const struct gate_proc *p = &g->procs[proc];
    struct gate_check *c = verdict_check_add(g, "leaks", proc);
    struct leak_sums sums;
    if (!c)
        return -1;
    memset(&sums, 0, sizeof(sums));
    if (!r->fail_on) {
        c->skipped = 1;
        snprintf(c->msg, sizeof(c->msg), "--fail-on none");
        return 0;
    }
    const struct snap *s = leak_snap(p);
    if (!s->lk.present && (s->meta.flags & HSNAP_META_LSAN_OFF)) {
        /* the program's own LeakSanitizer hook turned the check off */
        c->skipped = 1;
        snprintf(c->msg, sizeof(c->msg), "the program's __lsan_is_turned_off()");
        return 0;
    }
    if (!s->lk.present || !s->has_blocks) {
        /* A rule that could check nothing must not pass: trouble, unless
         * the user turned the leak rule off (--fail-on none, above). */
        snprintf(err, errlen, "gate: cannot check leaks in %s: %s (--fail-on none turns "
                 "the leak rule off)", p->path,
                 s->lk.present ? "the snapshot holds no blocks" : lset_absent_why(s));
        return -2;
    }
    const struct lossrec_set *ls = leak_records(gl, s, p->path, err, errlen);
    if (!ls)
        return -1;
    for (size_t i = 0; i < NLEAK_RULES; i++)
        if ((r->fail_on & (1u << leak_rules[i].cls)) && leak_kind(gl, g, proc, i, ls, &sums) < 0)
            return -1;
    leak_message(c, r, &sums);
    if (s->lk.head.unstopped) { /* the shim judged nothing lost: say so */
        size_t len = strlen(c->msg);
        snprintf(c->msg + len, sizeof(c->msg) - len, "; incomplete: %u threads could not be "
                 "stopped, their registers unread, so no block was judged lost",
                 s->lk.head.unstopped);
    }
    return 0;
}
