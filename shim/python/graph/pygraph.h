/*
 * pygraph.h - the door of shim/python/graph/: the reference graph of
 * the objects a snapshot found (pyg_build), what each type's objects
 * hold and how a link is named, the marking from the roots (pymark.c:
 * the collector's garbage, each object's parent), the garbage's cycles
 * (pycycle.c), the roots (pyroots.c, pycstack.c, pysyms.c), and the
 * blocks objects own (pyowned.c, with pynumpy.c and pyfields.c).  pyedge.h is the
 * room's inner header (the packed edges: its static helpers and struct
 * pye_csr keep pye_).  Prefix: pyg_ (pyg_edge_, pyg_mark_, pyg_owned_...
 * name the file).
 */
#ifndef HEAPSNAP_PYGRAPH_H
#define HEAPSNAP_PYGRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "hsnap_pyformat.h"
#include "pyheap.h"

/* The kind of the type at t (tb: its first PY_TP_FINALIZE + 8 bytes). */
uint8_t pyg_kind(uintptr_t t, const char *tb, uint64_t flags);
/* A reached object's parent, the link by which the marking reached it
 * first (a struct hsnap_pylink to the object, which is left out: the
 * objects whose pyh_obj.parent is set, in their order), as
 * pyg_mark_parent_next reads it back: 8 to 20 bytes where the section's link
 * takes 24, for the stop's peak. */
struct pyg_parent {
    uint32_t from, value, name_off;
    uint32_t label_len; /* HSNAP_PYLABEL_* (| HSNAP_PYLINK_REPR) | the name's length << 4 */
};
/* The graph over h's nobj objects (types ty): each object's marks
 * (struct pyh_obj's garbage and external), the garbage's links (struct
 * hsnap_pylink) into links, the reached ones' parents (struct
 * pyg_parent) into parents, and into *owner the owners' array (by block
 * without an object, bj - pyh_objs_below: its owner + 1, 0 for none;
 * PYG_OWNERS entries from arena_map, the caller's to give back).  0, or
 * -1 (out of memory: no marks, *owner untouched). */
#define PYG_OWNERS(h, nobj) ((h)->nblk - (nobj) + 1)
/* pyowned.c, for pyg_build: the owners' array *owner (cap entries),
 * which the marking does not read, packed in a byte an owner or so (*owner
 * NULL; left as it is without room), and made whole again (0, or -1: out
 * of memory, *owner NULL). */
void pyg_owned_pack(uint32_t **owner, uint64_t cap);
int pyg_owned_unpack(uint32_t **owner, uint64_t cap);
struct sbuf;
struct sec_sink; /* base.h */
int pyg_build(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
              struct sbuf *links, struct sbuf *parents, struct sbuf *names, uint32_t **owner);
/* pygraph.c, for pyroots.c while pyg_build runs: the tracked object
 * that starts at w, the object whose block holds address at (PYG_NONE:
 * none), and a named root: obj is referenced from what the description
 * name[0, n) names (kind: HSNAP_PYROOT_*); exact: a reference its count
 * holds that no edge of the graph is (it is subtracted as the graph's). */
uint32_t pyg_tracked_at(uint64_t w);
/* Of the n words w (n <= PYG_WORDS), those pyg_tracked_at finds an
 * object at: their places into at[], the objects into obj[], in order;
 * how many. */
#define PYG_WORDS 512u
size_t pyg_tracked_all(const uint64_t *w, size_t n, uint32_t *at, uint32_t *obj);
uint32_t pyg_object_at(uint64_t w); /* an object starting at w, tracked or not */
uint32_t pyg_object_holding(uint64_t at);
void pyg_root(uint32_t obj, uint32_t kind, const char *name, uint32_t n, int exact);
struct pyg_root {               /* a named root, as pyg_root took it */
    uint32_t dst, kind;         /* kind: HSNAP_PYROOT_* | PYG_EXACT */
    uint32_t name_off, name_len;
};
#define PYG_EXACT 0x100u           /* a root's kind: its reference is counted */
#define PYG_IMMORTAL 0xffffffffull /* 3.12 on: such a count is an immortal's */
/* pygraph.c, for pymark.c: the link of an edge, its name put once. */
struct pyg_edge;
struct hsnap_pylink pyg_link_of(const struct pyg_edge *e);
/* pymark.c, for pygraph.c: h's nobj objects' garbage and external marks
 * from the nroot named roots, the garbage's links (struct hsnap_pylink)
 * into links and the reached ones' parents (struct pyg_parent) into
 * parents; each obj's parent bit set where one was put.  0, or -1 (out of
 * memory). */
