/*
 * window.c - the stacks of an extension's load, spliced outward of the
 * load once.  While the interpreter's dlopen runs (pytrack_dlopen: an
 * extension and the libraries it needs are loaded, their constructors
 * run), the frames outward of pytrack_dlopen's stay as they are: the
 * import's native frames, and the thread's Python frames, suspended in
 * the call.  A C++ library's constructors allocate there from a new stack
 * nearly every time (`import torch`: a million allocations, each walked
 * 60 to 100 native frames deep, its Python frames walked and spliced
 * whole, the native stack numbered).  Here the part outward of the load
 * is taken from the first such stack's ordinary walk and splice
 * (pyfr_window_learn), and each later one is walked by the cached rules
 * only up to pytrack_dlopen's frame (unwind_capture_to) and given that
 * part after its own frames: the words pyfr_trace would give, since its
 * splice copies native frames as they are up to the first evaluation
 * frame, all of them outward of the load here.  Taken only where that
 * holds: the same return address at the load's frame, the same innermost
 * Python frame, no code object dead and no frames' cap moved since, no
 * evaluation frame among the stack's own, tracemalloc not tracing, and a
 * stack with room to spare (neither the walk nor the splice would have
 * cut it).  Otherwise the ordinary path runs, and learns.  The unwinder's
 * memo is not named for such a stack, nor the recent splices kept: a
 * stack met again (a constructor's loop) is found among the thread's
 * last walks here (pyfr_rep: the same origin, every stack word its walk
 * read the same, the same part outward and rules), without a walk.  Per
 * thread: a dlopen inside the window (a constructor importing Python)
 * keeps the outer window.  Under
 * HEAPSNAP_UNWIND_CHECK each such stack's words are made, then the
 * ordinary path's, and compared (pyfr_window_learn): the counts come out
 * under HEAPSNAP_VERBOSE (test_python_load_window).
 */
#include <string.h>

#include "unwind.h"
#include "pyframes.h"

__thread uintptr_t pyfr_window_bound;
__thread unsigned pyfr_window_pending;

/* Stacks given their part here, and (check mode) compared and found
 * different (a stack met again: its walk's trace and the one kept). */
static _Atomic uint64_t pyfr_win_given, pyfr_win_checked, pyfr_win_differed;
static _Atomic uint64_t pyfr_win_again; /* ... of them met again (pyfr_rep) */

/* A walk inside the window and its trace, for a stack met again: its
 * origin, the addresses of the stack words it read and their values. */
#define PYFR_REPS 16        /* a thread's, direct-mapped by origin */
#define PYFR_REP_WORDS 48   /* words read at most: deeper walks are not kept */
struct pyfr_rep {
    uintptr_t ra, cfa, rbp;   /* rbp: where the walk used it (rbp_read) */
    unsigned long long rules; /* unwind_rules_gen then */
    int rbp_read;
    uint32_t part, id, n;     /* the part's number (pyfr_window.part), the trace; n words
                                 (0: none) */
    uintptr_t at[PYFR_REP_WORDS], val[PYFR_REP_WORDS];
};

struct pyfr_window {
    uintptr_t key;           /* the return address at the bound (learnt) */
    const char *top;         /* the thread's innermost Python frame then */
    uint32_t code_gen, frames_gen;
    unsigned max;            /* the recorder's depth it was learnt for */
    unsigned native;         /* native frames from the bound out */
    unsigned n;              /* words of the part outward (0: none learnt) */
    uintptr_t ip[TRACE_DEPTH_MAX + UNWIND_SLACK]; /* a stack's own frames, then the part */
    uintptr_t w[TRACE_DEPTH_MAX];                 /* the part outward, spliced */
    unsigned nchk;                                /* check mode: ip[0..nchk) to compare */
    uint32_t part;                                /* moves with each part learnt or let go */
    uint32_t kept, again;                         /* this window's walks kept, found again */
    struct pyfr_rep rep[PYFR_REPS];
};
static __thread struct pyfr_window *pyfr_win;
static __thread int pyfr_win_off; /* no memory for it: the ordinary path */

uintptr_t pyfr_window_enter(uintptr_t cfa)
{
    if (pyfr_window_bound || !pyfr_on)
        return 0;
    pyfr_window_bound = cfa;
    if (pyfr_win) {
        pyfr_win->n = 0;
        pyfr_win->part++;
        pyfr_win->kept = pyfr_win->again = 0;
    }
    return cfa;
}

void pyfr_window_leave(uintptr_t cfa)
{
    if (cfa && pyfr_window_bound == cfa)
        pyfr_window_bound = 0;
}

