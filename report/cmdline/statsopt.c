/*
 * statsopt.c - the command line of top and diff (statsopt_parse): the
 * options they share, those of top alone, their help text and the checks
 * between them (the key, the sort, the filters, the peak, temporaries,
 * leaked and failed views, the configuration file's choices), turned into
 * the struct stats_opts the model groups by.  The model knows no getopt.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "stats.h"
#include "statsopt.h"

static const char statsopt_shortopts[] = ":k:n:h";
/* Long-only options' codes (past the CONFIG_OPT_* range). */
#define STATSOPT_RETAINED 0x1d0
#define STATSOPT_BY_PROCESS 0x1d1
#define STATSOPT_COLLECTED 0x230
#define STATSOPT_THREAD 0x231

static const struct option statsopt_longopts[] = {
    {"key", required_argument, NULL, 'k'},
    {"cumulative", no_argument, NULL, 'c'},
    {"include", required_argument, NULL, 'i'},
    {"exclude", required_argument, NULL, 'x'},
    {"all-frames", no_argument, NULL, 'a'},
    {"leaked", no_argument, NULL, 'L'},
    {"garbage", no_argument, NULL, 'G'},
    {"owner", no_argument, NULL, 'O'},
    {"born-since", required_argument, NULL, 'B'},
    {"retainers", no_argument, NULL, 'R'},
    {"retained", no_argument, NULL, STATSOPT_RETAINED},
    {"peak", no_argument, NULL, 'P'},
    {"temporary", no_argument, NULL, 'T'},
    {"failed", no_argument, NULL, 'F'},
    {"collected", no_argument, NULL, STATSOPT_COLLECTED},
    {"kind", required_argument, NULL, 'K'},
    {"thread", required_argument, NULL, STATSOPT_THREAD},
    {"pid", required_argument, NULL, 'p'},
    {"exe", required_argument, NULL, 'e'},
    {"by-process", no_argument, NULL, STATSOPT_BY_PROCESS},
    CONFIG_LONGOPTS,
    {"python-only", no_argument, NULL, 'Y'},
    {"sort", required_argument, NULL, 's'},
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

const char statsopt_help_top[] =
    "      --sort WHAT    live (default): live bytes, tracemalloc's lines;\n"
    "                     allocations: the most allocations since the start;\n"
    "                     allocated: the most bytes allocated since the start\n"
    "                     (freed or not), as allocations=, allocated= lines\n"
    "      --temporary    sites by temporary allocations (freed by the thread's\n"
    "                     very next malloc, free or realloc): count, and % of\n"
    "                     the site's allocations\n"
    "      --failed       sites of failed allocations (NULL returned): how many\n"
    "                     calls failed there and the largest size asked\n"
    "      --retainers    for the sites holding the most reachable memory, which\n"
    "                     sites and roots keep it alive\n"
    "      --retained     Python processes: the memory each group would free if\n"
    "                     its blocks went (the heap's dominator tree), beside\n"
    "                     its live size, biggest first\n"
    "      --pid PID      sum only the snapshots of process PID\n"
    "      --exe NAME     sum only the snapshots of executable NAME\n"
    "                     (its path or basename)\n"
    "      --by-process   several processes (a run's parent and its workers):\n"
    "                     each one's groups apart under a header naming it,\n"
    "                     the first process (the parent) first, then by pid;\n"
    "                     with --format json, one \"processes\" list\n";

const char statsopt_help[] =
    "  -k, --key KEY      group by lineno (default), filename, function, module\n"
    "                     or traceback; type: Python objects by their type;\n"
    "                     lineno,type (filename, function, module): by both;\n"
    "                     thread: by the thread that allocated (its name and tid)\n"
    "      --thread WHAT  only memory the threads WHAT names allocated: a tid,\n"
    "                     or an fnmatch pattern of the thread's name\n"
    "      --cumulative   charge each trace to every distinct key of its frames\n"
    "                     (from the allocation site outward; not with traceback)\n"
    "  -n N               print the N biggest groups (default 10, 0 = all)\n"
    "      --include PAT  keep traces whose allocation site's file, function or\n"
    "                     module matches the fnmatch PAT (repeatable; any of them)\n"
    "      --exclude PAT  drop traces whose allocation site matches PAT (repeatable)\n"
    "      --all-frames   make --include/--exclude look at every frame of the\n"
    "                     trace, not only the allocation site\n"
    "      --peak         what each site held at the traced peak (every SNAP; one\n"
    "                     snapshot's peak alone: SNAP@peak)\n"
    "      --leaked       only leaked blocks (direct, indirect and cycle), from a\n"
    "                     snapshot with a leak check (run --leaks)\n"
    "      --garbage      only Python objects no root reaches: reference cycles\n"
    "                     awaiting the collector (what gc.collect() would free)\n"
    "      --collected    Python processes: the objects CPython's cycle collector\n"
    "                     (not reference counting) freed at each site over the\n"
    "                     run, as collected=, size=: the lines making cycles\n"
    "      --owner        a Python object's native blocks (a list's item array,\n"
    "                     a dict's keys table, a numpy array's buffer) counted\n"
    "                     with it: its type, its site\n"
    "      --born-since N\n"
    "                     only blocks born in epoch N or later: allocated since\n"
    "                     the API's heapsnap_new_epoch() returned N, still live\n"
    CLI_KIND_HELP
    "      --python-only  a Python stack is its Python frames: the native ones\n"
    "                     (interpreter, extensions, allocator) folded into the\n"
    "                     Python frame that called them\n"
    "      --format text|json  JSON is described in docs/json.md\n"
    "%s"
    CONFIG_HELP
    "The allocation site is the first frame outside allocator wrappers (the shim,\n"
    "libc, libstdc++, libgcc_s, the C++ standard library's headers (include/c++/),\n"
    "operator new, malloc- and strdup-like functions, the malloc front ends of\n"
    "glib, OpenSSL, redis and nginx, and --alloc-fn's); in a stack with Python\n"
    "frames, the innermost Python line (--native: the innermost native line).\n"
    "File names below the current directory are shown relative to it.  A frame\n"
    "without line information is keyed by its function and module under lineno\n"
    "(\"sqlite3VdbeExec (libsqlite3.so.0)\"), or by its address in its module where\n"
    "that has no symbols either (\"git+0x17ddcc\"), and shows its module as the\n"
    "file otherwise (\"[libfoo.so]\").\n";

static int statsopt_one(int c, const char *arg, struct stats_opts *o, char *err, size_t errlen)
{
    uint64_t cnt;
    switch (c) {
    case 's':
        for (int i = SORT_LIVE; i <= SORT_ALLOCATED; i++)
            if (strcmp(arg, stats_sort_names[i]) == 0) {
                o->sort = (enum stats_sort)i;
                return 1;
            }
        return cli_bad_value(err, errlen, "--sort", arg, "live, allocations, allocated");
    case 'f': return cli_parse_format(arg, &o->json, err, errlen) < 0 ? -1 : 1;
    case 'K': return cli_parse_kind(arg, &o->kind, err, errlen) < 0 ? -1 : 1;
    case 'k': {
        /* KEY, "type", or KEY,type */
        const char *comma = strchr(arg, ',');
        size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
        o->by_type = comma && !strcmp(comma + 1, "type");
        for (size_t i = 0; i <= KEY_THREAD && (!comma || o->by_type); i++)
            if (strlen(stats_key_names[i]) == n && !strncmp(arg, stats_key_names[i], n) &&
                !(o->by_type && (i == KEY_TYPE || i == KEY_TRACEBACK || i == KEY_THREAD))) {
                o->key = (enum stats_key)i;
                return 1;
            }
        return cli_bad_value(err, errlen, "--key", arg,
                             "lineno, filename, function, module, traceback, type, thread, "
                             "lineno,type, filename,type, function,type, module,type");
    }
    case 'n':
        if (cli_parse_count(arg, INT32_MAX, &cnt) < 0)
            return cli_bad_value(err, errlen, "-n", arg, "a count from 0 to 2147483647");
        o->limit = (long)cnt;
        return 1;
    case 'c': o->cumulative = 1; return 1;
    case 'Y': o->python_only = 1; return 1;
    case 'a': o->filter.all_frames = 1; return 1;
    case 'L': o->leaked = 1; return 1;
    case 'G': o->garbage = 1; return 1;
    case 'O': o->owner = 1; return 1;
    case 'B':
        if (cli_parse_count(arg, UINT32_MAX, &cnt) < 0)
            return cli_bad_value(err, errlen, "--born-since", arg,
                                 "an epoch from 0 to 4294967295");
        o->born_since = cnt > HSNAP_EPOCH_MAX ? HSNAP_EPOCH_MAX : (uint32_t)cnt;
        o->born = 1;
        return 1;
    case 'R': o->retainers = 1; return 1;
    case STATSOPT_RETAINED: o->retained = 1; return 1;
    case STATSOPT_BY_PROCESS: o->by_process = 1; return 1;
    case 'P': o->peak = 1; return 1;
    case 'T': o->temporary = 1; return 1;
    case 'F': o->failed = 1; return 1;
    case STATSOPT_COLLECTED: o->collected = 1; return 1;
    case STATSOPT_THREAD:
        if (!arg[0])
            return cli_bad_value(err, errlen, "--thread", arg,
                                 "a tid, or a pattern of a thread's name");
        o->thread = arg;
        return 1;
    case 'e': o->exe = arg; return 1;
    case 'p':
        if (cli_parse_count(arg, INT32_MAX, &cnt) < 0 || cnt == 0)
            return cli_bad_value(err, errlen, "--pid", arg, "a process id from 1 to 2147483647");
        o->pid = (long)cnt;
        return 1;
    case 'i':
    case 'x':
        return frames_filter_add(&o->filter, c == 'x', arg, err, errlen) < 0 ? -1 : 1;
    }
    return config_opt(c, arg, err, errlen);
}

static int statsopt_check(const struct stats_opts *o, char *err, size_t errlen)
{
    if (o->peak + o->temporary + o->leaked + o->retainers + o->failed > 1) {
        snprintf(err, errlen,
                 "--peak, --temporary, --leaked, --retainers and --failed exclude each other");
        return -1;
    }
    if (o->retained && (o->peak || o->temporary || o->leaked || o->retainers || o->failed ||
                        o->garbage || o->born || o->cumulative || o->sort != SORT_LIVE)) {
        snprintf(err, errlen, "--retained groups the live blocks by the dominator tree: not "
                 "with --peak, --temporary, --leaked, --retainers, --failed, --garbage, "
                 "--born-since, --cumulative or --sort");
        return -1;
    }
    if (o->by_process && (o->retainers || o->retained)) {
        snprintf(err, errlen, "--by-process cannot be used with --retainers or --retained");
        return -1;
    }
    if (o->garbage && (o->leaked || o->born)) {
        snprintf(err, errlen, "--garbage cannot be used with --leaked or --born-since");
        return -1;
    }
    if ((o->key == KEY_TYPE || o->by_type || o->garbage || o->owner) &&
        (o->cumulative || o->peak || o->temporary || o->failed || (o->retainers && o->garbage) ||
         o->sort != SORT_LIVE)) {
        snprintf(err, errlen, "--key type, --garbage and --owner count the live blocks: not with --cumulative, "
                 "--peak, --temporary, --failed, --retainers or --sort");
        return -1;
    }
    if (o->collected && (o->peak || o->temporary || o->leaked || o->retainers || o->retained ||
                         o->failed || o->garbage || o->owner || o->born || o->by_type ||
                         o->key == KEY_TYPE || o->sort != SORT_LIVE)) {
        snprintf(err, errlen, "--collected counts the collector's frees per site: not with "
                 "--peak, --temporary, --leaked, --retainers, --retained, --failed, "
                 "--garbage, --owner, --born-since, --key type or --sort");
        return -1;
    }
    if (o->key == KEY_THREAD && (o->cumulative || o->retainers || o->retained || o->collected)) {
        snprintf(err, errlen, "--key thread cannot be used with --cumulative, --retainers, "
                 "--retained or --collected");
        return -1;
    }
    if (o->thread && (o->retainers || o->retained || o->collected)) {
        snprintf(err, errlen, "--thread cannot be used with --retainers, --retained or "
                 "--collected (they do not keep the threads apart)");
        return -1;
    }
    if (o->cumulative && o->key == KEY_TRACEBACK) {
        snprintf(err, errlen, "--cumulative cannot be used with --key traceback");
        return -1;
    }
    if (o->failed && o->sort != SORT_LIVE) {
        snprintf(err, errlen, "--sort cannot be used with --failed (sites are ordered by "
                 "failed calls, then the largest size)");
        return -1;
    }
    if (o->born && (o->peak || o->temporary || o->retainers || o->failed)) {
        snprintf(err, errlen, "--born-since cannot be used with --peak, --temporary, "
                 "--retainers or --failed");
        return -1;
    }
    if (o->born && o->sort != SORT_LIVE) {
        snprintf(err, errlen, "--sort %s cannot be used with --born-since (a block's "
                 "epoch says nothing of the freed ones; --sort live)", stats_sort_names[o->sort]);
        return -1;
    }
    if (o->leaked && o->sort != SORT_LIVE) {
        snprintf(err, errlen, "--sort %s cannot be used with --leaked (a leaked block has "
                 "no allocation count; --sort live)", stats_sort_names[o->sort]);
        return -1;
    }
    return 0;
}

int statsopt_parse(const char *cmd, int argc, char **argv, struct stats_opts *o,
                   void (*usage)(void), char *err, size_t errlen)
{
    int c;
    char why[256];
    memset(o, 0, sizeof(*o));
    o->limit = 10;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, statsopt_shortopts, statsopt_longopts, NULL)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        }
        if (strcmp(cmd, "top") && (strchr("RpesTF", c) || c == STATSOPT_RETAINED ||
                                  c == STATSOPT_BY_PROCESS)) {
            snprintf(err, errlen, "%s: %s is an option of top only (see heapsnap %s --help)", cmd,
                     c == 'R' ? "--retainers" : c == 'p' ? "--pid" : c == 'e' ? "--exe"
                     : c == 's' ? "--sort" : c == 'F' ? "--failed" : c == STATSOPT_RETAINED ? "--retained"
                     : c == STATSOPT_BY_PROCESS ? "--by-process"
                     : "--temporary", cmd);
            return 2;
        }
        int r = statsopt_one(c, optarg, o, why, sizeof(why));
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", cmd, why);
            return 2;
        }
        if (r == 0)
            return cli_bad_option(cmd, c, argv, statsopt_longopts, err, errlen);
    }
    if (statsopt_check(o, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", cmd, why);
        return 2;
    }
    return config_load(cmd, err, errlen) ? 2 : -1;
}

