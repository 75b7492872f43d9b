/*
 * layout.c - the version table: where each CPython version that heapsnap
 * knows keeps the fields the Python room reads.  An interpreter whose
 * version is not here gets native frames only (domain.c says so once):
 * heapsnap never guesses a layout.  Adding 3.12 or 3.13 is adding a row
 * (3.12 moved current_frame from _PyCFrame into PyThreadState and added
 * shim frames owned by the C stack; 3.13 publishes these offsets itself
 * in _Py_DebugOffsets, which a row could then be read from).  The numbers
 * are offsetof() over CPython's own headers (Py_BUILD_CORE,
 * internal/pycore_frame.h, pycore_code.h), which tests/unit/test_pylayout.c
 * recompiles against the installed python3-dev to check this table.
 */
#include "inner.h"

static const struct py_layout py_layouts[] = {
    {
        .version = 0x030b0000, .name = "3.11",
        .ob_type = 8,
        .ts_cframe = 56, .cf_current = 8,
        .fr_code = 32, .fr_previous = 48, .fr_prev_instr = 56, .fr_is_entry = 68,
        .co_size = 16, .co_firstlineno = 72, .co_filename = 112, .co_qualname = 128,
        .co_linetable = 136, .co_code = 184,
        .bytes_size = 16, .bytes_data = 32,
        .str_length = 16, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
    },
};

const struct py_layout *py_lay;

const struct py_layout *py_layout_find(uint32_t version)
{
    for (size_t i = 0; i < sizeof py_layouts / sizeof py_layouts[0]; i++)
        if ((version & 0xffff0000u) == py_layouts[i].version)
            return &py_layouts[i];
    return NULL;
}
