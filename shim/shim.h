/*
 * shim.h - the glue of shim/ (musl style): the few declarations one file of
 * the recorder needs from another.  The other rooms have their own doors,
 * included here: unwind/unwind.h (stack capture) and leak/leak.h (the leak
 * check); base.h is what every room shares.  Everything is hidden
 * (-fvisibility=hidden); only exports.map's names leave the .so.
 *
 * Two contracts follow the include guard: the prefixes of every file's
 * names, and the lock order, which every file that takes a lock obeys.
 */
#ifndef HEAPSNAP_SHIM_H
#define HEAPSNAP_SHIM_H

/*
 * Prefixes: hook_ (hooks.c, hookstack.c, realsym.c), boot_, defer_
 * (deferred.c), pend_ (pending.c), arena_, tbl_ (table.c; tbl_filter_:
 * tblfilter.c), trace_ (traces.c), ftree_ (frametree.c), sample_, opt_
 * (options.c), life_ (start-up, exit, fork, signals, timeline), sig_
 * (signals.c), thr_ (threads.c), snap_ (snapshot.c), lchk_ (leakcheck.c:
 * the leak check's runs), mod_ (modules.c), sbuf_, side_ (sidefile.c),
 * zsec_, bsort_ (blocksort.c), bstream_ (blockstream.c), name_
 * (snapname.c), dest_ (snapdest.c), dlc_ (dlclose.c), peak_, sl_
 * (siteline.c), heapsnap_* (api.c), lsan_ and __lsan_* (lsan.c), elfsym_,
 * exec_ (exec.c: the exec family), orph_ (orphan.c), py_ (python/:
 * CPython's frames and allocator domains), cred_ (creds.c), rchan_
 * (runchan.c), result_ (leak/results.c), task_ (leak/tasks.c), dfk_
 * (leak/dontfork.c), reg_ (record/regions.c), maph_ (maphooks.c), state_
 * (state.c: the state file that survives a kill), scrub_ (base/scrub.c),
 * dump_ (snapshot/dump.c: the live blocks handed to the process), pause_
 * (pause.c: recording stopped by the program), pyexit_ (pyexit.c: the exit
 * snapshot when CPython's finalization begins), launch_ (base/launcher.c), term_
 * (term.c: SIGTERM's default).
 */

/*
 * Lock order.  Every lock the shim takes, in the one order in which they
 * may be nested (fork's prepare handler takes them all in this order, and
 * nobody takes two of them in another):
 *
 *   1. snap         snapshot.c: one snapshot or leak check (leakcheck.c)
 *                   at a time (and the API's root/ignore lists)
 *   2. loader gate  base/loader.c: life_loader_enter/leave around every call that
 *                   takes glibc's loader lock (dl_iterate_phdr, libunwind,
 *                   dlsym); fork closes it and waits for those inside
 *   2a. pycode      python/code.c: the Python code table, and native.c's
 *                   numbered native stacks (a hook takes it after the
 *                   unwind, when its thread's caches miss; the writer after
 *                   TRACES)
 *   3. traces       traces.c: the intern table, and frametree.c's new nodes
 *   3b. peak        peak.c: the peak's capture (tried from a hook, never
 *                   waited for there; no other lock is taken under it)
 *   4. pending      pending.c: pend_claim (a thread claiming a queue, and
 *                   fork), then every claimed queue's held frees (fork only)
 *   5. table        tblpool.c's registry, then its regions (a pool's blocks;
 *                   a region hands stale ones to the hash), then table.c's
 *                   stripes, in ascending order
 *   5b. regions     record/regions.c: the program's mapped ranges (taken alone
 *                   by a mapping hook, the snapshot and the site line)
 *   6. arena        arena.c
 *   7. timeline     record/timeline.c
 *   8. siteline     siteline.c: the per-site points (taken alone, or
 *                   after snap by the writer)
 *   9. threads      leak/stop.c: the registry (the leak check, after the
 *                   arena; fork's child resets it)
 *  10. arena maps   arena.c: a mapping's system call and its listing as one
 *                   step (arena_maps_hold: fork, the leak check's stop and
 *                   its read of /proc/self/maps)
 *
 * A hook holds no lock while it unwinds (the loader lock: a thread inside
 * dlopen may be waiting for malloc).  A snapshot holds only snap while it
 * walks the modules.  The fatal-signal path tries every lock a bounded
 * number of times and gives up rather than wait.
 */

#include <limits.h>

#include "base.h"
#include "hsnap_format.h"
#include "leak/leak.h"
#include "unwind/unwind.h"
#include "options_table.h"

/* ---- per-thread lines (peak.c's live sums, traces.c's shards): each is
 * claimed by one thread, and a high-water mark counts the lines ever
 * claimed, [0, top): every loop over them looks no further, a fork's
 * child's release included ---- */
