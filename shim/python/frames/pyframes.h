/*
 * pyframes.h - the door of shim/python/frames/ for the Python rooms
 * above it (python.h is the part the shim's root and the writer use):
 * a thread's Python frames read and spliced into its native stacks.
 * stack.c splices, recent.c walks the frames and keeps the thread's
 * recent splices, native.c names the native stacks, code.c copies code
 * objects and gives them ids (PYCODE), pytname.c reads strs and type
 * names safely, pytm.c tells tracemalloc's own allocations, pyverify.c
 * checks the layout against live frames.  The frame readers below are
 * inlined for recent.c's walk, made on every allocation.  Prefix: pyfr_
 * (pyfr_tm_ for pytm.c's, pyfr_code_ for code.c's), PY_ for constants.
 */
#ifndef HEAPSNAP_PYFRAMES_H
#define HEAPSNAP_PYFRAMES_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hsnap_pyformat.h"
#include "record.h"
#include "pylayout.h"
#include "python.h"

/* code.c: the UTF-8 text of the compact str object at s into out (cap
 * bytes); its length (0: none, or not a compact str). */
uint32_t pyfr_str(const char *s, char *out, uint32_t cap);

/* pytname.c: the str at s as UTF-8 into out (cap bytes), read safely; its
 * length (0: none). */
uint32_t pyfr_str_peek(uintptr_t s, char *out, uint32_t cap);
/* pytname.c: the name of the type at t whose first PY_TP_FINALIZE + 8
 * bytes are tb, into out (PY_TYPE_NAME_MAX bytes): tp_name, or for a class
 * __module__.__qualname__; its length, 0: none readable.  Each snapshot
 * calls pyfr_type_names_begin first. */
#define PY_TYPE_NAME_MAX 512u
uint32_t pyfr_type_name(const struct pylay_obj_layout *ol, uintptr_t t, const char *tb, uint64_t flags,
                      char *out);
void pyfr_type_names_begin(void);

extern int pyfr_trim; /* HEAPSNAP_PYTHON_NATIVE=trim (pyfr_trace) */
extern int pyfr_caller_mode; /* ... =caller: one native frame under Python (pyfr_caller) */
extern _Atomic unsigned pyfr_frames_max; /* heapsnap_python_frames' cap, 0: none (pyfr_frames_cap) */
extern _Atomic unsigned pyfr_frames_gen; /* ... moved at each change (pyfr_walk_take) */

/* A frame's code object: from 3.14 on f_executable is a _PyStackRef, its
 * low bit a tag (Py_TAG_REFCNT); objects are 16-aligned, so the tag bits
 * are cleared on every version. */
#define PY_CODE_TAGS ((uintptr_t)7)
static inline uintptr_t pyfr_frame_code(const char *fr)
{
    return pylay_ptr(fr, pylay_lay->fr_code) & ~PY_CODE_TAGS;
}

/* A code object's line runs, made by code.c when it copies the code:
 * instruction offsets (code units) from run r - 1's end (0 for the first)
 * to end[r] (exclusive) are one line's, whose first offset in the code
 * is first[r] (the start of the first run of that line).  A frame's word
 * keeps that first offset, not its instruction, so that the instructions
 * of one line make one trace, as tracemalloc keys a frame by its line; the
 * CLI reads the same line from either (hsnap_pyline.h).  Never freed. */
struct pyfr_lines {
    uint32_t n;       /* runs */
    uint32_t run[];   /* end[0..n), then first[0..n) */
};

/* The run of lasti's line (lasti: code units, at least 0): the first
 * run that ends past it, or ln->n (past the runs). */
static inline __attribute__((always_inline)) uint32_t pyfr_line_run(const struct pyfr_lines *ln,
                                                                  intptr_t lasti)
{
    const uint32_t *end = ln->run;
    uint32_t lo = 0, hi = ln->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if ((intptr_t)end[mid] > lasti)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The first offset of lasti's line (lasti: code units; negative, or past
 * the runs, or no runs: lasti itself): pyfr_word_of's, without its
 * thread's answer (test_code pins it). */
