/*
 * leakinner.h - the leak room's own glue: what collect.c, roots.c, stop.c, tasks.c
 * and retain.c share, never included outside shim/leak/.  Everything the room
 * needs from the recorder goes through collect_host (leak.h's leak_host),
 * given once by collect_init.
 */
#ifndef HEAPSNAP_LEAK_INNER_H
#define HEAPSNAP_LEAK_INNER_H

#include <sys/types.h>

#include "base.h"
#include "leak.h"
#include "model.h"

extern const struct leak_host *collect_host;

/* ---- stop.c: stop-the-world, thread roots ---- */
/* A root range; a thread's with its tid and thread pointer (else 0, 0). */
typedef void (*stop_root_fn)(uintptr_t lo, uintptr_t hi, unsigned kind, pid_t tid, uintptr_t tp,
                             void *arg);
void stop_prepare(void);    /* before stop_world; may allocate (guard set) */
uint32_t stop_world(void);  /* stop the others; returns how many did not stop */
void stop_resume(void);
void stop_roots(uintptr_t sp, const uintptr_t *regs, size_t nregs, stop_root_fn fn,
                void *arg); /* with the world stopped */
int stop_is_thread_stack(uintptr_t lo, uintptr_t hi); /* a glibc stack, live or cached */

/* ---- results.c: ended, unjoined threads' return values ---- */
void result_roots(stop_root_fn fn, void *arg); /* with the world stopped */
/* ---- tasks.c: the kernel's view of the threads (raw reads) ---- */
uintptr_t task_mapping_lo(uintptr_t addr); /* the mapping holding addr: start, or 0 */
uintptr_t task_mapping_hi(uintptr_t addr); /* its end, or 0 */
int task_dead(pid_t tid);                   /* gone, or exiting (state Z or X) */
int task_each(void (*fn)(pid_t tid, void *arg), void *arg); /* /proc/self/task */

/* ---- roots.c: module data, user roots, the glibc metadata rule ---- */
int roots_begin(void);     /* before the stop: module ranges (loader lock) */
void roots_add(uintptr_t lo, uintptr_t hi, unsigned kind, unsigned flags);
void roots_add_thread(uintptr_t lo, uintptr_t hi, unsigned kind, pid_t tid, uintptr_t tp);
const struct model_root *roots_get(size_t *n);
const struct model_root *roots_written(size_t *n); /* the model's: see roots.c */
void roots_add_user(void); /* with the world stopped */
/* With the world stopped, after every other root: the program's own
 * anonymous and shared mappings (b[0..n): the live blocks, sorted). */
void roots_add_mapped(const struct hsnap_block *b, uint64_t n);
int roots_in_loader(uintptr_t ip); /* ip lies in ld.so (its own blocks) */
void roots_end(void);
void roots_set_ops(struct model_ops *ops); /* alloc/free/is_alloc_meta */

/* tracepick.c: the traces whose stack passes a test, as a bitmap */
#define TRACE_PICK_DEPTH 64u /* innermost frames a test is shown */
struct trace_pick {
    uint8_t *in;  /* bit t: trace t picked; NULL when none could be mapped */
    size_t len;   /* bytes mapped */
    uint32_t nt;  /* traces asked */
};
/* 1 picked, 0 not, or TRACE_PICK_MORE: the answer needs frames past
 * ip[n) (asked again with all want, when there are more; never returned
 * when n is min(want, depth)). */
typedef int (*trace_pick_fn)(const uintptr_t *ip, unsigned n, unsigned depth, unsigned flags,
                             void *arg);
#define TRACE_PICK_MORE (-1)
void trace_pick_free(struct trace_pick *s);
/* Several marks' questions (jobs: a pick each, shown its trace's
 * innermost want frames, at most TRACE_PICK_DEPTH; 0: the flags alone)
 * asked of every trace in one pass, each trace's frames read once for
 * all: the most any job is shown first (TRACE_PICK_FIRST at most), then
 * the most any job that answered TRACE_PICK_MORE wants.  Each job's
 * answers in *out, as asking it alone gives them.  0, or -1 (no memory:
 * every out empty). */
#define TRACE_PICK_JOBS 4u
struct trace_pick_job {
    trace_pick_fn pick;
    void *arg;
    unsigned want;
    struct trace_pick *out;
};
int trace_pick_all(struct trace_pick_job *jobs, unsigned njobs);
/* The same answers, a trace asked only when trace_lazy_picked first wants
 * it, then remembered.  begin: 0, or -1 (no memory). */
struct trace_lazy {
    uint8_t *asked;  /* bit t: trace t asked; then (len bytes on) its answer */
    size_t len;
    uint32_t nt;     /* traces remembered (later ones are asked each time) */
    struct trace_pick_job job; /* the question (out unused) */
};
int trace_lazy_begin(struct trace_lazy *z, trace_pick_fn pick, void *arg, unsigned want);
int trace_lazy_picked(struct trace_lazy *z, uint32_t trace);
void trace_lazy_free(struct trace_lazy *z);
/* For one check: only the traces of b[0, n) are asked, until unlimit. */
void trace_pick_limit(const struct hsnap_block *b, uint64_t n);
void trace_pick_unlimit(void);
static inline int trace_picked(const struct trace_pick *s, uint32_t trace)
{
    return trace < s->nt && (s->in[trace / 8] >> (trace % 8) & 1);
}

