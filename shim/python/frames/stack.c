/*
 * stack.c - a native stack with the thread's Python frames spliced in.
 *
 * Each native call of the evaluation loop (_PyEval_EvalFrameDefault) is
 * replaced by the Python frames it ran, innermost first, up to the frame
 * it was entered with (3.10: one a call; 3.11: is_entry; 3.12 on: the one
 * above the call's own frame on the C stack).  A Python frame is one word
 * (HSNAP_PY_TAG, its code's id, its instruction offset + 1); code.c copies
 * the code once, the CLI finds the lines.
 *   Rules: a thread reads only its own frames (its own thread state, never
 * the GIL holder's): they change only while it runs Python code, so they
 * are still while it allocates, and the code objects they name are alive.
 * The code table is locked only when the thread's cache misses.  The
 * unwinder's memo names such a stack by its native frames only
 * (UNWIND_NAME_FRAMES); the Python frames are spliced afresh unless
 * recent.c knows them.  A .cold part of the loop is not recognised
 * (docs/python.md, Limits).
 */
#include <string.h>

#include "unwind.h"
#include "pyframes.h"

int py_on; /* python.h: set by the root once the domains are wrapped */

/* ip (a return address) is in the evaluation loop: its function, or the
 * part of it the compiler split off (Debian's 3.14: py_find_eval). */
static inline int py_is_eval(uintptr_t ip)
{
    return ip - 1 - py_sym.eval_lo < py_sym.eval_hi - py_sym.eval_lo ||
           ip - 1 - py_sym.eval2_lo < py_sym.eval2_hi - py_sym.eval2_lo;
}

/* This thread's own state, or NULL (not a Python thread, finalizing). */
static const char *py_own_state(void)
{
    void *me = py_sym.this_thread();
    if (!me || (py_sym.finalizing && py_sym.finalizing()))
        return NULL;
    return me;
}

/* HEAPSNAP_PYTHON_NATIVE=trim (dom_init): the interpreter's own native
 * frames outward of the innermost Python frame are left out. */
int py_trim;

_Atomic unsigned py_frames_max, py_frames_gen;
static _Atomic int py_frames_bare; /* the cap's stacks keep no native frame */

void py_frames_cap(unsigned n, int native)
{
    int bare = n && !native;
    int moved = atomic_exchange(&py_frames_max, n) != n;
    moved |= atomic_exchange(&py_frames_bare, bare) != bare;
    if (moved)
        atomic_fetch_add(&py_frames_gen, 1);
}

/* ip lies in the interpreter's own text (libpython, the python executable). */
static inline int py_is_interp(uintptr_t ip)
{
    ip -= 1;
    return ip - py_sym.interp_lo[0] < py_sym.interp_hi[0] - py_sym.interp_lo[0] ||
           ip - py_sym.interp_lo[1] < py_sym.interp_hi[1] - py_sym.interp_lo[1];
}

/* Where a splice writes, and what it may still write. */
struct py_out {
    uintptr_t *w;
    unsigned k, room; /* written, room for */
    unsigned py, max; /* Python frames written, their budget (trim) */
    int bare;         /* no native frame written (heapsnap_python_frames) */
    int trim;         /* py_trim */
};

static inline int py_out_full(const struct py_out *o)
{
    return o->k == o->room || (o->trim && o->py == o->max);
}

/* The Python frames of one native evaluation call (all of them: all),
 * from frame *j of the walk on, while o has room: those up to the call's
 * first frame (entry), frames without a word taking no room.  Inlined, so
 * that the splice keeps o in registers: a stack runs a dozen calls. */
static inline __attribute__((always_inline)) void py_put_call(struct py_out *o,
                                                              const struct py_walk *wk,
                                                              unsigned *j, int all)
{
    unsigned x = *j, e = wk->n;
    if (!all && !wk->ext && e - x <= 64) { /* from the entry flags: frame i at bit n - 1 - i */
        uint64_t m = e - x == 64 ? wk->entry : wk->entry & ((1ull << (e - x)) - 1);
        if (m)
            e = wk->n - (63 - (unsigned)__builtin_clzll(m));
    } else if (!all) {
        for (e = x; e < wk->n;)
            if (wk->first[e++])
                break;
    }
    unsigned room = o->room - o->k;
    if (o->trim && o->max - o->py < room)
        room = o->max - o->py;
    if (!wk->zero) { /* every frame takes a place */
        unsigned c = e - x < room ? e - x : room;
        for (unsigned q = 0; q < c; q++)
            o->w[o->k + q] = wk->w[x + q];
        o->k += c, o->py += c, x += c;
    } else {
        for (; x < e && !py_out_full(o); x++)
            if (wk->w[x])
                o->w[o->k++] = wk->w[x], o->py++;
    }
    *j = x;
}

