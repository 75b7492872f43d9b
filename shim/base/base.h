/*
 * base.h - the door of shim/base, the room every other room stands on:
 * symbol visibility, branch hints, the spinlock (fork-safe: a plain int;
 * no allocation; a bounded variant for the fatal-signal path; a wait that
 * lasts asks lock_stall_fn, which the root hands down), the re-entry guard
 * and the frees that wait for it, the shim's own memory, options and
 * warnings, buffers, clocks, degrading, the loader gate, modules' GOT
 * entries and dynamic symbols, spans sorted, and the register scrub.
 * Nothing here references a room above.
 * Prefixes: lock_, guard_ and defer_ (deferred.c), arena_, opt_
 * (options.c), sbuf_, clock_, degrade_, loader_ (and base_fork_mark),
 * cred_ (secure.c), launch_ (launcher.c), gotw_ (gotwalk.c), dsym_
 * (dynsym.c), span_ (spans.c), scrub_, line_, sighold_.
 * Locks (the root's door, root.h, has the order): arena (6) and arena
 * maps (10), arena.c's.
 */
#ifndef HEAPSNAP_BASE_H
#define HEAPSNAP_BASE_H

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "options_table.h" /* the one table of options: enum opt_id */

#define HS_EXPORT __attribute__((visibility("default")))
#define HS_NOINLINE __attribute__((noinline))
#define HS_LIKELY(x) __builtin_expect(!!(x), 1)
#define HS_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The bits set in x, inline: __builtin_popcountll is a call into libgcc
 * (a table, a byte at a time) where the shim is built for any x86-64, with
 * no POPCNT instruction; the snapshot's rank lookups make ~200,000. */
static inline unsigned hs_popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ull;
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* ---- a tiny spinlock: fork-safe (plain int), no allocation, trylock ---- */
typedef struct { atomic_int v; } lock_t;

static inline int lock_try(lock_t *l)
{
    return atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
           atomic_exchange_explicit(&l->v, 1, memory_order_acquire) == 0;
}
/* A wait that has lasted LOCK_STALL spins: in a child that no fork handler
 * reached (clone without CLONE_VM), a lock held at the clone by another
 * thread is never released.  lock_stall_fn, set by the composition root
 * at start-up (lock_on_stall), tells, takes the shim back from the threads
 * that are not there and frees l (NULL: a count being waited for) for
 * this thread; 1 when it did.  Unset (the unit tests), the wait goes on. */
#define LOCK_STALL 256u
/* sched_yield as the system call: libc's wrapper sits in a 64 KiB window of
 * its text that most programs never run, resident once run (Peak RSS). */
static inline void lock_yield(void)
{
    syscall(SYS_sched_yield);
}

extern int (*lock_stall_fn)(lock_t *l);   /* lock.c */
void lock_on_stall(int (*fn)(lock_t *l)); /* start-up, once */
static inline void lock_wait(lock_t *l, unsigned spins)
{
    int (*stalled)(lock_t *);
    if (spins > 64)
        lock_yield();
    if (HS_UNLIKELY(spins % LOCK_STALL == LOCK_STALL - 1) && (stalled = lock_stall_fn) != NULL)
        stalled(l);
}
static inline void lock_take(lock_t *l)
{
    for (unsigned spins = 0; !lock_try(l); spins++)
        lock_wait(l, spins);
}
/* Bounded attempt for the fatal-signal path: never hang.  After its
 * tries, a thread that lock_be_patient made patient goes on trying with
 * short sleeps until its deadline (lock_take_patient): a holder that
 * another thread is (the helper writing the state file, preempted on a
 * loaded machine) lets go once it runs again, which 2000 yields do not
 * always wait for. */
