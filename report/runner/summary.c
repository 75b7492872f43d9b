/*
 * summary.c - the few lines `heapsnap run` ends with, on stderr, as
 * valgrind and LeakSanitizer end theirs and heaptrack names the command
 * that analyzes its file: the traced peak and the site that held most of
 * it (top --peak's first line), the heap at exit, the address space
 * reserved beside it (MAPPED, when any), under --leaks the LEAK
 * SUMMARY `heapsnap leaks` prints (the program's own suppressions
 * applied) and the largest record of each of its SUMMARY_SITES largest
 * sites, with its stack, and the command to run next: top --peak when the peak dwarfs
 * the heap at exit, leaks when something leaked, else top.
 *
 * One process is summarized, at its latest snapshot (as `top` reads a
 * series): of several, the program's when run's name has no %p and the
 * pid run started wrote it (its fork children add their pid), else the one
 * of largest peak (a shell's child, not the shell), and a line says so.  Only each process's latest snapshot is
 * read (the socket names the writer of each), at most SUMMARY_LOOK of
 * them, so a long series or a big process tree costs a few loads.
 * Reading costs a load and the symbolization of the peak's traces, which
 * `run -q` skips.
 */
#include <malloc.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fmt.h"
#include "cli.h"
#include "dbgsym.h"
#include "frames.h"
#include "lossprint.h"
#include "lossrec.h"
#include "peakread.h"
#include "stats.h"
#include "runner.h"
#include "supp.h"

#define SUMMARY_LOOK 16 /* snapshots read at most */
#define SUMMARY_PAD (16 << 20) /* bytes the heap grows by at least */
#define SUMMARY_MMAP (32 << 20) /* blocks from a mapping of their own: glibc's most */
#define SUMMARY_DWARF 4 /* a peak this many times the heap at exit is the story */
#define SUMMARY_CHUNK 16 /* stacks added first, then twice as many each time */
#define SUMMARY_SITES 5 /* --leaks: the sites whose largest record is shown */

/* path as a shell word for a command to copy: as it is when plain,
 * else in single quotes. */
static const char *summary_word(const char *path, char *buf, size_t n)
{
    char shown[4096];
    const char *p = esc_text(fmt_path(path), shown, sizeof(shown));
    if (strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/%+-@,=:") ==
        strlen(p))
        snprintf(buf, n, "%s", p);
    else {
        size_t k = 0;
        buf[k++] = '\'';
        for (; *p && k + 6 < n; p++) {
            if (*p == '\'') {
                memcpy(buf + k, "'\\''", 4);
                k += 4;
            } else
                buf[k++] = *p;
        }
        buf[k++] = '\'';
        buf[k] = 0;
    }
    return buf;
}

/* What the lines need: the traces, PEAK and PYCODE (the peak's top
 * line), STATS and MAPPED (how much of the peak's mappings was touched:
 * peak_resident; STATS only where a trace is of the mmap kind, whose sums
 * alone the lines read), and under --leaks BLOCKS, LEAKS and SUPPRESSIONS; not
 * the Python objects, the series nor the temporaries, which in a short
 * Python run are most of the file, nor RETAINERS and HOLDERS, which only
 * `leaks --why` and `top --retainers` read (a million linked blocks from
 * 90k stacks: 38 MB to inflate, half the summary's instructions). */
static uint32_t summary_skip(int leaks)
{
    uint32_t skip = SNAP_SKIP_LINES | SNAP_SKIP_EXTRAS | SNAP_SKIP_PYOBJ | SNAP_SEC(RETAINERS) |
                    SNAP_SEC(HOLDERS) | SNAP_SKIP_STATS_UNMAPPED;
    if (!leaks) /* and what only the leak report reads */
        skip |= SNAP_SEC(BLOCKS) | SNAP_SEC(LEAKS) | SNAP_SEC(SUPPRESSIONS);
    return skip;
}

/* The exit snapshot read ahead (summary_preload): its path, the file as it
 * was read (a file written again since is read again), the load until
 * summary_pick takes it, and the peak's line made from it. */
static struct {
    char *path;
    struct stat st;
    struct snap s;
    int taken;
    char *peak;
    struct dbg_mark dbg_from, dbg_to; /* the modules its peak's line met */
} pre;

static void summary_peak(const struct snap *s, FILE *out);

/* The read-ahead snapshot of path, taken into *s, when it is that file
 * still; 0, else -1. */
