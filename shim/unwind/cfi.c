/*
 * cfi.c - the walk behind HEAPSNAP_UNWIND=auto: x86-64 CFI rules, one per
 * IP, cached by rulecache.c and read from .eh_frame by ehframe.c, and the
 * memo of each thread's recent walks (docs/design.md, "Incremental
 * unwinding", says why our own and why the memo is exact).
 *
 *   cfi_walk    for each frame the cached rule of its IP (key IP + 1: a
 *               caller's return address as is), then the caller's (rip,
 *               rsp = CFA, rbp).  Every read is checked against the
 *               thread's stack bounds; any doubt returns -1 and the caller
 *               takes the WHOLE stack from unw_backtrace.
 *   the memo    the last walk replayed where the stack did not change, an
 *               exact repeat given back whole.  Every CFI_CHECK_EVERY walks
 *               a thread asks rulecache.c to look for unloaded modules.
 *               The words a repeat compares are listed by cfichecks.c.
 * The rules accepted are a subset of libunwind's fast trace's STANDARD
 * frame, and the walk stops where it stops (RA undefined, a return address
 * below 0x4000), so the recorded IPs are unw_backtrace's.
 */
#include <limits.h>
#include <string.h>
#include <sys/platform/x86.h>

#include "cfimemo.h"
#include "cfisame.h"
#include "unwindinner.h"

#define CFI_CHECK_EVERY 256        /* walks between dlpi_subs checks */
#define CFI_MIN_RA 0x4000u         /* libunwind's "somewhere bogus" */

static int cfi_avx; /* the memo's pairs compared with AVX (cfi_memo_setup sets it) */

/* ---------------- the memo: this thread's recent walks ---------------- */

/* Its layout, and why a replay is exact: cfimemo.h. */

/* The sets and ways of a thread's walks, and the set of a walk: cfimemo.h. */

/* An empty way: a memo no walk repeats (its state 0's rsp is 0, and no
 * walk asks for CFI_MAX_NEVER frames), so that a lookup reads each way
 * without a test for none. */
static struct cfi_memo cfi_memo_none = {.max = CFI_MAX_NEVER, .st = {{0}}};
#define CFI_MEMO_NONE_WAYS {[0 ... CFI_MEMO_WAYS - 1] = &cfi_memo_none}

static __thread struct {
    struct cfi_memo *set[CFI_MEMO_SETS][CFI_MEMO_WAYS]; /* &cfi_memo_none: none yet */
    struct cfi_memo *last;        /* the last walk (replayed from); one of set[][] */
    struct cfi_memo *spare;       /* the next walk is recorded here; never one of set[][] */
    unsigned spilled;             /* bit i: set i's walks may be in its partner set too */
    unsigned deep;                /* bit i: set i's walks are kept in the deep sets */
    unsigned dmiss;               /* deep searches in a row that found nothing (at most
                                     CFI_DEEP_COLD: cold) */
    unsigned dskip;               /* cold: searches asked; one in CFI_DEEP_PROBE is made */
    uint8_t daway[CFI_DEEP_SETS]; /* deep set i's walks kept in its partner (at most 8) */
    struct cfi_memo *(*dset)[CFI_MEMO_WAYS]; /* CFI_DEEP_SETS sets; NULL: none deep yet */
    struct cfi_memo *dlast[CFI_DLAST]; /* the last walk found or kept in the deep sets
                                          from a first state of cfi_dlast_of's i, or
                                          NULL (cfi_memo_find_deep) */
    unsigned cap;                 /* steps each memo holds; 0 = not set up */
    int off;                      /* no memo on this thread (ended, or no memory) */
    int fresh;                    /* last is the walk just made (cfi_name may name it) */
    uint64_t replayed;            /* frames taken from the memo (HEAPSNAP_VERBOSE) */
    uint64_t walked;              /* frames stepped by their rules (the bench's figure) */
    uint64_t stacks;              /* walks asked for (cfi_again, cfi_walk_key) */
    /* ... stacks and replayed without the memos' own hits (cfi_memo_fold) */
    /* Walks to the next dlpi_subs check (cfi_check_unloads), signed: a
     * decrement to memory and the sign it leaves are the whole test.  Here,
     * not a thread-local of its own: each is one more load of its offset. */
    int countdown;
} cfi_memo = {.set = {[0 ... CFI_MEMO_SETS - 1] = CFI_MEMO_NONE_WAYS}};

static _Atomic uint64_t cfi_replayed_ended, cfi_walked_ended, cfi_stacks_ended; /* ended threads' */

/* Every CFI_CHECK_EVERY walks of this thread: has a module gone?  The
 * plain path's memo answers are counted by the hooks' tick (cfi_tick). */
static int cfi_check_unloads(void)
{
    if (HS_LIKELY(--cfi_memo.countdown >= 0))
        return 0;
    if (rcache_check() < 0) {
        cfi_memo.countdown = 0; /* busy: fall back now, check again next time */
        return -1;
    }
    cfi_memo.countdown = CFI_CHECK_EVERY;
    return 0;
}

/* A memo for walks of up to cap steps, from the arena; NULL when out of
 * memory (the walk then records nothing: it is exact all the same). */
static HS_NOINLINE struct cfi_memo *cfi_memo_new(unsigned cap)
{
    unwind_deep++; /* the arena's path, an mmap perhaps */
    struct cfi_memo *m = unwind_host->alloc(cfi_memo_size(cap));
    if (m) {
        m->tag = CFI_NO_TAG;
        m->max = CFI_MAX_NEVER;
    }
    return m;
}

/* Sets up this thread's memos for walks of up to cap steps: 0, or -1. */
static HS_NOINLINE int cfi_memo_setup(unsigned cap)
{
    if (cfi_memo.off)
        return -1;
#ifdef CFI_HAVE_AVX
    cfi_avx = CPU_FEATURE_ACTIVE(AVX); /* the kernel keeps the ymm registers too */
#endif
    cfi_memo.spare = cfi_memo_new(cap);
    if (!cfi_memo.spare) {
        cfi_memo.off = 1;
        return -1;
    }
    cfi_memo.cap = cap;
    return 0;
}

/* The path of memo m's first steps (cfimemo.h's deep sets), as
 * cfi_memo_again_deep finds it on the stack of a walk that repeats m. */
