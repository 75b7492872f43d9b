/*
 * pyexit.c - the exit snapshot of a Python program taken when CPython's
 * finalization begins, while its modules still hold the program's data,
 * rather than at exit(), after the interpreter has freed them.
 *
 * Once the allocator domains are wrapped (dom_poll), a pending call asks
 * the interpreter to run pyexit_register under the GIL, at its next safe
 * point: it registers a C function with atexit's register, on a module
 * of atexit's own definition made without the import system
 * (pyexit_atexit).  atexit's callbacks run at the start of Py_FinalizeEx, after the non-daemon
 * threads are joined and before the modules are torn down, last
 * registered first: this one, registered at start-up, runs after the
 * program's own.  It writes the exit snapshot then (the host's snapshot:
 * the root's early exit), and
 * exit() writes nothing more.  A process that leaves through os._exit, a
 * signal or an embedder that never finalizes is written as before.  The
 * registration's objects are made with the thread's recording off (but
 * beside tracemalloc); those that died onto a free list are then booked
 * as the start-up's (the host's seed_again), or the program, handed one,
 * would hold no object there.  What it needs of the root (the snapshot,
 * the thread's recording paused, the free lists booked again) comes
 * through struct pyexit_host, given at pyexit_arm: this room calls no
 * room above it.
 * Each CPython function is found once, by name (dom_init's lookup).
 */
#include <stddef.h>

#include "base.h"
#include "pyexit.h"
#include "python.h"
#include "pywrap.h"

/* CPython's PyMethodDef, whose layout every version since 3.0 shares. */
struct pyexit_def {
    const char *name;
    void *(*meth)(void *self, void *arg);
    int flags; /* METH_NOARGS */
    const char *doc;
};
#define PYEXIT_METH_NOARGS 0x0004

static struct {
    int (*add_pending)(int (*)(void *), void *);
    void *(*atexit_def)(void);                         /* PyInit_atexit */
    void *(*module_new)(const char *);                 /* PyModule_New */
    void *(*unicode)(const char *);                    /* PyUnicode_FromString */
    int (*set_attr)(void *obj, const char *name, void *value);
    void *(*from_def)(void *def, void *spec, int api); /* PyModule_FromDefAndSpec2 */
    int (*exec_def)(void *module, void *def);          /* PyModule_ExecDef */
    void *(*module_dict)(void *module);                /* PyModule_GetDict */
    void (*dict_clear)(void *dict);                    /* PyDict_Clear */
    void *(*new_function)(struct pyexit_def *, void *self, void *module);
    void *(*call_method)(void *obj, const char *name, const char *format, ...);
    void (*incref)(void *), (*decref)(void *);
    void (*clear_error)(void);
    void *none;
    int armed;
    struct pyexit_host host; /* pyexit_arm's */
} pyexit;

static struct pyexit_def pyexit_def = {"heapsnap_exit_snapshot", NULL, PYEXIT_METH_NOARGS,
                                       "heapsnap's exit snapshot, at the start of finalization"};

void pyexit_find(void *(*lookup)(const char *))
{
    pyexit.add_pending = (int (*)(int (*)(void *), void *))lookup("Py_AddPendingCall");
    pyexit.atexit_def = lookup("PyInit_atexit");
    pyexit.module_new = lookup("PyModule_New");
    pyexit.unicode = lookup("PyUnicode_FromString");
    pyexit.set_attr = (int (*)(void *, const char *, void *))lookup("PyObject_SetAttrString");
    pyexit.from_def = (void *(*)(void *, void *, int))lookup("PyModule_FromDefAndSpec2");
    pyexit.exec_def = (int (*)(void *, void *))lookup("PyModule_ExecDef");
    pyexit.module_dict = lookup("PyModule_GetDict");
    pyexit.dict_clear = (void (*)(void *))lookup("PyDict_Clear");
    pyexit.new_function = lookup("PyCFunction_NewEx");
    pyexit.call_method = lookup("PyObject_CallMethod");
    pyexit.incref = (void (*)(void *))lookup("Py_IncRef");
    pyexit.decref = (void (*)(void *))lookup("Py_DecRef");
    pyexit.clear_error = (void (*)(void))lookup("PyErr_Clear");
    pyexit.none = lookup("_Py_NoneStruct");
}

