/*
 * stack.c - a native stack with the thread's Python frames spliced in.
 *
 * One native call of the evaluation loop (_PyEval_EvalFrameDefault) runs
 * several Python frames: the one it was entered with (is_entry set) and
 * those it called without leaving the loop.  So walking the thread's
 * frames from the innermost (tstate->cframe->current_frame) by
 * `previous`, each native evaluation frame of the stack, innermost first,
 * is replaced by the Python frames up to and including the next entry
 * frame.  A Python frame is one word (HSNAP_PY_TAG, its code's id, its
 * instruction offset + 1): the code is copied once (code.c), lines are
 * found offline by the CLI.
 *
 * A thread reads only its own frames (its thread state from
 * PyGILState_GetThisThreadState, never the GIL holder's): they change
 * only while it runs Python code, which it does holding the GIL, so they
 * are still while it allocates, GIL held or released around a C call
 * (ctypes releases it for every foreign call; a C extension may): the
 * code objects they name are alive.  The code table (code.c) is locked
 * only when the thread's cache of it misses.  A stack with evaluation
 * frames is named for the unwinder's memo as a native stack only
 * (UNWIND_NAME_FRAMES, see hooks.c's hook_stack): the same native stack
 * runs many Python lines, so a repeat gives back its native frames, never
 * a trace, and the Python frames are spliced into them afresh.
 * A native evaluation frame outside the function's symbol (GCC's .cold
 * part, on error paths) is not recognised: its Python frames then go to
 * the next evaluation frame out, in the same order (README, limits).
 */
#include "inner.h"

struct py_syms py_sym;

static inline int py_is_eval(uintptr_t ip)
{
    return ip - 1 - py_sym.eval_lo < py_sym.eval_hi - py_sym.eval_lo;
}

/* This thread's own state, or NULL (not a Python thread, finalizing). */
static const char *py_own_state(void)
{
    void *me = py_sym.this_thread();
    if (!me || (py_sym.finalizing && py_sym.finalizing()))
        return NULL;
    return me;
}

/* The frame's word, or 0 when its code cannot be kept. */
static inline __attribute__((always_inline)) uint64_t py_word(const char *fr)
{
    const struct py_layout *l = py_lay;
    const char *co = (const char *)py_ptr(fr, l->fr_code);
    if (!co)
        return 0;
    uint32_t id = py_code_quick(co);
    if (id == UINT32_MAX)
        return 0;
    intptr_t lasti = ((intptr_t)py_ptr(fr, l->fr_prev_instr) - (intptr_t)(co + l->co_code)) / 2;
    if (lasti < -1 || lasti >= (intptr_t)HSNAP_PY_OFF_MASK)
        lasti = -1;
    return py_frame_word(id, (uint32_t)(lasti + 1));
}

/* Splices from nat[0..n) into out (room for max); the depth written. */
static unsigned py_splice(const uintptr_t *nat, unsigned n, uintptr_t *out, unsigned max,
                          const char *ts, int *truncated)
{
    const struct py_layout *l = py_lay;
    const char *cf = (const char *)py_ptr(ts, l->ts_cframe);
    const char *fr = cf ? (const char *)py_ptr(cf, l->cf_current) : NULL;
    unsigned k = 0;
    for (unsigned i = 0; i < n && k < max; i++) {
        if (!py_is_eval(nat[i]) || !fr) {
            out[k++] = nat[i];
            continue;
        }
        for (int entry = 0; fr && !entry && k < max; fr = (const char *)py_ptr(fr, l->fr_previous)) {
            entry = *(const uint8_t *)(fr + l->fr_is_entry) != 0;
            uint64_t w = py_word(fr);
            if (w)
                out[k++] = w;
        }
    }
    /* Frames left over (an evaluation frame not recognised): outermost. */
    for (; fr && k < max && !*truncated; fr = (const char *)py_ptr(fr, l->fr_previous)) {
        uint64_t w = py_word(fr);
        if (w)
            out[k++] = w;
    }
    if (k == max && fr)
        *truncated = 1;
    return k;
}

/* ---------------- the thread's recent splices ----------------
 *
 * A splice is a function of the native frames (with the truncation flag),
 * the chain of the thread's Python frames (their words and entry flags)
 * and max.  A native stack's name (UNWIND_NAME_FRAMES | its number in
 * native.c) stands for its frames for good, so (name, Python words) ->
 * trace id is an answer that holds forever, and a thread keeps its recent
 * ones.  A repeat then costs the Python frames' words, and no native frame
 * is copied, scanned or interned.  Chains of more than PY_KEY_MAX frames,
 * or with a frame whose code cannot be kept, are not kept. */