static int summary_take_pre(const char *path, struct snap *s)
{
    struct stat st;
    if (!pre.path || pre.taken || strcmp(pre.path, path) || stat(path, &st) != 0 ||
        st.st_ino != pre.st.st_ino || st.st_dev != pre.st.st_dev ||
        st.st_size != pre.st.st_size || st.st_mtim.tv_sec != pre.st.st_mtim.tv_sec ||
        st.st_mtim.tv_nsec != pre.st.st_mtim.tv_nsec)
        return -1;
    *s = pre.s;
    pre.taken = 1;
    return 0;
}

static void summary_drop_pre(void)
{
    if (pre.path && !pre.taken) {
        snap_free(&pre.s);
        dbg_forget(pre.dbg_from, pre.dbg_to); /* not this run's note */
    }
    free(pre.path);
    free(pre.peak);
    memset(&pre, 0, sizeof pre);
}

/* Of the snapshots summary_pick read, the one of largest peak other than
 * the one it picked: a wrapper's child (a shell's several commands, a
 * program's workers) that peaked higher than the program is named too. */
struct summary_other {
    const char *path;
    uint32_t pid;
    uint64_t peak;
    char exe[64];
};

/* The peak summary_peak reports. */
static uint64_t summary_peak_bytes(const struct snap *s)
{
    return s->has_peak ? s->peak.bytes : s->meta.peak_bytes;
}

/* t (read from path) as a candidate for o; o->path NULL: none yet. */
static void summary_other_see(struct summary_other *o, const struct snap *t, const char *path)
{
    if (o->path && summary_peak_bytes(t) <= o->peak)
        return;
    const char *base = strrchr(t->exe, '/');
    o->path = path;
    o->pid = t->meta.pid;
    o->peak = summary_peak_bytes(t);
    snprintf(o->exe, sizeof o->exe, "%s", base ? base + 1 : t->exe);
}

/* Of mf's snapshots, the latest of each process (by the pid the socket
 * named; one told through the file stands alone), the latest first, at
 * most SUMMARY_LOOK of them read: the one at named written by the pid run
 * started (the program's, when run was given a name without %p) or else
 * the one of largest peak into *s, its path in *path, and in *nproc how
 * many processes wrote; in *other the largest peak of the rest read.  1
 * when it is the program's, 0 when of largest peak, -1 when none loads
 * (why: the first load's error, "" when there was none to load). */
static int summary_pick(const struct manifest *mf, const char *named, pid_t program, int leaks,
                        struct snap *s, const char **path, size_t *nproc,
                        struct summary_other *other, char *why, size_t whylen)
{
    uint32_t skip = summary_skip(leaks);
    char err[512];
    why[0] = 0;
    int found = 0, got_named = 0;
    size_t looked = 0;
    *nproc = 0;
    memset(other, 0, sizeof *other);
    for (size_t i = mf->n; i-- > 0;) {
        pid_t pid = mf->e[i].pid;
        int later = 0; /* a later snapshot of the same process */
        for (size_t k = i + 1; pid && !later && k < mf->n; k++)
            later = mf->e[k].pid == pid;
        if (later)
            continue;
        ++*nproc;
        int is_named = named && !strcmp(mf->e[i].path, named);
        struct snap t;
        if (looked >= SUMMARY_LOOK && !is_named)
            continue;
        looked++;
        if (summary_take_pre(mf->e[i].path, &t) < 0 &&
            snap_load_skip(mf->e[i].path, &t, skip, err, sizeof(err)) < 0) {
            if (!why[0])
                snprintf(why, whylen, "%s", err);
            continue;
        }
        is_named = is_named && (pid_t)t.meta.pid == program;
        if (found && !is_named && (got_named || t.meta.peak_bytes <= s->meta.peak_bytes)) {
            summary_other_see(other, &t, mf->e[i].path);
            snap_free(&t);
            continue;
        }
        if (found) {
            summary_other_see(other, s, *path);
            snap_free(s);
        }
        *s = t;
        *path = mf->e[i].path;
        found = 1;
        got_named = is_named;
    }
    return found ? (got_named ? 1 : 0) : -1;
}

/* Trace ti's words into *ips; how many, or -1. */
static int summary_words(const struct snap *s, uint32_t ti, uint64_t **ips, size_t *cap)
{
    const struct snap_trace *t = &s->traces[ti];
    if (grow_array((void **)ips, cap, (size_t)t->depth + 1, sizeof(**ips)) < 0)
        return -1;
    snap_trace_ips(s, t, *ips);
    return t->depth;
}

/* A trace's answer to summary_in_module, for the module asked last. */
struct summary_in {
    const char *path;
    int in;
};

