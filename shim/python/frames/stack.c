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

int pyfr_on; /* python.h: set by the root once the domains are wrapped */

/* HEAPSNAP_PYTHON_NATIVE=trim (dom_init): the interpreter's own native
 * frames outward of the innermost Python frame are left out. */
int pyfr_trim;

/* HEAPSNAP_PYTHON_NATIVE=caller (dom_init), for good: the stacks recorded
 * under Python frames keep one native frame (pyfr_caller). */
int pyfr_caller_mode;

_Atomic unsigned pyfr_frames_max, pyfr_frames_gen;
static _Atomic int pyfr_frames_bare; /* the cap's stacks keep no native frame */

void pyfr_frames_cap(unsigned n, int native)
{
    int bare = n && !native;
    int moved = atomic_exchange(&pyfr_frames_max, n) != n;
    moved |= atomic_exchange(&pyfr_frames_bare, bare) != bare;
    if (moved)
        atomic_fetch_add(&pyfr_frames_gen, 1);
}

/* ip lies in the interpreter's own text (libpython, the python executable). */
static inline int pyfr_is_interp(uintptr_t ip)
{
    ip -= 1;
    return ip - pylay_sym.interp_lo[0] < pylay_sym.interp_hi[0] - pylay_sym.interp_lo[0] ||
           ip - pylay_sym.interp_lo[1] < pylay_sym.interp_hi[1] - pylay_sym.interp_lo[1];
}

/* Where a splice writes, and what it may still write. */
struct pyfr_out {
    uintptr_t *w;
    unsigned k, room; /* written, room for */
    unsigned py, max; /* Python frames written, their budget (trim) */
    int bare;         /* no native frame written (heapsnap_python_frames) */
    int trim;         /* pyfr_trim */
};

static inline int pyfr_out_full(const struct pyfr_out *o)
{
    return o->k == o->room || (o->trim && o->py == o->max);
}

/* The Python frames of one native evaluation call (all of them: all),
 * from frame *j of the walk on, while o has room: those up to the call's
 * first frame (entry), frames without a word taking no room.  Inlined, so
 * that the splice keeps o in registers: a stack runs a dozen calls. */
static inline __attribute__((always_inline)) void pyfr_put_call(struct pyfr_out *o,
                                                              const struct pyfr_walk *wk,
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
        for (; x < e && !pyfr_out_full(o); x++)
            if (wk->w[x])
                o->w[o->k++] = wk->w[x], o->py++;
    }
    *j = x;
}

/* A native frame's class for a splice: an evaluation frame, and whether a
 * splice does something with it past the first Python frame (an
 * evaluation frame, or one out of the interpreter's text). */
enum { PY_CLS_EVAL = 1, PY_CLS_PLAN = 2 };
static inline unsigned pyfr_cls(uintptr_t ip)
{
    unsigned ev = (unsigned)pyfr_is_eval(ip);
    return ev | (ev || !pyfr_is_interp(ip) ? PY_CLS_PLAN : 0);
}

/* The thread's last native stack named by a walk (pyfr_trace), kept from
 * its outermost frame in (ip[k] is its frame n - 1 - k; kept as the
 * stack's own order ends, so that two compare from their ends:
 * ftree_tail_same), with the name's
 * lanes (pyfr_native_step) over the frames outward of each and the
 * frames a plan holds (pyfr_plan_of: PY_CLS_PLAN).  A Python program's next
 * stack shares most of its frames, from its first evaluation frame out,
 * with the one before at the same distance from the outermost: those are
 * compared, not classified and hashed again, and their plan's part is
 * copied.  Every field at k is a function of ip[0..k] alone, so an answer
 * holds whatever ran between (a fork, a module unloaded): only values are
 * compared. */
