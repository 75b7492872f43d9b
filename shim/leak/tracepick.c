/*
 * tracepick.c - the set of traces whose stack passes a test.
 *
 * Several marks of the leak check (the loader's and the runtime's blocks:
 * rt_mark; GObject's: gobj_mark; a C extension's initialisation:
 * collect_mark_init; __lsan_disable: collect_mark_disabled) ask one
 * question of each block's stack.  A program has far fewer traces than
 * blocks, so the question is asked once per trace, under the trace lock,
 * into a bitmap of trace ids mapped for the purpose (never the host's
 * malloc), and then read once per block: the marks that ask of every
 * block, all in one pass that reads each trace's frames once for them all
 * (trace_pick_all); the one that asks of a few blocks, each trace when it
 * is first wanted (trace_lazy).
 *   A walk up the frame tree is a cache miss a frame, and most tests
 * answer from a trace's innermost few frames (its first frame outside
 * the runtime, outside GLib, its first two Python frames), so each trace
 * is shown TRACE_PICK_FIRST frames first and the rest only when the test
 * says it needs them (TRACE_PICK_MORE); the answers are those of the
 * whole window.
 *   And only of the traces a live block has (trace_pick_limit, for the
 * check's run): a big Python program's traces are mostly of blocks long
 * freed (import torch and a short training loop: 1.2 M traces at exit,
 * 0.65 M blocks), and each question walks up to TRACE_PICK_DEPTH nodes of
 * the frame tree.  A test that reads the flags alone is shown no frame
 * (want 0).
 */
#include "leakinner.h"

#define TRACE_PICK_FIRST 8u /* frames shown first: most answers need fewer */

/* The traces the check's blocks have (bit t: some block's trace is t);
 * used NULL: every trace is asked.  One check at a time (the snapshot
 * lock). */
static struct {
    uint8_t *used;
    size_t len;
    uint32_t nt;   /* traces the bitmap covers: later ones are asked */
} tp;

void trace_pick_limit(const struct hsnap_block *b, uint64_t n)
{
    const struct leak_host *h = collect_host;
    trace_pick_unlimit();
    uint32_t nt = h->trace_count();
    size_t len = nt / 8 + 1;
    uint8_t *u = h->map(len);
    if (!u)
        return; /* every trace asked */
    for (uint64_t i = 0; i < n; i++)
        if (b[i].trace < nt)
            u[b[i].trace / 8] |= (uint8_t)(1u << (b[i].trace % 8));
    tp.used = u, tp.len = len, tp.nt = nt;
}

void trace_pick_unlimit(void)
{
    if (tp.used)
        collect_host->unmap(tp.used, tp.len);
    tp.used = NULL;
    tp.len = 0;
    tp.nt = 0;
}

/* Whether trace t is asked: a block has it, or no limit says. */
static int trace_pick_asked(uint32_t t)
{
    return !tp.used || t >= tp.nt || (tp.used[t / 8] >> (t % 8) & 1);
}

/* The jobs' answers for trace t into r (1 picked, else not), its frames
 * read once for all: the innermost of the most any job is shown first
 * (its want, at most TRACE_PICK_FIRST), then, when one says
 * TRACE_PICK_MORE and the stack has more, the most any such job wants
 * (n copied; depth the whole stack, more when it was deeper).  Each job
 * sees the frames it alone would.  Under the trace lock; wants already at
 * most TRACE_PICK_DEPTH. */