struct dl_phdr_info;
/* ---- runtime.c: the C and C++ runtimes' own blocks ---- */
void rt_reset(void);                             /* before the module walk */
int rt_note(const struct dl_phdr_info *info);    /* each module, in the walk: 1 a runtime's */
/* a trace the runtime's (trace_pick_fn: rt_mark's question) */
int rt_pick(const uintptr_t *ip, unsigned n, unsigned depth, unsigned flags, void *arg);
/* cls HSNAP_CLASS_RUNTIME for the blocks of the traces rt_pick picked (s) */
void rt_mark(struct hsnap_block *b, uint64_t n, const struct trace_pick *s);

/* ---- gobject.c: GObject's blocks, pointed at past a header ---- */
void gobj_reset(void);                             /* before the module walk */
void gobj_note(const struct dl_phdr_info *info);   /* each module, in the walk */
/* gobj_mark's question, with its window (GOBJ_DEPTH) into *j: 1, or 0
 * when no GObject is loaded (nothing to ask) */
int gobj_job(struct trace_pick_job *j, struct trace_pick *out);
/* reserved MODEL_START_ANY for the blocks of the traces gobj_job's picked */
uint64_t gobj_mark(struct hsnap_block *b, uint64_t n, const struct trace_pick *s);

/* ---- heuristics.c: memcheck's heuristics, pointers past a header ---- */
/* length64 (a block whose first 8 bytes hold its size less 8: SQLite's)
 * gets reserved 8, unless a start is set already; blocks (sorted) whose
 * head overlaps a hole h[0..nh) (sorted) are not read.  How many were
 * marked.  World stopped (or the fork's image). */
uint64_t heur_mark(struct hsnap_block *b, uint64_t n, const struct model_range *h, size_t nh);

/* ---- maps.c: what the leak check must not read ---- */
int maps_holes(struct model_range **holes, size_t *n, size_t *bytes); /* 0 or -1 */
void maps_free(struct model_range *holes, size_t bytes);
/* After model_run with those holes (nh, sorted): the blocks flagged
 * MODEL_BF_PARTIAL for the host's stale words only (no unreadable hole
 * in them) unflagged: they were read whole but for those words. */
void maps_unflag(struct hsnap_block *b, uint64_t n, const struct model_range *h, size_t nh);

/* ---- fork.c: the copy of the process a check scans ---- */
pid_t lfork_spawn(int *rd, int *wr);        /* child 0 (*wr), parent its pid (*rd), -1 */
/* The child's status byte: 0 (its report is out), an errno (1 to 253:
 * what stopped it), or one of these. */
#define LFORK_NO_BLOCKS 254 /* it could not copy the live blocks */
#define LFORK_SAID 255      /* it failed and said why itself */
__attribute__((noreturn)) void lfork_exit(int wr, int status); /* the child's end */
int lfork_wait(pid_t pid, int rd); /* the child's status byte, -1: it ended without one */
int lfork_signal(void); /* the signal that ended lfork_wait's child, or 0 */

/* ---- dontfork.c: what the fork does not inherit (MADV_DONTFORK, _WIPEONFORK) ---- */
void dfk_copy(void);    /* the world stopped, before the fork: the copy */
void dfk_restore(void); /* the child, first: the copy back at its addresses */
void dfk_release(void); /* the parent, after the fork */

/* ---- retain.c: the retainer view (RETAINERS section) ---- */
int ret_begin(const struct hsnap_block *b);
void ret_on_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at, void *ctx);
void ret_finish(void);                 /* sort; the blocks may go */
size_t ret_encode(void *buf, size_t cap);
/* ... or the payload ret_finish sorted into, handed over whole (a map of
 * *cap bytes, *len used, the caller's to unmap, as hold_take's); NULL:
 * none to hand over (ret_encode copies it) */
void *ret_take(size_t *cap, size_t *len);
void ret_free(void);

/* ---- reflog.c: the views' references held back after on_marked ---- */
int rlog_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at); /* 0, -1 full */
int rlog_owned(uint32_t b, uint32_t root);     /* 0, or -1: full */
void rlog_replay(const struct model_ops *ops); /* each to ops' on_ref/on_owned, in order; freed */
void rlog_free(void);                          /* dropped */

/* ---- holders.c: the holder view, block by block (HOLDERS section) ---- */
void hold_note_tls(void);                               /* before the stop */
int hold_begin(const struct hsnap_block *b, uint64_t n); /* 0, or -1: no section */
void hold_on_ref(uint32_t to, uint32_t from, int first, uintptr_t at);
void hold_on_owned(uint32_t b, uint32_t root, void *ctx); /* model_ops.on_owned */
void hold_keep_roots(const struct model_root *r, size_t nr); /* world stopped, after the run */
void *hold_take(size_t *cap, size_t *len); /* the payload's mapping, now the caller's */
void hold_free(void);

#endif