#define PY_LAST_MAX (TRACE_DEPTH_MAX + UNWIND_SLACK)
struct pyfr_last {
    unsigned n;                                    /* frames kept */
    uintptr_t rip[PY_LAST_MAX];                    /* ip[k] at rip[PY_LAST_MAX - 1 - k] */
    struct pyfr_native_lanes lane[PY_LAST_MAX + 1]; /* lane[k]: over ip[0..k) */
    uint16_t below[PY_LAST_MAX + 1];               /* plan frames among ip[0..k) */
    uint16_t pk[PY_LAST_MAX];                      /* the plan frames' k, ascending */
    uint8_t pev[PY_LAST_MAX];                      /* ... PY_CLS_EVAL of each */
};
static __thread struct pyfr_last *pyfr_last;
static __thread int pyfr_last_off;

/* How many of nat[0..n)'s outermost frames are L's, at the same distance
 * from the outermost. */
static inline unsigned pyfr_last_shared(const struct pyfr_last *L, const uintptr_t *nat, unsigned n)
{
    return ftree_tail_same(nat + n, L->rip + PY_LAST_MAX, L->n < n ? L->n : n);
}

/* The name of the walked stack nat[0..n) (pyfr_native_name's), and the
 * thread's last stack made this one (*Lp; NULL when it cannot be kept):
 * only the frames it does not share with the last are classified and
 * hashed. */
static uint32_t pyfr_last_name(const uintptr_t *nat, unsigned n, int truncated,
                               const struct pyfr_last **Lp)
{
    struct pyfr_last *L = pyfr_last;
    if (HS_UNLIKELY(!L) && !pyfr_last_off && !(L = pyfr_last = arena_alloc(sizeof *L)))
        pyfr_last_off = 1;
    if (!L || n > PY_LAST_MAX) {
        *Lp = NULL;
        return pyfr_native_name(nat, n, truncated);
    }
    unsigned k = pyfr_last_shared(L, nat, n), np = k ? L->below[k] : 0;
    struct pyfr_native_lanes s = k ? L->lane[k] : PY_NATIVE_SEED;
    for (; k < n; k++) {
        uintptr_t ip = nat[n - 1 - k];
        unsigned c = pyfr_cls(ip);
        L->rip[PY_LAST_MAX - 1 - k] = ip;
        L->lane[k + 1] = s = pyfr_native_step(s, ip);
        if (c & PY_CLS_PLAN)
            L->pk[np] = (uint16_t)k, L->pev[np++] = (uint8_t)(c & PY_CLS_EVAL);
        L->below[k + 1] = (uint16_t)np;
    }
    L->n = n;
    *Lp = L;
    return pyfr_native_name_of(s, n, truncated);
}

/* A native stack's plan: where its evaluation frames and its frames out
 * of the interpreter's text lie (the frames a splice does something
 * with, past the first Python frame), so that a stack spliced again skips
 * the interpreter's other frames unread.  Per thread, by the stack's name
 * (pyfr_native_name: a name stands for its frames for good), direct-mapped.  A
 * stack with more than PY_PLAN_AT such frames has none. */
#define PY_PLANS 1024u  /* power of two */
#define PY_PLAN_AT 48u
struct pyfr_plan {
    uint32_t name;     /* 0: empty (a name has UNWIND_NAME_FRAMES) */
    uint8_t np, ok;    /* positions; whether the plan holds them all */
    uint64_t eval;     /* bit q: at[q] is an evaluation frame */
    uint8_t at[PY_PLAN_AT];
};
static __thread struct pyfr_plan *pyfr_plans;
static __thread int pyfr_plans_off;

/* name's plan (its frames nat[0..n)), made on a miss; NULL: none.  The
 * frames nat[n - shared..n) are L's (pyfr_last_shared; UINT32_MAX: not
 * compared yet), their part of the plan known. */
