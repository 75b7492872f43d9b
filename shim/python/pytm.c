/*
 * pytm.c - tracemalloc's own allocations told apart without the
 * interpreter's debug information (py_tm_).  tracemalloc.start() puts its
 * allocator hooks above the domains domain.c wrapped (from start-up, the
 * wrappers go beneath them: domain.c's py_tm_entries): a Python object's
 * allocation reaches our wrapper from inside a hook (its pass-through
 * call), and what the hook then allocates for itself (its traces,
 * tracebacks and their hash tables, through malloc) runs inside the same
 * hook, at another call.  While CPython's tracemalloc traces
 * (_Py_tracemalloc_config, which the interpreter exports up to 3.11; from
 * 3.12 the config is a field of the exported _PyRuntime, at layout.c's
 * offset, taken only when its values are the start-up ones), the
 * wrappers tell their caller's return address (py_tm_see): the hook's
 * pass-through, whose function's range (its .eh_frame FDE,
 * unwind_func_range) is the hook's.  A stack with a frame in a hook's
 * range at another address is the hook's own allocation (py_tm_own): its
 * trace is HSNAP_TRACE_TMOWN, which the CLI names as tracemalloc's C.  A
 * few hooks at most: a fixed table, filled once each, read without a lock.
 */
#include "inner.h"

#define PY_TM_MAX 8

static struct py_tm_hook {
    uintptr_t ra, lo, hi;    /* the pass-through's return address; the hook's text */
} py_tm_hooks[PY_TM_MAX];
static atomic_uint py_tm_taken; /* slots handed out */
_Atomic unsigned py_tm_n;       /* slots filled (python.h) */
const int *py_tm_tracing;       /* &_Py_tracemalloc_config.tracing, or NULL */

void py_tm_init(const void *config)
{
    /* struct _PyTraceMalloc_Config { int initialized; int tracing; ... } (3.8-3.11) */
    py_tm_tracing = config ? (const int *)config + 1 : NULL;
}

const void *py_tm_runtime_config(uint32_t version, const void *runtime)
{
    uint32_t at = py_tm_config_at(version);
    if (!runtime || !at)
        return NULL;
    /* { initialized, tracing, max_nframe } as _PyRuntimeState_INIT leaves
     * them before Py_Initialize (a -X tracemalloc start may have begun
     * tracing): anything else is not the config (a build whose runtime
     * state is laid out otherwise, such as a debug build) */
    const int *c = (const int *)((const char *)runtime + at);
    if (c[0] < 0 || c[0] > 2 || c[1] < 0 || c[1] > 1 || c[2] < 1 || c[2] > 65535)
        return NULL;
    return c;
}

/* A new pass-through: its hook's range, once. */
static HS_NOINLINE void py_tm_learn(uintptr_t ra)
{
    uintptr_t lo, hi, at = ra - 1;
    int interp = 0; /* tracemalloc is the interpreter's: not an extension that kept our wrapper */
    for (int i = 0; i < 2; i++)
        interp |= at - py_sym.interp_lo[i] < py_sym.interp_hi[i] - py_sym.interp_lo[i];
    if (!interp || unwind_func_range(at, &lo, &hi) != 0)
        return; /* no FDE: nothing to tell the hook's frames by */
    for (unsigned i = 0; i < atomic_load(&py_tm_n); i++)
        if (py_tm_hooks[i].ra == ra)
            return; /* another thread was first */
    unsigned k = atomic_fetch_add(&py_tm_taken, 1);
    if (k >= PY_TM_MAX)
        return;
    py_tm_hooks[k] = (struct py_tm_hook){ra, lo, hi};
    unsigned n = k;
    while (!atomic_compare_exchange_weak(&py_tm_n, &n, k + 1)) /* in slot order */
        n = k;
}

void py_tm_see(uintptr_t ra)
{
    unsigned n = atomic_load_explicit(&py_tm_n, memory_order_acquire);
    for (unsigned i = 0; i < n; i++)
        if (py_tm_hooks[i].ra == ra)
            return;
    py_tm_learn(ra);
}

int py_tm_own(const uintptr_t *ip, unsigned depth)
{
    unsigned n = atomic_load_explicit(&py_tm_n, memory_order_acquire);
    for (unsigned f = 0; f < depth; f++)
        for (unsigned i = 0; i < n; i++) {
            const struct py_tm_hook *h = &py_tm_hooks[i];
            if (ip[f] - 1 - h->lo < h->hi - h->lo) {
                int pass = 0;
                for (unsigned j = 0; j < n; j++)
                    pass |= ip[f] == py_tm_hooks[j].ra;
                return !pass;
            }
        }
    return 0;
}
