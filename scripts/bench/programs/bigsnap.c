/*
 * bigsnap.c - benchmark workload: issue 4's snapshot and memory targets.
 *
 * Keeps LIVE blocks of 16-256 bytes, allocated from 128 call stacks (32
 * depths of one recursive function times four leaf sites: many traces that
 * share few return addresses, which is what a per-address symbol cache is
 * for).  Then one snapshot is written to PATH through heapsnap.h while a
 * second thread keeps freeing and replacing blocks of the same set, timing
 * each of its free+malloc pairs.  Prints:
 *
 *   bigsnap blocks=N write_ms=W stall_ms=S ops=K base_ms=Q shim_bytes=B
 *
 * W: the snapshot call's wall time; S: the second thread's longest pair
 * while the snapshot ran (how long the snapshot stopped it); K: its pairs
 * meanwhile; Q: its longest pair in a window as long, right after, without
 * a snapshot (what the machine and the shim cost anyway);
 * B: heapsnap_get_tracemalloc_memory() with the LIVE blocks live, before
 * the snapshot.  A second line, "bigsnap_mem rss_kb=R hwm_kb=H
 * children_maxrss_kb=C", gives the
 * resident set just before the call and its high-water mark during it
 * (VmHWM, reset through /proc/self/clear_refs first): H - R is what the
 * write needed for itself; C, the largest child's (a leak check that
 * scans a fork of the process).  With MODE "collect" the call is
 * heapsnap_collect(PATH), the leak check and its snapshot, instead of
 * heapsnap_take_snapshot(PATH): S is then the leak check's stall.  Without the shim (the API's weak symbols
 * unresolved) the line says "no shim".  Either way it ends with a
 * "checksum bigsnap <hex>" line.
 *
 * Usage: bigsnap LIVE PATH [snap|collect]
 */
#include <heapsnap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BIGSNAP_DEPTHS 32

static struct {
    void **v;                 /* the live blocks */
    long n;
    _Atomic int phase;        /* 0 warming up, 1 snapshot running, 2 stop,
                                 3 the window without a snapshot */
    _Atomic long warm;        /* the mutator's pairs so far */
    long ops;                 /* its pairs while the snapshot ran */
    double stall_ms;          /* its longest pair meanwhile */
    double base_ms;           /* its longest pair in phase 3 */
    uint64_t sum;             /* checksum of the sizes allocated */
} bs;

static double bs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* VmRSS or VmHWM of this process, in KiB (0: unknown). */
static long bs_status_kb(const char *key)
{
    char line[256];
    long v = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)))
            v = atol(line + strlen(key));
    fclose(f);
    return v;
}

/* The high-water mark starts again from the current resident set. */
static void bs_reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static uint64_t bs_next(uint64_t *x)
{
    *x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17;
    return *x;
}

/* A leaf site: the empty asm after the call keeps it from becoming a tail
 * call, so each leaf keeps a frame of its own. */
#define BS_LEAF(k, pad)                                                     \
    __attribute__((noinline)) static void *bs_leaf##k(size_t n)            \
    {                                                                       \
        void *p = malloc(n + (pad));                                        \
        __asm__ volatile("" ::"r"(p) : "memory");                           \
        return p;                                                           \
    }
BS_LEAF(0, 0)
BS_LEAF(1, 8)
BS_LEAF(2, 16)
BS_LEAF(3, 24)

/* A block from the stack (depth d, leaf r % 4). */
__attribute__((noinline)) static void *bs_nest(int d, uint64_t r)
{
    if (d > 0) {
        void *p = bs_nest(d - 1, r);
        __asm__ volatile("" ::: "memory"); /* not a tail call: keep the frame */
        return p;
    }
    size_t n = 16 + (r >> 8) % 201;
    switch (r % 4) {
    case 0: return bs_leaf0(n);
    case 1: return bs_leaf1(n);
    case 2: return bs_leaf2(n);
    default: return bs_leaf3(n);
    }
}

static void *bs_block(uint64_t r)
{
    void *p = bs_nest((int)((r >> 32) % BIGSNAP_DEPTHS), r);
    if (!p) { fprintf(stderr, "bigsnap: out of memory\n"); exit(3); }
    memcpy(p, &r, sizeof r);
    return p;
}

