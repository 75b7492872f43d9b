/*
 * initconst.c - a multi-phase C extension whose exec slot makes a bytes
 * and a code object and keeps no pointer to them, as a Cython module's
 * constants are kept once the C compiler has removed their write-only
 * static variables; and leak(), which drops a fresh bytes each call (a
 * leaked reference at run time, which stays a leak).  Objects the
 * collector tracks would be reached through its lists: none here.
 * keep(obj) holds obj in a C global, initconst_kept (a dynamic symbol):
 * its root is "static data of initconst...so (initconst_kept)".
 * block_holding(cls, fd) makes a cls() held by a C local alone and blocks
 * reading fd, the GIL released: its root is "C stack of thread TID in
 * initconst_block_holding (initconst.c:L)".
 * The exec slot also makes a constant nested in a constant, as Cython's
 * (("day",), 2): the inner tuple's own count kept with no pointer, the
 * outer held by a C global, initconst_nested; the importer first fills
 * the tuples' free list, so the inner tuple's block keeps a Python line's
 * stack (its first life).
 * From 3.11 on, it makes a code object as Cython 0.29 does there: an
 * empty one's replace() with the names (co_varnames), which the new code
 * copies, so the names tuple's count of 1 has no pointer; the tuple is the
 * block __main__.names_deep just dropped at the end of a deep recursion
 * (the free list's head), whose dead data-stack slots keep its address.
 */
#include <Python.h>
#include <errno.h>
#include <unistd.h>

PyObject *initconst_nested; /* the outer constant */

/* The names constant from the free list, as above; 0 or -1. */
static int initconst_names(void)
{
#if PY_VERSION_HEX >= 0x030b0000
    PyObject *a = PyUnicode_InternFromString("initconst_arr");
    PyObject *b = PyUnicode_InternFromString("initconst_copy");
    PyObject *deep = PyObject_GetAttrString(PyImport_AddModule("__main__"), "names_deep");
    PyObject *kw = PyDict_New(), *empty = PyTuple_New(0), *depth = PyLong_FromLong(40);
    PyCodeObject *co = PyCode_NewEmpty("initconst.pyx", "initconst_names", 9);
    PyObject *rep = co ? PyObject_GetAttrString((PyObject *)co, "replace") : NULL;
    if (!a || !b || !deep || !kw || !empty || !depth || !rep)
        return -1;
    PyObject *r = PyObject_CallOneArg(deep, depth); /* no args tuple */
    if (!r)
        return -1;
    Py_DECREF(r);
    PyObject *names = PyTuple_Pack(2, a, b); /* the block names_deep dropped */
    PyObject *two = PyLong_FromLong(2);
    if (!names || !two || PyDict_SetItemString(kw, "co_varnames", names) ||
        PyDict_SetItemString(kw, "co_argcount", two) || PyDict_SetItemString(kw, "co_nlocals", two))
        return -1;
    PyObject *made = PyObject_Call(rep, empty, kw); /* kept with no pointer */
    if (!made)
        return -1;
    Py_DECREF(kw); /* names: its count of 1 kept, as a write-only static's */
    Py_DECREF(rep);
    Py_DECREF(co);
    Py_DECREF(deep);
#endif
    return 0;
}

static int initconst_exec(PyObject *m)
{
    PyObject *inner = Py_BuildValue("(s)", "initconst_day");
    if (!inner || !(initconst_nested = Py_BuildValue("(Oi)", inner, 2)))
        return -1;
    /* inner's own count kept, as a write-only static's: no pointer */
    PyObject *doc = PyBytes_FromString("initconst's constant, kept with no pointer");
    if (!doc)
        return -1;
    PyCodeObject *co = PyCode_NewEmpty("initconst.pyx", "initconst_fn", 7);
    if (!co)
        return -1;
    /* both kept for good with no pointer: their counts of 1 stay */
    if (initconst_names())
        return -1;
    return PyModule_AddIntConstant(m, "made", 2);
}

static PyObject *initconst_leak(PyObject *self, PyObject *arg)
{
    (void)self;
    (void)arg;
    PyObject *b = PyBytes_FromString("initconst: a bytes leaked at run time");
    if (!b)
        return NULL;
    Py_RETURN_NONE; /* b leaked */
}

PyObject *initconst_kept; /* a C global: the reference keep() holds */

static PyObject *initconst_keep(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_INCREF(arg);
    Py_XSETREF(initconst_kept, arg);
    Py_RETURN_NONE;
}

static PyObject *initconst_block_holding(PyObject *self, PyObject *args)
{
    PyObject *cls;
    int fd;
    char c;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oi", &cls, &fd))
        return NULL;
    PyObject *volatile held = PyObject_CallNoArgs(cls); /* on this C stack only */
    if (!held)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
    Py_END_ALLOW_THREADS
    Py_DECREF(held);
    Py_RETURN_NONE;
}

static PyMethodDef initconst_methods[] = {
    {"block_holding", initconst_block_holding, METH_VARARGS, "hold cls() in a C local, block on fd"},
    {"keep", initconst_keep, METH_O, "hold obj in a C global"},
    {"leak", initconst_leak, METH_O, "drop a bytes (a leaked reference)"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot initconst_slots[] = {
    {Py_mod_exec, initconst_exec},
    {0, NULL},
};

static struct PyModuleDef initconst_def = {
    PyModuleDef_HEAD_INIT, "initconst", NULL, 0, initconst_methods, initconst_slots,
};

PyMODINIT_FUNC PyInit_initconst(void)
{
    return PyModuleDef_Init(&initconst_def);
}