int statsopt_check_at_peak(const char *cmd, const struct stats_opts *o, const char *path,
                           char *err, size_t errlen)
{
    struct stats_opts p = *o;
    char why[512];
    p.peak = 1;
    if (statsopt_check(&p, why, sizeof(why)) == 0)
        return 0;
    snprintf(err, errlen, "%s: %s@peak reads its peak, as --peak does: %s", cmd, path, why);
    return -1;
}

int statsopt_site_alone(const struct stats_opts *o)
{
    const struct frames_filter *fl = &o->filter;
    return o->key == KEY_LINENO && !o->cumulative && !o->by_type && !o->json &&
           !o->temporary && !o->failed && !o->collected && !o->by_process &&
           !o->native_site && !o->fold && !fl->all_frames && !fl->ninclude && !fl->nexclude;
}

/* The sections top's and diff's views leave unread, not inflated
 * (snap_load_skip; their checksums are still checked): the timelines and
 * the state file's always; the peak's capture without --peak or SNAP@peak
 * (at), the temporaries', the failed allocations' and the collector's
 * frees without their options; and the blocks with what is made of them
 * (the leak check's, the retainers', the objects' types, owners and
 * dominators) where no option reads a block: the sites' sums are STATS.
 * A big Python snapshot's blocks and objects are most of what it holds. */
uint32_t statsopt_skip(const struct stats_opts *o, int at)
{
    uint32_t skip = SNAP_SKIP_LINES | SNAP_SEC(STATE);
    if (!o->peak && !at)
        skip |= SNAP_SEC(PEAK);
    if (!o->temporary)
        skip |= SNAP_SEC(TEMPS);
    if (!o->failed)
        skip |= SNAP_SEC(FAILED);
    if (!o->collected)
        skip |= SNAP_SEC(PYGCFREED);
    if (!o->leaked && !o->born && !o->garbage && !o->owner && !o->by_type &&
        o->key != KEY_TYPE && !o->retainers && !o->retained)
        skip |= SNAP_SEC(BLOCKS) | SNAP_SKIP_CHECK | SNAP_SKIP_PYOBJ;
    return skip;
}