/* Whether trace ti has a word in the module at path: only such a trace
 * can have a frame of it, hence a share of a line keyed by it.  memo:
 * the trace's last answer, kept while the first line stays the same. */
static int summary_in_module(const struct snap *s, uint32_t ti, const char *path, uint64_t **ips,
                             size_t *cap, struct summary_in *memo)
{
    if (memo->path == path)
        return memo->in;
    memo->path = path;
    memo->in = 0;
    int n = summary_words(s, ti, ips, cap);
    for (int i = 0; i < n; i++) {
        const struct snap_module *m =
            HSNAP_IS_PYFRAME((*ips)[i]) ? NULL : snap_module_in(s, ti, (*ips)[i]);
        if (m && !strcmp(m->path, path))
            return memo->in = 1;
    }
    if (n < 0)
        memo->path = NULL;
    return n < 0 ? -1 : 0;
}

/* The module of a line keyed by it ("func (module)", "module+0x...",
 * "[module]:0": no file), whose sum only stacks with a word in that module
 * can change; NULL for any other line. */
static const char *summary_key_module(const struct stat_entry *e)
{
    const struct frame *f = e->frames ? e->frames[e->head] : NULL;
    return f && !frames_has_file(f) && !f->pymodule && f->module[0] != '<' && f->path[0]
               ? f->path : NULL;
}

/* What the traces not yet added are asked about the first line: whether
 * they may be of it.  Memos hold while the first line stays the same. */
struct summary_first {
    const struct frame *f;     /* the first line's frame (NULL: none asked yet) */
    struct summary_in *in;     /* a line keyed by its module: by trace */
    uint8_t *codes;            /* a Python line: by code, 1 of another file, 2 of its
                                  file (0: not asked) */
    uint8_t *nodes;            /* and by node of a compressed TRACES: 1 no word of
                                  the line from it outward, 2 one (0: not asked) */
    uint32_t *walk;            /* scratch: the nodes on the way to a known one */
    size_t capwalk;
    uint64_t *ips;             /* scratch: a trace's words */
    size_t cap;
    uint32_t *found;           /* scratch: the traces that may be of it */
    size_t capfound;
};

/* Whether word w may be a frame of the Python line q->f: a Python word of
 * a code whose file shows as f's, at f's line (of a code s does not
 * hold: it may). */
static int summary_py_word(const struct snap *s, struct summary_first *q, uint64_t w)
{
    int line;
    if (!HSNAP_IS_PYFRAME(w))
        return 0;
    uint64_t k = pycode_word_code(w);
    if (k >= s->npycodes)
        return 1;
    if (!q->codes[k])
        q->codes[k] = strcmp(fmt_path(s->pycodes[k].file), q->f->file) ? 1 : 2;
    if (q->codes[k] == 1)
        return 0;
    pycode_of_word(s, w, &line);
    return (line > 0 ? line : 0) == q->f->line;
}

/* Whether trace ti has a word of the Python line q->f (its site is one of
 * its Python words); the answer of a node of a compressed TRACES is kept
 * for every trace through it, read from its innermost Python frame
 * (snap_trace.pynode) out: the native frames under it hold no such word.
 * 1, 0, or -1. */
static int summary_py_in(const struct snap *s, struct summary_first *q, uint32_t ti)
{
    const struct snap_trace *t = &s->traces[ti];
    uint32_t node = s->pynodes ? t->pynode : t->node, top = node;
    size_t n = 0;
    if (t->ips || !s->nodes) {
        int k = summary_words(s, ti, &q->ips, &q->cap);
        for (int i = 0; i < k; i++)
            if (summary_py_word(s, q, q->ips[i]))
                return 1;
        return k < 0 ? -1 : 0;
    }
    for (; node && !q->nodes[node]; node = s->nodes[node].parent) {
        if (grow_array((void **)&q->walk, &q->capwalk, n + 1, sizeof(*q->walk)) < 0)
            return -1;
        q->walk[n++] = node;
    }
    uint8_t in = node ? q->nodes[node] : 1;
    while (n-- > 0) {
        uint32_t x = q->walk[n];
        if (in == 1 && summary_py_word(s, q, s->iptab[s->nodes[x].ipx]))
            in = 2;
        q->nodes[x] = in;
    }
    return top && q->nodes[top] == 2;
}

/* The traces of order[next..n) that may be of the line of frame f: of a
 * Python line (frames_has_file), those with a word of it; of a line keyed
 * by module mod, those with a word in that module.  They move to the
 * front of order[next..n), the others keep their order after them: how
 * many, or -1 when out of memory. */
