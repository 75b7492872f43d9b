/*
 * metrics.c - `heapsnap serve`'s /metrics (serve.h): Prometheus' text
 * exposition format 0.0.4, or OpenMetrics 1.0 when the scraper asks for it
 * (then a counter's family is named without _total, its sample with it,
 * and the body ends with "# EOF").
 *
 * Each process's state file is read once per scrape: whole (procs_load)
 * the first time and whenever it holds sites the last read did not, else
 * its live sums alone (procs_sums: the header, the cells, and the document's
 * counters when it changed), which give the same figures at a fraction of
 * the cost.  They are printed family by family, as both formats require: every
 * sample of a family together, after its HELP and TYPE.  Every series of a
 * process carries the labels pid, program (comm), exe and service
 * (HEAPSNAP_SERVICE); its sites are the --top N largest by live bytes,
 * each labelled site="function (file:line)" ("function (module)" without
 * debug information: metrics_site_label), so the number of series per
 * process is fixed whatever the program does.  A process whose state
 * cannot be read has heapsnap_state_up 0 and its RSS alone.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uthash.h>

#include "cli.h"
#include "escape.h"
#include "export.h"
#include "frames.h"
#include "serve.h"

#define METRICS_MAX_TOP 100 /* --top's bound */

struct msite {
    const char *name;       /* its label, "function (file:line)" (the cache's) */
    uint64_t bytes;
};

/* A process's traces' sites, kept from one scrape to the next: a state
 * file's traces are numbered once and only added to (hsnap_state.h), so
 * only the traces new since the last scrape are resolved (frames_get),
 * and a scrape of a process whose traces did not change resolves
 * nothing.  Traces are grouped by their label (function, file and line):
 * two frames alike but for their module would be two series of one name,
 * which a scraper refuses. */
struct pname {
    char *name;
    uint32_t idx;           /* in psites.names */
    UT_hash_handle hh;
};

struct psites {
    uint32_t n;             /* traces resolved */
    uint32_t *site;         /* trace -> index of its label */
    size_t capsite;
    struct pname *byname;   /* uthash by name */
    struct pname **names;   /* by index */
    size_t nnames, capnames;
    /* what a read of the live sums alone needs (metrics_read_sums) */
    uint32_t ntr;           /* traces of the last whole read (0: none yet) */
    uint8_t *mmap;          /* trace -> its HSNAP_TRACE_MMAP */
    uint64_t doc_id;        /* the document meta and failed are of (0: none) */
    struct hsnap_meta meta; /* its META */
    uint64_t failed;        /* its failed allocations */
    uint64_t reserved;      /* its MAPPED's reserved address space */
};

/* One process's figures for the scrape. */
struct mproc {
    struct proc *p;
    int up;                 /* its state was read */
    struct hsnap_meta meta; /* its counters (live sums as read) */
    struct state_info info;
    uint64_t live, blocks, peak, mmap, reserved, failed, rss, limit;
    struct msite *sites;    /* the top ones, largest first */
    size_t nsites;
};

void metrics_label(FILE *out, const char *v)
{
    for (const unsigned char *c = (const unsigned char *)v; *c;) {
        uint32_t cp;
        int n = *c < 0x80 ? 1 : esc_utf8_len(c, &cp);
        if (*c == '\\' || *c == '"')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (n == 0 || *c < 0x20 || *c == 0x7f)
            fputc('?', out);
        else
            fwrite(c, 1, (size_t)n, out);
        c += n ? n : 1;
    }
}

