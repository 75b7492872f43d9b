/*
 * hookstack.c - a recorded block's stack, as the hooks get it: the
 * unwinder started with the shim as its host (its memory, the loader
 * guard, warnings), and an origin turned into a trace id, by the
 * unwinder's memo of this thread's named stacks when the walk repeats
 * one, else by a walk with CPython's frames spliced in, interned.  Runs
 * under guard_on with no lock held until the intern; the hooks' fast
 * paths never come here (hooks.c calls it from its noinline slow paths).
 */
#include "hooks.h"
#include "python.h" /* shim/python: pyfr_again, pyfr_trace, pyfr_caller* and pyfr_tm_own only */

/* ---------------- the unwinders' host ---------------- */

/* unwind_host.deep: the scrub reaches past a repeat's path */
static void hook_unwind_deep(void)
{
    hook_book(HOOK_SCRUB_LIST);
}

static const struct unwind_host hook_unwind_host = {
    .alloc = arena_alloc,
    .free = arena_free,
    .map = arena_map,
    .iterate_phdr = loader_iterate_phdr,
    .loader_enter = loader_enter,
    .loader_leave = loader_leave,
    .count = opt_debug_count, .warn = opt_warn, .deep = hook_unwind_deep,
};

_Static_assert((int)OPT_UNWIND_AUTO == UNWIND_AUTO && (int)OPT_UNWIND_FP == UNWIND_FP &&
                   (int)OPT_UNWIND_LIBUNWIND == UNWIND_LIBUNWIND,
               "HEAPSNAP_UNWIND's choices are unwind.h's backends");

/* HEAPSNAP_UNWIND's backend, started outside any hook (life_init). */
void hook_unwind_init(void)
{
    unwind_init((int)opt_int(OPT_UNWIND), (int)opt_int(OPT_UNWIND_CHECK), &hook_unwind_host);
}

/* How deep below the hook's frame a stack's naming goes, past its ip[]
 * (max + UNWIND_SLACK words): Python's frames spliced into a stack named
 * before (pyfr_again, asked by hook_stack before there is an ip[]: past
 * hook_stack's frame; painted, 920 bytes), the frames of a walk named
 * before (then Python's spliced, or an intern), a walk and its intern
 * (the CFI walk's, by the cached rules alone or, when unwind_deep moved,
 * past them; with Python's frames spliced in, whose splice keeps a
 * trace's frames on the stack; libunwind's, which takes the stack whole:
 * auto's fallback, or HEAPSNAP_UNWIND=libunwind).  hook_leave clears
 * that much: the dead frames hold the host's stack words the walk read
 * and Python's code objects, as well as the recording block's address
 * (pushed by the callees' prologues with the register that holds it).
 * Each is the deepest a painted stack showed on its path, with room to
 * spare (test_leak_leftovers: no block address left after new stacks'
 * walks, and no word the hook wrote left below its caller).  A walk by the
 * cached rules and its intern, a new trace's included, reached 1.0 KiB
 * past ip[] (a kept program's 100,000 stacks, new and met again; the
 * indexes' growth 1.0 KiB too); the 3.6 KiB were the rule decoder's and
 * the first walk's, which unwind_deep tells apart.  Not in a process that
 * runs Python (pyfr_on): there a native stack's own walk and intern went
 * to 2.3 KiB past ip[] (`python3 -c pass`, painted at each hook_stack),
 * and its walks keep HOOK_DEPTH_WALK. */
#define HOOK_DEPTH_PY 1280
#define HOOK_DEPTH_FRAMES 3584
#define HOOK_DEPTH_WALK_QUICK 2048
#define HOOK_DEPTH_WALK 4608
#define HOOK_DEPTH_WALK_PY 6144
#define HOOK_DEPTH_WALK_RAW 11264

/* hook_scrub_need (hs_hot) */

/* The stack of a block whose walk repeats none of this thread's named
 * ones (again = UNWIND_NO_NAME: unwind_again said so): captured, interned
 * and named; its trace id, or UNWIND_NO_NAME when out of memory.  A stack
 * that runs Python (evaluation frames) gets its Python frames spliced in
 * (shim/python) and is named for its native frames only, with
 * UNWIND_NAME_FRAMES: the same native walk runs different Python lines, so
 * unwind_again answers such a name (again) with the native frames kept,
 * and the Python frames are spliced afresh, every time.  max: HEAPSNAP_DEPTH. */