static int64_t summary_gather(const struct snap *s, const struct frame *f, const char *mod,
                              struct summary_first *q, uint32_t *order, uint32_t next,
                              uint32_t n)
{
    uint32_t c = 0, kept = next;
    if (!mod && f != q->f) {
        if ((!q->codes && !(q->codes = malloc(s->npycodes + 1))) ||
            (!q->nodes && !(q->nodes = big_malloc((size_t)s->nnodes + 1))))
            return -1;
        memset(q->codes, 0, s->npycodes + 1);
        memset(q->nodes, 0, (size_t)s->nnodes + 1);
    }
    q->f = f;
    if (mod && !q->in && !(q->in = big_calloc(s->ntraces ? s->ntraces : 1, sizeof(*q->in))))
        return -1;
    if (grow_array((void **)&q->found, &q->capfound, (size_t)(n - next) + 1, sizeof(*q->found)) < 0)
        return -1;
    for (uint32_t i = next; i < n; i++) {
        uint32_t ti = order[i];
        int in = mod ? summary_in_module(s, ti, mod, &q->ips, &q->cap, &q->in[ti])
                     : summary_py_in(s, q, ti);
        if (in < 0)
            return -1;
        if (in)
            q->found[c++] = ti;
        else
            order[kept++] = ti;
    }
    memmove(order + next + c, order + next, (size_t)(kept - next) * sizeof(*order));
    memcpy(order + next, q->found, (size_t)c * sizeof(*order));
    return c;
}

static const struct hsnap_stat *summary_by;
static const uint8_t *summary_py; /* by trace: 1 a Python stack */

/* Python stacks first, then by bytes, descending. */
static int summary_order(const void *pa, const void *pb)
{
    uint32_t ta = *(const uint32_t *)pa, tb = *(const uint32_t *)pb;
    uint64_t a = summary_by[ta].live_bytes, b = summary_by[tb].live_bytes;
    if (summary_py[ta] != summary_py[tb])
        return summary_py[ta] ? -1 : 1;
    return (a < b) - (a > b);
}

/* A trace to sort: its bytes' complement, its index. */
struct summary_kv {
    uint64_t key;
    uint32_t ti;
};

/* order[0, n) by by[ti].live_bytes, descending, equal ones left in their
 * order (summary_order's as a stable sort applies it): an LSD radix sort
 * of the bytes' complement, one counting pass a byte in which the keys
 * differ.  At 100k traces qsort's calls of summary_order were most of
 * the sort's instructions.  0, or -1 out of memory. */
