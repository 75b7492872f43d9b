/*
 * model.h - the reference model: a conservative scan of roots and live blocks
 * that gives every block a refcount and a class (reachable, possibly lost,
 * direct, indirect, cycle, ignored), and groups the leaks into loss records,
 * one per leak root, with the bytes each root owns indirectly.
 *
 * The model is pure: it reads memory through plain loads, allocates only
 * through the caller's ops->alloc, and knows nothing about threads, modules or
 * glibc.  The shim finds the roots, stops the world, and supplies an
 * is_alloc_meta callback that knows glibc's chunk layout; unit tests build
 * synthetic heaps in ordinary memory and fake the callback.
 */
#ifndef HSNAP_MODEL_H
#define HSNAP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "hsnap_format.h"

/* What a root range is (model_root.kind); kept for the retainer view. */
enum model_root_kind {
    MODEL_ROOT_DATA = 1,  /* a module's writable PT_LOAD (data, bss) */
    MODEL_ROOT_STACK = 2, /* a thread's stack, from its stack pointer up */
    MODEL_ROOT_REGS = 3,  /* a thread's saved registers */
    MODEL_ROOT_TLS = 4,   /* static or dynamic thread-local storage */
    MODEL_ROOT_USER = 5,  /* heapsnap_register_root() */
    MODEL_ROOT_MAPPED = 6, /* memory the program mapped itself (mmap, shmat) */
};

/* model_root.flags */
#define MODEL_ROOT_ALLOC_META 0x1u /* the allocator's own data (glibc .data):
                                      words naming the chunk after a block
                                      are not references */
#define MODEL_ROOT_RUNTIME 0x2u    /* the C or C++ runtime's own data (libc,
                                      libstdc++, ld.so...): what only it
                                      holds is HSNAP_CLASS_RUNTIME */
#define MODEL_ROOT_PRIVATE 0x4u    /* a private mapping's: a page it never wrote
                                      holds zeros or its file's bytes (the
                                      model ignores it: the caller's cut,
                                      roots_written) */

struct model_root {
    uintptr_t lo, hi; /* [lo, hi), readable; scanned by aligned words */
    uint32_t kind;    /* enum model_root_kind */
    uint32_t flags;   /* MODEL_ROOT_* */
    int32_t tid;      /* a thread's range: its tid (the holder view), else 0 */
    uintptr_t tp;     /* ... and its thread pointer, else 0 */
};

/*
 * The caller's services.  alloc/free carry the scratch memory (the shim's
 * mmap arena; malloc in tests); alloc returns NULL on failure.
 * is_alloc_meta(word, b, ctx) says whether `word`, found in an ALLOC_META
 * root and pointing into block b, is the allocator's pointer to the chunk
 * that follows b rather than a reference to b.  NULL means "never".
 */
struct model_ops {
    void *(*alloc)(size_t size, void *ctx);
    void (*free)(void *p, size_t size, void *ctx);
    int (*is_alloc_meta)(uintptr_t word, const struct hsnap_block *b, void *ctx);
    void *ctx;
    /* Optional (NULL: not called): the retainer view.  Called for each
     * reference found while marking live memory (phases 1-2), from a root
     * range (from = MODEL_FROM_ROOT, kind = its model_root.kind) or from
     * block `from` (kind 0).  first: this reference made `to` REACHABLE (it
     * is `to`'s first retainer; each reachable block has exactly one, except
     * ignored blocks, which are roots).  at: the referring word's address
     * (in the root range or in block from). */
    void (*on_ref)(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at,
                   void *ctx);
    /* Optional: each leaked block as a loss record claims it (phase 5),
     * with the record's root block (the direct block, or the cycle's
     * lowest-address member). */
    void (*on_owned)(uint32_t b, uint32_t root, void *ctx);
    /* Optional: called once in model_run, when phase 1 has marked what
     * the program's roots reach and before it reads the held blocks:
     * what on_ref and on_owned hear after it is what model_rerun would
     * repeat (the caller may hold those back until it knows). */
    void (*on_marked)(void *ctx);
    /* Memory that must not be read (a guard page the program made
     * PROT_NONE inside a block, a range it unmapped): sorted, disjoint
     * [lo, hi) ranges, or none.  Blocks and roots are scanned around them,
     * and such a block is flagged MODEL_BF_PARTIAL. */
    const struct model_range *holes;
    size_t nholes;
};
struct model_range {
    uintptr_t lo, hi;
};
#define MODEL_FROM_ROOT UINT32_MAX

/*
 * hsnap_block.flags after model_run (the scan's own mark bits are cleared):
 * which kinds of reference the block received, as stored in BLOCKS.
 */
#define MODEL_BF_START HSNAP_BLOCK_START
#define MODEL_BF_INTERIOR HSNAP_BLOCK_INTERIOR
#define MODEL_BF_ROOTREF HSNAP_BLOCK_ROOTREF
#define MODEL_BF_SELF HSNAP_BLOCK_SELF
#define MODEL_BF_PARTIAL HSNAP_BLOCK_PARTIAL
#define MODEL_BF_KEEP 0x1fu /* the bits above; the rest is scratch */

