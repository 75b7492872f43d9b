/*
 * zsec.c - a section's payload compressed as it is written: one zstd frame
 * per section (HSNAP_SEC_ZSTD), fed in pieces, its output
 * handed to a sink each time the output buffer fills, so that no section
 * is held whole, compressed or not.  One compression context a thread
 * serves every section it writes; it lives in the shim's own memory
 * (zstd's custom allocator over arena_map: straight mmaps, which the leak
 * check's fork may call too, never the host's malloc) and is released once
 * the snapshot is written (zsec_release): between snapshots the process keeps none of it.
 * The window, hash and chain tables are capped at 2^ZSEC_LOG entries or
 * bytes, so the context stays a few hundred KiB at any level (zsec_begin's
 * comment).  Frames carry no content checksum: the section's crc32 is
 * checked before a frame is read, so a second hash of every byte
 * compressed (XXH64) buys nothing at a cost each exit pays
 * (scripts/bench/exitcount.py).  zstd is linked in statically, its
 * symbols local (exports.map).  Callers hold the snapshot lock.  Prefix zsec_.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: the library is linked in */
#include <string.h>
#include <zstd.h>

#include "snapshot.h"

#define ZSEC_LOG 16   /* windowLog, and the hash and chain logs' bound */
#define ZSEC_HDR 16u  /* zsec_alloc's size header, keeps 16-byte alignment */
#define ZSEC_HINT_MAX (1u << 30) /* zsec_begin's hints above it: none */
/* zstd's blocks at most this long (ZSTD_c_maxBlockSize; the window alone
 * caps them at 2^ZSEC_LOG): a block's sequences and literals are held
 * whole while it is made, so its bound is most of the context's memory,
 * and each block's entropy tables fit the records it holds, which packs
 * BLOCKS' chunks tighter than blocks twice as long (docs/performance.md).
 * The output buffer is as big: a sink's write each time it fills. */
#define ZSEC_BLOCK (32u * 1024u)
#define ZSEC_OUT (32u * 1024u)

/* The thread's own (a snapshot's second thread compresses its sections
 * beside the first: snap_apart_start); each thread that fed one releases it. */
static __thread struct {
    ZSTD_CCtx *cc;     /* NULL until the snapshot's first section */
    int level;         /* the level cc was set up for */
    char *out;         /* the output buffer, out_cap bytes */
    size_t out_cap;
} zs;

static void *zsec_alloc(void *opaque, size_t n)
{
    (void)opaque;
    size_t *p = arena_map(n + ZSEC_HDR);
    if (!p)
        return NULL;
    p[0] = n + ZSEC_HDR;
    return (char *)p + ZSEC_HDR;
}

static void zsec_free(void *opaque, void *q)
{
    (void)opaque;
    if (!q)
        return;
    size_t *p = (size_t *)(void *)((char *)q - ZSEC_HDR);
    arena_unmap(p, p[0]);
}

/* The level for new sections: HEAPSNAP_COMPRESS, 0 = store them raw. */
int zsec_level(void)
{
    return (int)opt_int(OPT_COMPRESS);
}

static int zsec_setup(int level)
{
    ZSTD_compressionParameters cp = ZSTD_getCParams(level, 0, 0);
    ZSTD_CCtx *cc = zs.cc;
    if (!cc) {
        ZSTD_customMem mem = {zsec_alloc, zsec_free, NULL};
        if (!(cc = ZSTD_createCCtx_advanced(mem)))
            return -1;
        zs.out_cap = ZSEC_OUT;
        if (!(zs.out = arena_map(zs.out_cap))) {
            ZSTD_freeCCtx(cc);
            return -1;
        }
        zs.cc = cc;
        zs.level = -1;
    }
    if (zs.level == level)
        return 0;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, ZSEC_LOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_hashLog,
                                            cp.hashLog < ZSEC_LOG ? cp.hashLog : ZSEC_LOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_chainLog,
                                            cp.chainLog < ZSEC_LOG ? cp.chainLog : ZSEC_LOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0)))
        return -1;
    /* experimental in zstd: a library without it keeps its own bound */
    (void)ZSTD_CCtx_setParameter(cc, ZSTD_c_maxBlockSize, ZSEC_BLOCK);
    zs.level = level;
    return 0;
}

/* A new frame at level (> 0), of size bytes (ZSEC_UNKNOWN: not known yet;
 * else the frame records it); hint: about how many when the size is not
 * known (0: no idea).  zstd fits its window and buffers to the size or
 * the hint, so a small program's snapshot maps and touches a few KiB of
 * context, not the MiB a big heap's takes.  0, or -1: the section is to
 * be stored raw. */
int zsec_begin(int level, uint64_t size, uint64_t hint)
{
    if (zsec_setup(level) != 0)
        return -1;
    ZSTD_CCtx_reset(zs.cc, ZSTD_reset_session_only);
    if (size != ZSEC_UNKNOWN)
        return ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(zs.cc, (unsigned long long)size)) ? -1 : 0;
    if (hint > ZSEC_HINT_MAX)
        hint = 0; /* big: the capped window anyway */
    return ZSTD_isError(ZSTD_CCtx_setParameter(zs.cc, ZSTD_c_srcSizeHint, (int)hint)) ? -1 : 0;
}

/* Compresses n bytes of p into the open frame, and with end set closes
 * it; every full output buffer goes to sink(arg, bytes, len), which
 * returns 0 or -1.  0, or -1 (a zstd error or the sink's). */
int zsec_feed(const void *p, size_t n, int end, int (*sink)(void *, const void *, size_t),
              void *arg)
{
    ZSTD_inBuffer in = {p, n, 0};
    ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
        ZSTD_outBuffer out = {zs.out, zs.out_cap, 0};
        size_t left = ZSTD_compressStream2(zs.cc, &out, &in, mode);
        if (ZSTD_isError(left))
            return -1;
        if (out.pos && sink(arg, zs.out, out.pos) != 0)
            return -1;
        if (end ? left == 0 : in.pos == in.size)
            return 0;
    }
}

/* The context and its buffer go back to the kernel (the end of a
 * snapshot; in the leak check's fork, its exit does it). */
void zsec_release(void)
{
    if (zs.cc)
        ZSTD_freeCCtx(zs.cc);
    arena_unmap(zs.out, zs.out_cap);
    memset(&zs, 0, sizeof zs);
}

/* zstd's tracing hooks, weak in the library: defined here (hidden), so
 * that a host's own definitions never see the shim's compression. */
unsigned long long ZSTD_trace_compress_begin(const struct ZSTD_CCtx_s *cctx);
void ZSTD_trace_compress_end(unsigned long long ctx, const void *trace);

unsigned long long ZSTD_trace_compress_begin(const struct ZSTD_CCtx_s *cctx)
{
    (void)cctx;
    return 0;
}

void ZSTD_trace_compress_end(unsigned long long ctx, const void *trace)
{
    (void)ctx;
    (void)trace;
}