static int summary_sort_bytes(uint32_t *order, size_t n, const struct hsnap_stat *by)
{
    if (n < 2)
        return 0;
    struct summary_kv *mem = malloc(2 * n * sizeof(*mem)), *a = mem, *b = mem + n;
    if (!mem)
        return -1;
    uint64_t any = 0, all = ~0ull;
    for (size_t i = 0; i < n; i++) {
        a[i] = (struct summary_kv){~by[order[i]].live_bytes, order[i]};
        any |= a[i].key;
        all &= a[i].key;
    }
    for (unsigned sh = 0; sh < 64; sh += 8) {
        if (!((any ^ all) >> sh & 0xff)) /* the same byte in every key */
            continue;
        size_t at[257] = {0};
        for (size_t i = 0; i < n; i++)
            at[(a[i].key >> sh & 0xff) + 1]++;
        for (unsigned d = 1; d < 257; d++)
            at[d] += at[d - 1];
        for (size_t i = 0; i < n; i++)
            b[at[a[i].key >> sh & 0xff]++] = a[i];
        struct summary_kv *t = a;
        a = b, b = t;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = a[i].ti;
    free(mem);
    return 0;
}

/* order[0, n) as qsort with summary_order leaves it (a stable merge sort
 * in glibc): the Python stacks first, each kind by bytes, descending, in
 * trace order among equals.  0, or -1 out of memory. */
static int summary_sort(uint32_t *order, uint32_t n, uint32_t npy, const uint8_t *py,
                        const struct hsnap_stat *by)
{
    uint32_t *part = malloc((n ? n : 1) * sizeof(*part));
    if (!part)
        return -1;
    uint32_t p = 0, c = npy;
    for (uint32_t i = 0; i < n; i++)
        part[py[order[i]] ? p++ : c++] = order[i];
    memcpy(order, part, (size_t)n * sizeof(*order));
    free(part);
    return summary_sort_bytes(order, npy, by) < 0 ||
                   summary_sort_bytes(order + npy, n - npy, by) < 0
               ? -1
               : 0;
}

/* The traces of s with something at the peak into order (Python stacks
 * first, then each kind by bytes, descending; *npy Python ones), their
 * bytes in *rest: how many, or -1 when out of memory. */
static int64_t summary_traces(const struct snap *s, uint32_t *order, uint32_t *npy,
                              uint64_t *rest)
{
    uint8_t *py = big_malloc(s->ntraces ? s->ntraces : 1);
    uint32_t n = 0;
    *npy = 0;
    if (!py)
        return -1;
    for (uint32_t ti = 0; ti < s->ntraces; ti++) {
        const struct hsnap_stat *sv = &s->peak_stats[ti];
        if (!sv->live_count && !sv->live_bytes)
            continue;
        int p = frames_has_python(s, ti);
        if (p < 0) {
            free(py);
            return -1;
        }
        py[ti] = (uint8_t)p;
        *npy += (uint32_t)p;
        order[n++] = ti, *rest += sv->live_bytes;
    }
    summary_by = s->peak_stats;
    summary_py = py;
    if (summary_sort(order, n, *npy, py, s->peak_stats) < 0)
        qsort(order, n, sizeof(*order), summary_order); /* the same order, slower */
    free(py);
    return n;
}

/* The peak's line of most bytes, as `top --peak`'s first line, into st,
 * symbolizing as few stacks as the answer needs (their DWARF, the
 * interpreter's in a Python process and libc's separate debug file, and
 * a Python start-up's thousands of lines, are most of the summary's time
 * and memory).  The Python stacks first, biggest first in chunks that
 * double, until the first line is a Python line ahead of the second by
 * more than every stack not yet added, and every Python stack with a word
 * of it is added; then the stacks without a Python frame, biggest first
 * from one, until the first line is ahead so and no stack not yet added
 * can grow it: a Python line, or a line keyed by its module (a stack
 * without a word there cannot be of it) once every stack with such a word
 * is added.  Its entry (NULL: none, or out of memory). */
static struct stat_entry *summary_top(struct stats *st, const struct snap *s)
{
    uint32_t nt = s->ntraces, npy, next = 0, take, chunk = SUMMARY_CHUNK, nchunk = 1;
    uint32_t *order = malloc((nt ? nt : 1) * sizeof(*order));
    struct summary_first q = {0};
    uint64_t rest = 0;
    struct stat_entry **e = NULL;
    size_t ne = 0;
    int64_t n = order ? summary_traces(s, order, &npy, &rest) : -1;
    if (n < 0)
        goto out;
    take = npy ? SUMMARY_CHUNK : 1;
    nchunk = npy ? 1 : 2;
    while (next < n) { /* order[next..n): the stacks not yet added */
        uint32_t end = next < npy ? npy : (uint32_t)n; /* the Python stacks before the others */
        take = take < end - next ? take : end - next;
        if (stats_add_traces(st, s, s->peak_stats, order + next, take) < 0)
            goto fail;
        for (uint32_t k = next; k < next + take; k++)
            rest -= s->peak_stats[order[k]].live_bytes;
        next += take;
        if (!(e = stats_top(st, 0, 2, &ne)))
            goto out;
        const struct frame *f = ne && e[0]->frames ? e[0]->frames[e[0]->head] : NULL;
        uint64_t first = ne ? (uint64_t)e[0]->size : 0, second = ne > 1 ? (uint64_t)e[1]->size : 0;
        int ahead = first > second + rest, python = f && HSNAP_IS_PYFRAME(f->ip);
        const char *mod = f && !python && next >= npy ? summary_key_module(e[0]) : NULL;
        int64_t may = -2; /* the stacks that may grow the first line, -2: not asked */
        if (next < n && ((ahead && python && next < npy && frames_has_file(f)) || mod))
            may = summary_gather(s, f, mod, &q, order, next, next < npy ? npy : (uint32_t)n);
        if (may == -1)
            goto fail;
        if (next == n || (ahead && ((python && next >= npy) || (may == 0))))
            break;
        if (may > 0)
            take = (uint32_t)may; /* its stacks */
        else if (next < npy)
            take = chunk *= 2;
        else
            take = nchunk, nchunk *= 2;
    }
out:
    free(order);
    free(q.in);
    free(q.codes);
    free(q.nodes);
    free(q.walk);
    free(q.ips);
    free(q.found);
    return e && ne ? e[0] : NULL;
fail:
    e = NULL;
    goto out;
}

/* "peak SIZE in N blocks at T s[, SIZE of it touched]; most at SITE (SIZE
 * in N blocks)": mapped pages nothing touched (peak_resident) rank last. */
static void summary_peak(const struct snap *s, FILE *out)
{
    char sz[64], site[4600] = "";
    if (!s->meta.peak_bytes) {
        fprintf(out, "heapsnap: peak 0 B: no heap block was traced\n");
        return;
    }
    if (!s->has_peak) {
        fmt_size(sz, sizeof(sz), (double)s->meta.peak_bytes, 0);
        fprintf(out, "heapsnap: peak %s\n", sz);
        return;
    }
    struct stats_opts o = {.key = KEY_LINENO, .limit = 1};
    struct stats *st = stats_new(&o);
    uint64_t untouched = 0;
    uint64_t *resident = peak_resident(s, &untouched); /* an arena nothing touched ranks last */
    if (st)
        stats_residency(st, resident);
    frames_site_only_of(s); /* under --leaks too: the line names a site */
    struct stat_entry *top = st ? summary_top(st, s) : NULL;
    if (top) {
        char key[4200], esz[64];
        stats_key(KEY_LINENO, top, key, sizeof(key));
        fmt_size(esz, sizeof(esz), (double)top->size, 0);
        snprintf(site, sizeof(site), "; most at %s (%s in %lld blocks)", key, esz,
                 (long long)top->count);
    }
    stats_free(st);
    free(resident);
    char touched[96] = "";
    if (untouched && untouched < s->peak.bytes) { /* mapped pages nothing touched left out */
        char t[64];
        fmt_size(t, sizeof(t), (double)(s->peak.bytes - untouched), 0);
        snprintf(touched, sizeof(touched), ", %s of it touched", t);
    }
    frames_whole_of(s); /* the suppressions match whole stacks */
    fmt_size(sz, sizeof(sz), (double)s->peak.bytes, 0);
    fprintf(out, "heapsnap: peak %s in %llu blocks at %.3f s%s%s\n", sz,
            (unsigned long long)s->peak.blocks, s->peak.t_ns / 1e9, touched, site);
}

/* The mapped bytes live at the snapshot with no page resident then (MAPPED's
 * mincore against STATS), 0 when unknown. */
static uint64_t summary_untouched(const struct snap *s)
{
    uint64_t u = 0;
    for (uint32_t t = 0; s->has_mapped && s->resident && t < s->ntraces; t++)
        if ((s->traces[t].flags & HSNAP_TRACE_MMAP) && s->stats[t].live_bytes > s->resident[t])
            u += s->stats[t].live_bytes - s->resident[t];
    return u;
}

/* text, each line with "heapsnap: " before it (a blank one stays blank). */
static void summary_prefixed(const char *text, FILE *out)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, n ? "heapsnap: %.*s\n" : "heapsnap:\n", (int)n, p);
        p += n + (nl != NULL);
    }
}

