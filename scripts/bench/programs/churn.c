/*
 * churn.c - benchmark workload: small-block churn (issue 4, rows 1, 3 and 4).
 *
 * Each thread owns LIVE/THREADS slots and performs OPS/THREADS steps.  A step
 * picks a slot with a fixed-seed xorshift generator, frees the block there (if
 * any) and puts a new block of 16-256 bytes from one of six call sites in its
 * place, so ~LIVE blocks stay alive while tens of millions are churned.
 *
 * With two or more threads there are cross-thread frees: the run is cut into
 * PHASES; at the end of each phase every thread hands a batch of its live
 * blocks to its right-hand neighbour (through a per-thread mailbox guarded by
 * a barrier, not a lock), and the neighbour frees them.  The barrier keeps the
 * hand-over deterministic, so the checksum does not depend on scheduling.
 *
 * Usage: churn OPS LIVE THREADS      prints "checksum churn <hex>", exits 0.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHURN_PHASES 16      /* cross-thread hand-overs per run */
#define CHURN_BATCH 256      /* blocks handed to the neighbour per phase */

struct churn_thread {
    pthread_t tid;
    int index;               /* 0..threads-1: also the generator's seed */
    uint64_t rng;            /* xorshift64 state */
    void **slots;            /* this thread's live blocks (NULL = empty) */
    long nslots;
    long ops;                /* steps to perform */
    uint64_t sum;            /* checksum of what this thread allocated */
    void *mailbox[CHURN_BATCH]; /* filled by the left neighbour */
};

static struct {
    int threads;
    pthread_barrier_t barrier;
    struct churn_thread *th;
} churn;

static uint64_t churn_next(struct churn_thread *t)
{
    uint64_t x = t->rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return t->rng = x;
}

/* Six distinct allocation sites, kept out of line so each has its own stack. */
__attribute__((noinline)) static void *churn_site0(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *churn_site1(size_t n) { return malloc(n + 8); }
__attribute__((noinline)) static void *churn_site2(size_t n) { return malloc(n | 32); }
__attribute__((noinline)) static void *churn_site3(size_t n) { return malloc(n + 16); }
__attribute__((noinline)) static void *churn_site4(size_t n) { return malloc(n + 24); }
__attribute__((noinline)) static void *churn_site5(size_t n) { return malloc(n + 40); }

static void *churn_alloc(struct churn_thread *t, uint64_t r)
{
    size_t n = 16 + (r >> 8) % 201;          /* 16..216, + site pad <= 256 */
    void *p;
    switch (r % 6) {
    case 0: p = churn_site0(n); break;
    case 1: p = churn_site1(n); break;
    case 2: p = churn_site2(n); break;
    case 3: p = churn_site3(n); break;
    case 4: p = churn_site4(n); break;
    default: p = churn_site5(n); break;
    }
    if (!p) { fprintf(stderr, "churn: out of memory\n"); exit(3); }
    memcpy(p, &r, sizeof r);                 /* touch it, like a real user */
    t->sum = t->sum * 31 + n + (r % 6);
    return p;
}

static void churn_steps(struct churn_thread *t, long steps)
{
    for (long i = 0; i < steps; i++) {
        uint64_t r = churn_next(t);
        long s = (long)((r >> 20) % (uint64_t)t->nslots);
        free(t->slots[s]);
        t->slots[s] = churn_alloc(t, r);
    }
}

/* Give CHURN_BATCH live blocks to the right neighbour, then free the batch the
 * left neighbour gave us.  The two barriers order the writes and the reads. */
static void churn_exchange(struct churn_thread *t)
{
    struct churn_thread *right = &churn.th[(t->index + 1) % churn.threads];
    for (int i = 0; i < CHURN_BATCH; i++) {
        long s = (long)((churn_next(t) >> 20) % (uint64_t)t->nslots);
        right->mailbox[i] = t->slots[s];
        t->slots[s] = NULL;
    }
    pthread_barrier_wait(&churn.barrier);
    for (int i = 0; i < CHURN_BATCH; i++)
        free(t->mailbox[i]);
    pthread_barrier_wait(&churn.barrier);
}

static void *churn_run(void *arg)
{
    struct churn_thread *t = arg;
    long per_phase = t->ops / CHURN_PHASES;
    for (int ph = 0; ph < CHURN_PHASES; ph++) {
        churn_steps(t, per_phase);
        if (churn.threads > 1)
            churn_exchange(t);
    }
    churn_steps(t, t->ops - per_phase * CHURN_PHASES);
    for (long s = 0; s < t->nslots; s++)
        free(t->slots[s]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: churn OPS LIVE THREADS\n"); return 2; }
    long ops = atol(argv[1]), live = atol(argv[2]);
    churn.threads = atoi(argv[3]);
    if (ops < 1 || churn.threads < 1 || churn.threads > 64 ||
        live / churn.threads < CHURN_BATCH) {
        fprintf(stderr, "churn: bad sizes\n");
        return 2;
    }
    churn.th = calloc((size_t)churn.threads, sizeof *churn.th);
    pthread_barrier_init(&churn.barrier, NULL, (unsigned)churn.threads);
    for (int i = 0; i < churn.threads; i++) {
        struct churn_thread *t = &churn.th[i];
        t->index = i;
        t->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)(i + 1) * 0x100000001B3ull;
        t->nslots = live / churn.threads;
        t->ops = ops / churn.threads;
        t->slots = calloc((size_t)t->nslots, sizeof(void *));
        pthread_create(&t->tid, NULL, churn_run, t);
    }
    uint64_t sum = 0;
    for (int i = 0; i < churn.threads; i++) {
        pthread_join(churn.th[i].tid, NULL);
        sum = sum * 1000003 + churn.th[i].sum;
        free(churn.th[i].slots);
    }
    printf("checksum churn %016llx\n", (unsigned long long)sum);
    free(churn.th);
    return 0;
}
