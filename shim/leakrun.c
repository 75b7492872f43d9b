/*
 * leakrun.c - the leak check as the recorder runs it (the check itself
 * is the leak room's, behind leak.h; this glue composes it with the
 * record tables and the snapshot writer, so it lives in the root, above
 * all three, and leak/ stays pure): whether a snapshot wants one,
 * the sorted copy of the live blocks it scans (the fatal path writes the
 * same copy as BLOCKS), and the check in place or on a fork of the
 * process (lfork_spawn), whose child classifies the blocks, writes BLOCKS,
 * LEAKS and RETAINERS into the snapshot's side file and leaves the live
 * sums in a shared mapping.  Here too are the API's entries that ask the
 * room something (heapsnap_collect, LSan's recoverable check, the
 * reference queries, heapsnap_ignore); the recorder as the room sees it
 * (struct leak_host) is threads.c's, which starts the room.  Every run holds the snapshot lock (snap_take); what it
 * leaves for the writer is snap_run.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "peek.h"
#include "root.h"
#include "python.h"
#include "snapshot.h"

/* ---------------- the sorted copy ---------------- */

struct lchk_array {
    struct hsnap_block *out;
    uint64_t n, cap;
};

static int lchk_block(const struct tbl_entry *e, void *arg)
{
    struct lchk_array *a = arg;
    if (inh_skip(e, 1)) /* the fatal path's copy in a fork child: summed apart */
        return 0;
    if (a->n == a->cap)
        return 1; /* overflow: retry with more room */
    a->out[a->n++] = (struct hsnap_block){
        .addr = e->ptr, .size = e->size, .trace = e->trace, .epoch = e->epoch};
    return 0;
}

/* BLOCKS payload into b (the copy the leak check scans and the fatal
 * path writes): u64 count, then the blocks sorted by address. */
static int lchk_blocks(struct sbuf *b, unsigned tries)
{
    uint64_t cap = pend_live_count();
    for (cap += cap / 4 + 1024;; cap *= 2) {
        b->len = 0;
        inh_recount();
        /* not populated: the fork drains the table as it fills this, so
         * that the two are not resident at once (test_leak_fork_memory) */
        if (sbuf_reserve(b, 8 + cap * sizeof(struct hsnap_block)) != 0)
            return -1;
        struct lchk_array a = {(struct hsnap_block *)(b->p + 8), 0, cap};
        int r = pend_foreach(lchk_block, &a, tries, &snap_run.left);
        if (r < 0 || (r > 0 && tries == PEND_DRAIN)) /* drained: no second walk */
            return -1;
        if (r > 0)
            continue;
        memcpy(b->p, &a.n, 8);
        b->len = 8 + a.n * sizeof(struct hsnap_block);
        bsort_blocks(a.out, a.n);
        return 0;
    }
}

/* ---------------- the blocks the objects' pass types ---------------- */

/* Room for cap blocks' addresses and sizes (snap_run.written), shared
 * with the check's fork when shared is set: pages only where written.
 * None in a process whose objects are not read. */
static struct snap_written *lchk_written_map(uint64_t cap, int shared)
{
    snap_written_drop();
    if (!py_types_can() || pend_live_count() > (uint64_t)opt_int(OPT_PYTHON_OBJECTS))
        return NULL;
    size_t len = (size_t)cap * sizeof(struct snap_written);
    void *m = arena_map_sparse(len, shared);
    if (!m)
        return NULL;
    snap_run.written = m;
    snap_run.written_len = len;
    return m;
}

/* b[0, n) into w (room for cap): how many, or 0 when they do not fit. */
static uint64_t lchk_written(const struct hsnap_block *b, uint64_t n, struct snap_written *w,
                             uint64_t cap)
{
    if (!w || n > cap)
        return 0;
    for (uint64_t i = 0; i < n; i++)
        w[i] = (struct snap_written){b[i].addr, b[i].size};
    return n;
}

