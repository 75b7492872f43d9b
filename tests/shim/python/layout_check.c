/*
 * layout_check.c - shim/python/layout/layout.c's row for the interpreter whose
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
#if PY_VERSION_HEX >= 0x030c0000
#include <internal/pycore_runtime.h>
#endif
#include <internal/pycore_gc.h>
#include <internal/pycore_interp.h>
#if PY_VERSION_HEX >= 0x030b0000
#include <internal/pycore_dict.h>
#endif

#include "base.h"
#include "pylayout.h"
#include "pywrap.h"

/* The owner of the frame a native call of the evaluation loop puts below
 * the first it runs (3.14 on: the interpreter's entry frame). */
#if PY_VERSION_HEX >= 0x030e0000
#define PY_CSTACK_OWNER FRAME_OWNED_BY_INTERPRETER
#else
#define PY_CSTACK_OWNER FRAME_OWNED_BY_CSTACK
#endif
/* 3.14 made each free list a struct _Py_freelist: a head (the free
 * objects linked through their first word) and a count, Py_ssize_t. */
#if PY_VERSION_HEX >= 0x030e0000
#define PY_FREELISTS struct _Py_freelists
#define PY_LIST_MAXFREE Py_lists_MAXFREELIST
#define PY_DICT_MAXFREE Py_dicts_MAXFREELIST
#define PY_TUPLE_MAXFREE Py_tuple_MAXFREELIST
#else
#define PY_FREELISTS struct _Py_object_freelists
#define PY_LIST_MAXFREE PyList_MAXFREELIST
#define PY_DICT_MAXFREE PyDict_MAXFREELIST
#define PY_TUPLE_MAXFREE PyTuple_MAXFREELIST
#endif

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
    const struct pylay_debug_format *l = pylay_debug_format_find((uint32_t)PY_VERSION_HEX);
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
    D(interp_gc, interpreter_state.gc);
    D(gc_collecting, gc.collecting);
#if PY_VERSION_HEX >= 0x030e0000
    D(interp_threads, interpreter_state.threads_head);
    D(interp_modules, interpreter_state.imports_modules);
    D(fr_localsplus, interpreter_frame.localsplus);
    D(co_localsplusnames, code_object.localsplusnames);
    D(tuple_ob_item, tuple_object.ob_item);
#else
    CHECK(tuple_ob_item, 0); /* the object row's own, not published */
#endif
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
    if (PY_CSTACK_OWNER != 3) {
        printf("the C stack's frames' owner is %d\n", (int)PY_CSTACK_OWNER);
        bad++;
    }
    return bad;
}
#endif

#define SAME(what, table, headers)                                                      \
    do {                                                                                \
        if ((size_t)(table) != (size_t)(headers)) {                                     \
            printf("%s: table %zu, headers %zu\n", what, (size_t)(table), (size_t)(headers)); \
            bad++;                                                                      \
        }                                                                               \
    } while (0)

