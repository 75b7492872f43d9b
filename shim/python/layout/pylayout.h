/*
 * pylayout.h - the door of shim/python/layout/, the lowest Python room:
 * where the interpreter in use keeps what the shim reads.  layout.c holds
 * the version table (3.10-3.13, checked against CPython's headers by
 * layout_check.c) and reads _Py_DebugOffsets from 3.13 on; it also holds
 * pylay_sym, the interpreter's functions and types found at start-up.
 * pyunread.c keeps what the shim found and could not read.  Every other
 * Python room stands on it; it stands on none.  Prefix: pylay_
 * (pylay_layout_, pylay_obj_layout_, pylay_gc_layout_, pylay_unread_),
 * and PY_ for constants.
 */
#ifndef HEAPSNAP_PYLAYOUT_H
#define HEAPSNAP_PYLAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct hsnap_pyunread;

/* How a version chains the frames one native call of the evaluation loop
 * runs (pyfr_trace). */
enum {
    PY_FRAMES_OBJECT = 1, /* 3.10: PyFrameObject, one a call; f_lasti in code units */
    PY_FRAMES_ENTRY,      /* 3.11: _PyInterpreterFrame, is_entry marks a call's first */
    PY_FRAMES_OWNER,      /* 3.12 on: a call's first follows a frame owned by the C stack */
};

/* Where one CPython version keeps what we read, in bytes from the start
 * of each object (x86-64).  A version is an entry in layout.c's table,
 * checked against CPython's own headers by tests/shim/python/layout_check.c,
 * or (3.13 on) read from the interpreter's _Py_DebugOffsets. */
struct pylay_layout {
    uint32_t version;          /* Py_Version's major.minor: 0x030b0000 for 3.11 */
    const char *name;          /* "3.11" */
    uint8_t frames;            /* PY_FRAMES_* */
    uint8_t cstack;            /* PY_FRAMES_OWNER: the C stack's owner value */
    uint16_t ob_type;          /* PyObject: its type (a code object's death, py_free) */
    /* PyThreadState -> _PyCFrame -> the innermost frame; ts_cframe 0: the
     * frame is the thread state's own, at cf_current (3.10, 3.13 on) */
    uint16_t ts_cframe, cf_current;
    /* the frame: its code, the next one out, its instruction (a pointer
     * into co_code; 3.10: the int f_lasti), is_entry or owner (a byte) */
    uint16_t fr_code, fr_previous, fr_instr, fr_entry;
    /* PyCodeObject: co_size is a word of its identity (ob_size; 3.10: the
     * co_code object), co_qualname its name (3.10: co_name), co_code its
     * instructions (3.11 on) */
    uint16_t co_size, co_firstlineno, co_filename, co_qualname, co_linetable, co_code;
    /* PyBytesObject, PyUnicodeObject (compact forms) */
    uint16_t bytes_size, bytes_data;
    uint16_t str_length, str_state, str_ascii_data, str_compact_data;
};

/* The entry for version (Py_Version), or NULL: a version we do not know. */
const struct pylay_layout *pylay_layout_find(uint32_t version);
/* Where the fields read of _Py_DebugOffsets are, in bytes from its start,
 * for one shape of the struct (it changes between minor versions). */