/* BLOCKS from the sorted copy, and the live sums. */
static void lchk_put_copy(struct side_file *f, const struct hsnap_block *b, uint64_t n,
                          struct snap_live *lv)
{
    for (uint64_t i = 0; i < n; i++)
        trace_live_add(lv->live, lv->n, b[i].trace, b[i].size);
    if (f->fd < 0)
        return;
    /* packed in formed chunks, as the streamed BLOCKS (snap_blocks_stream):
     * the model's fields go in the packing's longer form, and a sorted
     * copy's steps are the shortest (its 32-byte records compressed as
     * they lay were most of a big check's zstd time) */
    side_sec_begin_packed(f, sizeof n, n * sizeof *b);
    side_out(f, b, n * sizeof *b);
    side_sec_end(f, HSNAP_SEC_BLOCKS, &n, sizeof n);
}

/* ---------------- the classes the objects' pass hears ---------------- */

/* The blocks of the classified b[0, n) the check did not find reachable,
 * into out (room for cap; NULL: counted only); how many, or cap + 1 when
 * they do not fit (then none is usable). */
static uint64_t lchk_classes(const struct hsnap_block *b, uint64_t n, struct pyl_blkcls *out,
                             uint64_t cap)
{
    uint64_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (b[i].cls == HSNAP_CLASS_REACHABLE || b[i].cls == HSNAP_CLASS_UNKNOWN)
            continue;
        if (out && k == cap)
            return cap + 1;
        if (out)
            out[k] = (struct pyl_blkcls){b[i].addr, b[i].cls, 0};
        k++;
    }
    return k;
}

/* The check's classes handed to the Python room (its leaked references
 * leave out what the check ignored), from the sorted copy in place. */
static void lchk_hand_classes(const struct hsnap_block *b, uint64_t n)
{
    if (!pyl_lc_wanted())
        return;
    uint64_t k = lchk_classes(b, n, NULL, 0);
    struct pyl_blkcls *c = pyl_lc_room(k);
    if (c)
        pyl_lc_set(lchk_classes(b, n, c, k));
}

/* ---------------- the check in a snapshot ---------------- */

/* heapsnap_collect and LSan's checks; else HEAPSNAP_LEAKS, but not for a
 * crashing process, nor at exit after __lsan_do_leak_check or when the
 * program's __lsan_is_turned_off() says so (lsan_exit_check: *why gets which, for
 * META).  Not under a lock: the exit's answer may come from the program's
 * code. */
int lchk_wanted(unsigned reason, int fatal, unsigned *why)
{
    *why = 0;
    if (fatal)
        return 0;
    if (reason == HSNAP_REASON_COLLECT || reason == HSNAP_REASON_LSAN)
        return 1;
    int wanted = opt_int(OPT_LEAKS) && reason != HSNAP_REASON_FATAL &&
                 (!clock_is_late() || reason == HSNAP_REASON_DETACH || reason == HSNAP_REASON_EXIT);
    if (reason == HSNAP_REASON_EXIT)
        *why = lsan_exit_check(wanted);
    return wanted && !*why;
}

/* The leak room's callback for the live blocks: the sorted copy, built
 * while the world is stopped (or in the check's fork). */
struct lchk_copy {
    struct sbuf *blocks;
    unsigned tries;   /* pend_foreach's: 0, SNAP_FATAL_TRIES, PEND_DRAIN */
    int called, r;    /* r: lchk_blocks' result, once called */
};

static int lchk_copy_blocks(void *ctx, struct hsnap_block **b, uint64_t *n)
{
    struct lchk_copy *c = ctx;
    c->called = 1;
    if ((c->r = lchk_blocks(c->blocks, c->tries)) != 0)
        return -1;
    memcpy(n, c->blocks->p, 8);
    *b = (struct hsnap_block *)(c->blocks->p + 8);
    return 0;
}

/* The check in place (collect_check): BLOCKS, with classes and refcounts
 * after a check.  The copy is released before the rest of the snapshot is
 * built. */
