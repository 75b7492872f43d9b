/*
 * loadwin.c - an extension whose constructor allocates as a C++ library's
 * static initialisers do (libtorch's: a million blocks while its dlopen
 * runs, nearly each from a stack of its own, and loops that allocate again
 * from the same one): LW_CALLS walks down 2^LW_LEVELS distinct stacks,
 * each LW_LEVELS lw_level frames deep, each keeping two blocks from a loop
 * of two, all made before PyInit_loadwin runs (test_python_load_window).
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

#define LW_LEVELS 10
#define LW_CALLS 3000
#define LW_BLOCKS (2 * LW_CALLS)

static void *lw_kept[LW_BLOCKS];
static int lw_n;

/* One frame a level, called from one of two sites: the path's bit for
 * this level picks the site. */
__attribute__((noinline)) static void lw_level(int level, unsigned path)
{
    if (level == LW_LEVELS) {
        static volatile int reps = 2; /* a loop, not two call sites */
        for (int i = 0; i < reps; i++) {
            void *p = malloc(16 + path % 64);
            if (p && lw_n < LW_BLOCKS)
                lw_kept[lw_n++] = p;
        }
        return;
    }
    if (path >> level & 1) {
        lw_level(level + 1, path);
        __asm__ volatile("nop" ::: "memory");
    } else {
        lw_level(level + 1, path);
        __asm__ volatile("" ::: "memory");
    }
}

__attribute__((constructor)) static void lw_init(void)
{
    for (unsigned i = 0; i < LW_CALLS; i++)
        lw_level(0, i * 7u % (1u << LW_LEVELS));
}

static PyObject *lw_count(PyObject *self, PyObject *args)
{
    (void)self, (void)args;
    return PyLong_FromLong(lw_n);
}

static PyMethodDef lw_methods[] = {{"count", lw_count, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef lw_module = {PyModuleDef_HEAD_INIT, "loadwin", NULL, -1, lw_methods,
                                       NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_loadwin(void)
{
    return PyModule_Create(&lw_module);
}
