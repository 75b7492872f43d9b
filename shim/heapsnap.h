/*
 * heapsnap.h - the public API of the heapsnap shim (libheapsnap.so), named
 * after Python's tracemalloc.  Everything is optional for a program: the
 * functions are declared weak, so a program that uses them links and runs
 * without the shim, and finds them when it runs under `heapsnap run` (or
 * with LD_PRELOAD=libheapsnap.so).  Test the function's address first:
 *
 *     #include <heapsnap.h>
 *     if (heapsnap_is_tracing && heapsnap_is_tracing())
 *         heapsnap_take_snapshot("before.hsnap");
 *
 * Nothing here allocates through the program's malloc.
 */
#ifndef HEAPSNAP_H
#define HEAPSNAP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef HEAPSNAP_API
#define HEAPSNAP_API __attribute__((weak))
#endif

/* Writes a snapshot to path (taken literally), or to the next name of
 * HEAPSNAP_OUTPUT when path is NULL (tracemalloc's take_snapshot + dump).
 * Returns 0, or -1 if it could not be written (the shim warns once). */
HEAPSNAP_API int heapsnap_take_snapshot(const char *path);

/* Traced bytes live now and the highest value since start-up or the last
 * heapsnap_reset_peak() (tracemalloc.get_traced_memory).  Either may be NULL. */
HEAPSNAP_API void heapsnap_get_traced_memory(size_t *current, size_t *peak);

/* The peak restarts from the current size (tracemalloc.reset_peak). */
HEAPSNAP_API void heapsnap_reset_peak(void);

/* Forgets every traced block and every per-site sum
 * (tracemalloc.clear_traces).  Blocks allocated before are no longer
 * reported; their frees are counted as foreign. */
HEAPSNAP_API void heapsnap_clear_traces(void);

/* 1 while the shim records allocations; 0 once it stopped (out of memory)
 * (tracemalloc.is_tracing). */
HEAPSNAP_API int heapsnap_is_tracing(void);

/* Bytes of memory the shim itself uses (tracemalloc.get_tracemalloc_memory). */
HEAPSNAP_API size_t heapsnap_get_tracemalloc_memory(void);

/*
 * Reserved for the reference model (gc-like API, added with it):
 *   heapsnap_collect, heapsnap_get_count, heapsnap_refcount,
 *   heapsnap_referrers, heapsnap_referents, heapsnap_ignore,
 *   heapsnap_register_root.
 */

#ifdef __cplusplus
}
#endif

#endif