int lock_take_patient(lock_t *l);           /* lock.c */
void lock_be_patient(uint64_t ns);          /* this thread, for ns; 0: no more */
extern __thread uint64_t lock_patient_until; /* CLOCK_MONOTONIC ns, 0: none */
static inline int lock_take_bounded(lock_t *l, unsigned tries)
{
    while (tries--) {
        if (lock_try(l))
            return 1;
        lock_yield();
    }
    return lock_patient_until ? lock_take_patient(l) : 0;
}
static inline void lock_drop(lock_t *l)
{
    atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* ---- scrub.c: what a hook that kept the books leaves in the thread
 * (block addresses in dead frames and caller-saved registers) cleared,
 * last thing before it returns ---- */
void scrub_init(void);           /* picks the CPU's variant (SSE until then) */
void scrub_use(int kind);        /* that variant: 0 SSE, 1 AVX, 2 AVX-512 with VL, 3 without */
extern void (*scrub_fn)(size_t bytes); /* the variant's, as scrub_frames */
extern void (*scrub_regs_fn)(void);    /* the variant's, as scrub_regs */
extern void *(*scrub_ret_fn)(size_t bytes, void *ret); /* ... as scrub_frames_ret */
/* bytes of dead stack below the caller, and the registers */
static inline void scrub_frames(size_t bytes)
{
    scrub_fn(bytes);
}
static inline void scrub_regs(void) /* the registers alone */
{
    scrub_regs_fn();
}
/* scrub_frames as the caller's tail call (return scrub_frames_ret(n, p)):
 * its frame is dead by then and cleared too, from just below the return
 * address on; ret comes back in rax, the one register not cleared. */
static inline void *scrub_frames_ret(size_t bytes, void *ret)
{
    return scrub_ret_fn(bytes, ret);
}

/* ---- the fork mark (orphan.c makes it; base/loader.c holds it) ---- */
/* A MADV_WIPEONFORK word: the kernel gives every new address space a
 * zeroed copy, and fork's child handler writes it back.  0 so in a child
 * of clone() without CLONE_VM that no fork handler reached: it shares the
 * parent's MAP_SHARED pages (the state file's cells) and may find the
 * loader's lock held for good by a thread it does not have.  A constant
 * 1 where the kernel cannot tell (before 4.14). */
extern const volatile int *base_fork_mark;
static inline int base_unforked(void)
{
    return HS_UNLIKELY(*base_fork_mark == 0); /* never NULL: a 1 until orph_init sets it */
}

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

/* *c += v on a line only this thread writes (its trace shard, its peak
 * cell; others read it with relaxed loads): one add to memory on x86-64,
 * where a relaxed load and store are three instructions.  An aligned
 * 8-byte store is single-copy atomic there, so a reader sees the old sum
 * or the new one, as with the load and store.  c: a 64-bit _Atomic word. */
static inline void line_own_add(void *c, uint64_t v)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __asm__("addq %1, %0" : "+m"(*(uint64_t *)c) : "er"(v));
#else
    _Atomic uint64_t *a = c;
    atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + v,
                          memory_order_relaxed);
#endif
}

/* ---- the hot path's per-thread words, one thread-local (deferred.c
 * defines it).  Each thread-local of a shared object is reached through
 * a GOT entry of its own (initial-exec: a load of its offset, then the
 * %fs access; the attach build's dynamic model, a call each), so the
 * words a malloc+free pair reads are grouped: a hook loads one offset
 * for all of them.  Each keeps its name (the macros below), and the file
 * named owns it, as when it was a thread-local of its own. ---- */
struct pend_queue;
struct peak_line;
struct trace_shard;
struct hs_recent {         /* peak_last: this thread's last recorded block */
    uintptr_t p;           /* ~address: the leak check scans TLS, and
                              must not take this for a reference */
    uint64_t size;
    uint32_t trace;
};
struct hs_hot {
    int guard_on;                       /* deferred.c (below) */
    int hook_ticks;                     /* hookrecord.c: tracked allocations to life_tick */
    void *_Atomic defer_stack;          /* deferred.c (below) */
    int64_t hook_countdown;             /* hooks.c (root.h) */
    size_t hook_scrub_need;             /* hookstack.c (root.h) */
    union {                             /* hook_plain: one test with hs_rare */
        struct {
            uint8_t pend_fresh_on;      /* pending.c (record.h) */
            uint8_t lines_mine;         /* traces.c: 1 once the thread's own queue and
                                           lines are set (HS_MINE_PLAIN) */
            uint16_t rare_unused;       /* 0 */
            unsigned lsan_disabled;     /* lsan.c (root.h) */
        };
        uint64_t rare_mine;             /* the thread's rarer modes, as hs_rare's */
    };
    struct pend_queue *pend_self;       /* pending.c (record.h) */
    struct peak_line *peak_mine;        /* peak.c (record.h) */
    struct trace_shard *trace_my_shard; /* traces.c: this thread's line of sums */
    int64_t trace_pending;              /* traces.c: bytes changed since the last fold */
    struct hs_recent peak_last;         /* peak.c (record.h) */
    uintptr_t unwind_my_top;            /* shim/unwind/unwind.c: this thread's stack top */
};
extern __thread struct hs_hot hs_hot;
#define guard_on (hs_hot.guard_on)
#define hook_ticks (hs_hot.hook_ticks)
#define defer_stack (hs_hot.defer_stack)
#define hook_countdown (hs_hot.hook_countdown)
#define hook_scrub_need (hs_hot.hook_scrub_need)
#define lsan_disabled (hs_hot.lsan_disabled)
#define lines_mine (hs_hot.lines_mine)
#define pend_fresh_on (hs_hot.pend_fresh_on)
#define pend_self (hs_hot.pend_self)
#define peak_mine (hs_hot.peak_mine)
#define trace_my_shard (hs_hot.trace_my_shard)
#define trace_pending (hs_hot.trace_pending)
#define peak_last (hs_hot.peak_last)
#define unwind_my_top (hs_hot.unwind_my_top)