int lchk_inplace(struct side_file *f, struct sbuf *sec, int fatal, int *leaks,
                 struct snap_live *lv, uint64_t *count)
{
    struct sbuf blocks = {0};
    unsigned tries = fatal ? SNAP_FATAL_TRIES : 0;
    struct lchk_copy c = {&blocks, tries, 0, -1};
    struct leak_answer a;
    pyl_lc_drop();
    int rc = *leaks ? collect_check(lchk_copy_blocks, &c, &a) : -1;
    if (rc == COLLECT_UNSTOPPED)
        return COLLECT_UNSTOPPED; /* nothing written: the caller decides */
    if (rc == 0) {
        sec[SEC_LEAKS] = (struct sbuf){a.leaks, a.leaks_len, a.leaks_cap, 0};
        sec[SEC_RETAINERS] = (struct sbuf){a.retainers, a.ret_len, a.ret_cap, 0};
        sec[SEC_HOLDERS] = (struct sbuf){a.holders, a.hold_len, a.hold_cap, 0};
        snap_run.unreachable = a.unreachable;
        uint64_t nb;
        memcpy(&nb, blocks.p, 8);
        lchk_hand_classes((const struct hsnap_block *)(blocks.p + 8), nb);
    } else {
        if (*leaks) /* asked for and failed (warned): the file says so */
            snap_run.leaks_skipped = SNAP_SKIP_FAILED;
        *leaks = 0;
    }
    int r = c.called ? c.r : lchk_blocks(&blocks, tries);
    if (r == 0 && snap_live_init(lv, trace_count()) != 0)
        r = -1;
    if (r == 0) {
        memcpy(count, blocks.p, 8);
        const struct hsnap_block *b = (const struct hsnap_block *)(blocks.p + 8);
        lchk_put_copy(f, b, *count, lv);
        if (!fatal) /* the objects' pass types what BLOCKS holds */
            snap_run.nwritten = lchk_written(b, *count, lchk_written_map(*count, 0), *count);
    }
    sbuf_free(&blocks);
    return r;
}

/* What the check's fork leaves its parent, in a shared mapping. */
struct lchk_reply {
    uint64_t count;         /* blocks in BLOCKS */
    uint64_t ncls;          /* entries in the classes' mapping (lchk_classes) */
    uint64_t nwritten;      /* entries in snap_run.written (lchk_written) */
    struct pend_left left;  /* held blocks the copy left out */
    int64_t unreachable;    /* direct + indirect + cycle blocks */
    uint32_t ntraces;       /* live[]'s room */
    uint32_t nused;         /* ... of which the fork's traces: the rest stays 0 */
    struct trace_live live[];
};

struct lchk_fork {
    struct lchk_copy c;     /* first: lchk_copy_blocks' ctx */
    struct side_file *f;
    struct lchk_reply *reply;
    struct pyl_blkcls *cls;  /* shared: the classes the child found */
    uint64_t cls_cap;
    struct snap_written *written; /* shared: BLOCKS' addresses and sizes */
    uint64_t written_cap;
};

/* In the fork: BLOCKS, LEAKS and RETAINERS into the file, the rest into
 * the reply (nothing here may allocate but by mmap). */
static int lchk_fork_report(void *ctx, const struct hsnap_block *b, uint64_t n,
                            const struct leak_answer *a)
{
    struct lchk_fork *sf = ctx;
    struct lchk_reply *r = sf->reply;
    struct snap_live lv = {r->live, r->ntraces, 0, NULL};
    r->count = n;
    r->nused = trace_count() < r->ntraces ? trace_count() : r->ntraces;
    r->left = snap_run.left;
    r->unreachable = a->unreachable;
    r->ncls = sf->cls ? lchk_classes(b, n, sf->cls, sf->cls_cap) : 0;
    r->nwritten = lchk_written(b, n, sf->written, sf->written_cap);
    lchk_put_copy(sf->f, b, n, &lv);
    if (sf->f->fd >= 0) {
        side_sec_whole(sf->f, HSNAP_SEC_LEAKS, a->leaks, a->leaks_len);
        if (a->ret_len)
            side_sec_whole(sf->f, HSNAP_SEC_RETAINERS, a->retainers, a->ret_len);
        if (a->hold_len)
            side_sec_whole(sf->f, HSNAP_SEC_HOLDERS, a->holders, a->hold_len);
    }
    errno = sf->f->err;
    return sf->f->err ? -1 : 0;
}