static HS_NOINLINE uint32_t hook_stack_named(const struct unwind_origin *origin,
                                             uint32_t again, unsigned max, size_t *deep)
{
    uintptr_t ip[max + UNWIND_SLACK];
    int truncated, got = -1;
    uint32_t id;
    if (again != UNWIND_NO_NAME) { /* hook_stack asked pyfr_again */
        *deep = HOOK_DEPTH_FRAMES;
        got = unwind_again_frames(again, ip, max, &truncated);
    }
    if (got < 0) {
        if (HS_UNLIKELY(hook_up()->orphan_stop())) /* a clone child: no walk */
            return UNWIND_NO_NAME;
        if (HS_UNLIKELY(pyfr_window_bound) && pyfr_on) { /* inside an extension's load */
            int w = pyfr_window_trace(origin, max, &id);
            if (w != 0) {
                *deep = HOOK_DEPTH_WALK_PY;
                return w > 0 ? id : UNWIND_NO_NAME;
            }
        }
        int raw;
        unsigned slow = unwind_deep;
        again = UNWIND_NO_NAME;
        got = (int)unwind_capture(ip, max, &truncated, NULL, origin, &raw);
        *deep = raw ? HOOK_DEPTH_WALK_RAW
                : unwind_deep != slow || pyfr_on ? HOOK_DEPTH_WALK : HOOK_DEPTH_WALK_QUICK;
    }
    unsigned depth = (unsigned)got;
    if (HS_UNLIKELY(pyfr_on)) { /* shim/python: Python frames spliced in */
        uint32_t name = again;
        int py = pyfr_trace(ip, depth, max, truncated, &name, &id);
        if (py && *deep == HOOK_DEPTH_WALK)
            *deep = HOOK_DEPTH_WALK_PY;
        if (py) {
            if (again == UNWIND_NO_NAME)
                unwind_name(name);
            return py > 0 ? id : UNWIND_NO_NAME;
        }
    }
    unsigned tm = HS_UNLIKELY(atomic_load_explicit(&pyfr_tm_n, memory_order_relaxed)) &&
                          pyfr_tm_own(ip, depth) ? HSNAP_TRACE_TMOWN : 0; /* shim/python */
    if (trace_intern(ip, depth, tm | (truncated ? HSNAP_TRACE_TRUNCATED : 0), &id) != 0)
        return UNWIND_NO_NAME;
    if (again == UNWIND_NO_NAME)
        unwind_name(id);
    return id;
}

HS_NOINLINE uint32_t hook_stack(const struct unwind_origin *origin, uint32_t again,
                                unsigned max)
{
    uint32_t id;
    size_t deep = HOOK_DEPTH_PY;
    /* Python's frames spliced into a stack named before, asked here, above
     * hook_stack_named's ip[]: its frames lie HOOK_DEPTH_PY below this
     * one, not below the array too (a Python program's usual allocation:
     * 528 bytes fewer to clear at the default depth). */
    if (again == UNWIND_NO_NAME || !pyfr_on || !pyfr_again(again, &id)) {
        id = hook_stack_named(origin, again, max, &deep);
        deep += (max + UNWIND_SLACK) * sizeof(uintptr_t);
    }
    hook_book(deep);
    return id;
}

/* hook_stack_caller's stack not met lately (pyfr_caller's 2): its frames
 * made, interned and kept under name among the recent splices. */
static HS_NOINLINE uint32_t hook_stack_caller_new(unsigned max, uint32_t name)
{
    uintptr_t ip[max + UNWIND_SLACK];
    int truncated;
    uint32_t id;
    unsigned n = pyfr_caller_frames(ip, &truncated);
    if (trace_intern_new(ip, n, truncated ? HSNAP_TRACE_TRUNCATED : 0, &id) != 0)
        return UNWIND_NO_NAME;
    pyfr_caller_keep(name, id);
    return id;
}

/* pyfr_caller's 3: the allocator's caller lies in a wrapper's module; a
 * few frames walked from it (by the cached rules, as hook_stack_named's
 * walk) for pyfr_caller_wrapped.  A walk libunwind took, or one that
 * does not start at the caller, keeps the caller alone. */
static HS_NOINLINE int hook_stack_unwrap(const struct unwind_origin *origin, uint32_t *name,
                                         uint32_t *id)
{
    uintptr_t ip[PY_CALLER_NATIVE + UNWIND_SLACK];
    int truncated, raw;
    unsigned n = unwind_capture(ip, PY_CALLER_NATIVE, &truncated, NULL, origin, &raw);
    hook_book((raw ? HOOK_DEPTH_WALK_RAW : HOOK_DEPTH_WALK) + sizeof ip);
    if (raw || !n || ip[0] != origin->ra)
        n = 1, ip[0] = origin->ra;
    return pyfr_caller_wrapped(ip, n, name, id);
}

/* HEAPSNAP_PYTHON_NATIVE=caller (hook_py_caller): the stack of a thread
 * that runs Python code is the allocator's caller and its Python frames
 * (pyfr_caller), with no native walk but a few frames past a wrapper's
 * caller (hook_stack_unwrap).  Its frames lie as deep as pyfr_again's
 * (HOOK_DEPTH_PY) when the thread met the stack lately, past an ip[]
 * when not (as hook_stack's), and a caller named anew (native.c, under
 * its lock) goes no deeper than a walk named before. */
int hook_stack_caller(const struct unwind_origin *origin, unsigned max, uint32_t *id)
{
    uint32_t name;
    int r = pyfr_caller(origin->ra, max, &name, id);
    if (!r)
        return 0;
    if (r == 3)
        r = hook_stack_unwrap(origin, &name, id);
    if (r == 2) {
        *id = hook_stack_caller_new(max, name);
        hook_book(HOOK_DEPTH_FRAMES + (max + UNWIND_SLACK) * sizeof(uintptr_t));
    } else {
        hook_book(HOOK_DEPTH_PY);
    }
    return 1;
}

/* The trace of the stack at origin, or UNWIND_NO_NAME (out of memory). */
uint32_t hook_site(const struct unwind_origin *origin, unsigned max)
{
    hook_booked();
    uint32_t id;
    if (HS_UNLIKELY(hook_py_caller()) && hook_stack_caller(origin, max, &id))
        return id;
    id = unwind_again(origin, max); /* UNWIND_NO_NAME has FRAMES set */
    return id & UNWIND_NAME_FRAMES ? hook_stack(origin, id, max) : id;
}
