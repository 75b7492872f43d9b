/*
 * python.h - the door of the Python room: CPython seen from inside the
 * process, so that a Python program's blocks are charged to its Python
 * lines, as tracemalloc charges them, with the native frames around them.
 *
 *   layout.c  the version table (3.10-3.13; _Py_DebugOffsets from 3.13)
 *   domain.c  (the root's: dom_, root.h) finding CPython, wrapping its MEM and OBJ
 *             allocator domains (tracemalloc's way: pymalloc stays on)
 *   stack.c   the thread's Python frames spliced into a native stack
 *   native.c  the native stacks spliced into, numbered for the memo
 *   recent.c  the thread's recent splices: (name, Python frames) -> trace
 *   code.c    code objects copied into the shim's memory, their ids, PYCODE
 *   pytype.c  each object's type, read at a snapshot, PYTYPES (+ pyretain.c)
 *   pydomain.c tracemalloc's domains per block (py_domain_; lock 11)
 *   pygcfreed.c what the cycle collector freed, per trace (py_gcf_)
 *   pytm.c    tracemalloc's own allocations told by its hooks (py_tm_)
 *   pyreborn.c a free list's object charged where it is born again (py_reborn_)
 *   pyfreewatch.c the same before 3.13: the free lists watched (py_fw_)
 *
 * Everything here but the snapshot's files (pytype.c, pyretain.c...) runs
 * on the allocating thread with guard_on set, reads the interpreter's
 * memory only for the thread that holds the GIL, and allocates only from
 * the arena (the snapshot's: its writer's thread, reading safely).  Without
 * CPython: one test of py_on per recorded allocation.
 */
#ifndef HEAPSNAP_PYTHON_H
#define HEAPSNAP_PYTHON_H

#include <stddef.h>
#include <stdint.h>

/* Nonzero once CPython's allocator domains are wrapped (stack.c splices). */
extern int py_on;

/* The one call of the recorder (hooks.c's hook_stack) after the unwind:
 * ip[0..depth) is the native stack (room for max + UNWIND_SLACK), *name
 * the unwinder's memo name it came back with (UNWIND_NAME_FRAMES set), or
 * UNWIND_NO_NAME when it was walked.  Returns 0 when the stack is the
 * recorder's to intern and name as usual (no evaluation frames); 1 when
 * *id is the trace, Python frames spliced in and interned; -1 when nothing
 * can be recorded.  Nonzero: *name is the name for the walk (a new one,
 * UNWIND_NAME_FRAMES set, when it was UNWIND_NO_NAME). */
int py_trace(uintptr_t *ip, unsigned depth, unsigned max, int truncated, uint32_t *name,
             uint32_t *id);

/* hook_stack, for a stack that unwind_again answered with a name of
 * py_trace's: 1 and *id the trace when this thread spliced the same native
 * stack with the same Python frames before (no frame needed); 0: the
 * native frames and py_trace, then. */
int py_again(uint32_t name, uint32_t *id);

/* heapsnap_python_frames: new stacks keep at most n Python frames (0: no
 * cap but HEAPSNAP_DEPTH's) and, native 0, none of their native frames;
 * the threads' recent splices, made before, are forgotten (recent.c sees
 * py_frames_gen move). */
void py_frames_cap(unsigned n, int native);

/* The leak check (world stopped, or a fork): each block of b[0, n) that
 * holds a Python object gets the object's offset in reserved (pytype.c's
 * reading of the types; 0 where none, or not after the block's start). */
struct hsnap_block;
void py_object_starts(struct hsnap_block *b, uint64_t n);
/* ... and the runtime's own among its direct leaks (pyinit.c): whether
 * trace ip[0, n) is a C extension's initialisation code making a block,
 * and whether the block at addr holds an object with a reference count. */
int py_init_trace(const uintptr_t *ip, unsigned n);
/* ... whose names it looks up first, before the world stops (it takes the
 * code table's lock; py_init_trace then takes none). */
