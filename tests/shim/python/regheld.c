/*
 * regheld.c - a tiny C extension for test_python_regheld.sh (built against
 * each interpreter's headers): an object held by a thread's register
 * alone while the thread blocks in a system call.
 *   hold_in_register(cls, fd)  a cls() whose only reference is r12 (a
 *                              callee-saved register) during a read of fd
 *                              with the GIL released: memory holds its
 *                              address only masked (xor MASK), the dead
 *                              frames below are zeroed first, and the
 *                              read is a raw syscall in the asm that
 *                              keeps the register; its count given back
 *                              when the read returns (fd written or
 *                              closed).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <string.h>

#define MASK 0x5a5a5a5a5a5a5a5aull

/* The dead frames below the caller's zeroed (the call that made the
 * object left its address there). */
static __attribute__((noinline)) void regheld_scrub(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

static PyObject *hold_in_register(PyObject *self, PyObject *args)
{
    PyObject *cls;
    int fd;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oi", &cls, &fd))
        return NULL;
    PyObject *o = PyObject_CallObject(cls, NULL);
    if (!o)
        return NULL;
    unsigned long long m = (unsigned long long)(uintptr_t)o ^ MASK, k = MASK;
    o = NULL;
    regheld_scrub();
    long ret;
    char c;
    Py_BEGIN_ALLOW_THREADS
    do {
        __asm__ volatile("mov %[m], %%r12\n\t"
                         "xor %[k], %%r12\n\t" /* r12: the object, nowhere else */
                         "xor %%eax, %%eax\n\t" /* SYS_read */
                         "mov %[fd], %%edi\n\t"
                         "mov %[buf], %%rsi\n\t"
                         "mov $1, %%edx\n\t"
                         "syscall\n\t"
                         "xor %[k], %%r12\n\t"
                         "mov %%r12, %[m]\n\t"
                         : [m] "+r"(m), "=&a"(ret)
                         : [k] "r"(k), [fd] "r"(fd), [buf] "r"(&c)
                         : "rdi", "rsi", "rdx", "rcx", "r11", "r12", "memory");
    } while (ret == -EINTR);
    Py_END_ALLOW_THREADS
    o = (PyObject *)(uintptr_t)(m ^ MASK);
    Py_DECREF(o);
    Py_RETURN_NONE;
}

static PyMethodDef regheld_methods[] = {
    {"hold_in_register", hold_in_register, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef regheld_module = {PyModuleDef_HEAD_INIT, "regheld", NULL, -1,
                                            regheld_methods};

PyMODINIT_FUNC PyInit_regheld(void)
{
    return PyModule_Create(&regheld_module);
}
