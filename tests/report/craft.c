/*
 * craft.c - writes hostile but well-formed snapshots for test_hostile.sh,
 * through tests/fuzz/snap_writer.h:
 *   craft names OUT MODULE CMDLINE EXE   module 0's path and META's strings
 *                                        as given (any bytes but NUL), with
 *                                        the writer's leak heap
 *   craft stats OUT BYTES [N]            every trace's live bytes = BYTES; with
 *                                        N, N files OUT.1 ... OUT.N of pids
 *                                        1 ... N (distinct processes, summed)
 *   craft stray OUT                      module 0 only, with the leak heap:
 *                                        trace 1's frame is outside every module
 */
#include <stdio.h>
#include <stdlib.h>

#include "../fuzz/snap_writer.h"

int main(int argc, char **argv)
{
    struct wopts o;
    struct wbuf w;
    memset(&o, 0, sizeof(o));
    memset(&w, 0, sizeof(w));
    o.with_blocks = 1;
    if (argc == 6 && !strcmp(argv[1], "names")) {
        o.with_leaks = 1; /* loss records: the gate's findings name module 0 */
        o.module0 = argv[3];
        o.cmdline = argv[4];
        o.exe = argv[5];
    } else if (argc == 3 && !strcmp(argv[1], "stray")) {
        o.with_leaks = 1;
        o.one_module = 1;
    } else if ((argc == 4 || argc == 5) && !strcmp(argv[1], "stats")) {
        o.stats_bytes = strtoull(argv[3], NULL, 0);
        uint32_t nfiles = argc == 5 ? (uint32_t)strtoul(argv[4], NULL, 10) : 0;
        for (uint32_t i = 1; i <= nfiles; i++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s.%u", argv[2], i);
            o.pid = i;
            w.len = 0;
            w.nbounds = 0;
            w_snapshot(&w, &o);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(w.p, 1, w.len, f) != w.len || fclose(f) != 0) {
                perror(path);
                return 1;
            }
        }
        if (argc == 5) {
            free(w.p);
            return 0;
        }
    } else {
        fprintf(stderr, "usage: craft names OUT MODULE CMDLINE EXE | craft stats OUT BYTES [N] | "
                        "craft stray OUT\n");
        return 2;
    }
    w_snapshot(&w, &o);
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(w.p, 1, w.len, f) != w.len || fclose(f) != 0) {
        perror(argv[2]);
        return 1;
    }
    free(w.p);
    return 0;
}