static inline void line_top_raise(atomic_uint *top, unsigned n)
{
    unsigned t = atomic_load(top);
    while (t < n && !atomic_compare_exchange_weak(top, &t, n))
        ;
}
/* Claims line k (its owned word) for this thread: 1 when it was free.  The
 * mark is raised first, so that a fork's child that sees the line owned
 * sees it counted; a line counted and then lost to another thread's claim
 * is owned all the same. */
static inline int line_claim(atomic_int *owned, atomic_uint *top, unsigned k)
{
    int free_line = 0;
    if (atomic_load_explicit(owned, memory_order_relaxed))
        return 0;
    line_top_raise(top, k + 1);
    return atomic_compare_exchange_strong_explicit(owned, &free_line, 1, memory_order_acquire,
                                                   memory_order_relaxed);
}

/* ---- hooks.c ---- */
extern __thread int hook_guard; /* nonzero: allocations pass through untracked */
/* The shim's own work: allocations made until guard_leave pass through
 * untracked.  guard_enter returns the flag as it was, for guard_leave
 * (a caller that knows it entered clear may pass 0). */
static inline int guard_enter(void)
{
    int saved = hook_guard;
    hook_guard = 1;
    return saved;
}
void hook_init(void);           /* resolve the real functions (idempotent) */
void *hook_real_sym(const char *name); /* realsym.c: the next definition of name, past the shim */
extern uintptr_t hook_loader_lo, hook_loader_hi; /* attach build: the loader's text */
void hook_set_active(int on);   /* start / stop recording */
int hook_is_active(void);
struct unwind_origin;
void hook_adopt(void *p, size_t n, const struct unwind_origin *origin); /* shim/python */
/* A call returned NULL for n bytes asked: its site counts a failed
 * allocation (FAILED); hook_guard set, no lock held; keeps errno. */
void hook_fail(uint64_t n, const struct unwind_origin *origin);
/* hookstack.c, hook_guard set, no lock held: the trace of the stack at
 * origin, at most max frames, or UNWIND_NO_NAME (out of memory);
 * hook_stack when unwind_again named no stack (again: its answer). */
uint32_t hook_site(const struct unwind_origin *origin, unsigned max);
uint32_t hook_stack(const struct unwind_origin *origin, uint32_t again, unsigned max);
/* maphooks.c, with hook_guard set by a caller that found it clear: the
 * trace (not yet the mmap kind's) of a mapping of n bytes made at origin,
 * sampled as a block is (the countdown moves), or UNWIND_NO_NAME: not
 * recorded (not recording, not sampled, out of memory); failed: a
 * failure's, which is never sampled. */
uint32_t hook_map_site(size_t n, const struct unwind_origin *origin, int failed);
/* Bytes to this thread's next sample: above 0 only in sampled mode
 * without HEAPSNAP_LEAKS (hooks.c says more); domain.c's fast path reads it. */
extern __thread int64_t hook_countdown;
int64_t hook_countdown_get(void); /* shim/python: the sampled countdown, kept */
void hook_countdown_set(int64_t v); /* across a domain's own call */

/* ---- boot.c: the bootstrap buffer, before the real allocator is known ---- */
#define BOOT_SIZE (256u * 1024u)
extern char boot_buf[BOOT_SIZE];
static inline int boot_has(const void *p) /* one compare: below it (NULL too) wraps */
{
    return (uintptr_t)p - (uintptr_t)boot_buf < BOOT_SIZE;
}
void *boot_alloc(size_t n, size_t align); /* zeroed, never freed; NULL: full */
size_t boot_size(const void *p);          /* a boot block's size */

/* ---- deferred.c: frees while the guard is set ---- */
/* Frees that came while the guard was set (a signal handler that
 * interrupted a hook on this thread): a stack linked through the freed
 * blocks themselves, emptied when the guard is next left clear. */
extern __thread void *_Atomic defer_stack;
/* shim/python: the block its wrapper's own call frees with the guard
 * set, already off the books: not deferred (hooks.c's free). */
extern __thread uintptr_t defer_offbook;
/* The real functions the drain and a deferring realloc call, and what
 * takes a block off the books first (pend_unbook) (hook_init, once they
 * are resolved). */
void defer_init(void (*real_free)(void *), void *(*real_malloc)(size_t),
                size_t (*real_usable_size)(void *), int (*unbook)(void *, int));
