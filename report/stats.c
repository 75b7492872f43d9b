/*
 * stats.c - groups live traces by a key and orders the groups the way
 * tracemalloc does (Snapshot.statistics, Snapshot.compare_to).
 *
 * A trace's frames are its ips symbolized and expanded (inlined functions are
 * frames of their own), innermost first.  Its ALLOCATION SITE is the first
 * frame that is not an allocator wrapper: wrappers are frames in the shim,
 * libc, libstdc++ or libgcc_s, and functions named like operator new,
 * malloc-family or strdup-family anywhere (static libstdc++, xmalloc).  If
 * every frame is a wrapper, the outermost one is the site.  Keys:
 *   lineno    "file.c:12"      filename  "file.c:0"     function  "name"
 *   module    "libfoo.so"      traceback the frames from the site outward
 * --cumulative charges a trace to every distinct key among the frames from
 * the site outward.  Filters (fnmatch) look at a frame's file, function and
 * module; by default only the site frame is looked at (tracemalloc's
 * Filter(all_frames=False)), with --all-frames any frame of the trace.
 * A trace is kept if some --include matches (or there is none) and no
 * --exclude matches.
 */
#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"
#include "stats.h"

struct strbuf {
    char *p;
    size_t len, cap;
};

struct stats {
    struct stats_opts o;
    struct stat_entry *groups;   /* uthash by id */
    struct stat_entry **sorted;
    size_t nsorted;
    const struct sym_frame **fr; /* scratch: one trace's expanded frames */
    size_t nfr, capfr;
    uint64_t stamp;              /* trace serial, dedupes cumulative keys */
    struct strbuf id;            /* scratch: key identity being built */
    char nofile[300];            /* scratch: "[module]" for a frame without a file */
    struct symbolizer **syms;    /* one per distinct module map seen */
    size_t nsyms, capsyms;
};

static const char stats_shortopts[] = ":k:n:";
static const struct option stats_longopts[] = {
    {"key", required_argument, NULL, 'k'},
    {"cumulative", no_argument, NULL, 'c'},
    {"include", required_argument, NULL, 'i'},
    {"exclude", required_argument, NULL, 'x'},
    {"all-frames", no_argument, NULL, 'a'},
    {"leaked", no_argument, NULL, 'L'},
    {"retainers", no_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

const char stats_help[] =
    "  -k, --key KEY      group by lineno (default), filename, function, module\n"
    "                     or traceback\n"
    "      --cumulative   charge each trace to every distinct key of its frames\n"
    "                     (from the allocation site outward; not with traceback)\n"
    "  -n N               print the N biggest groups (default 10, 0 = all)\n"
    "      --include PAT  keep traces whose allocation site's file, function or\n"
    "                     module matches the fnmatch PAT (repeatable; any of them)\n"
    "      --exclude PAT  drop traces whose allocation site matches PAT (repeatable)\n"
    "      --all-frames   --include/--exclude look at every frame of the trace,\n"
    "                     not only the allocation site\n"
    "      --leaked       only leaked blocks (direct, indirect and cycle), from a\n"
    "                     snapshot with a leak check (run --leaks)\n"
    "      --retainers    top only: for the sites holding the most reachable\n"
    "                     memory, which sites and roots keep it alive\n"
    "The allocation site is the first frame outside allocator wrappers (the shim,\n"
    "libc, libstdc++, libgcc_s, operator new, malloc- and strdup-like functions).\n"
    "File names below the current directory are shown relative to it; a frame\n"
    "without debug info shows its module as the file: \"[libfoo.so]:0\".\n";

static int bad(char *err, size_t errlen, const char *what, const char *arg)
{
    snprintf(err, errlen, "%s: %s", what, arg);
    return -1;
}

static int stats_parse_opt(int c, const char *arg, struct stats_opts *o, char *err, size_t errlen)
{
    static const char *keys[] = {"lineno", "filename", "function", "module", "traceback"};
    uint64_t cnt;
    switch (c) {
    case 'k':
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strcmp(arg, keys[i]) == 0) {
                o->key = (enum stats_key)i;
                return 1;
            }
        return bad(err, errlen, "unknown key (lineno, filename, function, module, traceback)", arg);
    case 'n':
        if (cli_parse_count(arg, INT32_MAX, &cnt) < 0)
            return bad(err, errlen, "-n wants a count from 0 to 2147483647", arg);
        o->limit = (long)cnt;
        return 1;
    case 'c': o->cumulative = 1; return 1;
    case 'a': o->all_frames = 1; return 1;
    case 'L': o->leaked = 1; return 1;
    case 'R': o->retainers = 1; return 1;
    case 'i':
    case 'x': {
        int *n = c == 'i' ? &o->ninclude : &o->nexclude;
        if (*n >= STATS_MAX_FILTERS)
            return bad(err, errlen, "too many filters", arg);
        (c == 'i' ? o->include : o->exclude)[(*n)++] = arg;
        return 1;
    }
    }
    return 0;
}

static int stats_check_opts(const struct stats_opts *o, char *err, size_t errlen)
{
    if (o->cumulative && o->key == KEY_TRACEBACK) {
        snprintf(err, errlen, "--cumulative cannot be used with --key traceback");
        return -1;
    }
    return 0;
}

int stats_getopt(const char *cmd, int argc, char **argv, struct stats_opts *o,
                 void (*usage)(void), char *err, size_t errlen)
{
    int c;
    char why[256];
    memset(o, 0, sizeof(*o));
    o->limit = 10;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, stats_shortopts, stats_longopts, NULL)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        }
        int r = stats_parse_opt(c, optarg, o, why, sizeof(why));
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", cmd, why);
            return 2;
        }
        if (r == 0)
            return cli_bad_option(cmd, c, argv, err, errlen);
    }
    if (stats_check_opts(o, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", cmd, why);
        return 2;
    }
    return -1;
}

