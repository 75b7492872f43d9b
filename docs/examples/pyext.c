/*
 * pyext.c - the C extension docs/python.md's app.py calls (make builds it
 * into build/examples against python3's headers): two bugs on purpose.
 *   leak(n)    mallocs n bytes and loses the pointer (a direct leak)
 *   leaked(n)  a new bytearray of n bytes with one Py_INCREF too many: the
 *              caller's drop leaves a count no pointer stands for (a leaked
 *              reference)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink; /* the compiler may not drop a malloc it sees unused */

static PyObject *ext_leak(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n))
        return NULL;
    sink = malloc((size_t)n);
    if (sink)
        memset(sink, 1, (size_t)n);
    sink = NULL;
    Py_RETURN_NONE;
}

static PyObject *make(PyObject *args)
{
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n))
        return NULL;
    return PyByteArray_FromStringAndSize(NULL, n);
}

static PyObject *ext_leaked(PyObject *self, PyObject *args)
{
    PyObject *o = make(args);
    Py_XINCREF(o); /* the bug: no Py_DECREF will ever match it */
    return o;
}

static PyMethodDef ext_methods[] = {
    {"leak", ext_leak, METH_VARARGS, "malloc n bytes and lose them"},
    {"leaked", ext_leaked, METH_VARARGS, "a bytearray with a reference leaked"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ext_module = {PyModuleDef_HEAD_INIT, "pyext", NULL, -1, ext_methods};

PyMODINIT_FUNC PyInit_pyext(void)
{
    return PyModule_Create(&ext_module);
}