/* A native stack's plan: where its evaluation frames and its frames out
 * of the interpreter's text lie (the frames a splice does something
 * with, past the first Python frame), so that a stack spliced again skips
 * the interpreter's other frames unread.  Per thread, by the stack's name
 * (native.c: a name stands for its frames for good), direct-mapped.  A
 * stack with more than PY_PLAN_AT such frames has none. */
#define PY_PLANS 1024u  /* power of two */
#define PY_PLAN_AT 48u
struct py_plan {
    uint32_t name;     /* 0: empty (a name has UNWIND_NAME_FRAMES) */
    uint8_t np, ok;    /* positions; whether the plan holds them all */
    uint64_t eval;     /* bit q: at[q] is an evaluation frame */
    uint8_t at[PY_PLAN_AT];
};
static __thread struct py_plan *py_plans;
static __thread int py_plans_off;

/* name's plan (its frames nat[0..n)), made on a miss; NULL: none. */
static const struct py_plan *py_plan_of(uint32_t name, const uintptr_t *nat, unsigned n)
{
    struct py_plan *t = py_plans;
    if (name == UNWIND_NO_NAME || !(name & UNWIND_NAME_FRAMES) || n > 255)
        return NULL;
    if (HS_UNLIKELY(!t) && (py_plans_off || !(t = py_plans = arena_alloc(PY_PLANS * sizeof *t)))) {
        py_plans_off = 1;
        return NULL;
    }
    struct py_plan *p = &t[(name * 0x9e3779b9u) >> 22 & (PY_PLANS - 1)];
    if (p->name == name)
        return p->ok ? p : NULL;
    p->name = name, p->np = 0, p->eval = 0, p->ok = 0;
    for (unsigned i = 0; i < n; i++) {
        int ev = py_is_eval(nat[i]);
        if (ev || !py_is_interp(nat[i])) {
            if (p->np == PY_PLAN_AT)
                return NULL;
            p->eval |= (uint64_t)ev << p->np;
            p->at[p->np++] = (uint8_t)i;
        }
    }
    p->ok = 1;
    return p;
}

/* nat[i..e) written while o has room: where it stopped. */
static inline unsigned py_copy_run(struct py_out *o, const uintptr_t *nat, unsigned i, unsigned e)
{
    unsigned room = o->room - o->k, c = e - i < room ? e - i : room;
    for (unsigned q = 0; q < c; q++)
        o->w[o->k + q] = nat[i + q];
    o->k += c;
    return i + c;
}

/* Where a splice is: i in the native frames, j in the walk's; fr: Python
 * frames are left to write; skip (trim, once a Python frame is in): the
 * interpreter's frames are left out. */
struct py_at {
    unsigned i, j;
    int fr, skip;
};

/* Calls with no frame written between them (the plan's evaluation frames
 * from q on), while the walk lasts: their Python frames are written as
 * one run where they fit, else the first call's alone.  The plan's last
 * frame taken: its place. */
static unsigned py_put_run(struct py_out *o, const struct py_walk *wk, const struct py_plan *pl,
                           unsigned q, struct py_at *a)
{
    unsigned e = a->j, qq = q;
    do {
        uint64_t m = wk->n - e == 64 ? wk->entry : wk->entry & ((1ull << (wk->n - e)) - 1);
        e = m ? wk->n - (63 - (unsigned)__builtin_clzll(m)) : wk->n;
        qq++;
    } while (e < wk->n && qq < pl->np && (pl->eval >> qq & 1));
    unsigned room = o->room - o->k;
    if (o->max - o->py < room)
        room = o->max - o->py;
    if (e - a->j <= room) {
        memcpy(o->w + o->k, wk->w + a->j, (e - a->j) * sizeof *o->w);
        o->k += e - a->j, o->py += e - a->j, a->j = e;
        a->fr = a->j < wk->n || wk->more;
        return qq - 1;
    }
    py_put_call(o, wk, &a->j, 0);
    a->fr = a->j < wk->n || wk->more;
    return q;
}

/* The splice along a plan (py_plan_of): as py_splice_native does, the
 * plan's frames only, runs between them copied or passed over whole. */