static inline __attribute__((always_inline)) intptr_t pyfr_line_first(const struct pyfr_lines *ln,
                                                                    intptr_t lasti)
{
    if (!ln || lasti < 0)
        return lasti;
    uint32_t r = pyfr_line_run(ln, lasti);
    return r < ln->n ? (intptr_t)ln->run[ln->n + r] : lasti;
}

/* code.c: the code object at co (alive: a frame of this thread names it)
 * as a small id for a trace word, copying it the first time; UINT32_MAX
 * when it cannot; *ln its line runs (NULL: none made).  The table's own
 * answer, under pyfr_code_lock (taken here), kept in this thread's cache;
 * pyfr_code_quick asks the cache first. */
uint32_t pyfr_code_id(const char *co, const struct pyfr_lines **ln);

/* A thread's answer of the code table: the code object at addr is id, as
 * long as pyfr_code_gen is gen.  pyfr_code_gen moves whenever a code object
 * dies (py_free of the OBJ domain sees its type) and whenever the
 * table gives an address a newer id, so while it stands, the object at
 * addr is the one the answer was given for: no code object can be born
 * at an address before the one there died. */
#define PY_CODE_CACHE 128u /* answers per thread (power of two) */
struct pyfr_code_hit {
    uintptr_t addr;        /* 0: empty */
    uint32_t id, gen;
    const struct pyfr_lines *lines; /* the code's line runs (NULL: none) */
    struct pyfr_run {      /* the line run pyfr_word_of found last: offsets [lo, hi) */
        uint32_t lo, hi, first; /* start their line at first (lo = hi: none) */
    } run;
};
extern __thread struct pyfr_code_hit *pyfr_code_hits; /* NULL: none */
extern _Atomic uint32_t pyfr_code_gen;

static inline struct pyfr_code_hit *pyfr_code_hit_of(const char *co)
{
    return &pyfr_code_hits[((uintptr_t)co * 0x9e3779b97f4a7c15ull) >> 40 & (PY_CODE_CACHE - 1)];
}

/* This thread's answer for the code object at co while it stands (its
 * generation: above), or NULL. */
static inline __attribute__((always_inline)) struct pyfr_code_hit *
pyfr_code_hit_valid(const char *co)
{
    if (HS_LIKELY(pyfr_code_hits)) {
        struct pyfr_code_hit *h = pyfr_code_hit_of(co);
        if (h->addr == (uintptr_t)co &&
            h->gen == atomic_load_explicit(&pyfr_code_gen, memory_order_relaxed))
            return h;
    }
    return NULL;
}

/* pyfr_code_id, from this thread's cache when it can (no lock).  The
 * identity check pyfr_code_id makes is not repeated here: that one cost a
 * third of the Python frames' time (seven loads from the code object and
 * its line table, each frame of each allocation); the generation says as
 * much (above). */
static inline __attribute__((always_inline)) uint32_t pyfr_code_quick(const char *co,
                                                                    const struct pyfr_lines **ln)
{
    const struct pyfr_code_hit *h = pyfr_code_hit_valid(co);
    if (h) {
        *ln = h->lines;
        return h->id;
    }
    return pyfr_code_id(co, ln);
}

/* py_free of the OBJ domain: the object at p is going; if it may
 * be a code object, every thread's answers are void (pyfr_code_hit).  Its
 * type is read where it cannot leave the block: size, the block's size
 * when it was in the books (0: not known).  A block of unknown size that
 * starts in a page's last 16 bytes is taken for a code object (every
 * PyObject has 16 bytes, but a raw buffer of the OBJ domain may be
 * shorter). */
static inline void pyfr_code_maybe_dies(const char *p, uint64_t size)
{
    if (size ? size >= 16 && pylay_ptr(p, pylay_lay->ob_type) == pylay_sym.code_type
             : (((uintptr_t)p & 4095) > 4096 - 16 ||
                pylay_ptr(p, pylay_lay->ob_type) == pylay_sym.code_type))
        atomic_fetch_add_explicit(&pyfr_code_gen, 1, memory_order_relaxed);
}

void pyfr_code_thread_end(void); /* code.c: this thread's cache goes back */