static void *pyexit_snapshot(void *self, void *arg)
{
    (void)self, (void)arg;
    pyexit.host.snapshot();
    pyw_gcf_disarm(); /* the interpreter goes: no more flag to read */
    pyexit.incref(pyexit.none);
    return pyexit.none;
}

/* PYTHON_API_VERSION, the same in every CPython 3: PyModule_FromDefAndSpec2
 * warns on any other. */
#define PYEXIT_API_VERSION 1013

/* A module of atexit's own definition (PyInit_atexit's), made and executed
 * as the import system would, but without it: its register adds to the
 * interpreter's list of callbacks (CPython 3.10 on keep it in the
 * interpreter's state, not in the module's, and the domains are wrapped
 * from 3.10 only), sys.modules stays as the program has it, and no
 * importlib code runs between two of the program's bytecodes.  An import
 * there was an import nested in whatever the thread was doing: inside
 * 3.10/3.11's _ModuleLock.acquire, between `_blocking_on[tid] = self` and
 * its `del`, the nested import's own del left the outer one a KeyError,
 * and the program died at start-up (1 run in about 40 of Debian's 3.11
 * under the sampled mode).  The spec the function asks for needs only a
 * `name`: a bare module carries it.  NULL, an error set, when any step
 * fails. */
static void *pyexit_atexit(void)
{
    void *def = pyexit.atexit_def(), *spec = NULL, *name = NULL, *module = NULL;
    if (def && (spec = pyexit.module_new("atexit")) && (name = pyexit.unicode("atexit")) &&
        pyexit.set_attr(spec, "name", name) == 0)
        module = pyexit.from_def(def, spec, PYEXIT_API_VERSION); /* def: static, borrowed */
    if (module && pyexit.exec_def(module, def) != 0) {
        pyexit.decref(module);
        module = NULL;
    }
    for (void **o = (void *[]){name, spec}, **end = o + 2; o < end; o++)
        if (*o)
            pyexit.decref(*o);
    return module;
}

static int pyexit_register(void *arg)
{
    (void)arg;
    /* Recording off, unless tracemalloc traces: its hooks' entries for
     * these objects would then be unseen, and the entries chained after
     * them in its hash tables lost to the leak check; the objects are then
     * charged to the line that ran, as tracemalloc charges them. */
    int was = pyfr_tm_on() ? 0 : pyexit.host.pause(1);
    void *atexit = pyexit_atexit(), *fn = NULL, *r = NULL;
    if (atexit)
        fn = pyexit.new_function(&pyexit_def, NULL, NULL);
    if (fn)
        r = pyexit.call_method(atexit, "register", "O", fn);
    if (!r) {
        pyexit.clear_error(); /* the exit snapshot stays exit()'s */
        opt_debug("python: atexit registration failed: the exit snapshot follows "
                  "finalization", "", "");
    }
    /* The module and its functions are a cycle (each function's self is
     * the module): emptied, they die now, recording still off, onto the
     * free lists that seed_again books, not at a later collection, as
     * blocks of nobody's that a reuse would then hand the program. */
    void *dict = atexit ? pyexit.module_dict(atexit) : NULL;
    if (dict)
        pyexit.dict_clear(dict);
    for (void **o = (void *[]){r, fn, atexit}, **end = o + 3; o < end; o++)
        if (*o)
            pyexit.decref(*o);
    if (was) {
        int saved = guard_enter();
        pyexit.host.seed_again(); /* its dead temporaries: blocks, as the free lists' others */
        guard_leave(saved);
        pyexit.host.pause(0);
    }
    return 0;
}

/* dom_poll, the domains just wrapped (GIL held, guard set): once. */
void pyexit_arm(const struct pyexit_host *host)
{
    if (pyexit.armed || !host || !pyexit.add_pending || !pyexit.atexit_def ||
        !pyexit.module_new || !pyexit.unicode || !pyexit.set_attr || !pyexit.from_def ||
        !pyexit.exec_def || !pyexit.module_dict || !pyexit.dict_clear ||
        !pyexit.new_function || !pyexit.call_method || !pyexit.incref || !pyexit.decref ||
        !pyexit.clear_error || !pyexit.none)
        return;
    pyexit.armed = 1;
    pyexit.host = *host;
    pyexit_def.meth = pyexit_snapshot;
    if (pyexit.add_pending(pyexit_register, NULL) != 0)
        pyexit.armed = 0; /* the queue was full: the next wrap asks again */
}
