/*
 * python.h - the door of shim/python/frames/ for the shim's root and the
 * writer: CPython seen from inside the process, so that a Python
 * program's blocks are charged to its Python lines, as tracemalloc
 * charges them, with the native frames around them (pyfr_trace, pyfr_again),
 * the code objects those name (PYCODE), and tracemalloc's own
 * allocations told apart (pyfr_tm_).  The Python rooms, lowest first:
 * layout/ (the version table), reads/, frames/, wrap/ (what the wrapped
 * allocator domains keep), heap/, retain/, graph/, leakref/, exit/ (the
 * exit snapshot), and shim/python/ itself (the objects at a snapshot,
 * pyobjects.h); each has its own door.
 * Everything here runs on the allocating thread with guard_on set, reads
 * the interpreter's memory only for the thread that holds the GIL, and
 * allocates only from the arena.  Without CPython: one test of pyfr_on per
 * recorded allocation.
 */
#ifndef HEAPSNAP_PYTHON_H
#define HEAPSNAP_PYTHON_H

#include <stddef.h>
#include <stdint.h>

/* Nonzero once CPython's allocator domains are wrapped (pyfr_trace splices). */
extern int pyfr_on;

/* The interpreter's dlopen running on this thread (window.c): the CFA of
 * pytrack_dlopen's frame, outward of which nothing moves until it
 * returns; 0 when none.  pyfr_window_enter(cfa) opens it (returns what to
 * hand pyfr_window_leave: 0 when one was open already or Python is not
 * traced).  pyfr_window_trace: hook_stack's walk of a new stack inside
 * it, 1 and *id when the stack's own frames and the part outward spliced
 * before make its trace, -1 out of memory, 0: the ordinary path (which
 * learns the part from this stack). */
struct unwind_origin;
extern __thread uintptr_t pyfr_window_bound;
uintptr_t pyfr_window_enter(uintptr_t cfa);
void pyfr_window_leave(uintptr_t cfa);
int pyfr_window_trace(const struct unwind_origin *origin, unsigned max, uint32_t *id);

/* The one call of the recorder (hook_stack) after the unwind:
 * ip[0..depth) is the native stack (room for max + UNWIND_SLACK), *name
 * the unwinder's memo name it came back with (UNWIND_NAME_FRAMES set), or
 * UNWIND_NO_NAME when it was walked.  Returns 0 when the stack is the
 * recorder's to intern and name as usual (no evaluation frames); 1 when
 * *id is the trace, Python frames spliced in and interned; -1 when nothing
 * can be recorded.  Nonzero: *name is the name for the walk (a new one,
 * UNWIND_NAME_FRAMES set, when it was UNWIND_NO_NAME). */
int pyfr_trace(uintptr_t *ip, unsigned depth, unsigned max, int truncated, uint32_t *name,
             uint32_t *id);

/* hook_stack, for a stack that unwind_again answered with a name of
 * pyfr_trace's: 1 and *id the trace when this thread spliced the same native
 * stack with the same Python frames before (no frame needed); 0: the
 * native frames and pyfr_trace, then. */
int pyfr_again(uint32_t name, uint32_t *id);

/* HEAPSNAP_PYTHON_NATIVE=caller (HS_RARE_PYCALLER, set while the
 * domains are wrapped): a thread that runs Python code records the
 * allocator's caller ra and its Python frames, with no native walk.
 * pyfr_caller: 0 when this thread runs no Python code (the native walk
 * then); 1 and *id when it met this stack lately (its recent splices); 2
 * when it did not: *name is the name to keep its trace under
 * (pyfr_caller_keep), and pyfr_caller_frames gives its frames, [the
 * native frames kept, the Python frames] in ip (room for max +
 * PY_CALLER_NATIVE), their count returned; 3 when ra lies in an allocator
 * wrapper's module (libc's strdup, GLib's g_malloc): the caller
 * walks PY_CALLER_NATIVE frames from the allocator's caller outward and
 * pyfr_caller_wrapped, given them, answers 1 or 2 as above. */
