/*
 * mkcorpus.c - writes small valid snapshots (the fuzzer's seeds, and inputs
 * for the CLI error tests) with the independent test writer.
 * (The compressed seeds, corpus/zstd_*.hsnap, are tests/shim/snapshot/zpack.c's pack of
 * blocks, leaks and siteline, zstd_packed.hsnap its packed of leaks, zstd_formed.hsnap
 * and zstd_formed_blocks.hsnap its formed of leaks and blocks, zstd_formed_bad_form.hsnap
 * its formbad of blocks; real_kept_v6.hsnap and real_kept_v7.hsnap are the shim's, before
 * formed chunks and after: test_compress.sh; real_mapped.hsnap the shim's of mapped_seed.c,
 * whose STATS is compressed and has a trace of the mmap kind: snap.c's stats_pick, run's
 * summary's read, made by `gcc -O1 -g -fno-omit-frame-pointer tests/fuzz/mapped_seed.c` and
 * `setarch -R heapsnap run -q -o real_mapped.hsnap -- ./a.out`.)
 * Usage: mkcorpus DIR   -> DIR/minimal.hsnap DIR/blocks.hsnap DIR/unknown.hsnap
 *                          DIR/leaks.hsnap (the writer's leak heap, with LEAKS)
 *                          DIR/leaks_noframes.hsnap (the same, trace 2 without frames)
 *                          DIR/siteline.hsnap (format 2's SITELINE)
 *                          DIR/pytypes.hsnap (blocks with PYTYPES and PYOWNED),
 *                          DIR/pytypes_bad_owner.hsnap (PYOWNED's owner out of range),
 *                          DIR/pyretain_below_own.hsnap (PYRETAIN: a retained size
 *                          below the block's own; PYOWNED's owner out of range)
 *                          DIR/gcfreed.hsnap (PYGCFREED: what the collector freed)
 *                          DIR/shared.hsnap (format 5: trace 2's outermost frame
 *                          trace 1's, stored once)
 *                          DIR/threads.hsnap (THREADS: traces 0 and 1 of two threads),
 *                          DIR/threads_bad_index.hsnap (a trace names no record)
 *                          DIR/inherited.hsnap (INHERITED: a fork child's inherited
 *                          heap, 123 blocks of 45678 bytes from pid 4241),
 *                          DIR/inherited_bad_short.hsnap (its payload 8 bytes short)
 *                          DIR/bomb_traces.hsnap, DIR/bomb_liar.hsnap (snap_writer.h's
 *                          decompression bombs: the reader refuses them at their head)
 * Build: cc -Ishim tests/fuzz/mkcorpus.c -o mkcorpus -lz
 */
#include <stdio.h>

#include "snap_writer.h"

/* A whole file of o's snapshot, or with bomb, snap_writer.h's w_bomb. */
static int write_one(const char *dir, const char *name, const struct wopts *o,
                     const char *bomb)
{
    char path[4096];
    struct wbuf w = {0};
    if (bomb)
        w_bomb(&w, bomb);
    else
        w_snapshot(&w, o);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(w.p, 1, w.len, f) == w.len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(w.p);
    if (!ok)
        perror(path);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkcorpus DIR\n");
        return 2;
    }
    struct wopts minimal = {0}, blocks = {.with_blocks = 1},
                 unknown = {.with_blocks = 1, .unknown_section = 1}, leaks = {.with_leaks = 1},
                 noframes = {.with_leaks = 1, .empty_trace2 = 1},
                 siteline = {.with_blocks = 1, .with_siteline = 1},
                 pytypes = {.with_blocks = 1, .with_pytypes = 1},
                 bad_owner = {.with_blocks = 1, .with_pytypes = 1, .pyowned_bad_owner = 1},
                 below_own = {.with_blocks = 1, .with_pytypes = 1, .pyowned_bad_owner = 1,
                              .pyretain_below_own = 1},
                 gcfreed = {.with_gcfreed = 1}, shared = {.with_blocks = 1, .shared2 = 1},
                 threads = {.with_blocks = 1, .with_threads = 1},
                 threads_bad = {.with_blocks = 1, .with_threads = 1, .threads_bad_index = 1},
                 inherited = {.with_blocks = 1, .with_inherited = 1},
                 inherited_short = {.with_blocks = 1, .with_inherited = 1, .inherited_short = 1};
    return write_one(argv[1], "minimal.hsnap", &minimal, NULL) |
           write_one(argv[1], "blocks.hsnap", &blocks, NULL) |
           write_one(argv[1], "unknown.hsnap", &unknown, NULL) |
           write_one(argv[1], "leaks.hsnap", &leaks, NULL) |
           write_one(argv[1], "leaks_noframes.hsnap", &noframes, NULL) |
           write_one(argv[1], "siteline.hsnap", &siteline, NULL) |
           write_one(argv[1], "pytypes.hsnap", &pytypes, NULL) |
           write_one(argv[1], "pytypes_bad_owner.hsnap", &bad_owner, NULL) |
           write_one(argv[1], "pyretain_below_own.hsnap", &below_own, NULL) |
           write_one(argv[1], "gcfreed.hsnap", &gcfreed, NULL) |
           write_one(argv[1], "shared.hsnap", &shared, NULL) |
           write_one(argv[1], "threads.hsnap", &threads, NULL) |
           write_one(argv[1], "threads_bad_index.hsnap", &threads_bad, NULL) |
           write_one(argv[1], "inherited.hsnap", &inherited, NULL) |
           write_one(argv[1], "inherited_bad_short.hsnap", &inherited_short, NULL) |
           write_one(argv[1], "bomb_traces.hsnap", NULL, "traces") |
           write_one(argv[1], "bomb_liar.hsnap", NULL, "liar");
}
