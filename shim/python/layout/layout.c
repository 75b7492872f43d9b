/*
 * layout.c - where each CPython version that heapsnap knows keeps the
 * fields the Python room reads.  Two sources: the table below, one row a
 * version, offsetof() over CPython's own headers (Py_BUILD_CORE,
 * internal/pycore_frame.h, pycore_code.h), which tests/shim/python/
 * layout_check.c recompiles against each installed version's headers; and
 * from 3.13 on, the interpreter's own _Py_DebugOffsets (the first field of
 * _PyRuntime, "xdebugpy" and its version), which py_layout_of prefers: its
 * offsets are the interpreter's word.  What the offsets do not say (how
 * frames chain, the owner value of the C stack's frames, a compact str's
 * data) is the frame model of PY_FRAMES_OWNER, the same from 3.12 on.
 * An interpreter with neither gets native frames only (py_layout_of says so
 * once): heapsnap never guesses a layout.
 */
#include <string.h>

#include "hsnap_format.h"
#include "pylayout.h"

struct pylay_syms pylay_sym; /* filled by dom_init once CPython is found */

static const struct pylay_layout pylay_layouts[] = {
    {
        .version = 0x030a0000, .name = "3.10", .frames = PY_FRAMES_OBJECT,
        .ob_type = 8,
        .ts_cframe = 0, .cf_current = 24,
        .fr_code = 32, .fr_previous = 24, .fr_instr = 96, .fr_entry = 0,
        .co_size = 48, .co_firstlineno = 40, .co_filename = 104, .co_qualname = 112,
        .co_linetable = 120, .co_code = 0,
        .bytes_size = 16, .bytes_data = 32,
        .str_length = 16, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
    },
    {
        .version = 0x030b0000, .name = "3.11", .frames = PY_FRAMES_ENTRY,
        .ob_type = 8,
        .ts_cframe = 56, .cf_current = 8,
        .fr_code = 32, .fr_previous = 48, .fr_instr = 56, .fr_entry = 68,
        .co_size = 16, .co_firstlineno = 72, .co_filename = 112, .co_qualname = 128,
        .co_linetable = 136, .co_code = 184,
        .bytes_size = 16, .bytes_data = 32,
        .str_length = 16, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
    },
    {
        .version = 0x030c0000, .name = "3.12", .frames = PY_FRAMES_OWNER, .cstack = 3,
        .ob_type = 8,
        .ts_cframe = 56, .cf_current = 0,
        .fr_code = 0, .fr_previous = 8, .fr_instr = 56, .fr_entry = 70,
        .co_size = 16, .co_firstlineno = 68, .co_filename = 112, .co_qualname = 128,
        .co_linetable = 136, .co_code = 192,
        .bytes_size = 16, .bytes_data = 32,
        .str_length = 16, .str_state = 32, .str_ascii_data = 40, .str_compact_data = 56,
    },
    {
        .version = 0x030d0000, .name = "3.13", .frames = PY_FRAMES_OWNER, .cstack = 3,
        .ob_type = 8,
        .ts_cframe = 0, .cf_current = 72,
        .fr_code = 0, .fr_previous = 8, .fr_instr = 56, .fr_entry = 70,
        .co_size = 16, .co_firstlineno = 68, .co_filename = 112, .co_qualname = 128,
        .co_linetable = 136, .co_code = 200,
        .bytes_size = 16, .bytes_data = 32,
        .str_length = 16, .str_state = 32, .str_ascii_data = 40, .str_compact_data = 56,
    },
};

const struct pylay_layout *pylay_lay;

const struct pylay_layout *pylay_layout_find(uint32_t version)
{
    for (size_t i = 0; i < sizeof pylay_layouts / sizeof pylay_layouts[0]; i++)
        if ((version & 0xffff0000u) == pylay_layouts[i].version)
            return &pylay_layouts[i];
    return NULL;
}

