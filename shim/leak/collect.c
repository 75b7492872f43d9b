/*
 * collect.c - the leak check in the process: the orchestration around the
 * pure model (model.c), the door's one question (collect_check) and the
 * gc-like queries of the API.  A check: module roots (loader lock: before
 * the stop), the stop (the recorder's locks taken so that no thread is
 * inside them, the threads stopped, the locks dropped), the caller's
 * sorted copy of the live blocks, thread and user roots, model_run (its
 * references heard by the retainer and holder views), the resume, the
 * answer encoded.
 *   Rules: while the world is stopped nothing here takes a lock another
 * thread may hold or calls the host's malloc.  The calling thread is
 * scanned from where the program called into the shim (COLLECT_ENTRY, with
 * its callee-saved registers; at exit, from the frame that called exit(),
 * so that dead frames keep nothing reachable).  On a fork
 * (collect_check_fork) the child runs the same steps, the world stopped
 * only until the fork, and what MADV_DONTFORK hides is copied for it.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "heapsnap.h"
#include "leakinner.h"
#include "peek.h"

#define COLLECT_IGNORE_MIN 256u
#define COLLECT_PEEK_RANGES 65536u /* the fork's safe ranges (peek_freeze): 1 MiB mapped */

/* The check's phases, timed for HEAPSNAP_VERBOSE (a clock read each): the
 * live blocks' copy, the marks by stack (collect_mark_*, rt_mark,
 * gobj_mark), the roots, the objects' starts, the scan (model_run), what
 * follows it (the extensions' constants, the retainers), the answer's
 * report (BLOCKS, LEAKS, RETAINERS, HOLDERS written). */
enum { PH_BLOCKS, PH_MARKS, PH_ROOTS, PH_STARTS, PH_SCAN, PH_AFTER, PH_REPORT, COLLECT_PHASES };

/* An ignored block: its address, and its trace and epoch so that a later
 * block at the same address is not ignored. */
struct collect_ign {
    uintptr_t p;
    uint32_t trace, epoch;
};

static struct {
    ucontext_t uc;              /* the collector's registers at the stop */
    uintptr_t regs[6];          /* its callee-saved ones: rbx rbp r12-r15 */
    uintptr_t sp;               /* its stack is scanned from here up */
    uint64_t t0;                /* CLOCK_MONOTONIC at collect_begin */
    uint64_t held_ns;           /* the fork's child: the stop's length to the fork */
    uint64_t t_stop;            /* ... as the stop began */
    uint32_t unstopped;         /* threads that did not stop */
    int stopped;                /* the world is stopped */
    struct model_result res;    /* the last run's result */
    struct model_ops ops;
    int have_res;
    int ret_on;                 /* the retainers' table is up (ret_begin) */
    int holding;                /* the views' references held back (reflog.c) */
    void (*live_ref)(uint32_t, uint32_t, uint32_t, int, uintptr_t, void *);
    void (*live_owned)(uint32_t, uint32_t, void *); /* ... the views' own, meanwhile */
    atomic_int warned;
    struct collect_ign *ign;    /* sorted by p; callers serialise */
    size_t nign, ign_cap;
    int64_t last_unreachable;   /* direct + indirect + cycle blocks */
    uintptr_t target;           /* the pending query's address */
    uintptr_t exit_lo, exit_hi; /* libc's exit(): [lo, hi), or 0 */
    uint64_t ph[COLLECT_PHASES + 1]; /* HEAPSNAP_VERBOSE: when each phase began (collect_phase) */
} col;

static uint64_t collect_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Phase k begins now (collect_note_phases). */
static void collect_phase(int k)
{
    col.ph[k] = collect_now();
}

/* "leak check: milliseconds: blocks 150, marks 196, ..." (phases from
 * PH_BLOCKS to the one before end, whose start ends the last). */
static void collect_note_phases(int end)
{
    static const char *const name[COLLECT_PHASES] = {"blocks", "marks", "roots", "objects",
                                                     "scan", "after", "report"};
    char line[192];
    opt_fmt_phases(line, sizeof line, name, col.ph, (unsigned)end);
    collect_host->debug("leak check: milliseconds: ", line, "");
}

const struct leak_host *collect_host;