void defer_push(void *p);               /* p's free waits for the guard's end */
void *defer_realloc(void *p, size_t n); /* a new block; the old one deferred */
void defer_drain(void);
static inline void guard_leave(int saved)
{
    hook_guard = saved;
    if (HS_UNLIKELY(!saved && atomic_load_explicit(&defer_stack, memory_order_relaxed)))
        defer_drain();
}
/* The way out of a hook that kept the books (entered with the guard
 * clear): the guard left, then the thread cleared of the addresses the
 * books went through, which the leak check would take for the program's
 * (scrub.c).  Last, just before the return to the program.  A hook that
 * made a block (or a mapping) clears its dead frames below it and the
 * registers, as deep as its work said (hook_scrub_need: 0 when it only
 * passed the call on, as sampled mode's careful path mostly does;
 * hook_booked, or how deep hook_stack went), once; a hook that freed one,
 * the registers alone: its frames hold addresses that are free by then,
 * as the allocator's own free leaves them.  The windows cover the paths'
 * depths, painted and measured, with room to spare: a window past a
 * path's depth costs stores, one short of it leaves words
 * (tests/shim/leak/leftover.c). */
#define HOOK_SCRUB_STACK 768 /* the path that names a stack it has seen */
extern __thread size_t hook_scrub_need;
static inline void hook_booked(void) /* the table, or a walk named before */
{
    if (hook_scrub_need < HOOK_SCRUB_STACK)
        hook_scrub_need = HOOK_SCRUB_STACK;
}
static inline void hook_leave(void)
{
    size_t n = hook_scrub_need;
    guard_leave(0);
    if (n) {
        hook_scrub_need = 0;
        scrub_frames(n);
    }
}
static inline void hook_leave_free(void)
{
    guard_leave(0);
    scrub_regs();
}

/* ---- pending.c: frees each thread holds back for a few calls, and its
 * fresh blocks, not yet in the table ---- */
#define PEND_BIG 65536u         /* an allocation this big releases them first */
extern __thread struct pend_queue *pend_self;
void pend_init(void (*real_free)(void *), int sampled); /* as recording starts */
void *pend_hold(void *p);       /* holds p; returns the block to release now */
void pend_release(void *p);     /* a held free's end: out of the books, real free */
void pend_settle(void);         /* releases what this thread holds */
int pend_settle_one(void);     /* releases the oldest block it holds: 0 if none */
struct tbl_entry;
extern __thread int pend_fresh_on; /* 0: the two below do nothing (save the call) */
int pend_keep(uintptr_t p, uint64_t size, uint32_t trace, uint32_t epoch); /* 0: kept fresh */
int pend_take(uintptr_t p, struct tbl_entry *e);       /* 1: p was this thread's fresh block */
int pend_take_other(uintptr_t p, struct tbl_entry *e); /* ... another thread's */
void pend_born(uintptr_t p);                           /* this thread allocated p (tracked) */
int pend_find_fresh(uintptr_t p, struct tbl_entry *e); /* a copy, the block stays */
int pend_take_any(uintptr_t p, struct tbl_entry *e, int fresh); /* 1: p left the books */
void pend_drop(void *p, int fresh); /* out of the books, discharged (or foreign) */
int pend_unbook(void *p, int fresh); /* the same, silent about unknown blocks */
void pend_lock_all(void);                              /* fork */
void pend_unlock_all(void);
static inline void pend_room(size_t n) /* before an allocation of n bytes */
{
    if (HS_UNLIKELY(n >= PEND_BIG) && pend_self)
        pend_settle();
}
void pend_thread_begin(void);
void pend_thread_end(void);
void pend_after_fork_child(void);

