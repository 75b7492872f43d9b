/*
 * snappytypes.c - a snapshot's Python sections: PYTYPES (the Python
 * objects among the live blocks, typed), PYOWNED (the blocks each owns)
 * and PYRETAIN (their retained sizes), each sent to the side file as soon
 * as the Python room makes it, so that the snapshot never holds two of
 * them at once (snap_pytypes, called by snap_write); and
 * PYCAPPED, which says why a Python process's snapshot has none of them.
 */
#include <stddef.h>
#include <string.h>

#include "snapshot.h"
#include "pyretain.h"
#include "python.h"
#include "pyobjects.h"
#include "hsnap_pyformat.h"

static void snap_pytype_block(const struct hsnap_block *b, void *arg)
{
    (void)arg;
    py_types_block(b->addr, b->size);
}

/* A live block the objects' pass takes when BLOCKS, as the check wrote
 * it (snap_run.written, ascending as the walk is), has it at the same
 * address with the same size: a block freed since is not read (its
 * memory is another's by now), nor one born since or resized in place,
 * whose size would not be BLOCKS' (PYRETAIN's retained sizes are over
 * the pass's blocks).  *arg: where the last one was found. */
static void snap_pytype_written(const struct hsnap_block *b, void *arg)
{
    uint64_t *at = arg;
    while (*at < snap_run.nwritten && snap_run.written[*at].addr < b->addr)
        (*at)++;
    if (*at < snap_run.nwritten && snap_run.written[*at].addr == b->addr &&
        snap_run.written[*at].size == b->size)
        py_types_block(b->addr, b->size);
}

/* snap_run.pytyped's value while the early pass's blocks are unchecked. */
#define SNAP_TYPED_EARLY 2
_Static_assert(sizeof(struct snap_written) == 16 && offsetof(struct snap_written, size) == 8,
               "snap_run.written reads as py_types_blocks_are's pairs");

/* The typing pass a leak check's fork leaves its parent free for: while
 * the child scans and writes BLOCKS, the parent's thread would wait, and
 * after the answer it walked the table again to type BLOCKS' blocks
 * (snap_pytype_written), reading each one's head then, and built the
 * objects' graph.  So at exit the blocks are typed as the table has them
 * now, the graph is built from them and the leaked references are
 * counted over it (the longest part after the child's, for a big heap),
 * and snap_pytypes_early_keep
 * keeps that pass where its blocks are BLOCKS' exactly (a thread that
 * allocated or freed in between: typed again after the answer, as
 * before; snap_run.pytypes_early says why not before exit). */
void snap_pytypes_early(void)
{
    struct pend_left left = {0, 0};
    if (!snap_run.pytypes || !snap_run.pytypes_early || snap_run.pytyped || !snap_run.written ||
        py_types_begin(snap_run.pytypes) != 0)
        return;
    snap_run.pytyped = SNAP_TYPED_EARLY;
    if (bstream_blocks(snap_pytype_block, NULL, &left) != 0)
        snap_pytypes_early_keep(0);
    else
        py_types_build(snap_run.pytypes); /* the graph too: it needs no answer */
    if (snap_run.pytyped == SNAP_TYPED_EARLY)
        py_types_count_early(); /* the leaked references' scan: only its classes
                                 * need the answer (pyl_count_settle) */
}

void snap_pytypes_early_keep(int answered)
{
    if (snap_run.pytyped != SNAP_TYPED_EARLY)
        return;
    if (answered && snap_run.written &&
        py_types_blocks_are((const uint64_t(*)[2])(const void *)snap_run.written,
                            snap_run.nwritten)) {
        snap_run.pytyped = 1;
        opt_debug("python: objects typed while the leak check's fork ran", "", "");
        return;
    }
    if (answered)
        opt_debug("python: objects typed again: the blocks moved during the leak check", "", "");
    py_types_drop(snap_run.pytypes); /* typed again as BLOCKS streams, or after the answer */
    snap_run.pytyped = 0;
}

/* PYRETAIN streamed into the side file (pyr_retain_sink's). */
struct snap_retain {
    struct side_file *f;
    int begun;
};

static void snap_retain_begin(void *arg, uint64_t bytes)
{
    struct snap_retain *r = arg;
    side_sec_begin_planes(r->f, 0, bytes, sizeof(struct hsnap_pyretain)); /* as side_sec_whole */
    r->begun = 1;
}

static void snap_retain_put(void *arg, const void *p, size_t n)
{
    side_out(((struct snap_retain *)arg)->f, p, n);
}