void py_init_prepare(void);
int py_init_object(uintptr_t addr, uint64_t size);
uint64_t py_init_held(struct hsnap_block *b, uint64_t n, const uint8_t *init, uint32_t nt);
/* The leaked references' side of it (pyleakref.c): of h's candidates
 * counted once more than words found (want, words), the tuples holding the
 * names of a code object whose block kept(addr) calls an initialisation's
 * get words UINT32_MAX; how many. */
struct pyg_heap;
uint64_t py_init_names_refs(const struct pyg_heap *h, uint64_t nobj, const uint8_t *want,
                            uint32_t *words, int (*kept)(uint64_t addr));

/* The thread is ending (threads.c): its recent splices go back. */
void py_thread_end(void);

/* The code table's lock (code.c), for fork's handlers (life.c). */
void py_code_lock(void);
void py_code_unlock(void);

/* The snapshot writer: the PYCODE section's payload (see hsnap_format.h),
 * with only the snapshot lock held, after TRACES.  fatal: bounded lock
 * attempts (nothing written if they fail). */
struct sbuf;
struct hsnap_pyunread;
void py_put_codes(struct sbuf *b, int fatal);
uint32_t py_code_count(void);
/* The in-process dump (heapsnap_dump), with py_code_lock held: a Python
 * frame word's line (0: unknown), and the names of code ids [from, n) into
 * b (u32 filename_len, u32 qualname_len, both; returns n). */
int py_frame_line(uint64_t w);
uint32_t py_put_names(struct sbuf *b, uint32_t from);
uint32_t py_version(void); /* Py_Version once the domains are wrapped; else 0 */

/* The snapshot writer (snapshot lock, not the fatal path): PYTYPES
 * (hsnap_format.h) into b.  py_types_begin: 0 when there are objects to
 * type (the head put), -1 when not (b untouched); then every live block,
 * in address order, to py_types_block; py_types_end finishes b (b->err
 * set when it could not) and, given no sink, puts PYOWNED into owned when
 * the graph was built (nothing there otherwise), or streams PYTYPES to a
 * sink (PYOWNED then to py_owned_stream's); then
 * py_types_retain (b and owned may be written and given back before it:
 * the retained sizes' pass, its memory the stop's peak, needs neither)
 * computes PYRETAIN's sizes and gives the objects' arrays back. */
int py_types_begin(struct sbuf *b);
void py_types_block(uint64_t addr, uint64_t size);
/* A sink PYTYPES is streamed to (py_types_end), as PYRETAIN's: begin
 * with the section's size, then runs of records (run: the next bytes are
 * records of stride bytes, for the planes; 1: bytes) put in order, end. */
struct py_types_sink {
    void (*begin)(void *arg, uint64_t bytes);
    void (*run)(void *arg, uint32_t stride);
    void (*put)(void *arg, const void *p, size_t n);
    void (*end)(void *arg);
    void *arg;
};
/* sink (may be NULL): PYTYPES streamed to it as soon as the graph is
 * built, before PYOWNED is made (b then given back): 1 when it was. */
int py_types_end(struct sbuf *b, struct sbuf *owned, const struct py_types_sink *sink);
/* A sink PYOWNED is streamed to (py_owned_stream): begin with the
 * section's size, its bytes put in order, end. */
struct py_owned_sink {
    void (*begin)(void *arg, uint64_t bytes);
    void (*put)(void *arg, const void *p, size_t n);
    void (*end)(void *arg);
    void *arg;
};
/* After py_types_end was given a sink (and before py_types_retain):
 * PYOWNED streamed to s, from the owners' array, which is given back; 1
 * when there was one (0: none, nothing put). */
int py_owned_stream(const struct py_owned_sink *s);
/* Whether py_types_begin could read the objects (a CPython it knows). */
int py_types_can(void);
void py_types_retain(void);
/* Instead of py_types_end: the types given up, their memory and b's
 * given back. */
void py_types_drop(struct sbuf *b);