int pyg_mark(const struct pyh_heap *h, uint64_t nobj, const struct pyg_root *root, uint64_t nroot,
             struct sbuf *links, struct sbuf *parents);
/* The parents pyg_mark put into b: their count, and the next one from
 * *at (0 at first; moved past it). */
uint64_t pyg_mark_nparents(const struct sbuf *b);
void pyg_mark_parent_next(const struct sbuf *b, uint64_t *at, struct pyg_parent *p);
/* pycycle.c, for pygraph.c's marking: each garbage object's link (via,
 * an edge's place in c; PYG_NONE on entry) among c's objects' edges, so
 * that the link from one object of each garbage group (site, type) is a
 * cycle through it; the rest keep their first reference to garbage. */
struct pye_csr;
void pyg_cycle_links(const struct pyh_heap *h, const struct pye_csr *c, uint32_t *via);
/* pylink.c, for pygraph.c: a link (src holds dst by label, value: a
 * field's offset, an item's index; key: KEY's str, or a keys object | 1)
 * with its name put in names once; pyg_link_begin at each graph's start. */
void pyg_link_begin(struct sbuf *names);
struct hsnap_pylink pyg_link(const struct pyh_heap *h, const struct pyh_type *ty, uint32_t src,
                             uint32_t dst, uint32_t label, uint32_t value, uint64_t key);
/* pynumpy.c: the blocks numpy arrays among h's nobj objects (types ty,
 * nty of them) own (a data buffer, dimensions) set in owner (the owners'
 * array, pyg_build's: the graph's entries kept); how many were added. */
int pyg_numpy_owned(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
                    uint32_t nty, uint32_t *owner);
/* pyfields.c: the blocks the fields of h's objects of non-gc types hold
 * (at their start, owned by no one yet) set in owner the same way; how
 * many were added, or -1 (out of memory). */
int pyg_fields_owned(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
                     uint32_t *owner);
/* The graph's walk lends its copies (pygraph.c): pyg_fields_begin before it
 * (h's blocks and objects, of types ty); pyg_fields_wants: whether object i
 * (in block bj) has fields read, their span [*at, *at + *len); pyg_fields_see:
 * that span's copy p (NULL: unreadable); pyg_fields_owned then claims what it
 * saw.  pyg_fields_drop: what pyg_fields_begin kept, given back (no claim). */
void pyg_fields_begin(const struct pyh_heap *h, const struct pyh_type *ty);
int pyg_fields_wants(uint64_t i, uint64_t bj, uint64_t *at, uint32_t *len);
/* pyg_fields_see: under pyg_find_build */
void pyg_fields_see(uint32_t i, uint64_t at, const char *p, uint32_t len);
void pyg_fields_drop(void);
/* pyowned.c: PYOWNED from owner (pyg_build's owners' array over h's
 * nobj objects, taken over, NULL: none), once numpy's arrays and the
 * other objects' fields have set theirs in it (pyg_numpy_owned, pyg_fields_owned);
 * pyg_owned_records puts the section into owned (not streamed); pyg_owned_free gives
 * the array back. */
void pyg_owned_make(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
                    uint32_t nty, uint32_t *owner);