/* pytype.c's row and constants: types, their flags, dicts' keys. */
static int check_objects(void)
{
    const struct pylay_obj_layout *l = pylay_obj_layout_find((uint32_t)PY_VERSION_HEX);
    int bad = 0;
    if (!l) {
        printf("no object row for %s\n", PY_VERSION);
        return 1;
    }
    SAME("ht_qualname", l->ht_qualname, offsetof(PyHeapTypeObject, ht_qualname));
    SAME("tp_name", PY_TP_NAME, offsetof(PyTypeObject, tp_name));
    SAME("tp_basicsize", PY_TP_BASICSIZE, offsetof(PyTypeObject, tp_basicsize));
    SAME("tp_itemsize", PY_TP_ITEMSIZE, offsetof(PyTypeObject, tp_itemsize));
    SAME("tp_flags", PY_TP_FLAGS, offsetof(PyTypeObject, tp_flags));
    SAME("tp_dict", PY_TP_DICT, offsetof(PyTypeObject, tp_dict));
    SAME("tp_del", PY_TP_DEL, offsetof(PyTypeObject, tp_del));
    SAME("tp_finalize", PY_TP_FINALIZE, offsetof(PyTypeObject, tp_finalize));
    SAME("Py_TPFLAGS_READY", PY_TPF_READY, Py_TPFLAGS_READY);
    SAME("Py_TPFLAGS_HAVE_GC", PY_TPF_HAVE_GC, Py_TPFLAGS_HAVE_GC);
    SAME("Py_TPFLAGS_HEAPTYPE", PY_TPF_HEAPTYPE, Py_TPFLAGS_HEAPTYPE);
    SAME("Py_TPFLAGS_TYPE_SUBCLASS", PY_TPF_TYPE_SUBCLASS, Py_TPFLAGS_TYPE_SUBCLASS);
    SAME("PyGC_Head", PY_GC_HEAD, sizeof(PyGC_Head));
    SAME("ma_keys", 32, offsetof(PyDictObject, ma_keys));
    SAME("ma_values", 40, offsetof(PyDictObject, ma_values));
    SAME("ht_cached_keys", l->ht_cached_keys, offsetof(PyHeapTypeObject, ht_cached_keys));
    SAME("tp_members", PY_TP_MEMBERS, offsetof(PyTypeObject, tp_members));
    SAME("tp_base", PY_TP_BASE, offsetof(PyTypeObject, tp_base));
    SAME("tp_dictoffset", PY_TP_DICTOFFSET, offsetof(PyTypeObject, tp_dictoffset));
    SAME("md_dict", 16, sizeof(PyObject)); /* PyModuleObject's first field */
    SAME("tuple ob_item", l->tuple_items, offsetof(PyTupleObject, ob_item));
    SAME("cell ob_ref", 16, offsetof(PyCellObject, ob_ref));
    SAME("func_defaults", PY_FUNC_DEFAULTS, offsetof(PyFunctionObject, func_defaults));
    SAME("func_kwdefaults", PY_FUNC_DEFAULTS + 8, offsetof(PyFunctionObject, func_kwdefaults));
    SAME("func_closure", PY_FUNC_DEFAULTS + 16, offsetof(PyFunctionObject, func_closure));
#if PY_VERSION_HEX >= 0x030b0000
    SAME("interp_threads", l->interp_threads, offsetof(PyInterpreterState, threads.head));
#else
    SAME("interp_threads", l->interp_threads, offsetof(PyInterpreterState, tstate_head));
#endif
    SAME("PyThreadState next", 8, offsetof(PyThreadState, next));
#if PY_VERSION_HEX >= 0x030c0000
    SAME("interp_modules", l->interp_modules, offsetof(PyInterpreterState, imports.modules));
#else
    SAME("interp_modules", l->interp_modules, offsetof(PyInterpreterState, modules));
#endif
#if PY_VERSION_HEX >= 0x030d0000
    SAME("Py_TPFLAGS_INLINE_VALUES", PY_TPF_INLINE_VALUES, Py_TPFLAGS_INLINE_VALUES);
#endif
#if PY_VERSION_HEX >= 0x030b0000
    SAME("fr_localsplus", l->fr_localsplus, offsetof(_PyInterpreterFrame, localsplus));
    SAME("co_names", l->co_names, offsetof(PyCodeObject, co_localsplusnames));
    SAME("co_nnames", l->co_nnames, offsetof(PyCodeObject, co_nlocalsplus));
    SAME("co_cellvars", l->co_cellvars, 0);
#else
    SAME("fr_localsplus", l->fr_localsplus, offsetof(PyFrameObject, f_localsplus));
    SAME("co_names", l->co_names, offsetof(PyCodeObject, co_varnames));
    SAME("co_nnames", l->co_nnames, offsetof(PyCodeObject, co_nlocals));
    SAME("co_cellvars", l->co_cellvars, offsetof(PyCodeObject, co_cellvars));
    SAME("co_freevars", l->co_freevars, offsetof(PyCodeObject, co_freevars));
#endif
#if PY_VERSION_HEX >= 0x030c0000
    SAME("preheader", l->preheader, Py_TPFLAGS_PREHEADER);
#elif PY_VERSION_HEX >= 0x030b0000
    SAME("preheader", l->preheader, Py_TPFLAGS_MANAGED_DICT);
#else
    SAME("preheader", l->preheader, 0);
#endif
#if PY_VERSION_HEX >= 0x030b0000
    SAME("keys", l->keys, PY_KEYS_311);
    SAME("dk_log2_size", 8, offsetof(PyDictKeysObject, dk_log2_size));
    SAME("dk_log2_index_bytes", 9, offsetof(PyDictKeysObject, dk_log2_index_bytes));
    SAME("dk_kind", 10, offsetof(PyDictKeysObject, dk_kind));
    SAME("dk_nentries", 24, offsetof(PyDictKeysObject, dk_nentries));
    SAME("dk_indices", 32, offsetof(PyDictKeysObject, dk_indices));
    SAME("PyDictKeyEntry", 24, sizeof(PyDictKeyEntry));
    SAME("PyDictUnicodeEntry", 16, sizeof(PyDictUnicodeEntry));
    SAME("DICT_KEYS_GENERAL", 0, DICT_KEYS_GENERAL);
#else
    /* 3.10's keys object is private to dictobject.c (dict-common.h):
     * dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, dk_indices */
    SAME("keys", l->keys, PY_KEYS_310);
#endif
    return bad;
}

