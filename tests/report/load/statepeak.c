// link: report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/lset.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/base/escape.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/input.c report/base/grow.c report/base/bigmem.c
/*
 * statepeak.c - test_state_peak's reader: state_load of the state file it
 * is given, with every malloc, calloc, realloc and free of the process
 * counted (by malloc_usable_size), so that the bytes a read holds at once
 * are a figure of the reader's, not of the machine's.  Prints
 * "peak BYTES doc BYTES traces N": the most held at once during the read,
 * the rebuilt snapshot's size (snap.len) and its traces.  Exits 1 when the
 * read fails.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "snap.h"
#include "stateread.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static size_t held, peak;   /* bytes held now, and the most at once */

static void *statepeak_note(void *p)
{
    if (p && (held += malloc_usable_size(p)) > peak)
        peak = held;
    return p;
}

void *malloc(size_t n)
{
    return statepeak_note(__libc_malloc(n));
}

void *calloc(size_t n, size_t k)
{
    return statepeak_note(__libc_calloc(n, k));
}

void *realloc(void *p, size_t n)
{
    held -= p ? malloc_usable_size(p) : 0;
    return statepeak_note(__libc_realloc(p, n));
}

void free(void *p)
{
    held -= p ? malloc_usable_size(p) : 0;
    __libc_free(p);
}

int main(int argc, char **argv)
{
    struct snap s;
    struct state_info info;
    char err[512];
    if (argc != 2 || state_load(argv[1], &s, &info, err, sizeof err) != 0) {
        fprintf(stderr, "statepeak: %s\n", argc == 2 ? err : "usage: statepeak STATE");
        return 1;
    }
    printf("peak %zu doc %zu traces %u\n", peak, s.len, s.ntraces);
    snap_free(&s);
    return 0;
}