static const struct pylay_obj_layout pylay_obj_layouts[] = {
    {.version = 0x030a0000, .ht_qualname = 864, .keys = PY_KEYS_310, .preheader = 0,
     .interp_modules = 856, .interp_threads = 8, .ht_cached_keys = 872, .fr_localsplus = 352,
     .co_names = 72, .co_cellvars = 88, .co_freevars = 80, .co_nnames = 28,
     .tuple_items = 24},
    {.version = 0x030b0000, .ht_qualname = 864, .keys = PY_KEYS_311, .preheader = 1u << 4,
     .interp_modules = 888, .interp_threads = 16, .ht_cached_keys = 872, .fr_localsplus = 72,
     .co_names = 96, .co_nnames = 76, .tuple_items = 24},
    {.version = 0x030c0000, .ht_qualname = 872, .keys = PY_KEYS_311, .preheader = 3u << 3,
     .interp_modules = 944, .interp_threads = 72, .ht_cached_keys = 880, .fr_localsplus = 72,
     .co_names = 96, .co_nnames = 72, .tuple_items = 24},
    {.version = 0x030d0000, .ht_qualname = 872, .keys = PY_KEYS_311, .preheader = 3u << 3,
     .interp_modules = 7656, .interp_threads = 7344, .ht_cached_keys = 880, .fr_localsplus = 72,
     .co_names = 96, .co_nnames = 72, .tuple_items = 24},
    {.version = 0x030e0000, .ht_qualname = 872, .keys = PY_KEYS_311, .preheader = 3u << 3,
     .interp_modules = 7688, .interp_threads = 7344, .ht_cached_keys = 880, .fr_localsplus = 80,
     .co_names = 96, .co_nnames = 72, .tuple_items = 32},
    {.version = 0x030f0000, .ht_qualname = 880, .keys = PY_KEYS_311, .preheader = 3u << 3,
     .interp_modules = 7592, .interp_threads = 7336, .ht_cached_keys = 888, .fr_localsplus = 80,
     .co_names = 96, .co_nnames = 72, .tuple_items = 32},
};

static struct pylay_obj_layout pylay_obj_pub; /* pylay_obj_layout_publish's; version 0: none */

static const struct pylay_obj_layout *pylay_obj_row(uint32_t version)
{
    for (size_t i = 0; i < sizeof pylay_obj_layouts / sizeof pylay_obj_layouts[0]; i++)
        if ((version & 0xffff0000u) == pylay_obj_layouts[i].version)
            return &pylay_obj_layouts[i];
    return NULL;
}

const struct pylay_obj_layout *pylay_obj_layout_find(uint32_t version)
{
    if (pylay_obj_pub.version && (version & 0xffff0000u) == pylay_obj_pub.version)
        return &pylay_obj_pub;
    return pylay_obj_row(version);
}

static const struct pylay_debug_format pylay_debug_formats[] = {
    {
        .version = 0x030d0000, .free_threaded = 16, .ts_current_frame = 184,
        .fr_previous = 232, .fr_executable = 240, .fr_instr_ptr = 248, .fr_owner = 264,
        .co_filename = 280, .co_qualname = 296, .co_linetable = 304,
        .co_firstlineno = 312, .co_code_adaptive = 344,
        .ob_type = 360, .bytes_ob_size = 520, .bytes_ob_sval = 528,
        .str_state = 544, .str_length = 552, .str_ascii_size = 560,
        .interp_gc = 80, .gc_collecting = 576,
    },
    { /* 3.14: the thread state's and the interpreter state's blocks grew */
        .version = 0x030e0000, .free_threaded = 16, .ts_current_frame = 208,
        .fr_previous = 256, .fr_executable = 264, .fr_instr_ptr = 272, .fr_owner = 288,
        .co_filename = 320, .co_qualname = 336, .co_linetable = 344,
        .co_firstlineno = 352, .co_code_adaptive = 384,
        .ob_type = 408, .bytes_ob_size = 600, .bytes_ob_sval = 608,
        .str_state = 624, .str_length = 632, .str_ascii_size = 640,
        .interp_gc = 88, .gc_collecting = 656,
        .interp_threads = 72, .interp_modules = 96, .fr_localsplus = 280,
        .co_localsplusnames = 368, .tuple_ob_item = 456,
    },
    { /* 3.15: the interpreter frame's block grew */
        .version = 0x030f0000, .free_threaded = 16, .ts_current_frame = 208,
        .fr_previous = 320, .fr_executable = 328, .fr_instr_ptr = 336, .fr_owner = 352,
        .co_filename = 384, .co_qualname = 400, .co_linetable = 408,
        .co_firstlineno = 416, .co_code_adaptive = 448,
        .ob_type = 472, .bytes_ob_size = 696, .bytes_ob_sval = 704,
        .str_state = 720, .str_length = 728, .str_ascii_size = 736,
        .interp_gc = 88, .gc_collecting = 760,
        .interp_threads = 72, .interp_modules = 96, .fr_localsplus = 344,
        .co_localsplusnames = 432, .tuple_ob_item = 552,
    },
};