static void trace_ask(uint32_t t, const struct trace_pick_job *j, unsigned nj, int *r)
{
    const struct leak_host *h = collect_host;
    uintptr_t ip[TRACE_PICK_DEPTH];
    unsigned first[TRACE_PICK_JOBS], top = 0, more = 0;
    for (unsigned k = 0; k < nj; k++) {
        first[k] = j[k].want < TRACE_PICK_FIRST ? j[k].want : TRACE_PICK_FIRST;
        top = first[k] > top ? first[k] : top;
    }
    unsigned flags = 0, depth = h->trace_stack(t, ip, top, &flags);
    for (unsigned k = 0; k < nj; k++) {
        unsigned n = depth < first[k] ? depth : first[k];
        r[k] = j[k].pick(ip, n, depth, flags, j[k].arg);
        if (r[k] == TRACE_PICK_MORE && n < j[k].want && n < depth && j[k].want > more)
            more = j[k].want;
    }
    if (more)
        depth = h->trace_stack(t, ip, more, &flags);
    for (unsigned k = 0; k < nj; k++) {
        unsigned n = depth < j[k].want ? depth : j[k].want;
        if (r[k] == TRACE_PICK_MORE && n > (depth < first[k] ? depth : first[k]))
            r[k] = j[k].pick(ip, n, depth, flags, j[k].arg);
        r[k] = r[k] > 0;
    }
}

int trace_pick_all(struct trace_pick_job *j, unsigned nj)
{
    const struct leak_host *h = collect_host;
    int r[TRACE_PICK_JOBS], rc = 0;
    if (nj > TRACE_PICK_JOBS)
        return -1;
    for (unsigned k = 0; k < nj; k++)
        j[k].want = j[k].want < TRACE_PICK_DEPTH ? j[k].want : TRACE_PICK_DEPTH;
    h->trace_lock();
    uint32_t nt = h->trace_count();
    for (unsigned k = 0; k < nj; k++) {
        struct trace_pick *s = j[k].out;
        s->nt = nt, s->len = nt / 8 + 1;
        if (!(s->in = h->map(s->len)))
            rc = 1;
    }
    for (uint32_t t = 0; !rc && t < nt; t++) {
        if (!trace_pick_asked(t))
            continue;
        trace_ask(t, j, nj, r);
        for (unsigned k = 0; k < nj; k++)
            if (r[k])
                j[k].out->in[t / 8] |= (uint8_t)(1u << (t % 8));
    }
    h->trace_unlock();
    for (unsigned k = 0; rc && k < nj; k++) /* no memory: every answer empty */
        trace_pick_free(j[k].out);
    return rc ? -1 : 0;
}

/* A trace asked when a caller needs its answer, and remembered: a mark
 * that wants few traces' answers (collect_mark_init's, for the few
 * direct and possibly lost blocks and the objects an extension's code
 * made) asked every live trace, each a walk of up to TRACE_PICK_DEPTH
 * frames of the frame tree (import torch: 0.65 M traces, ~40 ms of the
 * check's fork). */
int trace_lazy_begin(struct trace_lazy *z, trace_pick_fn pick, void *arg, unsigned want)
{
    const struct leak_host *h = collect_host;
    z->job = (struct trace_pick_job){pick, arg, want < TRACE_PICK_DEPTH ? want : TRACE_PICK_DEPTH,
                                     NULL};
    z->nt = h->trace_count();
    z->len = z->nt / 8 + 1;
    z->asked = h->map(2 * z->len); /* asked, then in */
    return z->asked ? 0 : -1;
}

int trace_lazy_picked(struct trace_lazy *z, uint32_t t)
{
    const struct leak_host *h = collect_host;
    uint8_t bit = (uint8_t)(1u << (t % 8)), *in = z->asked + z->len;
    int r;
    if (t < z->nt && (z->asked[t / 8] & bit))
        return !!(in[t / 8] & bit);
    h->trace_lock();
    trace_ask(t, &z->job, 1, &r);
    h->trace_unlock();
    if (t < z->nt) {
        z->asked[t / 8] |= bit;
        if (r)
            in[t / 8] |= bit;
    }
    return r;
}

void trace_lazy_free(struct trace_lazy *z)
{
    if (z->asked)
        collect_host->unmap(z->asked, 2 * z->len);
    z->asked = NULL;
}

void trace_pick_free(struct trace_pick *s)
{
    if (s->in)
        collect_host->unmap(s->in, s->len);
    s->in = NULL;
    s->nt = 0;
}
