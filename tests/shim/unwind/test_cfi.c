// link: shim/unwind/cfi.c shim/unwind/cfichecks.c shim/unwind/check.c shim/unwind/rulecache.c shim/unwind/ehframe.c shim/unwind/ehdrop.c shim/unwind/unwind.c shim/base/arena.c shim/base/lock.c shim/base/pagemap.c shim/base/spans.c
/*
 * test_cfi.c - the CFI interpreter and walk behind HEAPSNAP_UNWIND=auto.
 * First on synthetic CIE/FDE instruction bytes (each supported opcode,
 * remember/restore, the unsupported ones and the rules the walk cannot
 * follow -> CFI_UNKNOWN, RA undefined -> CFI_STOP), then on this binary's
 * own code: cfi_walk from a captured (rip, rsp, rbp) must give exactly the
 * return addresses unw_backtrace gives from the same frame, for shallow,
 * 200-deep, frame-pointer (alloca) and frameless recursion, truncated
 * stacks, and another thread; bad bounds must make it give up, not fault.
 */
#include <alloca.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "base.h"
#include "unit.h"
#include "unwind/cfimemo.h"
#include "unwind/unwindinner.h"

/* The arena's out-of-memory path calls these; the tests never run out. */
void degrade_now(const char *why) { printf("degrade: %s\n", why); }
void opt_warn(const char *a, const char *b, const char *c) {}
_Atomic unsigned hs_rare; /* base.h's (deferred.c): unwind_init marks it */
/* The unwinders' host: the arena, and no fork guard (nothing forks here). */
static int test_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
    return dl_iterate_phdr(cb, data);
}
static void test_nothing(void) {}
static void test_count(const char *what, uint64_t n) {}
static const struct unwind_host test_host = {arena_alloc, arena_free, arena_map, test_iterate_phdr,
                                             test_nothing, test_nothing, test_count};

#define NOINLINE __attribute__((noinline))
#define START 0x1000u

/* The x86-64 CIE every compiler writes: CFA = rsp + 8, RA at CFA - 8. */
static const uint8_t cie_std[] = {0x0c, 0x07, 0x08, 0x90, 0x01};
static const struct ehf_cie_info info_std = {1, -8, 16, 0};

static int eval(const uint8_t *fde, size_t n, uintptr_t off, struct cfi_rule *r)
{
    return ehf_eval(cie_std, sizeof cie_std, fde, n, &info_std, START, START + off, r);
}

/* A rule as one comparable number: kind, cfa reg, offset, rbp rule. */
static unsigned long long rule_of(const uint8_t *fde, size_t n, uintptr_t off)
{
    struct cfi_rule r;
    eval(fde, n, off, &r);
    return (unsigned long long)r.kind << 60 | (unsigned long long)r.cfa_rbp << 56 |
           (unsigned long long)r.rbp_saved << 52 | (unsigned long long)r.rbp_k << 32 | r.cfa_off;
}

static unsigned long long R(unsigned kind, int rbp_cfa, uint32_t off, int saved, uint32_t k)
{
    return (unsigned long long)kind << 60 | (unsigned long long)rbp_cfa << 56 |
           (unsigned long long)saved << 52 | (unsigned long long)k << 32 | off;
}

/* push rbp; mov rsp,rbp; ...; leave: gcc -fno-omit-frame-pointer. */
TEST_BEGIN(cfi_frame_pointer_prologue_rows)
    static const uint8_t f[] = {
        0x41, 0x0e, 0x10, 0x86, 0x02, /* +1: def_cfa_offset 16; rbp at cfa-16 */
        0x43, 0x0d, 0x06,             /* +4: def_cfa_register rbp */
        0x4a, 0x0c, 0x07, 0x08,       /* +14: def_cfa rsp+8 (after leave) */
    };
    expect_eq_u64(rule_of(f, sizeof f, 0), R(CFI_STEP, 0, 8, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 1), R(CFI_STEP, 0, 16, 1, 16));
    expect_eq_u64(rule_of(f, sizeof f, 3), R(CFI_STEP, 0, 16, 1, 16));
    expect_eq_u64(rule_of(f, sizeof f, 4), R(CFI_STEP, 1, 16, 1, 16));
    expect_eq_u64(rule_of(f, sizeof f, 13), R(CFI_STEP, 1, 16, 1, 16));
    expect_eq_u64(rule_of(f, sizeof f, 14), R(CFI_STEP, 0, 8, 1, 16));
    expect_eq_u64(rule_of(f, sizeof f, 1000), R(CFI_STEP, 0, 8, 1, 16));
TEST_END

