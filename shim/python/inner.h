/*
 * inner.h - what the files of the Python room share: the layout of the
 * interpreter in use (layout.c), the symbols found (domain.c), the code
 * table (code.c).  Nothing outside shim/python/ includes it.
 */
#ifndef HEAPSNAP_PYTHON_INNER_H
#define HEAPSNAP_PYTHON_INNER_H

#include <stddef.h>
#include <stdint.h>

#include "../shim.h"
#include "python.h"

/* Where one CPython version keeps what we read, in bytes from the start
 * of each object (x86-64).  A version is an entry in layout.c's table,
 * checked against CPython's own headers by tests/unit/test_pylayout.c. */
struct py_layout {
    uint32_t version;          /* Py_Version's major.minor: 0x030b0000 for 3.11 */
    const char *name;          /* "3.11" */
    /* PyThreadState -> _PyCFrame -> _PyInterpreterFrame */
    uint16_t ts_cframe, cf_current;
    uint16_t fr_code, fr_previous, fr_prev_instr, fr_is_entry;
    /* PyCodeObject */
    uint16_t co_size, co_firstlineno, co_filename, co_qualname, co_linetable, co_code;
    /* PyBytesObject, PyUnicodeObject (compact forms) */
    uint16_t bytes_size, bytes_data;
    uint16_t str_length, str_state, str_ascii_data, str_compact_data;
};

/* The entry for version (Py_Version), or NULL: a version we do not know. */
const struct py_layout *py_layout_find(uint32_t version);
extern const struct py_layout *py_lay; /* the interpreter's, once found */

/* The interpreter's functions, from dlsym(RTLD_DEFAULT) (domain.c). */
struct py_syms {
    void *(*this_thread)(void); /* PyGILState_GetThisThreadState */
    void *(*gil_holder)(void);  /* _PyThreadState_UncheckedGet */
    int (*finalizing)(void);    /* _Py_IsFinalizing */
    uintptr_t eval_lo, eval_hi; /* _PyEval_EvalFrameDefault's text */
    uint32_t version;           /* Py_Version (or HEAPSNAP_PYTHON's) */
};
extern struct py_syms py_sym;

/* code.c: the code object at co (alive: a frame of this thread names it)
 * as a small id for a trace word, copying it the first time; UINT32_MAX
 * when it cannot.  Takes py_code_lock when this thread's cache misses. */
uint32_t py_code_id(const char *co);

void py_code_thread_end(void); /* code.c: this thread's cache goes back */

/* native.c: the name of the native stack ip[0..depth) (truncated: it was
 * deeper) for the unwinder's memo, UNWIND_NAME_FRAMES | its number; the
 * same frames always get the same name.  UNWIND_NO_NAME when out of
 * memory.  Takes py_code_lock. */
uint32_t py_native_name(const uintptr_t *ip, unsigned depth, int truncated);

/* A word of a trace naming a Python frame: HSNAP_PY_TAG | id | offset. */
static inline uint64_t py_frame_word(uint32_t code, uint32_t off)
{
    return HSNAP_PY_TAG | ((uint64_t)code << HSNAP_PY_CODE_SHIFT) |
           (off & HSNAP_PY_OFF_MASK);
}

static inline uintptr_t py_ptr(const char *base, uint16_t off)
{
    uintptr_t v;
    __builtin_memcpy(&v, base + off, sizeof v);
    return v;
}

#endif
