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
#include <stdint.h>

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

/* Starts a new birth epoch and returns its number: every block allocated
 * from now on carries it (or a later one), so a snapshot's blocks of this
 * epoch or later (`heapsnap top --born-since N`) are those allocated since
 * this call and still live (tracemalloc.start()'s "since").  Snapshots and
 * leak checks advance it too.  Blocks keep epochs up to 65535; later ones
 * read as 65535. */
HEAPSNAP_API unsigned heapsnap_new_epoch(void);

/* tracemalloc.start()'s traced memory: heapsnap_watch_start starts a new
 * epoch (returned) and counts, from then on, the bytes of the live blocks
 * born in it or later, and their peak; heapsnap_watch_memory reads them
 * (frees of blocks born before do not lower them, unlike
 * heapsnap_get_traced_memory's whole-process total); heapsnap_reset_peak
 * and heapsnap_clear_traces reset them as tracemalloc's; heapsnap_watch_stop
 * ends the count ((0, 0) after). */
HEAPSNAP_API unsigned heapsnap_watch_start(void);
HEAPSNAP_API void heapsnap_watch_stop(void);
HEAPSNAP_API void heapsnap_watch_memory(size_t *current, size_t *peak);

/*
 * The live blocks, handed to the process itself rather than written
 * (what the Python package builds tracemalloc's Snapshot from).  what:
 *   HEAPSNAP_DUMP_BLOCKS  one item per live block born in epoch `since` or
 *                         later (heapsnap_new_epoch; 0: all of them)
 *   HEAPSNAP_DUMP_LIVE    one item per trace with live blocks: their sums
 *   HEAPSNAP_DUMP_PEAK    ... at the peak's capture (since the last reset)
 *   HEAPSNAP_DUMP_BLOCK   the live block that starts at `block`, if it was
 *                         born in `since` or later (none: no item)
 * or'ed with HEAPSNAP_DUMP_PYTHON_ONLY: a trace with Python frames has no
 * native frames in `frames` (its span there is empty), only its Python ones;
 * with HEAPSNAP_DUMP_PLACES: traces[i] is the item's trace's place j in
 * trace_ids rather than its id (a caller indexes its per-trace tables
 * with it, without a lookup per item).
 * Items: sizes[i] bytes in counts[i] blocks (counts NULL: one each) charged
 * to trace traces[i].  Each trace named is in trace_ids (ascending), its
 * frames, innermost first, frames[frame_at[j] .. frame_at[j + 1]): native
 * return addresses, or Python frames (HSNAP_PY_TAG words, hsnap_pyformat.h:
 * code id = (w >> 24) & 0x0fffffff) whose line is lines[] at the same
 * index; the same Python frames alone are py_frames[py_at[j] .. py_at[j + 1])
 * as (code id << 32 | line).  names: for code ids code_from .. code_to - 1 (those copied since
 * the caller's last dump, which passed code_from = its code_to), u32
 * filename_len, u32 qualname_len, then both (UTF-8).  An empty array's
 * pointer may be NULL.  The dump lives in the shim's own mappings until
 * heapsnap_dump_free; NULL when out of memory or `what` is unknown.
 * Sizes are the recorded ones: under HEAPSNAP_SAMPLE, the sampled blocks.
 * domains: for the per-block kinds, each item's tracemalloc domain, as a C
 * extension tracked it with PyTraceMalloc_Track (NULL when none was).
 */
enum heapsnap_dump_what {
    HEAPSNAP_DUMP_BLOCKS = 0,
    HEAPSNAP_DUMP_LIVE = 1,
    HEAPSNAP_DUMP_PEAK = 2,
    HEAPSNAP_DUMP_BLOCK = 3,
    HEAPSNAP_DUMP_PYTHON_ONLY = 0x100,
    HEAPSNAP_DUMP_PLACES = 0x200,
    /* HEAPSNAP_DUMP_PYTHON_FRAMES(n) (or'ed, n 1-65535): at most the n
     * innermost Python frames of each trace in py_frames, as
     * tracemalloc.start(n) keeps them; py_total then has each trace's
     * number of Python frames (tracemalloc's total_nframe). */
};
struct heapsnap_dump {
    uint64_t nitems;
    const uint64_t *sizes, *counts;
    const uint32_t *traces;
    uint32_t ntraces, py_version;  /* py_version: Py_Version of the frames (0: none) */
    const uint32_t *trace_ids, *frame_at;
    const uint64_t *frames;
    const int32_t *lines;
    const uint32_t *py_at;
    const uint64_t *py_frames;
    uint32_t code_from, code_to;
    const char *names;
    size_t names_len;
    const uint32_t *domains; /* per item, tracemalloc's domain (NULL: all 0) */
    const uint32_t *py_total; /* per trace, its Python frames (NULL: no limit given) */
};
#define HEAPSNAP_DUMP_PYTHON_FRAMES(n) ((int)(((unsigned)(n) & 0xffffu) << 16))
HEAPSNAP_API struct heapsnap_dump *heapsnap_dump(int what, unsigned since, const void *block,
                                                 unsigned code_from);
HEAPSNAP_API void heapsnap_dump_free(struct heapsnap_dump *dump);

/* tracemalloc.stop() and start(): recording stops (allocations pass
 * unrecorded; recorded blocks that are freed still leave the books) until
 * heapsnap_start(), which also ends HEAPSNAP_PAUSED's stop.  A process that
 * ends stopped writes no exit snapshot. */
