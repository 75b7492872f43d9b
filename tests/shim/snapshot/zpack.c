/*
 * zpack.c - rewrites a valid .hsnap with its sections compressed as format
 * 3 stores them (shim/hsnap_format.h: HSNAP_SEC_ZSTD, struct hsnap_zhead,
 * one zstd frame), independently of the shim's writer; optionally damages
 * the compressed TRACES section (or BLOCKS: "nosize"), its checksum
 * recomputed so that only the reader's decompression checks stand.
 *
 * Usage: zpack IN OUT MODE
 *   pack    every section but META and END compressed: BLOCKS as the shim
 *           streams it (its count as the head, no content size in the
 *           frame), the others one frame with their content size
 *   flip    pack, then a byte of TRACES' frame changed
 *   more    pack, TRACES declaring one byte less than its frame holds
 *   less    pack, TRACES declaring one byte more
 *   trail   pack, three bytes after TRACES' frame
 *   cut     pack, TRACES' frame without its last five bytes
 *   head    pack, TRACES' head_len 65 (over HSNAP_ZHEAD_MAX)
 *   nosize  pack, BLOCKS (no content size) declaring 32 bytes less
 *   huge    pack, BLOCKS declaring 1 TiB more (read without allocating it)
 *   v2      pack, the header saying format 2
 *   packed  pack, BLOCKS' records packed (HSNAP_ZHEAD_PACKED, hsnap_packed.h)
 *           in chunks of 5, the header saying format 6
 *   packbad packed, BLOCKS' first chunk with a byte more than its records take
 *   formed  pack, BLOCKS' records in formed chunks of 5 (HSNAP_ZHEAD_FORMED,
 *           hsnap_packed_put_formed), the header saying format 7
 *   formbad formed, BLOCKS' first chunk's form with a bit no form has
 * Build: cc -Ishim tests/shim/snapshot/zpack.c -o zpack -lz -lzstd
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "hsnap_format.h"
#include "hsnap_packed.h"

static unsigned char *out;
static size_t olen, ocap;

static void put(const void *p, size_t n)
{
    if (olen + n > ocap) {
        ocap = (olen + n) * 2;
        if (!(out = realloc(out, ocap)))
            exit(3);
    }
    memcpy(out + olen, p, n);
    olen += n;
}

/* One frame of p[0..n); with nosize, streamed without a content size. */
static size_t frame(const unsigned char *p, size_t n, unsigned char *dst, size_t cap, int nosize)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    ZSTD_inBuffer in = {p, n, 0};
    ZSTD_outBuffer o = {dst, cap, 0};
    if (!nosize)
        ZSTD_CCtx_setPledgedSrcSize(cc, n);
    if (n)
        ZSTD_compressStream2(cc, &o, &in, ZSTD_e_continue); /* size unknown to the frame */
    size_t r;
    while ((r = ZSTD_compressStream2(cc, &o, &in, ZSTD_e_end)) != 0)
        if (ZSTD_isError(r))
            exit(3);
    ZSTD_freeCCtx(cc);
    return o.pos;
}