static uint64_t cfi_memo_path(const struct cfi_memo *m)
{
    unsigned k = m->n < CFI_DEEP_STEPS ? m->n : CFI_DEEP_STEPS;
    uint64_t h = cfi_path_start(m->st[0].key, m->st[0].rsp);
    for (unsigned i = 1; i <= k; i++)
        h = cfi_path_step(h, m->st[i].key);
    return h;
}

/* A full set's ways move down one (way 0 free, the oldest's pointer gone):
 * two fixed-size copies, which GCC inlines as a few vector moves where the
 * loop of seven it turned into a call to memmove, paid by every walk kept
 * in a deep set (kept100k keeps every one; figures: docs/performance.md,
 * "A deep set's ways without memmove"). */
static inline void cfi_ways_down(struct cfi_memo **w)
{
    struct cfi_memo *t[CFI_MEMO_WAYS - 1];
    memcpy(t, w, sizeof t);
    memcpy(w + 1, t, sizeof t);
}

/* m becomes the last walk (cfi_name may name it) and the most recent of
 * its set w, where it was way j (or replaces the oldest, j = ways - 1): the
 * j more recent ones move down one way. */
static void cfi_memo_front(struct cfi_memo **w, unsigned j, struct cfi_memo *m)
{
    if (j) { /* a hit at way 0 (the usual one) is already in place */
        for (; j > 0; j--) /* at most CFI_MEMO_WAYS - 1: no call to memmove */
            w[j] = w[j - 1];
        w[0] = m;
    }
    cfi_memo.last = m;
    cfi_memo.fresh = 1;
}

/* A memo's hits go to the thread's counts: it is about to be recorded
 * over, or given back.  (A hit adds one to its memo alone, where the
 * thread's two counts took a load and two adds to memory.) */
static void cfi_memo_fold(struct cfi_memo *m)
{
    cfi_memo.stacks += m->hits;
    cfi_memo.replayed += m->hits * m->n;
    m->hits = 0;
}

/* A memo that leaves the sets for good goes back to the arena. */
static void cfi_memo_drop(struct cfi_memo *m)
{
    cfi_memo_fold(m);
    unwind_host->free(m, cfi_memo_size(cfi_memo.cap));
}

/* Walk m (a deep set's) leaves deep set d (way), or enters it (way 1):
 * daway counts it where d is not its own set (its path's top bits). */
static inline void cfi_deep_moved(const struct cfi_memo *m, unsigned d, int way)
{
    unsigned home = m->path >> (32 - CFI_DEEP_SET_BITS);
    if (home != d)
        cfi_memo.daway[home] += (uint8_t)way;
}

/* m kept as the most recent of its deep set (its path noted); the set's
 * oldest spills into the partner set's first free way (cfimemo.h's deep
 * sets), or, with none free, is returned; &cfi_memo_none: no walk left
 * the deep sets. */
static struct cfi_memo *cfi_memo_push_deep(struct cfi_memo *m)
{
    uint64_t h = cfi_memo_path(m);
    unsigned d = cfi_deep_set_of(h);
    struct cfi_memo **w = cfi_memo.dset[d], **pw = cfi_memo.dset[d ^ CFI_DEEP_SPILL];
    struct cfi_memo *out = w[CFI_MEMO_WAYS - 1];
    m->path = (uint32_t)(h >> 32);
    cfi_ways_down(w);
    w[0] = m;
    if (out == &cfi_memo_none)
        return out;
    cfi_deep_moved(out, d, -1);
    if (pw[CFI_MEMO_WAYS - 1] == &cfi_memo_none) {
        unsigned j = 0;
        while (pw[j] != &cfi_memo_none) /* cfi_memo_deep_spilled may leave a hole */
            j++;
        pw[j] = out;
        cfi_deep_moved(out, d ^ CFI_DEEP_SPILL, 1);
        return &cfi_memo_none;
    }
    unsigned ol = cfi_dlast_of(out->st[0].key, out->st[0].rsp);
    if (cfi_memo.dlast[ol] == out) /* out leaves the deep sets: no longer anyone's last */
        cfi_memo.dlast[ol] = NULL;
    return out;
}

/* Set s turns deep (cfimemo.h): its walks, and those it spilled into its
 * partner, move to the deep sets, whose oldest go back where they push
 * them out.  0, or -1 (no memory for the deep sets: s stays as it is). */
static HS_NOINLINE int cfi_memo_deepen(unsigned s)
{
    if (!cfi_memo.dset) {
        unwind_deep++;
        cfi_memo.dset = unwind_host->alloc(CFI_DEEP_SETS * sizeof *cfi_memo.dset);
        if (!cfi_memo.dset)
            return -1;
        for (unsigned i = 0; i < CFI_DEEP_SETS; i++)
            for (unsigned j = 0; j < CFI_MEMO_WAYS; j++)
                cfi_memo.dset[i][j] = &cfi_memo_none;
    }
    struct cfi_memo **w = cfi_memo.set[s], **pw = cfi_memo.set[s ^ CFI_MEMO_SPILL];
    if (cfi_memo.spilled >> s & 1) {
        unsigned k = 0;
        for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) { /* s's out, the partner's kept in order */
            struct cfi_memo *m = pw[j];
            pw[j] = &cfi_memo_none;
            if (m != &cfi_memo_none && cfi_memo_set_of(m->st[0].key, m->st[0].rsp) == s) {
                struct cfi_memo *out = cfi_memo_push_deep(m);
                if (out != &cfi_memo_none)
                    cfi_memo_drop(out);
            } else if (m != &cfi_memo_none)
                pw[k++] = m;
        }
        cfi_memo.spilled &= ~(1u << s);
    }
    for (unsigned j = CFI_MEMO_WAYS; j-- > 0;) { /* oldest first: the most recent ends first */
        struct cfi_memo *m = w[j];
        w[j] = &cfi_memo_none;
        if (m != &cfi_memo_none) {
            struct cfi_memo *out = cfi_memo_push_deep(m);
            if (out != &cfi_memo_none)
                cfi_memo_drop(out); /* cfi_memo.last too: the keep resets it */
        }
    }
    cfi_memo.deep |= 1u << s;
    return 0;
}

/* cfi_memo_keep's walk nw for a deep set: kept there, the set's oldest
 * the next spare. */
static HS_NOINLINE void cfi_memo_keep_deep(struct cfi_memo *nw)
{
    struct cfi_memo *out = cfi_memo_push_deep(nw);
    cfi_memo.dlast[cfi_dlast_of(nw->st[0].key, nw->st[0].rsp)] = nw;
    cfi_memo.last = nw;
    cfi_memo.fresh = 1;
    if (out == &cfi_memo_none) {
        cfi_memo.spare = cfi_memo_new(cfi_memo.cap);
        return;
    }
    cfi_memo_fold(out);
    cfi_memo.spare = out;
}

