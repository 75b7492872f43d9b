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
 * which the wrap takes (py_reborn_arm, the GIL held) when no one holds it.
 * tracemalloc's start takes it over (from start-up: it is never ours),
 * and its stop leaves none: such a block then keeps its first line, as
 * on 3.10-3.12 (docs/python.md, "Agreement with tracemalloc").
 *   A birth is its block's first when the domains' wrapper recorded that
 * block last on this thread (py_fresh, which the birth clears); any other
 * birth of a block the table may hold goes to the host (hookrecord.c's
 * hook_reborn), with the block the object's memory starts at (its
 * PyGC_Head and pre-header before it, by its type's flags, as
 * tracemalloc finds it).  A death is nothing to us.
 */
#include "inner.h"

#define PY_REF_CREATE 0 /* PyRefTracerEvent's (3.13 on; 3.15 adds TRACKER_REMOVED) */
#define PY_TPF_PREHEADER (3ul << 3) /* Py_TPFLAGS_MANAGED_WEAKREF | _MANAGED_DICT */
#define PY_PREHEADER 16             /* their two words */

typedef int (*py_ref_tracer)(void *op, int event, void *data);

__thread uintptr_t py_fresh;

static struct {
    void (*host)(uintptr_t block, const struct unwind_origin *origin);
    int (*set)(py_ref_tracer tracer, void *data);  /* PyRefTracer_SetTracer */
    py_ref_tracer (*get)(void **data);             /* PyRefTracer_GetTracer */
} reborn;

/* The tracer: called by the interpreter, with the GIL, at every object's
 * birth and death; returns 0 (the interpreter ignores it).  The type is
 * set before a birth is told (tracemalloc reads it there too). */
static int py_reborn_event(void *op, int event, void *data)
{
    (void)data;
    if (event != PY_REF_CREATE)
        return 0;
    const char *o = op;
    uint64_t f = py_ptr((const char *)py_ptr(o, py_lay->ob_type), PY_TP_FLAGS);
    uintptr_t b = (uintptr_t)o - (f & PY_TPF_HAVE_GC ? PY_GC_HEAD : 0) -
                  (f & PY_TPF_PREHEADER ? PY_PREHEADER : 0);
    if (b == py_fresh) {
        py_fresh = 0;
        return 0;
    }
    if (guard_on || !py_on || !tbl_maybe(b))
        return 0;
    struct unwind_origin org;
    UNWIND_ORIGIN(org);
    reborn.host(b, &org);
    return 0;
}

void py_reborn_arm(void *(*lookup)(const char *),
                   void (*host)(uintptr_t block, const struct unwind_origin *origin))
{
    if (py_sym.version < 0x030d0000u || !py_lay)
        return; /* no tracer to take (and a failing dlsym leaves a block) */
    if (!reborn.set) {
        reborn.set = (int (*)(py_ref_tracer, void *))lookup("PyRefTracer_SetTracer");
        reborn.get = (py_ref_tracer(*)(void **))lookup("PyRefTracer_GetTracer");
    }
    void *data;
    py_ref_tracer now = reborn.get ? reborn.get(&data) : NULL;
    if (!reborn.set || !reborn.get || now == py_reborn_event)
        return;
    if (now) { /* tracemalloc's, from start-up: it moves its own traces */
        opt_debug("python: the reference tracer is taken (tracemalloc's): a free list's "
                  "object keeps its first line", "", "");
        return;
    }
    reborn.host = host;
    reborn.set(py_reborn_event, NULL);
}

void py_reborn_disarm(void)
{
    void *data;
    if (reborn.get && reborn.get(&data) == py_reborn_event)
        reborn.set(NULL, NULL);
}
