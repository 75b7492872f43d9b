/*
 * footprint.c - the shim's fixed memory cost, as a program sees it: its own
 * anonymous resident memory (/proc/self/smaps_rollup's Anonymous) right
 * after start-up and one tracked allocation.  test_footprint.sh runs it
 * with and without the shim.
 *
 * With "snap PATH" it first does what a small program's life does to the
 * shim: a second thread allocates, the siteline helper may walk, and a
 * snapshot is taken (heapsnap_take_snapshot) - every walk of the shim's
 * tables - and then prints, from /proc/self/smaps, the resident size of
 * the shim's .bss (the anonymous mapping right after libheapsnap.so's
 * writable segment), whether a zlib is mapped, and the resident size of
 * libunwind's text (no stack here needs libunwind, so only the pages
 * around what the loader runs of it).
 *
 * Every mode also prints the descriptor its first open() gets: the shim
 * must leave none of its own open in the host (libunwind's warm-up at
 * start-up left its memory-check pipe, so a host's first open() got 5).
 *
 * With "dlclose LIB" it loads and unloads LIB between two rounds of
 * allocations and prints how much its anonymous memory grew: a dlclose
 * makes the shim forget its unwind rules (unwind/rulecache.c).
 *
 * Usage: footprint             prints "first_fd N" and "anon_kb N".
 *        footprint snap PATH   also "bss_kb N", "zlib_mapped 0|1",
 *                              "unwind_text_kb N" (-1: not mapped) and
 *                              "shim_text_kb N" (the shim's text resident),
 *                              "state_kb N" (its state file's pages resident).
 *        footprint dlclose LIB also "dlclose_growth_kb N".
 *        footprint forks N     also "faults_per_fork N": N forks whose
 *                              children _exit at once, their page faults
 *                              and the parent's, per fork.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heapsnap.h"

static void *footprint_thread(void *arg)
{
    for (int i = 0; i < 1000; i++)
        free(malloc(64 + (size_t)(i % 7) * 16));
    return arg;
}

static long footprint_anon(void)
{
    char line[256];
    long anon = -1;
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Anonymous: %ld kB", &anon) == 1)
            break;
    if (f)
        fclose(f);
    return anon;
}

/* The shim's .bss: the mapping that starts where libheapsnap.so's rw-p
 * segment ends and has no file.  Its Rss, or -1. */
static void footprint_maps(long *bss_kb, int *zlib, long *unwind_kb, long *text_kb)
{
    char line[512];
    unsigned long lo, hi, shim_end = 0, in_bss = 0, in_unwind = 0, in_text = 0;
    char perms[8], path[256];
    *bss_kb = -1;
    *zlib = 0;
    *unwind_kb = -1;
    *text_kb = -1;
    FILE *f = fopen("/proc/self/smaps", "r");
    while (f && fgets(line, sizeof line, f)) {
        long kb;
        path[0] = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms, path) >= 3) {
            if (strstr(path, "libz.so"))
                *zlib = 1;
            in_bss = shim_end && lo == shim_end && !path[0] && perms[1] == 'w';
            shim_end = strstr(path, "libheapsnap.so") && perms[1] == 'w' ? hi : 0;
            in_unwind = strstr(path, "libunwind.so") && perms[2] == 'x';
            in_text = strstr(path, "libheapsnap.so") && perms[2] == 'x';
        } else if (in_bss && sscanf(line, "Rss: %ld kB", &kb) == 1) {
            *bss_kb = kb;
            in_bss = 0;
        } else if (in_text && sscanf(line, "Rss: %ld kB", &kb) == 1) {
            *text_kb = kb;
            in_text = 0;
        } else if (in_unwind && sscanf(line, "Rss: %ld kB", &kb) == 1) {
            *unwind_kb = kb;
            in_unwind = 0;
        }
    }
    if (f)
        fclose(f);
}

/* KiB resident of the mappings of the shim's state file (NAME.state). */
static long footprint_state_kb(void)
{
    char line[512], path[256];
    long total = 0, kb;
    int in_state = 0;
    FILE *f = fopen("/proc/self/smaps", "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        size_t n;
        path[0] = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &lo, &hi, path) >= 2)
            in_state = (n = strlen(path)) > 6 && !strcmp(path + n - 6, ".state");
        else if (in_state && sscanf(line, "Rss: %ld kB", &kb) == 1)
            total += kb;
    }
    if (f)
        fclose(f);
    return total;
}

static void *footprint_site(size_t n) __attribute__((noinline));
static void *footprint_site(size_t n)
{
    return malloc(n);
}

/* n forks whose children leave at once through _exit: the page faults a
 * fork costs, the child's and the parent's after it (each page either
 * writes after the fork is a fault: copy-on-write, or a fresh page). */
static void footprint_forks(int n)
{
    struct rusage self0, self1, kids;
    void *keep = malloc(64);
    getrusage(RUSAGE_SELF, &self0);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        free(malloc(32)); /* the parent goes on allocating */
    }
    getrusage(RUSAGE_SELF, &self1);
    getrusage(RUSAGE_CHILDREN, &kids);
    printf("faults_per_fork %ld\n",
           n > 0 ? (kids.ru_minflt + self1.ru_minflt - self0.ru_minflt) / n : -1);
    free(keep);
}

int main(int argc, char **argv)
{
    void *p = malloc(100);
    FILE *devnull = fopen("/dev/null", "r");
    printf("first_fd %d\n", devnull ? fileno(devnull) : -1);
    if (devnull)
        fclose(devnull);
    if (argc == 3 && !strcmp(argv[1], "dlclose")) {
        for (int i = 0; i < 100; i++)
            free(footprint_site(32));
        long before = footprint_anon();
        void *h = dlopen(argv[2], RTLD_NOW);
        if (!h) {
            printf("dlopen failed\n");
            return 1;
        }
        dlclose(h);
        for (int i = 0; i < 100; i++)
            free(footprint_site(48));
        printf("dlclose_growth_kb %ld\n", footprint_anon() - before);
    }
    if (argc == 3 && !strcmp(argv[1], "forks"))
        footprint_forks(atoi(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "snap")) {
        pthread_t t;
        if (pthread_create(&t, NULL, footprint_thread, NULL) == 0)
            pthread_join(t, NULL);
        if (heapsnap_take_snapshot)
            heapsnap_take_snapshot(argv[2]);
        long bss, unwind, text;
        int zlib;
        footprint_maps(&bss, &zlib, &unwind, &text);
        printf("bss_kb %ld\nzlib_mapped %d\nunwind_text_kb %ld\nshim_text_kb %ld\n", bss, zlib,
               unwind, text);
        printf("state_kb %ld\n", footprint_state_kb());
    }
    long anon = footprint_anon();
    printf("anon_kb %ld\n", anon);
    free(p);
    return anon < 0;
}
