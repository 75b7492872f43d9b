/*
 * embed.c - a C program that embeds CPython through libpython (as uwsgi,
 * gdb or a game engine do), for test_python_embed.sh: the shim finds the
 * interpreter in libpython3.11.so, not in a python executable.
 * argv[1]: the snapshot's path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    Py_Initialize();
    PyObject *main = PyImport_AddModule("__main__");
    PyObject_SetAttrString(main, "path", PyBytes_FromString(argv[1]));
    int rc = PyRun_SimpleString("import ctypes\n"
                                "keep = [bytearray(3000) for i in range(300)]\n"
                                "ctypes.CDLL(None).heapsnap_take_snapshot(path)\n");
    Py_Finalize();
    return rc != 0;
}