static void section(uint32_t type, const unsigned char *p, uint64_t n, const char *mode)
{
    if (type == HSNAP_SEC_META || type == HSNAP_SEC_END) {
        struct hsnap_section h = {type, (uint32_t)crc32(0, p, (uInt)n), n};
        put(&h, sizeof h);
        put(p, n);
        return;
    }
    int blocks = type == HSNAP_SEC_BLOCKS, traces = type == HSNAP_SEC_TRACES;
    int formed = blocks && (!strcmp(mode, "formed") || !strcmp(mode, "formbad"));
    int packed = formed || (blocks && (!strcmp(mode, "packed") || !strcmp(mode, "packbad")));
    uint32_t head = blocks ? 8 : 0;
    size_t cap = ZSTD_compressBound(2 * n) + 64;
    unsigned char *buf = malloc(sizeof(struct hsnap_zhead) + head + cap + 8);
    struct hsnap_zhead zh = {n, head, formed ? HSNAP_ZHEAD_FORMED : packed ? HSNAP_ZHEAD_PACKED : 0};
    const unsigned char *content = p + head;
    size_t clen = n - head;
    unsigned char *pk = NULL;
    if (packed) { /* chunks of 5 records: u32 count, u32 bytes, the records packed */
        const struct hsnap_block *b = (const void *)(p + head);
        uint32_t count = (uint32_t)(clen / sizeof *b);
        pk = malloc((size_t)count * (HSNAP_PACKED_MOST + HSNAP_PACKED_HEAD + HSNAP_PACKED_LEAD) + 16);
        clen = 0;
        for (uint32_t i = 0; i < count; i += 5) {
            uint32_t k = count - i < 5 ? count - i : 5, h[2] = {k, 0};
            h[1] = (uint32_t)(formed ? hsnap_packed_put_formed : hsnap_packed_put)(
                pk + clen + sizeof h, b + i, k);
            if (!i && !strcmp(mode, "packbad"))
                pk[clen + sizeof h + h[1]++] = 0;
            if (!i && !strcmp(mode, "formbad"))
                pk[clen + sizeof h] |= 0x40;
            memcpy(pk + clen, h, sizeof h);
            clen += sizeof h + h[1];
        }
        content = pk;
    }
    size_t f = frame(content, clen, buf + sizeof zh + head, cap, blocks);
    free(pk);
    memcpy(buf + sizeof zh, p, head);
    unsigned char *fr = buf + sizeof zh + head;
    if (traces && !strcmp(mode, "flip"))
        fr[f / 2] ^= 0x55;
    if (traces && !strcmp(mode, "more"))
        zh.raw_len--;
    if (traces && !strcmp(mode, "less"))
        zh.raw_len++;
    if (traces && !strcmp(mode, "trail"))
        memcpy(fr + f, "abc", 3), f += 3;
    if (traces && !strcmp(mode, "cut"))
        f -= 5;
    if (traces && !strcmp(mode, "head"))
        zh.head_len = HSNAP_ZHEAD_MAX + 1;
    if (blocks && !strcmp(mode, "nosize"))
        zh.raw_len -= 32;
    if (blocks && !strcmp(mode, "huge"))
        zh.raw_len += 1ull << 40;
    memcpy(buf, &zh, sizeof zh);
    size_t len = sizeof zh + head + f;
    struct hsnap_section h = {type | HSNAP_SEC_ZSTD, (uint32_t)crc32(0, buf, (uInt)len), len};
    put(&h, sizeof h);
    put(buf, len);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: zpack IN OUT pack|flip|more|less|trail|cut|head|nosize|huge|v2|packed|"
                        "packbad|formed|formbad\n");
        return 2;
    }
    FILE *fi = fopen(argv[1], "rb");
    static unsigned char in[64 << 20];
    size_t n = fi ? fread(in, 1, sizeof in, fi) : 0;
    if (!fi || n < sizeof(struct hsnap_header)) {
        fprintf(stderr, "zpack: cannot read %s\n", argv[1]);
        return 2;
    }
    struct hsnap_header hd;
    memcpy(&hd, in, sizeof hd);
    const char *m = argv[3];
    hd.version = !strcmp(m, "v2") ? 2
                 : !strcmp(m, "packed") || !strcmp(m, "packbad") ? 6
                 : !strcmp(m, "formed") || !strcmp(m, "formbad") ? 7
                                                                 : 3;
    put(&hd, sizeof hd);
    for (size_t off = sizeof hd; off + sizeof(struct hsnap_section) <= n;) {
        struct hsnap_section h;
        memcpy(&h, in + off, sizeof h);
        off += sizeof h;
        if (h.length > n - off || (h.type & HSNAP_SEC_ZSTD)) {
            fprintf(stderr, "zpack: %s: not a plain snapshot\n", argv[1]);
            return 2;
        }
        section(h.type, in + off, h.length, argv[3]);
        off += h.length;
        if (h.type == HSNAP_SEC_END)
            break;
    }
    hd.file_size = olen;
    memcpy(out, &hd, sizeof hd);
    FILE *fo = fopen(argv[2], "wb");
    if (!fo || fwrite(out, 1, olen, fo) != olen || fclose(fo) != 0) {
        perror(argv[2]);
        return 2;
    }
    return 0;
}
