/*
 * check.c - HEAPSNAP_UNWIND_CHECK: the proof that the incremental walk
 * gives the stacks the full walk gives.  Every stack auto's walk answers
 * with the help of its memo (cfi.c: a replay of the thread's last walk, or
 * an exact repeat of a named one) is walked again from scratch by a walk
 * of its own (uchk_walk): no memo, and no rule cache either - each rule
 * read afresh from the module's .eh_frame - so that a memo or a cached
 * rule kept across a dlclose is judged against the code loaded now, and
 * the check changes nothing the walk it judges will read later.  The two
 * are compared frame for frame.
 * Mismatches are counted; the first is told with unwind_host->warn, and
 * HEAPSNAP_VERBOSE prints both counts at exit (unwind.c).  The tests run
 * the targeted programs and the bench's workloads this way
 * (tests/shim/unwind/test_unwind_check.sh).  It costs a second walk and a look at
 * the module list per stack: a mode for tests, not for production.
 */
#include <string.h>

#include "unwindinner.h"

int uchk_on;

static struct {
    _Atomic uint64_t checked, mismatched;
    atomic_int told;
} uchk;

/* "0x" and v in hex into b (19 bytes at least); the length. */
static unsigned uchk_hex(char *b, uintptr_t v)
{
    unsigned n = 0, shift = 64;
    b[n++] = '0';
    b[n++] = 'x';
    do {
        shift -= 4;
        unsigned d = (unsigned)(v >> shift) & 15;
        if (d || n > 2 || shift == 0)
            b[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    } while (shift);
    b[n] = 0;
    return n;
}

/* The first mismatch: which frame, and the two walks' words there. */
static HS_NOINLINE void uchk_tell(const uintptr_t *got, int n, const uintptr_t *want, int wn)
{
    int i = 0;
    while (i < n && i < wn && got[i] == want[i])
        i++;
    char a[48], b[64];
    unsigned k = 0, j = 0;
    static const char at[] = "at frame ", vs[] = " where the full walk has ";
    memcpy(a, at, sizeof at - 1);
    k = sizeof at - 1;
    if (i >= 100)
        a[k++] = (char)('0' + i / 100 % 10);
    if (i >= 10)
        a[k++] = (char)('0' + i / 10 % 10);
    a[k++] = (char)('0' + i % 10);
    a[k++] = ':';
    a[k++] = ' ';
    k += i < n ? uchk_hex(a + k, got[i]) : (a[k] = '-', 1);
    a[k] = 0;
    memcpy(b, vs, sizeof vs - 1);
    j = sizeof vs - 1;
    j += i < wn ? uchk_hex(b + j, want[i]) : (b[j] = '-', 1);
    b[j] = 0;
    if (unwind_host->warn)
        unwind_host->warn("HEAPSNAP_UNWIND_CHECK: the incremental walk differs ", a, b);
}

/* The reference walk: cfi_step's steps as a separate loop, each
 * rule from ehf_rule; the same frames, the same ends (the outermost rule,
 * a return address below 0x4000, no FDE with rbp 0), -1 for a fallback. */
static int uchk_walk(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top, uintptr_t *ip,
                     unsigned max)
{
    const uintptr_t lo = rsp, top8 = top - 8;
    unsigned n = 0;
    if (top < rsp + 8)
        return -1;
    while (n < max) {
        int found;
        unsigned long long subs;
        struct cfi_rule r;
        uint64_t w = ehf_rule(key - 1, &found, &subs);
        ehf_decode(w, &r);
        if (r.kind == CFI_STOP)
            break;
        if (r.kind != CFI_STEP)
            return (w & CFI_W_NOFDE) && rbp == 0 ? (int)n : -1;
        uintptr_t at = (r.cfa_rbp ? rbp : rsp) + r.cfa_off - 8;
        if (at < rsp || at > top8 || (at & 7))
            return -1;
        uintptr_t ra = *(const uintptr_t *)at;
        if (r.rbp_saved && at + 8 - r.rbp_k < lo)
            return -1;
        if (ra < 0x4000)
            break;
        if (r.rbp_saved)
            rbp = *(const uintptr_t *)(at + 8 - r.rbp_k);
        ip[n++] = key = ra;
        rsp = at + 8;
    }
    return (int)n;
}

void uchk_compare(uintptr_t key, uintptr_t rsp, uintptr_t rbp, uintptr_t top, unsigned max,
                  const uintptr_t *ip, int n)
{
    uintptr_t want[max ? max : 1];
    unwind_deep++; /* want[] and the walk from scratch lie below the hook */
    int wn = uchk_walk(key, rsp, rbp, top, want, max);
    int same = wn == n;
    for (int i = 0; same && i < n; i++)
        same = ip[i] == want[i];
    atomic_fetch_add_explicit(&uchk.checked, 1, memory_order_relaxed);
    if (HS_LIKELY(same))
        return;
    atomic_fetch_add_explicit(&uchk.mismatched, 1, memory_order_relaxed);
    if (atomic_exchange(&uchk.told, 1) == 0)
        uchk_tell(ip, n, want, wn);
}

void uchk_counts(uint64_t *checked, uint64_t *mismatched)
{
    *checked = atomic_load(&uchk.checked);
    *mismatched = atomic_load(&uchk.mismatched);
}
