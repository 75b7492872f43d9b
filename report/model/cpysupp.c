/*
 * cpysupp.c - heapsnap's built-in suppressions of the known leaks of
 * CPython and of the extensions most programs import, added to every leak
 * check of a Python process (supp_add_snaps): named CPYSUPP_NAME in the
 * listings, listed only when one matched, so a gate passes on a clean
 * program.  Each entry says what it is and on which versions, checked
 * against valgrind's record of the same program (blocks), or the
 * extension's source (leaked references, which no other tool reports).
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
 *
 *   numpy 1.25 on: PyArray_NewLegacyWrappingArrayMethod takes a reference
 *   from PyUFunc_GetDefaultIdentity for each legacy loop of a ufunc and
 *   never gives it back, so the -inf float identities of logaddexp and
 *   logaddexp2 (made by umath's InitOperators, 4 loops each) read refcount
 *   5 with 1 reference found.  Only a float made in numpy's core and
 *   exactly 4 references over.
 *
 *   pandas 2.1 on: the pandas_parser and pandas_datetime modules'
 *   exec functions PyImport_ImportModule("pandas") to set their capsule on
 *   it and never release it: the pandas module 2 references over.  Only a
 *   module that sys.modules['pandas'] holds, made by importlib.
 *
 *   pandas 1.3 on: TextReader.__cinit__ (pandas._libs.parsers) keeps the
 *   encoding_errors bytes it encodes from the str (b"strict": 39 bytes, a
 *   read_csv each) alive with a Py_INCREF that nothing undoes: a direct
 *   leak and a leaked reference (valgrind: "definitely lost" under the
 *   same frames; pandas' main branch keeps it in self._encoding_errors).
 *   Only a direct leak, or a bytes 1 reference over, made in parsers' C
 *   under CParserWrapper.__init__.
 *
 *   PyTorch 1.13 and 2.6 (Debian 12's and 13's): initializeMemoryFormats
 *   Py_INCREFs each torch.memory_format before PyModule_AddObject steals
 *   one and again for its registry of them, so the four read refcount
 *   n + 1 with n references found (its source: the first Py_INCREF has no
 *   owner; later PyTorch holds it in a THPObjectPtr and calls
 *   PyModule_AddObjectRef).  Only a torch.memory_format 1 reference over,
 *   made by THPMemoryFormat_New under initializeMemoryFormats.
 *
 *   PyTorch 1.13 on: torch::loadTypedStorageTypeObject, which the first
 *   torch::isStorage calls (torch.tensor(0.) in Adam's step, BatchNorm's
 *   num_batches_tracked), PyImport_ImportModule("torch.storage")s and
 *   keeps only TypedStorage (in getTypedStorageTypeObject's static), never
 *   releasing the module: torch.storage 1 reference over (its source, and
 *   a gdb breakpoint on PyImport_ImportModule for that name).  Only a
 *   module that sys.modules['torch.storage'] holds, made by importlib.
 *
 *   libnl 3 (pulled in by libtorch): libnl-route's constructors keep their
 *   name tables (routing tables, protocols, realms...) in lists of struct
 *   trans_list linked by the nl_list_head 16 bytes into each node, so the
 *   only reference to a node is an interior one and the strdup'd name it
 *   owns hangs from it: "possibly lost" while the library is loaded.  Its
 *   destructors free them (__trans_list_clear), which is why valgrind,
 *   checking after them, reports nothing.  Only possibly lost, allocated
 *   by __trans_list_add.
 *
 *   HEAPSNAP_PYTHON_NATIVE=caller keeps one native frame under Python
 *   code (past an allocator wrapper's: docs/python.md), so the numpy
 *   buffer info's, PyTorch's memory_format and pandas' encoding_errors
 *   entries, which name frames further in, get a twin each, last (the
 *   earlier entries' line numbers stay): numpy's core straight under a
 *   Python frame (obj:<python>, which a whole stack never shows: the
 *   interpreter's frames lie between); a torch.memory_format 1 reference
 *   over whose first frame shown is torch/__init__.py's call of
 *   _C._initExtension (a whole stack shows THPMemoryFormat_New there); a
 *   bytes 1 reference over whose first frame shown is
 *   CParserWrapper.__init__ itself (the interpreter encoded it for
 *   parsers' C, whose frame such a stack does not keep).
 *
 *   libglvnd's libGLdispatch (pulled in by libtorch through libGL,
 *   libOpenGL and libGLX): its stub callbacks (__GLdispatchStubCallback,
 *   80 bytes) are linked by their glvnd_list entry at offset 64, the only
 *   reference to each; libGL's and libOpenGL's destructors unregister and
 *   free them (valgrind: nothing).  Every list libGLdispatch keeps is such
 *   a glvnd_list, so: only possibly lost, allocated by libGLdispatch
 *   itself.
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
    "}\n"
    "{\n"
    "   numpy 1.25 on: logaddexp's and logaddexp2's -inf identity, a reference kept per legacy loop\n"
    "   heapsnap:LeakedRef\n"
    "   match-type: float\n"
    "   match-excess: 4\n"
    "   obj:*_multiarray_umath*\n"
    "   obj:*_multiarray_umath*\n"
    "}\n"
    "{\n"
    "   pandas 2.1 on: pandas_parser and pandas_datetime import pandas to set their capsules and keep it\n"
    "   heapsnap:LeakedRef\n"
    "   match-type: module\n"
    "   match-excess: 2\n"
    "   match-path: sys.modules['pandas'] (module)\n"
    "   fun:_new_module\n"
    "}\n"
    "{\n"
    "   pandas 1.3 on: TextReader keeps its encoding_errors bytes with a Py_INCREF never undone\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: direct\n"
    "   obj:*/pandas/_libs/parsers.*\n"
    "   ...\n"
    "   fun:CParserWrapper.__init__\n"
    "}\n"
    "{\n"
    "   pandas 1.3 on: TextReader keeps its encoding_errors bytes with a Py_INCREF never undone (the reference)\n"
    "   heapsnap:LeakedRef\n"
    "   match-type: bytes\n"
    "   match-excess: 1\n"
    "   obj:*/pandas/_libs/parsers.*\n"
    "   ...\n"
    "   fun:CParserWrapper.__init__\n"
    "}\n"
    "{\n"
    "   PyTorch 1.13-2.6: initializeMemoryFormats keeps one reference too many to each torch.memory_format\n"
    "   heapsnap:LeakedRef\n"
    "   match-type: torch.memory_format\n"
    "   match-excess: 1\n"
    "   fun:THPMemoryFormat_New*\n"
    "   ...\n"
    "   fun:torch::utils::initializeMemoryFormats*\n"
    "}\n"
    "{\n"
    "   PyTorch 1.13 on: loadTypedStorageTypeObject imports torch.storage and keeps the module\n"
    "   heapsnap:LeakedRef\n"
    "   match-type: module\n"
    "   match-excess: 1\n"
    "   match-path: sys.modules['torch.storage'] (module)\n"
    "   fun:_new_module\n"
    "}\n"
    "{\n"
    "   libnl 3: libnl-route's name tables, linked 16 bytes into each node, freed by its destructors\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: possible\n"
    "   fun:__trans_list_add\n"
    "}\n"
    "{\n"
    "   libglvnd: libGLdispatch's lists, linked by a glvnd_list inside each node, freed by destructors\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: possible\n"
    "   obj:*libGLdispatch.so*\n"
    "}\n"
    "{\n"
    "   numpy 1.20 on: an array's buffer info (HEAPSNAP_PYTHON_NATIVE=caller: numpy's frame, then Python)\n"
    "   Memcheck:Leak\n"
    "   match-leak-kinds: possible\n"
    "   obj:*_multiarray_umath*\n"
    "   obj:<python>\n"
    "}\n"
    "{\n"
    "   PyTorch 1.13-2.6: initializeMemoryFormats' torch.memory_format (HEAPSNAP_PYTHON_NATIVE=caller)\n"
    "   heapsnap:LeakedRef\n"
    "   match-type: torch.memory_format\n"
    "   match-excess: 1\n"
    "   src:*/torch/__init__.py\n"
    "}\n"
    "{\n"
    "   pandas 1.3 on: TextReader's encoding_errors bytes, the reference (HEAPSNAP_PYTHON_NATIVE=caller)\n"
    "   heapsnap:LeakedRef\n"
    "   match-type: bytes\n"
    "   match-excess: 1\n"
    "   fun:CParserWrapper.__init__\n"
    "}\n";
