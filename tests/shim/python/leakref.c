/*
 * leakref.c - a tiny C extension for test_python_leakref.sh (built with
 * gcc against the interpreter's headers): objects it makes with a
 * reference leaked on purpose, and clean ones that must not be flagged.
 *   leaked(n, times=1)  a new bytearray of n bytes, times Py_INCREF too
 *              many: the caller's drop leaves counts no pointer stands for
 *              (but a stale word in a held block's slack: slack_names)
 *   clean(n)   a new bytearray, returned as it should be
 *   kept(n)    a new bytearray, one reference kept in a C global (held,
 *              not leaked)
 *   tagged(n)  the same, its address kept with the low bit set, as
 *              PyTorch's c10::impl::PyObjectSlot keeps a Python object its
 *              C++ tensor owns (held, not leaked)
 *   leaked_float(x, times)  a new float x, times Py_INCREF too many
 *   incref(o, times)        times Py_INCREF of o, never undone
 *   stale()    for each object leaked() made, a freed pymalloc block whose
 *              second word names it (pyl_pool_free)
 *   lookalike()  a C block (malloc, held by a C global) whose bytes read
 *              as a gc tuple of refcount 12383 whose PyGC_Head's _gc_next
 *              points into the block itself, as libtorch_cpu's
 *              std::string "_0" over a dead tuple does (no object)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

PyObject *leakref_kept[64]; /* C globals: references held, not leaked */
static int nkept;

static PyObject *make(PyObject *args, int *times)
{
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n|i", &n, times))
        return NULL;
    return PyByteArray_FromStringAndSize(NULL, n);
}

void *leakref_slack[64]; /* C globals: blocks held, a stale word in their slack */
static int nslack;
/* A held block of 52 bytes whose slack (pymalloc's class is 64 bytes)
 * names o at 56, as a block's last occupant leaves it: a stale word, no
 * reference (pyl_slack).  Written here, not left by a reuse, since the
 * shim holds frees back; sid's 3.14 left one in a 64-byte block reused for
 * a bytearray.  pymalloc only: glibc's chunk ends at 56 (its next chunk's
 * size field follows) and mimalloc's class is 56. */
static void slack_names(PyObject *o)
{
#ifndef Py_GIL_DISABLED
    const char *m = getenv("PYTHONMALLOC");
    if (m && strcmp(m, "pymalloc") != 0)
        return;
    void **y = PyObject_Malloc(52);
    if (y && nslack < 64) {
        memset(y, 0, 52);
        y[7] = o;
        leakref_slack[nslack++] = y;
    } else {
        PyObject_Free(y);
    }
#else
    (void)o;
#endif
}
/* The objects leaked() made, complemented: no word names them (stale). */
static uintptr_t leakref_hidden[64];
static int nhidden;

static PyObject *lr_leaked(PyObject *self, PyObject *args)
{
    int times = 1;
    PyObject *o = make(args, &times);
    for (int i = 0; o && i < times; i++)
        Py_INCREF(o); /* the bug: no Py_DECREF will ever match it */
    if (o)
        slack_names(o);
    if (o && nhidden < 64)
        leakref_hidden[nhidden++] = ~(uintptr_t)o;
    return o;
}

void *leakref_pool_held; /* a C global: keeps stale()'s pool in use */
/* For each object leaked() made, a pymalloc block freed whose second word
 * names it, as a block's last occupant leaves it: pymalloc writes only a
 * free block's first word (its free list's link), and the shim clears a
 * block at its free only when it booked it (py_free), so such a word is
 * stale, no reference (pyl_pool_free).  sid's 3.14 left one so in a
 * 16-byte block, under load.  Written after the free, into blocks of a
 * class (480 bytes) that nothing takes before the exit snapshot; one block
 * held keeps the pool in use.  pymalloc only, as slack_names. */