/* The walk just recorded into the spare is kept; its set's oldest walk (if
 * any) spills into the partner set's first free way, or, with none free
 * (or no memory for a new spare), is the next spare.  A set that would
 * lose its oldest walk, with no spill left, for a walk with that walk's
 * first state turns deep (cfimemo.h). */
static void cfi_memo_keep(struct cfi_memo *nw)
{
    unsigned s = cfi_memo_set_of(nw->st[0].key, nw->st[0].rsp);
    if (HS_UNLIKELY(cfi_memo.deep >> s & 1)) {
        cfi_memo_keep_deep(nw);
        return;
    }
    struct cfi_memo **w = cfi_memo.set[s], **pw = cfi_memo.set[s ^ CFI_MEMO_SPILL];
    struct cfi_memo *out = w[CFI_MEMO_WAYS - 1];
    if (HS_UNLIKELY(out->st[0].key == nw->st[0].key && out->st[0].rsp == nw->st[0].rsp) &&
        out != &cfi_memo_none && pw[CFI_MEMO_WAYS - 1] != &cfi_memo_none &&
        cfi_memo_deepen(s) == 0) { /* out would be lost: no spill left */
        cfi_memo_keep_deep(nw);
        return;
    }
    cfi_memo_front(w, CFI_MEMO_WAYS - 1, nw);
    if (out == &cfi_memo_none) {
        cfi_memo.spare = cfi_memo_new(cfi_memo.cap);
        return;
    }
    if (pw[CFI_MEMO_WAYS - 1] == &cfi_memo_none && (cfi_memo.spare = cfi_memo_new(cfi_memo.cap))) {
        unsigned j = 0;
        while (pw[j] != &cfi_memo_none) /* the partner's ways fill from the front */
            j++;
        pw[j] = out;
        cfi_memo.spilled |= 1u << s;
        return;
    }
    cfi_memo_fold(out);
    cfi_memo.spare = out;
}

/* The thread is ending: give the memos back; no memo from now on. */
void cfi_thread_end(void)
{
    if (cfi_memo.dset) {
        for (unsigned i = 0; i < CFI_DEEP_SETS; i++)
            for (unsigned j = 0; j < CFI_MEMO_WAYS; j++)
                if (cfi_memo.dset[i][j] != &cfi_memo_none)
                    cfi_memo_drop(cfi_memo.dset[i][j]);
        unwind_host->free(cfi_memo.dset, CFI_DEEP_SETS * sizeof *cfi_memo.dset);
        cfi_memo.dset = NULL;
    }
    cfi_memo.deep = cfi_memo.dmiss = cfi_memo.dskip = 0;
    for (unsigned i = 0; i < CFI_DLAST; i++)
        cfi_memo.dlast[i] = NULL;
    for (unsigned i = 0; i < CFI_DEEP_SETS; i++)
        cfi_memo.daway[i] = 0;
    for (unsigned i = 0; i < CFI_MEMO_SETS; i++)
        for (unsigned j = 0; j < CFI_MEMO_WAYS; j++)
            if (cfi_memo.set[i][j] != &cfi_memo_none)
                cfi_memo_fold(cfi_memo.set[i][j]);
    atomic_fetch_add_explicit(&cfi_replayed_ended, cfi_memo.replayed, memory_order_relaxed);
    atomic_fetch_add_explicit(&cfi_walked_ended, cfi_memo.walked, memory_order_relaxed);
    atomic_fetch_add_explicit(&cfi_stacks_ended, cfi_memo.stacks, memory_order_relaxed);
    cfi_memo.replayed = cfi_memo.walked = cfi_memo.stacks = 0;
    size_t one = cfi_memo_size(cfi_memo.cap);
    for (unsigned i = 0; i < CFI_MEMO_SETS; i++)
        for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) {
            if (cfi_memo.set[i][j] != &cfi_memo_none)
                unwind_host->free(cfi_memo.set[i][j], one);
            cfi_memo.set[i][j] = &cfi_memo_none;
        }
    cfi_memo.spilled = 0;
    if (cfi_memo.spare)
        unwind_host->free(cfi_memo.spare, one);
    cfi_memo.spare = cfi_memo.last = NULL;
    cfi_memo.cap = 0;
    cfi_memo.off = 1;
}

/* ---------------- the walk ---------------- */

/* One ordinary step from *c: 1 = *c is now the caller's state (its key
 * the frame to record) and *how says how the step went, 0 = the walk ends
 * here (the outermost frame's rule), 2 = it ends on a return address below
 * CFI_MIN_RA, 3 = it ends where libunwind's frame-chain guess ends it (no
 * FDE for the frame and rbp 0: CFI_W_NOFDE), -1 = fall back.  Per frame:
 * one probe of the cache (key, then one mask checks tag and kind
 * together: anything but a first-probe STEP goes to rcache_lookup), then
 * the return address's slot at = CFA - 8, which
 * must be 8-aligned in [rsp, top - 8] (so the CFA grows by 8 at least and
 * every read is inside the stack); a saved rbp is at at + 8 - rbp_k, an
 * aligned address below at (classify keeps rbp_k a multiple of 8), checked
 * against lo only. */
static inline int cfi_step(struct cfi_state *c, uintptr_t *how, uintptr_t lo, uintptr_t top8)
{
    uintptr_t key = c->key;
    struct rcache_slot *s = &rcache.slot[rcache_slot_of(key)];
    uint64_t w = CFI_W(CFI_EMPTY);
    if (HS_LIKELY(atomic_load_explicit(&s->key, memory_order_acquire) == key))
        w = atomic_load_explicit(&s->rule, memory_order_relaxed);
    if (HS_UNLIKELY(((w ^ (uint64_t)key << CFI_TAG_SHIFT) & CFI_CHECK_MASK) != CFI_W(CFI_STEP))) {
        w = rcache_lookup(key);
        if (CFI_KIND(w) != CFI_STEP)
            return CFI_KIND(w) == CFI_STOP ? 0 : (w & CFI_W_NOFDE) && c->rbp == 0 ? 3 : -1;
    }
    uintptr_t cfa_rbp = (w & CFI_W_CFA_RBP) != 0;
    uintptr_t at = (cfa_rbp ? c->rbp : c->rsp) + (uintptr_t)(w >> CFI_OFF_SHIFT) - 8;
    if (HS_UNLIKELY(at < c->rsp || at > top8 || (at & 7)))
        return -1;
    uintptr_t ra = *(const uintptr_t *)at, rbp_at = 0;
    if (w & CFI_W_RBP_SAVED) {
        uintptr_t k = (uintptr_t)(w >> CFI_K_SHIFT & (CFI_MAX_RBP_K - 1));
        if (HS_UNLIKELY(at + 8 - k < lo))
            return -1;
        rbp_at = at + 8 - k;
    }
    if (HS_UNLIKELY(ra < CFI_MIN_RA))
        return 2; /* libunwind's end: not recorded */
    *how = rbp_at | cfa_rbp;
    c->key = ra; /* a caller: the rule of its call instruction, ra - 1 */
    c->rsp = at + 8;
    if (rbp_at)
        c->rbp = *(const uintptr_t *)rbp_at;
    return 1;
}

