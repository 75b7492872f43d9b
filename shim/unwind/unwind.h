/*
 * unwind.h - the door of the unwinders: stack capture from inside a hook,
 * behind one small interface (heaptrack keeps its backends the same way).
 * Three backends, chosen at unwind_init: auto (the CFI walk of cfi.c over
 * .eh_frame rules decoded by ehframe.c, which defers to libunwind on any
 * doubt), libunwind's unw_backtrace, and a checked frame-pointer walk.
 * The room calls nothing of the recorder's but through the unwind_host it
 * is given: memory, the fork-safe guard around the loader lock, and a
 * debug line.
 */
#ifndef HEAPSNAP_UNWIND_H
#define HEAPSNAP_UNWIND_H

#include <stddef.h>
#include <stdint.h>

#define UNWIND_SLACK 16 /* extra frames captured: the shim's own */

struct dl_phdr_info;

/* What the unwinders need from the library around them; all required. */
struct unwind_host {
    void *(*alloc)(size_t n);          /* zeroed, or NULL (a walk memo, a few KiB) */
    void (*free)(void *p, size_t n);   /* n as given to alloc */
    void *(*map)(size_t n);            /* zeroed whole pages (the rule cache) */
    /* dl_iterate_phdr inside the loader guard (fork waits for it) */
    int (*iterate_phdr)(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);
    void (*loader_enter)(void);        /* around unw_backtrace (it looks modules up) */
    void (*loader_leave)(void);
    void (*count)(const char *what, uint64_t n); /* HEAPSNAP_VERBOSE: one figure */
    void (*warn)(const char *a, const char *b, const char *c); /* capped; NULL: none */
    /* a repeat's answer ran deeper than a repeat runs (a memo's compare
     * list made on its first repeat: cfi_memo_list), so the hook's scrub
     * must reach further below it; NULL: nobody scrubs */
    void (*deep)(void);
};

enum { UNWIND_AUTO, UNWIND_FP, UNWIND_LIBUNWIND }; /* HEAPSNAP_UNWIND's choices, in order */

/* Outside any hook, once: the backend, HEAPSNAP_UNWIND_CHECK (auto only:
 * every stack the incremental walk gives, a replay of the thread's last
 * walk or an exact repeat of a named one, is also walked from scratch and
 * compared; uchk_compare) and the host (kept). */
void unwind_init(int method, int check, const struct unwind_host *host);

/* Where a hook was called from: the return address into its caller, the
 * caller's rsp after the return (the hook frame's CFA) and the caller's rbp,
 * read from the hook's own frame (the shim keeps frame pointers).  Taken
 * with UNWIND_ORIGIN in the hook that records; unwind_capture checks it. */
struct unwind_origin {
    uintptr_t ra, cfa, rbp;
};
#define UNWIND_ORIGIN(o)                                                                  \
    do {                                                                                  \
        const uintptr_t *f_ = __builtin_frame_address(0);                                 \
        (o).ra = f_[1];                                                                   \
        (o).cfa = (uintptr_t)(f_ + 2);                                                    \
        (o).rbp = f_[0];                                                                  \
    } while (0)

#define UNWIND_NO_NAME UINT32_MAX
/* Fills ip[0..] (room for max + UNWIND_SLACK) with the caller's stack
 * minus the shim's frames; returns the depth kept (<= max), sets *truncated
 * when the stack was deeper than max.  *same (not UNWIND_NO_NAME): the
 * stack is the one last named with unwind_name, and ip[] was not written
 * (same may be NULL: not asked).  *raw: 1 when unw_backtrace took it
 * (libunwind's frames go far deeper below the caller than the CFI walk's),
 * else 0. */
unsigned unwind_capture(uintptr_t *ip, unsigned max, int *truncated, uint32_t *same,
                        const struct unwind_origin *origin, int *raw);
/* The frames unwind_capture would give that lie below bound, a CFA on
 * this stack (a frame's of the caller's, outward of origin): ip[0..n) (n
 * at most max), the return address whose state's rsp is bound in *at;
 * n >= 1, or -1 when the walk by the cached rules does not reach bound
 * exactly (auto only: the caller then captures whole).  rd (may be NULL):
 * the addresses of the stack words the walk read past origin, rv their
 * values (at most *nrd; their count in *nrd, UINT32_MAX when more),
 * *rbp_read whether it used origin's rbp: the same origin (its rbp too
 * where read) with the same words there, and the same unwind_rules_gen,
 * walks the same. */