TEST_BEGIN(cfi_remember_restore_state)
    static const uint8_t f[] = {
        0x41, 0x0e, 0x10,             /* +1: push */
        0x0a,                         /* remember */
        0x41, 0x0e, 0x08,             /* +2: an early ret's pop */
        0x41, 0x0b,                   /* +3: restore: back to rsp+16 */
    };
    expect_eq_u64(rule_of(f, sizeof f, 1), R(CFI_STEP, 0, 16, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 2), R(CFI_STEP, 0, 8, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 3), R(CFI_STEP, 0, 16, 0, 0));
    static const uint8_t unbalanced[] = {0x41, 0x0b};
    expect_eq_u64(rule_of(unbalanced, sizeof unbalanced, 0), R(CFI_STEP, 0, 8, 0, 0));
    expect_eq_u64(rule_of(unbalanced, sizeof unbalanced, 1) >> 60, CFI_UNKNOWN);
TEST_END

TEST_BEGIN(cfi_advance_forms_and_code_align)
    /* advance_loc1 200, advance_loc2 300, advance_loc4 70000 */
    static const uint8_t f[] = {
        0x02, 200, 0x0e, 0x10,
        0x03, 0x2c, 0x01, 0x0e, 0x18,
        0x04, 0x70, 0x11, 0x01, 0x00, 0x0e, 0x20,
    };
    expect_eq_u64(rule_of(f, sizeof f, 199), R(CFI_STEP, 0, 8, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 200), R(CFI_STEP, 0, 16, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 499), R(CFI_STEP, 0, 16, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 500), R(CFI_STEP, 0, 24, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 70499), R(CFI_STEP, 0, 24, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 70500), R(CFI_STEP, 0, 32, 0, 0));
    /* code_align 4: advance_loc 2 moves 8 bytes */
    static const uint8_t g[] = {0x42, 0x0e, 0x10};
    struct ehf_cie_info ca = {4, -8, 16, 0};
    struct cfi_rule r;
    ehf_eval(cie_std, sizeof cie_std, g, sizeof g, &ca, START, START + 7, &r);
    expect_eq_u64(r.cfa_off, 8);
    ehf_eval(cie_std, sizeof cie_std, g, sizeof g, &ca, START, START + 8, &r);
    expect_eq_u64(r.cfa_off, 16);
TEST_END

TEST_BEGIN(cfi_extended_and_signed_forms)
    static const uint8_t f[] = {
        0x41, 0x05, 0x06, 0x03,       /* +1: offset_extended rbp, 3*-8 */
        0x41, 0x11, 0x06, 0x7e,       /* +2: offset_extended_sf rbp, -2*-8 = +16 -> refused */
        0x41, 0x11, 0x06, 0x04,       /* +3: offset_extended_sf rbp, 4*-8 */
        0x41, 0x12, 0x06, 0x7e,       /* +4: def_cfa_sf rbp, -2*-8 = 16 */
        0x41, 0x13, 0x7d,             /* +5: def_cfa_offset_sf -3*-8 = 24 */
        0x41, 0x2e, 0x10, 0x00,       /* +6: GNU_args_size, nop: no change */
        0x41, 0x06, 0x06,             /* +7: restore_extended rbp */
    };
    expect_eq_u64(rule_of(f, sizeof f, 1), R(CFI_STEP, 0, 8, 1, 24));
    expect_eq_u64(rule_of(f, sizeof f, 2) >> 60, CFI_UNKNOWN);
    expect_eq_u64(rule_of(f, sizeof f, 3), R(CFI_STEP, 0, 8, 1, 32));
    expect_eq_u64(rule_of(f, sizeof f, 4), R(CFI_STEP, 1, 16, 1, 32));
    expect_eq_u64(rule_of(f, sizeof f, 5), R(CFI_STEP, 1, 24, 1, 32));
    expect_eq_u64(rule_of(f, sizeof f, 6), R(CFI_STEP, 1, 24, 1, 32));
    expect_eq_u64(rule_of(f, sizeof f, 7), R(CFI_STEP, 1, 24, 0, 0));
TEST_END

TEST_BEGIN(cfi_restore_and_same_value)
    static const uint8_t f[] = {
        0x41, 0x0e, 0x10, 0x86, 0x02, /* +1: rbp at cfa-16 */
        0x41, 0xc6,                   /* +2: restore rbp (CIE: same) */
        0x41, 0x86, 0x02,             /* +3: again */
        0x41, 0x08, 0x06,             /* +4: same_value rbp */
        0x41, 0x83, 0x03,             /* +5: rbx saved: irrelevant */
    };
    expect_eq_u64(rule_of(f, sizeof f, 1), R(CFI_STEP, 0, 16, 1, 16));
    expect_eq_u64(rule_of(f, sizeof f, 2), R(CFI_STEP, 0, 16, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 3), R(CFI_STEP, 0, 16, 1, 16));
    expect_eq_u64(rule_of(f, sizeof f, 4), R(CFI_STEP, 0, 16, 0, 0));
    expect_eq_u64(rule_of(f, sizeof f, 5), R(CFI_STEP, 0, 16, 0, 0));