static void py_splice_plan(const uintptr_t *nat, unsigned n, struct py_out *o,
                           const struct py_walk *wk, const struct py_plan *pl, struct py_at *a)
{
    unsigned prev = a->i;
    for (unsigned q = 0; q < pl->np; q++) {
        unsigned at = pl->at[q];
        if (!a->skip && (a->i = py_copy_run(o, nat, prev, at)) < at)
            return;
        if (o->k == o->room) {
            a->i = at;
            return;
        }
        if (a->fr && (pl->eval >> q & 1) && a->skip && !wk->zero && !wk->ext && a->j < wk->n &&
            wk->n - a->j <= 64) {
            q = py_put_run(o, wk, pl, q, a);
            at = pl->at[q];
        } else if (a->fr && (pl->eval >> q & 1)) {
            py_put_call(o, wk, &a->j, 0);
            a->fr = a->j < wk->n || wk->more;
            a->skip = o->trim && o->py;
        } else if (!a->skip || !py_is_interp(nat[at])) {
            o->w[o->k++] = nat[at];
        }
        a->i = prev = at + 1;
        if (o->k == o->room)
            return;
    }
    a->i = a->skip ? n : py_copy_run(o, nat, prev, n);
}

/* From native frame a->i: where the next evaluation frame is, the frames
 * before it written (or, skip, the next frame that is not the
 * interpreter's); n when none is left.  Returns 1 at an evaluation frame,
 * 0 to go on (a frame written, or o full). */
static int py_next_eval(const uintptr_t *nat, unsigned n, struct py_out *o, struct py_at *a)
{
    unsigned i = a->i, s = i;
    if (!a->skip) { /* every frame written, up to the next evaluation frame */
        unsigned end = o->room - o->k < n - i ? i + (o->room - o->k) : n;
        uintptr_t *w = o->w + o->k;
        if (a->fr)
            for (uintptr_t ip; i < end && !py_is_eval(ip = nat[i]); i++)
                w[i - s] = ip;
        else
            for (; i < end; i++)
                w[i - s] = nat[i];
        o->k += i - s;
        a->i = i;
        return i != end;
    }
    const uintptr_t lo0 = py_sym.interp_lo[0], span0 = py_sym.interp_hi[0] - lo0;
    for (; i < n; i++) { /* libpython's frames tested first: most are */
        uintptr_t ip = nat[i] - 1;
        if (ip - lo0 >= span0 && !py_is_interp(ip + 1))
            break;
        if (a->fr && py_is_eval(ip + 1))
            break;
    }
    a->i = i;
    if (i == n)
        return 0;
    if (!(a->fr && py_is_eval(nat[i]))) {
        o->w[o->k++] = nat[a->i++];
        return 0;
    }
    return 1;
}

/* The splice without a plan: runs of frames copied or passed over in
 * tight loops, up to the next evaluation frame, whose call's Python
 * frames are written in its place. */
static void py_splice_native(const uintptr_t *nat, unsigned n, struct py_out *o,
                             const struct py_walk *wk, struct py_at *a)
{
    while (a->i < n && o->k < o->room) {
        if (!py_next_eval(nat, n, o, a))
            continue;
        /* nat[i] is an evaluation frame (py_is_eval) */
        py_put_call(o, wk, &a->j, 0);
        a->fr = a->j < wk->n || wk->more;
        a->skip = o->trim && o->py;
        a->i++;
    }
}

/* Splices from nat[0..n) (truncated: the stack went on) into o.  trim:
 * the interpreter's native frames outward of the first Python frame
 * written are left out, and the Python frames of the evaluation calls
 * beyond a truncated walk follow the last (their own native frames are
 * not known).  Returns the truncation flag of the result.  Frames are
 * left (fr) while the walk has some, or frames beyond it: a walk stops
 * only where o is full (py_walk_take's lim is the splice's max), but
 * for a cut one (PY_WALK_MAX frames whose code cannot be kept), whose
 * splice is marked truncated.  Most frames are the interpreter's, left
 * out once a Python frame is in (skip). */
static int py_splice(const uintptr_t *nat, unsigned n, struct py_out *o,
                     const struct py_walk *wk, int truncated, const struct py_plan *pl,
                     unsigned from)
{
    struct py_at a = {from, 0, wk->n || wk->more, o->trim && o->py};
    if (from && !o->bare) /* frames 1 .. from - 1 left out (py_trim_inner) */
        o->w[o->k++] = nat[0];
    if (pl && !o->bare)
        py_splice_plan(nat, n, o, wk, pl, &a);
    else if (!o->bare)
        py_splice_native(nat, n, o, wk, &a);
    else /* no native frame written */
        for (a.i = 0; a.i < n && o->k < o->room; a.i++)
            if (a.fr && py_is_eval(nat[a.i])) {
                py_put_call(o, wk, &a.j, 0);
                a.fr = a.j < wk->n || wk->more;
            }
    truncated |= a.i < n;
    /* Frames left over: an evaluation frame not recognised (docs/python.md,
     * Limits), or (trim) beyond the walk: outermost. */
    if (a.fr && (!truncated || o->trim)) {
        py_put_call(o, wk, &a.j, 1);
        a.fr = a.j < wk->n || wk->more;
    }
    if (o->trim && truncated && !a.fr && o->py)
        truncated = 0; /* every Python frame is in: only the interpreter's were cut */
    return truncated || (a.fr && (py_out_full(o) || wk->cut));
}