/* ---- arena.c: the shim's own memory ---- */
void *arena_alloc(size_t n);           /* zeroed; NULL when out of memory */
void arena_free(void *p, size_t n);    /* n = the size passed to arena_alloc */
void *arena_keep(size_t n);            /* zeroed, 8-aligned, never freed */
void *arena_map(size_t n);             /* whole pages, straight mmap */
void *arena_map_full(size_t n);        /* the same, every page resident at once */
void arena_unmap(void *p, size_t n);
void *arena_remap(void *p, size_t old, size_t n); /* grown in place or moved; NULL: p kept */
size_t arena_mapped(void);             /* bytes mapped, for shim_bytes */
/* Each of the shim's mappings to fn (no lock); -1: some are not listed. */
int arena_each_map(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
void arena_maps_hold(void);           /* the list and the address space agree until */
void arena_maps_release(void);        /* ... the release (the leak check's maps read) */
void arena_lock(void);                 /* fork */
void arena_unlock(void);

#include "record/record.h" /* table.c, pending.c's walk, traces.c */

/* ---- maphooks.c: the interposed mmap family ---- */
void maph_init(void); /* at start-up, outside any hook; until then nothing is tracked */

/* ---- record/regions.c: anonymous memory the program mapped (the mmap kind) ---- */
struct reg_piece {          /* a tracked range, as mremap takes and restores it */
    uintptr_t lo, hi;
    uint32_t trace, epoch;
};
#define REG_PIECES 16u      /* reg_take's out: room for this many */
#define REG_UNTRACKED UINT32_MAX /* reg_add's trace: a mapping not charged */
int64_t reg_twin(uint32_t id);                   /* id's mmap-kind twin; -1 no memory */
void reg_add(uintptr_t lo, uintptr_t hi, uint32_t trace, uint32_t epoch); /* a new mapping */
void reg_remove(uintptr_t lo, uintptr_t hi);     /* before an munmap */
uint32_t reg_take(uintptr_t lo, uintptr_t hi, struct reg_piece *out); /* mremap's old */
void reg_restore(const struct reg_piece *p, uint32_t n); /* ... back: it failed */
void reg_file_map(void);                         /* a file-backed mapping was made */
uint32_t reg_file_maps(void);
int reg_foreach(void (*fn)(uint32_t trace, uint64_t bytes, void *arg), void *arg,
                unsigned tries);
void reg_totals(uint64_t *ranges, uint64_t *bytes);
void reg_clear(void);                            /* trace_clear */
void reg_lock(void);                             /* fork */
void reg_unlock(void);

/* ---- frametree.c: the tree of frames stacks are kept in.  A node stands
 * for the frames from it out to the root, for good; making nodes and tags
 * takes the caller's lock (traces.c's), reading a stack back none. ---- */
enum { FTREE_TRACES, FTREE_OTHER, FTREE_PATHS }; /* whose walks a thread's path follows */
int64_t ftree_walk_in(unsigned path, const uintptr_t *ip, unsigned depth); /* innermost node */
int ftree_same(uint32_t node, const uintptr_t *ip, unsigned depth);
unsigned ftree_copy(uint32_t node, unsigned depth, uintptr_t *ip, unsigned max);
uint32_t ftree_tag(uint32_t node);
void ftree_set_tag(uint32_t node, uint32_t tag);
uintptr_t ftree_frame(uint32_t node, uint32_t *parent); /* a node's frame and parent */

/* ---- peak.c: the peak's capture (PEAK) and temporary allocations (TEMPS) ---- */
#define PEAK_CHUNK_BITS 12
#define PEAK_CHUNK (1u << PEAK_CHUNK_BITS)  /* trace ids per chunk of cells */
#define PEAK_CHUNKS 4096u                   /* as traces.c: 16M ids */
#define PEAK_LINES 64                       /* threads with a line of their own */
struct peak_cell {                          /* one trace's live sums on one line */
    _Atomic int64_t count, bytes;           /* count in 1/65536 units; < 0: this
                                               thread freed others' blocks */
};
struct peak_line {
    atomic_int owned;                       /* claimed by a live thread (never line 0) */
    _Atomic(struct peak_cell *) chunk[PEAK_CHUNKS]; /* by id >> PEAK_CHUNK_BITS */
};
extern struct peak_line peak_lines[PEAK_LINES];
extern __thread struct peak_line *peak_mine;
extern __thread int peak_idle;       /* HEAPSNAP_PEAK=off: count nothing */
void peak_move_slow(uint32_t id, int64_t n, int64_t bytes);
/* A block of trace id was born (+) or died (-) (traces.c, with the weights
 * it has): this thread's line of live sums per trace moves. */
static inline void peak_move(uint32_t id, int64_t n, int64_t bytes)
{
    struct peak_line *l = peak_mine;
    struct peak_cell *c;
    if (base_unforked()) /* the cells may be the parent's file's pages */
        return;
    if (HS_LIKELY(l != NULL) &&
        HS_LIKELY((c = atomic_load_explicit(&l->chunk[id >> PEAK_CHUNK_BITS],
                                            memory_order_relaxed)) != NULL)) {
        c += id & (PEAK_CHUNK - 1);
        atomic_store_explicit(&c->count, atomic_load_explicit(&c->count, memory_order_relaxed) + n,
                              memory_order_relaxed);
        atomic_store_explicit(&c->bytes, atomic_load_explicit(&c->bytes, memory_order_relaxed) + bytes,
                              memory_order_relaxed);
    } else if (!peak_idle) {
        peak_move_slow(id, n, bytes);
    }
}
void peak_thread_end(void);
void peak_after_fork_child(void);
extern _Atomic uint64_t peak_next; /* capture when the peak reaches it */
void peak_capture(uint64_t peak_now);
/* traces.c's slow paths, after a charge raised the peak: a capture when
 * it passed the threshold.  Not on the hot path: only where the peak moved. */
static inline void peak_check(uint64_t peak_now)
{
    if (HS_UNLIKELY(peak_now >= atomic_load_explicit(&peak_next, memory_order_relaxed)))
        peak_capture(peak_now);
}
void peak_reset(void);                /* heapsnap_reset_peak, _clear_traces */
struct sbuf;
int peak_put(struct sbuf *b, const struct trace_live *live, uint32_t n, unsigned tries);
int peak_put_temps(struct sbuf *b, uint32_t n);
void peak_live(struct trace_live *out, uint32_t n); /* the lines' live sums now */
uint32_t peak_kept(struct trace_live *out, uint32_t n); /* the capture's; traces covered */
struct peak_store { /* cells kept elsewhere than the arena (state.c) */
    void *(*cells)(unsigned line, unsigned chunk); /* zeroed cells, or NULL: the arena */
    void (*drop)(const void *c);                   /* ... not kept after all */
};
void peak_set_store(const struct peak_store *s);
void peak_clear(void);                /* heapsnap_clear_traces */
extern __thread struct peak_last {  /* this thread's last recorded block */
    uintptr_t p;                    /* ~address: the leak check scans TLS, and
                                       must not take this for a reference */
    uint64_t size;
    uint32_t trace;
} peak_last;
static inline void peak_born(uintptr_t p, uint32_t id, uint64_t size) /* the record path */
{
    struct peak_last *l = &peak_last;
    l->p = ~p;
    l->size = size;
    l->trace = id;
}
void peak_temp(void);
/* TEMPS, in the free hook (and realloc's free of its old block): a
 * compare and branch.  Heaptrack's rule: temporary only when the very next
 * event after its allocation frees it, so any free ends the chance of the
 * block before it (test temps_interleaved_are_not_temporary). */
static inline void peak_freed(const void *p)
{
    if (HS_UNLIKELY(~(uintptr_t)p == peak_last.p))
        peak_temp();
    else
        peak_last.p = 0;
}

/* ---- the unwinders (shim/unwind/unwind.h), as the hooks start them ---- */
void hook_unwind_init(void);       /* HEAPSNAP_UNWIND's backend, with the shim as host */

/* ---- sample.c: HEAPSNAP_SAMPLE ---- */
void sample_init(void);
uint64_t sample_interval(void);       /* 0 = off */
int sample_weighted(void);            /* sums are estimates (not LEAKS) */
int sample_hit(int64_t *left, size_t n); /* countdown ran out: sampled? */
extern int sample_estimates;          /* = sample_weighted(), for the hot path */
void sample_weigh_estimate(uint64_t size, uint64_t *count, uint64_t *bytes);
/* What a recorded block of size bytes stands for: *count in 1/65536 units,
 * *bytes in bytes.  Weight 1 unless estimates are on (inline: every charge
 * and discharge asks). */
static inline void sample_weigh(uint64_t size, uint64_t *count, uint64_t *bytes)
{
    if (HS_LIKELY(!sample_estimates)) {
        *count = 1u << 16;
        *bytes = size;
        return;
    }
    sample_weigh_estimate(size, count, bytes);
}

/* ---- options.c ---- */
void opt_init(void);
void opt_init_secure(void); /* AT_SECURE: defaults, no variable obeyed */
void opt_init_conf(const char *conf); /* attach: "NAME=VALUE" lines, not the environment */
long opt_int(enum opt_id id);
const char *opt_str(enum opt_id id);
void opt_warn(const char *a, const char *b, const char *c); /* capped */
void opt_debug(const char *a, const char *b, const char *c); /* HEAPSNAP_VERBOSE */
void opt_debug_count(const char *what, uint64_t n);          /* ... "what" and a number */
int opt_parse_signal(const char *s);                         /* -1 = bad */
size_t opt_fmt_u64(char *buf, uint64_t v);                   /* no NUL */
extern __thread int opt_err_pidfd; /* a table of its own: the program's fd 2 by pidfd */
/* Warnings' way instead of fd 2 (a line with its newline): 1 when taken. */
extern int (*opt_warn_sink)(const char *line, size_t n);

/* ---- dlclose.c: modules that were unloaded ---- */
/* Appends the records of unloaded modules to MODULES, newest first; how many. */
struct sbuf;
uint32_t dlc_put_modules(struct sbuf *b, struct sbuf *eras);

/* ---- sbuf.c: the writer's growable buffers (mmap'd) ---- */
struct sbuf {
    char *p;
    size_t len, cap;
    int err; /* an allocation failed: the buffer is unusable */
};
int sbuf_reserve(struct sbuf *b, size_t n); /* room for n more bytes: 0, or -1 (err) */
void sbuf_put(struct sbuf *b, const void *data, size_t n);
void sbuf_u32(struct sbuf *b, uint32_t v);
void sbuf_u64(struct sbuf *b, uint64_t v);
void sbuf_file(struct sbuf *b, const char *path); /* a whole small file appended */
void sbuf_free(struct sbuf *b);
int sbuf_write_all(int fd, const void *p, size_t n); /* 0 or -1 */

/* ---- sidefile.c: the side file beside a snapshot ---- */
/* BLOCKS (and, from the leak check's fork, LEAKS and RETAINERS) are made
 * in a side file, an unnamed scratch file beside the snapshot
 * (name_open_side), as they come: never held whole in memory.  A section
 * there is framed by side_sec_begin/end (its header rewritten with the
 * length and checksum once they are known) or written whole; the side
 * file holds framed sections back to back from offset 0.  The snapshot
 * itself is written at the end, its sections in the format's order, the
 * side file's copied in by the kernel (copy_file_range). */
struct side_file {
    int fd;       /* -1: none (no file, or no BLOCKS) */
    int err;      /* errno of the first failure */
    int level;    /* zstd level of its sections (HEAPSNAP_COMPRESS); 0: raw */
    int z;        /* the open section is compressed */
    off_t at;     /* the open section's header */
    uint64_t len; /* its payload so far, as stored */
    uint64_t raw; /* ... and uncompressed (side_out's bytes) */
    uint64_t hint; /* side_sec_begin without a size: about how many (0: unknown) */
    uint32_t crc; /* the stored payload's crc32 */
};
#define SIDE_ZMIN 256u /* payloads of fewer bytes known in advance stay raw */

/* The side file's sections: [at, at + len) framed, by type. */
struct side_index {
    off_t at[HSNAP_SEC_RETAINERS + 1];
    uint64_t len[HSNAP_SEC_RETAINERS + 1];
};

void side_fail(struct side_file *f);
void side_out(struct side_file *f, const void *p, size_t n);
void side_sec_begin(struct side_file *f, size_t room, uint64_t size);
void side_sec_end(struct side_file *f, uint32_t type, const void *head, size_t room);
void side_sec_whole(struct side_file *f, uint32_t type, const void *p, size_t n);
int side_index(int fd, struct side_index *sd);
int side_copy(int fd, int side, off_t at, uint64_t len);


/* ---- zsec.c: a section's payload compressed (zstd) ---- */
#define ZSEC_UNKNOWN UINT64_MAX /* zsec_begin: the size is not known in advance */
int zsec_level(void);                   /* HEAPSNAP_COMPRESS: 0 = raw */
int zsec_begin(int level, uint64_t size, uint64_t hint); /* a new frame: 0, or -1 (raw) */
int zsec_feed(const void *p, size_t n, int end, int (*sink)(void *, const void *, size_t),
              void *arg);
void zsec_release(void);                /* the context back to the kernel */

/* ---- blocksort.c ---- */
void bsort_blocks(struct hsnap_block *a, uint64_t n); /* by address; snapshot lock held */
void bsort_addrs(uint64_t *a, uint64_t n);            /* the same, bare addresses */
void bsort_u32(uint32_t *a, uint64_t n);              /* ... and their lower halves */

/* ---- blockstream.c: BLOCKS in address order, 4 bytes a live block ---- */
typedef void (*bstream_fn)(const struct hsnap_block *b, void *arg);
/* Every live block (as pend_foreach sees them: left gets the held ones) to
 * fn, by address; 0, or -1 out of memory (fn saw none).  Not for the
 * fatal path: the lookups take the stripes' locks. */
int bstream_blocks(bstream_fn fn, void *arg, struct pend_left *left);

/* ---- snapname.c: where a snapshot goes ---- */
#define NAME_MAX_PATH 4096
size_t name_exe(char *buf, size_t cap); /* /proc/self/exe's target, no NUL */
void name_choose(char *out, const char *path, unsigned reason, uint32_t seq);
int name_open_tmp(char *t, const char *path); /* t (NAME_MAX_PATH + 32): its name; fd or -1 */
unsigned name_mode(void);                     /* HEAPSNAP_MODE's permission bits */
void name_manifest(const char *path, int err); /* run told: written (0) or failed */
/* shim/attach: told of each snapshot too (its absolute path), when set */
extern void (*name_notify)(const char *path, int err);
int name_commit(const char *t, char *path);   /* t -> path (may become path.<pid>); 0/-1 */
int name_has_pid(void);                       /* the name chosen last came from a %p pattern */
int name_open_side(const char *path);         /* an unnamed scratch file beside path; fd or -1 */
void name_after_fork_child(void);

/* ---- snapdest.c: a name that is not a file to replace ---- */
enum { DEST_RENAME, DEST_STREAM, DEST_STREAM_LINK };
/* What path leads to: DEST_RENAME (nothing, a regular file, a directory:
 * a temporary renamed over it), DEST_STREAM (a device, FIFO or socket
 * owned by this user or root: written in place), DEST_STREAM_LINK (a
 * symlink, of such an owner, to one), or -1 with *why (why may be NULL):
 * a symlink to anything else, or another user's node. */
int dest_kind(const char *path, const char **why);
/* A scratch file for a snapshot that goes to a stream: unnamed in /tmp,
 * else in memory (memfd).  The fd, or -1 with errno. */
int dest_scratch(void);
/* src, from its start, written into path's node (kind from dest_kind);
 * never blocks for long, raises no SIGPIPE.  0, or -1 with errno and, when
 * errno alone would not say it, *why. */
int dest_write(const char *path, int kind, int src, const char **why);

/* ---- modules.c ---- */
struct dl_phdr_info;
void mod_span(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi, const char **id,
              size_t *id_len);            /* *hi 0: no PT_LOAD */
void mod_section(struct sbuf *b, struct sbuf *gone); /* MODULES, UNLOADED */

/* ---- snapshot.c ---- */
/* Names, writes and counts one snapshot (NULL path: HEAPSNAP_OUTPUT);
 * 0, or -1 after one warning.  fatal: bounded lock attempts, never hang. */
int snap_take(unsigned reason, const char *path, int fatal);
uint32_t snap_epoch(void);
uint32_t snap_epoch_advance(void); /* the new epoch */
/* pyexit.c: CPython's atexit runs the exit snapshot (domain.c's calls) */
void pyexit_find(void *(*lookup)(const char *));
void pyexit_arm(void);
void life_exit_early(void); /* life.c: the exit snapshot now (pyexit.c) */
/* pause.c: heapsnap_stop / heapsnap_start, HEAPSNAP_PAUSED */
void pause_stop(void);
void pause_start(void);
int pause_is_on(void); /* stopped by the program: no exit snapshot */
int pause_thread(int off); /* this thread's allocations unrecorded (off); was it recording */
/* snapshot/dump.c: heapsnap_dump and heapsnap_dump_free (heapsnap.h). */
struct heapsnap_dump;
struct heapsnap_dump *dump_take(int what, unsigned since, const void *block, unsigned code_from);
void dump_free(struct heapsnap_dump *d);
void snap_lock(void);
void snap_unlock(void);
void snap_after_fork_child(void);

/* ---- leakcheck.c: the leak check's runs (under the snapshot lock) ---- */
/* heapsnap_collect: the leak check, and a snapshot when path != NULL; the
 * leaked blocks the last check found, or -1. */
int64_t lchk_collect(const char *path);
/* heapsnap_refcount and friends: the leak room's query on the live heap. */
long lchk_query(int referents, struct heapsnap_ref *out, size_t max);
int lchk_ignore(const void *p); /* heapsnap_ignore: 0, or -1 (not in a live block) */
/* A snapshot with the leak check (to HEAPSNAP_OUTPUT's next name): the
 * blocks it found leaked (direct, indirect, cycle), or -1. */
int64_t lchk_check(unsigned reason);

/* ---- threads.c: the pthread_create hook; per-thread set-up and end ---- */
/* (the registry the leak check stops and scans is the leak room's: stop_*) */

/* ---- signals.c: the program's sigaction/signal, watched ---- */
struct sigaction;
void sig_init(void);
int sig_install(int s, const struct sigaction *act, struct sigaction *old); /* unwatched */
void sig_watch(int s, void (*ours)(int)); /* HEAPSNAP_SIGNAL, with our handler on it */
int sig_owned(void);                      /* it still reaches that handler */

/* ---- lsan.c: LeakSanitizer's interface ---- */
extern __thread unsigned lsan_disabled; /* __lsan_disable nesting on this thread */
/* Why the leak check at exit does not run (HSNAP_META_LSAN_*), or 0:
 * __lsan_do_leak_check ran (said whether or not a check is wanted), or,
 * when one is, __lsan_is_turned_off() is nonzero. */
unsigned lsan_exit_check(int wanted);
void lsan_read_suppressions(void); /* __lsan_default_suppressions(), once */
const char *lsan_suppressions(size_t *len); /* what it returned; NULL: none */

/* ---- elfsym.c: the program's functions by name (.dynsym, the exe's .symtab) ---- */
void elfsym_find(const char *const *names, void **out, unsigned n);

/* ---- base/clock.c, base/degrade.c, base/loader.c: life's low-level
 * helpers, which every room may use (their life_ names kept) ---- */
uint64_t life_now_ns(void);       /* CLOCK_REALTIME */
uint64_t life_mono_ns(void);      /* CLOCK_MONOTONIC */
uint64_t life_uptime_ns(uint64_t mono); /* a life_mono_ns time, since start-up */
uint64_t life_start_ns(void);
void life_clock_start(void);      /* start-up, once: the times above start */
void life_degrade(const char *why); /* out of memory: warn once, stop */
int life_degraded(void);
void life_on_degrade(void (*stop)(void)); /* start-up: what degrading stops */
void life_loader_enter(void);      /* around a call that takes the loader lock */
void life_loader_leave(void);
struct dl_phdr_info;               /* dl_iterate_phdr inside that guard: */
int life_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);
void life_loader_close(void);      /* fork's prepare: wait for those inside */
void life_loader_open(void);       /* fork's parent */
void life_loader_reset(void);      /* fork's child: nobody is inside */
int life_loader_closed(void);      /* between fork's prepare and its child handler */

