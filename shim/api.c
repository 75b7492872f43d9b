/*
 * api.c - the public API of heapsnap.h, thin wrappers over the shim's
 * modules.  Defined with default visibility (everything else in the shim is
 * hidden) and strong here: HEAPSNAP_API is redefined to export instead of
 * the weak declarations a program sees.
 */
#define HEAPSNAP_API __attribute__((visibility("default")))
#include "heapsnap.h"
#include "shim.h"

int heapsnap_take_snapshot(const char *path)
{
    return snap_take(HSNAP_REASON_API, path, 0);
}

void heapsnap_get_traced_memory(size_t *current, size_t *peak)
{
    uint64_t c, p;
    trace_totals(&c, &p);
    if (current)
        *current = (size_t)c;
    if (peak)
        *peak = (size_t)p;
}

void heapsnap_reset_peak(void)
{
    trace_reset_peak();
}

void heapsnap_clear_traces(void)
{
    int saved = hook_guard;
    hook_guard = 1;
    trace_clear();
    hook_guard = saved;
}

int heapsnap_is_tracing(void)
{
    return hook_is_active();
}

size_t heapsnap_get_tracemalloc_memory(void)
{
    return arena_mapped();
}