static int msite_cmp_bytes(const void *a, const void *b)
{
    const struct msite *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

void metrics_forget(struct proc *p)
{
    struct psites *c = p->sites;
    if (!c)
        return;
    struct pname *k, *tmp;
    HASH_ITER(hh, c->byname, k, tmp) {
        HASH_DEL(c->byname, k);
        free(k->name);
        free(k);
    }
    free(c->names);
    free(c->site);
    free(c->mmap);
    free(c);
    p->sites = NULL;
}

/* The index of label name in c, added when new; -1 when out of memory. */
static long psites_name(struct psites *c, const char *name)
{
    struct pname *k;
    HASH_FIND_STR(c->byname, name, k);
    if (k)
        return k->idx;
    if (grow_array((void **)&c->names, &c->capnames, c->nnames + 1, sizeof *c->names) < 0 ||
        !(k = calloc(1, sizeof *k)))
        return -1;
    if (!(k->name = strdup(name))) {
        free(k);
        return -1;
    }
    k->idx = (uint32_t)c->nnames;
    c->names[c->nnames++] = k;
    HASH_ADD_KEYPTR(hh, c->byname, k->name, strlen(k->name), k);
    return k->idx;
}

/* Trace t's label: its site's "function (file:line)"; without a line,
 * "function (module)", and for a site without a name either (a static
 * function of a stripped library) its nearest named caller in its module,
 * as top --key lineno keys it: names that outlive a package upgrade, where
 * "module+0xoffset" would change with every build.  The executable's
 * module is named as the program was started (exe, whose real path is
 * real): redis-server, not redis-check-rdb. */
static const char *metrics_site_label(const struct frames_trace *t, const char *exe,
                                      const char *real, char *buf, size_t n)
{
    const struct frame *f = t->fr[t->site];
    if (frames_has_file(f))
        return export_frame_name(f, buf, n);
    for (int i = t->site; !frames_has_symbol(f) && i + 1 < t->n && f->module[0] != '<' &&
                          !strcmp(f->module, t->fr[i + 1]->module);)
        f = t->fr[++i];
    if (!frames_has_symbol(f) || f->module[0] == '<')
        return export_frame_name(t->fr[t->site], buf, n);
    const char *mod = f->module, *slash = strrchr(exe, '/');
    if (real[0] && !strcmp(f->path, real) && slash && slash[1])
        mod = slash + 1;
    snprintf(buf, n, "%s (%s)", f->func, mod);
    return buf;
}

/* p's cache brought to s's traces: 0, or -1 (out of memory, or s holds
 * fewer traces than resolved: not the same file, the cache is dropped). */
static int psites_update(struct proc *p, const struct snap *s)
{
    struct psites *c = p->sites;
    if (!c || grow_array((void **)&c->site, &c->capsite, (size_t)s->ntraces + 1, sizeof *c->site) < 0)
        return -1;
    char real[512], link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)p->pid);
    ssize_t k = readlink(link, real, sizeof real - 1);
    real[k > 0 ? k : 0] = 0;
    frames_site_only_of(s); /* a label is the site's frame alone */
    for (; c->n < s->ntraces; c->n++) {
        const struct frames_trace *t = frames_get(s, c->n);
        char buf[4400];
        long idx = t ? psites_name(c, metrics_site_label(t, p->exe, real, buf, sizeof buf)) : -1;
        if (idx < 0)
            return -1;
        c->site[c->n] = (uint32_t)idx;
    }
    return 0;
}

/* m's top sites by live bytes, bytes(ctx, i) those of trace i < n (all
 * resolved in m->p->sites). */
static void metrics_sites(struct mproc *m, int top, uint32_t n_tr,
                          uint64_t (*bytes)(const void *ctx, uint32_t i), const void *ctx)
{
    struct psites *c = m->p->sites;
    uint64_t *sum = calloc(c->nnames + 1, sizeof *sum);
    struct msite *v = calloc(c->nnames + 1, sizeof *v);
    size_t n = 0;
    for (uint32_t i = 0; sum && v && i < n_tr && i < c->n; i++)
        sum[c->site[i]] += bytes(ctx, i);
    for (size_t k = 0; sum && v && k < c->nnames; k++)
        if (sum[k])
            v[n++] = (struct msite){.name = c->names[k]->name, .bytes = sum[k]};
    free(sum);
    qsort(v, n, sizeof *v, msite_cmp_bytes);
    m->sites = v;
    m->nsites = n < (size_t)top ? n : (size_t)top;
}

static uint64_t snap_trace_bytes(const void *ctx, uint32_t i)
{
    return ((const struct snap *)ctx)->stats[i].live_bytes;
}

static uint64_t sums_trace_bytes(const void *ctx, uint32_t i)
{
    return ((const struct state_sums *)ctx)->live[i][1];
}

/* m's figures from meta (its live sums already m->meta's) and info. */
static void metrics_from(struct mproc *m, const struct hsnap_meta *meta)
{
    m->up = 1;
    m->meta = *meta;
    m->live = meta->current_bytes + m->info.later_bytes;
    m->blocks = meta->live_blocks;
    m->peak = meta->peak_bytes > m->live ? meta->peak_bytes : m->live;
}

/* p's state read whole: its figures into m, the traces new since the last
 * read resolved and p's cache of what metrics_read_sums needs refilled. */