struct pylay_debug_format {
    uint32_t version;                 /* major.minor of the shape: 0x030d0000 */
    uint16_t free_threaded;
    uint16_t ts_current_frame;
    uint16_t fr_previous, fr_executable, fr_instr_ptr, fr_owner;
    uint16_t co_filename, co_qualname, co_linetable, co_firstlineno, co_code_adaptive;
    uint16_t ob_type;
    uint16_t bytes_ob_size, bytes_ob_sval;
    uint16_t str_state, str_length, str_ascii_size;
    uint16_t interp_gc, gc_collecting; /* pyw_gcf_arm's flag */
    /* what the object row has too (3.14 on; 0: not read): the interpreter's
     * threads and modules, a frame's locals and their names, a tuple's items */
    uint16_t interp_threads, interp_modules, fr_localsplus, co_localsplusnames, tuple_ob_item;
};
const struct pylay_debug_format *pylay_debug_format_find(uint32_t version); /* or NULL */
/* Where the main interpreter keeps what pyw_gcf_arm reads, in bytes from
 * the PyInterpreterState: its collector's gcstate->collecting (an int;
 * its generation_stats, 3 x {collections, collected, uncollectable} as
 * Py_ssize_t, end where it starts), and the numfree counts (ints) of the
 * free lists of lists, dicts, tuples (one a size: index size - tuple_base)
 * and frames (3.10; 0: none).  From 3.13 on, collecting is the
 * interpreter's _Py_DebugOffsets' (runtime: _PyRuntime).  From 3.14 on
 * (linked) each free list is a struct _Py_freelist: its head, the free
 * objects linked through their first word, then its count (a Py_ssize_t,
 * the numfree places), the tuples' 16 bytes apart, the keys' list right
 * after the dicts'; gens: where the generations are (pyw_gens_at; 0:
 * searched, pyw_gens_find); ring: the collector's stats are behind a
 * pointer (3.15: PY_GCR_*), not before collecting.  0, or -1: a version
 * without a row. */
struct pylay_gc_layout {
    uint32_t version, collecting, list_numfree, dict_numfree, tuple_numfree, tuple_base,
        frame_numfree, gens;
    uint8_t linked, ring;
};
int pylay_gc_layout_find(uint32_t version, const void *runtime, struct pylay_gc_layout *out);
/* 3.14's and 3.15's free lists of gc types other than lists, dicts and
 * tuples, in struct _Py_freelists (its place: pylay_borrowed_spans' first):
 * the type's exported symbol, offsetof its struct _Py_freelist, its most
 * objects.  Their *n entries for version (0: none). */
struct pylay_fl_type {
    const char *sym;
    uint16_t at, room;
};
const struct pylay_fl_type *pylay_fl_types(uint32_t version, unsigned *n);
#define PY_FL_TYPES 6 /* the entries of each version */
#define PY_GC_STATS_BYTES 72
/* 3.15's struct gc_stats, where gc.generation_stats (the word before
 * gc.collecting) points: a ring of struct gc_generation_stats a
 * generation, each entry the totals after one collection (collections,
 * then collected: Py_ssize_t at PY_GCR_TOTALS), the latest at the int8
 * index past the ring's items; the young generation's ring first, then
 * each old one's (check_gc). */
#define PY_GCR_ITEM 64     /* sizeof(struct gc_generation_stats) */
#define PY_GCR_TOTALS 16   /* offsetof(..., collections); collected the next word */
#define PY_GCR_YOUNG 11u   /* GC_YOUNG_STATS_SIZE */
#define PY_GCR_OLD 3u      /* GC_OLD_STATS_SIZE */
#define PY_GCR_BUF(n) ((n) * PY_GCR_ITEM + 8u) /* a ring: its items, its index */
#define PY_GCR_AT(g) ((g) ? PY_GCR_BUF(PY_GCR_YOUNG) + ((g) - 1u) * PY_GCR_BUF(PY_GCR_OLD) : 0u)
#define PY_GCR_N(g) ((g) ? PY_GCR_OLD : PY_GCR_YOUNG)

/* The spans [lo[k], hi[k]) of PyInterpreterState (bytes from its start,
 * in order) that hold no reference of their own: its free lists (their
 * slots are free objects, past numfree stale addresses of objects since
 * freed) and borrowed caches; how many (0: none known). */
#define PY_SPANS 2
unsigned pylay_borrowed_spans(uint32_t version, uint32_t lo[PY_SPANS], uint32_t hi[PY_SPANS]);

/* Where _PyRuntime holds tracemalloc's config (3.12 and 3.13; 0: no row). */
uint32_t pylay_tm_config_at(uint32_t version);

/* Where PyThreadState holds datastack_top (3.11 on; datastack_limit is the
 * next word, datastack_chunk the one before): the frames' data stack,
 * whose words from its top to its limit are dead frames'; 0: no row. */