/* Would the ordinary step from memo state s, with this walk's rbp (*rbp)
 * and lo, read what it read then?  Then 1, and *rbp is the caller's rbp:
 * the return address word still holds s[1].key, an rbp-based CFA still
 * has the rbp it had, the saved-rbp slot is still above lo (and is read). */
static inline int cfi_still(const struct cfi_state *s, uintptr_t *rbp, uintptr_t lo)
{
    uintptr_t how = s->how, rbp_at = how & ~CFI_HOW_CFA_RBP;
    if (*(const uintptr_t *)(s[1].rsp - 8) != s[1].key)
        return 0;
    if (HS_UNLIKELY(how)) {
        if (((how & CFI_HOW_CFA_RBP) && *rbp != s->rbp) || (rbp_at && rbp_at < lo))
            return 0;
        if (rbp_at)
            *rbp = *(const uintptr_t *)rbp_at;
    }
    return 1;
}

/* The step from state *c that memo state s took (s has a successor: its
 * step went by a STEP rule), where *c is at s (the same rsp and key, so
 * the same rule; the memo is of these modules and this stack's top): the
 * return address's slot is the one s's step read, s[1].rsp - 8, checked
 * then against [rsp, top8] and its alignment; a CFA based on rbp needs
 * this walk's rbp to be s's.  Unlike a replay it does not ask that the
 * slot still hold s[1].key: whatever it holds now is the caller, as the
 * rule would find it, with no probe of the rule cache.  1 (*c the
 * caller's state, *how as cfi_step sets it), 0: not here (rbp differs:
 * the ordinary step), or cfi_step's 2 and -1 for what it would end on. */
static inline int cfi_step_as(const struct cfi_state *s, struct cfi_state *c, uintptr_t *how,
                              uintptr_t lo)
{
    uintptr_t h = s->how, rbp_at = h & ~CFI_HOW_CFA_RBP;
    if ((h & CFI_HOW_CFA_RBP) && c->rbp != s->rbp)
        return 0;
    if (HS_UNLIKELY(rbp_at && rbp_at < lo))
        return -1; /* cfi_step's own test, on the same slot */
    uintptr_t ra = *(const uintptr_t *)(s[1].rsp - 8);
    if (HS_UNLIKELY(ra < CFI_MIN_RA))
        return 2;
    *how = h;
    c->key = ra;
    c->rsp = s[1].rsp;
    if (rbp_at)
        c->rbp = *(const uintptr_t *)rbp_at;
    return 1;
}

/* Replays the memo's steps from its state s, where the walk is at *c (same
 * rsp and key), while they would read the same, up to the state lim:
 * appends them to the record rec and to o, and leaves *c at the state the
 * ordinary walk goes on from.  Returns that state of the memo's.  The
 * compare runs first and
 * the states and frames it passed are copied after it, as the memo has
 * them: a copied state's rbp is the memo's, which is this walk's wherever
 * it is read (a state whose CFA is rbp-based: cfi_still compared it; no
 * other state's rbp is read, by cfi_still, cfi_memo_checks or a replay's
 * end, which takes the running rbp). */
static inline const struct cfi_state *cfi_replay(const struct cfi_state *s,
                                                 const struct cfi_state *lim,
                                                 struct cfi_state *c, struct cfi_state **rec,
                                                 uintptr_t lo, uintptr_t **out)
{
    uintptr_t rbp = c->rbp;
    const struct cfi_state *from = s;
    while (s < lim && cfi_still(s, &rbp, lo))
        s++;
    struct cfi_state *r = *rec;
    uintptr_t *o = *out;
    for (const struct cfi_state *j = from; j < s; j++) {
        *r++ = *j;
        *o++ = j[1].key;
    }
    *c = (struct cfi_state){s->rsp, s->key, rbp, 0};
    *rec = r;
    *out = o;
    return s;
}

/* The walk, with the memo old (NULL: none) and recording into nw (NULL:
 * none).  Where the walk reaches one of old's states (the same rsp and
 * key), old's steps are replayed while they read the same words
 * (cfi_replay); where a replay stops on a return address that changed
 * (kept100k's other call site at a level, a parser's other caller), the
 * step from that state is still old's (cfi_step_as: no rule lookup), and
 * the walk meets old again further out where the stacks join.  Other
 * frames step by rule.  A walk that falls back leaves the memo as it
 * was, and so does one that ends on a frame without an FDE: its end
 * depends on rbp's value, which a memo's checks do not compare (a
 * constructor's stacks, before main: rare). */
