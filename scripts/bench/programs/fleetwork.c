/*
 * fleetwork.c - benchmark workload of the fleet agent (scripts/bench/
 * fleetscale.py): a service that runs until SIGTERM, paced, not CPU-bound.
 * Every TICK_MS it makes BURST blocks of 32-4096 bytes at four sites and
 * frees all but one, which it keeps at keep_site: the heap grows slowly and
 * steadily, as a small leak does, while a few hundred blocks a second
 * churn.  Its CPU time is what the bench compares with and without the
 * agent scraping it.
 *
 * Usage: fleetwork [TICK_MS]   (default 20); exits 0 on SIGTERM.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BURST 16

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

__attribute__((noinline)) static void *parse_site(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *buffer_site(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *session_site(size_t n) { return calloc(1, n); }
__attribute__((noinline)) static void *keep_site(size_t n) { return malloc(n); }

int main(int argc, char **argv)
{
    long tick = argc > 1 ? atol(argv[1]) : 20;
    struct timespec ts = {tick / 1000, (tick % 1000) * 1000000L};
    uint64_t rng = 88172645463325252ull;
    signal(SIGTERM, on_term);
    while (!stop) {
        void *b[BURST];
        for (int i = 0; i < BURST; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            size_t n = 32 + rng % 4064;
            b[i] = i % 3 == 0 ? parse_site(n) : i % 3 == 1 ? buffer_site(n) : session_site(n);
            if (b[i])
                memset(b[i], 1, 16);
        }
        for (int i = 0; i < BURST; i++)
            free(b[i]);
        void *volatile kept = keep_site(64); /* never freed: the slow growth */
        (void)kept;
        nanosleep(&ts, NULL);
    }
    return 0;
}