/* Start-up (the re-entry guard set: dlsym may allocate). */
void collect_init(const struct leak_host *h)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    void *fn = dlsym(RTLD_NEXT, "exit");
    collect_host = h;
    if (fn && dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size) {
        col.exit_lo = (uintptr_t)fn;
        col.exit_hi = (uintptr_t)fn + sym->st_size;
    }
}

static void collect_warn(const char *why)
{
    if (atomic_exchange(&col.warned, 1) == 0)
        collect_host->warn("leak check skipped: ", why, "");
}

/* ---------------- begin / end ---------------- */

static void collect_save_regs(void)
{
    const greg_t *g = col.uc.uc_mcontext.gregs;
    col.regs[0] = (uintptr_t)g[REG_RBX];
    col.regs[1] = (uintptr_t)g[REG_RBP];
    col.regs[2] = (uintptr_t)g[REG_R12];
    col.regs[3] = (uintptr_t)g[REG_R13];
    col.regs[4] = (uintptr_t)g[REG_R14];
    col.regs[5] = (uintptr_t)g[REG_R15];
}

__thread uintptr_t collect_entry_sp;
__thread int collect_entry_exit;

/* The callee-saved registers of the cursor's frame; 0, or -1. */
static int collect_read_regs(unw_cursor_t *c, uintptr_t *out)
{
    static const int reg[6] = {UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12,
                               UNW_X86_64_R13, UNW_X86_64_R14, UNW_X86_64_R15};
    for (int k = 0; k < 6; k++) {
        unw_word_t v = 0;
        if (unw_get_reg(c, reg[k], &v) != 0)
            return -1;
        out[k] = (uintptr_t)v;
    }
    return 0;
}

/* The frame is libc's exit() (its return address, less one, inside it:
 * exit ends with its call). */
static int collect_in_exit(unw_cursor_t *c)
{
    unw_word_t ip;
    return col.exit_lo && unw_get_reg(c, UNW_REG_IP, &ip) == 0 && ip - 1 >= col.exit_lo &&
           ip - 1 < col.exit_hi;
}

/* Where the program's frames end on this thread, and its callee-saved
 * registers there (into col.regs): libunwind steps from here to the frame
 * whose stack pointer is the entry mark (the entry point's CFA), restoring
 * each register from the slot the frames in between saved it in; at exit
 * on, to the caller of exit() (failing that, the mark holds).  The stack
 * pointer found, or 0 when the walk does not land on the mark (the caller
 * falls back). */
static HS_NOINLINE uintptr_t collect_entry_regs(uintptr_t mark, int at_exit)
{
    unw_context_t uc;
    unw_cursor_t c;
    unw_word_t sp;
    uintptr_t ret = 0, regs[6];
    int caller = 0;
    collect_host->loader_enter(); /* libunwind looks modules up with dl_iterate_phdr */
    if (unw_getcontext(&uc) == 0 && unw_init_local(&c, &uc) == 0)
        for (int step = 0; step < 64; step++) { /* the shim's and exit's frames: a handful */
            if (unw_get_reg(&c, UNW_REG_SP, &sp) != 0 || (!ret && sp > mark))
                break;
            if (caller || sp == mark) {
                if (collect_read_regs(&c, regs) != 0)
                    break;
                memcpy(col.regs, regs, sizeof regs);
                ret = (uintptr_t)sp;
                if (caller || !at_exit)
                    break;
            }
            if (ret)
                caller = collect_in_exit(&c);
            if (unw_step(&c) <= 0)
                break;
        }
    collect_host->loader_leave();
    return ret;
}

/* Roots, then the stop.  The calling thread's stack is scanned from its
 * entry mark, or failing one from the caller's stack pointer at this call:
 * the frames it calls later (the model's) are not roots either way.  With
 * hold set the recorder's locks stay taken (for the fork: its child finds
 * no lock held by a thread it does not have).  0, or -1 (warned; nothing
 * to undo). */