/* A word of a trace naming a Python frame: HSNAP_PY_TAG | id | offset. */
static inline uint64_t pyfr_frame_word(uint32_t code, uint32_t off)
{
    return HSNAP_PY_TAG | ((uint64_t)code << HSNAP_PY_CODE_SHIFT) |
           (off & HSNAP_PY_OFF_MASK);
}

/* A frame's instruction as read (3.10: the int f_lasti; then a pointer
 * into its code's co_code): with its code object, what its word is made
 * of (pyfr_word_of).  The functions below that take the frame model
 * (PY_FRAMES_*) are always inlined, so that pyfr_walk_take's walk, made for
 * every allocation, is compiled once per model with none of its tests;
 * pylay_lay->frames is the model to pass. */
static inline __attribute__((always_inline)) intptr_t pyfr_frame_at(const char *fr, int model)
{
    const struct pylay_layout *l = pylay_lay;
    if (model == PY_FRAMES_OBJECT)
        return *(const int *)(fr + l->fr_instr);
    return (intptr_t)pylay_ptr(fr, l->fr_instr);
}

/* The word of a frame running code co at instruction at (pyfr_frame_at),
 * or 0 when its code cannot be kept: the first instruction of its line
 * (pyfr_line_run).  The thread's answer for co keeps the line run its
 * last search found: the next frame of co in that line (the line's other
 * allocations, a loop's next turn) takes its word without the search
 * (`PYTHONMALLOC=malloc dicts.py`: 0.75 words an allocation, 22
 * instructions an allocation fewer; keeping four runs found no more). */
static inline __attribute__((always_inline)) uint64_t pyfr_word_of(const char *co, intptr_t at,
                                                                int model)
{
    if (!co)
        return 0;
    intptr_t lasti = model == PY_FRAMES_OBJECT ? at : (at - (intptr_t)(co + pylay_lay->co_code)) / 2;
    const struct pyfr_lines *ln = NULL;
    uint32_t id;
    struct pyfr_code_hit *h = pyfr_code_hit_valid(co); /* NULL: no run kept (pyfr_code_id) */
    if (h) {
        if ((uintptr_t)lasti - h->run.lo < (uintptr_t)h->run.hi - h->run.lo)
            return pyfr_frame_word(h->id, h->run.first + 1); /* lasti >= 0 here */
        id = h->id;
        ln = h->lines;
    } else if ((id = pyfr_code_id(co, &ln)) == UINT32_MAX) {
        return 0;
    }
    intptr_t first = lasti; /* the first offset of lasti's line: lasti itself when
                               negative, past the runs, or with no runs */
    if (ln && lasti >= 0) {
        uint32_t r = pyfr_line_run(ln, lasti);
        if (r < ln->n) {
            first = (intptr_t)ln->run[ln->n + r];
            /* the run kept for the next frame (its ends and first are a
             * run's u32 words, lasti below end[r]) */
            if (h && first < (intptr_t)HSNAP_PY_OFF_MASK) {
                h->run = (struct pyfr_run){r ? ln->run[r - 1] : 0, ln->run[r],
                                           (uint32_t)first};
            }
        }
    }
    if (first < -1 || first >= (intptr_t)HSNAP_PY_OFF_MASK)
        first = -1;
    return pyfr_frame_word(id, (uint32_t)(first + 1));
}

/* From 3.12 on, a native call of the evaluation loop puts a frame of its
 * own (owned by the C stack, no code of the program's) below the first it
 * runs: fr, or the first frame out of it that is not one of those. */
static inline __attribute__((always_inline)) const char *pyfr_frame_skip(const char *fr, int model)
{
    const struct pylay_layout *l = pylay_lay;
    if (model == PY_FRAMES_OWNER)
        while (fr && *(const uint8_t *)(fr + l->fr_entry) == l->cstack)
            fr = (const char *)pylay_ptr(fr, l->fr_previous);
    return fr;
}

/* ip (a return address) is in the evaluation loop: its function, or the
 * part of it the compiler split off (Debian's 3.14: py_find_eval). */
