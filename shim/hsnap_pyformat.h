/*
 * hsnap_pyformat.h - the .hsnap format's Python part, written by the shim's
 * python room and read by the CLI: the words that name a Python frame in a
 * trace, and the Python sections PYCODE, PYTYPES, PYOWNED, PYRETAIN and
 * PYGCFREED with their records (the objects, types, references and named
 * roots; the dominator tree; what the cycle collector freed).  The file's
 * grammar, the section numbers (HSNAP_SEC_PY*) and the versions are
 * hsnap_format.h's, which says what every section shares: little-endian,
 * packed, counts first, checked against the length before an item is read.
 *
 * Python frames (version 2):
 *   A trace's ip may name a Python frame instead of a return address: a
 *   word whose top 12 bits are HSNAP_PY_TAG (no user-space address has
 *   them) holds a PYCODE index and the frame's instruction offset + 1 (in
 *   16-bit code units; 0: the frame had not started its first
 *   instruction).  The shim writes the first offset of the frame's line,
 *   so that one line is one word (a reader may meet any offset).  Such
 *   frames stand where the interpreter's native evaluation frames were,
 *   innermost first like the rest.
 *   PYCODE    := u32 count, u32 py_version (Py_Version: the line table's
 *                format), code[count]           code id = index, 0-based
 *                code := i32 firstlineno, u32 filename_len,
 *                        u32 qualname_len, u32 linetable_len,
 *                        filename, qualname (UTF-8), linetable (co_linetable
 *                        bytes as the interpreter kept them)
 *                Written when a trace holds a Python frame (a fatal
 *                signal's snapshot may lack it: a frame whose index is
 *                not < count reads as an unknown Python frame).  The CLI
 *                turns (linetable, offset) into a line.
 *
 *   PYTYPES   := struct hsnap_pytypes_head, struct hsnap_pyobj[nobjects],
 *                struct hsnap_pytype[ntypes], name bytes[names_len],
 *                struct hsnap_pylink[nlinks], struct hsnap_pylink[nparents]
 *                (type 20) The Python objects among the live blocks and
 *                their types, read by the shim at the snapshot
 *                (shim/python): an object's block address (ascending,
 *                each once), its type (an index into the types), and
 *                where the object starts in its block (0, or past the
 *                PyGC_Head, and the pre-header of a class's instance
 *                from 3.11 on).  A type's name is UTF-8 at
 *                names[name_off, name_off + name_len): a builtin's
 *                tp_name ("dict", "_io.TextIOWrapper") or a class's
 *                __module__ "." __qualname__ ("app.Node"; a class of
 *                builtins: its qualified name alone).  An address BLOCKS
 *                does not hold is ignored (a block born while the
 *                snapshot was written).  Absent without BLOCKS and in a
 *                process without CPython objects heapsnap reads (no
 *                CPython, a version it does not know, a free-threaded
 *                build).  With HSNAP_PYTYPES_GRAPH (the shim built the
 *                objects' reference graph, shim/python/graph/pygraph.c), each
 *                object's flags say whether the gc tracks it, whether it
 *                is referenced from outside the traced objects (the gc's
 *                rule: its refcount exceeds the references found) and
 *                whether no such root reaches it: garbage only the
 *                collector frees; the links name, for garbage objects,
 *                one reference each to another garbage object (sorted
 *                by from, each from once), and the parents, for objects
 *                a root reaches, the reference that reached them first
 *                (a shortest path: from the root, by the graph's order;
 *                each to once).  A reader checks the length
 *                is exactly 40 + 16*nobjects + 16*ntypes + names_len +
 *                24*(nlinks + nparents), each type < ntypes, addresses ascending, each
 *                name within names_len, links' objects < nobjects.
 *
 *   PYOWNED   := u64 count, struct hsnap_pyowned[count]
 *                (type 21; with PYTYPES' graph) The native blocks the
 *                Python objects own, as the graph followed them: a
 *                list's item array, a dict's keys table or values array,
 *                a set's table, a class instance's values array or
 *                pre-header block; each block (ascending, each once) with
 *                the object (an index into PYTYPES' objects) that owns
 *                it.  A reader checks the length is 8 + 16*count,
 *                addresses ascending, owners < PYTYPES' nobjects.
 *   PYRETAIN  := struct hsnap_pyretain[count]
 *                (type 22) The dominator tree of the heap graph the shim
 *                built with PYTYPES' (shim/python/retain/pyretain.c): nodes are
 *                the live blocks (Python objects and native blocks), an
 *                edge is a reference the graph found (an object's fields
 *                and items, its owned blocks: a list's item array, a
 *                dict's keys table, a buffer), and the roots are what is
 *                held from outside the graph (an object whose refcount
 *                exceeds the references found, a block none found, the
 *                collector's garbage).  Per block, ascending by address:
 *                the bytes it retains (its own and those of every block it
 *                dominates: freed if it went) and its immediate
 *                dominator (an index into these entries, or
 *                HSNAP_PYRETAIN_ROOT: none but the roots).  A block the
 *                section leaves out retains its own size only and is
 *                dominated by the roots.  At a snapshot with a leak
 *                check, an object whose refcount exceeds the pointers to
 *                it in the process's writable memory (the shim's aside)
 *                is flagged HSNAP_PYRETAIN_LEAKREF, with both counts:
 *                leaked references (shim/python/leakref/pyleakref.c).  A reader
 *                checks the length is a multiple of 32, addresses
 *                ascending, each idom < count and retained >= the entry's
 *                own size when BLOCKS has it (the graph's blocks are
 *                BLOCKS' as written: a leak check's fork hands them over).
 *                Absent without PYTYPES' graph.  Derived, as PYOWNED is
 *                (hsnap_format.h): left out, not refused, when a check
 *                fails.
 *   PYGCFREED := u32 count, u32 reserved (0), u64 collected, u64 dropped,
 *                struct hsnap_pygcfreed[count]
 *                (type 23) The objects CPython's cycle collector freed over
 *                the run, per allocation site (shim/python/wrap/pygcfreed.c):
 *                a block holding an object of a gc type (Py_TPFLAGS_HAVE_GC)
 *                freed while the main interpreter's gcstate->collecting
 *                was set, counted at its trace with its bytes; one item
 *                per trace with one at least, sorted by trace, each once,
 *                trace < TRACES count, objects >= 1.  collected is the
 *                interpreter's own count at the snapshot (gc.get_stats()'
 *                collected summed over the generations, objects it freed
 *                before heapsnap traced them included; UINT64_MAX: not
 *                read), dropped the objects counted at no item (a trace
 *                past the table's bound, or out of memory).  Counts are
 *                of traced blocks: a sampled run's, the sampled ones.
 *                Absent when the collector was not watched (no CPython,
 *                a version heapsnap does not know).  A reader checks the
 *                length is 24 + 24*count.
 */