/* --- allocator wrappers ------------------------------------------------ */

static const char *const wrapper_modules[] = {"libheapsnap.so", "libc.so", "libstdc++.so",
                                              "libgcc_s.so"};
static const char *const wrapper_funcs[] = {
    "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "__libc_malloc", "__libc_calloc",
    "__libc_realloc", "__libc_memalign", "strdup", "strndup", "__strdup", "__strndup",
    "wcsdup", "xmalloc", "xcalloc", "xrealloc", "xstrdup", "xstrndup", "xmemdup"};
static const char *const wrapper_prefixes[] = {"operator new", "_Znwm", "_Znam", "_Znwj",
                                               "_Znaj"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int stats_is_wrapper(const struct sym_frame *f)
{
    for (size_t i = 0; i < NELEM(wrapper_modules); i++)
        if (strncmp(f->module, wrapper_modules[i], strlen(wrapper_modules[i])) == 0)
            return 1;
    for (size_t i = 0; i < NELEM(wrapper_funcs); i++)
        if (strcmp(f->func, wrapper_funcs[i]) == 0)
            return 1;
    for (size_t i = 0; i < NELEM(wrapper_prefixes); i++)
        if (strncmp(f->func, wrapper_prefixes[i], strlen(wrapper_prefixes[i])) == 0)
            return 1;
    return 0;
}

long stats_site(const void *frames, size_t n, int (*is_wrapper)(const void *frames, size_t i))
{
    for (size_t i = 0; i < n; i++)
        if (!is_wrapper(frames, i))
            return (long)i;
    return (long)n - 1;
}

/* --- setup ------------------------------------------------------------- */

struct stats *stats_new(const struct stats_opts *o)
{
    struct stats *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->o = *o;
    return st;
}

static void entry_free(struct stat_entry *e)
{
    for (int i = 0; i < e->nframes; i++) {
        free(e->frames[i].file);
        free(e->frames[i].func);
    }
    free(e->frames);
    free(e->id);
    free(e);
}

void stats_free(struct stats *st)
{
    struct stat_entry *e, *tmp;
    if (!st)
        return;
    HASH_ITER(hh, st->groups, e, tmp) {
        HASH_DEL(st->groups, e);
        entry_free(e);
    }
    for (size_t i = 0; i < st->nsyms; i++)
        sym_free(st->syms[i]);
    free(st->syms);
    free(st->sorted);
    free(st->fr);
    free(st->id.p);
    free(st);
}

/* --- one trace --------------------------------------------------------- */

static const char *show_path(const struct stats *st, const char *file)
{
    return strcmp(file, "??") == 0 ? file : fmt_path(file);
}

static int push_frame(struct stats *st, const struct sym_frame *f)
{
    if (grow_array((void **)&st->fr, &st->capfr, st->nfr + 1, sizeof(*st->fr)) < 0)
        return -1;
    st->fr[st->nfr++] = f;
    return 0;
}

static int fr_is_wrapper(const void *frames, size_t i)
{
    return stats_is_wrapper(((const struct sym_frame *const *)frames)[i]);
}

/* Expands trace t into st->fr; returns the allocation site's index. */
static long expand_trace(struct stats *st, const struct snap_trace *t, struct symbolizer *z)
{
    static const struct sym_frame unsampled = {"<unsampled>", "<unsampled>", 0, -1, "<unsampled>", 0};
    static const struct sym_frame unknown = {"<unknown>", "<unknown>", 0, -1, "<unknown>", 0};
    st->nfr = 0;
    for (int i = 0; i < t->depth; i++) {
        const struct sym_frame *f;
        int n = sym_lookup(z, t->ips[i], &f);
        for (int j = 0; j < n; j++)
            if (push_frame(st, &f[j]) < 0)
                return -1;
    }
    if (st->nfr == 0 &&
        push_frame(st, (t->flags & HSNAP_TRACE_UNSAMPLED) ? &unsampled : &unknown) < 0)
        return -1;
    return stats_site(st->fr, st->nfr, fr_is_wrapper);
}

static int frame_matches(const struct stats *st, const struct snap *s,
                         const struct sym_frame *f, const char *pat)
{
    if (fnmatch(pat, f->file, 0) == 0 || fnmatch(pat, show_path(st, f->file), 0) == 0 ||
        fnmatch(pat, f->func, 0) == 0 || fnmatch(pat, f->module, 0) == 0)
        return 1;
    return f->mod >= 0 && fnmatch(pat, s->modules[f->mod].path, 0) == 0;
}

static int trace_matches(const struct stats *st, const struct snap *s, long site,
                         const char *pat)
{
    if (!st->o.all_frames)
        return frame_matches(st, s, st->fr[site], pat);
    for (size_t i = 0; i < st->nfr; i++)
        if (frame_matches(st, s, st->fr[i], pat))
            return 1;
    return 0;
}

static int trace_kept(const struct stats *st, const struct snap *s, long site)
{
    int kept = st->o.ninclude == 0;
    for (int i = 0; i < st->o.ninclude && !kept; i++)
        kept = trace_matches(st, s, site, st->o.include[i]);
    for (int i = 0; i < st->o.nexclude && kept; i++)
        kept = !trace_matches(st, s, site, st->o.exclude[i]);
    return kept;
}

/* --- groups ------------------------------------------------------------ */

static int sb_add(struct strbuf *b, const char *s, size_t n)
{
    if (grow_array((void **)&b->p, &b->cap, b->len + n + 1, 1) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

/* A frame's file as shown: relative to the cwd when below it, or
 * "[module]" when there is no source file (no debug info), so that such
 * frames still group by where they are instead of into one "??:0". */
static const char *shown_file(struct stats *st, const struct sym_frame *f)
{
    if (strcmp(f->file, "??") != 0)
        return show_path(st, f->file);
    snprintf(st->nofile, sizeof(st->nofile), "[%s]", f->module);
    return st->nofile;
}

/* The printed parts of frame f under the key type. */
static void key_parts(struct stats *st, const struct sym_frame *f, const char **name,
                      int *line)
{
    *line = 0;
    switch (st->o.key) {
    case KEY_LINENO: *line = f->line; /* fall through */
    case KEY_FILENAME: *name = shown_file(st, f); break;
    case KEY_FUNCTION: *name = f->func; break;
    case KEY_MODULE: *name = f->module; break;
    case KEY_TRACEBACK: *name = shown_file(st, f); *line = f->line; break;
    }
}

/* Appends frame f's identity to the id being built. */
static int id_add(struct stats *st, const struct sym_frame *f)
{
    const char *name;
    int line;
    char num[24];
    key_parts(st, f, &name, &line);
    int n = snprintf(num, sizeof(num), "\x1f%d\x1f", line);
    if (sb_add(&st->id, name, strlen(name)) || sb_add(&st->id, num, n))
        return -1;
    if (st->o.key == KEY_TRACEBACK)
        return sb_add(&st->id, f->func, strlen(f->func));
    return 0;
}

static struct stat_entry *group_new(struct stats *st, const struct sym_frame *const *fr,
                                    int n)
{
    struct stat_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->id = strdup(st->id.p)) || !(e->frames = calloc(n, sizeof(*e->frames)))) {
        if (e)
            free(e->id);
        free(e);
        return NULL;
    }
    e->nframes = n;
    for (int i = 0; i < n; i++) {
        const char *name;
        key_parts(st, fr[i], &name, &e->frames[i].line);
        e->frames[i].file = strdup(name);
        e->frames[i].func = strdup(fr[i]->func);
        if (!e->frames[i].file || !e->frames[i].func) {
            entry_free(e);
            return NULL;
        }
    }
    HASH_ADD_KEYPTR(hh, st->groups, e->id, strlen(e->id), e);
    return e;
}

/* Charges size/count to the group of frames fr[0..n). */
static int group_charge(struct stats *st, const struct sym_frame *const *fr, int n,
                        const struct hsnap_stat *sv)
{
    struct stat_entry *e;
    st->id.len = 0;
    for (int i = 0; i < n; i++)
        if (id_add(st, fr[i]) < 0)
            return -1;
    HASH_FIND(hh, st->groups, st->id.p, st->id.len, e);
    if (!e && !(e = group_new(st, fr, n)))
        return -1;
    if (e->stamp == st->stamp)
        return 0; /* cumulative: this trace already counted here */
    e->stamp = st->stamp;
    /* Each snapshot's sums are bounded at load (report/load.c); many of them
     * together saturate rather than wrap. */
    if (__builtin_add_overflow(e->size, (int64_t)sv->live_bytes, &e->size))
        e->size = INT64_MAX;
    if (__builtin_add_overflow(e->count, (int64_t)sv->live_count, &e->count))
        e->count = INT64_MAX;
    return 0;
}

int stats_add(struct stats *st, const struct snap *s, struct symbolizer *z)
{
    return stats_add_values(st, s, z, s->stats);
}

int stats_add_values(struct stats *st, const struct snap *s, struct symbolizer *z,
                     const struct hsnap_stat *values)
{
    for (uint32_t t = 0; t < s->ntraces; t++) {
        const struct hsnap_stat *sv = &values[t];
        if (!sv->live_count && !sv->live_bytes)
            continue;
        long site = expand_trace(st, &s->traces[t], z);
        if (site < 0)
            return -1;
        if (!trace_kept(st, s, site))
            continue;
        st->stamp++;
        const struct sym_frame *const *fr = st->fr + site;
        int rest = (int)(st->nfr - site);
        if (st->o.key == KEY_TRACEBACK) {
            if (group_charge(st, fr, rest, sv) < 0)
                return -1;
            continue;
        }
        for (int i = 0; i < (st->o.cumulative ? rest : 1); i++)
            if (group_charge(st, fr + i, 1, sv) < 0)
                return -1;
    }
    return 0;
}

/* --leaked: per-trace sums over the blocks the model found leaked. */
static int stats_add_leaked_or_live(struct stats *st, const struct snap *s,
                                    struct symbolizer *z)
{
    if (!st->o.leaked)
        return stats_add(st, s, z);
    struct hsnap_stat *v = calloc(s->ntraces ? s->ntraces : 1, sizeof(*v));
    if (!v)
        return -1;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        const struct hsnap_block *b = &s->blocks[i];
        if (b->cls == HSNAP_CLASS_DIRECT || b->cls == HSNAP_CLASS_INDIRECT ||
            b->cls == HSNAP_CLASS_CYCLE) {
            v[b->trace].live_count++;
            v[b->trace].live_bytes += b->size;
        }
    }
    int rc = stats_add_values(st, s, z, v);
    free(v);
    return rc;
}