/* pydomain.c: tracemalloc's domains (PyTraceMalloc_Track) by address */
void py_domain_set(unsigned domain, uintptr_t p, uint64_t size);
void py_domain_unset(unsigned domain, uintptr_t p);
int py_domain_any(void);
uint32_t py_domain_of(uintptr_t p, uint64_t size); /* 0: none (or another size) */
void py_domain_fork(int phase); /* 0 prepare, 1 parent, 2 child */
/* After py_types_retain: PYRETAIN (pyretain.c), the retained sizes of the
 * graph it built, into b (NULL: dropped); nothing without a graph. */
void py_retain_put(struct sbuf *b);
/* Before py_types_retain: PYRETAIN goes to a sink as it is made, never
 * held whole (the stop's peak), instead of to py_retain_put: begin(arg,
 * bytes) with the section's size, then put(arg, p, n) with its bytes in
 * order; neither when there is none.  NULL: kept for py_retain_put. */
struct py_retain_sink {
    void (*begin)(void *arg, uint64_t bytes);
    void (*put)(void *arg, const void *p, size_t n);
    void *arg;
};
void py_retain_sink(const struct py_retain_sink *s);
/* Before py_types_begin: whether PYRETAIN looks for leaked references
 * (pyleakref.c: a scan of the writable memory; the leak check's snapshots). */
void py_retain_refs(int on);
/* The leak check's classes for the leaked references (pyleakref.c): the
 * blocks it did not find reachable, as the check classed them
 * (hsnap_block.cls), by address.  py_lc_room: room for n (arena memory;
 * the last ones dropped), NULL when out of memory or n is 0; py_lc_set: k
 * of them filled, ascending.  The next scan (py_retain_refs) hears them
 * once; py_lc_drop forgets them (a snapshot that built no graph);
 * py_lc_wanted: whether a graph can hear them at all (CPython found), so
 * that a process without one maps no room for them. */
struct py_blkcls {
    uint64_t addr;
    uint32_t cls; /* enum hsnap_class */
    uint32_t pad;
};
struct py_blkcls *py_lc_room(uint64_t n);
void py_lc_set(uint64_t k);
void py_lc_drop(void);
int py_lc_wanted(void);

/* pygcfreed.c: the objects the cycle collector frees, per trace.
 * py_gcf_collecting points at the main interpreter's gcstate->collecting
 * once the domains are wrapped (py_gcf_arm, under the GIL), at a zero
 * before: the free path's test is py_gcf_busy(), two loads.  py_gcf_freed:
 * a block of the OBJ domain (its start p, size, trace) is being freed
 * while the collector runs; counted when it holds an object of a gc type. */
extern const volatile int *py_gcf_collecting;
static inline int py_gcf_busy(void)
{
    return __builtin_expect(*py_gcf_collecting != 0, 0);
}
void py_gcf_arm(void);
void py_gcf_disarm(void); /* finalization began (pyexit.c): the flag's ours again */
void py_gcf_freed(const void *p, uint64_t size, uint32_t trace);
/* The snapshot writer, after TRACES (ntraces of them): PYGCFREED into b
 * (hsnap_format.h); nothing when the collector was never watched. */
void py_gcf_put(struct sbuf *b, uint32_t ntraces);
/* pyverify.c: the layout read against the calling thread's frames (under
 * the GIL, with peek): 0, or -1 when a frame does not read as it says. */
int py_layout_verify(const char *ts);
/* pyunread.c: the CPython found and not read (HSNAP_PYUNREAD_*, set at
 * start-up), for PYUNREAD (py_unread_put: nothing when it is read) and the
 * API (py_unread_get: 1 with it, 0 when the shim reads its CPython or
 * finds none). */
const char *py_unread_set(uint32_t version, uint32_t why, const char *what); /* the note */
const char *py_unread_text(void); /* the note when frames are not read, or NULL */
void py_unread_clear(void);
int py_unread_get(struct hsnap_pyunread *out);
void py_unread_put(struct sbuf *b);
/* pyseed.c: each dead list, dict and small tuple the main interpreter's
 * free lists hold (under the GIL): fn(block, size, arg), its block (the
 * PyGC_Head's start) and the size asked for it; how many. */
