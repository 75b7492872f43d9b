/*
 * badfree.c - a program with a bad free, which must stop (or run on) under
 * the shim exactly where it does without it, though the shim holds frees
 * back (pend_hold).  The thread holds: bf_age's frees (held.c's held_age) make
 * its frees mostly of old blocks, and p and o[] are old by then.  Each mode
 * prints "before", makes its call, and prints "after" if it returns
 * (stdout unbuffered: what was printed is all there, even after an abort).
 * Without the shim (glibc 2.36):
 *   ok        a correct free: exit 0, "after" printed;
 *   double    free(p); free(p): "free(): double free detected in tcache 2",
 *             SIGABRT at the second call, no "after";
 *   stack     free of a buffer on the stack (its header word 0):
 *             "free(): invalid pointer", SIGABRT, no "after";
 *   interior  free(p + 8): "free(): invalid pointer", SIGABRT, no "after";
 *   realloc   free(p); realloc(p, 100): a use after free glibc meets as a
 *             double free, SIGABRT, no "after";
 *   stackpass the same buffer with a header glibc takes for an 80-byte
 *             chunk's: glibc puts it in its cache and lets the program run
 *             on - exit 0, "after" printed;
 *   thread    double's two frees, in a thread of its own that holds:
 *             the same abort, no "thread after" (the worker's) nor "after";
 *   refree    o[0..6] fill the tcache, p goes to a fastbin, 7 more frees,
 *             then free(p) again: glibc checks only the fastbin's top and
 *             lets it pass - exit 0, "after" printed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BF_FILL 3000
#define BF_OTHERS 14

/* Ages every block allocated before it (as held.c's held_age). */
static void bf_age(void)
{
    static void *fill[BF_FILL];
    for (int i = 0; i < BF_FILL; i++)
        fill[i] = malloc(16);
    for (int i = 0; i < BF_FILL; i++)
        free(fill[i]);
}

/* A free the compiler cannot see through (it warns on the bad ones). */
static void (*volatile bf_free)(void *) = free;

/* thread's worker: a block of its own, aged in this thread, freed twice. */
static void *bf_worker(void *arg)
{
    (void)arg;
    char *q = malloc(48);
    bf_age();
    bf_free(q);
    bf_free(q);
    printf("thread after\n");
    return NULL;
}

int main(int argc, char **argv)
{
    const char *m = argc > 1 ? argv[1] : "ok";
    setvbuf(stdout, NULL, _IONBF, 0);
    char *p = malloc(48);
    void *o[BF_OTHERS];
    for (int i = 0; i < BF_OTHERS; i++)
        o[i] = malloc(48);
    bf_age();
    printf("before\n");
    if (!strcmp(m, "double")) {
        bf_free(p);
        bf_free(p);
    } else if (!strcmp(m, "stack") || !strcmp(m, "stackpass")) {
        struct {
            size_t prev, size; /* the header glibc reads */
            char buf[64];
        } __attribute__((aligned(16))) s;
        memset(&s, 0, sizeof s);
        if (!strcmp(m, "stackpass"))
            s.size = 0x51; /* 80 bytes, the previous chunk in use */
        bf_free(s.buf);
    } else if (!strcmp(m, "thread")) {
        pthread_t t;
        if (pthread_create(&t, NULL, bf_worker, NULL) == 0)
            pthread_join(t, NULL);
    } else if (!strcmp(m, "interior")) {
        bf_free(p + 8);
    } else if (!strcmp(m, "realloc")) {
        bf_free(p);
        p = realloc(p, 100);
    } else if (!strcmp(m, "refree")) {
        for (int i = 0; i < 7; i++)
            bf_free(o[i]);
        bf_free(p);
        for (int i = 7; i < BF_OTHERS; i++)
            bf_free(o[i]);
        bf_free(p);
    } else {
        bf_free(p);
    }
    printf("after\n");
    return 0;
}