#ifndef HSNAP_PYFORMAT_H
#define HSNAP_PYFORMAT_H

#include <stdint.h>

/* A trace's Python frame words (PYCODE index, instruction offset + 1). */
#define HSNAP_PY_TAG 0xfff0000000000000ull
#define HSNAP_PY_TAG_MASK 0xfff0000000000000ull
#define HSNAP_PY_CODE_SHIFT 24
#define HSNAP_PY_CODE_MAX 0x0fffffffu /* 28 bits of code index */
#define HSNAP_PY_OFF_MASK 0x00ffffffu /* 24 bits of offset + 1 */
#define HSNAP_IS_PYFRAME(ip) (((ip) & HSNAP_PY_TAG_MASK) == HSNAP_PY_TAG)

#pragma pack(push, 1)

/* PYTYPES' parts. */
struct hsnap_pytypes_head {
    uint32_t ntypes;
    uint32_t flags;      /* HSNAP_PYTYPES_* */
    uint64_t nobjects;
    uint64_t names_len;
    uint64_t nlinks;     /* struct hsnap_pylink after the names */
    uint64_t nparents;   /* struct hsnap_pylink after the links */
};
/* A reference of one object to another (indices into the objects), and
 * how (FIELD: the name of the type's member there, when it has one): a
 * links' garbage object's first reference to other garbage (followed,
 * they reach a cycle), or a parents' reached object's reference on a
 * shortest path from a root (followed, they reach it; a ROOT one ends). */
#define HSNAP_PYLABEL_OTHER 0 /* a block the object owns (a values array) */
#define HSNAP_PYLABEL_FIELD 1 /* value: the field's offset in the object */
#define HSNAP_PYLABEL_INDEX 2 /* value: a list's item index */
#define HSNAP_PYLABEL_KEY 3   /* a dict's value: the key is the name (a str's) */
#define HSNAP_PYLABEL_ATTR 4  /* a class instance's attribute kept in its values
                                 (3.11 on): the name; value: its index */
#define HSNAP_PYLABEL_DICT 5  /* the holder's __dict__ (an instance's; a class's:
                                 the name is the class's __qualname__) */
#define HSNAP_PYLABEL_ROOT 6  /* a parent with from == to: reached from a named
                                 root, value its HSNAP_PYROOT_*, the name its
                                 description ("module app, global CACHE") */
/* A garbage link's label may carry this: the object (from) is on no
 * cycle the links keep but held by garbage: `to` holds it, by the label
 * below the flag; such links lead back to an object on a kept cycle
 * (an older file has none: every link is from's own reference). */
#define HSNAP_PYLINK_HELD 0x100u
/* A KEY link's label may carry this: its name is the key's repr (an
 * int's digits), not a str key's text, so it is written without quotes,
 * "[42]" (an older file has none).  Bit 3: the labels are below 8, and a
 * parent keeps its label in 4 bits (struct pyg_parent's label_len). */