/* This thread's code objects and cap as they are now (a learnt part holds
 * while they stay). */
static int pyfr_window_same(const struct pyfr_window *w, const char *ts, unsigned max)
{
    return w->max == max &&
           w->code_gen == atomic_load_explicit(&pyfr_code_gen, memory_order_relaxed) &&
           w->frames_gen == atomic_load_explicit(&pyfr_frames_gen, memory_order_relaxed) &&
           w->top == pyfr_frame_top(ts, pylay_lay->frames);
}

/* e is a walk from origin whose stack words still hold what it read, for
 * the part learnt now and the rules cached now. */
static int pyfr_window_rep_same(const struct pyfr_rep *e, const struct pyfr_window *w,
                                const struct unwind_origin *origin)
{
    if (!e->n || e->ra != origin->ra || e->cfa != origin->cfa ||
        (e->rbp_read && e->rbp != origin->rbp) || e->part != w->part ||
        e->rules != unwind_rules_gen())
        return 0;
    for (unsigned i = 0; i < e->n; i++)
        if (*(const uintptr_t *)e->at[i] != e->val[i])
            return 0;
    return 1;
}

/* Whether this walk is worth keeping: a record costs about a tenth of
 * what a stack met again saves (callgrind, `import torch`), so a load
 * whose stacks come again less than one time in eight (libtorch's
 * constructors: one in fifteen) stops keeping them after a few thousand
 * walks; the next load starts again. */
static inline int pyfr_window_rep_worth(const struct pyfr_window *w)
{
    return w->kept < 4096 || (uint64_t)w->again * 8 >= w->kept;
}

/* The walk just made from origin (the words it read: e's, nrd of them)
 * and its trace id, in slot e; UNWIND_NO_NAME: the slot is let go. */
static void pyfr_window_rep_keep(struct pyfr_rep *e, struct pyfr_window *w,
                                 const struct unwind_origin *origin, unsigned nrd, int rbp_read,
                                 uint32_t id)
{
    if (id == UNWIND_NO_NAME || nrd > PYFR_REP_WORDS)
        return;
    e->ra = origin->ra, e->cfa = origin->cfa, e->rbp = origin->rbp, e->rbp_read = rbp_read;
    e->rules = unwind_rules_gen();
    e->part = w->part;
    e->id = id;
    e->n = nrd;
    w->kept++;
}

static void pyfr_window_differed(const char *what)
{
    atomic_fetch_add_explicit(&pyfr_win_differed, 1, memory_order_relaxed);
    opt_warn(what, "", "");
}