static HS_NOINLINE int collect_begin(int hold)
{
    uintptr_t entry = collect_entry_sp;
    uintptr_t from = entry ? collect_entry_regs(entry, collect_entry_exit) : 0;
    int marked = from != 0;
    col.t0 = collect_now();
    col.sp = marked ? from : (uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *);
    if (collect_host->init_prepare)
        collect_host->init_prepare(); /* collect_mark_init's names, while locks may be taken */
    if (roots_begin() != 0) {
        collect_warn("out of memory");
        return -1;
    }
    hold_note_tls();
    roots_user_lock(); /* no thread stopped halfway through a registration */
    stop_prepare();
    collect_host->lock_all();
    if (!marked) {
        getcontext(&col.uc);
        collect_save_regs();
    }
    col.t_stop = collect_now();
    col.unstopped = stop_world();
    col.stopped = 1;
    if (!hold)
        collect_host->unlock_all();
    return 0;
}

/* HEAPSNAP_VERBOSE: how long the other threads were held. */
static void collect_note_stop(uint64_t ns)
{
    char num[24];
    num[opt_fmt_u64(num, ns / 1000)] = 0;
    collect_host->debug("leak check: threads stopped for ", num, " us");
}

static void collect_end(void)
{
    if (col.stopped) {
        stop_resume();
        roots_user_unlock();
        collect_note_stop(collect_now() - col.t_stop);
    }
    col.stopped = 0;
    roots_end();
}

/* ---------------- ignored blocks ---------------- */

/* Marks the ignored blocks of b[0..n) (sorted) HSNAP_CLASS_IGNORED and
 * forgets ignore entries whose block is gone. */
static void collect_mark_ignored(struct hsnap_block *b, uint64_t n)
{
    size_t keep = 0;
    uint64_t j = 0;
    for (size_t i = 0; i < col.nign; i++) {
        const struct collect_ign *g = &col.ign[i];
        while (j < n && b[j].addr < g->p)
            j++;
        if (j < n && b[j].addr == g->p && b[j].trace == g->trace && b[j].epoch == g->epoch) {
            b[j].cls = HSNAP_CLASS_IGNORED;
            col.ign[keep++] = *g;
        }
    }
    col.nign = keep;
}

static int collect_ign_grow(void)
{
    size_t cap = col.ign_cap ? 2 * col.ign_cap : COLLECT_IGNORE_MIN;
    struct collect_ign *g = collect_host->map(cap * sizeof *g);
    if (!g)
        return -1;
    memcpy(g, col.ign, col.nign * sizeof *g);
    collect_host->unmap(col.ign, col.ign_cap * sizeof *g);
    col.ign = g;
    col.ign_cap = cap;
    return 0;
}

/* heapsnap_ignore (the caller found the block): 0, or -1 out of memory. */
int collect_ignore(uintptr_t p, uint32_t trace, uint32_t epoch)
{
    if (col.nign == col.ign_cap && collect_ign_grow() != 0)
        return -1;
    size_t i = 0;
    while (i < col.nign && col.ign[i].p < p)
        i++;
    if (i == col.nign || col.ign[i].p != p) {
        memmove(&col.ign[i + 1], &col.ign[i], (col.nign - i) * sizeof *col.ign);
        col.nign++;
    }
    col.ign[i] = (struct collect_ign){p, trace, epoch};
    return 0;
}

/* Blocks allocated under __lsan_disable (their trace's
 * HSNAP_TRACE_DISABLED) are the program's wish: ignored.  Per trace once,
 * then per block.  (The loader's are the runtime's: rt_mark.) */
static int collect_disabled(const uintptr_t *ip, unsigned n, unsigned depth, unsigned flags,
                            void *arg)
{
    return !!(flags & HSNAP_TRACE_DISABLED);
}

static void collect_mark_disabled(struct hsnap_block *b, uint64_t n, const struct trace_pick *s)
{
    for (uint64_t i = 0; s->nt && i < n; i++)
        if (trace_picked(s, b[i].trace))
            b[i].cls = HSNAP_CLASS_IGNORED;
}

/* Blocks the runtime keeps for good (leak_host's runtime_owned). */
static void collect_mark_runtime(struct hsnap_block *b, uint64_t n)
{
    int (*owned)(uintptr_t, uint64_t) = collect_host->runtime_owned;
    for (uint64_t i = 0; owned && i < n; i++)
        if (!MODEL_HELD(b[i].cls) && owned(b[i].addr, b[i].size))
            b[i].cls = HSNAP_CLASS_IGNORED;
}