TEST_END

TEST_BEGIN(cfi_undefined_ra_is_the_outermost_frame)
    static const uint8_t f[] = {0x07, 0x10}; /* _start: undefined rip */
    expect_eq_u64(rule_of(f, sizeof f, 0) >> 60, CFI_STOP);
    static const uint8_t g[] = {0x07, 0x06}; /* undefined rbp: libunwind stops, we defer */
    expect_eq_u64(rule_of(g, sizeof g, 0) >> 60, CFI_UNKNOWN);
TEST_END

/* Each: fine at +0, the refused instruction from +1 on. */
TEST_BEGIN(cfi_unsupported_is_unknown)
    static const uint8_t cases[][8] = {
        {0x41, 0x0f, 0x02, 0x77, 0x08},       /* def_cfa_expression (PLT) */
        {0x41, 0x10, 0x06, 0x01, 0x9c},       /* expression rbp */
        {0x41, 0x10, 0x03, 0x01, 0x9c},       /* expression rbx: refused too */
        {0x41, 0x14, 0x06, 0x02},             /* val_offset */
        {0x41, 0x15, 0x06, 0x02},             /* val_offset_sf */
        {0x41, 0x16, 0x06, 0x01, 0x9c},       /* val_expression */
        {0x41, 0x09, 0x06, 0x03},             /* register rbp in rbx */
        {0x41, 0x09, 0x03, 0x0c},             /* register rbx in r12 */
        {0x41, 0x0d, 0x03},                   /* CFA in rbx */
        {0x41, 0x13, 0x01},                   /* CFA below rsp: -1*-8 */
        {0x41, 0x90, 0x02},                   /* RA at CFA-16 */
        {0x41, 0x87, 0x02},                   /* rsp saved */
        {0x41, 0x01, 0, 0, 0, 0, 0, 0},       /* set_loc */
        {0x41, 0x2f, 0x06, 0x02},             /* GNU_negative_offset_extended */
        {0x41, 0x3f},                         /* a vendor opcode */
        {0x41, 0x05, 0x06},                   /* truncated operand */
    };
    static const size_t len[] = {5, 5, 5, 4, 4, 5, 4, 4, 3, 3, 3, 3, 8, 4, 2, 3};
    for (size_t i = 0; i < sizeof len / sizeof *len; i++) {
        expect_true(rule_of(cases[i], len[i], 0) >> 60 == CFI_STEP, "case %zu at +0", i);
        expect_true(rule_of(cases[i], len[i], 1) >> 60 == CFI_UNKNOWN, "case %zu at +1", i);
    }
TEST_END

TEST_BEGIN(cfi_cie_properties_refused)
    static const uint8_t f[] = {0x00};
    struct cfi_rule r;
    struct ehf_cie_info sig = {1, -8, 16, 1}, ra = {1, -8, 15, 0};
    expect_eq_u64(ehf_eval(cie_std, sizeof cie_std, f, 1, &sig, START, START, &r), CFI_UNKNOWN);
    expect_eq_u64(ehf_eval(cie_std, sizeof cie_std, f, 1, &ra, START, START, &r), CFI_UNKNOWN);
    static const uint8_t cie_restore[] = {0x0c, 0x07, 0x08, 0x90, 0x01, 0xc6};
    expect_eq_u64(ehf_eval(cie_restore, sizeof cie_restore, f, 1, &info_std, START, START, &r),
                  CFI_UNKNOWN); /* restore inside a CIE has nothing to go back to */
TEST_END

/* The walk checks only the CFA's alignment, so a saved rbp not 8-aligned
 * below it is left to libunwind; the largest offsets that fit still step. */
TEST_BEGIN(cfi_misaligned_rbp_slot_and_field_limits)
    struct cfi_rule r;
    struct ehf_cie_info by4 = {1, -4, 16, 0};
    static const uint8_t cie4[] = {0x0c, 0x07, 0x08, 0x90, 0x02}; /* RA at CFA - 2*4 */
    static const uint8_t odd[] = {0x41, 0x86, 0x03, 0x41, 0x86, 0x04};
    expect_eq_u64(ehf_eval(cie4, sizeof cie4, odd, sizeof odd, &by4, START, START + 1, &r),
                  CFI_UNKNOWN); /* rbp at CFA - 12 */
    expect_eq_u64(ehf_eval(cie4, sizeof cie4, odd, sizeof odd, &by4, START, START + 2, &r),
                  CFI_STEP);    /* rbp at CFA - 16 */
    expect_eq_u64(r.rbp_k, 16);
    static const uint8_t big[] = {0x0e, 0xf8, 0xff, 0xff, 0x7f, 0x86, 0xff, 0x0f};
    expect_eq_u64(rule_of(big, sizeof big, 0), R(CFI_STEP, 0, (1u << 28) - 8, 1, 0x3ff8));