/* The records of the SUMMARY_SITES largest sites, as `heapsnap leaks`
 * prints them: a program's leaks answered by one command, as memcheck's
 * --leak-check=full answers. */
static void summary_records(const struct lossrec_set *ls, FILE *out)
{
    char *text = NULL;
    size_t len = 0;
    struct lossprint_opts po = {0};
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    char more[4096 + 32];
    snprintf(more, sizeof(more), "%s leaks -n 0 shows all", cli_self());
    lossprint_sites(ls, 0, &po, more, f);
    if (fclose(f) == 0)
        summary_prefixed(text, out);
    free(text);
}

/* "1.23 s" or "45 ms" */
static void summary_secs(char *buf, size_t n, uint64_t ns)
{
    if (ns >= 1000000000ull)
        snprintf(buf, n, "%.2f s", (double)ns / 1e9);
    else
        snprintf(buf, n, "%.1f ms", (double)ns / 1e6);
}

/* The stop the program saw: its threads were held from the stop to the
 * fork of the copy the check scans (in place: to the model's end), and
 * the thread that asked (at exit: the exit) waited for the whole check. */
static void summary_stop(const struct snap *s, FILE *out)
{
    const struct hsnap_leaks_head *h = &s->lk.head;
    if (!h->stop_ns)
        return;
    char held[32], ran[32];
    summary_secs(held, sizeof held, h->stop_ns);
    summary_secs(ran, sizeof ran, h->scan_ns);
    fprintf(out, "heapsnap: leak check: %s%s; the program's threads were stopped %s of it\n", ran,
            s->meta.reason == HSNAP_REASON_EXIT ? " (the program's exit waited for it)" : "",
            held);
}

/* `heapsnap leaks`'s LEAK SUMMARY and its largest records; 1 when
 * something was lost (direct, indirect, cycle), 0 when not, -1 when the
 * check did not run (a line says why). */