static int cfi_steps(struct cfi_state c, uintptr_t top8, uintptr_t *ip, uintptr_t *end,
                     const struct cfi_memo *old, struct cfi_memo *nw, uint64_t *walked)
{
    const uintptr_t lo = c.rsp;
    uintptr_t *out = ip;
    struct cfi_state *rec = nw ? nw->st : NULL;
    /* old's states that have a step after them, [os, oe): the walk meets
     * old next at os or further out.  Pointers, not indexes into old->st:
     * the search runs after every step by rule, and indexes cost reloads
     * and address arithmetic each time (`instrcount.py --only kept100k`). */
    const struct cfi_state *os = old ? old->st : cfi_memo_none.st;
    const struct cfi_state *const oe = old ? old->st + old->n : os;
    uint64_t replayed = 0; /* frames whose return address old had too */
    int r = 1;
    while (out < end) {
        uintptr_t how;
        while (os < oe && os->rsp < c.rsp)
            os++;
        if (os < oe && os->rsp == c.rsp && os->key == c.key) {
            const struct cfi_state *lim = oe - os > end - out ? os + (end - out) : oe;
            uintptr_t *from = out;
            os = cfi_replay(os, lim, &c, &rec, lo, &out);
            replayed += (uint64_t)(out - from);
            if (os == lim)
                continue; /* at the cap, or past old's last step: by rule */
            struct cfi_state at = c;
            if ((r = cfi_step_as(os, &c, &how, lo)) != 0) {
                if (r != 1)
                    break;
                *out++ = c.key;
                if (rec)
                    *rec++ = (struct cfi_state){at.rsp, at.key, at.rbp, how};
                os++;
                continue;
            }
        }
        uintptr_t rsp = c.rsp, key = c.key, rbp = c.rbp;
        r = cfi_step(&c, &how, lo, top8);
        if (r != 1)
            break;
        *out++ = c.key;
        if (rec)
            *rec++ = (struct cfi_state){rsp, key, rbp, how};
    }
    cfi_memo.replayed += replayed;
    *walked += (uint64_t)(out - ip) - replayed + (r != 1); /* and the step that ended it */
    if (r < 0)
        return -1;
    if (nw && r != 3) {
        *rec = (struct cfi_state){c.rsp, c.key, c.rbp, 0};
        nw->n = (unsigned)(rec - nw->st);
        nw->end = out == end ? CFI_END_CAP : r == 0 ? CFI_END_STOP : CFI_END_LOW_RA;
        nw->walk_max = nw->end == CFI_END_LOW_RA ? CFI_MAX_NEVER : (unsigned)(end - ip);
        nw->max = CFI_MAX_NEVER; /* until named */
        nw->tag = CFI_NO_TAG;
        nw->top8 = top8;
        nw->subs = atomic_load_explicit(&rcache.subs, memory_order_relaxed);
        nw->nchk = CFI_CHECKS_LATER;
        nw->cmp = CFI_CMP_LIST;
        cfi_memo_keep(nw);
    }
    return (int)(out - ip);
}

void cfi_counts(uint64_t *stacks, uint64_t *walked, uint64_t *replayed)
{
    uint64_t hits = 0, frames = 0; /* the calling thread's memos' (cfi_memo_fold) */
    for (unsigned i = 0; i < CFI_MEMO_SETS; i++)
        for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) {
            const struct cfi_memo *m = cfi_memo.set[i][j];
            hits += m->hits; /* cfi_memo_none's stay 0 */
            frames += m->hits * m->n;
        }
    for (unsigned i = 0; cfi_memo.dset && i < CFI_DEEP_SETS; i++)
        for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) {
            const struct cfi_memo *m = cfi_memo.dset[i][j];
            hits += m->hits;
            frames += m->hits * m->n;
        }
    *stacks = atomic_load(&cfi_stacks_ended) + cfi_memo.stacks + hits;
    *walked = atomic_load(&cfi_walked_ended) + cfi_memo.walked;
    *replayed = atomic_load(&cfi_replayed_ended) + cfi_memo.replayed + frames;
}

/* HEAPSNAP_UNWIND_CHECK: memo m's frames (an exact repeat) against the
 * walk from scratch (uchk_compare). */
static HS_NOINLINE void cfi_check_memo(const struct cfi_memo *m, uintptr_t key, uintptr_t rsp,
                                       uintptr_t rbp, uintptr_t top, unsigned max)
{
    uintptr_t f[m->n + 1];
    for (unsigned i = 0; i < m->n; i++)
        f[i] = m->st[i + 1].key;
    uchk_compare(key, rsp, rbp, top, max, f, (int)m->n);
}


/* Memo m's list made if it was not yet: 1 if it did not fit (compare step
 * by step), else 0. */
static HS_NOINLINE int cfi_memo_list(struct cfi_memo *m)
{
    if (m->nchk == CFI_CHECKS_LATER) {
        cfi_memo_checks(m, cfi_memo.cap);
        if (unwind_host->deep) /* its frames lie below a repeat's usual depth */
            unwind_host->deep();
    }
    return m->nchk == CFI_CHECKS_NONE;
}

/* Would a walk from (key, rsp, rbp) give exactly memo m's frames again?
 * m was made for this stack (top8) and these modules, with the same cap,
 * and named; its state 0 is (rsp, key); every word its steps read still
 * holds what it held (rbp too, where a CFA was based on it), and the walk
 * ended at its cap or on the outermost frame's rule, which read nothing.
 * Reads the stack only (m's list is made once m is repeated: cfi_memo_list). */
static __attribute__((always_inline)) inline int cfi_same_again(struct cfi_memo *m, uintptr_t key, uintptr_t rsp, uintptr_t rbp,
                          uintptr_t top8, unsigned max, unsigned long long subs)
{
    /* max: named (else CFI_MAX_NEVER), and not CFI_END_LOW_RA */
    if (m->st[0].rsp != rsp || m->st[0].key != key || m->max != max || m->top8 != top8 ||
        m->subs != subs)
        return 0;
    uintptr_t d0 = (rbp ^ m->rbp0) & m->rbp_mask, d1 = 0; /* without a branch */
    const struct cfi_pair2 *p = m->pair;
    if (m->cmp != CFI_CMP_INLINE) { /* pairs of pairs (the vector compare), a flat list */
        if (HS_UNLIKELY(m->cmp == CFI_CMP_LIST)) { /* no list yet, or none fits */
            /* Step by step, up to the first difference; the list is made
             * once m is repeated: a deep set's walks of one path (the same
             * first steps, other callers further out) are mostly passed
             * over, and a list made for each cost as much as a walk. */
            for (unsigned i = 0; i < m->n; i++)
                if (!cfi_still(&m->st[i], &rbp, rsp))
                    return 0;
            cfi_memo_list(m);
            return 1;
        }
        return !d0 && (m->cmp == CFI_CMP_FLAT ? cfi_same_flat(m)
                       : cfi_avx              ? cfi_same_long_avx(m)
                                              : cfi_same_long(m));
    }
    /* Every word read is on this stack, in [rsp, top8]. */
    if (p < m->pair_end) { /* one pair of pairs (a shallow stack's): scalar */
        d0 |= (*(const uintptr_t *)p->at[0] ^ p->val[0]) | (*(const uintptr_t *)p->at[1] ^ p->val[2]);
        d1 = (*(const uintptr_t *)(p->at[0] + 8) ^ p->val[1]) |
             (*(const uintptr_t *)(p->at[1] + 8) ^ p->val[3]);
    }
    return cfi_checks_diff((const struct cfi_check *)(const void *)m->pair_end, m->chk_end, d0,
                           d1) == 0;
}