#define HSNAP_PYLINK_REPR 0x8u
/* The named roots (HSNAP_PYLABEL_ROOT's value). */
#define HSNAP_PYROOT_GLOBAL 1  /* "module M, global K": a module's global */
#define HSNAP_PYROOT_MODULE 2  /* "module M": the module's globals dict itself (a
                                  KEY step after it names the global) */
#define HSNAP_PYROOT_SYSMOD 3  /* "sys.modules['M']": a module object */
#define HSNAP_PYROOT_LOCAL 4   /* "frame F:L in Q, local X": a running frame's fast local */
#define HSNAP_PYROOT_SYSMODULES 5 /* "sys.modules": the dict (a KEY step names the module) */
#define HSNAP_PYROOT_INTERP 6  /* "the interpreter's own state": a word of libpython's
                                  data (its static types, its runtime state, a
                                  signal's handler) */
#define HSNAP_PYROOT_STATIC 7  /* "static data of M.so (SYMBOL)": a word of another
                                  module's writable data (a C extension's static) */
#define HSNAP_PYROOT_CSTACK 8  /* "C stack of thread TID": a word of a thread's stack
                                  (its live part); the description may end
                                  HSNAP_PYROOT_AT and a hex code address in the
                                  function whose frame holds the word (a return
                                  address into it, or the thread's pc), which a
                                  reader names ("in f (ext.c:42)"); an older
                                  file has none */
#define HSNAP_PYROOT_AT " at 0x"
struct hsnap_pylink {
    uint32_t from, to;
    uint32_t label;              /* HSNAP_PYLABEL_* */
    uint32_t value;
    uint32_t name_off, name_len; /* KEY: in the names (0, 0: not a str) */
};
#define HSNAP_PYTYPES_GRAPH 0x1u /* head.flags: the graph was built: objects' flags hold */
struct hsnap_pyobj {
    uint64_t addr;       /* the block's (BLOCKS' addr) */
    uint32_t type;       /* index into the types */
    uint16_t offset;     /* the object's start in the block: 0, 16 or 32 */
    uint16_t flags;      /* HSNAP_PYOBJ_* (0 without HSNAP_PYTYPES_GRAPH) */
};
#define HSNAP_PYOBJ_TRACKED 0x1u  /* a gc object the collector tracks */
#define HSNAP_PYOBJ_EXTERNAL 0x2u /* tracked, its refcount exceeds the references
                                     the graph found to it: referenced from
                                     outside the traced objects (a root) */
#define HSNAP_PYOBJ_GARBAGE 0x4u  /* tracked, reached from no root: garbage
                                     only the collector frees (a cycle's, or
                                     held by one) */
/* PYOWNED's items: a native block (no object) that a Python object owns,
 * by the object's index in PYTYPES. */
struct hsnap_pyowned {
    uint64_t addr;     /* the block's (BLOCKS' addr) */
    uint32_t owner;    /* PYTYPES' object */
    uint32_t reserved; /* 0 */
};
#define HSNAP_PYTYPE_GC 0x1u        /* its objects are tracked by the gc */
#define HSNAP_PYTYPE_CLASS 0x2u     /* a heap type (a class statement's) */
#define HSNAP_PYTYPE_FINALIZER 0x4u /* tp_finalize or tp_del (a class's __del__) */
struct hsnap_pytype {
    uint32_t name_off, name_len; /* in the names that follow the types */
    uint32_t flags;              /* HSNAP_PYTYPE_* */
    uint32_t reserved;           /* 0 */
};

/* PYGCFREED's items. */
struct hsnap_pygcfreed {
    uint32_t trace;    /* TRACES index of the objects' allocation stack */
    uint32_t reserved; /* 0 */
    uint64_t objects;  /* objects the collector freed there */
    uint64_t bytes;    /* their blocks' bytes */
};

/* PYRETAIN's entries. */
#define HSNAP_PYRETAIN_ROOT UINT32_MAX /* idom: dominated by the roots only */
#define HSNAP_PYRETAIN_HELD 0x1u       /* flags: a root (held from outside the graph) */
#define HSNAP_PYRETAIN_LEAKREF 0x2u    /* flags: an object with leaked references */
struct hsnap_pyretain {
    uint64_t addr;     /* the block's (BLOCKS' addr) */
    uint64_t retained; /* bytes: its own and the blocks it dominates */
    uint32_t idom;     /* index of its immediate dominator's entry, or ..._ROOT */
    uint32_t flags;    /* HSNAP_PYRETAIN_* */
    uint32_t refcnt;   /* LEAKREF: its reference count (saturated) */
    uint32_t refs;     /* LEAKREF: the pointers to it found in memory */
};
#pragma pack(pop)

#endif
