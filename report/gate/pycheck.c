/*
 * pycheck.c - the gate's Python rule (--python-fail-on garbage,leaked-refs):
 * in each process's last snapshot, the Python objects only the collector
 * frees (PYTYPES' garbage: reference cycles no root reaches) and those
 * with leaked references (PYRETAIN: a refcount above every pointer to
 * them), one finding per allocation stack and type, biggest first.  What
 * the interpreter keeps for itself is neither (its caches are reached from
 * roots; its static objects are no blocks; immortal ones are never
 * candidates), and the garbage its own Python code made (the standard
 * library's, importlib's: an enum class a module import dropped) is
 * counted apart and never fails, so a clean program passes.  A snapshot without the object
 * graph cannot be judged: trouble, not a pass.  A process that never ran
 * CPython (the `uname` or `git` a Python program starts, whose snapshot
 * `run --gate` judges too) has no Python objects to judge: it passes, when
 * its snapshot holds no trace of CPython and neither its executable nor a
 * module is named python* or libpython* (a Python process run with
 * HEAPSNAP_PYTHON=off stays trouble).  An object with leaked references
 * that a heapsnap:LeakedRef suppression matches (numpy's and pandas' known
 * leaks are built in) is a finding that names it and does not fail, as a
 * suppressed leak record is, and counts against the suppression.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "frames.h"
#include "pycheck.h"
#include "pygarbage.h"
#include "supp.h"

struct pycheck {
    struct stat_entry **ents; /* the findings' sites, owned */
    size_t nents, capents;
};

struct py_item {
    uint32_t trace, type;
    int supp;                 /* leaked-refs: the suppression that matched, or -1 */
    int64_t bytes, blocks;
};

struct pycheck *pycheck_new(void)
{
    return calloc(1, sizeof(struct pycheck));
}

void pycheck_free(struct pycheck *pc)
{
    for (size_t i = 0; pc && i < pc->nents; i++) {
        free(pc->ents[i]->id);
        free(pc->ents[i]->type);
        free(pc->ents[i]);
    }
    if (pc)
        free(pc->ents);
    free(pc);
}

static int cmp_site(const void *pa, const void *pb)
{
    const struct py_item *a = pa, *b = pb;
    if (a->trace != b->trace)
        return a->trace < b->trace ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    return (a->supp > b->supp) - (a->supp < b->supp);
}

static int cmp_bytes(const void *pa, const void *pb)
{
    const struct py_item *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return cmp_site(pa, pb);
}

/* The finding's site: trace ti's frames from the allocation site out. */
static struct stat_entry *py_entry(struct pycheck *pc, const struct snap *s, uint32_t ti,
                                   const char *type)
{
    const struct frames_trace *t = frames_get(s, ti);
    struct stat_entry *e = calloc(1, sizeof *e);
    char id[32];
    snprintf(id, sizeof id, "py\x1f%u", ti);
    if (!t || !e || !(e->id = strdup(id)) || !(e->type = strdup(type)) ||
        grow_array((void **)&pc->ents, &pc->capents, pc->nents + 1, sizeof *pc->ents) < 0) {
        if (e)
            free(e->id), free(e->type);
        free(e);
        return NULL;
    }
    pc->ents[pc->nents++] = e;
    e->nframes = t->n - t->first;
    e->frames = t->fr + t->first;
    e->head = t->site - t->first;
    return e;
}

/* The findings of one rule: the blocks of s that pick() keeps, per site
 * (and, for leaked references, per suppression of ss that matched). */