/* pytm.c's row (3.12 on): where _PyRuntime keeps tracemalloc's config,
 * and the config's first three fields as pytm.c reads them. */
static int check_tm(void)
{
    int bad = 0;
#if PY_VERSION_HEX >= 0x030c0000
    SAME("tracemalloc.config", pylay_tm_config_at((uint32_t)PY_VERSION_HEX),
         offsetof(_PyRuntimeState, tracemalloc.config));
    SAME("config.initialized", 0, offsetof(struct _PyTraceMalloc_Config, initialized));
    SAME("config.tracing", 4, offsetof(struct _PyTraceMalloc_Config, tracing));
    SAME("config.max_nframe", 8, offsetof(struct _PyTraceMalloc_Config, max_nframe));
#else
    SAME("no tracemalloc row before 3.12", 0, pylay_tm_config_at((uint32_t)PY_VERSION_HEX));
#endif
    return bad;
}

/* pyleakref.c's dead frames: the thread's data stack, its chunk, top and
 * limit in a row (pylay_datastack_top_at); _PyStackChunk's top, in words. */
static int check_datastack(void)
{
    int bad = 0;
#if PY_VERSION_HEX >= 0x030b0000
    uint32_t at = pylay_datastack_top_at((uint32_t)PY_VERSION_HEX);
    SAME("datastack_top", at, offsetof(PyThreadState, datastack_top));
    SAME("datastack_limit", at + 8, offsetof(PyThreadState, datastack_limit));
    SAME("datastack_chunk", at - 8, offsetof(PyThreadState, datastack_chunk));
    SAME("chunk.previous", 0, offsetof(_PyStackChunk, previous));
    SAME("chunk.size", 8, offsetof(_PyStackChunk, size));
    SAME("chunk.top", 16, offsetof(_PyStackChunk, top));
    SAME("chunk.data", 24, offsetof(_PyStackChunk, data));
    struct pylay_zombie z;
    SAME("no zombie frames from 3.11 on", 0, pylay_zombie_find((uint32_t)PY_VERSION_HEX, &z));
#else
    SAME("no data stack before 3.11", 0, pylay_datastack_top_at((uint32_t)PY_VERSION_HEX));
    struct pylay_zombie z = {0, 0, 0};
    SAME("a zombie frame row", 1, pylay_zombie_find((uint32_t)PY_VERSION_HEX, &z));
    SAME("co_zombieframe", z.co_zombieframe, offsetof(PyCodeObject, co_zombieframe));
    SAME("co_stacksize", z.co_stacksize, offsetof(PyCodeObject, co_stacksize));
    SAME("co_stacksize is an int", 4, sizeof(((PyCodeObject *)0)->co_stacksize));
    SAME("f_valuestack", z.f_valuestack, offsetof(PyFrameObject, f_valuestack));
#endif
    return bad;
}