const struct pylay_debug_format *pylay_debug_format_find(uint32_t version)
{
    for (size_t i = 0; i < sizeof pylay_debug_formats / sizeof pylay_debug_formats[0]; i++)
        if ((version & 0xffff0000u) == pylay_debug_formats[i].version)
            return &pylay_debug_formats[i];
    return NULL;
}

static uint64_t pylay_u64(const char *p, uint16_t off)
{
    uint64_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

/* An offset that fits the row's fields (they are read a few words in). */
static int pylay_fits(uint64_t v, uint16_t *out)
{
    if (v > 4096)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int pylay_layout_published(const void *runtime, uint32_t version, struct pylay_layout *out,
                        const char **why, uint32_t *code)
{
    const char *d = runtime;
    const struct pylay_debug_format *f = NULL;
    if (!d || memcmp(d, "xdebugpy", 8) != 0) {
        *why = " publishes no _Py_DebugOffsets: native frames only";
        *code = HSNAP_PYUNREAD_NO_OFFSETS;
        return -1;
    }
    uint32_t pub = (uint32_t)pylay_u64(d, 8);
    if ((pub & 0xffff0000u) != (version & 0xffff0000u)) {
        *why = "'s _Py_DebugOffsets name another version: native frames only";
        *code = HSNAP_PYUNREAD_OTHER_VERSION;
        return -1;
    }
    /* cookie, version, free_threaded: the head every shape keeps (3.13 on),
     * so a free-threaded build is named as such whatever its version */
    if (pylay_u64(d, 16)) {
        *why = " is a free-threaded build: native frames only";
        *code = HSNAP_PYUNREAD_FREE_THREADED;
        return -1;
    }
    if (!(f = pylay_debug_format_find(pub))) {
        *why = "'s _Py_DebugOffsets have a shape heapsnap does not read: native frames only";
        *code = HSNAP_PYUNREAD_SHAPE;
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->version = pub & 0xffff0000u;
    out->frames = PY_FRAMES_OWNER;
    out->cstack = 3;
    uint16_t ascii = 0;
    if (pylay_fits(pylay_u64(d, f->ob_type), &out->ob_type) ||
        pylay_fits(pylay_u64(d, f->ts_current_frame), &out->cf_current) ||
        pylay_fits(pylay_u64(d, f->fr_previous), &out->fr_previous) ||
        pylay_fits(pylay_u64(d, f->fr_executable), &out->fr_code) ||
        pylay_fits(pylay_u64(d, f->fr_instr_ptr), &out->fr_instr) ||
        pylay_fits(pylay_u64(d, f->fr_owner), &out->fr_entry) ||
        pylay_fits(pylay_u64(d, f->bytes_ob_size), &out->co_size) ||
        pylay_fits(pylay_u64(d, f->co_firstlineno), &out->co_firstlineno) ||
        pylay_fits(pylay_u64(d, f->co_filename), &out->co_filename) ||
        pylay_fits(pylay_u64(d, f->co_qualname), &out->co_qualname) ||
        pylay_fits(pylay_u64(d, f->co_linetable), &out->co_linetable) ||
        pylay_fits(pylay_u64(d, f->co_code_adaptive), &out->co_code) ||
        pylay_fits(pylay_u64(d, f->bytes_ob_size), &out->bytes_size) ||
        pylay_fits(pylay_u64(d, f->bytes_ob_sval), &out->bytes_data) ||
        pylay_fits(pylay_u64(d, f->str_length), &out->str_length) ||
        pylay_fits(pylay_u64(d, f->str_state), &out->str_state) ||
        pylay_fits(pylay_u64(d, f->str_ascii_size), &ascii)) {
        *why = "'s _Py_DebugOffsets are out of range: native frames only";
        *code = HSNAP_PYUNREAD_RANGE;
        return -1;
    }
    /* PyCompactUnicodeObject: PyASCIIObject, utf8_length, utf8 */
    out->str_ascii_data = ascii;
    out->str_compact_data = (uint16_t)(ascii + 16);
    return 0;
}

int pylay_obj_layout_publish(const void *runtime, uint32_t version)
{
    const struct pylay_debug_format *f = pylay_debug_format_find(version);
    const struct pylay_obj_layout *row = pylay_obj_row(version);
    const char *d = runtime;
    struct pylay_obj_layout o;
    if (!row || !f || !f->tuple_ob_item || !d || memcmp(d, "xdebugpy", 8) != 0 ||
        (pylay_u64(d, 8) & 0xffff0000u) != (version & 0xffff0000u))
        return -1;
    o = *row;
    /* PyInterpreterState's fields lie further in than pylay_fits takes */
    uint64_t threads = pylay_u64(d, f->interp_threads), mods = pylay_u64(d, f->interp_modules);
    if (threads > UINT16_MAX - 8 || mods > UINT16_MAX - 8 ||
        pylay_fits(pylay_u64(d, f->fr_localsplus), &o.fr_localsplus) ||
        pylay_fits(pylay_u64(d, f->co_localsplusnames), &o.co_names) ||
        pylay_fits(pylay_u64(d, f->tuple_ob_item), &o.tuple_items))
        return -1;
    o.interp_threads = (uint16_t)threads, o.interp_modules = (uint16_t)mods;
    pylay_obj_pub = o;
    return !memcmp(&o, row, sizeof o);
}

/* pylay_gc_layout_find's rows: offsetof(PyInterpreterState, ...) by version
 * (check_gc): gc.collecting, and the numfree of the free
 * lists of lists, dicts, tuples (an int per size; 3.14 on each list's
 * size) and 3.10's frames; from 3.14 on gc.generations, linked lists, and
 * 3.15's stats behind a pointer. */
static const struct pylay_gc_layout pylay_gc_rows[] = {
    {0x030a0000, 816, 10680, 11328, 9960, 0, 11992, 0, 0, 0},
    {0x030b0000, 848, 4512, 5160, 3792, 1, 0, 0, 0, 0},
    {0x030c0000, 312, 270712, 272016, 269992, 1, 0, 0, 0, 0},
    {0x030d0000, 7600, 11848, 12496, 11128, 1, 0, 0, 0, 0},
    {0x030e0000, 7600, 11480, 11528, 11160, 1, 0, 7432, 1, 0},
    {0x030f0000, 7512, 11472, 11520, 11152, 1, 0, 7408, 1, 1},
};

int pylay_gc_layout_find(uint32_t version, const void *runtime, struct pylay_gc_layout *out)
{
    const struct pylay_debug_format *f = pylay_debug_format_find(version);
    const char *d = runtime;
    for (size_t i = 0; i < sizeof pylay_gc_rows / sizeof pylay_gc_rows[0]; i++) {
        if ((version & 0xffff0000u) != pylay_gc_rows[i].version)
            continue;
        *out = pylay_gc_rows[i];
        if (f && f->gc_collecting && d && !memcmp(d, "xdebugpy", 8) &&
            (pylay_u64(d, 8) & 0xffff0000u) == (version & 0xffff0000u)) {
            uint64_t at = pylay_u64(d, f->interp_gc) + pylay_u64(d, f->gc_collecting);
            if (at < PY_GC_STATS_BYTES || at >= (1u << 20))
                return -1;
            out->collecting = (uint32_t)at; /* the interpreter's word */
        }
        return 0;
    }
    return -1;
}

/* check_gc: offsetof(struct _Py_freelists, ...) and
 * Py_*_MAXFREELIST of 3.14 and 3.15 (which added complexes' and bytes
 * writers' lists): pyw_seed_each's and pyw_gcf_put's other gc types */
static const struct {
    uint32_t version;
    struct pylay_fl_type t[PY_FL_TYPES];
} pylay_fl_rows[] = {
    {0x030e0000,
     {{"PyListIter_Type", 368, 10}, {"PyTupleIter_Type", 384, 10}, {"PyContext_Type", 480, 255},
      {"PyCFunction_Type", 576, 16}, {"PyCMethod_Type", 592, 16}, {"PyMethod_Type", 608, 20}}},
    {0x030f0000,
     {{"PyListIter_Type", 384, 10}, {"PyTupleIter_Type", 400, 10}, {"PyContext_Type", 496, 255},
      {"PyCFunction_Type", 608, 16}, {"PyCMethod_Type", 624, 16}, {"PyMethod_Type", 640, 20}}},
};

const struct pylay_fl_type *pylay_fl_types(uint32_t version, unsigned *n)
{
    *n = 0;
    for (size_t i = 0; i < sizeof pylay_fl_rows / sizeof pylay_fl_rows[0]; i++)
        if ((version & 0xffff0000u) == pylay_fl_rows[i].version) {
            *n = PY_FL_TYPES;
            return pylay_fl_rows[i].t;
        }
    return NULL;
}

/* offsetof(PyInterpreterState, ...) by version of the spans that hold
 * no reference of its own (check_free): its free lists,
 * 3.11 and 3.12 from float_state to exc_state (floats, the slice cache,
 * tuples, lists, dicts and their keys, async generators' values and
 * asends, contexts; 3.12 also long_state, dtoa and func_state, which hold
 * no object), from 3.13 on object_state.freelists (3.14 on: each list's
 * head, its free objects linked through their first word); and from 3.13
 * on func_state.func_version_cache (borrowed functions and code).  3.10
 * keeps its interpreter on the heap. */
static const struct {
    uint32_t version, lo[PY_SPANS], hi[PY_SPANS];
} pylay_span_rows[] = {
    {0x030b0000, {3608}, {7128}},
    {0x030c0000, {267408}, {273400}},
    {0x030d0000, {10952, 17008}, {14488, 82544}},
    {0x030e0000, {11120, 14264}, {11744, 79800}},
    {0x030f0000, {11096, 14272}, {11752, 79808}},
};

unsigned pylay_borrowed_spans(uint32_t version, uint32_t lo[PY_SPANS], uint32_t hi[PY_SPANS])
{
    for (size_t i = 0; i < sizeof pylay_span_rows / sizeof pylay_span_rows[0]; i++) {
        if ((version & 0xffff0000u) != pylay_span_rows[i].version)
            continue;
        unsigned n = 0;
        for (unsigned k = 0; k < PY_SPANS && pylay_span_rows[i].hi[k]; k++, n++)
            lo[k] = pylay_span_rows[i].lo[k], hi[k] = pylay_span_rows[i].hi[k];
        return n;
    }
    return 0;
}

/* offsetof(_PyRuntimeState, tracemalloc.config) by version: from 3.12 on
 * tracemalloc's config is no longer exported on its own (pyfr_tm_runtime_config reads its
 * tracing flag there; 3.14's tracemalloc, rewritten in C, keeps the same
 * config); check_tm. */
static const struct {
    uint32_t version, at;
} pylay_tm_rows[] = {
    {0x030c0000, 2768},
    {0x030d0000, 10080},
    {0x030e0000, 10296},
    {0x030f0000, 10432},
};

uint32_t pylay_tm_config_at(uint32_t version)
{
    for (size_t i = 0; i < sizeof pylay_tm_rows / sizeof pylay_tm_rows[0]; i++)
        if ((version & 0xffff0000u) == pylay_tm_rows[i].version)
            return pylay_tm_rows[i].at;
    return 0;
}

/* offsetof(PyThreadState, datastack_top) by version (pyl_datastack's dead
 * frames); check_datastack. */
static const struct {
    uint32_t version, at;
} pylay_ds_rows[] = {
    {0x030b0000, 304},
    {0x030c0000, 240},
    {0x030d0000, 240},
    {0x030e0000, 240},
    {0x030f0000, 264},
};

int pylay_zombie_find(uint32_t version, struct pylay_zombie *out)
{
    if ((version & 0xffff0000u) != 0x030a0000u)
        return 0;
    *out = (struct pylay_zombie){128, 32, 64}; /* check_datastack */
    return 1;
}

uint32_t pylay_datastack_top_at(uint32_t version)
{
    for (size_t i = 0; i < sizeof pylay_ds_rows / sizeof pylay_ds_rows[0]; i++)
        if ((version & 0xffff0000u) == pylay_ds_rows[i].version)
            return pylay_ds_rows[i].at;
    return 0;
}
