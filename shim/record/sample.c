/*
 * sample.c - HEAPSNAP_SAMPLE: which allocations are recorded, and what each
 * recorded one stands for (tcmalloc's and jemalloc's scheme).
 *
 * Sample points fall in the stream of allocated bytes as a Poisson process
 * of mean spacing T; a thread's countdown to its next point is hook_countdown.
 * A block of s bytes is sampled with p(s) = 1 - exp(-s/T) and stands for
 * 1/p(s) blocks and s/p(s) bytes, in 1/65536 units: traces.c's sums are
 * then unbiased estimates, with no format change (meta.sample_interval).
 * With HEAPSNAP_LEAKS=1 every block enters the table (unsampled ones on
 * the <unsampled> trace, not unwound) and every weight is 1
 * (sample_weighted() is false).  The PRNG is a per-thread xorshift64*
 * (HEAPSNAP_SAMPLE_SEED for tests); no libm: log and exp are small series,
 * far more exact than sampling's noise.
 */
#include <time.h>

#include "record.h"

#define SAMPLE_LN2 0.69314718055994530942

static struct {
    uint64_t interval;       /* T, bytes; 0 = sampling off */
    uint64_t seed;           /* HEAPSNAP_SAMPLE_SEED, 0 = from the clock */
    _Atomic uint64_t threads; /* seeds handed out */
} smp;

static __thread uint64_t sample_rng; /* 0 = this thread not seeded yet */

int sample_estimates; /* weights above 1 (sampling without HEAPSNAP_LEAKS) */

void sample_init(void)
{
    smp.interval = (uint64_t)opt_int(OPT_SAMPLE);
    smp.seed = (uint64_t)opt_int(OPT_SAMPLE_SEED);
    sample_estimates = smp.interval && !opt_int(OPT_LEAKS);
    hs_rare_mark(HS_RARE_ESTIMATES, sample_estimates);
}

uint64_t sample_interval(void)
{
    return smp.interval;
}

int sample_weighted(void)
{
    return sample_estimates;
}

/* splitmix64: turns a counter into a well-mixed nonzero seed. */
static uint64_t sample_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x ? x : 1;
}

static void sample_seed_thread(void)
{
    uint64_t k = atomic_fetch_add_explicit(&smp.threads, 1, memory_order_relaxed);
    uint64_t base = smp.seed;
    if (!base) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        base = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)&sample_rng;
    }
    sample_rng = sample_mix(base ^ sample_mix(k));
}

static uint64_t sample_next_u64(void)
{
    uint64_t x = sample_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sample_rng = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* ln(x) for x > 0: x = m 2^e with m in [1, 2), ln m = 2 atanh((m-1)/(m+1)). */
static double sample_ln(double x)
{
    union { double d; uint64_t u; } v = {x};
    int e = (int)((v.u >> 52) & 0x7ff) - 1023;
    v.u = (v.u & ((1ULL << 52) - 1)) | (1023ULL << 52);
    double z = (v.d - 1) / (v.d + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return e * SAMPLE_LN2 + 2 * sum;
}

/* 1 - exp(-y) for y >= 0, without cancellation for small y. */
static double sample_one_minus_exp_neg(double y)
{
    if (y > 40)
        return 1;
    if (y < 0.5) { /* y - y^2/2! + y^3/3! - ... */
        double term = y, sum = 0;
        for (int k = 1; k < 20; k++) {
            sum += term;
            term *= -y / (k + 1);
        }
        return sum;
    }
    int halvings = 0; /* exp(-y) = exp(-y / 2^h) ^ (2^h) */
    while (y > 0.25) {
        y /= 2;
        halvings++;
    }
    double term = 1, e = 0;
    for (int k = 1; k < 16; k++) {
        e += term;
        term *= -y / k;
    }
    while (halvings--)
        e *= e;
    return 1 - e;
}

/* The next countdown: an exponential draw of mean T, at least 1 byte. */
static int64_t sample_draw(void)
{
    double u = ((double)(sample_next_u64() >> 11) + 1) * (1.0 / 9007199254740992.0);
    double d = -sample_ln(u) * (double)smp.interval;
    if (d < 1)
        return 1;
    if (d > 9e18)
        return INT64_MAX;
    return (int64_t)d;
}

/* The countdown ran out on a block of n bytes (the hook has already
 * subtracted n).  Returns 1 if the block is sampled; *left gets the next
 * countdown.  A thread's first call only seeds it and draws its first
 * countdown, which then decides this block like any other. */
int sample_hit(int64_t *left, size_t n)
{
    if (HS_UNLIKELY(!sample_rng)) {
        sample_seed_thread();
        *left = sample_draw() - (int64_t)n;
        if (*left > 0)
            return 0;
    }
    *left = sample_draw();
    return 1;
}

/* sample_weigh (record.h) when estimates are on: what a sampled block of
 * size bytes stands for, the inverse of its chance to be sampled. */
struct sample_weight sample_weigh_estimate(uint64_t size)
{
    if (!size)
        return (struct sample_weight){1u << 16, 0};
    double p = sample_one_minus_exp_neg((double)size / (double)smp.interval);
    return (struct sample_weight){(uint64_t)(65536.0 / p + 0.5), (uint64_t)((double)size / p + 0.5)};
}
