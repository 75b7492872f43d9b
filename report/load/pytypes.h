/*
 * pytypes.h - the Python objects' types a snapshot's PYTYPES section keeps
 * (shim/hsnap_format.h): decoded and validated once at load, and each
 * block's type found by its address.
 */
#ifndef REPORT_PYTYPES_H
#define REPORT_PYTYPES_H

#include <stddef.h>
#include <stdint.h>

#define PYTYPE_NONE UINT32_MAX /* a block that holds no Python object */

struct snap_pytype {
    char *name;     /* "dict", "app.Node": NUL-terminated copy */
    uint32_t flags; /* HSNAP_PYTYPE_* */
};

/* A reference between two objects' blocks, and how (PYTYPES' links). */
struct snap_pyref {
    uint64_t block;   /* the other object's block, or UINT64_MAX: none */
    uint32_t label;   /* HSNAP_PYLABEL_* */
    uint32_t value;   /* FIELD: the offset; INDEX: the index */
    const char *name; /* KEY: the key (name_len bytes, in names), or NULL */
    uint32_t name_len;
    uint32_t repr;    /* KEY: the name is the key's repr (an int's), not a str's
                         text (HSNAP_PYLINK_REPR, taken off the label) */
};

/* What a snapshot knows of its Python objects (all zero without PYTYPES). */
struct snap_pyobjs {
    uint32_t ntypes;
    struct snap_pytype *types;
    uint32_t *block_type; /* by BLOCKS index: a type, or PYTYPE_NONE */
    uint16_t *block_off;  /* ... and where the object starts in the block */
    uint16_t *block_flags; /* ... and its HSNAP_PYOBJ_* (graph only) */
    struct snap_pyref *block_next;   /* garbage: a garbage object it references */
    struct snap_pyref *block_parent; /* reached: who holds it on a shortest path
                                        from a root */
    uint64_t *block_owner; /* PYOWNED: the block of the object that owns
                              block i, or UINT64_MAX (NULL: no PYOWNED) */
    uint64_t *obj_block;   /* PYTYPES' object i's block (UINT64_MAX: none) */
    uint64_t nobj_all;     /* PYTYPES' nobjects */
    char *names;          /* the section's names, copied */
    uint64_t names_len;
    uint64_t nobjects;    /* blocks with a type */
    int graph;            /* HSNAP_PYTYPES_GRAPH: flags and links hold */
    uint64_t garbage;     /* blocks flagged HSNAP_PYOBJ_GARBAGE */
    /* PYRETAIN (pyretain_decode), by BLOCKS index; NULL without it */
    uint64_t *block_retained; /* bytes freed if the block went (its own at least) */
    uint64_t *block_idom;     /* its immediate dominator's block, or UINT64_MAX: the roots */
    uint8_t *block_held;      /* held from outside the graph (HSNAP_PYRETAIN_HELD) */
    uint32_t *block_refcnt;   /* leaked references: the object's refcount (0: none), */
    uint32_t *block_refs;     /* ... and the pointers to it found; NULL when none */
    uint64_t leakrefs;        /* objects with leaked references */
    /* PYCAPPED: the objects were not read, the snapshot having capped_blocks
     * live blocks, more than HEAPSNAP_PYTHON_OBJECTS (cap); 0 without it */
    uint64_t capped_blocks, cap;
};

struct snap;

/* A snapshot of a CPython process the shim did not read (PYUNREAD): its
 * version and why, a phrase into buf (n bytes): 1; 0 when not so. */
int pytypes_unread_note(const struct snap *s, char *buf, size_t n);

/* A Python process's snapshot whose objects were not read (PYCAPPED): why
 * and how to have them, a phrase into buf (n bytes): 1; 0 when not so. */
int pytypes_capped_note(const struct snap *s, char *buf, size_t n);

/* Fills s->py from the PYTYPES payload (after BLOCKS); 0, or -1 with
 * "section PYTYPES: why" in err. */
int pytypes_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);
void pytypes_free(struct snap *s);

/* PYOWNED (after PYTYPES): fills s->py.block_owner; 0 (also with p NULL:
 * no PYOWNED), or -1 with "section PYOWNED: why" in err. */
int pytypes_decode_owned(struct snap *s, const uint8_t *p, uint64_t len, char *err,
                         size_t errlen);

/* out->py from the inputs' (a merge): out's blocks are the inputs' one
 * after the other; types interned by name; the graph kept when every
 * input with types has one.  Nothing without types or blocks; 0, or -1
 * out of memory (out->py then freed by pytypes_free). */
int pytypes_merge(struct snap *out, const struct snap *in, int n);
/* PYRETAIN: fills s->py.block_retained, block_idom,
 * block_held and the leaked references from its payload (after BLOCKS
 * and PYTYPES); 0, or -1 with "section PYRETAIN: why" in err. */
int pyretain_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);
/* What pyretain_decode filled, given back (a section dropped: every
 * block retains its own size again, no leaked references). */
void pyretain_drop(struct snap *s);
/* What pytypes_decode_owned filled, given back (no block owned). */
void pytypes_drop_owned(struct snap *s);
/* PYCODE and PYTYPES in that order, each when its payload is not NULL (a
 * section absent).  PYRETAIN, a derived section, is snap.c's to read
 * after them (pyretain_decode, with PYTYPES' graph). */
int pyobjs_decode(struct snap *s, const uint8_t *code, uint64_t code_len, const uint8_t *types,
                  uint64_t types_len, char *err, size_t errlen);

/* The name of block i's type, or NULL (no object, or no PYTYPES). */
const char *pytypes_of_block(const struct snap *s, uint64_t i);

#endif
