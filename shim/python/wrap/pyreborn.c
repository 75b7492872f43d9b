/*
 * pyreborn.c - an object a CPython free list hands out again, charged
 * where it is born again, as tracemalloc charges it.  A free list's
 * object never reaches the allocator: its block stays on the books with
 * its first life's stack while the program now holds it elsewhere (3.14
 * keeps dead ints too: a loop's counter comes back as the next
 * json.loads' number, one block a call left at the loop's line).
 * tracemalloc moves the block's trace at each birth (_Py_NewReference
 * calls _PyTraceMalloc_TraceRef); from 3.13 on every birth and death
 * calls the interpreter's one reference tracer (PyRefTracer_SetTracer),
 * which the wrap takes (pyw_reborn_arm, the GIL held).  tracemalloc's,
 * there from start-up, is kept and called from ours after our part, so
 * both move their traces; a tracemalloc.start() later takes it over, and its stop
 * leaves none: such a block then keeps its first line, as on 3.10-3.12
 * (docs/python.md, "Agreement with tracemalloc").
 *   A birth is its block's first when the domains' wrapper recorded that
 * block last on this thread (pyw_fresh, which the birth clears); any other
 * birth of a block the table may hold goes to the host (hookrecord.c's
 * hook_reborn), with the block the object's memory starts at (its
 * PyGC_Head and pre-header before it, by its type's flags, as
 * tracemalloc finds it).  A death is nothing to us.
 */
#include "unwind.h"
#include "pyframes.h"
#include "pywrap.h"

#define PY_REF_CREATE 0 /* PyRefTracerEvent's (3.13 on; 3.15 adds TRACKER_REMOVED) */
#define PY_TPF_PREHEADER (3ul << 3) /* Py_TPFLAGS_MANAGED_WEAKREF | _MANAGED_DICT */
#define PY_PREHEADER 16             /* their two words */

typedef int (*py_ref_tracer)(void *op, int event, void *data);

__thread uintptr_t pyw_fresh;

static struct {
    void (*host)(uintptr_t block, const struct unwind_origin *origin);
    int (*set)(py_ref_tracer tracer, void *data);  /* PyRefTracer_SetTracer */
    py_ref_tracer (*get)(void **data);             /* PyRefTracer_GetTracer */
    py_ref_tracer prev;                            /* tracemalloc's, from start-up */
    void *prev_data;
} reborn;

/* A birth or death told to us (the tracer below): a reborn block's trace
 * moved to this stack. */
static void py_reborn_told(void *op, int event)
{
    if (event != PY_REF_CREATE)
        return;
    const char *o = op;
    uint64_t f = pylay_ptr((const char *)pylay_ptr(o, pylay_lay->ob_type), PY_TP_FLAGS);
    uintptr_t b = (uintptr_t)o - (f & PY_TPF_HAVE_GC ? PY_GC_HEAD : 0) -
                  (f & PY_TPF_PREHEADER ? PY_PREHEADER : 0);
    if (b == pyw_fresh) {
        pyw_fresh = 0;
        return;
    }
    if (guard_on || !pyfr_on || !tbl_maybe(b))
        return;
    struct unwind_origin org;
    UNWIND_ORIGIN(org);
    reborn.host(b, &org);
}

/* The tracer: called by the interpreter, with the GIL, at every object's
 * birth and death (the interpreter ignores what it returns).  The type is
 * set before a birth is told (tracemalloc reads it there too).  Ours
 * first, so that tracemalloc's own allocations leave pyw_fresh as the
 * domains' wrapper set it; then tracemalloc's, where it was there first. */
static int py_reborn_event(void *op, int event, void *data)
{
    (void)data;
    py_reborn_told(op, event);
    return reborn.prev ? reborn.prev(op, event, reborn.prev_data) : 0;
}

void pyw_reborn_arm(void *(*lookup)(const char *),
                    void (*host)(uintptr_t block, const struct unwind_origin *origin))
{
    if (pylay_sym.version < 0x030d0000u || !pylay_lay)
        return; /* no tracer to take (and a failing dlsym leaves a block) */
    if (!reborn.set) {
        reborn.set = (int (*)(py_ref_tracer, void *))lookup("PyRefTracer_SetTracer");
        reborn.get = (py_ref_tracer(*)(void **))lookup("PyRefTracer_GetTracer");
    }
    void *data;
    py_ref_tracer now = reborn.get ? reborn.get(&data) : NULL;
    if (!reborn.set || !reborn.get || now == py_reborn_event)
        return;
    reborn.prev = now; /* tracemalloc's, from start-up: called after ours */
    reborn.prev_data = now ? data : NULL;
    reborn.host = host;
    reborn.set(py_reborn_event, NULL);
}

void pyw_reborn_disarm(void)
{
    void *data;
    if (reborn.get && reborn.get(&data) == py_reborn_event)
        reborn.set(reborn.prev, reborn.prev_data);
}