static inline int pyfr_is_eval(uintptr_t ip)
{
    return ip - 1 - pylay_sym.eval_lo < pylay_sym.eval_hi - pylay_sym.eval_lo ||
           ip - 1 - pylay_sym.eval2_lo < pylay_sym.eval2_hi - pylay_sym.eval2_lo;
}

/* This thread's own state, or NULL (not a Python thread, finalizing). */
static inline const char *pyfr_own_state(void)
{
    void *me = pylay_sym.this_thread();
    if (!me || (pylay_sym.finalizing && pylay_sym.finalizing()))
        return NULL;
    return me;
}

/* The innermost Python frame of the thread whose state is ts, or NULL. */
static inline __attribute__((always_inline)) const char *pyfr_frame_top(const char *ts, int model)
{
    const struct pylay_layout *l = pylay_lay;
    if (l->ts_cframe) {
        ts = (const char *)pylay_ptr(ts, l->ts_cframe);
        if (!ts)
            return NULL;
    }
    return pyfr_frame_skip((const char *)pylay_ptr(ts, l->cf_current), model);
}

/* The Python frame out of fr, or NULL; *entry: fr was the first frame of
 * its native evaluation call (the next one is another call's). */
static inline __attribute__((always_inline)) const char *pyfr_frame_next(const char *fr,
                                                                         int *entry, int model)
{
    const struct pylay_layout *l = pylay_lay;
    const char *up = (const char *)pylay_ptr(fr, l->fr_previous);
    if (model == PY_FRAMES_OBJECT) {
        *entry = 1;
        return up;
    }
    if (model == PY_FRAMES_ENTRY) {
        *entry = *(const uint8_t *)(fr + l->fr_entry) != 0;
        return up;
    }
    *entry = !up || *(const uint8_t *)(up + l->fr_entry) == l->cstack;
    return pyfr_frame_skip(up, model);
}

/* recent.c: one walk of the thread's Python frames, innermost first, as
 * the splice (pyfr_trace) and the thread's recent splices read it: made once
 * an allocation (pyfr_again's walk is pyfr_trace's), never past lim frames
 * with a word (no splice writes more), nor past PY_WALK_MAX frames.  A
 * frame's word is the last walk's where that walk had the same code and
 * instruction at the same place from the outermost frame walked (and no
 * code object died since: pyfr_code_gen). */
#define PY_WALK_MAX (TRACE_DEPTH_MAX + 64)
#define PY_CHAIN_MAX 64u /* Python frames of a splice the recent splices keep */
struct pyfr_walk {
    uint64_t hash;           /* of n, the entry flags and frames 1 .. n - 1's words */
    uint32_t n, lim;         /* frames walked; the frames with a word it stops at */
    uint8_t more;            /* frames beyond the walk */
    uint8_t cut;             /* ... and it stopped at PY_WALK_MAX, short of lim */
    uint8_t zero;            /* some frame's word is 0 */
    uint8_t keep;            /* a chain to keep: n <= PY_CHAIN_MAX, no word 0 */
    uint8_t valid;           /* pyfr_again's walk, for pyfr_trace (name, top) */
    uint8_t ext;             /* frames past lim walked (pyfr_walk_m) */
    uint32_t name;           /* pyfr_again's native name */
    uintptr_t top;           /* the innermost frame's address */
    uint64_t entry;          /* bit n - 1 - i (n <= 64): frame i is an entry frame */
    uint32_t gen;            /* pyfr_code_gen before its words were made */
    uint64_t *w;             /* their words (0: a frame whose code cannot be kept), in
                                the thread's anchored array (recent.c's pyfr_recent) */
    /* ... made of frame i's code object fa[2i] and instruction fa[2i + 1]
     * (pyfr_frame_at): side by side, so that two walks' outer frames compare
     * as one run of words (ftree_tail_same) */
    uintptr_t fa[2 * PY_WALK_MAX];
    uint64_t *ph;              /* the hash over frames n - 1 .. i (pyfr_walk_take), as w */
    uint8_t first[PY_WALK_MAX]; /* 1: frame i is the first of its native call */
};
/* The walk of this thread's frames (state ts), lim frames with a word at
 * most: this thread's new last walk (pyfr_walk_last).  Only after
 * pyfr_walk_last gave this thread a walk (its tables are made). */