TEST_END

/* ---------------- against libunwind, on this binary ---------------- */

static uintptr_t main_lo, main_hi;

static void find_main_stack(void)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0), lo, hi;
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp >= lo && sp < hi) {
            main_lo = lo;
            main_hi = hi;
        }
    if (f)
        fclose(f);
}

static uintptr_t top_of(uintptr_t sp)
{
    if (sp >= main_lo && sp < main_hi)
        return main_hi;
    return (uintptr_t)pthread_self();
}

struct both {
    uintptr_t cfi[300];
    void *unw[301];
    int ncfi, nunw;
    uintptr_t top_override; /* nonzero: use this as the stack top */
};

/* cfi_walk and unw_backtrace from this same frame: cfi[i] == unw[i + 1]. */
static NOINLINE void capture(struct both *b, unsigned max)
{
    uintptr_t rip, rsp, rbp;
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(rip), "=r"(rsp), "=r"(rbp));
    b->ncfi = cfi_walk(rip, rsp, rbp, b->top_override ? b->top_override : top_of(rsp),
                       b->cfi, max);
    b->nunw = unw_backtrace(b->unw, (int)max + 1);
    __asm__ volatile("" ::: "memory");
}

static int same(const struct both *b, char *why, size_t n)
{
    if (b->ncfi != b->nunw - 1) {
        snprintf(why, n, "cfi %d frames, libunwind %d", b->ncfi, b->nunw - 1);
        return 0;
    }
    for (int i = 0; i < b->ncfi; i++)
        if (b->cfi[i] != (uintptr_t)b->unw[i + 1]) {
            snprintf(why, n, "frame %d: %#lx vs %p", i, b->cfi[i], b->unw[i + 1]);
            return 0;
        }
    return 1;
}

static volatile int sink;

static NOINLINE int rec_plain(struct both *b, int d, unsigned max)
{
    if (d == 0)
        capture(b, max);
    else
        sink += rec_plain(b, d - 1, max);
    return d;
}

/* alloca of a runtime size: CFA from rbp, rbp saved at CFA-16. */
static NOINLINE int rec_fp(struct both *b, int d, unsigned max)
{
    volatile char *p = alloca((size_t)(d & 7) + 16);
    p[0] = (char)d;
    if (d == 0)
        capture(b, max);
    else
        sink += rec_fp(b, d - 1, max) + p[0];
    return d;
}

static NOINLINE int rec_mixed(struct both *b, int d, unsigned max)
{
    if (d == 0) {
        capture(b, max);
        return 0;
    }
    return (d & 1 ? rec_fp(b, d - 1, max) : rec_plain(b, d - 1, max)) + rec_mixed(b, 0, 0) * 0;
}

TEST_BEGIN(cfi_walk_equals_unw_backtrace_shallow)
    static struct both b;
    char why[160];
    rec_plain(&b, 1, 64);
    expect_true(b.ncfi > 3, "cfi_walk gave %d frames", b.ncfi);
    expect_true(same(&b, why, sizeof why), "%s", why);
    rec_fp(&b, 3, 64);
    expect_true(same(&b, why, sizeof why), "fp: %s", why);
TEST_END

TEST_BEGIN(cfi_walk_equals_unw_backtrace_200_deep)
    static struct both b;
    char why[160];
    rec_plain(&b, 200, 290);
    expect_true(b.ncfi > 200, "cfi_walk gave %d frames", b.ncfi);
    expect_true(same(&b, why, sizeof why), "plain: %s", why);
    rec_fp(&b, 200, 290);
    expect_true(same(&b, why, sizeof why), "fp: %s", why);
    rec_mixed(&b, 150, 290);
    expect_true(same(&b, why, sizeof why), "mixed: %s", why);
TEST_END

TEST_BEGIN(cfi_walk_truncates_like_unw_backtrace)
    static struct both b;
    char why[160];
    for (unsigned max = 1; max < 40; max += 3) {
        rec_plain(&b, 50, max);
        expect_true(b.ncfi == (int)max, "max %u: %d frames", max, b.ncfi);
        expect_true(same(&b, why, sizeof why), "max %u: %s", max, why);
    }
TEST_END

static void *thread_body(void *arg)
{
    struct both *b = arg;
    rec_fp(b, 20, 64);
    return NULL;
}

TEST_BEGIN(cfi_walk_equals_unw_backtrace_in_a_thread)
    static struct both b;
    char why[160];
    pthread_t t;
    expect_true(pthread_create(&t, NULL, thread_body, &b) == 0, "pthread_create");
    pthread_join(t, NULL);
    expect_true(b.ncfi > 20, "cfi_walk gave %d frames", b.ncfi);
    expect_true(same(&b, why, sizeof why), "%s", why);
TEST_END