/* cfi_memo_again_in's search of set s's partner, where s's walks spill
 * (cfi_memo_keep): a walk found trades places with s's oldest. */
static HS_NOINLINE struct cfi_memo *
cfi_memo_again_spilled(unsigned s, uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top8,
                       unsigned max, unsigned long long subs)
{
    struct cfi_memo **w = cfi_memo.set[s], **pw = cfi_memo.set[s ^ CFI_MEMO_SPILL];
    for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) {
        struct cfi_memo *m = pw[j];
        if (cfi_same_again(m, key, rsp, rbp, top8, max, subs)) {
            pw[j] = w[CFI_MEMO_WAYS - 1]; /* s is full: it spilled */
            cfi_memo_front(w, CFI_MEMO_WAYS - 1, m);
            return m;
        }
    }
    return NULL;
}

/* The path a walk from (key, m's first rsp) takes if its first frames
 * have memo m's sizes: the return addresses in m's own slots on this
 * stack, read with no rule (m's first rsp and top are this walk's, so
 * every slot is in [rsp, top8]).  Frames of the same code reached from
 * other call sites (kept's 64 stacks, a parser's helper called from many
 * places) have; where they have not, the guess picks a set the walk is not
 * in, and costs a set's search more. */
static inline uint64_t cfi_memo_path_guess(const struct cfi_memo *m, uintptr_t key)
{
    uint64_t h = cfi_path_start(key, m->st[0].rsp);
    for (unsigned i = 1; i <= CFI_DEEP_STEPS; i++)
        h = cfi_path_step(h, *(const uintptr_t *)(m->st[i].rsp - 8));
    return h;
}

/* cfi_memo_deep_in's search of the partner of path's deep set d, where
 * d's walks spill (cfi_memo_push_deep): a walk found trades places with
 * d's oldest. */
static HS_NOINLINE struct cfi_memo *
cfi_memo_deep_spilled(uint32_t path, uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top8,
                      unsigned max, unsigned long long subs)
{
    unsigned d = path >> (32 - CFI_DEEP_SET_BITS);
    struct cfi_memo **w = cfi_memo.dset[d], **pw = cfi_memo.dset[d ^ CFI_DEEP_SPILL];
    for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) {
        struct cfi_memo *m = pw[j];
        if (m->path == path && cfi_same_again(m, key, rsp, rbp, top8, max, subs)) {
            struct cfi_memo *o = w[CFI_MEMO_WAYS - 1]; /* d is full: it spilled */
            cfi_deep_moved(m, d ^ CFI_DEEP_SPILL, -1);
            if (o != &cfi_memo_none) {
                cfi_deep_moved(o, d, -1);
                cfi_deep_moved(o, d ^ CFI_DEEP_SPILL, 1);
            }
            pw[j] = o;
            cfi_memo_front(w, CFI_MEMO_WAYS - 1, m);
            return m;
        }
    }
    return NULL;
}

/* The walk of path h in its deep set (or that set's partner, where it
 * spilled) that this walk repeats exactly (cfi_same_again), made the last
 * of its first state's place l (cfi_dlast_of) and, in a full set, the
 * set's most recent; or NULL.  Whatever h is, a walk found is compared
 * word for word.  A set with a free way loses no walk to the next one
 * kept, so its order is left as it is: the walks that take turns through
 * it (kept's 64) were found past the first way and moved to the front at
 * every hit (scripts/bench/instrcount.py --only kept64;
 * cfi_memo_deep_hit_keeps_order). */
static inline struct cfi_memo *cfi_memo_deep_in(unsigned l, uint64_t h, uintptr_t key,
                                                uintptr_t rsp, uintptr_t rbp, uintptr_t top8,
                                                unsigned max, unsigned long long subs)
{
    struct cfi_memo **w = cfi_memo.dset[cfi_deep_set_of(h)], *m;
    uint32_t path = (uint32_t)(h >> 32); /* its top bits are the set's number */
    for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) {
        m = w[j];
        if (m->path == path && cfi_same_again(m, key, rsp, rbp, top8, max, subs)) {
            if (w[CFI_MEMO_WAYS - 1] != &cfi_memo_none) { /* full: the order says who leaves */
                cfi_memo_front(w, j, m);
            } else {
                cfi_memo.last = m;
                cfi_memo.fresh = 1;
            }
            cfi_memo.dlast[l] = m;
            return m;
        }
    }
    if (HS_UNLIKELY(cfi_memo.daway[path >> (32 - CFI_DEEP_SET_BITS)] != 0) &&
        (m = cfi_memo_deep_spilled(path, key, rsp, rbp, top8, max, subs))) {
        cfi_memo.dlast[l] = m;
        return m;
    }
    return NULL;
}

/* unwindinner.h (tests): the way of this thread's deep sets holding the
 * walk named tag, or -1; *full: its set has no free way. */
int cfi_memo_deep_way(uint32_t tag, int *full)
{
    for (unsigned i = 0; cfi_memo.dset && i < CFI_DEEP_SETS; i++)
        for (unsigned j = 0; j < CFI_MEMO_WAYS; j++)
            if (cfi_memo.dset[i][j] != &cfi_memo_none && cfi_memo.dset[i][j]->tag == tag) {
                *full = cfi_memo.dset[i][CFI_MEMO_WAYS - 1] != &cfi_memo_none;
                return (int)j;
            }
    return -1;
}

/* cfi_memo_again_in's search where its set is deep (l: its first state's
 * place in dlast, cfi_dlast_of): the path of the walk's first steps
 * (cfi_memo_path's, stepped as cfi_steps steps: from lo = rsp, at most max
 * frames) picks the deep set; a memo of another path is passed over on
 * its path's high half alone.  Before any step, the path guessed from the
 * first state's last walk (cfi_memo_path_guess): kept's 64 stacks find
 * theirs with six loads where six rule lookups cost ~150
 * instructions (`instrcount.py --only kept64`). */