typedef void (*py_seed_fn)(uintptr_t block, uint64_t size, void *arg);
unsigned py_seed_each(py_seed_fn fn, void *arg);
/* pyseedlive.c: each live list, dict (and its small combined keys table)
 * and small tuple the collector tracks, made before the wrap (under the
 * GIL, no collection running): fn as py_seed_each's; how many. */
unsigned py_seed_live(py_seed_fn fn, void *arg);
/* pyreborn.c: an object a free list hands out again, charged where it is
 * born again (3.13 on).  py_fresh: the block the domains' wrapper recorded
 * last on this thread (its object's birth is its first).  py_reborn_arm:
 * the domains wrapped (GIL held): the interpreter's reference tracer
 * taken, unless another holds it; each birth of a block not fresh is
 * handed to host (the block, the birth's origin), with the guard clear.
 * py_reborn_disarm: the tracer given back, if ours (GIL held). */
struct unwind_origin;
extern __thread uintptr_t py_fresh;
void py_reborn_arm(void *(*lookup)(const char *),
                   void (*host)(uintptr_t block, const struct unwind_origin *origin));
void py_reborn_disarm(void);
/* pyfreewatch.c: the same before 3.13, where no tracer tells a birth:
 * the main interpreter's free lists of tuples, floats, lists and dicts
 * compared with a shadow after each recorded allocation through a
 * wrapped domain (its block fresh, or 0; the GIL held, the guard clear),
 * and each object that left one and lives again handed to host with
 * fresh and that allocation's origin (armed at the first call; a load
 * and a test from 3.13 on). */
typedef void (*py_fw_host)(uintptr_t block, uintptr_t fresh, const struct unwind_origin *origin);
void py_fw_poll(uintptr_t fresh, const struct unwind_origin *origin, py_fw_host host);
/* tracemalloc's own allocations (pytm.c).  py_tm_init: dom_init, with
 * _Py_tracemalloc_config's address (or NULL).  py_tm_see: a domain
 * wrapper's caller's return address while tracemalloc traces (py_tm_on).
 * py_tm_own: the native stack ip[0..depth) is a tracemalloc hook's own
 * allocation (HSNAP_TRACE_TMOWN); always 0 until a hook is seen. */
extern const int *py_tm_tracing;
extern _Atomic unsigned py_tm_n;
void py_tm_init(const void *config);
/* 3.12 on: tracemalloc's config inside runtime (_PyRuntime), or NULL when
 * heapsnap has no row for version or the values there are not a config. */
const void *py_tm_runtime_config(uint32_t version, const void *runtime);
void py_tm_see(uintptr_t ra);
int py_tm_own(const uintptr_t *ip, unsigned depth);
/* CPython's PyMemAllocatorEx (stable since 3.4): a domain's entry. */
struct py_alloc {
    void *ctx;
    void *(*malloc)(void *ctx, size_t n);
    void *(*calloc)(void *ctx, size_t n, size_t m);
    void *(*realloc)(void *ctx, void *p, size_t n);
    void (*free)(void *ctx, void *p);
};

/* py_tm_raw_wrap: dom_poll put the wrappers beneath tracemalloc's hooks
 * (from start-up); raw is the RAW entry (a PyMemAllocatorEx) of their
 * {mem, raw, obj}, which tracemalloc's own tables are allocated through
 * too: its malloc and calloc get pass-throughs that learn their callers.
 * py_tm_raw_unwrap: a detach's unwrap (GIL held): the originals back,
 * in that entry or in the RAW domain (tracemalloc.stop() copied it),
 * through PyMem_GetAllocator and PyMem_SetAllocator (get, set). */
void py_tm_raw_wrap(struct py_alloc *raw);
void py_tm_raw_unwrap(void (*get)(int, struct py_alloc *), void (*set)(int, struct py_alloc *));
static inline int py_tm_on(void) { return py_tm_tracing && *(volatile const int *)py_tm_tracing; }

#endif