/* The recording hooks' rarer modes, one bit each, set by the mode's owner
 * while the mode is on: a hook tests this one word (hook_record,
 * where it is 0, takes a path that tests none of them, not
 * a test of each mode in turn).  A mode turned on while a hook runs is
 * seen by the next, as when the hook read the mode's own flag first.  A
 * thread's own rarer modes are hs_hot's rare_mine, tested with it:
 * __lsan_disable's nesting and pend_keep's fresh blocks; and lines_mine,
 * the other way round: the plain paths need the thread's own pending
 * queue, trace shard and peak line, and test none of them (a thread's
 * words start at 0: a new thread takes the careful paths, which claim
 * them).  The plain paths' word: hs_rare | rare_mine == HS_MINE_PLAIN,
 * lines_mine's bit, which no HS_RARE_* bit shares (below 256); or'ed with
 * the fork mark, HS_FORK_MARK (hook_plain), in rare_unused's
 * bits, which stay 0. */
#define HS_MINE_PLAIN 0x100u
#define HS_MINE_FRESH 0xffu /* pend_fresh_on's byte of rare_mine (hook_plain_fresh) */
#define HS_FORK_MARK 0x10000u /* orph_init's page word; its low half is base_fork_mark's */
extern _Atomic unsigned hs_rare;
#define HS_RARE_SAMPLE 1u    /* hooks.c: HEAPSNAP_SAMPLE */
#define HS_RARE_ESTIMATES 2u /* sample.c: sample_estimates */
#define HS_RARE_FILTER 4u    /* tblfilter.c: tbl_filter.on */
#define HS_RARE_POOL 8u      /* tblpool.c: tbl_pool_on */
#define HS_RARE_DOM 16u      /* domain.c: hook_py_waiting */
#define HS_RARE_UNWIND 32u   /* unwind.c: not the auto method, or its check mode */
#define HS_RARE_WATCH 64u    /* watch.c: tracemalloc's traced memory (watch_from1) */
#define HS_RARE_PYCALLER 128u /* domain.c: HEAPSNAP_PYTHON_NATIVE=caller, domains wrapped */
_Static_assert((HS_RARE_SAMPLE | HS_RARE_ESTIMATES | HS_RARE_FILTER | HS_RARE_POOL | HS_RARE_DOM |
                HS_RARE_UNWIND | HS_RARE_WATCH | HS_RARE_PYCALLER) < HS_MINE_PLAIN,
               "a mode's bit would read as lines_mine's (hook_plain)");
static inline void hs_rare_mark(unsigned bit, int on)
{
    if (on)
        atomic_fetch_or(&hs_rare, bit);
    else
        atomic_fetch_and(&hs_rare, ~bit);
}

/* errno as the hot path keeps it (hook_record): at its offset
 * from the thread pointer, taken by hs_errno_init, read and
 * written %fs-relative.  libc's thread-locals are in the static TLS
 * block, at the same offset in every thread; errno through
 * __errno_location is a call through the PLT on every tracked allocation. */
#ifdef __SEG_FS
extern uintptr_t hs_errno_at;
#define HS_ERRNO (*(int __seg_fs *)hs_errno_at)
#else
#define HS_ERRNO errno
#endif
void hs_errno_init(void);

/* ---- deferred.c: the re-entry guard ---- */
/* guard_on (hs_hot): nonzero, allocations pass through untracked */
/* The shim's own work: allocations made until guard_leave pass through
 * untracked.  guard_enter returns the flag as it was, for guard_leave
 * (a caller that knows it entered clear may pass 0). */
static inline int guard_enter(void)
{
    int saved = guard_on;
    guard_on = 1;
    return saved;
}

/* ---- deferred.c: frees while the guard is set ---- */
/* Frees that came while the guard was set (a signal handler that
 * interrupted a hook on this thread): a stack linked through the freed
 * blocks themselves, emptied when the guard is next left clear. */
/* defer_stack (hs_hot) */
/* shim/python: the block its wrapper's own call frees or resizes with the
 * guard set, already off the books: not deferred (hook_free_careful_in,
 * hook_realloc_defers). */
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
    guard_on = saved;
    if (HS_UNLIKELY(!saved && atomic_load_explicit(&defer_stack, memory_order_relaxed)))
        defer_drain();
}