static inline __attribute__((always_inline)) struct cfi_memo *
cfi_memo_find_deep(unsigned l, uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top8,
                   unsigned max, unsigned long long subs)
{
    /* First the first state's last walk, with no step: a loop that
     * allocates again from where it just did finds its walk as cheaply as
     * in a set's first way. */
    struct cfi_memo *m = cfi_memo.dlast[l];
    if (m && m->st[0].rsp == rsp && m->st[0].key == key && m->top8 == top8 &&
        /* its first two return addresses first (on this stack: m's first
         * state and top are this walk's), a filter before the compare */
        (m->n < 2 || (*(const uintptr_t *)(m->st[1].rsp - 8) == m->st[1].key &&
                      *(const uintptr_t *)(m->st[2].rsp - 8) == m->st[2].key)) &&
        cfi_same_again(m, key, rsp, rbp, top8, max, subs)) {
        cfi_memo.last = m;
        cfi_memo.fresh = 1;
        return m;
    }
    uint64_t guess = 0;
    if (m && m->st[0].rsp == rsp && m->top8 == top8 && m->n >= CFI_DEEP_STEPS &&
        max >= CFI_DEEP_STEPS) {
        guess = cfi_memo_path_guess(m, key);
        if ((m = cfi_memo_deep_in(l, guess, key, rsp, rbp, top8, max, subs)))
            return m;
    }
    struct cfi_state c = {.rsp = rsp, .key = key, .rbp = rbp};
    uint64_t h = cfi_path_start(key, rsp);
    uintptr_t how;
    for (unsigned i = 0; i < max && i < CFI_DEEP_STEPS && cfi_step(&c, &how, rsp, top8) == 1; i++)
        h = cfi_path_step(h, c.key);
    return h == guess ? NULL : cfi_memo_deep_in(l, h, key, rsp, rbp, top8, max, subs);
}

/* cfi_memo_find_deep, unless the deep sets have gone cold (cfimemo.h):
 * then only one search in CFI_DEEP_PROBE is made, and a walk it finds
 * warms them again.  A search skipped is a miss, which is always exact. */
static HS_NOINLINE struct cfi_memo *
cfi_memo_again_deep(unsigned l, uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top8,
                    unsigned max, unsigned long long subs)
{
    if (HS_UNLIKELY(cfi_memo.dmiss >= CFI_DEEP_COLD) &&
        (++cfi_memo.dskip & (CFI_DEEP_PROBE - 1)) != 0)
        return NULL;
    struct cfi_memo *m = cfi_memo_find_deep(l, key, rsp, rbp, top8, max, subs);
    if (m)
        cfi_memo.dmiss = 0;
    else if (cfi_memo.dmiss < CFI_DEEP_COLD)
        cfi_memo.dmiss++;
    return m;
}

/* The walk of this thread that a walk from (key, rsp, rbp) would repeat
 * exactly, made the last and the most recent of its set; NULL if none. */
static inline __attribute__((always_inline)) struct cfi_memo *
cfi_memo_again_in(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top8, unsigned max,
                  unsigned long long subs)
{
    unsigned s = cfi_memo_set_of(key, rsp);
    if (HS_UNLIKELY(cfi_memo.deep >> s & 1))
        return cfi_memo_again_deep(cfi_dlast_of(key, rsp), key, rsp, rbp, top8, max, subs);
    struct cfi_memo **w = cfi_memo.set[s];
    for (unsigned j = 0; j < CFI_MEMO_WAYS; j++) {
        struct cfi_memo *m = w[j];
        if (cfi_same_again(m, key, rsp, rbp, top8, max, subs)) {
            cfi_memo_front(w, j, m);
            return m;
        }
    }
    if (HS_UNLIKELY(cfi_memo.spilled >> s & 1))
        return cfi_memo_again_spilled(s, key, rsp, rbp, top8, max, subs);
    return NULL;
}

static HS_NOINLINE struct cfi_memo *cfi_memo_again(uintptr_t key, uintptr_t rsp, uintptr_t rbp,
                                                   uintptr_t top8, unsigned max,
                                                   unsigned long long subs)
{
    return cfi_memo_again_in(key, rsp, rbp, top8, max, subs);
}

/* An exact repeat m found (NULL: none): counted, and checked under
 * HEAPSNAP_UNWIND_CHECK. */
static inline __attribute__((always_inline)) struct cfi_memo *
cfi_memo_found(struct cfi_memo *m, uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top,
               unsigned max, int plain)
{
    if (m) {
        m->hits++; /* a stack asked, m->n frames replayed (cfi_memo_fold) */
        if (!plain && HS_UNLIKELY(uchk_on))
            cfi_check_memo(m, key, rsp, rbp, top, max);
    }
    return m;
}

/* The named walk a walk from (key, rsp, rbp) would repeat exactly, or
 * NULL; the memos set up for walks of max steps first. */
static inline struct cfi_memo *cfi_again_key(uintptr_t key, uintptr_t rsp, uintptr_t rbp,
                                             uintptr_t top, unsigned max)
{
    if (HS_UNLIKELY(cfi_memo.cap < max) && (cfi_memo.cap || cfi_memo_setup(max) != 0))
        return NULL;
    return cfi_memo_found(cfi_memo_again(key, rsp, rbp, top - 8, max,
                                         atomic_load_explicit(&rcache.subs, memory_order_relaxed)),
                          key, rsp, rbp, top, max, 0);
}

/* The walk from the state (key, rsp, rbp): key is an IP + 1.  With tag
 * (may be NULL): when the walk would repeat one of the thread's named
 * walks exactly, *tag gets its name and ip[] is left alone; else *tag is
 * CFI_NO_TAG. */
static int cfi_walk_key(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
                        unsigned max, uint32_t *tag)
{
    if (tag)
        *tag = CFI_NO_TAG;
    cfi_memo.fresh = 0;
    if (!rcache.slot || top < rsp + 8 || cfi_check_unloads() < 0) {
        cfi_memo.stacks += tag != NULL;
        return -1;
    }
    struct cfi_memo *old = NULL, *nw = NULL;
    if (HS_LIKELY(cfi_memo.cap >= max) ||
        (!cfi_memo.cap && cfi_memo_setup(max) == 0)) {
        unsigned long long subs = atomic_load_explicit(&rcache.subs, memory_order_relaxed);
        struct cfi_memo *m;
        if (tag && (m = cfi_again_key(key, rsp, rbp, top, max))) {
            *tag = m->tag; /* counted by its memo's hits */
            return (int)m->n;
        }
        old = cfi_memo.last;
        nw = cfi_memo.spare;
        /* No spare (out of memory): no replay either, cfi_steps records. */
        if (old && (!nw || old->top8 != top - 8 || old->subs != subs))
            old = NULL;
    }
    cfi_memo.stacks += tag != NULL;
    struct cfi_state c = {.rsp = rsp, .key = key, .rbp = rbp};
    int n = cfi_steps(c, top - 8, ip, ip + max, old, nw, &cfi_memo.walked);
    if (HS_UNLIKELY(uchk_on))
        uchk_compare(key, rsp, rbp, top, max, ip, n);
    return n;
}

