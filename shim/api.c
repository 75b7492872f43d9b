/*
 * api.c - the public API of heapsnap.h, thin wrappers over the shim's
 * modules.  Defined with default visibility (everything else in the shim is
 * hidden) and strong here: HEAPSNAP_API is redefined to export instead of
 * the weak declarations a program sees.  The entry points that can run
 * the leak check mark where the program's frames end (COLLECT_ENTRY).
 */
#define HEAPSNAP_API __attribute__((visibility("default")))
#include "heapsnap.h"
#include "root.h"
#include "version.h"

/* The version (the tree's VERSION, one for the shim, the CLI and the Python
 * package), readable in the file: `strings libheapsnap.so | grep 'heapsnap
 * shim'` (test_version.sh). */
__attribute__((used)) static const char api_version[] = "heapsnap shim " HEAPSNAP_VERSION;

/* The frees this thread holds back (pend_hold) happened before this call:
 * they are released first, unless the call comes from a signal handler
 * that interrupted a hook. */
static void api_settle(void)
{
    if (!guard_on)
        pend_settle();
}

int heapsnap_take_snapshot(const char *path)
{
    COLLECT_ENTRY();
    int r = snap_take(HSNAP_REASON_API, path, 0);
    COLLECT_LEAVE();
    return r;
}

void heapsnap_get_traced_memory(size_t *current, size_t *peak)
{
    uint64_t c, p;
    api_settle();
    trace_totals(&c, &p);
    if (current)
        *current = (size_t)c;
    if (peak)
        *peak = (size_t)p;
}

void heapsnap_reset_peak(void)
{
    api_settle();
    trace_reset_peak();
    watch_reset_peak(0);
    peak_reset();
}

void heapsnap_clear_traces(void)
{
    api_settle();
    int saved = guard_enter();
    trace_clear();
    peak_clear();
    watch_reset_peak(1);
    guard_leave(saved);
    peak_reset();
}

unsigned heapsnap_new_epoch(void)
{
    api_settle();
    return snap_epoch_advance();
}

/* The watch is on before the epoch it watches begins: a block of that
 * epoch is counted at its birth (watch_add). */
unsigned heapsnap_watch_start(void)
{
    api_settle();
    watch_start(snap_epoch() + 1);
    return snap_epoch_advance();
}

void heapsnap_watch_stop(void)
{
    watch_stop();
}

void heapsnap_watch_memory(size_t *current, size_t *peak)
{
    uint64_t c, p;
    api_settle();
    watch_totals(&c, &p);
    if (current)
        *current = (size_t)c;
    if (peak)
        *peak = (size_t)p;
}

struct heapsnap_dump *heapsnap_dump(int what, unsigned since, const void *block,
                                    unsigned code_from)
{
    api_settle();
    int saved = guard_enter();
    struct heapsnap_dump *d = dump_take(what, since, block, code_from);
    guard_leave(saved);
    return d;
}

void heapsnap_dump_free(struct heapsnap_dump *dump)
{
    int saved = guard_enter();
    dump_free(dump);
    guard_leave(saved);
}

void heapsnap_stop(void)
{
    api_settle();
    pause_stop();
}

void heapsnap_start(void)
{
    pause_start();
}

void heapsnap_python_frames(unsigned n, int native)
{
    pyfr_frames_cap(n, native);
}

const char *heapsnap_python_unread(void)
{
    return pylay_unread_text();
}

int heapsnap_thread_recording(int on)
{
    return pause_thread(!on);
}

int heapsnap_is_tracing(void)
{
    return hook_is_active();
}

size_t heapsnap_get_tracemalloc_memory(void)
{
    return arena_mapped();
}

/* ---------------- the reference model (collect.c) ---------------- */

long heapsnap_collect(const char *path)
{
    COLLECT_ENTRY();
    api_settle();
    long r = (long)lchk_collect(path);
    COLLECT_LEAVE();
    return r;
}

struct api_count {
    size_t *counts, n;
    uint32_t epoch;
    size_t total;
};

static int api_count_one(const struct tbl_entry *e, void *arg)
{
    struct api_count *c = arg;
    uint32_t age = c->epoch - e->epoch;
    c->counts[age < c->n ? age : c->n - 1]++;
    return 0;
}

static int api_count_all(const struct tbl_entry *e, void *arg)
{
    ((struct api_count *)arg)->total++;
    return 0;
}

size_t heapsnap_get_count(size_t *counts, size_t n)
{
    struct api_count c = {counts, counts ? n : 0, snap_epoch(), 0};
    for (size_t i = 0; i < c.n; i++)
        counts[i] = 0;
    api_settle();
    pend_foreach(c.n ? api_count_one : api_count_all, &c, 0, NULL);
    if (c.n)
        for (size_t i = 0; i < c.n; i++)
            c.total += counts[i];
    return c.total;
}

/* The three queries: the check, then p's count, referrers or referents.
 * The entry mark is this frame's (or, inlined, the exported function's). */
static long api_query(const void *p, int referents, struct heapsnap_ref *out, size_t max)
{
    COLLECT_ENTRY();
    api_settle();
    collect_target(p);
    long r = lchk_query(referents, out, out ? max : 0);
    COLLECT_LEAVE();
    return r;
}

long heapsnap_refcount(const void *p)
{
    return api_query(p, 0, NULL, 0);
}

long heapsnap_referrers(const void *p, struct heapsnap_ref *out, size_t max)
{
    return api_query(p, 0, out, max);
}

long heapsnap_referents(const void *p, struct heapsnap_ref *out, size_t max)
{
    return api_query(p, 1, out, max);
}

int heapsnap_ignore(const void *p)
{
    return lchk_ignore(p);
}

int heapsnap_register_root(const void *p, size_t len)
{
    return roots_register(p, len);
}

int heapsnap_unregister_root(const void *p)
{
    return roots_unregister(p, 0);
}
