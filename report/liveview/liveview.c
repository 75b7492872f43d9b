/*
 * liveview.c - the screen of `heapsnap live` (liveview.h): heap now, peak,
 * RSS and allocation rate, then the sites by live bytes with their growth
 * since the view opened, from the process's state file.
 *
 * Each refresh reads the file with state_load (the last document with the
 * cells' live sums, at no cost to the process),
 * groups it with the model's stats (the key: line, function, traceback)
 * against the first read (the growth), and sorts by live bytes, growth or
 * allocations.  A thread is known by the function it started in: the
 * outermost frame of a stack that is not libc's start-up (main for the
 * main thread, the start routine for the others); the state keeps no
 * thread ids per site.  Symbols are resolved here, in the CLI, and kept
 * from one refresh to the next (frames_get, until frames_fini).
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fmt.h"
#include "frames.h"
#include "liveview.h"
#include "stateread.h"
#include "stats.h"

enum { LV_SORT_LIVE, LV_SORT_GROWTH, LV_SORT_ALLOCS, LV_NSORT };
static const char *const lv_sort_names[] = {"live", "growth", "allocations"};
static const enum stats_key lv_keys[] = {KEY_LINENO, KEY_FUNCTION, KEY_TRACEBACK, KEY_THREAD};
static const char *const lv_key_names[] = {"line", "function", "traceback", "thread"};
#define LV_NKEY 4
/* Reads between two resets of the symbols (frames_fini): frames_get keeps a
 * table per snapshot read, which a view that reads once a second would
 * grow without end; a reset costs a symbolization again. */
#define LV_RESET 120

struct lview {
    pid_t pid;
    char comm[64], path[64], quit_label[32];
    struct snap base, now;     /* the first read, the last */
    int *base_root, *now_root; /* each trace's thread (an index of roots) */
    char **roots;              /* thread start functions seen, in order */
    size_t nroots, caproots;
    struct timespec opened, last;
    uint64_t last_allocs;      /* allocations at the last read */
    double rate;               /* per second, between the last two reads */
    uint64_t rss;              /* bytes */
    int key, sort, thread;     /* thread: -1 all, else an index of roots */
    unsigned reads;            /* since the last reset (LV_RESET) */
    struct stats *st;
    struct stat_entry **rows;  /* st's groups in the chosen order */
    size_t nrows;
    char status[512];
};

