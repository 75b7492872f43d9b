/*
 * info.c - `heapsnap info SNAP`: what a snapshot says about itself (who,
 * when, why, how much), without symbolizing anything.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "fmt.h"
#include "snap.h"

static const char *info_reason(uint32_t r)
{
    static const char *names[] = {"?", "exit", "signal", "interval", "api", "fatal signal",
                                  "collect"};
    return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

/* ISO 8601 local time with the UTC offset, e.g. 2026-11-21T10:54:53+0100. */
static void info_time(char *buf, size_t n, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%S%z", &tm))
        snprintf(buf, n, "?");
}

static void info_bytes(const char *label, uint64_t v)
{
    char sz[64];
    fmt_size(sz, sizeof(sz), (double)v, 0);
    printf("%-17s %s (%llu bytes)\n", label, sz, (unsigned long long)v);
}

static void info_print(const struct snap *s)
{
    const struct hsnap_meta *m = &s->meta;
    char when[64], start[64];
    info_time(when, sizeof(when), m->time_ns);
    info_time(start, sizeof(start), m->start_ns);
    char *cmd = esc_text_dup(s->cmdline), *exe = esc_text_dup(s->exe); /* the program's words */
    printf("%-17s %s\n", "command:", cmd ? cmd : "?");
    printf("%-17s %s\n", "executable:", exe ? exe : "?");
    free(cmd);
    free(exe);
    printf("%-17s %u (parent %u)\n", "pid:", m->pid, m->ppid);
    printf("%-17s %s (started %s)\n", "time:", when, start);
    printf("%-17s %s\n", "reason:", info_reason(m->reason));
    printf("%-17s %u\n", "sequence:", m->seq);
    printf("%-17s %u frames\n", "depth:", m->depth);
    if (m->sample_interval)
        printf("%-17s %llu bytes\n", "sample interval:", (unsigned long long)m->sample_interval);
    else
        printf("%-17s every allocation\n", "sample interval:");
    info_bytes("traced current:", m->current_bytes);
    info_bytes("traced peak:", m->peak_bytes);
    printf("%-17s %llu\n", "live blocks:", (unsigned long long)m->live_blocks);
    printf("%-17s %llu allocations, %llu frees\n", "total:",
           (unsigned long long)m->total_allocs, (unsigned long long)m->total_frees);
    printf("%-17s %llu\n", "foreign frees:", (unsigned long long)m->foreign_frees);
    info_bytes("shim memory:", m->shim_bytes);
    printf("%-17s %u\n", "traces:", s->ntraces);
    uint32_t gone = 0;
    for (uint32_t i = 0; i < s->nmodules; i++)
        gone += (s->modules[i].flags & HSNAP_MODULE_UNLOADED) != 0;
    if (gone)
        printf("%-17s %u (%u unloaded before the snapshot)\n", "modules:", s->nmodules, gone);
    else
        printf("%-17s %u\n", "modules:", s->nmodules);
    if (s->has_blocks)
        printf("%-17s %llu\n", "blocks:", (unsigned long long)s->nblocks);
    else
        printf("%-17s not recorded\n", "blocks:");
    if (s->lk.present)
        printf("%-17s yes, %u loss records\n", "leak check:", s->lk.head.nrecords);
    else if (m->reason == HSNAP_REASON_FATAL)
        printf("%-17s no (written at a fatal signal: no check runs in a crashing process)\n",
               "leak check:");
    else
        printf("%-17s no (run with --leaks or HEAPSNAP_LEAKS=1)\n", "leak check:");
    printf("%-17s %u\n", "timeline points:", s->npoints);
    if (s->sl.present)
        printf("%-17s %u points, RSS and the %u largest sites at each (heapsnap timeline)\n",
               "memory over time:", s->sl.head.count, s->sl.head.nsites);
    else
        printf("%-17s not recorded (%s)\n", "memory over time:",
               s->version < 2 ? "snapshot format 1" : "HEAPSNAP_SITELINE=0");
    printf("%-17s %s\n", "degraded:", (m->flags & HSNAP_META_DEGRADED)
                                          ? "yes (recording stopped early: out of memory)"
                                          : "no");
}

int cmd_info(int argc, char **argv, char *err, size_t errlen)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c != 'h')
            return cli_bad_option("info", c, argv, err, errlen);
        printf("usage: heapsnap info SNAP...\nPrints each snapshot's metadata.\n");
        return 0;
    }
    if (optind >= argc) {
        snprintf(err, errlen, "info: no snapshot given (heapsnap info SNAP)");
        return 2;
    }
    for (int i = optind; i < argc; i++) {
        struct snap s;
        if (snap_load(argv[i], &s, err, errlen) < 0)
            return 2;
        char name[4200];
        if (argc - optind > 1)
            printf("%s%s:\n", i > optind ? "\n" : "", esc_text(argv[i], name, sizeof(name)));
        info_print(&s);
        snap_free(&s);
    }
    return 0;
}