/* pyroots.c's spans that hold no reference (pylay_borrowed_spans): their
 * ends, and each free list inside the first (3.11, 3.12: members of the
 * interpreter from float_state to exc_state). */
#define INSIDE(what, at)                                                                \
    do {                                                                                \
        if ((at) < lo[0] || (at) >= hi[0]) {                                            \
            printf("%s at %zu: outside the free lists' span [%u, %u)\n", what,          \
                   (size_t)(at), lo[0], hi[0]);                                         \
            bad++;                                                                      \
        }                                                                               \
    } while (0)

static int check_free(void)
{
    uint32_t lo[PY_SPANS] = {0}, hi[PY_SPANS] = {0};
    unsigned n = pylay_borrowed_spans((uint32_t)PY_VERSION_HEX, lo, hi);
    int bad = 0;
#if PY_VERSION_HEX >= 0x030d0000
    PyInterpreterState *i = NULL;
    SAME("borrowed spans", n, 2);
    SAME("free lists start", lo[0], offsetof(PyInterpreterState, object_state.freelists));
    SAME("free lists end", hi[0], offsetof(PyInterpreterState, object_state.freelists) +
                                      sizeof(PY_FREELISTS));
    SAME("func_version_cache start", lo[1],
         offsetof(PyInterpreterState, func_state.func_version_cache));
    SAME("func_version_cache end", hi[1],
         offsetof(PyInterpreterState, func_state.func_version_cache) +
             sizeof i->func_state.func_version_cache);
#elif PY_VERSION_HEX >= 0x030b0000
    SAME("borrowed spans", n, 1);
    SAME("free lists start", lo[0], offsetof(PyInterpreterState, float_state));
    SAME("free lists end", hi[0], offsetof(PyInterpreterState, exc_state));
    INSIDE("slice_cache", offsetof(PyInterpreterState, slice_cache));
    INSIDE("tuple", offsetof(PyInterpreterState, tuple.free_list));
    INSIDE("list", offsetof(PyInterpreterState, list.free_list));
    INSIDE("dict", offsetof(PyInterpreterState, dict_state.free_list));
    INSIDE("dict keys", offsetof(PyInterpreterState, dict_state.keys_free_list));
    INSIDE("async_gen", offsetof(PyInterpreterState, async_gen.asend_freelist));
    INSIDE("context", offsetof(PyInterpreterState, context.freelist));
#else
    SAME("no borrowed spans before 3.11 (a heap interpreter)", n, 0);
#endif
    return bad;
}

/* pygcfreed.c's row: the collector's flag, its stats just before it, the
 * free lists' counts and their sizes. */