static int summary_leaks(struct snap *s, const char *path, FILE *out)
{
    static const enum lossrec_kind order[LOSSREC_NKINDS] = {
        LOSSREC_DIRECT, LOSSREC_INDIRECT, LOSSREC_CYCLE, LOSSREC_POSSIBLE, LOSSREC_REACHABLE};
    char err[1024];
    if (!s->lk.present) {
        fprintf(out, "heapsnap: no leak check in this snapshot (%s)\n",
                s->meta.flags & HSNAP_META_LEAKS_SKIPPED ? "it could not run: see the shim's "
                "warning above"
                : s->meta.flags & (HSNAP_META_LSAN_CHECKED | HSNAP_META_LSAN_OFF)
                    ? "the program ran it itself, or turned it off, through LeakSanitizer's "
                      "interface"
                    : "not written at exit");
        return -1;
    }
    struct lossrec_opts lo = {.kinds = LOSSREC_KINDS_DEFAULT, .by_site = 1,
                              .limit = SUMMARY_SITES};
    struct lossrec_set *ls = NULL;
    char *paths[1] = {(char *)path};
    if (supp_add_snaps(&lo.supp, s, paths, 1, err, sizeof(err)) < 0 ||
        !(ls = lossrec_new(&lo)) || lossrec_add_snap(ls, s, path, err, sizeof(err)) < 0 ||
        lossrec_finish(ls) < 0) {
        lossrec_free(ls);
        supp_free(lo.supp);
        return -1;
    }
    struct lossrec_total supp;
    const struct lossrec_total *sum = lossrec_summary(ls, &supp);
    fprintf(out, "heapsnap: LEAK SUMMARY:\n");
    for (int k = 0; k < LOSSREC_NKINDS; k++)
        fprintf(out, "heapsnap:    %s: %llu bytes in %llu blocks\n", lossrec_kind_words[order[k]],
                (unsigned long long)sum[order[k]].bytes, (unsigned long long)sum[order[k]].blocks);
    struct lossrec_total rt = lossrec_runtime(ls);
    if (rt.blocks)
        fprintf(out, "heapsnap:    runtime: %llu bytes in %llu blocks\n", (unsigned long long)rt.bytes,
                (unsigned long long)rt.blocks);
    if (supp.blocks)
        fprintf(out, "heapsnap:    suppressed: %llu bytes in %llu blocks\n",
                (unsigned long long)supp.bytes, (unsigned long long)supp.blocks);
    summary_stop(s, out);
    if (lossrec_unstopped(ls))
        fprintf(out, "heapsnap: incomplete: %u threads could not be stopped (their registers "
                "unread): no block is reported lost\n", lossrec_unstopped(ls));
    summary_records(ls, out);
    int lost = sum[LOSSREC_DIRECT].blocks + sum[LOSSREC_INDIRECT].blocks +
               sum[LOSSREC_CYCLE].blocks > 0;
    lossrec_free(ls);
    supp_free(lo.supp);
    return lost;
}

/* How the summary reads: a line that names the site alone needs no frame
 * past it resolved: not a Python stack's native frames (the interpreter's
 * DWARF was most of the summary's time), nor a native stack's C runtime
 * beyond the site (libc's compressed DWARF, read whole, was most of its
 * memory).  Under --leaks or --gate the suppressions match whole stacks:
 * the peak's line still reads its snapshot's sites alone (summary_peak),
 * and only the records the suppressions are asked of are whole.  And
 * the heap grown SUMMARY_PAD at a time, and blocks up to SUMMARY_MMAP from
 * it: the load's large buffers (its sections, the decompressor's window, a
 * stream's chunks) then reuse the heap's pages instead of mappings of
 * their own, which cost a page fault a page again for each; run ends
 * after this, so nothing is kept too long.  The threshold is set, not left
 * to glibc: M_TOP_PAD freezes its sliding one wherever the process's
 * earlier frees had left it. */
static void summary_setup(int leaks)
{
    if (!leaks)
        frames_site_only();
    mallopt(M_TOP_PAD, SUMMARY_PAD);
    mallopt(M_MMAP_THRESHOLD, SUMMARY_MMAP);
}