/* The parent's part while the child works: the objects' types and graph
 * (snap_pytypes_early), when BLOCKS' blocks will be listed to check them by. */
static void lchk_meanwhile(void *ctx)
{
    if (((struct lchk_fork *)ctx)->written) {
        peek_mem_on(); /* the fork shares our pages: reads that do not pin (peek.h) */
        snap_pytypes_early();
        peek_mem_off();
    }
}

/* collect_check_fork, with the reply mapped before and read after. */
int lchk_forked(struct side_file *f, struct snap_live *lv, uint64_t *count)
{
    uint32_t nt = 2 * trace_count() + 4096; /* traces born before the stop */
    size_t len = sizeof(struct lchk_reply) + (size_t)nt * sizeof(struct trace_live);
    struct lchk_reply *r = arena_map_sparse(len, 1);
    if (!r)
        return COLLECT_NOFORK;
    r->ntraces = nt;
    struct sbuf blocks = {0}; /* the child's */
    /* the child's walk takes no stripe lock (it is the one thread left)
     * and drains the table as it copies it: the child's resident set
     * holds the blocks' copy instead of the table, not beside it */
    struct lchk_fork sf = {{&blocks, PEND_DRAIN, 0, -1}, f, r, NULL, 0, NULL, 0};
    /* the classes: one entry a block at most, the live count and as many
     * born before the stop; pages only where the child writes */
    uint64_t ccap = 2 * pend_live_count() + 4096;
    size_t clen = (size_t)ccap * sizeof *sf.cls;
    void *cm = pyl_lc_wanted() ? arena_map_sparse(clen, 1) : NULL;
    if (cm)
        sf.cls = cm, sf.cls_cap = ccap;
    pyl_lc_drop();
    if ((sf.written = lchk_written_map(ccap, 1)))
        sf.written_cap = ccap;
    off_t at = f->fd >= 0 ? lseek(f->fd, 0, SEEK_CUR) : 0;
    int rc = collect_check_fork(lchk_copy_blocks, lchk_fork_report, lchk_meanwhile, &sf);
    if (rc == 0) {
        /* The fork's sums are the snapshot's where they lie (the reply is
         * this process's alone now: a copy of them held 19 MB twice at
         * torchtrain.py's exit, and faulted every page in on both sides),
         * for the traces there are now, not for the reply's room (twice as
         * many): every reader of the sums reads lv->n of them, and the
         * room's untouched half was faulted in, a zero page at a time, by
         * the first (~4,700 faults in peak_write). */
        uint32_t nlive = trace_count() > r->nused ? trace_count() : r->nused;
        *lv = (struct snap_live){r->live, nlive < nt ? nlive : nt, len, r};
        *count = r->count;
        snap_run.left = r->left;
        snap_run.unreachable = r->unreachable;
        snap_run.nwritten = r->nwritten <= sf.written_cap ? r->nwritten : 0;
        struct pyl_blkcls *c = sf.cls && r->ncls <= ccap ? pyl_lc_room(r->ncls) : NULL;
        if (c) {
            memcpy(c, sf.cls, (size_t)r->ncls * sizeof *c);
            pyl_lc_set(r->ncls);
        }
    }
    snap_pytypes_early_keep(rc == 0);
    if (rc < 0 && f->fd >= 0 && (lseek(f->fd, at, SEEK_SET) != at || ftruncate(f->fd, at) != 0))
        side_fail(f); /* what the child wrote goes */
    if (sf.cls)
        arena_unmap(sf.cls, clen);
    if (rc != 0)
        arena_unmap(r, len); /* else lv's */
    return rc;
}