struct pyfr_walk *pyfr_walk_take(const char *ts, uint32_t lim);
/* This thread's last walk (beside its recent splices), or NULL (no
 * memory); its lim is TRACE_DEPTH_MAX before the first walk. */
struct pyfr_walk *pyfr_walk_last(void);
/* 1 and *id: the native stack name with wk's frames spliced before. */
int pyfr_recent_find(const struct pyfr_walk *wk, uint32_t name, uint32_t *id);
void pyfr_recent_keep(const struct pyfr_walk *wk, uint32_t name, uint32_t id); /* ... is id */
void pyfr_recent_thread_end(void);                            /* the thread's tables go back */

/* window.c: pyfr_window_trace asked the ordinary path to learn from this
 * stack (its frames below the load's: nonzero), read and cleared by
 * pyfr_trace; pyfr_window_learn takes the part outward of them from the
 * splice (ip[0..depth) the walk, walk_cut its truncation, out[0..k) the
 * splice, flags the trace's), if whole. */
extern __thread unsigned pyfr_window_pending;
#define PYFR_WINDOW_CHECK 0x80000000u /* pending: compare, do not learn (check mode) */
void pyfr_window_learn(unsigned below, const uintptr_t *ip, unsigned depth, int walk_cut,
                       const uintptr_t *out, unsigned k, unsigned max, unsigned flags);
void pyfr_window_thread_end(void);

/* native.c: the name of the native stack ip[0..depth) (truncated: it was
 * deeper) for the unwinder's memo, UNWIND_NAME_FRAMES | its number; a
 * name stands for one stack for good, and the same frames get the same
 * name while the table remembers them (the last PY_NATIVE_KEEP names).
 * UNWIND_NO_NAME when out of memory.  Takes pyfr_code_lock. */
uint32_t pyfr_native_name(const uintptr_t *ip, unsigned depth, int truncated);

/* wrapper.c: ra lies in a module whose code allocates on its caller's
 * behalf (libc, GLib), by the loader's _dl_find_object; 0 where the
 * loader has none.  pyfr_wrap_setup, once outside any hook. */
int pyfr_wrapped(uintptr_t ra);
void pyfr_wrap_setup(void);
/* The same from the lanes of its frames, ip[depth - 1] first:
 * s = PY_NATIVE_SEED, then s = pyfr_native_step(s, ip[i]) for i from
 * depth - 1 down to 0 (a caller keeps the lanes of outer frames shared
 * with the stack before). */
struct pyfr_native_lanes {
    uint64_t c, d;
};
#define PY_NATIVE_SEED ((struct pyfr_native_lanes){0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL})
static inline struct pyfr_native_lanes pyfr_native_step(struct pyfr_native_lanes s, uintptr_t ip)
{
    s.c = (s.c ^ ip) * 0x9fb21c651e98df25ULL;
    s.d = (s.d + ip) * 0xd6e8feb86659fd93ULL;
    s.c ^= s.c >> 29;
    s.d ^= s.d >> 31;
    return s;
}
uint32_t pyfr_native_name_of(struct pyfr_native_lanes s, unsigned depth, int truncated);



/* code.c: the ids (at most max, into ids) of the codes known by this
 * filename and qualname; how many (0 too when the code lock stays held:
 * a bounded wait, never a hang). */
uint32_t pyfr_code_named(const char *filename, const char *qualname, uint32_t *ids, uint32_t max);
/* code.c, for pytmline.c (bounded lock attempts: 0 when held long): the
 * line of Python frame word w and its code's file name (at most cap bytes
 * into file, *fn_len of them; 0 lines: unknown); the word of the first
 * instruction at `line` of the code copied with file name file[0, n)
 * that has one, the innermost (the latest first line), or 0: none. */
int pyfr_code_where(uint64_t w, char *file, uint32_t cap, uint32_t *fn_len);
uint64_t pyfr_code_word_at(const char *file, uint32_t n, int line);

#endif
