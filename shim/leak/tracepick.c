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
 */
#include "leakinner.h"

/* Asks pick of every trace's innermost TRACE_PICK_DEPTH frames (n copied;
 * depth the whole stack, more when it was deeper).  0, or -1: no memory
 * (s empty: no trace picked). */
int trace_pick(struct trace_pick *s, trace_pick_fn pick, void *arg)
{
    const struct leak_host *h = collect_host;
    h->trace_lock();
    s->nt = h->trace_count();
    s->len = s->nt / 8 + 1;
    s->in = h->map(s->len);
    for (uint32_t t = 0; s->in && t < s->nt; t++) {
        uintptr_t ip[TRACE_PICK_DEPTH];
        unsigned flags = 0, depth = h->trace_stack(t, ip, TRACE_PICK_DEPTH, &flags);
        unsigned n = depth < TRACE_PICK_DEPTH ? depth : TRACE_PICK_DEPTH;
        if (pick(ip, n, depth, flags, arg))
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
