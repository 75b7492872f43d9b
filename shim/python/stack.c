/*
 * stack.c - a native stack with the thread's Python frames spliced in.
 *
 * One native call of the evaluation loop (_PyEval_EvalFrameDefault) runs
 * several Python frames: the one it was entered with (is_entry set) and
 * those it called without leaving the loop.  So walking the thread's
 * frames from the innermost (inner.h's py_frame_top) by `previous`,
 * each native evaluation frame of the stack, innermost first, is replaced
 * by the Python frames up to and including the first its call ran (3.10:
 * one frame a call; 3.11: is_entry; 3.12 on: the one above the call's own
 * frame on the C stack).  A Python frame is one word (HSNAP_PY_TAG, its code's id, its
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
 * a trace, and the Python frames are spliced into them afresh, unless
 * the thread spliced the same Python frames into them recently (recent.c).
 * A native evaluation frame outside the function's symbol (GCC's .cold
 * part, on error paths) is not recognised: its Python frames then go to
 * the next evaluation frame out, in the same order (docs/python.md, Limits).
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

/* Splices from nat[0..n) into out (room for max); the depth written. */
static unsigned py_splice(const uintptr_t *nat, unsigned n, uintptr_t *out, unsigned max,
                          const char *ts, int *truncated)
{
    int m = py_lay->frames;
    const char *fr = py_frame_top(ts, m);
    unsigned k = 0;
    for (unsigned i = 0; i < n && k < max; i++) {
        if (!py_is_eval(nat[i]) || !fr) {
            out[k++] = nat[i];
            continue;
        }
        for (int entry = 0; fr && !entry && k < max;) {
            uint64_t w = py_word_m(fr, m);
            fr = py_frame_next(fr, &entry, m);
            if (w)
                out[k++] = w;
        }
    }
    /* Frames left over (an evaluation frame not recognised): outermost. */
    for (int entry; fr && k < max && !*truncated;) {
        uint64_t w = py_word_m(fr, m);
        fr = py_frame_next(fr, &entry, m);
        if (w)
            out[k++] = w;
    }
    if (k == max && fr)
        *truncated = 1;
    return k;
}

void py_thread_end(void)
{
    py_code_thread_end();
    py_recent_thread_end();
}

int py_again(uint32_t name, uint32_t *id)
{
    struct py_chain k;
    const char *ts = py_own_state();
    return ts && py_chain_of(ts, name, &k) == 0 && py_recent_find(&k, id);
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
    struct py_chain k;
    int keep = 0;
    if (ts) {
        uintptr_t nat[depth];
        __builtin_memcpy(nat, ip, depth * sizeof *ip);
        keep = *name != UNWIND_NO_NAME && py_chain_of(ts, *name, &k) == 0;
        depth = py_splice(nat, depth, ip, max, ts, &truncated);
    }
    if (trace_intern(ip, depth, truncated ? HSNAP_TRACE_TRUNCATED : 0, id) != 0)
        return -1;
    if (keep)
        py_recent_keep(&k, *id);
    return 1;
}