TEST_BEGIN(cfi_rules_of_this_binary)
    static struct both b;
    struct cfi_rule r;
    rec_fp(&b, 2, 64);
    expect_true(b.ncfi > 4, "frames %d", b.ncfi);
    /* every frame but the last steps; the last (_start or clone) stops */
    for (int i = 0; i + 1 < b.ncfi; i++)
        expect_true(rcache_rule_at(b.cfi[i] - 1, &r) == CFI_STEP, "frame %d kind %u", i, r.kind);
    expect_eq_u64(rcache_rule_at(b.cfi[b.ncfi - 1] - 1, &r), CFI_STOP);
    expect_eq_u64(rcache_rule_at((uintptr_t)rec_fp + 4 + 1, &r), CFI_STEP); /* twice: cached */
    expect_eq_u64(rcache_rule_at(16, &r), CFI_UNKNOWN); /* in no module */
TEST_END

/* ---------------- the memo's sets ---------------- */

/* A walk from the state a hook's caller leaves: memo_ask's return address
 * into memo_at, its CFA, memo_at's rbp.  probe: that state alone; else
 * the memo is asked (cfi_again), and on a miss the walk is made and named. */
struct memo_ask {
    uintptr_t ra, cfa;
    uint64_t path;                   /* probe: cfi_memo_path's, by unw_backtrace's frames */
    uint32_t name;
    int probe, hit, right;
};

static NOINLINE void memo_ask(struct memo_ask *q)
{
    const uintptr_t *fp = __builtin_frame_address(0);
    uintptr_t ra = (uintptr_t)__builtin_return_address(0), cfa = (uintptr_t)(fp + 2);
    uintptr_t rbp = fp[0], top = top_of(cfa), ip[80];
    uint32_t same;
    if (q->probe) {
        void *f[CFI_DEEP_STEPS + 2]; /* this frame's IP, then ra and its callers */
        q->ra = ra;
        q->cfa = cfa;
        q->path = cfi_path_start(ra, cfa);
        if (unw_backtrace(f, CFI_DEEP_STEPS + 2) == CFI_DEEP_STEPS + 2)
            for (int i = 2; i < CFI_DEEP_STEPS + 2; i++)
                q->path = cfi_path_step(q->path, (uintptr_t)f[i]);
        return;
    }
    uint32_t tag = cfi_again(ra, cfa, rbp, top, 64);
    q->hit = tag != CFI_NO_TAG;
    if (q->hit) {
        q->right = tag == q->name;
        return;
    }
    /* The walk asks the memo again: a cold deep set's skipped search
     * (cfi_memo_cold_deep_sets_warm_again) may be this one's probe, and
     * find the walk named before. */
    q->right = cfi_walk_caller(ra, cfa, rbp, top, ip, 64, &same) > 2 &&
               (same == CFI_NO_TAG || same == q->name);
    cfi_name(q->name);
}

/* One call site, its CFA moved 16 bytes a pad. */
static NOINLINE void memo_at(unsigned pad, struct memo_ask *q)
{
    volatile char *p = alloca((size_t)pad * 16 + 16);
    p[0] = 1;
    memo_ask(q);
    sink += p[0];
}

struct memo_run {
    unsigned want, n, pads[24];
    int misses, wrong; /* misses after the first round; wrong names or walks */
};

/* On a thread of its own (no walk kept yet): want walks whose first
 * states all fall into one set, asked in turn four rounds. */
static void *memo_thread(void *arg)
{
    struct memo_run *r = arg;
    struct memo_ask q = {.probe = 1};
    unsigned set = ~0u;
    for (unsigned pad = 0; pad < 4096 && r->n < r->want; pad++) {
        memo_at(pad, &q);
        unsigned s = cfi_memo_set_of(q.ra, q.cfa);
        if (set == ~0u)
            set = s;
        if (s == set)
            r->pads[r->n++] = pad;
    }
    q.probe = 0;
    for (int round = 0; round < 4; round++)
        for (unsigned i = 0; i < r->n; i++) {
            q.name = 1000 + i;
            memo_at(r->pads[i], &q);
            r->wrong += !q.right;
            r->misses += round > 0 && !q.hit;
        }
    cfi_thread_end();
    return NULL;
}

/* Twelve and sixteen walks that take turns in one set of eight ways all
 * find their walk again (the full set spills into its partner); twenty
 * miss some, and every answer, hit or walk, is still the right one. */
