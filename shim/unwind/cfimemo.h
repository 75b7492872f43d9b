/*
 * cfimemo.h - the layout of cfi.c's memo of a thread's recent walks: the
 * states a walk went through (cfi_state), the words an exact repeat must
 * find again (cfi_check, cfi_pair), and a memo (cfi_memo), with why a
 * replay gives what the ordinary walk gives.  cfi.c keeps each thread's
 * memos and reads and writes them; cfichecks.c makes a memo's list of
 * checks (cfi_memo_checks).
 */
#ifndef HEAPSNAP_CFIMEMO_H
#define HEAPSNAP_CFIMEMO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* A walk is a pure function of its state before each step - (key, rsp,
 * rbp) - the cached rules and the stack words it reads: the return address
 * at rsp_next - 8 and, where the rule restores rbp, the word at rbp_at.
 * Each thread keeps its last successful walk as that chain of states.
 * When a new walk reaches a state with the same rsp and key as one of the
 * memo's, the memo's later steps are replayed instead of re-derived: a
 * replayed step compares the return address word with what it held then
 * (and, for a CFA based on rbp, rbp with the value it had then) and loads
 * the restored rbp, with no cache probe and no rule decode.  The first
 * difference ends the replay at a state the walk shares with the memo:
 * a return address that changed is still read from the memo's slot by
 * the memo's step (same key, so same rule: cfi_step_as, which reads the
 * slot afresh), an rbp that changed sends that step to the rule cache;
 * the ordinary walk goes on from there (and may meet the memo again
 * further out), so the result is always what the ordinary walk gives:
 * the outer frames that did not change (deep recursion, an interpreter's
 * loop) are checked, not assumed.  Rules are a
 * function of the loaded modules, so a memo is not used once dlpi_subs
 * has moved (the program's dlclose moves it at once: unwind_modules_changed).  A new
 * walk is recorded into a spare memo, never one being read.
 * Soundness: one matching frame proves nothing of its callers (recursion
 * re-entered from another call site, longjmp, an exception, swapcontext,
 * a signal handler, a reused thread stack all leave a frame at the same
 * CFA with the same return address under other callers), so no suffix is
 * ever taken on one match; every word a step would read is compared, and
 * the program's stack is only read, never patched (bytehound's shadow
 * stack patches return addresses, and exceptions unwinding through
 * patched frames were its issue #119).  HEAPSNAP_UNWIND_CHECK compares
 * with the walk from scratch (uchk_compare; docs/design.md has the argument).
 * The caller may name a walk's result (cfi_name: hook_stack gives the trace
 * id).  A new walk that starts in a named memo's first state and whose
 * every read would see the same word again gives the same frames: it
 * returns the name without writing a frame, and the caller skips interning
 * the stack (a loop allocating from one place; deep's four allocations per
 * recursion).  The thread keeps up to 64 named walks (below), not only
 * the last one: sites that take turns (churn's six in random order) each
 * find theirs again. */
struct cfi_state {
    uintptr_t rsp, key;
    uintptr_t rbp;                /* read only where the step's CFA is rbp-based (cfi_step_as) */
    uintptr_t how;                /* the step from here: rbp_at | CFI_HOW_CFA_RBP */
};

#define CFI_HOW_CFA_RBP ((uintptr_t)1) /* its CFA was rbp-based (rbp_at is 8-aligned) */

enum { CFI_END_CAP, CFI_END_STOP, CFI_END_LOW_RA }; /* how a walk ended */

/* A word an exact repeat must find again: *at == val. */
struct cfi_check {
    uintptr_t at, val;
};

/* Two adjacent words it must find again, *at == val[0] and *(at + 8) ==
 * val[1]: a frame-pointer frame's saved rbp and return address, compared
 * as one 16-byte word (cfi_memo_pairs).  The size of two checks. */
struct cfi_pair {
    _Alignas(16) uintptr_t val[2];
    uintptr_t at, unused;
};

/* Two pairs as cfi_memo_pairs leaves them, in the room of the two: both
 * pairs' values side by side (one 32-byte word: cfi_pairs_diff_avx
 * compares two pairs with one xor), then their addresses.  Pair 2i is
 * val[0..1] at at[0], pair 2i + 1 val[2..3] at at[1]. */
struct cfi_pair2 {
    _Alignas(16) uintptr_t val[4];
    uintptr_t at[2], unused[2];
};

struct cfi_memo {
    unsigned n;                   /* steps recorded: states 0..n; 0 = nothing */
    unsigned nchk;                /* checks (cfi_memo_checks) after the states and pairs */
    unsigned npair;               /* pairs (cfi_memo_pairs) after the states: even */
    uint16_t cmp;                 /* CFI_CMP_*: how cfi_same_again compares them */
    uint16_t end;                 /* CFI_END_* */
    uintptr_t rbp_mask;           /* ~0: an exact repeat needs the register rbp == rbp0 */
    uintptr_t rbp0;
    unsigned walk_max;            /* frames the walk could give; CFI_MAX_NEVER: ended
                                     on a low return address (never repeated) */
    unsigned max;                 /* walk_max once named (cfi_name), else CFI_MAX_NEVER */
    uint32_t path;                /* cfi_memo_path of its first steps, high half (a deep
                                     set's filter: cfi_memo_again_deep) */
    uint32_t tag;                 /* the caller's name for its result (cfi_name) */
    unsigned long long subs;      /* the modules the rules came from */
    uintptr_t top8;
    /* Where the pairs and checks (cfi_memo_pairs) begin and end, kept so
     * that an exact repeat's test works out none of it. */
    const struct cfi_pair2 *pair, *pair_end;
    const struct cfi_check *chk_end;
    uint64_t hits;                /* exact repeats it answered, each a stack asked and n
                                     frames replayed: the thread's counts, added there
                                     when it is recorded over or given back (cfi.c) */
    struct cfi_state st[];        /* cap + 1 states */
};
/* A memo's block holds this header and its states, then as many checks
 * as fit (cfi_memo_checks_max): 8 bytes more leave deep's
 * longest lists (about 120 checks at the default depth) without room,
 * compared step by step, four times the instructions. */
_Static_assert(sizeof(struct cfi_memo) == 96, "a memo's header in 96 bytes");

/* cmp: a shallow stack's list (one pair of pairs at most) inline; pairs
 * of pairs out of line (cfi_same_long); a list left flat past its pairs
 * (cfi_memo_pairs) out of line, its first checks first (cfi_same_flat);
 * LIST: no list yet (CFI_CHECKS_LATER) or none fits (step by step). */
enum { CFI_CMP_INLINE, CFI_CMP_PAIRS, CFI_CMP_FLAT, CFI_CMP_LIST };

#define CFI_MAX_NEVER UINT_MAX /* max: no walk asks for this many frames */

#define CFI_CHECKS_NONE UINT_MAX /* nchk: the list did not fit; compare step by step */
/* nchk: the list not made yet.  A walk's list is made when a walk first
 * repeats it (cfi_same_again compares it step by step until then), not
 * when it is recorded: most walks of a start-up are never met again, and
 * most that start in its first state differ further out. */
#define CFI_CHECKS_LATER (UINT_MAX - 1)

/* Walks kept per thread: CFI_MEMO_SETS sets of eight, a walk in the set of
 * its first state (the hook's caller: return address and CFA), the most
 * recent first.  Sites that take turns (churn's six, a parser's handful)
 * each find their own walk again; paths into one function from the same
 * depth share a set without pushing each other out.  Memos are allocated
 * as sets fill: at most 65, each (depth + 1) states and its check list in
 * one power-of-two arena block (4 KiB at the default depth: 260 KiB per
 * thread at most, only where that many walks take turns).  Fewer ways let
 * a handful of sites push each other out as the address layout puts them
 * in one set: 16 sets of 4 (the same 64 walks) had a few of the deep
 * workload's 30 (site, depth) walks miss again and again, and 32 sets of 4
 * cost Python's workload memory (docs/performance-hotpath.md).  A hit is usually
 * the set's first way (the most recent), whatever the ways.
 *
 * Eight sets of eight still let nine walks that take turns fall into one
 * set as the stack's addresses happen to lie (the environment's size moves
 * them): the deep workload's 30 did, for some environments, and then cost
 * 7% more a pair.  So a full set's oldest walk spills into its partner set
 * (the set number with CFI_MEMO_SPILL flipped) while that one has a free
 * way, and the set's bit in spilled says a miss looks there too; a walk
 * found there trades places with the set's oldest.  The common case, a
 * hit in the walk's own set, is unchanged. */
#define CFI_MEMO_SET_BITS 3
#define CFI_MEMO_SETS (1u << CFI_MEMO_SET_BITS)
#define CFI_MEMO_WAYS 8
#define CFI_MEMO_SPILL (CFI_MEMO_SETS / 2)

/* A walk's first state hashed: its set and its dlast place are the top
 * bits (a set's first states have their places among the set's own). */
static inline uint64_t cfi_first_hash(uintptr_t key, uintptr_t rsp)
{
    return ((uint64_t)key ^ (uint64_t)rsp << 7) * 0x9e3779b97f4a7c15ULL;
}

/* The set a walk is kept in, by its first state (the test
 * cfi_memo_spills_a_full_set aims walks at one set with it). */
static inline unsigned cfi_memo_set_of(uintptr_t key, uintptr_t rsp)
{
    return (unsigned)(cfi_first_hash(key, rsp) >> (64 - CFI_MEMO_SET_BITS));
}

/* The deep sets' last walk is remembered by first state, in CFI_DLAST
 * places (cfi_memo_find_deep's first try), not one per set: a Python
 * program's allocators are entered from dozens of first states, which
 * the eight sets' last walks could not tell apart, and a search that
 * misses its last walk guesses or steps the path
 * (docs/performance-hotpath.md, cfi_dlast_of's row: how many more find
 * it now). */
#define CFI_DLAST_BITS 6
#define CFI_DLAST (1u << CFI_DLAST_BITS)
static inline unsigned cfi_dlast_of(uintptr_t key, uintptr_t rsp)
{
    return (unsigned)(cfi_first_hash(key, rsp) >> (64 - CFI_DLAST_BITS));
}

/* Deep sets.  Walks that enter the hook from one place (one caller, one
 * CFA) and differ only further out - a parser's or a compiler's calls into
 * one allocating helper, kept's 64 stacks below one malloc call - all fall
 * into one set above, where nine or more taking turns miss nearly every
 * time and each miss is a walk, a memo's list made afresh and an intern.
 * A set that would lose a walk (itself and its partner full) for one with
 * the lost walk's very first state turns deep (cfi_memo.deep, a bit a set): from then on its walks are kept in a
 * second bank of CFI_DEEP_SETS sets, chosen by the path of their first
 * CFI_DEEP_STEPS steps (cfi_memo_path: the keys a walk steps through, by
 * the same rules the walk uses).  The path is only an index: a walk found
 * by it is still compared word for word (cfi_same_again), so a path that
 * changes (a rule reloaded, a step that fails) costs a miss, never a wrong
 * stack.  Stepping six frames costs a lookup more than a hit among a
 * set's and its partner's sixteen ways (docs/performance.md): paid only
 * where more walks than those take turns from one first state (churn's
 * and deep's never do).  The deep sets hold up to 256 walks more, allocated
 * as they fill (4 KiB each at the default depth: 1 MiB a thread at most,
 * only where that many walks take turns from one caller).  Thirty-two
 * sets, not sixteen: the paths pick a set at random, and 64 walks in turn
 * put nine in one of sixteen sets for about a quarter of code layouts (one
 * of them spilled on every turn: kept's 64), about one in 170 of
 * thirty-two; 100 to 200 walks overflowed sixteen sets' 128 ways and
 * missed (docs/performance.md, "Thirty-two deep sets").
 *
 * A deep set spills as the first bank's sets do: its oldest walk goes to
 * the partner deep set (CFI_DEEP_SPILL flipped) while that one has a free
 * way, and a search that finds nothing in the walk's own set looks there
 * while walks of the set are kept there (cfi_memo.daway counts them: where
 * every walk is new, the partner's own walks soon push them out, and a
 * miss searches one set again).  Without it, nine walks of
 * sixty-four that took turns fell into one deep set for some layouts of
 * the code (kept's 64 stacks built without frame pointers: test
 * cfi_memo_deep_set_spills), and each of them missed every time; walks
 * that share their first CFI_DEEP_STEPS steps share a deep set whatever
 * the layout. */
#define CFI_DEEP_STEPS 6

/* Cold deep sets.  Where more walks take turns from one caller than the
 * deep sets hold (kept's 100,000 stacks), nearly every search misses, and
 * each miss adds to the walk it was meant to spare: the set's last walk,
 * the guessed path, six steps and the set's ways (docs/performance.md,
 * "Cold deep sets", has the count).  So after
 * CFI_DEEP_COLD searches in a row that found nothing the thread's deep
 * sets are cold: only one search in CFI_DEEP_PROBE is made, and the first
 * that finds a walk warms them again.  Walks are still kept in the deep
 * sets while cold, so a program whose stacks start to repeat is found
 * again within a few probes (cfi_memo_cold_deep_sets_warm_again).  As many
 * misses in a row as the deep sets have ways: a program with any real
 * share of repeats never gets there. */
#define CFI_DEEP_COLD 256u
#define CFI_DEEP_PROBE 16u /* a power of two */
#define CFI_DEEP_SET_BITS 5
#define CFI_DEEP_SETS (1u << CFI_DEEP_SET_BITS)
#define CFI_DEEP_SPILL (CFI_DEEP_SETS / 2)

/* The path hash: the first state's key and rsp, then each step's key. */
static inline uint64_t cfi_path_start(uintptr_t key, uintptr_t rsp)
{
    return ((uint64_t)key ^ (uint64_t)rsp << 7) * 0x9e3779b97f4a7c15ULL;
}

static inline uint64_t cfi_path_step(uint64_t h, uintptr_t key)
{
    return (h ^ (uint64_t)key) * 0x9e3779b97f4a7c15ULL;
}

static inline unsigned cfi_deep_set_of(uint64_t h)
{
    return (unsigned)(h >> (64 - CFI_DEEP_SET_BITS));
}

/* cap + 1 states, then checks in the rest of the arena's power-of-two
 * block: 122 at the default depth (64), where a walk of n steps needs n to
 * 2n. */
static inline size_t cfi_memo_chk_at(unsigned cap) /* 16-aligned: pairs are read as vectors */
{
    return (sizeof(struct cfi_memo) + (size_t)(cap + 1) * sizeof(struct cfi_state) + 15) &
           ~(size_t)15;
}

static inline size_t cfi_memo_size(unsigned cap)
{
    size_t base = cfi_memo_chk_at(cap), n = 16;
    while (n < base)
        n *= 2;
    return n;
}

static inline unsigned cfi_memo_checks_max(unsigned cap)
{
    return (unsigned)((cfi_memo_size(cap) - cfi_memo_chk_at(cap)) / sizeof(struct cfi_check));
}

/* Memo m's list of checks (after its states, in its block of
 * cfi_memo_size(cap) bytes), laid out for the compare: m's nchk, npair,
 * pair, pair_end, chk_end, cmp, rbp_mask and rbp0 set (cfichecks.c). */
void cfi_memo_checks(struct cfi_memo *m, unsigned cap);

#endif