static void metrics_read_whole(struct procs *ps, struct mproc *m, struct proc *p, int top)
{
    char err[512];
    struct snap s;
    if (procs_load(ps, p, &s, &m->info, err, sizeof err) != 0)
        return;
    if (p->sites && p->sites->n > s.ntraces)
        metrics_forget(p); /* fewer traces than resolved: not the same file */
    struct psites *c = p->sites ? p->sites : (p->sites = calloc(1, sizeof *c));
    uint8_t *mm = c ? big_realloc(c->mmap, (size_t)s.ntraces + 1) : NULL;
    if (mm) {
        c->mmap = mm;
        c->ntr = s.ntraces;
        c->doc_id = 0; /* the next read of the sums reads the document's counters */
    } else if (c)
        c->ntr = 0;
    metrics_from(m, &s.meta);
    for (uint32_t i = 0; i < s.ntraces; i++) {
        int is_mmap = (s.traces[i].flags & HSNAP_TRACE_MMAP) != 0;
        m->mmap += is_mmap ? s.stats[i].live_bytes : 0;
        if (mm)
            mm[i] = (uint8_t)is_mmap;
    }
    for (uint32_t i = 0; i < s.nfailed; i++)
        m->failed += s.failed[i].count;
    m->reserved = s.has_mapped ? s.mapped.reserved_bytes : 0;
    if (c && top > 0 && psites_update(p, &s) == 0)
        metrics_sites(m, top, s.ntraces, snap_trace_bytes, &s);
    if (c && top > 0 && c->n != s.ntraces)
        c->ntr = 0; /* sites unresolved: the next read is whole */
    frames_forget(&s);
    snap_free(&s);
}

/* p's live sums alone, when the last whole read knew every site of its
 * state: 0, or -1 when the state must be read whole (new sites, no cache,
 * or the sums could not be read: the whole read says why). */
static int metrics_read_sums(struct procs *ps, struct mproc *m, struct proc *p, int top)
{
    char err[512];
    struct psites *c = p->sites;
    struct state_sums ss;
    if (!c || !c->ntr || procs_sums(ps, p, c->doc_id, &ss, err, sizeof err) != 0)
        return -1;
    if (ss.ntraces != c->ntr) {
        state_sums_free(&ss);
        return -1;
    }
    if (ss.doc_read) {
        c->doc_id = ss.doc_id;
        c->meta = ss.meta;
        c->failed = ss.failed;
        c->reserved = ss.has_mapped ? ss.mapped.reserved_bytes : 0;
    }
    struct hsnap_meta meta = c->meta;
    meta.current_bytes = ss.bytes;
    meta.live_blocks = ss.blocks;
    if (meta.peak_bytes < ss.bytes)
        meta.peak_bytes = ss.bytes;
    m->info = ss.info;
    metrics_from(m, &meta);
    for (uint32_t i = 0; i < ss.ntraces; i++)
        m->mmap += c->mmap[i] ? ss.live[i][1] : 0;
    m->failed = c->failed;
    m->reserved = c->reserved;
    if (top > 0)
        metrics_sites(m, top, ss.ntraces, sums_trace_bytes, &ss);
    state_sums_free(&ss);
    return 0;
}

static void metrics_read(struct procs *ps, struct mproc *m, struct proc *p, int top)
{
    memset(m, 0, sizeof *m);
    m->p = p;
    m->rss = procs_rss(p->pid);
    m->limit = procs_limit_of(ps, p);
    if (metrics_read_sums(ps, m, p, top) != 0)
        metrics_read_whole(ps, m, p, top);
}

static void metrics_labels(FILE *out, const struct proc *p)
{
    fprintf(out, "{pid=\"%d\",program=\"", (int)p->pid);
    metrics_label(out, p->comm);
    fputs("\",exe=\"", out);
    metrics_label(out, p->exe);
    fputs("\",service=\"", out);
    metrics_label(out, p->service);
    fputc('"', out);
}

/* A family's HELP and TYPE; counters' families lose _total in OpenMetrics. */
static void metrics_family(FILE *out, const struct metrics_opts *o, const char *name,
                           const char *type, const char *help)
{
    size_t n = strlen(name);
    int cut = o->openmetrics && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total");
    fprintf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)(cut ? n - 6 : n), name, help,
            (int)(cut ? n - 6 : n), name, type);
}

enum { MV_LIVE, MV_BLOCKS, MV_PEAK, MV_MMAP, MV_RESERVED, MV_RSS, MV_LIMIT, MV_ALLOCS, MV_FREES, MV_FAILED,
       MV_SAMPLE, MV_UP, MV_AGE, MV_FULL, MV_STATE_BYTES, MV_N };