TEST_BEGIN(cfi_memo_spills_a_full_set)
    static const unsigned wants[] = {12, 2 * CFI_MEMO_WAYS, 20};
    for (unsigned k = 0; k < sizeof wants / sizeof *wants; k++) {
        struct memo_run r = {.want = wants[k]};
        pthread_t t;
        expect_true(pthread_create(&t, NULL, memo_thread, &r) == 0, "pthread_create");
        pthread_join(t, NULL);
        expect_true(r.n == r.want, "%u walks in one set found, want %u", r.n, r.want);
        expect_true(r.wrong == 0, "%u walks: %d wrong answers", r.n, r.wrong);
        if (r.want <= 2 * CFI_MEMO_WAYS)
            expect_true(r.misses == 0, "%u walks in one set: %d misses after the first round",
                        r.n, r.misses);
        else
            expect_true(r.misses > 0, "%u walks in two sets' room never missed", r.n);
    }
TEST_END

/* One leaf call site reached by 2^MEMO_PATH_LEVELS paths, each level
 * calling the next from one of two sites (the path's bit picks it): every
 * path asks the memo with the same first state (return address and CFA),
 * and the paths differ only further out. */
#define MEMO_PATH_LEVELS 5
static NOINLINE void memo_path(int level, unsigned path, struct memo_ask *q)
{
    if (level == MEMO_PATH_LEVELS) {
        memo_ask(q);
    } else if (path >> level & 1) {
        memo_path(level + 1, path, q);
        __asm__ volatile("nop" ::: "memory");
    } else {
        memo_path(level + 1, path, q);
        __asm__ volatile("" ::: "memory");
    }
}

struct memo_paths {
    unsigned n;                      /* paths taken in turn */
    int misses, wrong, same_first;   /* misses after the first round; wrong answers */
};

static void *memo_paths_thread(void *arg)
{
    struct memo_paths *r = arg;
    struct memo_ask q = {.probe = 1};
    uintptr_t ra0 = 0, cfa0 = 0;
    r->same_first = 1;
    for (unsigned i = 0; i < r->n; i++) {
        memo_path(0, i, &q);
        if (i == 0) {
            ra0 = q.ra;
            cfa0 = q.cfa;
        }
        r->same_first &= q.ra == ra0 && q.cfa == cfa0;
    }
    q.probe = 0;
    for (int round = 0; round < 4; round++)
        for (unsigned i = 0; i < r->n; i++) {
            q.name = 2000 + i;
            memo_path(0, i, &q);
            r->wrong += !q.right;
            r->misses += round > 0 && !q.hit;
        }
    cfi_thread_end();
    return NULL;
}

/* Twenty walks from one first state (one caller, one CFA) that differ in
 * their outer frames, taken in turn: more than a set and its partner hold
 * (they all fall into one), so the set turns deep and each walk is found
 * again by the path of its first steps; every answer is the right one.
 * (Twenty paths over CFI_DEEP_SETS deep sets of eight: nine in one set,
 * the only way to miss here, has odds below 1 in 10,000 per run.) */
TEST_BEGIN(cfi_memo_paths_from_one_caller_all_found)
    struct memo_paths r = {.n = 20};
    pthread_t t;
    expect_true(pthread_create(&t, NULL, memo_paths_thread, &r) == 0, "pthread_create");
    pthread_join(t, NULL);
    expect_true(r.same_first, "the paths do not share their first state");
    expect_true(r.wrong == 0, "%d wrong answers", r.wrong);
    expect_true(r.misses == 0, "%d misses after the first round", r.misses);
TEST_END

/* Twenty walks from one caller, taken in turn, turn its set deep; then
 * each is found again twice.  A hit in a deep set with a free way leaves
 * the set's ways where they were (no walk leaves such a set when the next
 * is kept, so their order is not needed): the walk found keeps its way. */
struct memo_order {
    int wrong, misses, moved, kept; /* kept: hits in a set with a free way */
};

static void *memo_order_thread(void *arg)
{
    struct memo_order *r = arg;
    struct memo_ask q = {0};
    for (int round = 0; round < 3; round++) /* one call site: the same outer frames */
        for (unsigned i = 0; i < 20; i++) {
            int full = 1, way = round < 2 ? -1 : cfi_memo_deep_way(2500 + i, &full);
            q.name = 2500 + i;
            memo_path(0, i, &q);
            r->wrong += !q.right;
            r->misses += round == 2 && !q.hit;
            if (way >= 0 && !full) {
                r->kept++;
                r->moved += cfi_memo_deep_way(2500 + i, &full) != way;
            }
        }
    cfi_thread_end();
    return NULL;
}

TEST_BEGIN(cfi_memo_deep_hit_keeps_order)
    struct memo_order r = {0};
    pthread_t t;
    expect_true(pthread_create(&t, NULL, memo_order_thread, &r) == 0, "pthread_create");
    pthread_join(t, NULL);
    expect_true(r.wrong == 0, "%d wrong answers", r.wrong);
    expect_true(r.misses == 0, "%d misses", r.misses);
    expect_true(r.kept > 0, "no hit in a deep set with a free way");
    expect_true(r.moved == 0, "%d of %d hits moved their walk", r.moved, r.kept);
TEST_END

