/*
 * layout_check.c - shim/python/layout.c's row for the interpreter whose
 * headers this is compiled against (python3-dev's or a pyenv build's, with
 * Py_BUILD_CORE for the internal ones) checked field by field with
 * offsetof, and from 3.13 on the places layout.c reads in _Py_DebugOffsets;
 * prints "ok VERSION" or each field that differs.  Built and run by
 * test_python_layout.sh, once a version.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#if PY_VERSION_HEX >= 0x030b0000
#include <internal/pycore_frame.h>
#else
#include <frameobject.h>
#endif
#if PY_VERSION_HEX >= 0x030d0000
#include <internal/pycore_runtime.h>
#endif

#include "python/inner.h"

#define CHECK(field, want)                                                              \
    do {                                                                                \
        if (l->field != (want)) {                                                       \
            printf("%s: table %u, headers %zu\n", #field, (unsigned)l->field,           \
                   (size_t)(want));                                                     \
            bad++;                                                                      \
        }                                                                               \
    } while (0)

#if PY_VERSION_HEX >= 0x030d0000
/* layout.c's places in _Py_DebugOffsets for this version. */
static int check_published(void)
{
    const struct py_debug_format *l = py_debug_format_find((uint32_t)PY_VERSION_HEX);
    int bad = 0;
    if (!l) {
        printf("no _Py_DebugOffsets shape for %s\n", PY_VERSION);
        return 1;
    }
#define D(field, member) CHECK(field, offsetof(_Py_DebugOffsets, member))
    D(free_threaded, free_threaded);
    D(ts_current_frame, thread_state.current_frame);
    D(fr_previous, interpreter_frame.previous);
    D(fr_executable, interpreter_frame.executable);
    D(fr_instr_ptr, interpreter_frame.instr_ptr);
    D(fr_owner, interpreter_frame.owner);
    D(co_filename, code_object.filename);
    D(co_qualname, code_object.qualname);
    D(co_linetable, code_object.linetable);
    D(co_firstlineno, code_object.firstlineno);
    D(co_code_adaptive, code_object.co_code_adaptive);
    D(ob_type, pyobject.ob_type);
    D(bytes_ob_size, bytes_object.ob_size);
    D(bytes_ob_sval, bytes_object.ob_sval);
    D(str_state, unicode_object.state);
    D(str_length, unicode_object.length);
    D(str_ascii_size, unicode_object.asciiobject_size);
#undef D
    if (offsetof(_PyRuntimeState, debug_offsets) != 0) {
        printf("debug_offsets is not _PyRuntime's first field\n");
        bad++;
    }
    /* what layout.c derives rather than reads */
    if (sizeof(PyCompactUnicodeObject) != sizeof(PyASCIIObject) + 16) {
        printf("PyCompactUnicodeObject is not PyASCIIObject + 16 bytes\n");
        bad++;
    }
    if (FRAME_OWNED_BY_CSTACK != 3) {
        printf("FRAME_OWNED_BY_CSTACK is %d\n", (int)FRAME_OWNED_BY_CSTACK);
        bad++;
    }
    return bad;
}
#endif

int main(void)
{
    const struct py_layout *l = py_layout_find((uint32_t)PY_VERSION_HEX);
    int bad = 0;
    if (!l) {
        printf("no row for %s\n", PY_VERSION);
        return 1;
    }
    CHECK(ob_type, offsetof(PyObject, ob_type));
#if PY_VERSION_HEX >= 0x030d0000
    CHECK(frames, PY_FRAMES_OWNER);
    CHECK(cstack, FRAME_OWNED_BY_CSTACK);
    CHECK(ts_cframe, 0);
    CHECK(cf_current, offsetof(PyThreadState, current_frame));
    CHECK(fr_code, offsetof(_PyInterpreterFrame, f_executable));
    CHECK(fr_instr, offsetof(_PyInterpreterFrame, instr_ptr));
    CHECK(fr_entry, offsetof(_PyInterpreterFrame, owner));
#elif PY_VERSION_HEX >= 0x030c0000
    CHECK(frames, PY_FRAMES_OWNER);
    CHECK(cstack, FRAME_OWNED_BY_CSTACK);
    CHECK(ts_cframe, offsetof(PyThreadState, cframe));
    CHECK(cf_current, offsetof(_PyCFrame, current_frame));
    CHECK(fr_code, offsetof(_PyInterpreterFrame, f_code));
    CHECK(fr_instr, offsetof(_PyInterpreterFrame, prev_instr));
    CHECK(fr_entry, offsetof(_PyInterpreterFrame, owner));
#elif PY_VERSION_HEX >= 0x030b0000
    CHECK(frames, PY_FRAMES_ENTRY);
    CHECK(ts_cframe, offsetof(PyThreadState, cframe));
    CHECK(cf_current, offsetof(_PyCFrame, current_frame));
    CHECK(fr_code, offsetof(_PyInterpreterFrame, f_code));
    CHECK(fr_instr, offsetof(_PyInterpreterFrame, prev_instr));
    CHECK(fr_entry, offsetof(_PyInterpreterFrame, is_entry));
#else
    CHECK(frames, PY_FRAMES_OBJECT);
    CHECK(ts_cframe, 0);
    CHECK(cf_current, offsetof(PyThreadState, frame));
    CHECK(fr_code, offsetof(PyFrameObject, f_code));
    CHECK(fr_instr, offsetof(PyFrameObject, f_lasti));
    if (sizeof(((PyFrameObject *)0)->f_lasti) != sizeof(int)) {
        printf("f_lasti is not an int\n");
        bad++;
    }
#endif
#if PY_VERSION_HEX >= 0x030b0000
    CHECK(fr_previous, offsetof(_PyInterpreterFrame, previous));
    CHECK(co_size, offsetof(PyVarObject, ob_size));
    CHECK(co_qualname, offsetof(PyCodeObject, co_qualname));
    CHECK(co_code, offsetof(PyCodeObject, co_code_adaptive));
#else
    CHECK(fr_previous, offsetof(PyFrameObject, f_back));
    CHECK(co_size, offsetof(PyCodeObject, co_code));
    CHECK(co_qualname, offsetof(PyCodeObject, co_name));
#endif
    CHECK(co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
    CHECK(co_filename, offsetof(PyCodeObject, co_filename));
    CHECK(co_linetable, offsetof(PyCodeObject, co_linetable));
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
#if PY_VERSION_HEX >= 0x030d0000
    bad += check_published();
#endif
    if (!bad)
        printf("ok %s\n", PY_VERSION);
    return bad != 0;
}