/* Direct (or possible: a Python object's references are to its start)
 * leaks a C extension's initialisation made and keeps without a pointer
 * (leak_host's init_trace and init_object: a Cython module's
 * constants whose static variable the C compiler removed, being written
 * and never read): the runtime's, as an immortal object.  Per trace once,
 * then per direct block; how many were marked (the caller runs the model
 * again with them as roots, so what they hold is no leak either). */
static int collect_init_made(const uintptr_t *ip, unsigned n, unsigned depth, unsigned flags, void *arg)
{
    int r = collect_host->init_trace(ip, n, n < depth && n < TRACE_PICK_DEPTH);
    return r < 0 ? TRACE_PICK_MORE : r;
}

/* init_held's question: whether trace t is an initialisation's. */
static int collect_init_picked(uint32_t t, void *arg)
{
    return trace_lazy_picked(arg, t);
}

/* Each trace asked only when a block needs it (trace_lazy): a direct or
 * possibly lost block's, then those init_held asks of. */
static uint64_t collect_mark_init(struct hsnap_block *b, uint64_t n)
{
    const struct leak_host *h = collect_host;
    uint64_t marked = 0;
    struct trace_lazy z;
    if (!h->init_trace || !h->init_object ||
        trace_lazy_begin(&z, collect_init_made, NULL, TRACE_PICK_DEPTH) != 0)
        return 0;
    for (uint64_t i = 0; i < n; i++)
        if ((b[i].cls == HSNAP_CLASS_DIRECT || b[i].cls == HSNAP_CLASS_POSSIBLE) &&
            trace_lazy_picked(&z, b[i].trace) && h->init_object(b[i].addr, b[i].size)) {
            b[i].cls = HSNAP_CLASS_IGNORED;
            marked++;
        }
    if (marked && h->init_held)
        marked += h->init_held(b, n, collect_init_picked, &z);
    trace_lazy_free(&z);
    return marked;
}

/* ---------------- the model ---------------- */

static void collect_add_root(uintptr_t lo, uintptr_t hi, unsigned kind, pid_t tid, uintptr_t tp,
                             void *arg)
{
    (void)arg;
    roots_add_thread(lo, hi, kind, tid, tp);
}

/* model_ops.on_ref: the retainers per site and the holders per block. */
static void collect_on_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at,
                           void *ctx)
{
    if (col.ret_on)
        ret_on_ref(to, from, kind, first, at, ctx);
    hold_on_ref(to, from, first, at);
}

/* The per-run views (retainers, holders) started; on_ref set when either is. */
static void collect_views_begin(struct hsnap_block *b, uint64_t n)
{
    col.ret_on = ret_begin(b) == 0;
    int held = hold_begin(b, n) == 0;
    col.ops.on_ref = col.ret_on || held ? collect_on_ref : NULL;
    col.ops.on_owned = held ? hold_on_owned : NULL;
}

/* The views hear the model directly again (collect_on_marked undone). */
static void collect_views_direct(void)
{
    col.holding = 0;
    col.ops.on_ref = col.live_ref;
    col.ops.on_owned = col.live_owned;
}

/* The views hear what is held back, in order, and from now on directly. */
static void collect_views_catch_up(void)
{
    if (!col.holding)
        return;
    collect_views_direct();
    rlog_replay(&col.ops);
}

/* model_ops.on_ref and on_owned while held back; a full log catches up. */
static void collect_on_ref_held(uint32_t to, uint32_t from, uint32_t kind, int first,
                                uintptr_t at, void *ctx)
{
    if (rlog_ref(to, from, kind, first, at) == 0)
        return;
    collect_views_catch_up();
    if (col.ops.on_ref)
        col.ops.on_ref(to, from, kind, first, at, ctx);
}

static void collect_on_owned_held(uint32_t b, uint32_t root, void *ctx)
{
    if (rlog_owned(b, root) == 0)
        return;
    collect_views_catch_up();
    if (col.ops.on_owned)
        col.ops.on_owned(b, root, ctx);
}

/* model_ops.on_marked: what the views hear from here on may be heard
 * again by model_rerun, so it is held back until collect_model knows. */