int pyfr_window_trace(const struct unwind_origin *origin, unsigned max, uint32_t *id)
{
    struct pyfr_window *w = pyfr_win;
    if (HS_UNLIKELY(!w)) {
        if (pyfr_win_off || !(w = pyfr_win = arena_alloc(sizeof *w))) {
            pyfr_win_off = 1;
            return 0;
        }
    }
    pyfr_window_pending = 0;
    const char *ts = pyfr_own_state();
    if (!ts || max > TRACE_DEPTH_MAX ||
        HS_UNLIKELY(atomic_load_explicit(&pyfr_tm_n, memory_order_relaxed)))
        return 0;
    int chk = (int)opt_int(OPT_UNWIND_CHECK);
    struct pyfr_rep *e = &w->rep[((origin->ra ^ origin->cfa >> 4) * 0x9e3779b97f4a7c15ull) >>
                                 (64 - 4)];
    _Static_assert(PYFR_REPS == 16, "the slot's 4 bits");
    uint32_t hit = UNWIND_NO_NAME;
    if (w->n && pyfr_window_rep_same(e, w, origin) && pyfr_window_same(w, ts, max)) {
        w->again++;
        if (!chk) {
            atomic_fetch_add_explicit(&pyfr_win_given, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&pyfr_win_again, 1, memory_order_relaxed);
            *id = e->id;
            return 1;
        }
        hit = e->id; /* check mode: walked and spliced too, and compared */
    }
    /* the walk records into e (let go first) what it reads, unless e is
     * the walk met again (check mode) or records are not worth it */
    int keep = hit == UNWIND_NO_NAME && pyfr_window_rep_worth(w);
    if (keep)
        e->n = 0;
    uintptr_t at;
    unsigned nrd = PYFR_REP_WORDS;
    int rbp_read = 1;
    int k = unwind_capture_to(w->ip, max, origin, pyfr_window_bound, &at, keep ? e->at : NULL,
                              e->val, &nrd, &rbp_read);
    if (k < 1)
        return 0;
    for (int i = 0; i < k; i++)
        if (pyfr_is_eval(w->ip[i]))
            return 0; /* Python runs inside the load: its frames are not the window's */
    unsigned room = pyfr_trim ? TRACE_DEPTH_MAX : max;
    if (!w->n || at != w->key || !pyfr_window_same(w, ts, max)) {
        /* the generations before the ordinary walk: one that moves during
         * it leaves a part that pyfr_window_same turns away */
        w->n = 0;
        w->part++;
        w->key = at;
        w->max = max;
        w->code_gen = atomic_load_explicit(&pyfr_code_gen, memory_order_relaxed);
        w->frames_gen = atomic_load_explicit(&pyfr_frames_gen, memory_order_relaxed);
        w->top = pyfr_frame_top(ts, pylay_lay->frames);
        pyfr_window_pending = (unsigned)k; /* pyfr_trace learns from this stack */
        return 0;
    }
    if ((unsigned)k + w->native >= max || (unsigned)k + w->n >= room)
        return 0; /* the walk or the splice might cut it: the ordinary path */
    memcpy(w->ip + k, w->w, w->n * sizeof *w->w);
    if (HS_UNLIKELY(chk)) { /* the ordinary path too, and compare */
        uint32_t mine;
        if (trace_intern_new(w->ip, (unsigned)k + w->n, 0, &mine) != 0)
            mine = UNWIND_NO_NAME;
        if (hit != UNWIND_NO_NAME && mine != hit)
            pyfr_window_differed("python: a load's stack met again differs from its walk");
        if (hit != UNWIND_NO_NAME)
            atomic_fetch_add_explicit(&pyfr_win_again, 1, memory_order_relaxed);
        else if (keep)
            pyfr_window_rep_keep(e, w, origin, nrd, rbp_read, mine);
        w->nchk = (unsigned)k + w->n;
        pyfr_window_pending = (unsigned)k | PYFR_WINDOW_CHECK;
        return 0;
    }
    atomic_fetch_add_explicit(&pyfr_win_given, 1, memory_order_relaxed);
    if (trace_intern_new(w->ip, (unsigned)k + w->n, 0, id) != 0)
        return -1;
    if (keep)
        pyfr_window_rep_keep(e, w, origin, nrd, rbp_read, *id);
    return 1;
}

void pyfr_window_learn(unsigned below, const uintptr_t *ip, unsigned depth, int walk_cut,
                       const uintptr_t *out, unsigned k, unsigned max, unsigned flags)
{
    struct pyfr_window *w = pyfr_win;
    if (!w)
        return;
    if (below & PYFR_WINDOW_CHECK) {
        int same = !(flags & (HSNAP_TRACE_TRUNCATED | HSNAP_TRACE_TMOWN)) && k == w->nchk &&
                   memcmp(out, w->ip, k * sizeof *out) == 0;
        atomic_fetch_add_explicit(&pyfr_win_checked, 1, memory_order_relaxed);
        if (!same)
            pyfr_window_differed(
                "python: a load's stack spliced outward once differs from its splice");
        return;
    }
    /* the ordinary splice kept the stack's own frames as they are, then
     * the part outward, none cut */
    if (walk_cut || (flags & (HSNAP_TRACE_TRUNCATED | HSNAP_TRACE_TMOWN)) ||
        max != w->max || depth <= below || k <= below || ip[below] != w->key ||
        memcmp(out, ip, below * sizeof *ip) != 0)
        return;
    w->native = depth - below;
    w->n = k - below;
    w->part++;
    memcpy(w->w, out + below, w->n * sizeof *out);
}

void pyfr_window_thread_end(void)
{
    if (pyfr_win)
        arena_free(pyfr_win, sizeof *pyfr_win);
    pyfr_win = NULL;
    pyfr_win_off = 1;
    pyfr_window_bound = 0;
}

/* HEAPSNAP_VERBOSE: how many stacks took the part outward of a load
 * (tests use it to see the window used, and checked). */
__attribute__((destructor)) static void pyfr_window_report(void)
{
    uint64_t given = atomic_load(&pyfr_win_given), checked = atomic_load(&pyfr_win_checked);
    if (!given && !checked)
        return;
    opt_debug_count("python: load stacks spliced outward of the load once: ", given);
    opt_debug_count("python: ... met again among the thread's last walks: ",
                    atomic_load(&pyfr_win_again));
    opt_debug_count("python: load stacks checked against their splice: ", checked);
    opt_debug_count("python: load stacks that differed: ", atomic_load(&pyfr_win_differed));
}