int stats_add_snap(struct stats *st, const struct snap *s, const char *path, char *err,
                   size_t errlen)
{
    struct symbolizer *z = NULL;
    if (st->o.leaked && !s->lk.present) {
        snprintf(err, errlen, "%s: no leak check in this snapshot (run with --leaks or "
                 "HEAPSNAP_LEAKS=1)", path);
        return -1;
    }
    for (size_t i = 0; i < st->nsyms && !z; i++)
        if (sym_same_map(st->syms[i], s))
            z = st->syms[i];
    if (!z) {
        if (grow_array((void **)&st->syms, &st->capsyms, st->nsyms + 1,
                       sizeof(*st->syms)) == 0 && (z = sym_new(s)))
            st->syms[st->nsyms++] = z;
    }
    if (!z || stats_add_leaked_or_live(st, s, z) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

int stats_compare(struct stats *newer, struct stats *older)
{
    struct stat_entry *e, *o, *tmp;
    HASH_ITER(hh, newer->groups, e, tmp) {
        HASH_FIND(hh, older->groups, e->id, strlen(e->id), o);
        e->size_diff = e->size - (o ? o->size : 0);
        e->count_diff = e->count - (o ? o->count : 0);
        if (o)
            o->seen = 1;
    }
    HASH_ITER(hh, older->groups, o, tmp) {
        if (o->seen)
            continue;
        HASH_DEL(older->groups, o);
        o->size_diff = -o->size;
        o->count_diff = -o->count;
        o->size = o->count = 0;
        HASH_ADD_KEYPTR(hh, newer->groups, o->id, strlen(o->id), o);
    }
    return 0;
}

/* --- order and output -------------------------------------------------- */

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* tracemalloc compares Tracebacks oldest frame first, frames by
 * (filename, lineno); function names only break remaining ties. */
static int cmp_key(const struct stat_entry *a, const struct stat_entry *b)
{
    int i = a->nframes - 1, j = b->nframes - 1, c;
    for (; i >= 0 && j >= 0; i--, j--) {
        if ((c = strcmp(a->frames[i].file, b->frames[j].file)) != 0)
            return c;
        if ((c = cmp_i64(a->frames[i].line, b->frames[j].line)) != 0)
            return c;
    }
    if (i >= 0 || j >= 0)
        return i >= 0 ? 1 : -1;
    for (i = 0; i < a->nframes; i++)
        if ((c = strcmp(a->frames[i].func, b->frames[i].func)) != 0)
            return c;
    return 0;
}

/* Descending (size, count, key): Statistic._sort_key, reverse=True. */
static int cmp_stat(const void *pa, const void *pb)
{
    const struct stat_entry *a = *(void *const *)pa, *b = *(void *const *)pb;
    int c = cmp_i64(b->size, a->size);
    if (!c) c = cmp_i64(b->count, a->count);
    return c ? c : cmp_key(b, a);
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/* Descending (|size_diff|, size, |count_diff|, count, key). */
static int cmp_diff(const void *pa, const void *pb)
{
    const struct stat_entry *a = *(void *const *)pa, *b = *(void *const *)pb;
    int c = cmp_i64(abs64(b->size_diff), abs64(a->size_diff));
    if (!c) c = cmp_i64(b->size, a->size);
    if (!c) c = cmp_i64(abs64(b->count_diff), abs64(a->count_diff));
    if (!c) c = cmp_i64(b->count, a->count);
    return c ? c : cmp_key(b, a);
}

static void print_entry(const struct stats *st, const struct stat_entry *e, FILE *out,
                        int diff)
{
    char key[4200], line[4600];
    const struct stat_frame *f = &e->frames[0];
    if (st->o.key == KEY_FUNCTION || st->o.key == KEY_MODULE)
        snprintf(key, sizeof(key), "%s", f->file);
    else
        snprintf(key, sizeof(key), "%s:%d", f->file, f->line);
    if (diff)
        fmt_statistic_diff(line, sizeof(line), key, e->size, e->size_diff, e->count,
                           e->count_diff);
    else
        fmt_statistic(line, sizeof(line), key, e->size, e->count);
    fprintf(out, "%s\n", line);
    if (st->o.key != KEY_TRACEBACK)
        return;
    for (int i = 0; i < e->nframes; i++)
        fprintf(out, "  File \"%s\", line %d, in %s\n", e->frames[i].file,
                e->frames[i].line, e->frames[i].func);
}

struct stat_entry **stats_sort(struct stats *st, int diff, size_t *n)
{
    size_t i = 0;
    struct stat_entry *e, *tmp;
    *n = HASH_COUNT(st->groups);
    free(st->sorted);
    st->sorted = malloc((*n ? *n : 1) * sizeof(*st->sorted));
    if (!st->sorted)
        return NULL;
    HASH_ITER(hh, st->groups, e, tmp) st->sorted[i++] = e;
    st->nsorted = *n;
    qsort(st->sorted, *n, sizeof(*st->sorted), diff ? cmp_diff : cmp_stat);
    return st->sorted;
}

struct stat_entry *stats_find(struct stats *st, const char *id)
{
    struct stat_entry *e;
    HASH_FIND(hh, st->groups, id, strlen(id), e);
    return e;
}

int stats_print(struct stats *st, FILE *out, int diff)
{
    size_t n, i;
    if (!stats_sort(st, diff, &n))
        return -1;
    if (st->o.limit > 0 && (size_t)st->o.limit < n)
        n = (size_t)st->o.limit;
    for (i = 0; i < n; i++)
        print_entry(st, st->sorted[i], out, diff);
    return 0;
}
