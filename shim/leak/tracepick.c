/*
 * tracepick.c - the set of traces whose stack passes a test.
 *
 * Several marks of the leak check (the loader's and the runtime's blocks:
 * rt_mark; GObject's: gobj_mark; a C extension's initialisation:
 * collect_mark_init; __lsan_disable: collect_mark_disabled) ask one
 * question of each block's stack.  A program has far fewer traces than
 * blocks, so the question is asked once per trace, under the trace lock,
 * into a bitmap of trace ids mapped for the purpose (never the host's
 * malloc), and then read once per block.
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

/* Asks pick of every trace's innermost want (at most TRACE_PICK_DEPTH)
 * frames (n copied; depth the whole stack, more when it was deeper):
 * first of TRACE_PICK_FIRST of them, and of all want only when pick says
 * TRACE_PICK_MORE.  0, or -1: no memory (s empty: no trace picked). */
int trace_pick(struct trace_pick *s, trace_pick_fn pick, void *arg, unsigned want)
{
    const struct leak_host *h = collect_host;
    want = want < TRACE_PICK_DEPTH ? want : TRACE_PICK_DEPTH;
    h->trace_lock();
    s->nt = h->trace_count();
    s->len = s->nt / 8 + 1;
    s->in = h->map(s->len);
    unsigned first = want < TRACE_PICK_FIRST ? want : TRACE_PICK_FIRST;
    for (uint32_t t = 0; s->in && t < s->nt; t++) {
        uintptr_t ip[TRACE_PICK_DEPTH];
        if (!trace_pick_asked(t))
            continue;
        unsigned flags = 0, depth = h->trace_stack(t, ip, first, &flags);
        unsigned n = depth < first ? depth : first;
        int r = pick(ip, n, depth, flags, arg);
        if (r == TRACE_PICK_MORE && n < want && n < depth) {
            depth = h->trace_stack(t, ip, want, &flags);
            n = depth < want ? depth : want;
            r = pick(ip, n, depth, flags, arg);
        }
        if (r > 0)
            s->in[t / 8] |= (uint8_t)(1u << (t % 8));
    }
    h->trace_unlock();
    if (!s->in)
        s->nt = 0;
    return s->in ? 0 : -1;
}

void trace_pick_free(struct trace_pick *s)
{
    if (s->in)
        collect_host->unmap(s->in, s->len);
    s->in = NULL;
    s->nt = 0;
}
