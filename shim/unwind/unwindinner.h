/*
 * unwindinner.h - the unwind room's own glue: what unwind.c, cfi.c, rulecache.c
 * and ehframe.c share, never included outside shim/unwind/.  The host (unwind.h) is
 * unwind.c's, set at unwind_init.
 */
#ifndef HEAPSNAP_UNWIND_INNER_H
#define HEAPSNAP_UNWIND_INNER_H

#include "base.h"
#include "unwind.h"

extern const struct unwind_host *unwind_host;

/* ---- the rule word: what the walk does at one IP (ehframe.c makes it,
 * rulecache.c caches it, cfi.c walks by it): kind 0-1, tag 2-19 (its
 * cache key's low 18 bits: a reader racing a clear and a refill of its
 * slot by another key sees a mismatch, or an empty kind, and takes the
 * slow path), cfa_rbp 20,
 * rbp_saved 21, rbp_k 22-35, cfa_off 36-63.  The walk's first-probe check
 * of tag and kind is a shift, an xor and a mask; cfa_off is one shift. ---- */
enum { CFI_EMPTY, CFI_STEP, CFI_STOP, CFI_UNKNOWN };
#define CFI_MAX_CFA_OFF (1u << 28)
#define CFI_MAX_RBP_K (1u << 14)
#define CFI_TAG_MASK (((uint64_t)1 << 18) - 1)
#define CFI_TAG_SHIFT 2
#define CFI_KIND_SHIFT 0
#define CFI_W_CFA_RBP ((uint64_t)1 << 20)
#define CFI_W_RBP_SAVED ((uint64_t)1 << 21)
/* Kind UNKNOWN only: no FDE covers the IP, though its module has a search
 * table, and the code at the return address is neither a PLT entry nor
 * the signal trampoline.  libunwind's unw_step then tries its frame-chain
 * guess, which ends the stack there when rbp is 0 (ld.so's _start, whose
 * _dl_start_user calls the constructors of the libraries loaded with the
 * program: it clears rbp first); the walk ends there too (cfi_step). */
#define CFI_W_NOFDE ((uint64_t)1 << 20)
#define CFI_K_SHIFT 22
#define CFI_OFF_SHIFT 36
#define CFI_W(kind) ((uint64_t)(kind) << CFI_KIND_SHIFT)
#define CFI_KIND(w) ((unsigned)((w) >> CFI_KIND_SHIFT & 3))
#define CFI_CHECK_MASK (CFI_TAG_MASK << CFI_TAG_SHIFT | CFI_W(3))

struct cfi_rule {                  /* a rule word, unpacked */
    unsigned kind;                 /* CFI_*; STOP = the outermost frame */
    int cfa_rbp;                   /* CFA = rbp + cfa_off, else rsp + cfa_off */
    int rbp_saved;                 /* the caller's rbp is at CFA - rbp_k */
    uint32_t cfa_off, rbp_k;       /* the return address is at CFA - 8 */
};

/* ---- ehframe.c: the rule word of an IP, from the module's .eh_frame ---- */
uint64_t ehf_rule(uintptr_t ip, int *found, unsigned long long *subs); /* loader lock */
void ehf_decode(uint64_t w, struct cfi_rule *out);
/* fork's child handler (rcache_after_fork_child): the modules' spans'
 * lock let go, the spans made again at the next miss. */
void ehf_after_fork_child(void);
/* ehdrop.c: the modules whose unwind tables ehframe.c's lookups read
 * (ehd_note_read(dlpi_addr), after the reads), and the stacks
 * unw_backtrace takes */
void ehd_note_read(uintptr_t base);
extern _Atomic uint64_t ehf_unw;
struct ehf_cie_info {              /* a synthetic CIE, for ehf_eval */
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_col;
    int signal;                    /* the 'S' augmentation */
};
/* Tests: the CIE's initial instructions, then the FDE's (whose range
 * starts at start) up to ip, classified; returns out->kind. */
int ehf_eval(const uint8_t *cie_ins, size_t cie_len, const uint8_t *fde_ins, size_t fde_len,
             const struct ehf_cie_info *info, uintptr_t start, uintptr_t ip,
             struct cfi_rule *out);

/* ---- rulecache.c: the rule word of each IP met (readers take no lock) ---- */
#define RCACHE_BITS 16             /* at most 64K slots x 16 B = 1 MiB (mapped once) */
#define RCACHE_MIN_BITS 12         /* ... at first 4K slots, 64 KiB (rulecache.c's growth) */
struct rcache_slot {
    _Atomic uint64_t key;          /* the looked-up IP + 1, 0 = empty */
    _Atomic uint64_t rule;         /* the rule word, 0 = not there */
};
extern struct rcache {
    struct rcache_slot *slot;      /* NULL: not set up, every walk falls back */
    lock_t lock;                   /* writers (insert, clear); readers none */
    unsigned used;                 /* slots filled, under lock */
    _Atomic uint64_t mask;         /* slots in use - 1: the first mask + 1 of them */
    _Atomic unsigned long long subs; /* dlpi_subs the cache is valid for */
} rcache;
/* A key's slot: its address in 8-byte steps, folded once (bits 19-34 onto
 * 3-18).  Keys close together in the code share a page of the cache (256
 * slots, 2 KiB of code), so a small program's few dozen return addresses
 * touch a handful of its 256 pages, not one page each: on this kernel even
 * a read of an untouched page costs a page of memory (docs/performance.md,
 * issue 21).  The fold keeps modules 512 KiB apart from sharing slots
 * offset for offset, and makes two keys that share a slot differ in the
 * rule word's tag (their low 18 bits) unless they agree up to bit 34.  No
 * multiply: cheaper than the Fibonacci hash it replaced. */