static const struct pyfr_plan *pyfr_plan_of(uint32_t name, const uintptr_t *nat, unsigned n,
                                            const struct pyfr_last *L, unsigned shared)
{
    struct pyfr_plan *t = pyfr_plans;
    if (name == UNWIND_NO_NAME || !(name & UNWIND_NAME_FRAMES) || n > 255)
        return NULL;
    if (HS_UNLIKELY(!t) && (pyfr_plans_off || !(t = pyfr_plans = arena_alloc(PY_PLANS * sizeof *t)))) {
        pyfr_plans_off = 1;
        return NULL;
    }
    struct pyfr_plan *p = &t[(name * 0x9e3779b9u) >> 22 & (PY_PLANS - 1)];
    if (p->name == name)
        return p->ok ? p : NULL;
    if (L == NULL)
        shared = 0;
    else if (shared == UINT32_MAX)
        shared = pyfr_last_shared(L, nat, n);
    p->name = name, p->np = 0, p->eval = 0, p->ok = 0;
    for (unsigned i = 0; i < n - shared; i++) { /* the frames not L's */
        unsigned c = pyfr_cls(nat[i]);
        if (c & PY_CLS_PLAN) {
            if (p->np == PY_PLAN_AT)
                return NULL;
            p->eval |= (uint64_t)(c & PY_CLS_EVAL) << p->np;
            p->at[p->np++] = (uint8_t)i;
        }
    }
    for (unsigned e = shared ? L->below[shared] : 0; e-- > 0;) { /* L's, outermost last */
        if (p->np == PY_PLAN_AT)
            return NULL;
        p->eval |= (uint64_t)L->pev[e] << p->np;
        p->at[p->np++] = (uint8_t)(n - 1 - L->pk[e]);
    }
    p->ok = 1;
    return p;
}

/* nat[i..e) written while o has room: where it stopped. */
static inline unsigned pyfr_copy_run(struct pyfr_out *o, const uintptr_t *nat, unsigned i, unsigned e)
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
struct pyfr_at {
    unsigned i, j;
    int fr, skip;
};

/* Calls with no frame written between them (the plan's evaluation frames
 * from q on), while the walk lasts: their Python frames are written as
 * one run where they fit, else the first call's alone.  The plan's last
 * frame taken: its place. */
static unsigned pyfr_put_run(struct pyfr_out *o, const struct pyfr_walk *wk, const struct pyfr_plan *pl,
                           unsigned q, struct pyfr_at *a)
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
    pyfr_put_call(o, wk, &a->j, 0);
    a->fr = a->j < wk->n || wk->more;
    return q;
}

/* The splice along a plan (pyfr_plan_of): as pyfr_splice_native does, the
 * plan's frames only, runs between them copied or passed over whole. */
static void pyfr_splice_plan(const uintptr_t *nat, unsigned n, struct pyfr_out *o,
                           const struct pyfr_walk *wk, const struct pyfr_plan *pl, struct pyfr_at *a)
{
    unsigned prev = a->i;
    for (unsigned q = 0; q < pl->np; q++) {
        unsigned at = pl->at[q];
        if (!a->skip && (a->i = pyfr_copy_run(o, nat, prev, at)) < at)
            return;
        if (o->k == o->room) {
            a->i = at;
            return;
        }
        if (a->fr && (pl->eval >> q & 1) && a->skip && !wk->zero && !wk->ext && a->j < wk->n &&
            wk->n - a->j <= 64) {
            q = pyfr_put_run(o, wk, pl, q, a);
            at = pl->at[q];
        } else if (a->fr && (pl->eval >> q & 1)) {
            pyfr_put_call(o, wk, &a->j, 0);
            a->fr = a->j < wk->n || wk->more;
            a->skip = o->trim && o->py;
        } else if (!a->skip || !pyfr_is_interp(nat[at])) {
            o->w[o->k++] = nat[at];
        }
        a->i = prev = at + 1;
        if (o->k == o->room)
            return;
    }
    a->i = a->skip ? n : pyfr_copy_run(o, nat, prev, n);
}

/* From native frame a->i: where the next evaluation frame is, the frames
 * before it written (or, skip, the next frame that is not the
 * interpreter's); n when none is left.  Returns 1 at an evaluation frame,
 * 0 to go on (a frame written, or o full). */
