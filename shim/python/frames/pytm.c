/*
 * pytm.c - tracemalloc's own allocations told apart without the
 * interpreter's debug information (pyfr_tm_).  tracemalloc.start() puts its
 * allocator hooks above the domains dom_init wrapped (from start-up, the
 * wrappers go beneath them: py_tm_entries): a Python object's
 * allocation reaches our wrapper from inside a hook (its pass-through
 * call), and what the hook then allocates for itself (its traces,
 * tracebacks and their hash tables, through malloc) runs inside the same
 * hook, at another call.  While CPython's tracemalloc traces
 * (_Py_tracemalloc_config, which the interpreter exports up to 3.11; from
 * 3.12 the config is a field of the exported _PyRuntime, at the pylay_layouts row's
 * offset, taken only when its values are the start-up ones), the
 * wrappers tell their caller's return address (pyfr_tm_see): the hook's
 * pass-through, whose function's range (its .eh_frame FDE,
 * unwind_func_range) is the hook's.  A stack with a frame in a hook's
 * range at another address is the hook's own allocation (pyfr_tm_own): its
 * trace is HSNAP_TRACE_TMOWN, which the CLI names as tracemalloc's C.  A
 * few hooks at most: a fixed table, filled once each, read without a lock.
 *   Outside any hook, tracemalloc allocates a traceback when an object
 * is born without the allocator (_PyTraceMalloc_NewReference, for a free
 * list's object: 3.10-3.12), through its raw_malloc: the RAW entry under
 * the hooks, where pyfr_tm_raw_wrap puts pass-throughs that note their
 * callers.  A caller whose allocation a hook's stack shows as its own is
 * one of tracemalloc's raw_malloc sites, own wherever it is reached from
 * (a shared helper, _Py_hashtable_set, mallocs directly: never a caller).
 */

#include "unwind.h"
#include "pyframes.h"

#define PY_TM_MAX 8

static struct pyfr_tm_hook {
    uintptr_t ra, lo, hi;    /* the pass-through's return address; the hook's text */
} pyfr_tm_hooks[PY_TM_MAX];
static atomic_uint pyfr_tm_taken; /* slots handed out */
_Atomic unsigned pyfr_tm_n;       /* slots filled (python.h) */
const int *pyfr_tm_tracing;       /* &_Py_tracemalloc_config.tracing, or NULL */

void pyfr_tm_init(const void *config)
{
    /* struct _PyTraceMalloc_Config { int initialized; int tracing; ... } (3.8-3.11) */
    pyfr_tm_tracing = config ? (const int *)config + 1 : NULL;
}