HEAPSNAP_API void heapsnap_stop(void);
HEAPSNAP_API void heapsnap_start(void);

/* tracemalloc.start(nframe)'s limit: stacks recorded from now on keep at
 * most n Python frames (the innermost; HEAPSNAP_PYTHON_NATIVE=trim, the
 * default, only), as tracemalloc keeps its tracebacks, and with native 0
 * no native frame in a stack that has a Python one (tracemalloc's
 * footprint); n 0 lifts both (HEAPSNAP_DEPTH's again).  The Python
 * package's start() and stop() call it, not the pytest plugin or the
 * notebook magic. */
HEAPSNAP_API void heapsnap_python_frames(unsigned n, int native);

/* NULL when the shim reads this process's CPython (Python lines, types,
 * the object graph) or the process runs none; else the one line it said
 * at start-up, "CPython 3.14's _Py_DebugOffsets have a shape heapsnap does
 * not read: native frames only": it records native frames only.  The
 * Python package's start() raises RuntimeError with it. */
HEAPSNAP_API const char *heapsnap_python_unread(void);

/* This thread's own allocations pass unrecorded (on = 0) or are recorded
 * again (1); its frees of recorded blocks leave the books either way.
 * Returns 1 if the thread was recording.  (What tracemalloc does while it
 * builds a snapshot: its own objects are not traced.) */
HEAPSNAP_API int heapsnap_thread_recording(int on);

/* 1 while the shim records allocations; 0 once it stopped (out of memory)
 * (tracemalloc.is_tracing). */
HEAPSNAP_API int heapsnap_is_tracing(void);

/* Bytes of memory the shim itself uses (tracemalloc.get_tracemalloc_memory). */
HEAPSNAP_API size_t heapsnap_get_tracemalloc_memory(void);

/*
 * The reference model (the leak check), named after Python's gc and sys.
 * Each call stops the program's other threads for the time of one scan of
 * the roots and the heap (a signal, HEAPSNAP_STOP_SIGNAL; see docs/leaks.md),
 * so they cost about as much as a leak check: use them in tests and
 * debugging sessions, not in hot loops.
 */

/* What holds a reference (heapsnap_ref.kind). */
enum heapsnap_ref_kind {
    HEAPSNAP_REF_BLOCK = 0, /* a live heap block */
    HEAPSNAP_REF_DATA = 1,  /* a module's data or bss */
    HEAPSNAP_REF_STACK = 2, /* a thread's stack */
    HEAPSNAP_REF_REGS = 3,  /* a thread's registers */
    HEAPSNAP_REF_TLS = 4,   /* thread-local storage */
    HEAPSNAP_REF_USER = 5,  /* a range given to heapsnap_register_root */
};

struct heapsnap_ref {
    int kind;            /* enum heapsnap_ref_kind */
    unsigned trace;      /* BLOCK: its allocation trace id (the TRACES index
                            of the next snapshot) */
    const void *block;   /* BLOCK: the block's start; else NULL */
    size_t size;         /* BLOCK: its requested size */
    const void *where;   /* the word holding the reference (NULL: register) */
    const void *site;    /* BLOCK: innermost return address of its allocation
                            stack (symbolize with addr2line / dladdr) */
};

/* gc.collect(): runs the leak check now and returns the number of
 * unreachable blocks (direct, indirect and cycle; not possibly lost);
 * with a path, also writes a snapshot there with the LEAKS section.
 * Advances the birth epoch.  -1 on failure (warned once). */
HEAPSNAP_API long heapsnap_collect(const char *path);

/* gc.get_count(): live traced blocks by age in epochs (collections and
 * snapshots): counts[0] born in the current epoch, counts[1] in the one
 * before, ..., counts[n-1] that old or older.  Returns all live blocks. */
HEAPSNAP_API size_t heapsnap_get_count(size_t *counts, size_t n);

/* sys.getrefcount(): the references to p's block (p may point into it)
 * from roots and from every live block, start or interior, found now.
 * Like sys.getrefcount, a copy of p that the caller keeps in a register or
 * on its stack counts.  -1 when p is not in a live traced block. */
HEAPSNAP_API long heapsnap_refcount(const void *p);

/* gc.get_referrers(): what refers to p's block, up to max of them into out
 * (out may be NULL with max 0).  Returns how many there are (which may
 * exceed max), or -1 when p is not in a live traced block. */
HEAPSNAP_API long heapsnap_referrers(const void *p, struct heapsnap_ref *out, size_t max);

/* gc.get_referents(): the live blocks that p's block points into, one
 * entry per word (where = the word in p's block).  As heapsnap_referrers. */
HEAPSNAP_API long heapsnap_referents(const void *p, struct heapsnap_ref *out, size_t max);

/* __lsan_ignore_object(): p's block (p = its start, or a pointer into it)
 * is kept on purpose: it is a root, never reported, and what it points to
 * is reachable.  0, or -1 when p is in no live traced block.  (The shim
 * also exports LeakSanitizer's own interface: see docs/api.md.) */
HEAPSNAP_API int heapsnap_ignore(const void *p);

/* LeakSanitizer's root regions: [p, p+len) is scanned as a root until
 * unregistered (at most 1024 ranges; unregister drops one range that
 * starts at p, whatever its length).  0 or -1. */
HEAPSNAP_API int heapsnap_register_root(const void *p, size_t len);
HEAPSNAP_API int heapsnap_unregister_root(const void *p);

#ifdef __cplusplus
}
#endif

#endif