static int pyfr_next_eval(const uintptr_t *nat, unsigned n, struct pyfr_out *o, struct pyfr_at *a)
{
    unsigned i = a->i, s = i;
    if (!a->skip) { /* every frame written, up to the next evaluation frame */
        unsigned end = o->room - o->k < n - i ? i + (o->room - o->k) : n;
        uintptr_t *w = o->w + o->k;
        if (a->fr)
            for (uintptr_t ip; i < end && !pyfr_is_eval(ip = nat[i]); i++)
                w[i - s] = ip;
        else
            for (; i < end; i++)
                w[i - s] = nat[i];
        o->k += i - s;
        a->i = i;
        return i != end;
    }
    const uintptr_t lo0 = pylay_sym.interp_lo[0], span0 = pylay_sym.interp_hi[0] - lo0;
    for (; i < n; i++) { /* libpython's frames tested first: most are */
        uintptr_t ip = nat[i] - 1;
        if (ip - lo0 >= span0 && !pyfr_is_interp(ip + 1))
            break;
        if (a->fr && pyfr_is_eval(ip + 1))
            break;
    }
    a->i = i;
    if (i == n)
        return 0;
    if (!(a->fr && pyfr_is_eval(nat[i]))) {
        o->w[o->k++] = nat[a->i++];
        return 0;
    }
    return 1;
}

/* The splice without a plan: runs of frames copied or passed over in
 * tight loops, up to the next evaluation frame, whose call's Python
 * frames are written in its place. */