static double lv_secs(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* libc's start-up frames, which begin every thread's stack. */
static int lv_startup(const struct frame *f)
{
    static const char *const fns[] = {"_start", "__libc_start_main", "__libc_start_call_main",
                                      "start_thread", "clone", "clone3"};
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        if (!strncmp(f->func, fns[i], strlen(fns[i])) &&
            (!f->func[strlen(fns[i])] || f->func[strlen(fns[i])] == '@'))
            return 1;
    return !strncmp(f->module, "libc.so", 7) || !strncmp(f->module, "ld-linux", 8);
}

/* The index in roots of name, added when new; -1 when out of memory. */
static int lv_root_index(struct lview *v, const char *name)
{
    for (size_t i = 0; i < v->nroots; i++)
        if (!strcmp(v->roots[i], name))
            return (int)i;
    if (grow_array((void **)&v->roots, &v->caproots, v->nroots + 1, sizeof *v->roots) < 0 ||
        !(v->roots[v->nroots] = strdup(name)))
        return -1;
    return (int)v->nroots++;
}

/* Each trace of s's thread start function, into a new array. */
static int *lv_roots(struct lview *v, const struct snap *s)
{
    int *r = big_calloc(s->ntraces + 1, sizeof *r);
    for (uint32_t ti = 0; r && ti < s->ntraces; ti++) {
        const struct frames_trace *t = frames_get(s, ti);
        const char *name = "<unknown>";
        for (int i = t ? t->n - 1 : -1; i >= 0; i--)
            if (!lv_startup(t->fr[i])) {
                name = t->fr[i]->func;
                break;
            }
        r[ti] = lv_root_index(v, name);
    }
    return r;
}

/* s's stats with the other threads' traces zeroed (the thread filter). */
static struct hsnap_stat *lv_values(const struct lview *v, const struct snap *s, const int *root)
{
    struct hsnap_stat *out = big_calloc(s->ntraces + 1, sizeof *out);
    for (uint32_t ti = 0; out && ti < s->ntraces; ti++)
        if (v->thread < 0 || root[ti] == v->thread)
            out[ti] = s->stats[ti];
    return out;
}

static int lv_cmp(const void *pa, const void *pb, void *arg)
{
    const struct stat_entry *a = *(struct stat_entry *const *)pa, *b = *(struct stat_entry *const *)pb;
    int sort = *(const int *)arg;
    int64_t x = sort == LV_SORT_GROWTH ? a->size_diff : sort == LV_SORT_ALLOCS ? a->alloc_count : a->size;
    int64_t y = sort == LV_SORT_GROWTH ? b->size_diff : sort == LV_SORT_ALLOCS ? b->alloc_count : b->size;
    if (x != y)
        return x < y ? 1 : -1;
    if (a->size != b->size)
        return a->size < b->size ? 1 : -1;
    return strcmp(a->id, b->id);
}

/* The rows again from base and now, with the key, sort and thread set. */
static void lv_group(struct lview *v)
{
    struct stats_opts o = {0};
    o.key = lv_keys[v->key];
    o.sort = v->sort == LV_SORT_ALLOCS ? SORT_ALLOCATIONS : SORT_LIVE;
    o.totals = 1; /* its allocations column */
    stats_free(v->st);
    free(v->rows);
    v->rows = NULL;
    v->nrows = 0;
    v->st = stats_new(&o);
    struct stats *old = stats_new(&o);
    struct hsnap_stat *now = lv_values(v, &v->now, v->now_root);
    struct hsnap_stat *base = lv_values(v, &v->base, v->base_root);
    size_t n = 0;
    struct stat_entry **e = NULL;
    if (!v->st || !old || !now || !base || stats_add_values(v->st, &v->now, now) < 0 ||
        stats_add_values(old, &v->base, base) < 0 || stats_compare(v->st, old) < 0 ||
        !(e = stats_sort(v->st, 1, &n)) || !(v->rows = malloc((n + 1) * sizeof *v->rows))) {
        lview_say(v, "out of memory");
    } else {
        memcpy(v->rows, e, n * sizeof *e);
        qsort_r(v->rows, n, sizeof *v->rows, lv_cmp, &v->sort);
        v->nrows = n;
    }
    free(now);
    free(base);
    stats_free(old);
}

/* The process's resident set, from /proc (0 when gone). */
static uint64_t lv_rss(pid_t pid)
{
    char path[64];
    unsigned long long size = 0, res = 0;
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "re");
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t lv_allocs(const struct snap *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->ntraces; i++)
        n += s->stats[i].total_count;
    return n;
}