/* ---- life.c ---- */
void life_tick(void);             /* from the record slow path, now and then */
int life_start_early(void);        /* an allocation before the constructor */
/* not a vfork child, nor a clone child that no fork handler reached: the
 * process that writes snapshots */
int life_own_process(void);
void life_adopt(void); /* orphan.c: a clone child's locks taken back */
int life_is_late(void);             /* loaded by an attach, not at start-up */
void life_mark_late(void);          /* base/clock.c: say so, once, at the attach */
int life_attach(const char *conf);  /* shim/attach: start now; 0, or -1 */
void life_detach(void);             /* shim/attach: stop for good */

/* ---- orphan.c: clone children that no fork handler reached ---- */
void orph_init(void);   /* start-up */
void orph_forked(void); /* fork's child handler */
int orph_foreign(void); /* such a child (its tables may be half changed) */
int orph_stop(void);    /* such a child: recording stops (1), before a new walk */
/* exec.c: before an exec of path (NULL: a search of PATH, or by fd),
 * and after one that failed (errno kept) */
void life_before_exec(const char *path);
void life_after_exec(void);
/* creds.c, around a set*id call: the helper thread stopped and joined (1:
 * it was running), then started again. */
int life_helper_pause(void);
void life_helper_resume(void);

/* ---- runchan.c: the socket of `heapsnap run` ---- */
int rchan_tell(const char *path, int err); /* 0: run was told */
int rchan_tell_state(const char *path);    /* ... of this process's state file */
int rchan_fd_number(void);                 /* the channel's descriptor, or -1 */