static void pyfr_splice_native(const uintptr_t *nat, unsigned n, struct pyfr_out *o,
                             const struct pyfr_walk *wk, struct pyfr_at *a)
{
    while (a->i < n && o->k < o->room) {
        if (!pyfr_next_eval(nat, n, o, a))
            continue;
        /* nat[i] is an evaluation frame (pyfr_is_eval) */
        pyfr_put_call(o, wk, &a->j, 0);
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
 * only where o is full (pyfr_walk_take's lim is the splice's max), but
 * for a cut one (PY_WALK_MAX frames whose code cannot be kept), whose
 * splice is marked truncated.  Most frames are the interpreter's, left
 * out once a Python frame is in (skip). */
static int pyfr_splice(const uintptr_t *nat, unsigned n, struct pyfr_out *o,
                     const struct pyfr_walk *wk, int truncated, const struct pyfr_plan *pl,
                     unsigned from)
{
    struct pyfr_at a = {from, 0, wk->n || wk->more, o->trim && o->py};
    if (from && !o->bare) /* frames 1 .. from - 1 left out (pyfr_trim_inner) */
        o->w[o->k++] = nat[0];
    if (pl && !o->bare)
        pyfr_splice_plan(nat, n, o, wk, pl, &a);
    else if (!o->bare)
        pyfr_splice_native(nat, n, o, wk, &a);
    else /* no native frame written */
        for (a.i = 0; a.i < n && o->k < o->room; a.i++)
            if (a.fr && pyfr_is_eval(nat[a.i])) {
                pyfr_put_call(o, wk, &a.j, 0);
                a.fr = a.j < wk->n || wk->more;
            }
    truncated |= a.i < n;
    /* Frames left over: an evaluation frame not recognised (docs/python.md,
     * Limits), or (trim) beyond the walk: outermost. */
    if (a.fr && (!truncated || o->trim)) {
        pyfr_put_call(o, wk, &a.j, 1);
        a.fr = a.j < wk->n || wk->more;
    }
    if (o->trim && truncated && !a.fr && o->py)
        truncated = 0; /* every Python frame is in: only the interpreter's were cut */
    return truncated || (a.fr && (pyfr_out_full(o) || wk->cut));
}

/* ---------------- HEAPSNAP_PYTHON_NATIVE=caller ---------------- */

/* The stack of an allocation made while this thread runs Python code is
 * ra (the allocator's caller: the block's innermost return address, the C
 * that allocated, as heapsnap_ref.site gives it) and the thread's Python
 * frames, innermost first, as the splice writes them (frames without a
 * word take no room), at most max of them (or heapsnap_python_frames'
 * cap), read from the interpreter's frame chain alone: no native frame is
 * walked, replayed or compared.  What C runs under a Python line is
 * charged to that line, as tracemalloc charges it (and memray without
 * --native); the C's frames past its first are not kept.  Such a stack
 * is a splice of the one-frame native stack [ra] (named by native.c, as a
 * walked stack is: no walk stops after one frame untruncated, so no walk
 * shares its name), so the thread's recent splices answer one met again
 * (pyfr_recent_find), as pyfr_again answers a walked stack's.  A thread
 * remembers the names of its recent callers (PY_CALLER_NAMES,
 * direct-mapped by ra): a name stands for its stack for good, so an entry
 * never goes stale.
 *   A caller in an allocator wrapper's module (wrapper.c: libc's strdup,
 * GLib's g_malloc) names no code of the program's: the hook walks a few
 * frames from it (pyfr_caller's 3) and the stack keeps them up to the
 * first outside those modules, the C that asked (pyfr_caller_wrapped):
 * [strdup, __trans_list_add].  Such a prefix of two or more frames is
 * named as a native stack too; a walked stack that short would have no
 * evaluation frame, so no splice of one is ever kept under its name. */
#define PY_CALLER_BITS 9u
#define PY_CALLER_NAMES (1u << PY_CALLER_BITS)
#define PY_CALLER_WRAP 1u  /* ra lies in a wrapper's module (pyfr_wrapped) */
#define PY_CALLER_NAMED 2u /* name is [ra]'s */

struct pyfr_caller_name {
    uintptr_t ra;   /* 0: empty */
    uint32_t name;  /* [ra]'s once PY_CALLER_NAMED (UNWIND_NO_NAME: none could be given) */
    uint32_t flags; /* PY_CALLER_* */
};

static __thread struct pyfr_caller_name *pyfr_callers; /* NULL: none (yet) */
static __thread int pyfr_callers_off;                  /* none for good */
/* The native frames of the stack pyfr_caller last answered 2 for. */
static __thread struct {
    uintptr_t ip[PY_CALLER_NATIVE];
    unsigned n;
} pyfr_cnat;

/* The thread's entry for ra, its module's kind filled in; NULL: no table. */
static struct pyfr_caller_name *pyfr_caller_entry(uintptr_t ra)
{
    struct pyfr_caller_name *t = pyfr_callers;
    if (HS_UNLIKELY(!t) &&
        (pyfr_callers_off || !(t = pyfr_callers = arena_alloc(PY_CALLER_NAMES * sizeof *t)))) {
        pyfr_callers_off = 1;
        return NULL;
    }
    struct pyfr_caller_name *e = &t[(ra * 0x9e3779b97f4a7c15ull) >> (64 - PY_CALLER_BITS)];
    if (HS_UNLIKELY(e->ra != ra))
        *e = (struct pyfr_caller_name){ra, UNWIND_NO_NAME, pyfr_wrapped(ra) ? PY_CALLER_WRAP : 0};
    return e;
}

static int pyfr_caller_is_wrap(uintptr_t ra)
{
    const struct pyfr_caller_name *e = pyfr_caller_entry(ra);
    return e ? (e->flags & PY_CALLER_WRAP) != 0 : pyfr_wrapped(ra);
}

/* 1 and *id: the stack of native frames pyfr_cnat and the thread's Python
 * walk was met lately; else 2 (*name: pyfr_cnat's). */
static int pyfr_caller_find(uint32_t name, uint32_t *id)
{
    return name != UNWIND_NO_NAME && pyfr_recent_find(pyfr_walk_last(), name, id) ? 1 : 2;
}

int pyfr_caller(uintptr_t ra, unsigned max, uint32_t *name, uint32_t *id)
{
    if (atomic_load_explicit(&pyfr_tm_n, memory_order_relaxed))
        return 0; /* tracemalloc's own blocks are told by their native frames (pyfr_tm_own) */
    const char *ts = pyfr_own_state();
    if (!ts || !pyfr_frame_top(ts, pylay_lay->frames))
        return 0;
    struct pyfr_walk *wk = pyfr_walk_last(); /* the thread's tables made, first */
    if (!wk)
        return 0;
    unsigned cap = atomic_load_explicit(&pyfr_frames_max, memory_order_relaxed), lim = max;
    if (cap && cap < lim)
        lim = cap;
    if (lim > TRACE_DEPTH_MAX - 1) /* and ra: a trace's frames at most */
        lim = TRACE_DEPTH_MAX - 1;
    wk = pyfr_walk_take(ts, lim);
    wk->valid = 0; /* pyfr_trace's pyfr_walk_fresh: not a walked stack's */
    struct pyfr_caller_name *e = pyfr_caller_entry(ra);
    if (!e) {
        if (pyfr_wrapped(ra))
            return 3;
        *name = pyfr_native_name(&ra, 1, 0);
    } else {
        if (HS_UNLIKELY(e->flags != PY_CALLER_NAMED)) {
            if (e->flags & PY_CALLER_WRAP)
                return 3;
            e->name = pyfr_native_name(&ra, 1, 0);
            e->flags = PY_CALLER_NAMED;
        }
        *name = e->name;
    }
    pyfr_cnat.ip[0] = ra;
    pyfr_cnat.n = 1;
    return pyfr_caller_find(*name, id);
}

int pyfr_caller_wrapped(const uintptr_t *nat, unsigned n, uint32_t *name, uint32_t *id)
{
    unsigned k = 1; /* nat[0]: the allocator's caller, a wrapper's */
    if (n > PY_CALLER_NATIVE)
        n = PY_CALLER_NATIVE;
    while (k < n && pyfr_caller_is_wrap(nat[k]))
        k++;
    if (k < n)
        k++; /* the first frame outside them: the C that asked */
    memcpy(pyfr_cnat.ip, nat, k * sizeof *nat);
    pyfr_cnat.n = k;
    *name = pyfr_native_name(nat, k, 0);
    return pyfr_caller_find(*name, id);
}

unsigned pyfr_caller_frames(uintptr_t *ip, int *truncated)
{
    const struct pyfr_walk *wk = pyfr_walk_last(); /* pyfr_caller's */
    unsigned k = 0, i = 0, py = 0, lim = wk->lim;
    if (lim > TRACE_DEPTH_MAX - pyfr_cnat.n)
        lim = TRACE_DEPTH_MAX - pyfr_cnat.n;
    for (; k < pyfr_cnat.n; k++)
        ip[k] = pyfr_cnat.ip[k];
    for (; i < wk->n && py < lim; i++)
        if (wk->w[i]) {
            ip[k++] = wk->w[i];
            py++;
        }
    while (i < wk->n && !wk->w[i]) /* frames without a word past the last written */
        i++;
    *truncated = i < wk->n || wk->more;
    return k;
}

void pyfr_caller_keep(uint32_t name, uint32_t id)
{
    if (name != UNWIND_NO_NAME)
        pyfr_recent_keep(pyfr_walk_last(), name, id);
}

void pyfr_thread_end(void)
{
    if (pyfr_plans)
        arena_free(pyfr_plans, PY_PLANS * sizeof *pyfr_plans);
    pyfr_plans = NULL;
    pyfr_plans_off = 1;
    if (pyfr_last)
        arena_free(pyfr_last, sizeof *pyfr_last);
    pyfr_last = NULL;
    pyfr_last_off = 1;
    if (pyfr_callers)
        arena_free(pyfr_callers, PY_CALLER_NAMES * sizeof *pyfr_callers);
    pyfr_callers = NULL;
    pyfr_callers_off = 1;
    pyfr_code_thread_end();
    pyfr_recent_thread_end();
    pyfr_window_thread_end();
}

int pyfr_again(uint32_t name, uint32_t *id)
{
    struct pyfr_walk *wk = pyfr_walk_last();
    if (!wk)
        return 0;
    wk->valid = 0;
    const char *ts = pyfr_own_state();
    if (!ts)
        return 0;
    wk = pyfr_walk_take(ts, wk->lim);
    wk->valid = 1;
    wk->name = name;
    return pyfr_recent_find(wk, name, id);
}

/* pyfr_again's walk, when it is this stack's: hook_stack calls pyfr_trace
 * with the name it gave pyfr_again just before, and no Python code ran
 * since (an unwind). */
static int pyfr_walk_fresh(const struct pyfr_walk *wk, const char *ts, uint32_t name, unsigned lim)
{
    return wk->valid && wk->name == name && name != UNWIND_NO_NAME && wk->lim == lim &&
           wk->top == (uintptr_t)pyfr_frame_top(ts, pylay_lay->frames);
}

/* Where trim's splice starts (pyfr_splice's from): the first evaluation
 * frame e when the frames under it, 0 .. e - 1, are all the interpreter's
 * and more than one: only frame 0 of them is kept (the C that allocated:
 * a block's innermost return address, heapsnap_ref.site); else 0, every
 * frame kept (a C extension's, with the interpreter's between it and its
 * caller's Python line).  Not once tracemalloc has hooked the domains:
 * the CLI tells its C by the frames under its raw_malloc (pyfr_tm_raw_wrap). */
static unsigned pyfr_trim_inner(const uintptr_t *ip, unsigned e)
{
    if (!pyfr_trim || e < 2 || atomic_load_explicit(&pyfr_tm_n, memory_order_relaxed))
        return 0;
    for (unsigned i = 0; i < e; i++)
        if (!pyfr_is_interp(ip[i]))
            return 0;
    return e;
}

int pyfr_trace(uintptr_t *ip, unsigned depth, unsigned max, int truncated, uint32_t *name,
             uint32_t *id)
{
    unsigned i = 0, learn = pyfr_window_pending; /* window.c asks for this stack's splice */
    pyfr_window_pending = 0;
    const int walk_cut = truncated;
    while (i < depth && !pyfr_is_eval(ip[i]))
        i++;
    if (i == depth)
        return 0;
    /* No memory for the thread's walk (or its end has come): the native
     * stack alone, recorded as usual. */
    struct pyfr_walk *wk = pyfr_walk_last();
    if (!wk)
        return 0;
    uint32_t again = *name;
    const struct pyfr_last *L = pyfr_last;
    unsigned shared = UINT32_MAX; /* not compared yet */
    if (*name == UNWIND_NO_NAME) {
        *name = pyfr_last_name(ip, depth, truncated, &L);
        shared = depth; /* L is this stack now */
    }
    unsigned flags = HS_UNLIKELY(atomic_load_explicit(&pyfr_tm_n, memory_order_relaxed)) &&
                             pyfr_tm_own(ip, depth) ? HSNAP_TRACE_TMOWN : 0;
    const char *ts = pyfr_own_state();
    uintptr_t out[TRACE_DEPTH_MAX];
    const uintptr_t *st = ip;
    int keep = 0;
    if (ts) {
        if (!pyfr_walk_fresh(wk, ts, again, max))
            wk = pyfr_walk_take(ts, max);
        wk->valid = 0;
        keep = *name != UNWIND_NO_NAME;
        unsigned cap = atomic_load_explicit(&pyfr_frames_max, memory_order_relaxed);
        struct pyfr_out o = {out, 0, pyfr_trim ? TRACE_DEPTH_MAX : max, 0,
                           cap && cap < max ? cap : max,
                           cap && pyfr_trim && atomic_load_explicit(&pyfr_frames_bare, memory_order_relaxed),
                           pyfr_trim};
        truncated = pyfr_splice(ip, depth, &o, wk, truncated, pyfr_plan_of(*name, ip, depth, L, shared),
                              pyfr_trim_inner(ip, i));
        if (HS_UNLIKELY(learn))
            pyfr_window_learn(learn, ip, depth, walk_cut, out, o.k, max,
                              flags | (truncated ? HSNAP_TRACE_TRUNCATED : 0));
        st = out, depth = o.k;
    }
    if ((ts ? trace_intern_new : trace_intern)(st, depth,
                                               flags | (truncated ? HSNAP_TRACE_TRUNCATED : 0),
                                               id) != 0)
        return -1;
    if (keep)
        pyfr_recent_keep(wk, *name, *id);
    if (learn & PYFR_WINDOW_CHECK)
        *name = UNWIND_NO_NAME; /* the memo left unnamed, as the window's own path leaves it */
    return 1;
}
