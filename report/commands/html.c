/*
 * html.c - `heapsnap html -o report.html SNAP...`: its options, and the
 * page (report/html/htmldoc.c) written atomically where -o says, and a line
 * on stderr naming it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "escape.h"
#include "fmt.h"
#include "html.h"
#include "snapsave.h"

struct html_args {
    const char *output;
    long rows;
    int all_frames; /* --unfold: a Python process's page opens unfolded */
};

static void html_usage(void)
{
    printf("usage: heapsnap html -o FILE [-n N] SNAP...\n"
           "Writes one self-contained HTML page (no network access): a flame graph of\n"
           "live or allocated memory with search and zoom (one box per function, or\n"
           "per line; callers first, or inverted: allocation sites first), memory over\n"
           "time (the traced heap, the resident set and the largest sites, with \"Go to\n"
           "peak\"), the top allocation sites, the diff between the earliest and the\n"
           "latest snapshot of one program, and, when the snapshots hold a leak check,\n"
           "the loss records, the leaked cycles and who retains the most memory.  It\n"
           "opens on the peak when the snapshots captured one (\"At exit\", or\n"
           "FILE#exit, shows the exit snapshot), and for a Python process with \"Python\n"
           "frames only\" on.  FILE#lines splits the flame graph by line, FILE#inverted\n"
           "inverts it (FILE#exit,inverted: both).  A Python process's stacks open\n"
           "with the interpreter's start-up and the import machinery folded away\n"
           "(\"Fold start-up and imports\"; FILE#all-frames or --unfold shows every\n"
           "frame).\n"
           "  -o, --output FILE  the page, written atomically; \"-\": stdout; a device\n"
           "                     or FIFO is written in place\n"
           "  -n N               rows of the top, diff and leak tables (default %d)\n"
           "      --kind KIND    all (default), malloc or mmap: the flame graph and the\n"
           "                     tables show the sites of that kind of memory only\n"
           "      --unfold       open with start-up and imports unfolded (a Python\n"
           "                     process); --all-frames is accepted for it here (top's\n"
           "                     --all-frames is another thing: filters match any frame)\n"
           CONFIG_HELP
           "Several snapshots: the flame graph and the top table show the latest of\n"
           "each process, summed; the timeline shows every process.\n", HTML_ROWS);
}

static int html_getopt(int argc, char **argv, struct html_args *a, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {"kind", required_argument, NULL, 'K'}, {"unfold", no_argument, NULL, 0x1e0},
        {"all-frames", no_argument, NULL, 0x1e0}, /* --unfold's first name */
        CONFIG_LONGOPTS, {NULL, 0, NULL, 0}};
    uint64_t n;
    int c, r, kind = SNAP_KIND_ALL;
    a->output = NULL;
    a->rows = HTML_ROWS;
    a->all_frames = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:n:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            html_usage();
            return 0;
        } else if (c == 'o') {
            a->output = optarg;
        } else if (c == 0x1e0) { /* not a config_opt code (0x1c0..) */
            a->all_frames = 1;
        } else if (c == 'K') {
            if (cli_parse_kind(optarg, &kind, err, errlen) < 0)
                return cli_prefix(err, errlen, "html"), 2;
            prof_set_kind(kind);
        } else if (c == 'n' && cli_parse_count(optarg, 1000000, &n) == 0) {
            a->rows = (long)n;
        } else if (c == 'n') {
            cli_bad_value(err, errlen, "-n", optarg, "a count from 0 to 1000000");
            return cli_prefix(err, errlen, "html"), 2;
        } else if ((r = config_opt(c, optarg, err, errlen)) != 0) {
            if (r < 0)
                return cli_prefix(err, errlen, "html"), 2;
        } else {
            return cli_bad_option("html", c, argv, longopts, err, errlen);
        }
    }
    if (!a->output) {
        snprintf(err, errlen, "html: no output given (heapsnap html -o FILE SNAP...)");
        return 2;
    }
    if (optind >= argc) {
        snprintf(err, errlen, "html: no snapshot given (heapsnap html -o FILE SNAP...)");
        return 2;
    }
    return config_load("html", err, errlen) ? 2 : -1;
}

/* "heapsnap: wrote FILE (SIZE)" on stderr, as run names what it wrote;
 * nothing for stdout, whose reader has the page. */
static void html_said(const char *output)
{
    struct stat st;
    char shown[4200], sz[64];
    if (!strcmp(output, "-") || stat(output, &st) < 0)
        return;
    fmt_size(sz, sizeof(sz), (double)st.st_size, 0);
    fprintf(stderr, "heapsnap: wrote %s (%s%s)\n", esc_text(fmt_path(output), shown, sizeof(shown)),
            sz, S_ISREG(st.st_mode) ? "; open it in a browser" : "");
}

static int html_write(const struct html_args *a, const struct prof *p, char *err,
                      size_t errlen)
{
    char why[1024] = "";
    struct save_tmp t;
    /* Reports are for sharing: 0666 less the umask, like any new file. */
    if (save_begin(&t, a->output, 0666, err, errlen) < 0)
        return 2;
    if (html_page(t.f, p, a->rows, a->all_frames, why, sizeof(why)) < 0) {
        save_abort(&t);
        snprintf(err, errlen, "html: %s", why);
        return 2;
    }
    if (save_commit(&t, err, errlen) < 0)
        return 2;
    html_said(a->output);
    return 0;
}

int cmd_html(int argc, char **argv, char *err, size_t errlen)
{
    struct html_args a;
    struct prof_run r;
    int rc = html_getopt(argc, argv, &a, err, errlen);
    if (rc >= 0)
        return rc;
    rc = prof_load(&r, "html", argv + optind, argc - optind, 0, err, errlen);
    if (rc == 0 && r.p.note[0]) /* the flame graph's and the tables' state */
        fprintf(stderr, "heapsnap: %s\n", r.p.note);
    if (rc == 0)
        rc = html_write(&a, &r.p, err, errlen);
    prof_unload(&r);
    return rc;
}
