/*
 * httpd.c - the HTTP server of `heapsnap serve` (serve.h): its routes,
 * its bounds and its loop.
 *
 * HTTP is libmicrohttpd's (Debian's libmicrohttpd): a small C server made
 * for embedding, that parses requests itself, bounds what a connection may
 * hold and how long it may idle, and runs in the caller's loop; parsing
 * HTTP by hand is what a scraper-facing agent must not do.  It runs
 * without threads of its own (MHD_USE_EPOLL, polled here), so the process
 * table, the snapshot loader and the symbolizer, none of them thread-safe,
 * are only ever used by this thread.  A request for a profile over N
 * seconds (?seconds=N) is suspended with the first read in hand, and
 * resumed by the loop when its time is up, so it holds nothing up.
 *
 * Routes: GET or HEAD of /metrics[?pid=N|?agent], /targets, /debug/pprof/heap and
 * /allocs ?pid=N[&seconds=N], and / (their list); any other path is 404,
 * another method 405, a bad pid or seconds 400.  Bounds: the connections
 * at once (and per client address), the bytes of a request's head (a
 * longer URL is refused by the library), an idle connection's seconds.
 *
 * Slow clients.  The library's idle bound never fires on a client that
 * sends a byte every few seconds, so each connection (struct hconn) has a
 * deadline of its own for the whole request: its head within
 * HTTPD_HEAD_S of the accept (within the idle bound of the last answer
 * on a kept-alive one), its answer sent within the idle bound of the head
 * (plus ?seconds=N), both moved on by the time the agent spent answering
 * others (httpd_defer).  And the table never fills with them: a connection
 * that comes when HTTPD_SPARE slots are left closes the oldest one still
 * waiting for its request's head, so a scraper, which sends its head at
 * once, is answered while hundreds of slow clients hold connections.  A
 * connection is closed by shutdown(2) of its socket, which the library
 * sees as the client's end.
 *
 * Memory.  What a request costs is freed when it ends: its body, the
 * snapshot it read, and the allocator's free pages (malloc_trim) once the
 * loop is idle; the symbol tables the reads built are dropped every
 * HTTPD_RESET_LOADS reads, whenever the resident set passes
 * HTTPD_RSS_SOFT after a read, and after HTTPD_QUIET_S without one (the
 * next profile reads the symbols again: a second or two); ?seconds=N
 * requests waiting at once are at most HTTPD_WAITING (each holds a
 * snapshot).  The bound is the agent's, not the machine's: every
 * profiled process of the user is served, a test suite's too, and a whole
 * read allocates at most --read-limit (procs_load); a starved agent finds
 * many requests ready at once and answers them in one run of the library,
 * so the check after a read is made after each request (httpd_answer),
 * not once a run; a profile starts only with the resident set under
 * HTTPD_RSS_SOFT once released (httpd_room), else it is a 503; and
 * allocations of HTTPD_MMAP_BYTES or more (a snapshot's sections, a
 * profile's body) are mappings of their own, given back at their free
 * rather than at the next trim (test_serve_memory).
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "frames.h"
#include "mhdload.h"
#include "serve.h"

#define HTTPD_HEAD_BYTES 16384  /* a request's head: method, URL, headers */
#define HTTPD_PER_CLIENT 256    /* connections at once from one address: a scraper
                                   keeps one per target, a target per process */
#define HTTPD_RESET_LOADS 512   /* state reads between resets of the symbols */
#define HTTPD_SCAN_MS 1000      /* /proc read again at most this often */
#define HTTPD_HEAD_S 5          /* a new connection's request head, whole, within this */
#define HTTPD_SPARE 32          /* slots kept free by closing the oldest slow connection:
                                   more than the library accepts in one run (10) */
#define HTTPD_WAITING 4         /* ?seconds=N requests at once: each holds a snapshot */
#define HTTPD_RSS_SOFT (192u << 20) /* resident bytes past which the symbols are dropped */
#define HTTPD_QUIET_S 30        /* ... and seconds without a state read after which too */
#define HTTPD_MMAP_BYTES (256u << 10) /* allocations mapped apart (M_MMAP_THRESHOLD) */