uint32_t pylay_datastack_top_at(uint32_t version);
/* 3.10: PyCodeObject's co_zombieframe (the frame its last call returned,
 * kept for the next: its value stack is dead) and co_stacksize (an int),
 * PyFrameObject's f_valuestack; 0: no row (no such frames). */
struct pylay_zombie {
    uint16_t co_zombieframe, co_stacksize, f_valuestack;
};
int pylay_zombie_find(uint32_t version, struct pylay_zombie *out);

/* The layout the interpreter publishes in its _Py_DebugOffsets (the start
 * of _PyRuntime, at runtime), into *out: 0, or -1 with *why (a note's
 * end) and *code (HSNAP_PYUNREAD_*) when it publishes none heapsnap can
 * read or a free-threaded build. */
int pylay_layout_published(const void *runtime, uint32_t version, struct pylay_layout *out,
                        const char **why, uint32_t *code);
extern const struct pylay_layout *pylay_lay; /* the interpreter's, once found */

/* What py_types_block reads of objects and their types, for one version: the
 * rest of PyTypeObject it reads (PY_TP_*) is the same in 3.10-3.13 and
 * checked against each version's headers with this row (layout_check.c). */
enum { PY_KEYS_310 = 1, /* PyDictKeysObject: dk_size, indices by size */
       PY_KEYS_311 };   /* dk_log2_size, dk_log2_index_bytes, dk_kind */
struct pylay_obj_layout {
    uint32_t version;     /* as pylay_layout's */
    uint16_t ht_qualname; /* PyHeapTypeObject */
    uint8_t keys;         /* PY_KEYS_* */
    /* tp_flags bits that put two words before an object's PyGC_Head
     * (3.11: Py_TPFLAGS_MANAGED_DICT; 3.12 on: Py_TPFLAGS_PREHEADER) */
    uint32_t preheader;
    /* the roots (pyg_roots_collect): PyInterpreterState's modules dict (3.12 on:
     * imports.modules), PyHeapTypeObject's ht_cached_keys, a frame's fast
     * locals (3.10: PyFrameObject's f_localsplus; then _PyInterpreterFrame's
     * localsplus), their names (3.10: co_varnames, co_cellvars, co_freevars;
     * then co_localsplusnames, co_cellvars 0) and count (an int: 3.10's
     * co_nlocals, then co_nlocalsplus) */
    uint16_t interp_modules, ht_cached_keys, fr_localsplus;
    uint16_t interp_threads; /* its first thread state (3.10: tstate_head) */
    uint16_t co_names, co_cellvars, co_freevars, co_nnames;
    uint16_t tuple_items; /* PyTupleObject's ob_item (3.14 on: past ob_hash) */
};
#define PY_TP_MEMBERS 240
#define PY_TP_BASE 256
#define PY_TP_DICTOFFSET 288
#define PY_TPF_INLINE_VALUES (1ul << 2) /* 3.13 on: a class's values in the object */
#define PY_TP_NAME 24
#define PY_TP_BASICSIZE 32
#define PY_TP_ITEMSIZE 40
#define PY_TP_FLAGS 168
#define PY_TP_DICT 264
#define PY_TP_DEL 376
#define PY_TP_FINALIZE 392
#define PY_TPF_READY (1ul << 12)
#define PY_TPF_HAVE_GC (1ul << 14)
#define PY_TPF_LONG_SUBCLASS (1ul << 24) /* int, bool */
#define PY_TPF_BYTES_SUBCLASS (1ul << 27)
#define PY_TPF_UNICODE_SUBCLASS (1ul << 28)
#define PY_TPF_HEAPTYPE (1ul << 9)
#define PY_TPF_TYPE_SUBCLASS (1ul << 31)
#define PY_GC_HEAD 16 /* sizeof(PyGC_Head) */
#define PY_LIST_ITEMS 24 /* PyListObject's ob_item (layout_check.c) */
#define PY_DICT_KEYS 32  /* PyDictObject's ma_keys, then ma_values */
/* PyFunctionObject's func_defaults, then func_kwdefaults and func_closure
 * (3.10-3.13: python_layout_matches_headers): getsets, no members, but __closure__ */
