/*
 * pyext.c - a tiny C extension for the Python tests (built by lib_py.sh's
 * py_ext_build against the interpreter's headers): its own mallocs, at
 * lines the tests find by their markers.
 *   leak(n)   mallocs n bytes and loses the pointer (a direct leak)
 *   keep(n)   mallocs n bytes, kept in a global (reachable)
 *   nogil(n)  mallocs n bytes with the GIL released, kept
 *   tracked(domain, n)  mallocs n bytes, kept, and tracks them in
 *             tracemalloc's domain (PyTraceMalloc_Track, as numpy does)
 *   untrack() untracks and frees what tracked() kept
 * Its init tracks a 4096-byte block in domain 389047 (numpy's), as numpy
 * allocates arrays while it is imported.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

void *pyext_kept[1024]; /* global: the compiler may not drop the mallocs stored here */
static int nkept;
static void *volatile sink; /* the compiler may not drop a malloc it sees unused */
void *pyext_init_block; /* the block its init tracks */

static PyObject *ext_leak(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n))
        return NULL;
    sink = malloc((size_t)n); /* MARK_LEAK */
    memset(sink, 1, (size_t)n);
    sink = NULL;
    Py_RETURN_NONE;
}

static PyObject *ext_keep(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n))
        return NULL;
    if (nkept < 1024)
        pyext_kept[nkept++] = malloc((size_t)n); /* MARK_KEEP */
    Py_RETURN_NONE;
}

static PyObject *ext_nogil(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    void *p;
    if (!PyArg_ParseTuple(args, "n", &n))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    p = malloc((size_t)n); /* MARK_NOGIL */
    Py_END_ALLOW_THREADS
    if (nkept < 1024)
        pyext_kept[nkept++] = p;
    Py_RETURN_NONE;
}

static volatile int ext_calls;

/* call(f, x): f(x) called from C, so a frame of the extension stands
 * between two Python frames (not a tail call: the count after it). */
static PyObject *ext_call(PyObject *self, PyObject *args)
{
    PyObject *f, *x, *r;
    if (!PyArg_ParseTuple(args, "OO", &f, &x))
        return NULL;
    r = PyObject_CallFunctionObjArgs(f, x, NULL); /* MARK_CALL */
    ext_calls++;
    return r;
}

static void *tracked_p[64];
static unsigned tracked_d[64];
static int ntracked;

static PyObject *ext_tracked(PyObject *self, PyObject *args)
{
    unsigned domain;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "In", &domain, &n))
        return NULL;
    if (ntracked < 64) {
        void *p = malloc((size_t)n); /* MARK_TRACKED */
        PyTraceMalloc_Track(domain, (uintptr_t)p, (size_t)n);
        tracked_d[ntracked] = domain;
        tracked_p[ntracked++] = p;
    }
    Py_RETURN_NONE;
}

static PyObject *ext_untrack(PyObject *self, PyObject *args)
{
    for (; ntracked > 0; ntracked--) {
        PyTraceMalloc_Untrack(tracked_d[ntracked - 1], (uintptr_t)tracked_p[ntracked - 1]);
        free(tracked_p[ntracked - 1]);
    }
    Py_RETURN_NONE;
}

static PyMethodDef ext_methods[] = {
    {"tracked", ext_tracked, METH_VARARGS, NULL},
    {"untrack", ext_untrack, METH_NOARGS, NULL},
    {"call", ext_call, METH_VARARGS, NULL},
    {"leak", ext_leak, METH_VARARGS, NULL},
    {"keep", ext_keep, METH_VARARGS, NULL},
    {"nogil", ext_nogil, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ext_module = {PyModuleDef_HEAD_INIT, "pyext", NULL, -1, ext_methods};

PyMODINIT_FUNC PyInit_pyext(void)
{
    void *p = malloc(4096);
    PyTraceMalloc_Track(389047, (uintptr_t)p, 4096);
    pyext_init_block = p;
    return PyModule_Create(&ext_module);
}