/* ---------------- the API's questions ---------------- */

/* heapsnap_collect: the leak check now; with a path, a snapshot too (whose
 * name is taken literally).  Advances the epoch like a snapshot; the last
 * check's leaked blocks, or -1. */
int64_t lchk_collect(const char *path)
{
    if (path) { /* the count read under the snapshot's lock: another thread's
                 * snapshot may run as soon as it is dropped */
        int64_t found;
        return snap_take_found(HSNAP_REASON_COLLECT, path, 0, &found) == 0 ? found : -1;
    }
    int saved_errno = errno, leaks = 1;
    int64_t ret = -1;
    if (cred_secure())
        return -1;
    struct sbuf sec[SEC_N] = {{0}};
    struct side_file f = {.fd = -1};
    struct snap_live lv = {0};
    uint64_t n;
    int saved_guard = guard_enter();
    snap_take_lock();
    if (snap_put_blocks(&f, sec, HSNAP_REASON_COLLECT, 0, &leaks, &lv, &n) == 0 && leaks)
        ret = snap_run.unreachable;
    pyl_lc_drop(); /* no objects' pass hears them */
    snap_written_drop();
    stop_kept_drop();
    snap_live_drop(&lv);
    for (int i = 0; i < SEC_N; i++)
        sbuf_free(&sec[i]);
    snap_drop_lock();
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

/* LSan's checks: a snapshot with the leak check to HEAPSNAP_OUTPUT's next
 * name; the leaked blocks it found, or -1 when the check did not run. */
int64_t lchk_check(unsigned reason)
{
    int64_t found;
    snap_take_found(reason, NULL, 0, &found);
    return found;
}

/* The query's callback: the live blocks, copied and sorted into a fresh
 * mapping (the caller's sbuf). */
static int lchk_query_blocks(void *ctx, struct hsnap_block **b, uint64_t *n)
{
    struct sbuf *s = ctx;
    if (lchk_blocks(s, 0) != 0)
        return -1;
    memcpy(n, s->p, 8);
    *b = (struct hsnap_block *)(s->p + 8);
    return 0;
}

/* heapsnap_refcount, _referrers, _referents: one query of the leak room on
 * the live heap (its target set by collect_target). */
long lchk_query(int referents, struct heapsnap_ref *out, size_t max)
{
    struct sbuf blocks = {0};
    if (cred_secure())
        return -1;
    int saved_errno = errno, saved_guard = guard_enter();
    snap_lock();
    long ret = collect_query(lchk_query_blocks, &blocks, referents, out, max);
    sbuf_free(&blocks);
    snap_unlock();
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

/* The live block that holds p inside it (a walk: the table is keyed by
 * start addresses). */
struct lchk_holder {
    uintptr_t p;
    struct tbl_entry e;
    int found;
};

static int lchk_holder_of(const struct tbl_entry *e, void *arg)
{
    struct lchk_holder *h = arg;
    if (h->p > e->ptr && h->p - e->ptr < e->size) {
        h->e = *e;
        h->found = 1;
        return 1;
    }
    return 0;
}

/* heapsnap_ignore and __lsan_ignore_object: the live block holding p (its
 * start, or, as LSan allows, a pointer into it: found by a walk of the
 * table) is ignored by later checks; 0, or -1 when p is in no live traced
 * block. */
int lchk_ignore(const void *p)
{
    struct lchk_holder h = {(uintptr_t)p, {0}, 0};
    int ret = -1;
    int saved = guard_enter();
    snap_lock();
    if (tbl_find(h.p, &h.e) || pend_find_fresh(h.p, &h.e))
        h.found = 1;
    else if (h.p)
        pend_foreach(lchk_holder_of, &h, 0, NULL);
    if (h.found)
        ret = collect_ignore(h.e.ptr, h.e.trace, h.e.epoch);
    snap_unlock();
    guard_leave(saved);
    return ret;
}
