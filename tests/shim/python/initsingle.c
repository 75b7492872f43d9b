/*
 * initsingle.c - a single-phase C extension (PyInit_ does all, no exec
 * slot): its initialisation makes a bytes and keeps no pointer to it (a
 * constant whose write-only static the C compiler removed), and counts a
 * str once more than it points to it (the module's dict holds one
 * reference, the other is never given back).  Both are the extension's
 * for good, once per process: neither a leak nor a leaked reference.
 */
#include <Python.h>

static struct PyModuleDef initsingle_def = {PyModuleDef_HEAD_INIT, "initsingle", NULL, -1, NULL};

PyMODINIT_FUNC PyInit_initsingle(void)
{
    PyObject *m = PyModule_Create(&initsingle_def);
    if (!m)
        return NULL;
    PyObject *doc = PyBytes_FromString("initsingle's constant, kept with no pointer");
    PyObject *name = PyUnicode_FromString("initsingle: a str counted once more");
    if (!doc || !name || PyModule_AddObjectRef(m, "name", name) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m; /* doc and one count of name kept */
}