/* ---- arena.c: the shim's own memory ---- */
void *arena_alloc(size_t n);           /* zeroed; NULL when out of memory */
#define ARENA_BLOCK_MAX (64u * 1024u)  /* arena_alloc past it: a mapping of its own */
void arena_free(void *p, size_t n);    /* n = the size passed to arena_alloc */
void *arena_keep(size_t n);            /* zeroed, 8-aligned, never freed */
void *arena_map(size_t n);             /* whole pages, straight mmap */
void *arena_map_full(size_t n);        /* the same, every page resident at once */
void arena_populate(void *p, size_t n); /* pages of a mapping resident at once */
void *arena_map_sparse(size_t n, int shared); /* no swap reserved; shared: with forks */
void arena_unmap(void *p, size_t n);
void *arena_remap(void *p, size_t old, size_t n); /* grown in place or moved; NULL: p kept */
size_t arena_mapped(void);             /* bytes mapped, for shim_bytes */
/* Each of the shim's mappings to fn (no lock); -1: some are not listed. */
int arena_each_map(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
void arena_maps_hold(void);           /* the list and the address space agree until */
void arena_maps_release(void);        /* ... the release (the leak check's maps read) */
void arena_lock(void);                 /* fork */
void arena_unlock(void);

/* ---- options.c ---- */
void opt_init(void);
void opt_init_secure(void); /* AT_SECURE: defaults, no variable obeyed */
void opt_init_conf(const char *conf); /* attach: "NAME=VALUE" lines, not the environment */
long opt_int(enum opt_id id);
/* A choice of "auto|0|1|no|yes|false|true|off|on": -1 auto, 0 no, 1 yes. */
int opt_auto(enum opt_id id);
int opt_given(enum opt_id id); /* 1: its variable was read, not the default */
const char *opt_str(enum opt_id id);
const char *opt_name(enum opt_id id); /* its variable's name: HEAPSNAP_... */
void opt_warn(const char *a, const char *b, const char *c); /* capped */
void opt_debug(const char *a, const char *b, const char *c); /* HEAPSNAP_VERBOSE */
void opt_debug_count(const char *what, uint64_t n);          /* ... "what" and a number */
int opt_parse_signal(const char *s);                         /* -1 = bad */
size_t opt_fmt_u64(char *buf, uint64_t v);                   /* no NUL */
/* "name0 N, name1 N, ...": the milliseconds from t[k] to t[k + 1] for the
 * n phases (t: n + 1 CLOCK_MONOTONIC times, 0 where a phase was never
 * reached: it reads 0), NUL-ended within cap; its length. */
size_t opt_fmt_phases(char *buf, size_t cap, const char *const *name, const uint64_t *t,
                      unsigned n);
extern __thread int opt_err_pidfd; /* a table of its own: the program's fd 2 by pidfd */
/* Warnings' way instead of fd 2 (a line with its newline): 1 when taken. */
extern int (*opt_warn_sink)(const char *line, size_t n);

/* ---- sbuf.c: the writer's growable buffers (mmap'd) ---- */
struct sbuf {
    char *p;
    size_t len, cap;
    int err; /* an allocation failed: the buffer is unusable */
};
int sbuf_reserve(struct sbuf *b, size_t n); /* room for n more bytes: 0, or -1 (err) */
int sbuf_reserve_all(struct sbuf *b, size_t n); /* ... the caller writes them all */
void sbuf_put(struct sbuf *b, const void *data, size_t n);
void sbuf_u32(struct sbuf *b, uint32_t v);
void sbuf_u64(struct sbuf *b, uint64_t v);
void sbuf_file(struct sbuf *b, const char *path); /* a whole small file appended */
void sbuf_free(struct sbuf *b);
int sbuf_write_all(int fd, const void *p, size_t n); /* 0 or -1 */
/* A section handed to its writer as it is made, never held whole (the
 * snapshot's side file: sidefile.c's side_sink_*): begin with the
 * payload's size, then its bytes put in order, run (may be NULL) saying
 * the next bytes are records of stride bytes (for the planes; 1: bytes),
 * end (may be NULL) closing it.  PYTYPES, PYOWNED, PYRETAIN and PEAK. */
struct sec_sink {
    void (*begin)(void *arg, uint64_t bytes);
    void (*run)(void *arg, uint32_t stride);
    void (*put)(void *arg, const void *p, size_t n);
    void (*end)(void *arg);
    void *arg;
};

/* ---- clock.c, degrade.c, loader.c: the process's clocks, the way out
 * of recording when memory runs out, and the gate around calls that take
 * glibc's loader lock ---- */
uint64_t clock_now_ns(void);       /* CLOCK_REALTIME */
uint64_t clock_mono_ns(void);      /* CLOCK_MONOTONIC */
uint64_t clock_cpu_ns(clockid_t id); /* a CPU-time clock (or any): ns, 0 if unreadable */
uint64_t clock_uptime_ns(uint64_t mono); /* a clock_mono_ns time, since start-up */
uint64_t clock_start_ns(void);
void clock_start(void);      /* start-up, once: the times above start */
int clock_is_late(void);             /* loaded by an attach, not at start-up */
void clock_mark_late(void);          /* say so, once, at the attach */
void degrade_now(const char *why); /* out of memory: warn once, stop */
int degrade_is_on(void);
void degrade_on_stop(void (*stop)(void)); /* start-up: what degrading stops */
void loader_enter(void);      /* around a call that takes the loader lock */
void loader_leave(void);
struct dl_phdr_info;               /* dl_iterate_phdr inside that guard: */
int loader_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);
void loader_close(void);      /* fork's prepare: wait for those inside */
void loader_open(void);       /* fork's parent */
void loader_reset(void);      /* fork's child: nobody is inside */
int loader_closed(void);      /* between fork's prepare and its child handler */

