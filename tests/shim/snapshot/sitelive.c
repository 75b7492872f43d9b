/* sitelive.c - a live heap known site by site, left still while the
 * shim's helper takes its site-line points (tests/shim/snapshot/
 * test_sitelive.sh).  A maker thread keeps KEEP blocks of 64 bytes
 * ("site: keep"), grows GROW blocks from 40 to 200 bytes by realloc and
 * shrinks them to 120 ("site: grow", then "site: regrow" after the move
 * a realloc may make: the test reads the two sites' sum), maps three
 * ranges of 16 pages ("site: map") and unmaps the front half of one and
 * a page in the middle of another, and makes TMP blocks of 48 bytes
 * ("site: tmp") that a freer thread frees, oldest first (old to it: it
 * holds the last of them back), and makes FREER blocks of 32 bytes of its
 * own ("site: own").  Both threads then wait, the freer with its held
 * frees and the maker with its fresh blocks, while main sleeps argv[1]
 * milliseconds (default 300) and exits: the exit snapshot's own point is
 * of this same heap.  Live at exit: keep 64 * KEEP, grow + regrow
 * 120 * GROW, map 39 pages (8 + 15 + 16), own 32 * FREER, tmp nothing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define KEEP 3000
#define GROW 500
#define TMP 4000
#define FREER 700

static void *tmp[TMP];
static int ready[2], done[2], hold[2]; /* pipes: tmp made, frees done, never written */
static long page;

static void wait_forever(void)
{
    char c;
    while (read(hold[0], &c, 1) != 0)
        ;
}

__attribute__((noinline)) static void *keep_one(void) { return malloc(64); } /* site: keep */
__attribute__((noinline)) static void *grow_one(void) { return malloc(40); } /* site: grow */
__attribute__((noinline)) static void *regrow(void *p, size_t n) { return realloc(p, n); } /* site: regrow */
__attribute__((noinline)) static void *tmp_one(void) { return malloc(48); } /* site: tmp */
__attribute__((noinline)) static void *own_one(void) { return malloc(32); } /* site: own */
__attribute__((noinline)) static char *map_one(void)
{
    int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
    return mmap(NULL, 16 * page, rw, anon, -1, 0); /* site: map */
}

static void *maker(void *arg)
{
    static void *keep[KEEP], *grow[GROW];
    for (int i = 0; i < KEEP; i++)
        memset(keep[i] = keep_one(), 1, 64);
    for (int i = 0; i < GROW; i++)
        grow[i] = grow_one();
    for (int i = 0; i < GROW; i++)
        grow[i] = regrow(grow[i], 200);
    for (int i = 0; i < GROW; i++)
        grow[i] = regrow(grow[i], 120);
    char *m[3];
    for (int i = 0; i < 3; i++)
        m[i] = map_one();
    munmap(m[0], 8 * page);          /* its front half */
    munmap(m[1] + 5 * page, page);   /* a hole: two ranges */
    for (int i = 0; i < TMP; i++)
        tmp[i] = tmp_one();
    if (write(ready[1], "r", 1) != 1)
        abort();
    wait_forever();
    return arg;
}

static void *freer(void *arg)
{
    static void *own[FREER];
    char c;
    if (read(ready[0], &c, 1) != 1)
        abort();
    for (int i = 0; i < FREER; i++)
        own[i] = own_one();
    for (int i = 0; i < TMP; i++)
        free(tmp[i]);
    if (write(done[1], "d", 1) != 1)
        abort();
    wait_forever();
    return arg;
}

int main(int argc, char **argv)
{
    long ms = argc > 1 ? atol(argv[1]) : 300;
    pthread_t t[2];
    char c;
    page = sysconf(_SC_PAGESIZE);
    if (pipe(ready) || pipe(done) || pipe(hold) || pthread_create(&t[0], NULL, maker, NULL) ||
        pthread_create(&t[1], NULL, freer, NULL) || read(done[0], &c, 1) != 1)
        return 1;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    exit(0); /* the threads still wait */
}