/* PYTYPES streamed into the side file (side_sink_*), in planes, a run
 * per array (hsnap_pyformat.h), as side_sec_whole would put it. */
static void snap_types_end(void *arg)
{
    side_sec_end(arg, HSNAP_SEC_PYTYPES, NULL, 0);
}

/* PYOWNED streamed into the side file (py_types_owned's), as
 * side_sec_whole would put it. */
static void snap_owned_begin(void *arg, uint64_t bytes)
{
    side_sec_begin(arg, 0, bytes);
}

static void snap_owned_end(void *arg)
{
    side_sec_end(arg, HSNAP_SEC_PYOWNED, NULL, 0);
}

/* PYTYPES: the Python objects among the live blocks (by address, as
 * BLOCKS has them), typed by the Python room as the streamed BLOCKS went
 * by (snap_run.pytyped), else in a walk of their own; none when it has
 * none.  With the side file, PYTYPES is streamed there as soon as the
 * graph is built, PYOWNED from the owners' array once made (never built
 * whole): their memory is given back before the retained sizes' pass,
 * the stop's peak; PYRETAIN goes there as that pass makes it
 * (pyr_retain_sink).  1 when PYTYPES was made. */
int snap_pytypes(struct side_file *side, struct sbuf *b, struct sbuf *owned)
{
    struct pend_left left = {0, 0};
    int typed = snap_run.pytyped;
    snap_run.pytyped = 0;
    if (!typed && py_types_begin(b) != 0)
        return 0;
    uint64_t at = 0; /* snap_pytype_written's place in snap_run.written */
    if (!typed && bstream_blocks(snap_run.nwritten ? snap_pytype_written : snap_pytype_block,
                                 &at, &left) != 0)
        b->err = 1;
    snap_written_drop();
    struct sec_sink ts = {side_sink_planes, side_sink_run, side_sink_put, snap_types_end, side};
    int streamed = py_types_end(b, owned, side->fd >= 0 ? &ts : NULL);
    if (b->err || owned->err)
        sbuf_free(owned);
    if (b->err)
        sbuf_free(b); /* a snapshot without types rather than none */
    int made = streamed || b->len != 0;
    if (made && side->fd >= 0) {
        if (b->len)
            side_sec_whole(side, HSNAP_SEC_PYTYPES, b->p, b->len);
        struct sec_sink os = {snap_owned_begin, NULL, side_sink_put, snap_owned_end, side};
        py_types_owned(&os);
        sbuf_free(b);
        sbuf_free(owned);
    }
    /* PYRETAIN to the side file as it is made: never held whole */
    struct snap_retain sr = {side, 0};
    struct sec_sink sink = {snap_retain_begin, NULL, snap_retain_put, NULL, &sr};
    pyr_retain_sink(made && side->fd >= 0 ? &sink : NULL);
    py_types_retain();
    pyr_retain_sink(NULL);
    if (sr.begun)
        side_sec_end(side, HSNAP_SEC_PYRETAIN, NULL, 0);
    return made;
}

/* s into out at *k (cap bytes in all, room for a NUL kept). */
static void snap_cat(char *out, size_t *k, size_t cap, const char *s)
{
    for (; *s && *k + 1 < cap; s++)
        out[(*k)++] = *s;
    out[*k] = 0;
}

void snap_pycapped(struct sbuf *b, uint64_t blocks)
{
    static int warned; /* under the snapshot lock */
    long cap = opt_int(OPT_PYTHON_OBJECTS);
    char line[256], n[24], c[24];
    size_t k = 0;
    if (cap <= 0 || blocks <= (uint64_t)cap || !py_types_can())
        return;
    struct hsnap_pycapped p = {blocks, (uint64_t)cap};
    sbuf_put(b, &p, sizeof p);
    if (warned)
        return;
    warned = 1;
    n[opt_fmt_u64(n, blocks)] = 0;
    c[opt_fmt_u64(c, (uint64_t)cap)] = 0;
    snap_cat(line, &k, sizeof line, n);
    snap_cat(line, &k, sizeof line, " live blocks, over HEAPSNAP_PYTHON_OBJECTS=");
    snap_cat(line, &k, sizeof line, c);
    snap_cat(line, &k, sizeof line, ": no types, no graph; raise it (HEAPSNAP_PYTHON_OBJECTS=");
    snap_cat(line, &k, sizeof line, n);
    snap_cat(line, &k, sizeof line, " or more)");
    opt_warn("Python objects not read in a snapshot: ", line, "");
}
