/*
 * layout_check.c - shim/python/layout.c's row for the interpreter whose
 * headers this is compiled against (python3-dev's, with Py_BUILD_CORE for
 * the internal ones) checked field by field with offsetof; prints
 * "ok VERSION" or each field that differs.  Built and run by
 * test_python_layout.sh.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "python/inner.h"

#define CHECK(field, want)                                                              \
    do {                                                                                \
        if (l->field != (want)) {                                                       \
            printf("%s: table %u, headers %zu\n", #field, (unsigned)l->field,           \
                   (size_t)(want));                                                     \
            bad++;                                                                      \
        }                                                                               \
    } while (0)

int main(void)
{
    const struct py_layout *l = py_layout_find((uint32_t)PY_VERSION_HEX);
    int bad = 0;
    if (!l) {
        printf("no row for %s\n", PY_VERSION);
        return 1;
    }
    CHECK(ob_type, offsetof(PyObject, ob_type));
    CHECK(ts_cframe, offsetof(PyThreadState, cframe));
    CHECK(cf_current, offsetof(_PyCFrame, current_frame));
    CHECK(fr_code, offsetof(_PyInterpreterFrame, f_code));
    CHECK(fr_previous, offsetof(_PyInterpreterFrame, previous));
    CHECK(fr_prev_instr, offsetof(_PyInterpreterFrame, prev_instr));
    CHECK(fr_is_entry, offsetof(_PyInterpreterFrame, is_entry));
    CHECK(co_size, offsetof(PyVarObject, ob_size));
    CHECK(co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
    CHECK(co_filename, offsetof(PyCodeObject, co_filename));
    CHECK(co_qualname, offsetof(PyCodeObject, co_qualname));
    CHECK(co_linetable, offsetof(PyCodeObject, co_linetable));
    CHECK(co_code, offsetof(PyCodeObject, co_code_adaptive));
    CHECK(bytes_size, offsetof(PyVarObject, ob_size));
    CHECK(bytes_data, offsetof(PyBytesObject, ob_sval));
    CHECK(str_length, offsetof(PyASCIIObject, length));
    CHECK(str_state, offsetof(PyASCIIObject, state));
    CHECK(str_ascii_data, sizeof(PyASCIIObject));
    CHECK(str_compact_data, sizeof(PyCompactUnicodeObject));
    /* the str state bits code.c reads: kind 2-4, compact 5, ascii 6 */
    PyASCIIObject o;
    uint32_t w;
    memset(&o, 0, sizeof o);
    o.state.kind = 2;
    o.state.compact = 1;
    o.state.ascii = 1;
    memcpy(&w, (const char *)&o + l->str_state, sizeof w);
    if (((w >> 2) & 7) != 2 || !((w >> 5) & 1) || !((w >> 6) & 1)) {
        printf("str state bits: %#x\n", w);
        bad++;
    }
    if (!bad)
        printf("ok %s\n", PY_VERSION);
    return bad != 0;
}