/* ---- state.c: the state file (hsnap_state.h) ---- */
void state_init(void);            /* start-up, before recording */
int state_on(void);
const char *state_path(void);     /* NULL: none */
void *state_cells(unsigned line, unsigned chunk); /* zeroed cells in the file, or NULL */
void state_cells_drop(const void *c); /* ... not kept by the caller */
uint64_t state_due(void);         /* the helper's next heartbeat; 0: none */
void state_beat(void);            /* the helper: heartbeat, and a document */
void state_done(void);            /* a clean end: the file goes */
void state_reattach(void);        /* an attach after a detach: the file again */
int state_yield(void);            /* a full disk at the end: the helper's blocks back; 0 or -1 */
void state_exec(const char *path); /* the image is about to be replaced */
int state_exec_failed(void);       /* ... and was not: 1, the helper must be woken */
void state_after_fork_child(void);
int state_owner(uid_t uid);       /* the file given to uid (a change of ids): 0, or -1 */
uint64_t state_used(void);        /* bytes of the file in use */
void state_put(struct sbuf *b);   /* the snapshot's STATE section */

/* ---- base/secure.c ---- */
int cred_secure(void); /* AT_SECURE: record nothing, write nothing */
/* ---- term.c ---- */
struct sigaction;
int term_sigaction(int s, const struct sigaction *act, struct sigaction *old, int *r);
int term_hold(void);          /* life_atexit: SIGTERM waits for the exit snapshot */
void term_release(int held);  /* ... and then ends the process, if it came */
/* ---- base/launcher.c ---- */
int launch_inactive(void); /* a launcher's process under heapsnap run (cred_secure) */
/* ---- record/timeline.c: the heap over time ---- */
void life_timeline_init(void);    /* start-up, and a new attach: empty */
void life_timeline_tick(void);    /* life_tick: a point, when one is due */
/* With the timeline lock held by the caller of life_timeline_lock. */
unsigned life_timeline_copy(struct hsnap_point *dst, unsigned cap);
void life_timeline_lock(void);
int life_timeline_lock_bounded(unsigned tries);
void life_timeline_unlock(void);