static PyObject *lr_stale(PyObject *self, PyObject *args)
{
#ifndef Py_GIL_DISABLED
    const char *m = getenv("PYTHONMALLOC");
    void **y[64];
    if ((m && strcmp(m, "pymalloc") != 0) || leakref_pool_held || !(leakref_pool_held = PyObject_Malloc(480)))
        Py_RETURN_NONE;
    int n = 0;
    while (n < nhidden && (y[n] = PyObject_Malloc(480)))
        n++;
    for (int i = 0; i < n; i++)
        PyObject_Free(y[i]);
    for (int i = 0; i < n; i++)
        y[i][1] = (void *)~leakref_hidden[i]; /* freed: pymalloc's, not the program's */
#endif
    Py_RETURN_NONE;
}

static PyObject *lr_clean(PyObject *self, PyObject *args)
{
    int times;
    return make(args, &times);
}

static PyObject *lr_kept(PyObject *self, PyObject *args)
{
    int times;
    PyObject *o = make(args, &times);
    if (o && nkept < 64) {
        Py_INCREF(o);
        leakref_kept[nkept++] = o;
    }
    return o;
}

uintptr_t leakref_tagged[64]; /* C globals: references held, tagged */
static int ntagged;

static PyObject *lr_tagged(PyObject *self, PyObject *args)
{
    int times;
    PyObject *o = make(args, &times);
    if (o && ntagged < 64) {
        Py_INCREF(o);
        leakref_tagged[ntagged++] = (uintptr_t)o | 1;
    }
    return o;
}

static PyObject *lr_leaked_float(PyObject *self, PyObject *args)
{
    double x;
    int times = 1;
    if (!PyArg_ParseTuple(args, "d|i", &x, &times))
        return NULL;
    PyObject *o = PyFloat_FromDouble(x);
    for (int i = 0; o && i < times; i++)
        Py_INCREF(o); /* the bug */
    return o;
}

static PyObject *lr_incref(PyObject *self, PyObject *args)
{
    PyObject *o;
    int times = 1;
    if (!PyArg_ParseTuple(args, "O|i", &o, &times))
        return NULL;
    for (int i = 0; i < times; i++)
        Py_INCREF(o); /* the bug */
    Py_RETURN_NONE;
}

void *leakref_lookalike; /* a C global: the block is held, not leaked */

static PyObject *lr_lookalike(PyObject *self, PyObject *args)
{
    size_t n = 16 + sizeof(PyTupleObject) + 3 * sizeof(PyObject *);
    uintptr_t *b = calloc(1, n);
    if (b) {
        PyObject *o = (PyObject *)(b + 2);
        b[0] = (uintptr_t)o; /* a std::string's pointer to its inline text */
        b[1] = 2;            /* its length */
        Py_SET_REFCNT(o, 12383); /* "_0" */
        Py_SET_TYPE(o, &PyTuple_Type);
        Py_SET_SIZE((PyVarObject *)o, 4);
        leakref_lookalike = b;
    }
    Py_RETURN_NONE;
}

static PyMethodDef lr_methods[] = {
    {"leaked", lr_leaked, METH_VARARGS, "a bytearray with a leaked reference"},
    {"clean", lr_clean, METH_VARARGS, "a bytearray"},
    {"kept", lr_kept, METH_VARARGS, "a bytearray a C global holds too"},
    {"tagged", lr_tagged, METH_VARARGS, "a bytearray a C global holds by a tagged pointer"},
    {"leaked_float", lr_leaked_float, METH_VARARGS, "a float with leaked references"},
    {"incref", lr_incref, METH_VARARGS, "references leaked to an object"},
    {"stale", lr_stale, METH_NOARGS, "stale words naming the leaked objects in freed blocks"},
    {"lookalike", lr_lookalike, METH_NOARGS, "a C block that reads as a tuple"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef lr_module = {PyModuleDef_HEAD_INIT, "leakref", NULL, -1, lr_methods};

PyMODINIT_FUNC PyInit_leakref(void)
{
    return PyModule_Create(&lr_module);
}