/* As memo_path, ten levels: 1,024 paths from one first state, more than
 * the deep sets hold (CFI_DEEP_SETS x CFI_MEMO_WAYS) and than it takes
 * to turn them cold (CFI_DEEP_COLD). */
#define MEMO_COLD_LEVELS 10
static NOINLINE void memo_path10(int level, unsigned path, struct memo_ask *q)
{
    if (level == MEMO_COLD_LEVELS) {
        memo_ask(q);
    } else if (path >> level & 1) {
        memo_path10(level + 1, path, q);
        __asm__ volatile("nop" ::: "memory");
    } else {
        memo_path10(level + 1, path, q);
        __asm__ volatile("" ::: "memory");
    }
}

struct memo_cold {
    int wrong;                       /* wrong answers, any phase */
    int misses[6];                   /* the twenty paths' misses, by round */
};

static void *memo_cold_thread(void *arg)
{
    struct memo_cold *r = arg;
    struct memo_ask q = {0};
    for (unsigned i = 0; i < 512; i++) { /* the upper half's paths, none met twice: cold */
        q.name = 3000 + i;
        memo_path10(0, 512 + i * 37u % 512, &q);
        r->wrong += !q.right;
    }
    for (int round = 0; round < 6; round++)
        for (unsigned i = 0; i < 20; i++) { /* twenty of the lower half's, new */
            q.name = 5000 + i;
            memo_path10(0, i * 17u, &q);
            r->wrong += !q.right;
            r->misses[round] += !q.hit;
        }
    cfi_thread_end();
    return NULL;
}

/* 512 walks from one caller, none met twice, turn the deep sets cold:
 * most searches are skipped (the second round of twenty paths that now
 * take turns misses some, where a warm memo finds all twenty:
 * cfi_memo_paths_from_one_caller_all_found), and a probe that finds one of
 * them warms the sets again, so the last round finds every one.  Every
 * answer, hit or walk, is the right one. */
TEST_BEGIN(cfi_memo_cold_deep_sets_warm_again)
    struct memo_cold r = {0};
    pthread_t t;
    expect_true(pthread_create(&t, NULL, memo_cold_thread, &r) == 0, "pthread_create");
    pthread_join(t, NULL);
    expect_true(r.wrong == 0, "%d wrong answers", r.wrong);
    expect_true(r.misses[0] == 20, "first round: %d misses of 20 new walks", r.misses[0]);
    expect_true(r.misses[1] > 0, "cold: every search of the second round was made");
    expect_true(r.misses[5] == 0, "warm again: %d misses in the last round", r.misses[5]);
TEST_END

struct memo_spill {
    unsigned n, paths[24];           /* paths taken in turn */
    int misses, wrong, shared;       /* misses after the first round; wrong answers */
};

/* Sixteen paths that share their first CFI_DEEP_STEPS steps (the low bits
 * of memo_path10's path vary outermost), and eight more whose deep sets
 * are neither the sixteen's nor its partner, chosen by the path a probe
 * works out from unw_backtrace's frames (it leaves the memo alone). */
static void *memo_spill_thread(void *arg)
{
    struct memo_spill *r = arg;
    struct memo_ask q = {.probe = 1};
    memo_path10(0, 0, &q);
    unsigned home = cfi_deep_set_of(q.path), used = 1u << home | 1u << (home ^ CFI_DEEP_SPILL);
    uint64_t p0 = q.path;
    r->shared = 1;
    for (unsigned i = 0; i < 16; i++) {
        memo_path10(0, i, &q);
        r->shared &= q.path == p0;
        r->paths[r->n++] = i;
    }
    for (unsigned i = 16; i < 1024 && r->n < 24; i += 16) {
        memo_path10(0, i, &q);
        unsigned d = cfi_deep_set_of(q.path);
        if (!(used >> d & 1)) {
            used |= 1u << d;
            r->paths[r->n++] = i;
        }
    }
    q.probe = 0;
    for (int round = 0; round < 4; round++)
        for (unsigned i = 0; i < r->n; i++) {
            q.name = 6000 + i;
            memo_path10(0, r->paths[i], &q);
            r->wrong += !q.right;
            r->misses += round > 0 && !q.hit;
        }
    cfi_thread_end();
    return NULL;
}

/* Twenty-four walks from one caller turn its set deep; sixteen of them
 * share one deep set of eight ways, which spills into its partner, so
 * every walk is found again after the first round, and every answer is
 * the right one. */
TEST_BEGIN(cfi_memo_deep_set_spills)
    struct memo_spill r = {0};
    pthread_t t;
    expect_true(pthread_create(&t, NULL, memo_spill_thread, &r) == 0, "pthread_create");
    pthread_join(t, NULL);
    expect_true(r.shared, "the sixteen paths do not share their first steps");
    expect_true(r.n == 24, "%u paths found, want 24", r.n);
    expect_true(r.wrong == 0, "%d wrong answers", r.wrong);
    expect_true(r.misses == 0, "%d misses after the first round", r.misses);