const void *pyfr_tm_runtime_config(uint32_t version, const void *runtime)
{
    uint32_t at = pylay_tm_config_at(version);
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
static HS_NOINLINE void pyfr_tm_learn(uintptr_t ra)
{
    uintptr_t lo, hi, at = ra - 1;
    int interp = 0; /* tracemalloc is the interpreter's: not an extension that kept our wrapper */
    for (int i = 0; i < 2; i++)
        interp |= at - pylay_sym.interp_lo[i] < pylay_sym.interp_hi[i] - pylay_sym.interp_lo[i];
    if (!interp || unwind_func_range(at, &lo, &hi) != 0)
        return; /* no FDE: nothing to tell the hook's frames by */
    for (unsigned i = 0; i < atomic_load(&pyfr_tm_n); i++)
        if (pyfr_tm_hooks[i].ra == ra)
            return; /* another thread was first */
    unsigned k = atomic_fetch_add(&pyfr_tm_taken, 1);
    if (k >= PY_TM_MAX)
        return;
    pyfr_tm_hooks[k] = (struct pyfr_tm_hook){ra, lo, hi};
    unsigned n = k;
    while (!atomic_compare_exchange_weak(&pyfr_tm_n, &n, k + 1)) /* in slot order */
        n = k;
}

void pyfr_tm_see(uintptr_t ra)
{
    unsigned n = atomic_load_explicit(&pyfr_tm_n, memory_order_acquire);
    for (unsigned i = 0; i < n; i++)
        if (pyfr_tm_hooks[i].ra == ra)
            return;
    pyfr_tm_learn(ra);
}

/* ---------------- the RAW entry beneath the hooks ---------------- */

#define PY_TM_SITES 16

static struct {
    struct pyfr_alloc *entry; /* the RAW entry wrapped */
    void *(*malloc)(void *ctx, size_t n);          /* what was there */
    void *(*calloc)(void *ctx, size_t n, size_t m);
    _Atomic uintptr_t seen[PY_TM_SITES];  /* the pass-throughs' callers */
    _Atomic uintptr_t sites[PY_TM_SITES]; /* ... that are tracemalloc's raw_malloc */
} pyfr_tm_raw;

/* ra in table t (a slot taken for it when add and not there): 1 when found. */
static int pyfr_tm_in(_Atomic uintptr_t *t, uintptr_t ra, int add)
{
    for (unsigned i = 0; i < PY_TM_SITES; i++) {
        uintptr_t v = atomic_load_explicit(&t[i], memory_order_acquire);
        if (v == ra)
            return 1;
        if (!v && !add)
            return 0;
        if (!v && atomic_compare_exchange_strong(&t[i], &v, ra))
            return 0;
        if (v == ra) /* another thread's, just now */
            return 1;
    }
    return 0; /* full: not learned */
}

/* Called with or without the GIL (the RAW domain's rule), never allocate;
 * the call to the original is a tail call, so the recorded stack is as
 * without us. */
static void *pyfr_tm_raw_malloc(void *ctx, size_t n)
{
    if (HS_UNLIKELY(pyfr_tm_on()))
        pyfr_tm_in(pyfr_tm_raw.seen, (uintptr_t)__builtin_return_address(0), 1);
    return pyfr_tm_raw.malloc(ctx, n);
}

static void *pyfr_tm_raw_calloc(void *ctx, size_t n, size_t m)
{
    if (HS_UNLIKELY(pyfr_tm_on()))
        pyfr_tm_in(pyfr_tm_raw.seen, (uintptr_t)__builtin_return_address(0), 1);
    return pyfr_tm_raw.calloc(ctx, n, m);
}

/* The entry is read without the GIL, one field at a time (tracemalloc's
 * RAW hook, its raw_malloc): its ctx stays, each function is one aligned
 * store, and ours forward to the very functions they replace, with the
 * ctx they are given, so any mix a reader sees is the old behaviour. */
void pyfr_tm_raw_wrap(struct pyfr_alloc *e)
{
    if (pyfr_tm_raw.entry || !e->malloc || !e->calloc || e->malloc == pyfr_tm_raw_malloc)
        return;
    pyfr_tm_raw.malloc = e->malloc;
    pyfr_tm_raw.calloc = e->calloc;
    pyfr_tm_raw.entry = e;
    __atomic_store_n(&e->malloc, pyfr_tm_raw_malloc, __ATOMIC_RELEASE);
    __atomic_store_n(&e->calloc, pyfr_tm_raw_calloc, __ATOMIC_RELEASE);
}

static void pyfr_tm_raw_put_back(struct pyfr_alloc *a)
{
    if (a->malloc == pyfr_tm_raw_malloc)
        __atomic_store_n(&a->malloc, pyfr_tm_raw.malloc, __ATOMIC_RELEASE);
    if (a->calloc == pyfr_tm_raw_calloc)
        __atomic_store_n(&a->calloc, pyfr_tm_raw.calloc, __ATOMIC_RELEASE);
}

void pyfr_tm_raw_unwrap(void (*get)(int, struct pyfr_alloc *), void (*set)(int, struct pyfr_alloc *))
{
    if (!pyfr_tm_raw.entry)
        return;
    pyfr_tm_raw_put_back(pyfr_tm_raw.entry);
    pyfr_tm_raw.entry = NULL; /* an attach again wraps it again (its originals the same) */
    struct pyfr_alloc now;
    if (!get || !set)
        return;
    get(0, &now); /* PYMEM_DOMAIN_RAW: after tracemalloc.stop(), a copy of the entry */
    if (now.malloc == pyfr_tm_raw_malloc || now.calloc == pyfr_tm_raw_calloc) {
        pyfr_tm_raw_put_back(&now);
        set(0, &now);
    }
}

int pyfr_tm_own(const uintptr_t *ip, unsigned depth)
{
    unsigned n = atomic_load_explicit(&pyfr_tm_n, memory_order_acquire);
    if (depth && atomic_load_explicit(&pyfr_tm_raw.sites[0], memory_order_relaxed) &&
        pyfr_tm_in(pyfr_tm_raw.sites, ip[0], 0))
        return 1; /* at a raw_malloc site of tracemalloc's: reached from NewReference too */
    for (unsigned f = 0; f < depth; f++)
        for (unsigned i = 0; i < n; i++) {
            const struct pyfr_tm_hook *h = &pyfr_tm_hooks[i];
            if (ip[f] - 1 - h->lo < h->hi - h->lo) {
                int pass = 0, inner = 0;
                for (unsigned j = 0; j < n; j++) {
                    pass |= ip[f] == pyfr_tm_hooks[j].ra;
                    inner |= ip[0] - 1 - pyfr_tm_hooks[j].lo < pyfr_tm_hooks[j].hi - pyfr_tm_hooks[j].lo;
                }
                /* the hook's own, allocated through its raw_malloc (a
                 * caller of the RAW entry, outside any hook's text) */
                if (!pass && f > 0 && !inner && pyfr_tm_in(pyfr_tm_raw.seen, ip[0], 0))
                    pyfr_tm_in(pyfr_tm_raw.sites, ip[0], 1);
                return !pass;
            }
        }
    return 0;
}