/* The state read into *s and its roots into *root: 0, or -1 (status said). */
static int lv_load(struct lview *v, struct snap *s, int **root, char *err, size_t errlen)
{
    struct state_info info;
    if (state_load(v->path, s, &info, err, errlen) != 0)
        return -1;
    if (!(*root = lv_roots(v, s))) {
        snap_free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

struct lview *lview_new(pid_t pid, const char *comm, const char *path, const char *quit_label,
                        char *err, size_t errlen)
{
    struct lview *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->pid = pid;
    v->thread = -1;
    snprintf(v->comm, sizeof v->comm, "%s", comm);
    snprintf(v->path, sizeof v->path, "%s", path);
    snprintf(v->quit_label, sizeof v->quit_label, "%s", quit_label);
    if (lv_load(v, &v->base, &v->base_root, err, errlen) != 0 ||
        lv_load(v, &v->now, &v->now_root, err, errlen) != 0) {
        lview_free(v);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &v->opened);
    v->last = v->opened;
    v->last_allocs = lv_allocs(&v->now);
    v->rss = lv_rss(pid);
    lv_group(v);
    return v;
}

/* The reads and what was derived from them, gone. */
static void lv_drop(struct lview *v)
{
    stats_free(v->st);
    v->st = NULL;
    free(v->rows);
    v->rows = NULL;
    v->nrows = 0;
    snap_free(&v->now);
    snap_free(&v->base);
    free(v->now_root);
    free(v->base_root);
    v->now_root = v->base_root = NULL;
}

void lview_free(struct lview *v)
{
    if (!v)
        return;
    lv_drop(v);
    for (size_t i = 0; i < v->nroots; i++)
        free(v->roots[i]);
    free(v->roots);
    free(v);
}

int lview_restart(struct lview *v, const char *comm)
{
    char err[512];
    lv_drop(v);
    snprintf(v->comm, sizeof v->comm, "%s", comm);
    v->thread = -1;
    if (lv_load(v, &v->base, &v->base_root, err, sizeof err) != 0 ||
        lv_load(v, &v->now, &v->now_root, err, sizeof err) != 0) {
        lview_say(v, err);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &v->opened);
    v->last = v->opened;
    v->last_allocs = lv_allocs(&v->now);
    v->rate = 0;
    lv_group(v);
    lview_say(v, "the program was replaced (exec): the view starts again");
    return 0;
}

void lview_refresh(struct lview *v)
{
    struct snap s;
    int *root = NULL;
    char err[512];
    struct timespec t;
    if (lv_load(v, &s, &root, err, sizeof err) != 0) {
        lview_say(v, err);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t allocs = lv_allocs(&s);
    double dt = lv_secs(&v->last, &t);
    if (dt > 0.05 && allocs != v->last_allocs) {
        v->rate = allocs > v->last_allocs ? (double)(allocs - v->last_allocs) / dt : 0;
        v->last_allocs = allocs;
        v->last = t;
    } else if (dt > 3) { /* no document for a while: nothing was allocated */
        v->rate = 0;
        v->last = t;
    }
    stats_free(v->st); /* its groups name frames that a reset frees */
    v->st = NULL;
    free(v->rows);
    v->rows = NULL;
    v->nrows = 0;
    if (++v->reads >= LV_RESET) {
        frames_fini();
        v->reads = 0;
    }
    snap_free(&v->now);
    free(v->now_root);
    v->now = s;
    v->now_root = root;
    v->rss = lv_rss(v->pid);
    lv_group(v);
}

void lview_say(struct lview *v, const char *msg)
{
    snprintf(v->status, sizeof v->status, "%s", msg);
}

int lview_getkey(void)
{
    int ch = getch();
    return ch == ERR ? -1 : ch;
}

int lview_key(struct lview *v, int ch)
{
    switch (ch) {
    case 'q': case 'Q': return LVIEW_QUIT;
    case 'w': return LVIEW_SNAPSHOT;
    case 'k': v->key = (v->key + 1) % LV_NKEY; break;
    case 'l': v->key = 0; break;
    case 'f': v->key = 1; break;
    case 'b': v->key = 2; break;
    case 'h': v->key = 3; break; /* by the thread that allocated (THREADS) */
    case 's': v->sort = (v->sort + 1) % LV_NSORT; break;
    case 't': v->thread = v->thread + 1 >= (int)v->nroots ? -1 : v->thread + 1; break;
    default: return LVIEW_NONE;
    }
    lv_group(v);
    return LVIEW_NONE;
}

int lview_open(char *err, size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "live: needs a terminal (stdin and stdout); for a file, use "
                 "heapsnap attach and heapsnap top");
        return -1;
    }
    if (!initscr()) {
        snprintf(err, errlen, "live: cannot use the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
        return -1;
    }
    cbreak();
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    return 0;
}

void lview_close(void)
{
    endwin();
}

/* One line at row y, cut to the screen's width. */
static void lv_line(int y, int attr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lv_line(int y, int attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    attrset(attr);
    mvaddnstr(y, 0, buf, COLS);
    clrtoeol();
    attrset(A_NORMAL);
}

/* Line k (0 to 3) of the head into buf: the process, what is traced,
 * the figures, the keys. */
static void lv_head_line(struct lview *v, int k, char *buf, size_t n)
{
    char heap[32], peak[32], rss[32], note[160] = "", tn[160];
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int open = (int)lv_secs(&v->opened, &t);
    fmt_size(heap, sizeof heap, (double)v->now.meta.current_bytes, 0);
    fmt_size(peak, sizeof peak, (double)v->now.meta.peak_bytes, 0);
    fmt_size(rss, sizeof rss, (double)v->rss, 0);
    snprintf(tn, sizeof tn, "%s", v->thread < 0 ? "all" : v->roots[v->thread]);
    if (k == 0)
        snprintf(buf, n, "heapsnap live: pid %d (%s)   open %d:%02d   refresh 1 s", (int)v->pid,
                 v->comm, open / 60, open % 60);
    else if (k == 1 && snap_attached_note(&v->now, note, sizeof note))
        snprintf(buf, n, "  %s", note);
    else if (k == 1)
        snprintf(buf, n, "  traced since the start");
    else if (k == 2)
        snprintf(buf, n, "heap %s   peak %s   RSS %s   allocations %.0f/s   sites %u", heap,
                 peak, rss, v->rate, v->now.ntraces);
    else
        snprintf(buf, n, "key %s [k]   sort %s [s]   thread %s [t]   snapshot [w]   %s [q]",
                 lv_key_names[v->key], lv_sort_names[v->sort], tn, v->quit_label);
}

static void lv_columns(const struct lview *v, char *buf, size_t n)
{
    snprintf(buf, n, "%10s %11s %9s %10s  %s", "LIVE", "GROWTH", "COUNT", "ALLOCS",
             v->key == 1 ? "FUNCTION" : v->key == 2 ? "TRACEBACK" : v->key == 3 ? "THREAD" : "LINE");
}

/* Row e into buf (its key's text), or 1 when the rows end here (the
 * sort by live bytes reached sites with nothing live). */
static int lv_row(const struct lview *v, const struct stat_entry *e, char *buf, size_t n)
{
    char key[1024], live[32], grow[32];
    if (v->sort == LV_SORT_LIVE && !e->size)
        return 1;
    stats_key(lv_keys[v->key], e, key, sizeof key);
    fmt_size(live, sizeof live, (double)e->size, 0);
    fmt_size(grow, sizeof grow, (double)e->size_diff, 1);
    snprintf(buf, n, "%10s %11s %9lld %10lld  %s", live, grow, (long long)e->count,
             (long long)e->alloc_count, key);
    return 0;
}

static void lv_head(struct lview *v)
{
    char line[1024];
    for (int k = 0; k < 4; k++) {
        lv_head_line(v, k, line, sizeof line);
        lv_line(k, k == 0 || k == 2 ? A_BOLD : A_NORMAL, "%s", line);
    }
    lv_columns(v, line, sizeof line);
    lv_line(5, A_REVERSE, "%s", line);
}

void lview_print(struct lview *v, FILE *out, size_t rows)
{
    char line[1400];
    for (int k = 0; k < 3; k++) {
        lv_head_line(v, k, line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    lv_columns(v, line, sizeof line);
    fprintf(out, "%s\n", line);
    size_t i = 0;
    for (; i < v->nrows && i < rows && !lv_row(v, v->rows[i], line, sizeof line); i++)
        fprintf(out, "%s\n", line);
    if (!i)
        fprintf(out, "  (nothing live yet)\n");
    if (v->status[0])
        fprintf(out, "  %s\n", v->status);
    fprintf(out, "\n");
    fflush(out);
}

void lview_draw(struct lview *v)
{
    erase();
    lv_head(v);
    int y = 6, last = LINES - 2;
    for (size_t i = 0; i < v->nrows && y < last; i++) {
        const struct stat_entry *e = v->rows[i];
        char row[1400], where[300];
        if (lv_row(v, e, row, sizeof row))
            break; /* nothing live from here on */
        lv_line(y++, A_NORMAL, "%s", row);
        for (int f = e->head + 1; v->key == 2 && f < e->nframes && f <= e->head + 4 && y < last; f++)
            lv_line(y++, A_DIM, "%44s %s:%d in %s", "", frames_where(e->frames[f], where,
                    sizeof where), e->frames[f]->line, e->frames[f]->func);
    }
    if (!v->nrows)
        lv_line(y, A_DIM, "  (nothing live yet)");
    lv_line(LINES - 1, A_REVERSE, "%s", v->status[0] ? v->status : " ");
    clearok(curscr, TRUE); /* the program's own output may have written over it */
    refresh();
}