static void collect_on_marked(void *ctx)
{
    (void)ctx;
    if (!col.ops.on_ref && !col.ops.on_owned)
        return;
    col.live_ref = col.ops.on_ref;
    col.live_owned = col.ops.on_owned;
    col.ops.on_ref = col.live_ref ? collect_on_ref_held : NULL;
    col.ops.on_owned = col.live_owned ? collect_on_owned_held : NULL;
    col.holding = 1;
}

/* The model once more with the blocks collect_mark_init made held: from
 * where on_marked stopped it when the views heard nothing after that
 * (what they hold back is dropped), else whole with the views begun
 * again. */
static int collect_model_again(struct hsnap_block *b, uint64_t n, const struct model_root *r,
                               size_t nroots, struct model_keep *keep)
{
    int views = col.ops.on_ref || col.ops.on_owned;
    model_result_free(&col.res, &col.ops);
    if (col.holding || !views) {
        if (col.holding) {
            rlog_free();
            collect_views_direct();
        }
        int rc = model_rerun(b, n, r, nroots, &col.ops, keep, &col.res);
        if (rc != MODEL_ESTALE)
            return rc;
    }
    ret_finish(); /* once more, whole */
    ret_free();
    collect_views_begin(b, n);
    return model_run(b, n, r, nroots, &col.ops, &col.res);
}

/* Threads, user roots and the program's own mappings, world stopped. */
static void collect_roots(const struct hsnap_block *b, uint64_t n)
{
    stop_roots(col.sp, col.regs, sizeof col.regs / sizeof col.regs[0], collect_add_root, NULL);
    result_roots(collect_add_root, NULL);
    roots_add_user();
    roots_add_mapped(b, n);
}

static void collect_release(void);

/* Classifies b[0..n) (sorted, world stopped); keeps the result for
 * collect_encode.  0, or -1 (warned). */
static int collect_model(struct hsnap_block *b, uint64_t n)
{
    size_t nroots, nscan;
    collect_release();
    collect_phase(PH_MARKS);
    trace_pick_limit(b, n); /* the marks ask only the blocks' traces */
    struct trace_pick dis = {0}, rt = {0}, gob = {0}; /* their questions in one pass */
    struct trace_pick_job jobs[3] = {{collect_disabled, NULL, 0, &dis},
                                     {rt_pick, NULL, TRACE_PICK_DEPTH, &rt}};
    trace_pick_all(jobs, 2 + (unsigned)gobj_job(&jobs[2], &gob));
    collect_mark_ignored(b, n);
    collect_mark_disabled(b, n, &dis);
    rt_mark(b, n, &rt);
    collect_mark_runtime(b, n);
    uint64_t starts_any = gobj_mark(b, n, &gob);
    trace_pick_free(&dis), trace_pick_free(&rt), trace_pick_free(&gob);
    collect_phase(PH_ROOTS);
    collect_roots(b, n);
    const struct model_root *r = roots_get(&nroots), *scan = roots_written(&nscan);
    roots_set_ops(&col.ops);
    collect_views_begin(b, n);
    struct model_range *holes;
    size_t hbytes;
    if (maps_holes(&holes, &col.ops.nholes, &hbytes) != 0)
        collect_host->debug("cannot read /proc/self/maps: every block is trusted to be readable", "", "");
    col.ops.holes = holes;
    collect_phase(PH_STARTS);
    if (collect_host->object_starts)
        collect_host->object_starts(b, n); /* BLOCKS' reserved, for model_run */
    starts_any += heur_mark(b, n, holes, col.ops.nholes); /* SQLite's: block + 8 */
    struct model_keep keep = {0};
    col.ops.on_marked = collect_on_marked;
    collect_phase(PH_SCAN);
    int rc = model_run_keep(b, n, scan, nscan, &col.ops, &col.res, &keep);
    collect_phase(PH_AFTER);
    col.ops.on_marked = NULL;
    if (rc == MODEL_OK &&
        (col.res.total[HSNAP_CLASS_DIRECT].blocks || col.res.total[HSNAP_CLASS_POSSIBLE].blocks) &&
        collect_mark_init(b, n)) /* once more with those blocks the runtime's (roots) */
        rc = collect_model_again(b, n, scan, nscan, &keep);
    collect_views_catch_up();
    model_keep_free(&keep, &col.ops);
    trace_pick_unlimit();
    for (uint64_t i = 0; (collect_host->object_starts || starts_any) && i < n; i++)
        b[i].reserved = 0; /* 0 in the file */
    maps_unflag(b, n, holes, col.ops.nholes);
    maps_free(holes, hbytes);
    col.ops.holes = NULL;
    col.ops.nholes = 0;
    ret_finish();
    if (rc != MODEL_OK) {
        collect_warn(rc == MODEL_ENOMEM ? "out of memory" : "inconsistent block table");
        ret_free();
        hold_free();
        return -1;
    }
    hold_keep_roots(r, nroots);
    if (col.unstopped) /* their registers unread: the answer is incomplete */
        model_result_unverified(b, n, &col.res, &col.ops);
    col.res.unstopped = col.unstopped;
    col.res.scan_ns = collect_now() - col.t0;
    col.res.stop_ns = col.held_ns ? col.held_ns : collect_now() - col.t_stop;
    col.last_unreachable = (int64_t)(col.res.total[HSNAP_CLASS_DIRECT].blocks +
                                     col.res.total[HSNAP_CLASS_INDIRECT].blocks +
                                     col.res.total[HSNAP_CLASS_CYCLE].blocks);
    col.have_res = 1;
    return 0;
}

