/*
 * mkbomb.c - writes small files that declare huge sizes (issue 44's
 * decompression bombs), for test_bombs.sh and the fuzzer's seeds:
 *   mkbomb traces OUT   a snapshot whose compressed TRACES claims
 *                       0x0fffffff traces over a zstd frame of 2 GiB of zeros
 *   mkbomb frame8g OUT  a snapshot whose compressed STATS is a frame of 8 GiB
 *   mkbomb liar OUT     a compressed TRACES that declares 48 MiB (6 Mi empty
 *                       traces) over a frame of unknown size holding 2 GiB
 *   mkbomb state OUT    a state file whose document's compressed STATS is a
 *                       frame of 2 GiB of zeros
 *   mkbomb sparse OUT   a sparse state file (2 GiB apparent, a few KB on
 *                       disk) that claims 0x0fffffff traces
 * The snapshots are snap_writer.h's w_bomb (tests/fuzz/mkcorpus.c writes
 * them as seeds too).
 * Build: cc -Ishim tests/report/load/mkbomb.c -o mkbomb -lz
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "../../fuzz/snap_writer.h"
#include "hsnap_state.h"

/* A state file around the document doc (dlen bytes): sparse, with
 * stacks_n traces claimed over a traces region of 8 bytes each. */
static int w_state(const char *path, const uint8_t *doc, uint64_t dlen, uint32_t stacks_n)
{
    struct hsnap_state_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, HSTATE_MAGIC, 8);
    h.version = HSTATE_VERSION;
    h.header_size = HSTATE_PAGE;
    h.pid = 4242;
    h.ppid = 1;
    h.start_ns = 1700000000000000000ull;
    h.beat_ns = h.start_ns + 1000000000ull;
    h.beats = 1;
    h.state = HSTATE_RUNNING;
    h.cells_off = HSTATE_PAGE;
    h.doc_cap = (dlen + 4095) & ~4095ull;
    h.doc_off[0] = HSTATE_PAGE;
    h.doc_off[1] = HSTATE_PAGE + h.doc_cap;
    h.stacks_off = h.doc_off[1] + h.doc_cap;
    h.traces_off = h.stacks_off;
    h.traces_cap = (uint64_t)stacks_n * 8;
    h.stacks_n = stacks_n;
    h.file_size = h.traces_off + h.traces_cap;
    h.doc[0] = (struct hsnap_state_doc){dlen, h.beat_ns, (uint32_t)crc32(0L, doc, (uInt)dlen), 0};
    h.doc_slot = 0;
    h.docs = 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0 && ftruncate(fd, (off_t)h.file_size) == 0 &&
             pwrite(fd, &h, sizeof h, 0) == (ssize_t)sizeof h &&
             pwrite(fd, doc, dlen, (off_t)h.doc_off[0]) == (ssize_t)dlen;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (!ok)
        perror(path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct wbuf w = {0};
    const char *k = argc == 3 ? argv[1] : "";
    int rc = 1;
    if (!strcmp(k, "traces") || !strcmp(k, "frame8g") || !strcmp(k, "liar")) {
        w_bomb(&w, k);
        FILE *f = fopen(argv[2], "wb");
        rc = !f || fwrite(w.p, 1, w.len, f) != w.len;
        if (f && fclose(f) != 0)
            rc = 1;
    } else if (!strcmp(k, "state") || !strcmp(k, "sparse")) {
        w_bomb(&w, !strcmp(k, "state") ? "doc" : "emptydoc");
        rc = w_state(argv[2], w.p, w.len, !strcmp(k, "state") ? 0 : 0x0fffffff);
    } else {
        fprintf(stderr, "usage: mkbomb traces|frame8g|liar|state|sparse OUT\n");
        return 2;
    }
    free(w.p);
    return rc;
}