void summary_preload(const char *path, int leaks)
{
    char err[512];
    summary_drop_pre();
    summary_setup(leaks);
    if (stat(path, &pre.st) != 0 || !(pre.path = strdup(path)))
        return;
    if (snap_load_skip(path, &pre.s, summary_skip(leaks), err, sizeof(err)) < 0) {
        free(pre.path);
        pre.path = NULL;
        return;
    }
    size_t n = 0;
    FILE *f = open_memstream(&pre.peak, &n);
    pre.dbg_from = dbg_mark();
    if (f) {
        summary_peak(&pre.s, f);
        if (fclose(f) != 0) {
            free(pre.peak);
            pre.peak = NULL;
        }
    }
    pre.dbg_to = dbg_mark();
}

void summary_print(const struct manifest *mf, const char *named, pid_t program, int leaks,
                   FILE *out)
{
    struct snap s;
    const char *path = NULL;
    size_t nproc;
    struct summary_other other;
    summary_setup(leaks);
    char word[8192], sz[64], exe[512];
    int picked = summary_pick(mf, named, program, leaks, &s, &path, &nproc, &other, word,
                              sizeof(word));
    if (picked < 0) {
        summary_drop_pre();
        if (word[0]) /* a snapshot that was written and does not load */
            fprintf(out, "heapsnap: no summary: %s\n", esc_text(word, exe, sizeof(exe)));
        return;
    }
    summary_word(path, word, sizeof(word));
    const char *base = strrchr(s.exe, '/');
    esc_text(base ? base + 1 : s.exe, exe, sizeof(exe));
    if (nproc > 1)
        fprintf(out, "heapsnap: %zu processes wrote snapshots; %s: pid %u (%s)\n", nproc,
                picked ? "the program's" : "of largest peak", s.meta.pid, exe);
    else if (mf->n > 1)
        fprintf(out, "heapsnap: the latest of %zu snapshots of pid %u (%s)\n", mf->n,
                s.meta.pid, exe);
    if (pre.taken && pre.peak && !strcmp(pre.path, path)) { /* read ahead: its line made then */
        fputs(pre.peak, out);
    } else {
        summary_drop_pre(); /* first: the modules it met are not this snapshot's */
        summary_peak(&s, out);
    }
    summary_drop_pre();
    fmt_size(sz, sizeof(sz), (double)s.meta.current_bytes, 0);
    char touched[96] = "";
    uint64_t untouched = summary_untouched(&s);
    if (untouched && untouched < s.meta.current_bytes) {
        char t[64];
        fmt_size(t, sizeof(t), (double)(s.meta.current_bytes - untouched), 0);
        snprintf(touched, sizeof(touched), ", %s of it touched", t);
    }
    fprintf(out, "heapsnap: %s %s in %llu blocks%s%s\n",
            s.meta.reason == HSNAP_REASON_EXIT ? "at exit" : "at its last snapshot", sz,
            (unsigned long long)s.meta.live_blocks, touched,
            s.meta.sample_interval ? " (sampled: estimates)" : "");
    if (s.has_mapped && s.mapped.reserved_ranges) { /* PROT_NONE: not in the heap nor the peak */
        fmt_size(sz, sizeof(sz), (double)s.mapped.reserved_bytes, 0);
        fprintf(out, "heapsnap: reserved: %s in %llu range%s (address space, not counted)\n", sz,
                (unsigned long long)s.mapped.reserved_ranges,
                s.mapped.reserved_ranges == 1 ? "" : "s");
    }
    uint64_t peak = summary_peak_bytes(&s);
    if (picked && other.path && other.peak > peak) {
        char ow[8192], oe[256];
        summary_word(other.path, ow, sizeof(ow));
        fmt_size(sz, sizeof(sz), (double)other.peak, 0);
        fprintf(out, "heapsnap: pid %u (%s) peaked higher, at %s: %s top --peak %s\n",
                other.pid, esc_text(other.exe, oe, sizeof(oe)), sz, cli_self(), ow);
    }
    int lost = leaks ? summary_leaks(&s, path, out) : 0;
    if (lost > 0)
        fprintf(out, "heapsnap: next: %s leaks %s\n", cli_self(), word);
    else if (peak && peak >= SUMMARY_DWARF * s.meta.current_bytes) {
        char why[64];
        const char *at = s.meta.reason == HSNAP_REASON_EXIT ? "at exit" : "at its last snapshot";
        if (s.meta.current_bytes)
            snprintf(why, sizeof(why), "the peak is %.0fx the heap %s",
                     (double)peak / (double)s.meta.current_bytes, at);
        else
            snprintf(why, sizeof(why), "nothing was live %s", at);
        fprintf(out, "heapsnap: next: %s top --peak %s (%s)\n", cli_self(), word, why);
    } else
        fprintf(out, "heapsnap: next: %s top %s\n", cli_self(), word);
    snap_free(&s);
}