#define PY_FUNC_DEFAULTS 56
/* The row for version, or NULL: no object types then; once
 * pylay_obj_layout_publish has read the interpreter's, that one. */
const struct pylay_obj_layout *pylay_obj_layout_find(uint32_t version);
/* The row for version with the fields the interpreter's _Py_DebugOffsets
 * (runtime: _PyRuntime) publish taken from them (3.14 on), for
 * pylay_obj_layout_find: 1 the same as the row, 0 not (the interpreter's
 * taken), -1 none published, or out of range (the row stays). */
int pylay_obj_layout_publish(const void *runtime, uint32_t version);


/* The interpreter's functions, from dlsym(RTLD_DEFAULT) (dom_init). */
struct pylay_syms {
    void *(*this_thread)(void); /* PyGILState_GetThisThreadState */
    void *(*gil_holder)(void);  /* _PyThreadState_UncheckedGet */
    int (*finalizing)(void);    /* _Py_IsFinalizing */
    uintptr_t eval_lo, eval_hi; /* _PyEval_EvalFrameDefault's text */
    uintptr_t eval2_lo, eval2_hi; /* its loop split off by the compiler, or 0 */
    /* the interpreter's own text (pyfr_trim): [0] the executable
     * segments of the module that holds the evaluation loop (libpython,
     * or a static python executable), [1] a shared build's python
     * executable (its main); lo == hi: none */
    uintptr_t interp_lo[2], interp_hi[2];
    uintptr_t data_lo[4], data_hi[4]; /* [0]'s writable segments (pyroot_interp_data) */
    uintptr_t code_type;        /* &PyCode_Type */
    uintptr_t str_type;         /* &PyUnicode_Type */
    uintptr_t type_type;        /* &PyType_Type */
    /* list, dict, set, frozenset; weakref's ref, proxy, callable proxy */
    uintptr_t list_type, dict_type, set_type, frozenset_type, weakref_type[3];
    uintptr_t cell_type, module_type, bytes_type, tuple_type, long_type;
    /* the roots (pyg_roots_collect): the main interpreter (a field of _PyRuntime,
     * read without a lock) */
    void *(*interp_main)(void);
    /* _PyRuntime (3.13 on; NULL before) and the types of pylay_fl_types'
     * free lists (its order; 0: none), looked up here once: what a
     * snapshot or a leak check reads never calls dlsym, which may take
     * the loader's lock (held by a stopped thread) or allocate */
    void *runtime;
    uintptr_t fl_type[PY_FL_TYPES];
    uint32_t version;           /* Py_Version (or HEAPSNAP_PYTHON's) */
};
extern struct pylay_syms pylay_sym;

static inline uintptr_t pylay_ptr(const char *base, uint16_t off)
{
    uintptr_t v;
    __builtin_memcpy(&v, base + off, sizeof v);
    return v;
}

/* Where the text of an object of type t starts in it, given a str's
 * state word (ignored for another type): a bytes' data, a compact ASCII
 * str's (bits 5 and 6: the text is its UTF-8, which C may keep a char *
 * to); 0 for any other object.  The leak check's (pytype.c) and the
 * leaked references' (pyleakref.c). */
static inline uint16_t pylay_text_at(uintptr_t t, uint32_t state)
{
    if (t == pylay_sym.bytes_type)
        return pylay_lay->bytes_data;
    return t == pylay_sym.str_type && (state & 0x60) == 0x60 ? pylay_lay->str_ascii_data : 0;
}

/* pyunread.c: the CPython found and not read (HSNAP_PYUNREAD_*, set at
 * start-up), for PYUNREAD (pylay_unread_put: nothing when it is read) and the
 * API (pylay_unread_get: 1 with it, 0 when the shim reads its CPython or
 * finds none). */
const char *pylay_unread_set(uint32_t version, uint32_t why, const char *what); /* the note */
const char *pylay_unread_text(void); /* the note when frames are not read, or NULL */
void pylay_unread_clear(void);
int pylay_unread_get(struct hsnap_pyunread *out);
void pylay_unread_put(struct sbuf *b);

#endif