enum { R_INDEX, R_METRICS, R_TARGETS, R_HEAP, R_ALLOCS };

/* A request's state, kept while it is suspended (?seconds=N). */
struct hreq {
    struct MHD_Connection *c;
    int route;
    pid_t pid;
    uint64_t due_ns;       /* CLOCK_MONOTONIC when its second read is due */
    int waiting, resumed;
    struct snap base;      /* the first read */
    struct hreq *next;     /* the waiting list */
};

/* A connection (the library's socket context), in accept order. */
struct hconn {
    struct MHD_Connection *c;
    int fd;
    uint64_t due_ns;       /* CLOCK_MONOTONIC past which it is closed */
    int answering;         /* its request's head is in: being answered */
    int closing;           /* shut down: the library closes it at its next run */
    struct hconn *prev, *next;
};

struct httpd {
    const struct serve_cfg *cfg;
    struct procs *ps;
    struct serve_stats st;
    struct hreq *waiting;
    unsigned nwaiting;     /* ... its length */
    struct hconn *first, *last; /* the connections, oldest first */
    unsigned nconns;       /* ... not closing */
    uint64_t reset_at;     /* ps->loads at the last reset of the symbols */
    uint64_t measured_at;  /* ps->loads when the resident set was last read */
    uint64_t trimmed_at;   /* st.requests at the last malloc_trim */
    uint64_t read_ns;      /* CLOCK_MONOTONIC of the last state read */
    uint64_t answer_ns;    /* this run's time in httpd_dispatch (httpd_defer) */
};

static uint64_t httpd_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* c's record (NULL for a connection the library made before it told us). */
static struct hconn *httpd_conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* k shut down: the library reads its end and closes it. */
static void httpd_close(struct httpd *h, struct hconn *k, uint64_t *count)
{
    if (k->closing)
        return;
    shutdown(k->fd, SHUT_RDWR);
    k->closing = 1;
    h->nconns--;
    (*count)++;
}

/* A connection accepted: recorded with its head's deadline; when it
 * leaves fewer than HTTPD_SPARE slots, the oldest connection still
 * waiting for its request's head is closed. */
static void httpd_conn_start(struct httpd *h, struct MHD_Connection *c, void **sctx)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct hconn *k = calloc(1, sizeof *k);
    if (!k || !ci) {
        free(k);
        return; /* no deadline but the library's idle one */
    }
    k->c = c;
    k->fd = ci->connect_fd;
    k->due_ns = httpd_now_ns() + HTTPD_HEAD_S * 1000000000ull;
    k->prev = h->last;
    *(h->last ? &h->last->next : &h->first) = k;
    h->last = k;
    *sctx = k;
    unsigned cap = h->cfg->max_conns > 2 * HTTPD_SPARE ? h->cfg->max_conns - HTTPD_SPARE
                                                      : h->cfg->max_conns / 2;
    if (++h->nconns <= cap)
        return;
    for (struct hconn *o = h->first; o && o != k; o = o->next)
        if (!o->answering && !o->closing) {
            httpd_close(h, o, &h->st.evicted);
            return;
        }
}

static void httpd_conn_end(struct httpd *h, void **sctx)
{
    struct hconn *k = *sctx;
    if (!k)
        return;
    *(k->prev ? &k->prev->next : &h->first) = k->next;
    *(k->next ? &k->next->prev : &h->last) = k->prev;
    if (!k->closing)
        h->nconns--;
    free(k);
    *sctx = NULL;
}

static void httpd_conn(void *cls, struct MHD_Connection *c, void **sctx,
                       enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        httpd_conn_start(cls, c, sctx);
    else
        httpd_conn_end(cls, sctx);
}

/* c's deadline from now: secs more than the idle bound (0: its head is
 * in, or a kept-alive connection waits for its next one). */
static void httpd_conn_due(struct httpd *h, struct MHD_Connection *c, int answering, uint64_t secs)
{
    struct hconn *k = httpd_conn_of(c);
    if (!k)
        return;
    k->answering = answering;
    k->due_ns = httpd_now_ns() + (h->cfg->timeout_s + secs) * 1000000000ull;
}