static const struct {
    const char *name, *type, *help;
} mv_def[MV_N] = {
    [MV_LIVE] = {"heapsnap_heap_live_bytes", "gauge", "Bytes of the traced heap live now."},
    [MV_BLOCKS] = {"heapsnap_heap_live_blocks", "gauge", "Blocks of the traced heap live now."},
    [MV_PEAK] = {"heapsnap_heap_peak_bytes", "gauge", "The traced heap's highest live bytes."},
    [MV_MMAP] = {"heapsnap_heap_mmap_bytes", "gauge",
                 "Bytes of anonymous memory the program mapped itself, live now."},
    [MV_RESERVED] = {"heapsnap_reserved_bytes", "gauge",
                     "Address space the program reserved (PROT_NONE), not in the heap nor "
                     "the peak."},
    [MV_RSS] = {"heapsnap_process_resident_bytes", "gauge", "The process's resident set."},
    [MV_LIMIT] = {"heapsnap_process_memory_limit_bytes", "gauge",
                  "The memory limit of the process's cgroup (memory.max), where it has one."},
    [MV_ALLOCS] = {"heapsnap_allocations_total", "counter", "Allocations traced since the start."},
    [MV_FREES] = {"heapsnap_frees_total", "counter", "Frees of traced blocks since the start."},
    [MV_FAILED] = {"heapsnap_failed_allocations_total", "counter",
                   "Allocations that returned NULL since the start."},
    [MV_SAMPLE] = {"heapsnap_sample_interval_bytes", "gauge",
                   "HEAPSNAP_SAMPLE: mean bytes between samples (0: every allocation)."},
    [MV_UP] = {"heapsnap_state_up", "gauge", "1 when the process's state file was read."},
    [MV_AGE] = {"heapsnap_state_heartbeat_age_seconds", "gauge",
                "Seconds since the state file's last heartbeat."},
    [MV_FULL] = {"heapsnap_state_full", "gauge",
                 "1 when the state file is full (new sites are kept in memory only)."},
    [MV_STATE_BYTES] = {"heapsnap_state_used_bytes", "gauge", "Bytes of the state file in use."},
};

/* m's value of family v; 0 when it has none (not printed). */
static int metrics_value(const struct mproc *m, int v, double *x)
{
    struct timespec now;
    const struct hsnap_meta *mt = &m->meta;
    if (v == MV_UP) {
        *x = m->up;
        return 1;
    }
    if (v == MV_RSS || v == MV_LIMIT) {
        *x = (double)(v == MV_RSS ? m->rss : m->limit);
        return *x > 0;
    }
    if (!m->up)
        return 0;
    clock_gettime(CLOCK_REALTIME, &now);
    double t = (double)now.tv_sec + now.tv_nsec / 1e9, beat = (double)m->info.beat_ns / 1e9;
    switch (v) {
    case MV_LIVE: *x = (double)m->live; break;
    case MV_BLOCKS: *x = (double)m->blocks; break;
    case MV_PEAK: *x = (double)m->peak; break;
    case MV_MMAP: *x = (double)m->mmap; break;
    case MV_RESERVED: *x = (double)m->reserved; break;
    case MV_ALLOCS: *x = (double)mt->total_allocs; break;
    case MV_FREES: *x = (double)mt->total_frees; break;
    case MV_FAILED: *x = (double)m->failed; break;
    case MV_SAMPLE: *x = (double)mt->sample_interval; break;
    case MV_AGE: *x = t > beat ? t - beat : 0; break;
    case MV_FULL: *x = m->info.flags != 0; break;
    case MV_STATE_BYTES: *x = (double)m->info.used; break;
    default: return 0;
    }
    return 1;
}

static void metrics_procs(FILE *out, const struct metrics_opts *o, const struct mproc *m, size_t n)
{
    for (int v = 0; v < MV_N; v++) {
        double x;
        int any = 0;
        for (size_t i = 0; i < n && !any; i++)
            any = metrics_value(&m[i], v, &x);
        if (!any)
            continue;
        metrics_family(out, o, mv_def[v].name, mv_def[v].type, mv_def[v].help);
        for (size_t i = 0; i < n; i++) {
            if (!metrics_value(&m[i], v, &x))
                continue;
            fputs(mv_def[v].name, out);
            metrics_labels(out, m[i].p);
            fprintf(out, "} %.17g\n", x);
        }
    }
    size_t sites = 0;
    for (size_t i = 0; i < n; i++)
        sites += m[i].nsites;
    if (o->top <= 0 || !sites)
        return; /* no family without a sample (an ?agent scrape has none) */
    metrics_family(out, o, "heapsnap_site_live_bytes", "gauge",
                   "Live bytes of the process's largest allocation sites (--top of them).");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m[i].nsites; k++) {
            fputs("heapsnap_site_live_bytes", out);
            metrics_labels(out, m[i].p);
            fputs(",site=\"", out);
            metrics_label(out, m[i].sites[k].name);
            fprintf(out, "\"} %" PRIu64 "\n", m[i].sites[k].bytes);
        }
}