/* ---- siteline.c: memory over time, per site (SITELINE) ---- */
#define SL_SITES 8u  /* the largest traces kept at each point */
#define SL_MAX 512u  /* points kept (then halved) */
struct sl_point {
    struct hsnap_siteline_point p;
    struct hsnap_siteline_site site[SL_SITES];
    uint64_t mapped; /* of p.heap, the mmap kind's bytes (MAPLINE) */
};
uint64_t sl_step_ns(void);  /* HEAPSNAP_SITELINE; 0 = off */
uint64_t sl_due(void);      /* monotonic time of the next point; 0 = off */
void sl_sample(void);       /* the helper thread takes a point */
struct sbuf;
int sl_put(struct sbuf *b, struct sbuf *ml, const struct trace_live *live, uint32_t nlive,
           uint32_t ntraces, int fatal); /* SITELINE and MAPLINE (empty when off); 0 or -1 */
void sl_reset(void);        /* a new attach: no point kept */
void sl_lock(void);         /* fork */
void sl_unlock(void);
/* For the unit test: */
unsigned sl_halve(struct sl_point *pt, unsigned n);
void sl_record(const struct sl_point *p);
uint64_t sl_top(const struct trace_live *live, uint32_t n, struct hsnap_siteline_site *top,
                unsigned k);

#endif
