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
 * code objects they name are alive.  The code table is locked once per
 * splice (code.c).  Stacks with evaluation frames are never named for the
 * unwinder's memo: the same native stack runs many Python lines.
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
static uint64_t py_word(const char *fr)
{
    const struct py_layout *l = py_lay;
    const char *co = (const char *)py_ptr(fr, l->fr_code);
    if (!co)
        return 0;
    uint32_t id = py_code_id(co);
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

int py_trace(uintptr_t *ip, unsigned depth, unsigned max, int truncated, uint32_t same,
             uint32_t *id)
{
    if (same != UNWIND_NO_NAME)
        return 0; /* a named stack is never one with evaluation frames */
    unsigned i = 0;
    while (i < depth && !py_is_eval(ip[i]))
        i++;
    if (i == depth)
        return 0;
    const char *ts = py_own_state();
    if (ts) {
        uintptr_t nat[depth];
        __builtin_memcpy(nat, ip, depth * sizeof *ip);
        py_code_lock();
        depth = py_splice(nat, depth, ip, max, ts, &truncated);
        py_code_unlock();
    }
    return trace_intern(ip, depth, truncated ? HSNAP_TRACE_TRUNCATED : 0, id) == 0 ? 1 : -1;
}
