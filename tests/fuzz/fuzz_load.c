/*
 * fuzz_load.c - libFuzzer target for the snapshot reader: any input must
 * either load or be refused with a one-line reason; a loaded snapshot is
 * walked end to end (every ip, stat, block, point, module string, leak
 * record and cycle member) so that
 * ASan sees any index the validation let through.  An input that starts
 * with the state file's magic (shim/hsnap_state.h) goes through a memfd
 * to snap_load, which reads state files from their descriptor (report/
 * state.c), once as it is and once with its size and its document's crc
 * repaired, and through state_sums_read (serve's read of the live sums
 * alone).  `make fuzz` runs it; its seeds include real state files of a
 * killed program (corpus/*.state, tests/fuzz/mkstate.sh).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "hsnap_state.h"
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fmt.h"
#include "lset.h"
#include "snap.h"
#include "stateread.h"

static volatile uint64_t sink;

static void walk(const struct snap *s)
{
    uint64_t acc = s->meta.pid + strlen(s->cmdline) + strlen(s->exe);
    for (uint32_t i = 0; i < s->nmodules; i++) {
        acc += strlen(s->modules[i].path) + s->modules[i].hi - s->modules[i].lo;
        for (int b = 0; b < s->modules[i].build_id_len; b++)
            acc += s->modules[i].build_id[b];
    }
    for (uint32_t t = 0; t < s->ntraces; t++) {
        for (int d = 0; d < s->traces[t].depth; d++)
            acc += snap_ip(s, &s->traces[t], d) +
                   (snap_module_at(s, snap_ip(s, &s->traces[t], d)) != NULL);
        acc += s->stats[t].live_bytes + s->stats[t].live_count;
    }
    for (uint64_t b = 0; b < s->nblocks; b++)
        acc += s->blocks[b].size + s->stats[s->blocks[b].trace].total_count;
    for (uint32_t p = 0; p < s->npoints; p++)
        acc += s->points[p].bytes;
    for (uint64_t l = 0; l < s->leaks_len; l++)
        acc += s->leaks[l];
    for (uint32_t r = 0; r < s->lk.head.nrecords; r++) { /* what `leaks` reads */
        const struct hsnap_leak_record *lr = &s->lk.records[r];
        acc += s->blocks[lr->root].size + lr->own_bytes;
        for (uint32_t m = 0; lr->cls == HSNAP_CLASS_CYCLE && m < lr->nmembers; m++)
            acc += s->blocks[lset_member(s, lr->members_off + m)].trace;
    }
    for (uint32_t r = 0; r < s->nretainers; r++)
        acc += s->stats[s->retainers[r].target_trace].live_bytes + s->retainers[r].refs;
    char buf[64];
    fmt_size(buf, sizeof(buf), (double)s->meta.current_bytes, 0);
    sink = acc + (uint64_t)buf[0];
}

/* Mutations almost never keep checksums right, so most inputs would stop at
 * the first crc check.  Each input is also tried with file_size and every
 * section's crc32 repaired, which lets the fuzzer reach the payload parsers. */
static void repair(uint8_t *p, size_t len)
{
    struct hsnap_header h;
    struct hsnap_section sh;
    if (len < sizeof(h))
        return;
    memcpy(&h, p, sizeof(h));
    h.file_size = len;
    memcpy(p, &h, sizeof(h));
    size_t off = h.header_size >= sizeof(h) && h.header_size <= len ? h.header_size : sizeof(h);
    while (len - off >= sizeof(sh)) {
        memcpy(&sh, p + off, sizeof(sh));
        off += sizeof(sh);
        if (sh.length > len - off)
            return;
        sh.crc32 = (uint32_t)crc32(0L, p + off, (uInt)sh.length);
        memcpy(p + off - sizeof(sh), &sh, sizeof(sh));
        off += sh.length;
    }
}

static void try_load(const uint8_t *data, size_t size)
{
    struct snap s;
    char err[512];
    if (snap_load_mem(data, size, &s, err, sizeof(err)) == 0) {
        walk(&s);
        snap_free(&s);
    } else if (!err[0] || strchr(err, '\n')) {
        __builtin_trap(); /* a refusal must say why, on one line */
    }
    /* as run's summary reads it: STATS' rows of the mmap kind alone
     * (snap.c's stats_pick), the sections it never prints left stored */
    struct snap_budget b;
    snap_budget_init(&b, size);
    b.skip = SNAP_SKIP_LINES | SNAP_SKIP_EXTRAS | SNAP_SKIP_PYOBJ | SNAP_SEC(RETAINERS) |
             SNAP_SEC(HOLDERS) | SNAP_SKIP_STATS_UNMAPPED;
    err[0] = 0;
    if (snap_load_mem_within(data, size, &b, &s, err, sizeof(err)) == 0) {
        walk(&s);
        snap_free(&s);
    } else if (!err[0] || strchr(err, '\n')) {
        __builtin_trap();
    }
}

/* A state file: its size, and the published document's crc, made right. */
static void repair_state(uint8_t *p, size_t len)
{
    struct hsnap_state_head h;
    if (len < sizeof(h))
        return;
    memcpy(&h, p, sizeof(h));
    h.file_size = len;
    uint32_t k = h.doc_slot & 1;
    if (h.doc_off[k] <= len && h.doc[k].len <= len - h.doc_off[k])
        h.doc[k].crc32 = (uint32_t)crc32(0L, p + h.doc_off[k], (uInt)h.doc[k].len);
    memcpy(p, &h, sizeof(h));
}

static void try_state(const uint8_t *data, size_t size)
{
    struct snap s;
    char err[512], path[64];
    int fd = memfd_create("fuzz-state", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (snap_load(path, &s, err, sizeof(err)) == 0) {
            walk(&s);
            snap_free(&s);
        } else if (!err[0] || strchr(err, '\n')) {
            __builtin_trap();
        }
        /* the live sums alone, as heapsnap serve reads them between whole reads */
        struct state_sums ss;
        err[0] = 0;
        if (state_sums_read(fd, 0, &ss, err, sizeof(err)) == 0)
            state_sums_free(&ss);
        else if (!err[0] || strchr(err, '\n'))
            __builtin_trap();
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8 && !memcmp(data, HSTATE_MAGIC, 8)) {
        try_state(data, size);
        uint8_t *c = malloc(size);
        if (c) {
            memcpy(c, data, size);
            repair_state(c, size);
            try_state(c, size);
            free(c);
        }
        return 0;
    }
    try_load(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    repair(copy, size);
    try_load(copy, size);
    free(copy);
    return 0;
}