TEST_END

/* The rule cache starts small and doubles, emptied, when half full:
 * lookups of many distinct IPs (every 4th byte of libc's code from malloc
 * on) grow it to its most, and every rule it gives, before and after each
 * growth and on a second pass, is the uncached rule of the .eh_frame. */
static int same_rule(const struct cfi_rule *a, const struct cfi_rule *b)
{
    return a->kind == b->kind && a->cfa_rbp == b->cfa_rbp && a->cfa_off == b->cfa_off &&
           a->rbp_saved == b->rbp_saved && a->rbp_k == b->rbp_k;
}

TEST_BEGIN(rcache_grows_and_keeps_every_rule)
    enum { N = 48000 };
    uintptr_t base = (uintptr_t)&malloc;
    unsigned first = rcache_slots(), bad = 0;
    expect_eq_u64(first, 4096);
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < N; i++) {
            uintptr_t ip = base + 4 * (uintptr_t)i;
            struct cfi_rule got, want;
            int found;
            unsigned long long subs;
            rcache_rule_at(ip, &got);
            ehf_decode(ehf_rule(ip, &found, &subs), &want);
            bad += !same_rule(&got, &want);
        }
    expect_eq_u64(bad, 0);
    expect_eq_u64(rcache_slots(), 65536);
TEST_END

TEST_BEGIN(cfi_walk_gives_up_outside_the_bounds)
    static struct both b;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    b.top_override = sp + 64; /* far too low: the walk must stop, not read on */
    rec_plain(&b, 30, 64);
    b.top_override = 0;
    expect_true(b.ncfi == -1, "cfi_walk gave %d, want -1", b.ncfi);
    uintptr_t ip[4];
    expect_true(cfi_walk(0, sp, 0, 0, ip, 4) == -1, "no top: fall back");
TEST_END

/* check.c's judge is not vacuous: the walk's frames pass, one frame
 * changed or one dropped is counted as a difference.
 * d[0..2]: the differences counted for each, d[3] the walk's depth. */
static NOINLINE void check_from_here(uint64_t *d)
{
    uintptr_t f[64], st[4];
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(st[0]), "=r"(st[1]), "=r"(st[2]));
    st[3] = top_of(st[1]);
    int n = cfi_walk(st[0], st[1], st[2], st[3], f, 64);
    uint64_t c, m0, m;
    d[3] = (uint64_t)n;
    for (int k = 0; k < 3; k++) {
        uchk_counts(&c, &m0);
        f[1] ^= k == 1 ? 0x10 : 0;
        uchk_compare(st[0] + 1, st[1], st[2], st[3], 64, f, k == 2 ? n - 1 : n);
        f[1] ^= k == 1 ? 0x10 : 0;
        uchk_counts(&c, &m);
        d[k] = m - m0;
    }
    __asm__ volatile("" ::: "memory");
}

TEST_BEGIN(unwind_check_counts_a_stack_that_differs)
    uint64_t d[4];
    check_from_here(d);
    expect_true(d[3] > 3, "the walk gave %d frames", (int)d[3]);
    expect_true(d[0] == 0, "the walk's own frames counted as different");
    expect_true(d[1] == 1 && d[2] == 1, "a frame changed: %d, one dropped: %d", (int)d[1],
                (int)d[2]);
TEST_END

int main(void)
{
    find_main_stack();
    unwind_host = &test_host;
    if (rcache_init() != 0) {
        printf("FAIL rcache_init: no cache\n");
        return 1;
    }
    rcache_grows_and_keeps_every_rule(); /* first: the cache as rcache_init left it */
    cfi_frame_pointer_prologue_rows();
    cfi_remember_restore_state();
    cfi_advance_forms_and_code_align();
    cfi_extended_and_signed_forms();
    cfi_restore_and_same_value();
    cfi_undefined_ra_is_the_outermost_frame();
    cfi_unsupported_is_unknown();
    cfi_cie_properties_refused();
    cfi_misaligned_rbp_slot_and_field_limits();
    cfi_walk_equals_unw_backtrace_shallow();
    cfi_walk_equals_unw_backtrace_200_deep();
    cfi_walk_truncates_like_unw_backtrace();
    cfi_walk_equals_unw_backtrace_in_a_thread();
    cfi_memo_spills_a_full_set();
    cfi_memo_paths_from_one_caller_all_found();
    cfi_memo_deep_hit_keeps_order();
    cfi_memo_cold_deep_sets_warm_again();
    cfi_memo_deep_set_spills();
    cfi_rules_of_this_binary();
    cfi_walk_gives_up_outside_the_bounds();
    unwind_check_counts_a_stack_that_differs();
    return 0;
}