static void metrics_self(FILE *out, const struct metrics_opts *o, const struct procs *ps,
                         const struct serve_stats *st)
{
    metrics_family(out, o, "heapsnap_serve_scrapes_total", "counter", "Scrapes of /metrics answered.");
    fprintf(out, "heapsnap_serve_scrapes_total %" PRIu64 "\n", st->scrapes);
    metrics_family(out, o, "heapsnap_serve_requests_total", "counter", "HTTP requests answered.");
    fprintf(out, "heapsnap_serve_requests_total %" PRIu64 "\n", st->requests);
    metrics_family(out, o, "heapsnap_serve_errors_total", "counter",
                   "HTTP requests answered with an error (4xx, 5xx).");
    fprintf(out, "heapsnap_serve_errors_total %" PRIu64 "\n", st->errors);
    metrics_family(out, o, "heapsnap_serve_connections_closed_total", "counter",
                   "Connections the agent closed: past their request's deadline, or the "
                   "oldest waiting for its request when the connections ran short.");
    fprintf(out, "heapsnap_serve_connections_closed_total{why=\"deadline\"} %" PRIu64 "\n", st->late);
    fprintf(out, "heapsnap_serve_connections_closed_total{why=\"evicted\"} %" PRIu64 "\n",
            st->evicted);
    if (ps->nrerr) { /* a family without a sample is none: a scraper's parser may refuse it */
        metrics_family(out, o, "heapsnap_serve_read_errors_total", "counter",
                       "Reads of a running process's state file that failed "
                       "(the first logged on the agent's stderr).");
        for (size_t i = 0; i < ps->nrerr; i++) {
            const struct perr *e = &ps->rerr[i];
            fprintf(out, "heapsnap_serve_read_errors_total{pid=\"%d\",program=\"", (int)e->pid);
            metrics_label(out, e->comm);
            fputs("\",exe=\"", out);
            metrics_label(out, e->exe);
            fprintf(out, "\"} %" PRIu64 "\n", e->count);
        }
    }
    metrics_family(out, o, "heapsnap_serve_state_reads_total", "counter",
                   "State files read: whole (new sites, pprof), or their live sums alone.");
    fprintf(out, "heapsnap_serve_state_reads_total{read=\"whole\"} %" PRIu64 "\n", ps->loads);
    fprintf(out, "heapsnap_serve_state_reads_total{read=\"sums\"} %" PRIu64 "\n", ps->sums);
    metrics_family(out, o, "heapsnap_serve_processes", "gauge", "Processes served.");
    fprintf(out, "heapsnap_serve_processes %zu\n", ps->n);
    metrics_family(out, o, "heapsnap_serve_scrape_duration_seconds", "gauge",
                   "Time the previous /metrics took to build.");
    fprintf(out, "heapsnap_serve_scrape_duration_seconds %.6f\n", st->last_scrape_s);
}

void metrics_write(FILE *out, struct procs *ps, const pid_t *which, size_t n,
                   const struct metrics_opts *o, const struct serve_stats *st)
{
    size_t cnt = !o->procs ? 0 : which ? n : ps->n, k = 0;
    struct mproc *m = calloc(cnt + 1, sizeof *m);
    int top = o->top > METRICS_MAX_TOP ? METRICS_MAX_TOP : o->top;
    for (size_t i = 0; m && i < cnt; i++) {
        struct proc *p = which ? procs_find(ps, which[i]) : &ps->v[i];
        if (p)
            metrics_read(ps, &m[k++], p, top);
    }
    if (m)
        metrics_procs(out, o, m, k);
    if (o->self)
        metrics_self(out, o, ps, st);
    if (o->openmetrics)
        fputs("# EOF\n", out);
    for (size_t i = 0; m && i < k; i++)
        free(m[i].sites);
    free(m);
}