#define PY_CALLER_NATIVE 4
int pyfr_caller(uintptr_t ra, unsigned max, uint32_t *name, uint32_t *id);
int pyfr_caller_wrapped(const uintptr_t *nat, unsigned n, uint32_t *name, uint32_t *id);
unsigned pyfr_caller_frames(uintptr_t *ip, int *truncated);
void pyfr_caller_keep(uint32_t name, uint32_t id);

/* heapsnap_python_frames: new stacks keep at most n Python frames (0: no
 * cap but HEAPSNAP_DEPTH's) and, native 0, none of their native frames;
 * the threads' recent splices, made before, are forgotten (pyfr_walk_last sees
 * pyfr_frames_gen move). */
void pyfr_frames_cap(unsigned n, int native);

/* The thread is ending (thr_detach): its recent splices go back. */
void pyfr_thread_end(void);

/* The code table's lock (code.c), for fork's handlers (life_prepare). */
void pyfr_code_lock(void);
void pyfr_code_unlock(void);

/* The snapshot writer: the PYCODE section's payload (see hsnap_format.h),
 * with only the snapshot lock held, after TRACES.  fatal: bounded lock
 * attempts (nothing written if they fail). */
struct sbuf;
struct hsnap_pyunread;
void pyfr_put_codes(struct sbuf *b, int fatal);
uint32_t pyfr_code_count(void);
/* The in-process dump (heapsnap_dump), with pyfr_code_lock held: a Python
 * frame word's line (0: unknown), and the names of code ids [from, n) into
 * b (u32 filename_len, u32 qualname_len, both; returns n). */
int pyfr_frame_line(uint64_t w);
uint32_t pyfr_put_names(struct sbuf *b, uint32_t from);
uint32_t pyfr_version(void); /* Py_Version once the domains are wrapped; else 0 */
/* pyverify.c: the layout read against the calling thread's frames (under
 * the GIL, with peek): 0, or -1 when a frame does not read as it says. */
int pyfr_layout_verify(const char *ts);
/* tracemalloc's own allocations (pytm.c).  pyfr_tm_init: dom_init, with
 * _Py_tracemalloc_config's address (or NULL).  pyfr_tm_see: a domain
 * wrapper's caller's return address while tracemalloc traces (pyfr_tm_on).
 * pyfr_tm_own: the native stack ip[0..depth) is a tracemalloc hook's own
 * allocation (HSNAP_TRACE_TMOWN); always 0 until a hook is seen. */
extern const int *pyfr_tm_tracing;
extern _Atomic unsigned pyfr_tm_n;
void pyfr_tm_init(const void *config);
/* 3.12 on: tracemalloc's config inside runtime (_PyRuntime), or NULL when
 * heapsnap has no row for version or the values there are not a config. */
const void *pyfr_tm_runtime_config(uint32_t version, const void *runtime);
void pyfr_tm_see(uintptr_t ra);
int pyfr_tm_own(const uintptr_t *ip, unsigned depth);
/* CPython's PyMemAllocatorEx (stable since 3.4): a domain's entry. */
struct pyfr_alloc {
    void *ctx;
    void *(*malloc)(void *ctx, size_t n);
    void *(*calloc)(void *ctx, size_t n, size_t m);
    void *(*realloc)(void *ctx, void *p, size_t n);
    void (*free)(void *ctx, void *p);
};

/* pyfr_tm_raw_wrap: dom_poll put the wrappers beneath tracemalloc's hooks
 * (from start-up); raw is the RAW entry (a PyMemAllocatorEx) of their
 * {mem, raw, obj}, which tracemalloc's own tables are allocated through
 * too: its malloc and calloc get pass-throughs that learn their callers.
 * pyfr_tm_raw_unwrap: a detach's unwrap (GIL held): the originals back,
 * in that entry or in the RAW domain (tracemalloc.stop() copied it),
 * through PyMem_GetAllocator and PyMem_SetAllocator (get, set). */
void pyfr_tm_raw_wrap(struct pyfr_alloc *raw);
void pyfr_tm_raw_unwrap(void (*get)(int, struct pyfr_alloc *), void (*set)(int, struct pyfr_alloc *));
static inline int pyfr_tm_on(void) { return pyfr_tm_tracing && *(volatile const int *)pyfr_tm_tracing; }

#endif