/* ---- sighold.c: SIGXFSZ or SIGPIPE that the shim's own writes raise
 * kept from the host: blocked on this thread from take to drop, and the
 * one raised meanwhile taken back, unless one was pending before ---- */
struct sighold {
    sigset_t old; /* the thread's mask before the take */
    int sig;
    int had;      /* sig was pending already: it stays pending */
};
void sighold_take(struct sighold *h, int sig);
void sighold_drop(struct sighold *h);

/* ---- base/gotwalk.c: a module's GOT entries against given names ---- */
struct gotw_mod {                  /* the module being walked */
    const struct dl_phdr_info *info;
    uintptr_t relro_lo, relro_hi;  /* its RELRO pages */
};
/* an entry at `at` against names[k] */
typedef void (*gotw_fn)(void **at, unsigned k, const struct gotw_mod *m, void *arg);
int gotw_module(const struct dl_phdr_info *info, const char *const *names, unsigned n,
                gotw_fn fn, void *arg); /* not the loader's or the vDSO's; 1: not finished */
int gotw_write(void **at, void *v, const struct gotw_mod *m); /* 0 or -1 */
int gotw_holds(const struct dl_phdr_info *info, uintptr_t a); /* a in its segments */
unsigned long long gotw_adds(void); /* the loader's count of loads */

/* ---- base/dynsym.c: a loaded module's .dynsym, read in memory ---- */
struct dsym_table {
    const void *sym;  /* ElfW(Sym)[count] */
    const char *str;  /* strsz bytes */
    size_t strsz;
    uint32_t count;
};
/* info's (a module whose span is [lo, hi), kept loaded by the caller):
 * 0, or -1 when it has no dynamic symbols to read */
int dsym_table(const struct dl_phdr_info *info, uint64_t lo, uint64_t hi, struct dsym_table *t);

/* ---- base/spans.c: [lo, hi) pairs sorted by start, in place ---- */
void span_sort(uintptr_t (*s)[2], uint32_t n);

/* ---- base/secure.c ---- */
int cred_secure(void); /* AT_SECURE: record nothing, write nothing */
int launch_inactive(void); /* launcher.c: a launcher's process (cred_secure) */
/* This image's script (or "env") when it is a launcher's own image, found
 * so at start-up; NULL for a launcher's helper or any other process. */
const char *launch_own_image(void);
void launch_exec_init(void); /* from a constructor: this library's name, for launch_exec_env */
#define LAUNCH_ENV_MAX 1024 /* an exec's environment rebuilt up to this many entries */
#define LAUNCH_PRE_MAX 4096 /* and its LD_PRELOAD up to this many bytes */
/* Room for an exec's environment, on the stack of the exec's caller. */
struct launch_env {
    char *out[LAUNCH_ENV_MAX];
    char pre[LAUNCH_PRE_MAX];
    char var[48]; /* HEAPSNAP_LAUNCHER=PID */
};
/* envp as an exec should pass it, rebuilt in e when it changes: a
 * launcher's helper's without this library in LD_PRELOAD, a launcher's
 * own with HEAPSNAP_LAUNCHER naming its pid; else envp */
char *const *launch_exec_env(char *const envp[], struct launch_env *e);

#endif