static inline uint64_t rcache_slot_of(uintptr_t key)
{
    return ((uint64_t)key >> 3 ^ (uint64_t)key >> 19) &
           atomic_load_explicit(&rcache.mask, memory_order_relaxed);
}
int rcache_init(void);             /* outside any hook; 0, or -1 (no cache) */
/* key's rule word (key = IP + 1) past its first slot, which the walk
 * probes itself: the further probes, then .eh_frame (cached when found). */
uint64_t rcache_lookup(uintptr_t key);
int rcache_check(void);            /* unloads since? then cleared; 0, or -1 (busy) */
int rcache_rule_at(uintptr_t ip, struct cfi_rule *out); /* kind; cached */
unsigned rcache_slots(void);       /* the slots in use now (tests) */

/* ---- cfi.c: the walk behind HEAPSNAP_UNWIND=auto ---- */
/* From a captured (rip, rsp, rbp) with the stack's top, fills ip[0..max)
 * with return addresses as unw_backtrace does (the capturing frame itself
 * omitted); the count, or -1: fall back to libunwind for this stack. */
int cfi_walk(uintptr_t rip, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
             unsigned max);
/* The same from a frame's caller: ra the return address into it, cfa the
 * caller's rsp after the return, rbp the caller's rbp; ip[] gets ra's
 * callers (not ra itself).  If this thread's last walk gave exactly the
 * same frames and was named with cfi_name, *tag is that name and ip[] is
 * not written; else *tag is CFI_NO_TAG. */
#define CFI_NO_TAG UNWIND_NO_NAME
int cfi_walk_caller(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
                    unsigned max, uint32_t *tag);
/* unwind_capture_to's walk: by rule alone (no memo read, none kept), from
 * (key, rsp, rbp) out to the state whose rsp is bound: the keys of the
 * states below it in ip[] (at most max), the key at bound in *at; their
 * count, or -1 (the walk ended, passed bound, or took max frames first).
 * rd (may be NULL): the addresses of the stack words the walk read, rv
 * their values, at most *nrd of them, their count in *nrd (UINT32_MAX:
 * more); *rbp_read: whether the walk used the rbp it began with (a CFA
 * based on it before a saved rbp was read).  Without rd, nrd and rbp_read
 * are left alone. */
int cfi_walk_to(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t bound,
                uintptr_t *ip, unsigned max, uintptr_t *at, uintptr_t *rd, uintptr_t *rv,
                unsigned *nrd, int *rbp_read);
unsigned long long cfi_rules_subs(void); /* the rule cache's dlpi_subs */
/* Only the exact-repeat test of cfi_walk_caller (ip[] would get max
 * frames): the name, or CFI_NO_TAG when a walk is needed.  The caller has
 * checked cfa <= top - 8 (unwind_again's unwind_origin_ok). */
uint32_t cfi_again(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top, unsigned max);
int cfi_memo_deep_way(uint32_t tag, int *full); /* tests: a named walk's deep way, or -1 */
/* ... without the check mode (uchk_on 0), the origin untested (unwind_again_in
 * says why), the rule cache set up (auto's), and with no
 * unload check of its own: the hooks' tick makes it (cfi_tick). */
uint32_t cfi_again_plain(uintptr_t ra, uintptr_t cfa, uintptr_t rbp, uintptr_t top,
                         unsigned max);
void cfi_tick(unsigned n); /* n stacks were asked since the last tick */
void cfi_name(uint32_t name);      /* names the result of this thread's last walk */
/* Right after cfi_again answered name: ip[] gets the frames of the walk it
 * repeats (ra first, then the ones cfi_walk_caller gives); their count, or
 * -1 when the thread's last walk is not that one. */
int cfi_again_frames(uint32_t name, uintptr_t *ip, unsigned room);
void cfi_thread_end(void);         /* this thread's walk memo goes back */
/* Stacks asked, frames stepped by rule and frames the memo gave (ended
 * threads + this one). */
void cfi_counts(uint64_t *stacks, uint64_t *walked, uint64_t *replayed);

/* ---- check.c: HEAPSNAP_UNWIND_CHECK ---- */
extern int uchk_on;                /* set once, before any hook records */
/* The incremental walk from (key, rsp, rbp) with max frames gave ip[0..n)
 * (n = -1: it fell back): compared with a walk from scratch, rules read
 * afresh from .eh_frame, and counted; the first difference is told
 * (unwind_host->warn).  Takes the loader lock: no shim lock held. */
void uchk_compare(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top, unsigned max,
                  const uintptr_t *ip, int n);
void uchk_counts(uint64_t *checked, uint64_t *mismatched);

#endif