/* The second thread: replaces blocks of the last quarter of the set until
 * told to stop, timing each pair while the snapshot runs. */
static void *bs_mutator(void *arg)
{
    uint64_t x = 0x2545F4914F6CDD1Dull;
    long lo = bs.n - bs.n / 4, span = bs.n / 4;
    (void)arg;
    for (;;) {
        int ph = atomic_load(&bs.phase);
        if (ph == 2)
            break;
        uint64_t r = bs_next(&x);
        long i = lo + (long)((r >> 16) % (uint64_t)span);
        double t0 = bs_now_ms(); /* every pair: the one in flight when the
                                  * snapshot starts may be the one it stops */
        free(bs.v[i]);
        bs.v[i] = bs_block(r);
        int ph2 = atomic_load(&bs.phase);
        double dt = bs_now_ms() - t0, *worst = NULL;
        if (ph == 1 || ph2 == 1)
            worst = &bs.stall_ms;
        else if (ph == 3 && ph2 == 3)
            worst = &bs.base_ms;
        if (worst && dt > *worst)
            *worst = dt;
        bs.ops += ph == 1 || ph2 == 1;
        atomic_fetch_add_explicit(&bs.warm, 1, memory_order_relaxed);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int collect = argc == 4 && !strcmp(argv[3], "collect");
    if (argc < 3 || argc > 4 || atol(argv[1]) < 8 || (argc == 4 && !collect && strcmp(argv[3], "snap"))) {
        fprintf(stderr, "usage: bigsnap LIVE PATH [snap|collect]\n");
        return 2;
    }
    bs.n = atol(argv[1]);
    bs.v = calloc((size_t)bs.n, sizeof *bs.v);
    if (!bs.v) { fprintf(stderr, "bigsnap: out of memory\n"); return 3; }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (long i = 0; i < bs.n; i++) {
        uint64_t r = bs_next(&x);
        bs.v[i] = bs_block(r);
        bs.sum = bs.sum * 31 + (r >> 8) % 201 + r % 4;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, bs_mutator, NULL) != 0) { fprintf(stderr, "bigsnap: no thread\n"); return 3; }
    while (atomic_load_explicit(&bs.warm, memory_order_relaxed) < 10000)
        ;
    if (heapsnap_take_snapshot && heapsnap_collect && heapsnap_get_tracemalloc_memory) {
        size_t shim = heapsnap_get_tracemalloc_memory();
        bs_reset_hwm();
        long rss = bs_status_kb("VmRSS:");
        atomic_store(&bs.phase, 1);
        double t0 = bs_now_ms();
        int rc = collect ? (heapsnap_collect(argv[2]) < 0 ? -1 : 0) : heapsnap_take_snapshot(argv[2]);
        double ms = bs_now_ms() - t0;
        long hwm = bs_status_kb("VmHWM:");
        atomic_store(&bs.phase, 3);
        for (double t1 = bs_now_ms(); bs_now_ms() - t1 < ms;)
            ;
        atomic_store(&bs.phase, 2);
        pthread_join(t, NULL);
        printf("bigsnap blocks=%ld write_ms=%.1f stall_ms=%.2f ops=%ld base_ms=%.2f shim_bytes=%zu%s\n",
               bs.n, ms, bs.stall_ms, bs.ops, bs.base_ms, shim, rc == 0 ? "" : " failed");
        struct rusage ru;
        long kids = getrusage(RUSAGE_CHILDREN, &ru) == 0 ? ru.ru_maxrss : 0;
        printf("bigsnap_mem rss_kb=%ld hwm_kb=%ld children_maxrss_kb=%ld\n", rss, hwm, kids);
        if (rc != 0)
            return 1;
    } else {
        atomic_store(&bs.phase, 2);
        pthread_join(t, NULL);
        printf("bigsnap no shim\n");
    }
    printf("checksum bigsnap %016llx\n", (unsigned long long)bs.sum);
    for (long i = 0; i < bs.n; i++)
        free(bs.v[i]);
    free(bs.v);
    return 0;
}
