/*
 * cstackroot.c - a tiny C extension for test_python_cstack_roots.sh
 * (built with gcc -g against each interpreter's headers): objects held by
 * a C stack alone, and stale words of dead C frames.
 *   hold_and_call(cls, fn)   a cls() in a C local alone while fn() runs
 *                            (fn takes the snapshot): this thread's stack
 *   hold_and_block(cls, fd)  a cls() in a C local alone, then a read of
 *                            fd with the GIL released: another thread's
 *   smear_and_block(box, fd) box[0]'s address written all over a deep
 *                            frame that returns (cstackroot_fill), box
 *                            emptied, then the same blocked read: the
 *                            address stays in dead words below the
 *                            thread's stack pointer, and the object is
 *                            held by nothing of this thread's.
 *   borrow_and_call(box, fn) box[0]'s address in a C local (borrowed, no
 *                            reference), box emptied, then fn() runs (it
 *                            takes the snapshot): a live frame's word, and
 *                            box[0], a cycle, garbage all the same.
 *   leak(obj)                one Py_INCREF of obj too many.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <alloca.h>
#include <errno.h>
#include <unistd.h>

#define SMEAR_WORDS 512
#define SMEAR_GAP (64 << 10)

static void cstackroot_read(int fd)
{
    char c;
    Py_BEGIN_ALLOW_THREADS
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
    Py_END_ALLOW_THREADS
}

static PyObject *cstackroot_hold_and_call(PyObject *self, PyObject *args)
{
    PyObject *cls, *fn;
    if (!PyArg_ParseTuple(args, "OO", &cls, &fn))
        return NULL;
    PyObject *volatile held = PyObject_CallNoArgs(cls);
    if (!held)
        return NULL;
    PyObject *r = PyObject_CallNoArgs(fn); /* MARK_HELD_CALL */
    Py_DECREF(held);
    return r;
}

static PyObject *cstackroot_hold_and_block(PyObject *self, PyObject *args)
{
    PyObject *cls;
    int fd;
    if (!PyArg_ParseTuple(args, "Oi", &cls, &fd))
        return NULL;
    PyObject *volatile held = PyObject_CallNoArgs(cls);
    if (!held)
        return NULL;
    cstackroot_read(fd); /* MARK_HELD_BLOCK */
    Py_DECREF(held);
    Py_RETURN_NONE;
}

/* Fills a frame with p, and returns: its words are dead after. */
__attribute__((noinline)) static void cstackroot_fill(void *p)
{
    void *volatile words[SMEAR_WORDS];
    for (int i = 0; i < SMEAR_WORDS; i++)
        words[i] = p;
}

/* cstackroot_fill's frame SMEAR_GAP bytes deeper than this one: below
 * the frames the blocked read pushes later (none of those slots, live
 * then, keeps a copy). */
__attribute__((noinline)) static void cstackroot_smear(void *p)
{
    volatile char *gap = alloca(SMEAR_GAP);
    gap[0] = 0;
    cstackroot_fill(p);
}

static PyObject *cstackroot_smear_and_block(PyObject *self, PyObject *args)
{
    PyObject *box;
    int fd;
    if (!PyArg_ParseTuple(args, "O!i", &PyList_Type, &box, &fd) || PyList_GET_SIZE(box) < 1)
        return NULL;
    cstackroot_smear(PyList_GET_ITEM(box, 0));
    if (PyList_SetSlice(box, 0, PyList_GET_SIZE(box), NULL) < 0)
        return NULL;
    cstackroot_read(fd);
    Py_RETURN_NONE;
}

static PyObject *cstackroot_borrow_and_call(PyObject *self, PyObject *args)
{
    PyObject *box, *fn;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &box, &fn) || PyList_GET_SIZE(box) < 1)
        return NULL;
    PyObject *volatile borrowed = PyList_GET_ITEM(box, 0);
    if (PyList_SetSlice(box, 0, PyList_GET_SIZE(box), NULL) < 0)
        return NULL;
    PyObject *r = PyObject_CallNoArgs(fn);
    (void)borrowed;
    return r;
}

static PyObject *cstackroot_leak(PyObject *self, PyObject *obj)
{
    Py_INCREF(obj); /* the bug: no Py_DECREF will ever match it */
    Py_RETURN_NONE;
}

static PyMethodDef cstackroot_methods[] = {
    {"leak", cstackroot_leak, METH_O, NULL},
    {"borrow_and_call", cstackroot_borrow_and_call, METH_VARARGS, NULL},
    {"hold_and_call", cstackroot_hold_and_call, METH_VARARGS, NULL},
    {"hold_and_block", cstackroot_hold_and_block, METH_VARARGS, NULL},
    {"smear_and_block", cstackroot_smear_and_block, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef cstackroot_module = {PyModuleDef_HEAD_INIT, "cstackroot", NULL, 0,
                                               cstackroot_methods};

PyMODINIT_FUNC PyInit_cstackroot(void)
{
    return PyModule_Create(&cstackroot_module);
}