/*
 * Loss records and class totals are the LEAKS section's own structs
 * (hsnap_format.h): struct hsnap_leak_record, one per leak root (a direct
 * leak, or a leaked cycle no other leaked block points into) with what it
 * owns, and struct hsnap_leak_total.  Every direct, indirect and cycle block
 * belongs to exactly one record, so the records' sums equal the class
 * totals; where two roots reach the same block, the lower address owns it.
 */
#define MODEL_NCLASS (HSNAP_CLASS_RUNTIME + 1)
/* A class the caller set before model_run: held on purpose, a root. */
#define MODEL_HELD(cls) ((cls) == HSNAP_CLASS_IGNORED || (cls) == HSNAP_CLASS_RUNTIME)

struct model_result {
    struct hsnap_leak_total total[MODEL_NCLASS]; /* by enum hsnap_class */
    struct hsnap_leak_record *records;           /* ordered by root address */
    size_t nrecords;
    uint32_t *members;   /* cycle members, each cycle in cycle order */
    size_t nmembers;
    size_t scratch_peak; /* most scratch bytes held at once (not the output) */
    size_t out_bytes;    /* bytes held by records + members */
    uint32_t unstopped;  /* set by the caller before encoding: threads */
    uint64_t scan_ns;    /* not stopped, and the run's duration */
    uint64_t stop_ns;    /* set by the caller: the threads' hold (hsnap_leaks_head) */
};

/* hsnap_block.reserved on entry to model_run: 0, or the offset where the
 * object the program points at starts (a reference there is a start
 * reference, as one to the first byte), or this: every reference into the
 * block is a start reference (a library that hands out pointers past its
 * own header: gobj_mark). */
#define MODEL_START_ANY 0xffffu

/* model_run's return values */
#define MODEL_OK 0
#define MODEL_EINVAL (-1) /* blocks not sorted by address, or overlapping */
#define MODEL_ENOMEM (-2) /* ops->alloc failed; blocks' classes are invalid */

/*
 * Classify blocks[0..n), sorted by address and non-overlapping, against
 * roots[0..nroots).  On entry a block whose cls is HSNAP_CLASS_IGNORED or
 * HSNAP_CLASS_RUNTIME (MODEL_HELD) is held on purpose: it is a root itself
 * and keeps that class; every other
 * cls, refcount and flags value is overwritten.  On success fills each
 * block's cls, refcount and flags (MODEL_BF_*) and *out, which the caller
 * releases with model_result_free.
 *
 * Every range passed in, and every block's [addr, addr+size), must be
 * readable outside ops->holes.  The blocks array, the scratch and the result must not lie in a
 * root range or a block (they hold block addresses); the caller's own stack
 * range should end at model_run's caller's frame.
 */
int model_run(struct hsnap_block *blocks, size_t n, const struct model_root *roots,
              size_t nroots, const struct model_ops *ops, struct model_result *out);

/*
 * What model_rerun needs of a model_run: two bits a block, set as
 * on_marked is called (reached from the program's roots; an interior
 * reference met by then).  Mapped through ops->alloc; bits NULL: none.
 */
struct model_keep {
    uint64_t *bits;
    uint64_t *read; /* a bit a block: its words read as a root range's */
    size_t n;   /* the blocks it was made for */
    int spent;  /* a model_rerun used it (its bits changed) */
};

/* model_run that fills *keep as well (bits NULL when it could not be
 * allocated: model_rerun then refuses). */
int model_run_keep(struct hsnap_block *blocks, size_t n, const struct model_root *roots,
                   size_t nroots, const struct model_ops *ops, struct model_result *out,
                   struct model_keep *keep);

/*
 * After model_run_keep on the same blocks, roots and ops, with some
 * blocks the caller has since made held (MODEL_HELD; none the program's
 * roots reached): the answer a model_run would now give, *out included,
 * and the same calls to on_ref and on_owned as that run makes after its
 * on_marked, without reading again what the program's roots reach.  The
 * refcounts and reference flags are the first run's (every word is read
 * once in either run, whatever the classes).  Spends keep (once).
 * MODEL_ESTALE when keep does not fit (no bits, another n, spent, a held
 * block the roots reached): the caller runs model_run instead.
 */
#define MODEL_ESTALE (-3)
int model_rerun(struct hsnap_block *blocks, size_t n, const struct model_root *roots,
                size_t nroots, const struct model_ops *ops, struct model_keep *keep,
                struct model_result *out);

/* Release keep's bits and read; safe on a zeroed one. */
void model_keep_free(struct model_keep *keep, const struct model_ops *ops);

/* Release what model_run put in *out; safe on a zeroed result. */
void model_result_free(struct model_result *out, const struct model_ops *ops);

/*
 * After model_run, when the roots were not complete (a thread whose
 * registers could not be read): a block no root reached may be held in
 * one of them, so none is judged lost.  Every possibly lost, direct,
 * indirect and cycle block of b[0..n) becomes HSNAP_CLASS_IGNORED, its
 * class's total moves there, and the loss records are dropped.
 */
void model_result_unverified(struct hsnap_block *b, size_t n, struct model_result *out,
                             const struct model_ops *ops);

/*
 * Encode *r as the payload of a HSNAP_SEC_LEAKS section (grammar in
 * hsnap_format.h).  Returns the payload's size; writes it to buf only when
 * cap is at least that size, so call once with cap 0 to size the buffer.
 */
size_t model_result_encode(const struct model_result *r, void *buf, size_t cap);

#endif
