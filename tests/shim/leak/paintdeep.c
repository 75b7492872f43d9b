/*
 * paintdeep.c - how far below its caller a malloc hook leaves what it
 * wrote.  Before each malloc the dead stack below the caller (PD_PAINT
 * bytes) is painted with PD_PAT; after it, every word there must still
 * hold PD_PAT (never reached) or 0 (cleared by the hook's scrub): any other
 * word is the shim's own work left behind, which the leak check would read
 * as the program's when a later frame's holes cover it.  The mallocs come
 * from STACKS distinct stacks 17 frames deep (as kept.c's), twice: the
 * first round's stacks are new (a walk, an intern, the indexes' growth),
 * the second's are met again after other stacks pushed them out of the
 * unwinder's memo (a walk by the cached rules, the trace found).  Build
 * with -Wl,-z,now: a lazy binding's resolver writes kilobytes below the
 * caller before any hook runs.
 *
 * Usage: paintdeep N STACKS [calloc|fresh|realloc|evict|churn]    prints "stray A B deepest D": the mallocs of
 * each round that left such a word, and the deepest word the hook wrote
 * in the second round (cleared or not), in bytes below the caller; calloc:
 * the same with calloc(1, size), whose tracked path is malloc's shape
 * (hook_calloc_tracked); fresh: each block freed at the next malloc,
 * before the paint, so that the thread keeps fresh blocks (pend_keep, by
 * hook_malloc_fresh's path); realloc: a block of 8 bytes made
 * before the paint grown to size by realloc (hook_realloc_tracked: the old
 * block dies young, so the thread keeps fresh blocks); evict: the last
 * block freed first at every other malloc only, so that the thread keeps
 * fresh blocks and the ones kept push others out of their slots into the
 * table (pend_fresh_evict); churn: before each malloc, a block made long
 * before is freed (a ring of PD_RING, picked at random), so that the
 * thread holds old frees and a malloc that raises the peak releases them
 * first (trace_new_peak, pend_release_oldest: the held path's deepest
 * words, 640-767 bytes below the caller); strdup (the library's
 * wrapped rounds only): each block made by libc's strdup, whose malloc's
 * caller is libc's (HEAPSNAP_PYTHON_NATIVE=caller walks on to pd_leaf:
 * hook_stack_unwrap).  With -DPD_LIBRARY, a library whose pd_run a Python
 * process calls (test_leak_leftovers).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PD_LEVELS 17
#define PD_PAINT 16384               /* bytes painted below the caller */
#define PD_OWN 256                   /* the caller's own frame and the call's return address */
#define PD_PAT 0x5a5a5a5a5a5a5a5aull

static unsigned long pd_stray, pd_deepest;
static int pd_how;                   /* 1: calloc(1, size), 2: the last block freed first,
                                        3: realloc of a block made before the paint,
                                        4: as 2 at every other malloc only,
                                        5: an old block of the ring freed first,
                                        6: strdup of a string of size - 1 bytes */
#define PD_RING 4096
static void *pd_ring[PD_RING];       /* churn: the blocks kept, freed at random */
static uint64_t pd_rng = 88172645463325252ull;
static unsigned long pd_calls;       /* evict: mallocs so far */
static void *pd_last;                /* fresh: the block the next malloc frees first */
void *volatile pd_sink;              /* keeps each malloc (GCC drops an unused one) */
static char pd_text[256];            /* strdup: 255 'x's, its tail taken */

