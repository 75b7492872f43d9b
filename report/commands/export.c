/*
 * export.c - `heapsnap export --format F [-o FILE] SNAP...`: the snapshots
 * in the formats other viewers read.  pprof (gzip'd profile.proto) for go
 * tool pprof, Pyroscope and Parca; folded stacks for flamegraph.pl, inferno
 * and speedscope; speedscope's own JSON; massif's massif.out for ms_print
 * and massif-visualizer.  Every format but massif shows the state of the
 * snapshots (the latest of each process, summed: prof_build); massif
 * shows one process's snapshots as its series.  Output goes to FILE through
 * the atomic writer (save_begin), or to stdout for "-" or no -o; pprof
 * is binary and is never written to a terminal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "dbgsym.h"
#include "export.h"
#include "frames.h"
#include "snapsave.h"

struct export_format {
    const char *name;
    int binary;
    int (*write)(const struct prof *, const struct export_opts *, FILE *, char *, size_t);
};

static const struct export_format formats[] = {
    {"pprof", 1, pprof_write},
    {"folded", 0, folded_write},
    {"speedscope", 0, speedscope_write},
    {"massif", 0, massif_write},
    {"tracemalloc", 0, tmtraces_write},
    {"tracemalloc-binary", 1, tmbin_write},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static void export_usage(void)
{
    printf("usage: heapsnap export --format FORMAT [-o FILE] SNAP...\n"
           "Writes the snapshots in a format other tools read:\n"
           "  pprof       gzip'd profile.proto (go tool pprof, Pyroscope, Parca); sample\n"
           "              types alloc_objects, alloc_space, inuse_objects, inuse_space\n"
           "  folded      \"outer;...;site VALUE\" lines (flamegraph.pl, inferno, speedscope)\n"
           "  speedscope  speedscope's JSON file format, one profile per value\n"
           "  massif      massif.out for ms_print and massif-visualizer: one process's\n"
           "              snapshots and timeline over time, each snapshot detailed\n"
           "  tracemalloc the live stacks, a line each: BYTES, BLOCKS, then the frames\n"
           "  tracemalloc-binary  the same, each frame once: what Python's\n"
           "              heapsnap.Snapshot.load reads\n"
           "  -f, --format FORMAT  one of the above (required)\n"
           "  -o, --output FILE    write FILE, atomically; \"-\" or none: stdout (pprof\n"
           "                       refuses a terminal); a device or FIFO: in place\n"
           "      --value VALUE    folded's value, speedscope's first profile: inuse_space\n"
           "                       (default), inuse_objects, alloc_space, alloc_objects\n"
           "      --kind KIND      all (default), malloc or mmap: the stacks of that kind\n"
           "                       of memory (mmap: what the program mapped itself)\n"
           "      --python-only    a Python stack is its Python frames alone: its native\n"
           "                       frames are left out, and never symbolized\n"
           "      --no-notes       no notes on stderr (missing debug information, how\n"
           "                       several snapshots were read), for a program reading\n"
           "                       the output (Snapshot.load): dpkg's lists are not read\n"
           CONFIG_HELP
           "Stacks start at the allocation site (allocator wrappers such as strdup and\n"
           "operator new are left out, as top leaves them out).  Several snapshots: the\n"
           "latest of each process, summed; massif takes one process's snapshots.\n");
}

struct export_args {
    const struct export_format *fmt;
    const char *output;
    struct export_opts o;
    int kind; /* --kind: SNAP_KIND_* */
    int quiet; /* --no-notes */
};