static void collect_release(void)
{
    if (col.have_res)
        model_result_free(&col.res, &col.ops);
    ret_free();
    hold_free();
    col.have_res = 0;
}

/* The model's last result, encoded into mappings of the host's; 0, or -1
 * when LEAKS could not be built (no section, no warning).  Every field of
 * *a is set here: without retainers (their table could not be mapped or
 * grown) the fork's report would write RETAINERS from whatever its
 * uninitialized answer held. */
static int collect_encode(struct leak_answer *a)
{
    const struct leak_host *h = collect_host;
    size_t nl = model_result_encode(&col.res, NULL, 0), nr = ret_encode(NULL, 0);
    *a = (struct leak_answer){0};
    if (!nl || !(a->leaks = h->map(nl)))
        return -1;
    a->leaks_cap = nl;
    a->leaks_len = model_result_encode(&col.res, a->leaks, nl);
    if (nr && (a->retainers = ret_take(&a->ret_cap, &a->ret_len))) {
        /* the sorted payload itself: no copy */
    } else if (nr && (a->retainers = h->map(nr))) {
        a->ret_cap = nr;
        a->ret_len = ret_encode(a->retainers, nr);
    } else if (nr) {
        h->unmap(a->leaks, a->leaks_cap);
        *a = (struct leak_answer){0};
        return -1;
    }
    a->holders = hold_take(&a->hold_cap, &a->hold_len); /* optional: NULL, none */
    a->unreachable = col.last_unreachable;
    return 0;
}

/* The door's one question (leak.h).  The world is stopped from just
 * before blocks() copies the live blocks until the model has classified
 * them. */
int collect_check(leak_blocks_fn blocks, void *ctx, struct leak_answer *a)
{
    struct hsnap_block *b;
    uint64_t n;
    int ret = -1;
    *a = (struct leak_answer){0};
    if (collect_begin(0) != 0)
        return -1;
    if (col.unstopped) {
        collect_end();
        collect_host->debug("leak check: a thread could not be stopped: not in place", "", "");
        return COLLECT_UNSTOPPED;
    }
    memset(col.ph, 0, sizeof col.ph);
    collect_phase(PH_BLOCKS);
    if (blocks(ctx, &b, &n) == 0 && collect_model(b, n) == 0)
        ret = 0;
    collect_phase(PH_REPORT);
    collect_end();
    if (ret == 0) {
        ret = collect_encode(a);
        collect_note_phases(PH_REPORT); /* the report is the caller's */
    }
    collect_release();
    return ret;
}

/* The shim's own mappings (own_maps) are no safe range for peek: the
 * fork unmaps its scratch as it goes, and a range merged with one of
 * them would read past a hole (py_object_starts' type reads did). */
static void collect_peek_own(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    peek_forget(lo, hi);
}

/* The fork's child: the recorder's locks it inherited taken are dropped
 * (no other thread is left to hold one), then the check runs as in
 * place and report() puts the answer where the parent will find it. */