/* Connections past their deadline closed; the milliseconds until the
 * next deadline (or limit). */
static int httpd_reap(struct httpd *h, int limit)
{
    uint64_t now = httpd_now_ns();
    for (struct hconn *k = h->first; k; k = k->next) {
        if (k->closing)
            continue;
        if (k->due_ns <= now) {
            httpd_close(h, k, &h->st.late);
            continue;
        }
        uint64_t ms = (k->due_ns - now) / 1000000u + 1;
        if (ms < (uint64_t)limit)
            limit = (int)ms;
    }
    return limit;
}

/* The library's run spent busy ns answering requests: every deadline
 * moves by as much, so that a client is judged by the time the agent
 * waited for it, not by requests answered before its own (a starved
 * agent's run answers many).  Reading the bytes slow clients trickle in
 * is not answering: their deadlines stay. */
static void httpd_defer(struct httpd *h, uint64_t busy)
{
    for (struct hconn *k = h->first; k; k = k->next)
        if (!k->closing)
            k->due_ns += busy;
}

static enum MHD_Result httpd_reply(struct httpd *h, struct MHD_Connection *c, unsigned status,
                                   const char *type, void *body, size_t len, int owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    if (!strcmp(type, "application/octet-stream"))
        MHD_add_response_header(r, "Content-Disposition", "attachment; filename=\"profile\"");
    if (status >= 400)
        h->st.errors++;
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* A one-line plain-text answer (an error's reason). */
static enum MHD_Result httpd_text(struct httpd *h, struct MHD_Connection *c, unsigned status,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result httpd_text(struct httpd *h, struct MHD_Connection *c, unsigned status,
                                  const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return MHD_NO;
    return httpd_reply(h, c, status, "text/plain; charset=utf-8", msg, (size_t)n, 1);
}

/* The query's argument name as a number in [lo, hi]: 0 with *out, 1 when
 * absent, -1 when it is not such a number. */
static int httpd_arg(struct MHD_Connection *c, const char *name, uint64_t lo, uint64_t hi,
                     uint64_t *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return 1;
    return cli_parse_count(v, hi, out) == 0 && *out >= lo ? 0 : -1;
}

/* The body written into f (open_memstream's over *mem, *len) answered
 * with type: both are set only once f is closed. */
static enum MHD_Result httpd_stream(struct httpd *h, struct MHD_Connection *c, const char *type,
                                    char **mem, size_t *len, FILE *f)
{
    if (fclose(f) != 0) {
        free(*mem);
        return httpd_text(h, c, 500, "out of memory\n");
    }
    return httpd_reply(h, c, 200, type, *mem, *len, 1);
}

static enum MHD_Result httpd_metrics(struct httpd *h, struct MHD_Connection *c)
{
    uint64_t pid;
    int has = httpd_arg(c, "pid", 1, INT_MAX, &pid);
    const char *v;
    size_t vn;
    int agent = MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "agent", 5, &v, &vn) ==
                MHD_YES; /* ?agent, with a value or without */
    if (has < 0)
        return httpd_text(h, c, 400, "bad pid (a process id)\n");
    if (has == 0 && agent)
        return httpd_text(h, c, 400, "pid and agent: one of them\n");
    pid_t one = (pid_t)pid;
    if (has == 0 && !procs_find(h->ps, one))
        return httpd_text(h, c, 404, "no process %d with a state file here\n", (int)one);
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    struct metrics_opts o = {.openmetrics = accept && strstr(accept, "application/openmetrics-text"),
                             .top = h->cfg->top, .self = has != 0, .procs = has == 0 || !agent};
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return httpd_text(h, c, 500, "out of memory\n");
    uint64_t t0 = httpd_now_ns();
    h->st.scrapes++;
    metrics_write(f, h->ps, has == 0 ? &one : NULL, 1, &o, &h->st);
    h->st.last_scrape_s = (double)(httpd_now_ns() - t0) / 1e9;
    return httpd_stream(h, c, o.openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                            : "text/plain; version=0.0.4; charset=utf-8", &mem, &len, f);
}

/* The address the client reached the agent by (its Host header, when it
 * is a plain host[:port]), which /targets names as every target: an agent
 * listening on 0.0.0.0 is scraped at the address Prometheus used. */
static const char *httpd_host(struct httpd *h, struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!host || !host[0] || strlen(host) > 255 || h->cfg->is_unix ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        return h->cfg->addr;
    return host;
}

static enum MHD_Result httpd_targets(struct httpd *h, struct MHD_Connection *c)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return httpd_text(h, c, 500, "out of memory\n");
    targets_write(f, h->ps, httpd_host(h, c));
    return httpd_stream(h, c, "application/json", &mem, &len, f);
}

/* Whether a profile may read a state file now: the resident set under
 * HTTPD_RSS_SOFT, once the allocator's free pages and then the symbol
 * tables are given back if need be.  When not, the request is answered 503
 * (the waiting ?seconds=N requests' snapshots hold it: they end within
 * SERVE_MAX_SECONDS). */
static int httpd_room(struct httpd *h)
{
    if (procs_rss(getpid()) <= HTTPD_RSS_SOFT)
        return 1;
    malloc_trim(0);
    h->trimmed_at = h->st.requests;
    if (procs_rss(getpid()) <= HTTPD_RSS_SOFT)
        return 1;
    frames_fini();
    h->reset_at = h->ps->loads;
    malloc_trim(0);
    return procs_rss(getpid()) <= HTTPD_RSS_SOFT;
}

static enum MHD_Result httpd_busy(struct httpd *h, struct MHD_Connection *c)
{
    return httpd_text(h, c, 503, "the agent holds %u MiB: try again when the profiles under way end\n",
                      HTTPD_RSS_SOFT >> 20);
}

/* The profile of x->pid now (less x->base when it waited). */
static enum MHD_Result httpd_profile(struct httpd *h, struct MHD_Connection *c, struct hreq *x)
{
    struct proc *p = procs_find(h->ps, x->pid);
    struct snap s;
    struct state_info info;
    char err[512];
    uint8_t *buf;
    size_t len;
    if (!p)
        return httpd_text(h, c, 404, "no process %d with a state file here\n", (int)x->pid);
    if (!httpd_room(h))
        return httpd_busy(h, c);
    if (procs_load(h->ps, p, &s, &info, err, sizeof err) != 0)
        return httpd_text(h, c, 503, "process %d: %s\n", (int)x->pid, err);
    if (x->resumed && s.meta.start_ns != x->base.meta.start_ns) {
        frames_forget(&s);
        snap_free(&s);
        return httpd_text(h, c, 409, "process %d is another program since the first read (exec)\n",
                          (int)x->pid);
    }
    int rc = heapprof_build(&s, x->resumed ? &x->base : NULL,
                            x->route == R_ALLOCS ? HEAPPROF_ALLOCS : HEAPPROF_HEAP, &buf, &len,
                            err, sizeof err);
    frames_forget(&s);
    snap_free(&s);
    if (rc != 0)
        return httpd_text(h, c, 500, "%s\n", err);
    return httpd_reply(h, c, 200, "application/octet-stream", buf, len, 1);
}

/* /debug/pprof/heap or /allocs: at once, or suspended for ?seconds=N. */
static enum MHD_Result httpd_pprof(struct httpd *h, struct MHD_Connection *c, struct hreq *x)
{
    uint64_t pid, secs;
    char err[512];
    struct state_info info;
    int has = httpd_arg(c, "pid", 1, INT_MAX, &pid);
    if (has != 0)
        return httpd_text(h, c, 400, "%s pid (the process id, ?pid=N)\n", has > 0 ? "no" : "bad");
    x->pid = (pid_t)pid;
    if ((has = httpd_arg(c, "seconds", 1, SERVE_MAX_SECONDS, &secs)) < 0)
        return httpd_text(h, c, 400, "invalid value for \"seconds\" (1 to %d)\n", SERVE_MAX_SECONDS);
    if (has > 0)
        return httpd_profile(h, c, x);
    if (h->nwaiting >= HTTPD_WAITING)
        return httpd_text(h, c, 503, "%d profiles over seconds are under way: try again later\n",
                          HTTPD_WAITING);
    struct proc *p = procs_find(h->ps, x->pid);
    if (!p)
        return httpd_text(h, c, 404, "no process %d with a state file here\n", (int)x->pid);
    if (!httpd_room(h))
        return httpd_busy(h, c);
    if (procs_load(h->ps, p, &x->base, &info, err, sizeof err) != 0)
        return httpd_text(h, c, 503, "process %d: %s\n", (int)x->pid, err);
    x->waiting = 1;
    x->due_ns = httpd_now_ns() + secs * 1000000000u;
    x->next = h->waiting;
    h->waiting = x;
    h->nwaiting++;
    httpd_conn_due(h, c, 1, secs);
    MHD_suspend_connection(c);
    return MHD_YES;
}

static int httpd_route(const char *url)
{
    static const struct {
        const char *path;
        int route;
    } routes[] = {{"/", R_INDEX}, {"/metrics", R_METRICS}, {"/targets", R_TARGETS},
                  {"/debug/pprof/heap", R_HEAP}, {"/debug/pprof/allocs", R_ALLOCS}};
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (!strcmp(url, routes[i].path))
            return routes[i].route;
    return -1;
}

static void httpd_release(struct httpd *h, int idle);

static enum MHD_Result httpd_dispatch(struct httpd *h, struct MHD_Connection *c, const char *url,
                                      const char *method, size_t *upload_size, void **ctx)
{
    static const char index[] =
        "heapsnap serve: /metrics[?pid=N|?agent] /targets /debug/pprof/heap?pid=N[&seconds=N] "
        "/debug/pprof/allocs?pid=N[&seconds=N]\n";
    struct hreq *x = *ctx;
    if (x && x->resumed)
        return httpd_profile(h, c, x);
    httpd_conn_due(h, c, 1, 0);
    h->st.requests++;
    *upload_size = 0; /* a body is never read: the answer below ends the request */
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return httpd_text(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    int route = httpd_route(url);
    switch (route) {
    case R_INDEX:
        return httpd_reply(h, c, 200, "text/plain; charset=utf-8", (void *)index, sizeof index - 1, 0);
    case R_METRICS:
        return httpd_metrics(h, c);
    case R_TARGETS:
        return httpd_targets(h, c);
    case R_HEAP:
    case R_ALLOCS:
        if (!(x = calloc(1, sizeof *x)))
            return httpd_text(h, c, 500, "out of memory\n");
        *ctx = x;
        x->c = c;
        x->route = route;
        return httpd_pprof(h, c, x);
    default:
        return httpd_text(h, c, 404, "404 page not found\n");
    }
}

/* The library's request callback: the request answered, then, when it
 * read a state file, the resident set checked (httpd_release), so that
 * the requests one run answers never pile up what each read left. */
static enum MHD_Result httpd_answer(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version, const char *upload,
                                    size_t *upload_size, void **ctx)
{
    struct httpd *h = cls;
    (void)version;
    (void)upload;
    uint64_t t0 = httpd_now_ns();
    enum MHD_Result r = httpd_dispatch(h, c, url, method, upload_size, ctx);
    httpd_release(h, 0);
    h->answer_ns += httpd_now_ns() - t0;
    return r;
}

/* A request's end (answered, or its connection gone). */
static void httpd_done(void *cls, struct MHD_Connection *c, void **ctx,
                       enum MHD_RequestTerminationCode why)
{
    struct httpd *h = cls;
    struct hreq *x = *ctx;
    (void)why;
    httpd_conn_due(h, c, 0, 0);
    if (!x)
        return;
    for (struct hreq **pp = &h->waiting; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            h->nwaiting--;
            break;
        }
    if (x->waiting || x->resumed) {
        frames_forget(&x->base);
        snap_free(&x->base);
    }
    free(x);
    *ctx = NULL;
}

/* The symbol tables dropped every HTTPD_RESET_LOADS state reads, or
 * when the resident set is past HTTPD_RSS_SOFT; the allocator's free
 * pages given back once the loop is idle after requests. */
static void httpd_release(struct httpd *h, int idle)
{
    int grew = h->ps->loads != h->measured_at; /* /proc/self/statm read after reads alone */
    uint64_t now = httpd_now_ns();
    h->measured_at = h->ps->loads;
    if (grew)
        h->read_ns = now;
    int over = h->ps->loads != h->reset_at && now - h->read_ns > HTTPD_QUIET_S * 1000000000ull;
    if (grew && procs_rss(getpid()) > HTTPD_RSS_SOFT) {
        malloc_trim(0); /* free pages first: what is left is held */
        h->trimmed_at = h->st.requests;
        over |= procs_rss(getpid()) > HTTPD_RSS_SOFT;
    }
    if (over || h->ps->loads - h->reset_at > HTTPD_RESET_LOADS) {
        frames_fini(); /* the stacks and symbols of every read so far */
        h->reset_at = h->ps->loads;
        h->trimmed_at = h->st.requests - 1; /* their pages go back now */
        idle = 1;
    }
    if (idle && h->trimmed_at != h->st.requests) {
        malloc_trim(0);
        h->trimmed_at = h->st.requests;
    }
}

/* Requests whose seconds are up (all of them when all) resumed; the
 * milliseconds until the next one is due (or limit). */
static int httpd_resume(struct httpd *h, int all, int limit)
{
    uint64_t now = httpd_now_ns();
    for (struct hreq **pp = &h->waiting; *pp;) {
        struct hreq *x = *pp;
        if (all || x->due_ns <= now) {
            *pp = x->next;
            h->nwaiting--;
            x->waiting = 0;
            x->resumed = 1;
            MHD_resume_connection(x->c);
            continue;
        }
        uint64_t ms = (x->due_ns - now) / 1000000u + 1;
        if (ms < (uint64_t)limit)
            limit = (int)ms;
        pp = &x->next;
    }
    return limit;
}

int httpd_run(const struct serve_cfg *cfg, struct procs *ps, volatile sig_atomic_t *stop, char *err,
              size_t errlen)
{
    struct httpd h = {.cfg = cfg, .ps = ps};
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_conns, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTPD_HEAD_BYTES, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)httpd_done, &h},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)httpd_conn, &h},
        {cfg->is_unix ? MHD_OPTION_END : MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTPD_PER_CLIENT, NULL},
        {MHD_OPTION_END, 0, NULL}};
    if (mhd_load(err, errlen) < 0)
        return -1;
    mallopt(M_MMAP_THRESHOLD, HTTPD_MMAP_BYTES);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL,
                                            NULL, httpd_answer, &h, MHD_OPTION_ARRAY, opts,
                                            MHD_OPTION_END);
    if (!d) {
        snprintf(err, errlen, "serve: the HTTP server (libmicrohttpd) did not start");
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
    int epfd = di ? di->epoll_fd : -1;
    procs_scan(ps, 0);
    while (!*stop) {
        MHD_UNSIGNED_LONG_LONG to;
        int ms = HTTPD_SCAN_MS;
        if (MHD_get_timeout(d, &to) == MHD_YES && to < (MHD_UNSIGNED_LONG_LONG)ms)
            ms = (int)to;
        ms = httpd_resume(&h, 0, ms);
        ms = httpd_reap(&h, ms);
        struct pollfd p = {epfd, POLLIN, 0};
        int n = poll(&p, epfd >= 0 ? 1 : 0, ms);
        if (n < 0 && errno != EINTR)
            break;
        httpd_resume(&h, 0, 0);
        httpd_reap(&h, 0);
        h.answer_ns = 0;
        MHD_run(d);
        httpd_defer(&h, h.answer_ns);
        procs_scan(ps, HTTPD_SCAN_MS);
        httpd_release(&h, n == 0);
    }
    httpd_resume(&h, 1, 0); /* a suspended connection must be resumed before the stop */
    MHD_run(d);
    MHD_stop_daemon(d);
    return 0;
}
