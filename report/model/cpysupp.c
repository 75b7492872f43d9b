/*
 * cpysupp.c - heapsnap's built-in suppressions of CPython's own known
 * leaks, added to every leak check of a Python process (supp_add_snaps):
 * named CPYSUPP_NAME in the listings, listed only when one matched, so a
 * gate passes on a clean program.  Each entry says what it is and on which
 * versions, checked against valgrind's record of the same program.
 *
 *   tracemalloc's tracebacks: tracemalloc.stop() on CPython 3.10-3.12
 *   clears its traces but leaves the traceback records they named behind
 *   (valgrind: "definitely lost" under traceback_new); the site of those
 *   blocks is tracemalloc's own C (Modules/_tracemalloc.c, Python/
 *   tracemalloc.c from 3.12: wrap_is_tracemalloc_own), named by the
 *   interpreter's debug information, or without it (up to 3.11) by the
 *   shim's HSNAP_TRACE_TMOWN.
 *
 *   numpy's buffer info: an array that exported a buffer (memoryview, a
 *   Cython typed memoryview: pandas, numpy.random) keeps the info it made
 *   (_buffer_info_new, PyObject_Malloc) in its _buffer_info field tagged,
 *   its address + 3 (numpy's buffer_info_tag, since 1.20): the only
 *   reference is an interior one, "possibly lost" (valgrind: the same)
 *   at the line that asked for the buffer.  Only that kind, only when
 *   numpy's core made it from numpy's core.
 *
 *   pybind11 3.0.0-3.0.2's function records: every cpp_function keeps its
 *   record in a 24-byte Python object (function_record_PyObject_New,
 *   PyObject_New) whose deallocator frees the record but never the
 *   object itself, so each function made and dropped at run time leaves
 *   one behind with no pointer to it (LeakSanitizer: "Direct leak of 24
 *   byte(s)" at the same frames; pybind11 3.0.3 frees it).  PyTorch 2.11's
 *   torch._C._get_operation_overload makes two a call.  Only a direct
 *   leak whose site is that function (inlined into initialize_generic:
 *   with debug information the two frames, without it initialize_generic
 *   alone as the site).
 */
#include "supp.h"

const char cpysupp_text[] =
    "{\n"
    "   CPython 3.10-3.12: tracemalloc.stop() leaves its tracebacks behind\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: definite,indirect,possible\n"
    "   src:*tracemalloc.c\n"
    "}\n"
    "{\n"
    "   numpy 1.20 on: an array's buffer info, kept at its address + 3 (buffer_info_tag)\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: possible\n"
    "   obj:*_multiarray_umath*\n"
    "   obj:*_multiarray_umath*\n"
    "}\n"
    "{\n"
    "   pybind11 3.0.0-3.0.2: a dropped function's record object is never freed\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: direct\n"
    "   fun:pybind11::detail::function_record_PyObject_New*\n"
    "   fun:pybind11::cpp_function::initialize_generic(*\n"
    "}\n"
    "{\n"
    "   pybind11 3.0.0-3.0.2: a dropped function's record object is never freed (no debug information)\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: direct\n"
    "   fun:pybind11::cpp_function::initialize_generic(*\n"
    "}\n";
