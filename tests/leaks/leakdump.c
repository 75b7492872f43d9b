/*
 * leakdump.c - the leak tests' own reader of .hsnap files (independent of
 * report/): prints what the in-process leak check wrote, in lines a shell
 * test can grep.  Blocks are named by their requested size, which the
 * fixtures choose to be unique per role.
 *
 *   flags <meta flags>            HAS_LEAKS = 4
 *   total <class> <blocks> <bytes>   one per class 0..6 (LEAKS totals)
 *   unstopped <n>
 *   record <cls> <root size> <own blocks> <own bytes> <ind blocks> <ind bytes>
 *   block <size> <cls> <refcount> <flags>   (cls: 1 reach 2 possible 3 direct
 *                                            4 indirect 5 cycle 6 ignored)
 *   ret <target> <kind> <source> <refs> <blocks> <bytes>
 *        target/source: the smallest block size of that trace ("-": none)
 * Exit 2 on a malformed file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsnap_format.h"

static unsigned char *buf;
static size_t len;
static const struct hsnap_block *blk;
static uint64_t nblk;

static void die(const char *why)
{
    fprintf(stderr, "leakdump: %s\n", why);
    exit(2);
}

static const unsigned char *section(uint32_t type, uint64_t *slen)
{
    size_t off = sizeof(struct hsnap_header);
    while (off + sizeof(struct hsnap_section) <= len) {
        struct hsnap_section s;
        memcpy(&s, buf + off, sizeof s);
        off += sizeof s;
        if (s.length > len - off)
            die("section overruns the file");
        if (s.type == type) {
            *slen = s.length;
            return buf + off;
        }
        off += s.length;
    }
    return NULL;
}

/* The smallest block size of trace t, or -1. */
static long long trace_size(uint32_t t)
{
    long long best = -1;
    for (uint64_t i = 0; i < nblk; i++)
        if (blk[i].trace == t && (best < 0 || (long long)blk[i].size < best))
            best = (long long)blk[i].size;
    return best;
}

static void put_size(long long v)
{
    if (v < 0)
        printf(" -");
    else
        printf(" %lld", v);
}

int main(int argc, char **argv)
{
    FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
    if (!f)
        die("usage: leakdump FILE");
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    rewind(f);
    buf = malloc(len ? len : 1);
    if (fread(buf, 1, len, f) != len || len < sizeof(struct hsnap_header) ||
        memcmp(buf, HSNAP_MAGIC, HSNAP_MAGIC_LEN))
        die("not a snapshot");
    uint64_t sl;
    const unsigned char *p = section(HSNAP_SEC_META, &sl);
    struct hsnap_meta m;
    if (!p || sl < sizeof m)
        die("no META");
    memcpy(&m, p, sizeof m);
    printf("flags %u\n", m.flags);
    p = section(HSNAP_SEC_BLOCKS, &sl);
    if (p) {
        memcpy(&nblk, p, 8);
        if (nblk > (sl - 8) / sizeof(struct hsnap_block))
            die("bad BLOCKS");
        blk = (const struct hsnap_block *)(p + 8);
    }
    p = section(HSNAP_SEC_LEAKS, &sl);
    if (p) {
        struct hsnap_leaks_head h;
        memcpy(&h, p, sizeof h);
        if (sl != sizeof h + 16ull * h.nclass + sizeof(struct hsnap_leak_record) * h.nrecords +
                      4ull * h.nmembers)
            die("bad LEAKS length");
        const struct hsnap_leak_total *t = (const void *)(p + sizeof h);
        for (uint32_t c = 0; c < h.nclass; c++)
            printf("total %u %llu %llu\n", c, (unsigned long long)t[c].blocks,
                   (unsigned long long)t[c].bytes);
        printf("unstopped %u\n", h.unstopped);
        const struct hsnap_leak_record *r = (const void *)(t + h.nclass);
        for (uint32_t i = 0; i < h.nrecords; i++) {
            if (r[i].root >= nblk)
                die("bad record root");
            printf("record %u %llu %llu %llu %llu %llu\n", r[i].cls,
                   (unsigned long long)blk[r[i].root].size, (unsigned long long)r[i].own_blocks,
                   (unsigned long long)r[i].own_bytes, (unsigned long long)r[i].indirect_blocks,
                   (unsigned long long)r[i].indirect_bytes);
        }
    }
    for (uint64_t i = 0; i < nblk; i++)
        printf("block %llu %u %u %u\n", (unsigned long long)blk[i].size, blk[i].cls,
               blk[i].refcount, blk[i].flags);
    p = section(HSNAP_SEC_RETAINERS, &sl);
    if (p) {
        uint32_t n;
        memcpy(&n, p, 4);
        if (sl != 8 + 40ull * n)
            die("bad RETAINERS length");
        const struct hsnap_retainer *r = (const void *)(p + 8);
        for (uint32_t i = 0; i < n; i++) {
            printf("ret");
            put_size(trace_size(r[i].target_trace));
            printf(" %u", r[i].source_kind);
            put_size(r[i].source_kind ? -1 : trace_size(r[i].source_trace));
            printf(" %llu %llu %llu\n", (unsigned long long)r[i].refs,
                   (unsigned long long)r[i].blocks, (unsigned long long)r[i].bytes);
        }
    }
    return 0;
}