void pyg_owned_records(struct sbuf *owned);
void pyg_owned_free(void);
/* pycstack.c: the live part of thread tid's C stack [lo, hi): 1 when it
 * is blocked in a system call, *from its stack pointer less the red zone
 * and *pc its pc; 0 (*from = lo, *pc = 0) when not known (it runs).  The
 * code address in the function whose frame holds the stack's word at at
 * (from: the live part's start; pc: the innermost frame's), or 0. */
int pyg_cstack_live(int tid, uintptr_t lo, uintptr_t hi, uintptr_t *from, uintptr_t *pc);
uintptr_t pyg_cstack_frame_pc(uintptr_t at, uintptr_t from, uintptr_t pc);
/* pycstack.c: the general registers of blocked thread tid (pyg_cstack_live's
 * from and pc) as the leak check's stop found them, while it still waits
 * there (stop_kept_regs): *n words, or NULL. */
const uintptr_t *pyg_cstack_regs(int tid, uintptr_t from, uintptr_t pc, size_t *n);
/* pysyms.c: whether the word at `at` of the writable segment [lo, hi) of
 * the module the loader names name (its dlpi_name) may lie in one of the
 * module's dynamic symbols (0: in none, dladdr1 would name none); the
 * spans given back by pyg_syms_end. */
int pyg_sym_may_hold(uintptr_t lo, uintptr_t hi, const char *name, uintptr_t at);
void pyg_syms_end(void);
/* pyroots.c: the named roots (modules' globals, sys.modules, each thread's
 * frames' locals) handed to pyg_root. */
void pyg_roots_collect(void);
/* pyroots.c: fn(lo, hi, arg) for each writable segment of the C
 * extensions (and their libraries) loaded, not the interpreter's nor the
 * shim's: their static data. */
void pyg_roots_statics(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
/* pyroots.c: entry i of the dict keys object at keys (read safely): its
 * key, and its value into *value (may be NULL); 0 when none. */
uintptr_t pyg_roots_keys_entry(uintptr_t keys, uint64_t i, uintptr_t *value);
/* pymember.c: the name of the field at offset off of an object of the type
 * at t (its tp_members, those of its bases, a class's and a function's
 * known fields), into out (cap bytes); its length. */
uint32_t pyg_member_name(uintptr_t t, uint64_t off, char *out, uint32_t cap);
/* pyknown.c: fields a type's layout holds that its members do not name.
 * pyg_known_kind: the kind of the type at t (flags: its tp_flags), PYKN_*;
 * pyg_known_name: the name of the field at offset value of the object at obj
 * (basic: its tp_basicsize) into out (cap bytes, at least 128): its
 * length, 0: none; *key: nonzero when the name is the object's own (a
 * frame's local: by its code and index), not its type's.  pyg_known_begin at
 * each graph (the types' cache). */
enum { PYKN_NONE, PYKN_EXC, PYKN_FUTURE, PYKN_FRAME, PYKN_TRACEBACK, PYKN_ARRAY };
void pyg_known_begin(void);
unsigned pyg_known_kind(uintptr_t t, uint64_t flags);
uint32_t pyg_known_name(uintptr_t t, uint64_t flags, int64_t basic, uint64_t obj, uint32_t value,
                        char *out, uint32_t cap, uint64_t *key);
/* pyfind.c: the block of h (pyg_find_build: the index made) that holds
 * address w, or PYG_NONE, while h is unchanged; pyg_find_free gives it back. */
void pyg_find_build(const struct pyh_heap *h);
uint32_t pyg_find(uint64_t w);
void pyg_find_free(void);
/* Of the n words w, those in a block that may start an object there (a
 * block pyg_find finds, the word aligned as a start would be; the caller
 * checks it is one): their places into at[], their blocks into bj[], in
 * order; how many. */
size_t pyg_find_starts(const uint64_t *w, size_t n, uint32_t *at, uint32_t *bj);
/* py_types_owned's (after py_types_end was given a sink, before
 * py_types_retain): PYOWNED streamed to s (its run unused, its end set),
 * from the owners' array, which is given back; 1 when there was one (0:
 * none, nothing put). */
int pyg_owned_stream(const struct sec_sink *s);

#endif