static HS_NOINLINE void collect_child(leak_blocks_fn blocks, leak_report_fn report, void *ctx,
                                      int wr)
{
    struct hsnap_block *b;
    struct leak_answer a;
    uint64_t n;
    int status = LFORK_NO_BLOCKS;
    col.held_ns = collect_now() - col.t_stop + 1; /* the parent resumes its threads now */
    collect_host->unlock_all();
    dfk_restore();
    size_t plen = COLLECT_PEEK_RANGES * sizeof(struct peek_range);
    struct peek_range *pr = collect_host->map(plen);
    peek_freeze(pr, COLLECT_PEEK_RANGES); /* the one thread left: its reads are loads */
    if (collect_host->own_maps(collect_peek_own, NULL) != 0)
        peek_thaw(); /* a mapping of ours unlisted: none trusted */
    memset(col.ph, 0, sizeof col.ph);
    collect_phase(PH_BLOCKS);
    if (blocks(ctx, &b, &n) == 0) {
        status = LFORK_SAID; /* the model warns */
        if (collect_model(b, n) == 0) {
            collect_phase(PH_REPORT);
            status = collect_encode(&a) != 0 ? ENOMEM : (errno = 0, report(ctx, b, n, &a));
            collect_phase(COLLECT_PHASES);
            collect_note_phases(COLLECT_PHASES);
        }
        if (status < 0) /* the report's errno */
            status = errno > 0 && errno < LFORK_NO_BLOCKS ? errno : EIO;
    }
    peek_thaw();
    if (pr)
        collect_host->unmap(pr, plen);
    lfork_exit(wr, status);
}

/* The check in a fork (leak.h): the world is stopped from the stop to the
 * fork, the child scans while the parent runs on, and the caller's thread
 * does what meanwhile does, then waits for it. */
int collect_check_fork(leak_blocks_fn blocks, leak_report_fn report, leak_meanwhile_fn meanwhile,
                       void *ctx)
{
    int rd = -1, wr = -1;
    if (collect_begin(1) != 0)
        return -1;
    dfk_copy();
    pid_t pid = lfork_spawn(&rd, &wr);
    if (pid == 0)
        collect_child(blocks, report, ctx, wr);
    int err = errno;
    dfk_release();
    collect_host->unlock_all();
    collect_end();
    if (pid < 0) {
        collect_host->debug("leak check: cannot fork (", strerrordesc_np(err),
                            "): the check runs in place");
        return COLLECT_NOFORK;
    }
    if (meanwhile)
        meanwhile(ctx);
    int st = lfork_wait(pid, rd);
    int sig = st < 0 ? lfork_signal() : 0;
    if (sig && sigabbrev_np(sig) && atomic_exchange(&col.warned, 1) == 0)
        collect_host->warn("leak check skipped: its copy of the process ended without an "
                           "answer: killed by SIG", sigabbrev_np(sig), "");
    else if (st < 0)
        collect_warn("its copy of the process ended without an answer (killed, or a fault)");
    else if (st == LFORK_NO_BLOCKS)
        collect_warn("its copy of the process could not copy the live blocks");
    else if (st != 0 && st != LFORK_SAID && atomic_exchange(&col.warned, 1) == 0)
        collect_host->warn("leak check skipped: its copy of the process could not write "
                           "its part of the snapshot: ", strerrordesc_np(st), "");
    return st == 0 ? 0 : -1;
}

/* ---------------- queries (heapsnap_referrers and friends) ---------------- */

struct collect_q {
    const struct hsnap_block *b;
    uint64_t n;
    uint64_t t;                 /* the target's index */
    struct heapsnap_ref *out;   /* scratch (mapped), copied out at the end */
    size_t max, found;
};

/* The block holding address a, or n. */
static uint64_t collect_find(const struct hsnap_block *b, uint64_t n, uintptr_t a)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t m = lo + (hi - lo) / 2;
        if (b[m].addr <= a)
            lo = m + 1;
        else
            hi = m;
    }
    if (lo == 0)
        return n;
    const struct hsnap_block *x = &b[lo - 1];
    return a == x->addr || a - x->addr < x->size ? lo - 1 : n;
}