static int py_rule(struct pycheck *pc, const struct snap *s, struct verdict *g, int proc,
                   struct supp_set *ss, const char *rule, int leakref, int64_t *objects,
                   int64_t *interp, int64_t *suppressed)
{
    struct py_item *it = big_malloc((s->nblocks ? s->nblocks : 1) * sizeof *it);
    uint32_t *charge = leakref ? NULL : pygarbage_charges(s); /* a class's __dict__: its class's */
    size_t n = 0, m = 0;
    if (!it || (!leakref && !charge)) {
        free(it);
        free(charge);
        return -1;
    }
    for (uint64_t i = 0; i < s->nblocks; i++)
        if (leakref ? s->py.block_refcnt && s->py.block_refcnt[i]
                    : (s->py.block_flags[i] & HSNAP_PYOBJ_GARBAGE) != 0) {
            int sm = leakref ? supp_match_pyref(ss, s, i) : -1;
            if (sm >= 0) /* counted per object, as `leaks` counts them */
                supp_charge(ss, sm, s->blocks[i].size, 1);
            it[n++] = (struct py_item){charge ? charge[i] : s->blocks[i].trace,
                                       s->py.block_type[i], sm, (int64_t)s->blocks[i].size, 1};
        }
    free(charge);
    qsort(it, n, sizeof *it, cmp_site);
    for (size_t i = 0; i < n; i++) {
        if (m && !cmp_site(&it[m - 1], &it[i])) {
            it[m - 1].bytes += it[i].bytes;
            it[m - 1].blocks++;
        } else {
            it[m++] = it[i];
        }
    }
    qsort(it, m, sizeof *it, cmp_bytes);
    for (size_t i = 0; i < m; i++) {
        if (!leakref && pygarbage_interp(s, it[i].trace)) {
            *interp += it[i].blocks; /* the interpreter's own garbage: never fails */
            continue;
        }
        const char *type = it[i].type < s->py.ntypes ? s->py.types[it[i].type].name : "?";
        struct stat_entry *e = py_entry(pc, s, it[i].trace, type);
        struct gate_finding *f = e ? verdict_finding_add(g, rule, proc, e) : NULL;
        if (!f) {
            free(it);
            return -1;
        }
        f->bytes = it[i].bytes;
        f->blocks = it[i].blocks;
        f->supp = it[i].supp;
        f->over = it[i].supp < 0;
        *(it[i].supp >= 0 ? suppressed : objects) += it[i].blocks;
    }
    free(it);
    return 0;
}

/* Whether name (a path) ends in a file named python* or libpython*. */
static int py_named(const char *path)
{
    const char *b = path ? strrchr(path, '/') : NULL;
    b = b ? b + 1 : path;
    return b && (!strncmp(b, "python", 6) || !strncmp(b, "libpython", 9));
}

/* Whether s is of a process that never ran CPython (see top). */
static int py_absent(const struct snap *s)
{
    if (s->py.graph || s->py_version || s->npycodes || s->pyunread.why || py_named(s->exe))
        return 0;
    for (uint32_t i = 0; i < s->nmodules; i++)
        if (py_named(s->modules[i].path))
            return 0;
    return 1;
}

int pycheck_check(struct pycheck *pc, const struct gate_rules *r, struct verdict *g, int proc,
                  struct supp_set *ss, char *err, size_t errlen)
{
    const struct gate_proc *p = &g->procs[proc];
    const struct snap *s = p->last;
    struct gate_check *c = verdict_check_add(g, "python", proc);
    int64_t garbage = 0, leakrefs = 0, interp = 0, suppressed = 0;
    if (!c)
        return -1;
    if (py_absent(s)) {
        snprintf(c->msg, sizeof c->msg, "not a Python process (no CPython in its snapshot)");
        return 0;
    }
    if (!s->py.graph) {
        snprintf(err, errlen, "gate: cannot check Python objects in %s: no object graph "
                 "(a CPython 3.10-3.13 process, HEAPSNAP_BLOCKS=1, at most "
                 "HEAPSNAP_PYTHON_OBJECTS live blocks; --python-fail-on none turns the "
                 "rule off)", p->path);
        return -2;
    }
    if (((r->py_fail & GATE_PY_GARBAGE) &&
         py_rule(pc, s, g, proc, ss, "python-garbage", 0, &garbage, &interp, &suppressed) < 0) ||
        ((r->py_fail & GATE_PY_LEAKREF) &&
         py_rule(pc, s, g, proc, ss, "python-leaked-ref", 1, &leakrefs, &interp, &suppressed) < 0))
        return -1;
    c->failed = garbage || leakrefs;
    char own[96] = "", supp[48] = "";
    if (interp)
        snprintf(own, sizeof own, " (and %lld of the interpreter's own code's)", (long long)interp);
    if (suppressed)
        snprintf(supp, sizeof supp, " (%lld suppressed)", (long long)suppressed);
    snprintf(c->msg, sizeof c->msg, "%lld Python objects garbage awaiting the collector%s, %lld "
             "with leaked references%s%s", (long long)garbage, own, (long long)leakrefs, supp,
             (r->py_fail & GATE_PY_LEAKREF) && !s->lk.present
                 ? " (no leak check in this snapshot: leaked references not looked for)" : "");
    return 0;
}