void py_thread_end(void)
{
    if (py_plans)
        arena_free(py_plans, PY_PLANS * sizeof *py_plans);
    py_plans = NULL;
    py_plans_off = 1;
    py_code_thread_end();
    py_recent_thread_end();
}

int py_again(uint32_t name, uint32_t *id)
{
    struct py_walk *wk = py_walk_last();
    if (!wk)
        return 0;
    wk->valid = 0;
    const char *ts = py_own_state();
    if (!ts)
        return 0;
    wk = py_walk_take(ts, wk->lim);
    wk->valid = 1;
    wk->name = name;
    return py_recent_find(wk, name, id);
}

/* py_again's walk, when it is this stack's: hook_stack calls py_trace
 * with the name it gave py_again just before, and no Python code ran
 * since (an unwind). */
static int py_walk_fresh(const struct py_walk *wk, const char *ts, uint32_t name, unsigned lim)
{
    return wk->valid && wk->name == name && name != UNWIND_NO_NAME && wk->lim == lim &&
           wk->top == (uintptr_t)py_frame_top(ts, py_lay->frames);
}

/* Where trim's splice starts (py_splice's from): the first evaluation
 * frame e when the frames under it, 0 .. e - 1, are all the interpreter's
 * and more than one: only frame 0 of them is kept (the C that allocated:
 * a block's innermost return address, heapsnap_ref.site); else 0, every
 * frame kept (a C extension's, with the interpreter's between it and its
 * caller's Python line).  Not once tracemalloc has hooked the domains:
 * the CLI tells its C by the frames under its raw_malloc (pytm.c). */
static unsigned py_trim_inner(const uintptr_t *ip, unsigned e)
{
    if (!py_trim || e < 2 || atomic_load_explicit(&py_tm_n, memory_order_relaxed))
        return 0;
    for (unsigned i = 0; i < e; i++)
        if (!py_is_interp(ip[i]))
            return 0;
    return e;
}

int py_trace(uintptr_t *ip, unsigned depth, unsigned max, int truncated, uint32_t *name,
             uint32_t *id)
{
    unsigned i = 0;
    while (i < depth && !py_is_eval(ip[i]))
        i++;
    if (i == depth)
        return 0;
    /* No memory for the thread's walk (or its end has come): the native
     * stack alone, recorded as usual. */
    struct py_walk *wk = py_walk_last();
    if (!wk)
        return 0;
    uint32_t again = *name;
    if (*name == UNWIND_NO_NAME)
        *name = py_native_name(ip, depth, truncated);
    unsigned flags = HS_UNLIKELY(atomic_load_explicit(&py_tm_n, memory_order_relaxed)) &&
                             py_tm_own(ip, depth) ? HSNAP_TRACE_TMOWN : 0;
    const char *ts = py_own_state();
    uintptr_t out[TRACE_DEPTH_MAX];
    const uintptr_t *st = ip;
    int keep = 0;
    if (ts) {
        if (!py_walk_fresh(wk, ts, again, max))
            wk = py_walk_take(ts, max);
        wk->valid = 0;
        keep = *name != UNWIND_NO_NAME;
        unsigned cap = atomic_load_explicit(&py_frames_max, memory_order_relaxed);
        struct py_out o = {out, 0, py_trim ? TRACE_DEPTH_MAX : max, 0,
                           cap && cap < max ? cap : max,
                           cap && py_trim && atomic_load_explicit(&py_frames_bare, memory_order_relaxed),
                           py_trim};
        truncated = py_splice(ip, depth, &o, wk, truncated, py_plan_of(*name, ip, depth),
                              py_trim_inner(ip, i));
        st = out, depth = o.k;
    }
    if ((ts ? trace_intern_new : trace_intern)(st, depth,
                                               flags | (truncated ? HSNAP_TRACE_TRUNCATED : 0),
                                               id) != 0)
        return -1;
    if (keep)
        py_recent_keep(wk, *name, *id);
    return 1;
}