static void collect_note(struct collect_q *q, const uintptr_t *where, int kind, uint64_t blk)
{
    if (q->found < q->max) {
        struct heapsnap_ref *o = &q->out[q->found];
        memset(o, 0, sizeof *o);
        o->kind = kind;
        o->where = kind == HEAPSNAP_REF_REGS ? NULL : where;
        if (blk < q->n) {
            unsigned flags;
            uintptr_t ip;
            o->block = (const void *)(uintptr_t)q->b[blk].addr;
            o->size = q->b[blk].size;
            o->trace = q->b[blk].trace;
            o->site = collect_host->trace_stack(o->trace, &ip, 1, &flags) ? (const void *)ip
                                                                            : NULL;
        }
    }
    q->found++;
}

/* Every word of [lo, hi) that points into the target. */
static void collect_scan_for(struct collect_q *q, uintptr_t lo, uintptr_t hi, int kind,
                             uint64_t from, int meta)
{
    const struct hsnap_block *t = &q->b[q->t];
    const uintptr_t *p = (const uintptr_t *)((lo + 7) & ~(uintptr_t)7);
    for (; (uintptr_t)(p + 1) <= hi; p++) {
        uintptr_t w = *p;
        if (w != t->addr && (w < t->addr || w - t->addr >= t->size))
            continue;
        if (meta && col.ops.is_alloc_meta && col.ops.is_alloc_meta(w, t, NULL))
            continue;
        collect_note(q, p, kind, from);
    }
}

static void collect_referrers(struct collect_q *q)
{
    size_t nroots;
    const struct model_root *r = roots_written(&nroots);
    for (size_t i = 0; i < nroots; i++)
        collect_scan_for(q, r[i].lo, r[i].hi, (int)r[i].kind, q->n,
                         r[i].flags & MODEL_ROOT_ALLOC_META);
    for (uint64_t i = 0; i < q->n; i++)
        collect_scan_for(q, q->b[i].addr, q->b[i].addr + q->b[i].size, HEAPSNAP_REF_BLOCK, i, 0);
}

static void collect_referents(struct collect_q *q)
{
    const struct hsnap_block *t = &q->b[q->t];
    const uintptr_t *p = (const uintptr_t *)((t->addr + 7) & ~(uintptr_t)7);
    for (; (uintptr_t)(p + 1) <= t->addr + t->size; p++) {
        uint64_t j = collect_find(q->b, q->n, *p);
        if (j < q->n)
            collect_note(q, p, HEAPSNAP_REF_BLOCK, j);
    }
}

/* The query proper, below the scanned part of the stack: the target is
 * read from col.target only here, so no scanned frame holds a copy. */
static HS_NOINLINE long collect_run_query(struct collect_q *q, int referents)
{
    q->t = collect_find(q->b, q->n, col.target);
    col.target = 0;
    if (q->t >= q->n)
        return -1;
    if (referents)
        collect_referents(q);
    else
        collect_referrers(q);
    return (long)q->found;
}

/* The target of the next collect_query (kept out of the scanned frames). */
void collect_target(const void *p)
{
    col.target = (uintptr_t)p;
}

/*
 * One query on the live heap, world stopped: the referrers of the target
 * (the roots and blocks holding a pointer into its block) or its
 * referents.  Returns how many were found (out gets at most max), or -1
 * when the target is not in a live traced block.  The results are
 * gathered in shim memory and copied out last, since out may itself lie
 * on a scanned stack.
 */
HS_NOINLINE long collect_query(leak_blocks_fn blocks, void *ctx, int referents,
                               struct heapsnap_ref *out, size_t max)
{
    const struct leak_host *h = collect_host;
    struct hsnap_block *b;
    uint64_t n;
    long ret = -1;
    if (collect_begin(0) != 0) {
        col.target = 0;
        return -1;
    }
    if (blocks(ctx, &b, &n) == 0) {
        struct collect_q q = {b, n, n, NULL, max, 0};
        q.out = max ? h->map(max * sizeof *out) : NULL;
        collect_roots(b, n);
        roots_set_ops(&col.ops);
        h->trace_lock();
        if (q.out || !max)
            ret = collect_run_query(&q, referents);
        h->trace_unlock();
        collect_end();
        if (ret > 0 && out)
            memcpy(out, q.out, (q.found < max ? q.found : max) * sizeof *out);
        h->unmap(q.out, max * sizeof *out);
    } else {
        collect_end();
    }
    return ret;
}