static int check_gc(void)
{
    struct pylay_gc_layout g;
    int bad = 0;
#if PY_VERSION_HEX >= 0x030e0000
    /* 3.14 on: free lists linked through their objects, the generations
     * where the row says (generation0 past gc.collecting) */
    if (pylay_gc_layout_find((uint32_t)PY_VERSION_HEX, NULL, &g) != 0) {
        printf("no gc row for %s\n", PY_VERSION);
        return 1;
    }
#define FL(m) offsetof(PyInterpreterState, object_state.freelists.m)
    SAME("gc.collecting", g.collecting, offsetof(PyInterpreterState, gc.collecting));
    SAME("gc.generations", g.gens, offsetof(PyInterpreterState, gc.generations));
    SAME("gc.permanent_generation", g.gens + 72,
         offsetof(PyInterpreterState, gc.permanent_generation));
    SAME("linked free lists", g.linked, 1);
    SAME("the free list's head", 0, offsetof(struct _Py_freelist, freelist));
    SAME("the free list's count", 8, offsetof(struct _Py_freelist, size));
    SAME("struct _Py_freelist", 16, sizeof(struct _Py_freelist));
    SAME("list numfree", g.list_numfree, FL(lists.size));
    SAME("dict numfree", g.dict_numfree, FL(dicts.size));
    SAME("dict keys numfree", g.dict_numfree + 16, FL(dictkeys.size));
    SAME("tuple numfree", g.tuple_numfree, FL(tuples[0].size));
    SAME("tuple numfree 1", g.tuple_numfree + 16, FL(tuples[1].size));
    SAME("tuple free lists", 20, PyTuple_MAXSAVESIZE);
    SAME("tuple_base", g.tuple_base, 1);
    SAME("frame_numfree", g.frame_numfree, 0);
    SAME("PyList_MAXFREELIST", 80, PY_LIST_MAXFREE);
    SAME("PyDict_MAXFREELIST", 80, PY_DICT_MAXFREE);
    SAME("dict keys MAXFREELIST", 80, Py_dictkeys_MAXFREELIST);
    SAME("PyTuple_MAXFREELIST", 2000, PY_TUPLE_MAXFREE);
#undef FL
    {
        unsigned nfl;
        const struct pylay_fl_type *fl = pylay_fl_types((uint32_t)PY_VERSION_HEX, &nfl);
        const size_t at[] = {offsetof(struct _Py_freelists, list_iters),
                             offsetof(struct _Py_freelists, tuple_iters),
                             offsetof(struct _Py_freelists, contexts),
                             offsetof(struct _Py_freelists, pycfunctionobject),
                             offsetof(struct _Py_freelists, pycmethodobject),
                             offsetof(struct _Py_freelists, pymethodobjects)};
        const size_t room[] = {Py_list_iters_MAXFREELIST, Py_tuple_iters_MAXFREELIST,
                               Py_contexts_MAXFREELIST, Py_pycfunctionobject_MAXFREELIST,
                               Py_pycmethodobject_MAXFREELIST, Py_pymethodobjects_MAXFREELIST};
        SAME("free list types", nfl, 6);
        for (unsigned k = 0; k < nfl && k < 6; k++) {
            SAME(fl[k].sym, fl[k].at, at[k]);
            SAME(fl[k].sym, fl[k].room, room[k]);
        }
    }
#if PY_VERSION_HEX >= 0x030f0000
    SAME("stats behind a pointer", g.ring, 1);
    SAME("gc.generation_stats a pointer", 8, sizeof(((PyInterpreterState *)0)->gc.generation_stats));
    SAME("gc.generation_stats before gc.collecting", g.collecting - 8,
         offsetof(PyInterpreterState, gc.generation_stats));
    SAME("struct gc_generation_stats", PY_GCR_ITEM, sizeof(struct gc_generation_stats));
    SAME("stats collections", PY_GCR_TOTALS, offsetof(struct gc_generation_stats, collections));
    SAME("stats collected", PY_GCR_TOTALS + 8, offsetof(struct gc_generation_stats, collected));
    SAME("GC_YOUNG_STATS_SIZE", PY_GCR_YOUNG, GC_YOUNG_STATS_SIZE);
    SAME("GC_OLD_STATS_SIZE", PY_GCR_OLD, GC_OLD_STATS_SIZE);
    SAME("gc_stats young", PY_GCR_AT(0), offsetof(struct gc_stats, young.items));
    SAME("gc_stats young index", PY_GCR_AT(0) + PY_GCR_N(0) * PY_GCR_ITEM,
         offsetof(struct gc_stats, young.index));
    SAME("gc_stats old[0]", PY_GCR_AT(1), offsetof(struct gc_stats, old[0].items));
    SAME("gc_stats old[0] index", PY_GCR_AT(1) + PY_GCR_N(1) * PY_GCR_ITEM,
         offsetof(struct gc_stats, old[0].index));
    SAME("gc_stats old[1]", PY_GCR_AT(2), offsetof(struct gc_stats, old[1].items));
    SAME("gc_stats old[1] index", PY_GCR_AT(2) + PY_GCR_N(2) * PY_GCR_ITEM,
         offsetof(struct gc_stats, old[1].index));
#else
    SAME("stats before gc.collecting", g.ring, 0);
    SAME("gc.generation_stats", g.collecting - PY_GC_STATS_BYTES,
         offsetof(PyInterpreterState, gc.generation_stats));
    SAME("generation_stats", PY_GC_STATS_BYTES, sizeof(struct gc_generation_stats) * 3);
    SAME("stats collected", 8, offsetof(struct gc_generation_stats, collected));
#endif
#else
    if (pylay_gc_layout_find((uint32_t)PY_VERSION_HEX, NULL, &g) != 0) {
        printf("no gc row for %s\n", PY_VERSION);
        return 1;
    }
    SAME("generations searched, slots in arrays, stats", g.gens + g.linked + g.ring, 0);
    SAME("gc.collecting", g.collecting, offsetof(PyInterpreterState, gc.collecting));
    SAME("gc.generation_stats", g.collecting - PY_GC_STATS_BYTES,
         offsetof(PyInterpreterState, gc.generation_stats));
    SAME("generation_stats", PY_GC_STATS_BYTES, sizeof(struct gc_generation_stats) * 3);
    SAME("stats collected", 8, offsetof(struct gc_generation_stats, collected));
    SAME("PyList_MAXFREELIST", 80, PY_LIST_MAXFREE);
    SAME("PyDict_MAXFREELIST", 80, PY_DICT_MAXFREE);
    SAME("PyTuple_MAXFREELIST", 2000, PY_TUPLE_MAXFREE);
#if PY_VERSION_HEX >= 0x030d0000
    SAME("list numfree", g.list_numfree, offsetof(PyInterpreterState, object_state.freelists.lists.numfree));
    SAME("dict numfree", g.dict_numfree, offsetof(PyInterpreterState, object_state.freelists.dicts.numfree));
    SAME("tuple numfree", g.tuple_numfree, offsetof(PyInterpreterState, object_state.freelists.tuples.numfree));
    SAME("tuple free lists", 20, PyTuple_NFREELISTS);
    /* pyseed.c's: each array just before its count, the keys' after the dicts' */
    SAME("list slots", g.list_numfree - 640, offsetof(PyInterpreterState, object_state.freelists.lists.items));
    SAME("dict slots", g.dict_numfree - 640, offsetof(PyInterpreterState, object_state.freelists.dicts.items));
    SAME("dict keys slots", g.dict_numfree + 8, offsetof(PyInterpreterState, object_state.freelists.dictkeys.items));
    SAME("dict keys numfree", g.dict_numfree + 648, offsetof(PyInterpreterState, object_state.freelists.dictkeys.numfree));
    SAME("tuple heads", g.tuple_numfree - 160, offsetof(PyInterpreterState, object_state.freelists.tuples.items));
#else
    SAME("list numfree", g.list_numfree, offsetof(PyInterpreterState, list.numfree));
    SAME("dict numfree", g.dict_numfree, offsetof(PyInterpreterState, dict_state.numfree));
    SAME("tuple numfree", g.tuple_numfree, offsetof(PyInterpreterState, tuple.numfree));
    SAME("tuple free lists", 20, PyTuple_MAXSAVESIZE);
    /* pyseed.c's: 3.12 keeps both dict arrays before both counts */
    SAME("list slots", g.list_numfree - 640, offsetof(PyInterpreterState, list.free_list));
    SAME("tuple heads", g.tuple_numfree - 160, offsetof(PyInterpreterState, tuple.free_list));
#if PY_VERSION_HEX >= 0x030c0000
    SAME("dict slots", g.dict_numfree - 1280, offsetof(PyInterpreterState, dict_state.free_list));
    SAME("dict keys slots", g.dict_numfree - 640, offsetof(PyInterpreterState, dict_state.keys_free_list));
    SAME("dict keys numfree", g.dict_numfree + 4, offsetof(PyInterpreterState, dict_state.keys_numfree));
#else
    SAME("dict slots", g.dict_numfree - 640, offsetof(PyInterpreterState, dict_state.free_list));
    SAME("dict keys slots", g.dict_numfree + 8, offsetof(PyInterpreterState, dict_state.keys_free_list));
    SAME("dict keys numfree", g.dict_numfree + 648, offsetof(PyInterpreterState, dict_state.keys_numfree));
#endif
#endif
#if PY_VERSION_HEX >= 0x030b0000
    SAME("tuple_base", g.tuple_base, 1); /* one free list a size from 1 */
    SAME("frame_numfree", g.frame_numfree, 0);
#else
    SAME("tuple_base", g.tuple_base, 0); /* index = size; [0] the empty tuple */
    SAME("frame_numfree", g.frame_numfree, offsetof(PyInterpreterState, frame.numfree));
#endif
    /* pyw_gens_find's order: the generations, generation0 72 to 79 bytes
     * past them (pointing at the first), the permanent one right after it,
     * all within 256 bytes before gc.collecting; the words it reads of a
     * list, a dict and a type */
    {
        size_t gens = offsetof(PyInterpreterState, gc.generations);
        size_t g0 = offsetof(PyInterpreterState, gc.generation0);
        SAME("gc.generation0 past the generations", 1, g0 >= gens + 72 && g0 < gens + 80);
        SAME("gc.generation0 8-aligned", 0, g0 & 7);
        SAME("gc.permanent_generation", g0 + 8,
             offsetof(PyInterpreterState, gc.permanent_generation));
        SAME("gc.generations near gc.collecting", 1, g.collecting - gens <= 256 - 8);
    }
#endif
    SAME("gc_generation", 24, sizeof(struct gc_generation));
    SAME("PyGC_Head", PY_GC_HEAD, sizeof(PyGC_Head));
    SAME("list ob_item", PY_LIST_ITEMS, offsetof(PyListObject, ob_item));
    SAME("list allocated", 32, offsetof(PyListObject, allocated));
    SAME("dict ma_keys", PY_DICT_KEYS, offsetof(PyDictObject, ma_keys));
    SAME("dict ma_values", PY_DICT_KEYS + 8, offsetof(PyDictObject, ma_values));
    SAME("tp_dictoffset", 288, offsetof(PyTypeObject, tp_dictoffset));
    return bad;
}

int main(void)
{
    const struct pylay_layout *l = pylay_layout_find((uint32_t)PY_VERSION_HEX);
    int bad = 0;
#if PY_VERSION_HEX >= 0x030e0000
    /* 3.14 on: frames and code only from _Py_DebugOffsets (no row) */
    if (l) {
        printf("a frames row for %s\n", PY_VERSION);
        bad++;
    }
#else
    if (!l) {
        printf("no row for %s\n", PY_VERSION);
        return 1;
    }
    CHECK(ob_type, offsetof(PyObject, ob_type));
#if PY_VERSION_HEX >= 0x030d0000
    CHECK(frames, PY_FRAMES_OWNER);
    CHECK(cstack, PY_CSTACK_OWNER);
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
#endif
#if PY_VERSION_HEX >= 0x030d0000
    bad += check_published();
#endif
    bad += check_objects();
    bad += check_gc();
    bad += check_tm();
    bad += check_free();
    bad += check_datastack();
    if (!bad)
        printf("ok %s\n", PY_VERSION);
    return bad != 0;
}