int unwind_capture_to(uintptr_t *ip, unsigned max, const struct unwind_origin *origin,
                      uintptr_t bound, uintptr_t *at, uintptr_t *rd, uintptr_t *rv,
                      unsigned *nrd, int *rbp_read);
unsigned long long unwind_rules_gen(void); /* moves when cached rules may no longer hold */
/* The name unwind_capture would give in *same, alone (no ip[] needed):
 * the recording hook's fast path; UNWIND_NO_NAME: capture (same NULL
 * then skips asking again). */
uint32_t unwind_again(const struct unwind_origin *origin, unsigned max);
/* The same with HS_RARE_UNWIND clear (auto, no check mode): the
 * hooks' plain path. */
uint32_t unwind_again_plain(const struct unwind_origin *origin, unsigned max);
/* This thread's count of walks that went past the cached rules and the
 * memos in hand (a rule decoded from .eh_frame, the modules looked at, a
 * memo made, the stack's bounds found, a walk checked from scratch): only
 * those paths reach kilobytes down the thread's stack, and a hook that
 * clears its dead frames (hook_stack_named) clears that much only when the
 * count moved during its walk.  Incremented, never reset. */
extern __thread unsigned unwind_deep;
void unwind_name(uint32_t name);   /* the caller's name for the stack it was just given */
/* The hooks' tick, every n stacks asked (unwind_again_plain makes no
 * periodic check for unloaded modules of its own; no lock held). */
void unwind_tick(unsigned n);
/* A name with UNWIND_NAME_FRAMES set (never UNWIND_NO_NAME) keeps the
 * stack's frames for the caller: after unwind_again answered it,
 * unwind_again_frames gives them back without a walk (shim/python: the
 * native part of a Python stack, its Python frames spliced afresh).
 * Other names are the caller's own (hook_stack: trace ids, below 2^24). */
#define UNWIND_NAME_FRAMES 0x80000000u
/* Right after unwind_again(origin, max) answered name (UNWIND_NAME_FRAMES
 * set): ip[] (room for max + UNWIND_SLACK) gets the frames unwind_capture
 * would give, *truncated as it sets it; the depth, or -1 when the walk
 * answered is no longer at hand (capture then). */
int unwind_again_frames(uint32_t name, uintptr_t *ip, unsigned max, int *truncated);
int unwind_in_shim(uintptr_t ip);  /* ip lies in libheapsnap.so's text */
/* The function holding ip, as its .eh_frame FDE spans it: [*lo, *hi);
 * 0, or -1 (no FDE covers ip).  Takes the loader lock: no shim lock held. */
int unwind_func_range(uintptr_t ip, uintptr_t *lo, uintptr_t *hi);
/* The program unloaded a module (dlclose, after the real call; no lock
 * held): rules and walks cached for its addresses are dropped now, not
 * at the thread's next periodic check. */
void unwind_modules_changed(void);
struct unwind_counts {
    uint64_t stacks;       /* stacks asked of auto's walk */
    uint64_t walked;       /* frames it stepped by their CFI rules */
    uint64_t replayed;     /* frames it took from the memo, each checked */
    uint64_t fallbacks;    /* stacks it left to libunwind */
    uint64_t checked;      /* HEAPSNAP_UNWIND_CHECK: stacks compared ... */
    uint64_t mismatched;   /* ... and found different from the full walk */
};
/* The counts so far (per-thread ones: ended threads' and the caller's). */
void unwind_counts(struct unwind_counts *c);
void unwind_thread_end(void);      /* this thread's walk memo goes back */
/* The helper thread or the exit, no shim lock held (loader lock taken): the
 * pages of the modules' .eh_frame_hdr and .eh_frame leave the resident
 * set (MADV_DONTNEED, read-only segments only) when a lookup read them
 * since the last call; 1 then, else 0. */
int unwind_drop_tables(void);

#endif
