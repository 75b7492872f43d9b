/*
 * beatstacks.c - what the state file's heartbeat costs the resident set
 * when it writes many new stacks at once (test_state_resident.sh): right
 * after a beat, 4,096 new stacks of about 32 frames each below their
 * shared part (a binary tree of 12 levels, then 30 calls of one function
 * each: new frame-tree nodes, about 127,000, 16 bytes each in the file);
 * the high-water mark reset; then the next two beats (which write those
 * stacks and a document) awaited.  Prints "spike=K" (KiB of the peak over
 * the resident set before), or "busy" (exit 3) when a beat came during
 * the burst.  Usage: beatstacks DIR (where the one *.state file is)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hsnap_state.h"

#define LEVELS 12
#define CHAIN 30

static long status_kb(const char *key)
{
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)))
            v = atol(line + strlen(key));
    if (f)
        fclose(f);
    return v;
}

__attribute__((noinline)) static void chain(int n)
{
    if (n == 0)
        free(malloc(24));
    else
        chain(n - 1);
    __asm__ volatile("" ::: "memory"); /* no tail call */
}

static void branch(unsigned k, int level);

__attribute__((noinline)) static void left(unsigned k, int level)
{
    branch(k, level + 1);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void right(unsigned k, int level)
{
    branch(k, level + 1);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void branch(unsigned k, int level)
{
    if (level == LEVELS)
        chain(CHAIN);
    else if (k >> level & 1)
        right(k, level);
    else
        left(k, level);
    __asm__ volatile("" ::: "memory");
}

static uint64_t beats(const volatile struct hsnap_state_head *h)
{
    return __atomic_load_n(&h->beats, __ATOMIC_ACQUIRE);
}

/* Until the header's beats reach want (5 s at most): 0, or -1. */
static int wait_beats(const volatile struct hsnap_state_head *h, uint64_t want)
{
    for (int i = 0; i < 5000 && beats(h) < want; i++)
        usleep(1000);
    return beats(h) >= want ? 0 : -1;
}

int main(int argc, char **argv)
{
    char path[4096] = "";
    DIR *d = argc == 2 ? opendir(argv[1]) : NULL;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strlen(e->d_name) > 6 && !strcmp(e->d_name + strlen(e->d_name) - 6, ".state"))
            snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    int fd = path[0] ? open(path, O_RDONLY) : -1;
    const volatile struct hsnap_state_head *h =
        fd >= 0 ? mmap(NULL, HSTATE_PAGE, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (h == MAP_FAILED)
        return 2;
    uint64_t b = beats(h);
    if (wait_beats(h, b + 1) != 0) /* just after a beat: the next is a beat away */
        return 2;
    b = beats(h);
    for (unsigned k = 0; k < 1u << LEVELS; k++)
        branch(k, 0);
    if (beats(h) != b) {
        puts("busy");
        return 3;
    }
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0)
        return 2;
    long rss = status_kb("VmRSS:");
    if (wait_beats(h, b + 2) != 0)
        return 2;
    printf("spike=%ld stacks=%u\n", status_kb("VmHWM:") - rss, h->stacks_n);
    return 0;
}