static int export_getopt(int argc, char **argv, struct export_args *a, char *err,
                         size_t errlen)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
        {"value", required_argument, NULL, 'V'}, {"help", no_argument, NULL, 'h'},
        {"kind", required_argument, NULL, 'K'}, {"python-only", no_argument, NULL, 0x240},
        {"no-notes", no_argument, NULL, 0x2a0},
        CONFIG_LONGOPTS, {NULL, 0, NULL, 0}};
    int c, r;
    memset(a, 0, sizeof(*a));
    a->o.value = PROF_INUSE_SPACE;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            export_usage();
            return 0;
        case 'f':
            for (size_t i = 0; i < NFORMATS; i++)
                if (strcmp(optarg, formats[i].name) == 0)
                    a->fmt = &formats[i];
            if (!a->fmt) {
                cli_bad_value(err, errlen, "--format", optarg,
                              "pprof, folded, speedscope, massif, tracemalloc, "
                              "tracemalloc-binary");
                return cli_prefix(err, errlen, "export"), 2;
            }
            break;
        case 'o':
            a->output = optarg;
            break;
        case 0x240:
            frames_python_frames_only();
            break;
        case 0x2a0:
            a->quiet = 1;
            dbg_quiet();
            break;
        case 'K':
            if (cli_parse_kind(optarg, &a->kind, err, errlen) < 0)
                return cli_prefix(err, errlen, "export"), 2;
            break;
        case 'V':
            if ((a->o.value = prof_value_parse(optarg)) < 0) {
                cli_bad_value(err, errlen, "--value", optarg,
                              "inuse_space, inuse_objects, alloc_space, alloc_objects");
                return cli_prefix(err, errlen, "export"), 2;
            }
            break;
        default:
            if ((r = config_opt(c, optarg, err, errlen)) < 0)
                return cli_prefix(err, errlen, "export"), 2;
            if (r == 0)
                return cli_bad_option("export", c, argv, longopts, err, errlen);
        }
    }
    if (!a->fmt) {
        snprintf(err, errlen,
                 "export: no --format given (pprof, folded, speedscope, massif, tracemalloc, "
                 "tracemalloc-binary)");
        return 2;
    }
    if (optind >= argc) {
        snprintf(err, errlen, "export: no snapshot given (heapsnap export --format F SNAP...)");
        return 2;
    }
    if (a->output && strcmp(a->output, "-") == 0)
        a->output = NULL;
    if (!a->output && a->fmt->binary && isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "export: %s is binary: not writing it to a terminal "
                              "(use -o FILE or a redirection)", a->fmt->name);
        return 2;
    }
    return config_load("export", err, errlen) ? 2 : -1;
}

static int export_write(const struct export_args *a, const struct prof *p, char *err,
                        size_t errlen)
{
    char why[1024] = "";
    struct save_tmp t;
    /* Exports are for sharing: 0666 less the umask, like any new file. */
    if (save_begin(&t, a->output ? a->output : "-", 0666, err, errlen) < 0)
        return 2;
    if (a->fmt->write(p, &a->o, t.f, why, sizeof(why)) < 0) {
        save_abort(&t);
        snprintf(err, errlen, "export: %s", why[0] ? why : "cannot write");
        return 2;
    }
    return save_commit(&t, err, errlen) < 0 ? 2 : 0;
}

/* The sections no export reads, left as they are stored (snap_load_skip;
 * their checksums are still checked): the formats write the stacks' sums
 * (STATS, PEAK), massif the timelines too and tracemalloc-binary each
 * block; what the leak check and the objects' passes made of the blocks
 * is not looked at. */
static uint32_t export_skip(const struct export_args *a)
{
    uint32_t skip = SNAP_SKIP_CHECK | SNAP_SKIP_PYOBJ | SNAP_SKIP_EXTRAS;
    if (a->fmt->write != massif_write)
        skip |= SNAP_SKIP_LINES;
    if (a->fmt->write != tmbin_write)
        skip |= SNAP_SEC(BLOCKS);
    return skip;
}

int cmd_export(int argc, char **argv, char *err, size_t errlen)
{
    struct export_args a;
    struct prof_run r;
    int rc = export_getopt(argc, argv, &a, err, errlen);
    if (rc >= 0)
        return rc;
    prof_set_kind(a.kind);
    prof_set_live_only(a.fmt->write == tmbin_write); /* live stacks only: the tie-break
                                                       counts live traces alone */
    rc = prof_load(&r, "export", argv + optind, argc - optind, export_skip(&a), err, errlen);
    if (rc == 0 && r.p.note[0] && !a.quiet && a.fmt->write != massif_write) /* massif: every snapshot */
        fprintf(stderr, "heapsnap: %s\n", r.p.note);
    if (rc == 0)
        rc = export_write(&a, &r.p, err, errlen);
    prof_unload(&r);
    return rc;
}