/* cfi_walk_caller's exact-repeat answer alone, without walking: the name
 * of the named walk it would repeat, or CFI_NO_TAG (then walk). */
static inline __attribute__((always_inline)) uint32_t
cfi_again_in(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top, unsigned max, int plain)
{
    if (!plain && (!rcache.slot || cfi_check_unloads() < 0)) { /* cfa <= top - 8: the caller's */
        cfi_memo.stacks++;
        cfi_memo.fresh = 0;
        return CFI_NO_TAG;
    }
    /* Not cfi_again_key's first test, the memos set up for walks of max:
     * no memo has m->max == max unless they are (a walk of max frames
     * records one only into a memo set up for that many), and with none
     * set up the sets are empty. */
    unsigned long long subs = atomic_load_explicit(&rcache.subs, memory_order_relaxed);
    struct cfi_memo *m = cfi_memo_found(
        plain ? cfi_memo_again_in(ra, cfa, rbp, top - 8, max, subs)
              : cfi_memo_again(ra, cfa, rbp, top - 8, max, subs),
        ra, cfa, rbp, top, max, plain);
    if (!m) {
        cfi_memo.stacks++; /* a hit counts in its memo (cfi_memo_found) */
        cfi_memo.fresh = 0; /* a hit's cfi_memo_front set it */
        return CFI_NO_TAG;
    }
    return m->tag;
}

void cfi_tick(unsigned n)
{
    if (HS_LIKELY(cfi_memo.cap)) { /* memos set up: the rule cache is too */
        cfi_memo.countdown -= (int)n - 1;
        (void)cfi_check_unloads(); /* busy: the next walk or tick tries again */
    }
}

uint32_t cfi_again(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top, unsigned max)
{
    return cfi_again_in(ra, cfa, rbp, top, max, 0);
}

__attribute__((always_inline)) inline uint32_t cfi_again_plain(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top, unsigned max)
{
    return cfi_again_in(ra, cfa, rbp, top, max, 1);
}

/* Names the result of this thread's last walk, if it was one of ours. */
void cfi_name(uint32_t name)
{
    if (cfi_memo.fresh) {
        struct cfi_memo *m = cfi_memo.last;
        m->tag = name;
        m->max = name == CFI_NO_TAG ? CFI_MAX_NEVER : m->walk_max; /* cfi_same_again's test */
    }
}

/* The frames of the walk cfi_again just answered name for: its states'
 * keys are the return addresses, the first state's the caller's own (each
 * step's record is the state before it, its key the frame it gave:
 * cfi_steps, replayed or stepped alike). */
int cfi_again_frames(uint32_t name, uintptr_t *ip, unsigned room)
{
    const struct cfi_memo *m = cfi_memo.last;
    if (!m || m->tag != name || name == CFI_NO_TAG || m->n + 1 > room)
        return -1;
    for (unsigned i = 0; i <= m->n; i++)
        ip[i] = m->st[i].key;
    return (int)m->n + 1;
}

/* cfi_walk_to's loop, one copy recording what it reads (rec) and one not:
 * the window's walks that keep no record run the plain steps alone. */
static inline __attribute__((always_inline)) int
cfi_walk_to_in(struct cfi_state c, uintptr_t top8, uintptr_t bound, uintptr_t *ip, unsigned max,
               uintptr_t *at, uintptr_t *rd, uintptr_t *rv, unsigned *nrd, int *rbp_read,
               const int rec)
{
    const uintptr_t lo = c.rsp;
    unsigned n = 0, r = 0, room = rec ? *nrd : 0;
    int mine = 1, used = 0; /* rbp still the walk's first; that one used */
    for (;;) {
        uintptr_t how;
        if (cfi_step(&c, &how, lo, top8) != 1)
            return -1;
        cfi_memo.walked++;
        if (rec) {
            if (HS_UNLIKELY(mine)) {
                used |= (how & CFI_HOW_CFA_RBP) != 0;
                mine = !(how & ~CFI_HOW_CFA_RBP); /* a saved rbp read: memory's from here */
            }
            /* more words than room: no record (r + 2 wraps past UINT32_MAX,
             * so it stays); else the words the step read, its return
             * address and a saved rbp */
            if (HS_UNLIKELY(r + 2 > room)) {
                r = UINT32_MAX;
                room = 0;
            } else {
                rd[r] = c.rsp - 8, rv[r++] = c.key;
                if (how & ~CFI_HOW_CFA_RBP)
                    rd[r] = how & ~CFI_HOW_CFA_RBP, rv[r++] = c.rbp;
            }
        }
        if (c.rsp >= bound)
            break;
        if (n == max)
            return -1;
        ip[n++] = c.key;
    }
    if (c.rsp != bound)
        return -1;
    *at = c.key;
    if (rec) {
        *rbp_read = used;
        *nrd = r;
    }
    return (int)n;
}

int cfi_walk_to(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t bound,
                uintptr_t *ip, unsigned max, uintptr_t *at, uintptr_t *rd, uintptr_t *rv,
                unsigned *nrd, int *rbp_read)
{
    cfi_memo.fresh = 0; /* no memo of this walk's: unwind_name names none */
    if (!rcache.slot || top < rsp + 8 || bound > top - 8 || rsp >= bound ||
        cfi_check_unloads() < 0)
        return -1;
    struct cfi_state c = {.rsp = rsp, .key = key, .rbp = rbp};
    cfi_memo.stacks++;
    return rd ? cfi_walk_to_in(c, top - 8, bound, ip, max, at, rd, rv, nrd, rbp_read, 1)
              : cfi_walk_to_in(c, top - 8, bound, ip, max, at, NULL, NULL, NULL, NULL, 0);
}

unsigned long long cfi_rules_subs(void)
{
    return atomic_load_explicit(&rcache.subs, memory_order_relaxed);
}

int cfi_walk(uintptr_t rip, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
             unsigned max)
{
    cfi_memo.stacks++;
    return cfi_walk_key(rip + 1, rsp, rbp, top, ip, max, NULL);
}

int cfi_walk_caller(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
                    unsigned max, uint32_t *tag)
{
    return cfi_walk_key(ra, cfa, rbp, top, ip, max, tag);
}