#define PY_RECENT 512u /* splices kept per thread (power of two) */
#define PY_KEY_MAX 13u /* Python frames of a kept splice */

struct py_key {
    uint64_t hash;
    uint32_t name;                /* the native stack's, UNWIND_NAME_FRAMES set */
    uint32_t n;                   /* Python frames, innermost first */
    uint64_t entry;               /* bit i: frame i is an entry frame */
    uint64_t w[PY_KEY_MAX];       /* their words */
};

struct py_done {
    struct py_key key;            /* key.name 0: empty */
    uint32_t id;                  /* the trace */
};

static __thread struct {
    struct py_done *done;         /* PY_RECENT, from the arena; NULL: none yet */
    int off;                      /* no cache on this thread (ended, no memory) */
} py_mine;

/* The key of a splice of the native stack name, from this thread's state
 * ts: 0, or -1 when it is not one to keep. */
static int py_key_of(const char *ts, uint32_t name, struct py_key *k)
{
    const struct py_layout *l = py_lay;
    const char *cf = (const char *)py_ptr(ts, l->ts_cframe);
    const char *fr = cf ? (const char *)py_ptr(cf, l->cf_current) : NULL;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ name, entry = 0;
    uint32_t n = 0;
    for (; fr; fr = (const char *)py_ptr(fr, l->fr_previous), n++) {
        uint64_t w;
        if (n == PY_KEY_MAX || !(w = py_word(fr)))
            return -1;
        k->w[n] = w;
        entry |= (uint64_t)(*(const uint8_t *)(fr + l->fr_is_entry) != 0) << n;
        h = (h ^ w) * 0xff51afd7ed558ccdull;
    }
    h = (h ^ entry ^ (uint64_t)n << 32) * 0xc4ceb9fe1a85ec53ull;
    k->hash = h ^ h >> 29;
    k->name = name;
    k->n = n;
    k->entry = entry;
    return 0;
}

static inline struct py_done *py_done_slot(uint64_t hash)
{
    return &py_mine.done[hash & (PY_RECENT - 1)];
}

static int py_key_same(const struct py_key *a, const struct py_key *b)
{
    return a->hash == b->hash && a->name == b->name && a->n == b->n && a->entry == b->entry &&
           __builtin_memcmp(a->w, b->w, a->n * sizeof a->w[0]) == 0;
}

/* The splice of key, interned as *id, is kept. */
static void py_keep(const struct py_key *k, uint32_t id)
{
    if (!py_mine.done) {
        if (py_mine.off || !(py_mine.done = arena_alloc(PY_RECENT * sizeof *py_mine.done))) {
            py_mine.off = 1;
            return;
        }
    }
    struct py_done *d = py_done_slot(k->hash);
    __builtin_memcpy(&d->key, k, sizeof *k - (PY_KEY_MAX - k->n) * sizeof k->w[0]);
    d->id = id;
}

void py_thread_end(void)
{
    py_code_thread_end();
    if (py_mine.done)
        arena_free(py_mine.done, PY_RECENT * sizeof *py_mine.done);
    py_mine.done = NULL;
    py_mine.off = 1;
}

int py_again(uint32_t name, uint32_t *id)
{
    struct py_key k;
    const char *ts;
    if (!py_mine.done || !(ts = py_own_state()) || py_key_of(ts, name, &k) != 0)
        return 0;
    const struct py_done *d = py_done_slot(k.hash);
    if (!py_key_same(&d->key, &k))
        return 0;
    *id = d->id;
    return 1;
}

int py_trace(uintptr_t *ip, unsigned depth, unsigned max, int truncated, uint32_t *name,
             uint32_t *id)
{
    unsigned i = 0;
    while (i < depth && !py_is_eval(ip[i]))
        i++;
    if (i == depth)
        return 0;
    if (*name == UNWIND_NO_NAME)
        *name = py_native_name(ip, depth, truncated);
    const char *ts = py_own_state();
    struct py_key k;
    int keep = 0;
    if (ts) {
        uintptr_t nat[depth];
        __builtin_memcpy(nat, ip, depth * sizeof *ip);
        keep = !py_mine.off && *name != UNWIND_NO_NAME && py_key_of(ts, *name, &k) == 0;
        depth = py_splice(nat, depth, ip, max, ts, &truncated);
    }
    if (trace_intern(ip, depth, truncated ? HSNAP_TRACE_TRUNCATED : 0, id) != 0)
        return -1;
    if (keep)
        py_keep(&k, *id);
    return 1;
}