__attribute__((noinline)) static void *pd_leaf(size_t size)
{
    if (pd_how == 2 || (pd_how == 4 && pd_calls++ % 2 == 0)) {
        free(pd_last);
        pd_last = NULL;
    }
    unsigned slot = 0;
    if (pd_how == 5) {
        pd_rng ^= pd_rng << 13, pd_rng ^= pd_rng >> 7, pd_rng ^= pd_rng << 17;
        slot = (unsigned)(pd_rng % PD_RING);
        free(pd_ring[slot]);
    }
    void *old = pd_how == 3 ? malloc(8) : NULL;
    volatile char here;
    uintptr_t top = (uintptr_t)&here & ~(uintptr_t)7;
    volatile uint64_t *lo = (volatile uint64_t *)(top - PD_PAINT);
    volatile uint64_t *hi = (volatile uint64_t *)(top - PD_OWN);
    for (volatile uint64_t *q = lo; q < hi; q++)
        *q = PD_PAT;
    void *p = pd_how == 1   ? calloc(1, size)
              : pd_how == 3 ? realloc(old, size)
              : pd_how == 6 ? strdup(pd_text + sizeof pd_text - size)
                            : malloc(size);
    pd_sink = p;
    if (pd_how == 2 || pd_how == 4)
        pd_last = p; /* evict: the one it replaces unfreed stays live to the end */
    if (pd_how == 5)
        pd_ring[slot] = p;
    int stray = 0;
    volatile uint64_t *q = lo;
    while (q < hi && *q == PD_PAT)
        q++;
    if (top - (uintptr_t)q > pd_deepest && q < hi)
        pd_deepest = top - (uintptr_t)q;
    for (; q < hi; q++)
        if (*q != PD_PAT && *q != 0)
            stray = 1;
    pd_stray += (unsigned long)stray;
    return p;
}

/* One frame a level, from one of two call sites picked by path's bit. */
__attribute__((noinline)) static void *pd_level(int level, unsigned long path, size_t size)
{
    void *p;
    if (level == PD_LEVELS)
        return pd_leaf(size);
    if (path >> (PD_LEVELS - 1 - level) & 1) {
        p = pd_level(level + 1, path, size);
        __asm__ volatile("nop" ::: "memory");
    } else {
        p = pd_level(level + 1, path, size);
        __asm__ volatile("" ::: "memory");
    }
    return p;
}

/* The two rounds: out[0], out[1] the mallocs of each that left a stray,
 * out[2] the deepest word the second wrote. */
static void pd_rounds(long n, unsigned long stacks, unsigned long *out)
{
    for (int round = 0; round < 2; round++) {
        pd_stray = pd_deepest = 0;
        for (long i = 0; i < n; i++)
            pd_level(0, (unsigned long)i * 7919 % stacks, 16 + (size_t)(i % 100));
        out[round] = pd_stray;
    }
    out[2] = pd_deepest;
}

#ifdef PD_LIBRARY
/* Built as a library for a Python process (ctypes): pd_run's rounds run on
 * the calling thread (Python's frames under them: the splice's path) or,
 * with native 1, on a thread of its own (no Python frame: a native
 * stack's walk in a process that runs Python); native 2: on the calling
 * thread, each block by strdup. */
#include <pthread.h>

struct pd_job {
    long n;
    unsigned long stacks, *out;
};

static void *pd_thread(void *arg)
{
    struct pd_job *j = arg;
    pd_rounds(j->n, j->stacks, j->out);
    return NULL;
}

int pd_run(long n, unsigned long stacks, int native, unsigned long *out)
{
    struct pd_job j = {n, stacks, out};
    pthread_t t;
    memset(pd_text, 'x', sizeof pd_text - 1);
    pd_how = native == 2 ? 6 : 0;
    if (native != 1) {
        pd_rounds(n, stacks, out);
        return 0;
    }
    if (pthread_create(&t, NULL, pd_thread, &j) != 0)
        return -1;
    return pthread_join(t, NULL) == 0 ? 0 : -1;
}
#else
int main(int argc, char **argv)
{
    if (argc == 4)
        pd_how = strcmp(argv[3], "calloc") == 0    ? 1
                 : strcmp(argv[3], "fresh") == 0   ? 2
                 : strcmp(argv[3], "realloc") == 0 ? 3
                 : strcmp(argv[3], "evict") == 0   ? 4
                 : strcmp(argv[3], "churn") == 0   ? 5
                                                   : -1;
    if (argc < 3 || argc > 4 || pd_how < 0) {
        fprintf(stderr, "usage: paintdeep N STACKS [calloc|fresh|realloc|evict|churn]\n");
        return 2;
    }
    long n = atol(argv[1]);
    unsigned long stacks = strtoul(argv[2], NULL, 10), out[3];
    if (n < 1 || stacks < 1 || stacks > (1ul << PD_LEVELS))
        return 2;
    pd_rounds(n, stacks, out);
    printf("stray %lu %lu deepest %lu\n", out[0], out[1], out[2]);
    return 0;
}
#endif
