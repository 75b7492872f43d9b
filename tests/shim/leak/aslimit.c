/*
 * aslimit.c - a program whose exit leak check runs short of address space
 * (test_leak_address_limit.sh).  It keeps a chain of N blocks (default
 * 100,000), each from a stack of its own (chain_link's walk of LEVELS
 * frames through two call sites a level) and each pointing to the one made
 * before it, the last held by g_head: N (target, source) pairs for the
 * check's RETAINERS, whose table grows while the check runs.  Then it caps
 * RLIMIT_AS at what it has mapped now (VmSize) plus MARGIN KiB, so that the
 * exit snapshot and the check's copy of the process find only that much
 * room: with a sweep of margins, each of the check's steps runs out in
 * turn.  Prints "aslimit done N" and exits 0.
 *
 * Usage: aslimit MARGIN_KIB [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define LEVELS 17 /* 2^17 > the most blocks asked for */

struct link {
    struct link *next;
    long n;
};
struct link *g_head;

__attribute__((noinline)) static struct link *chain_link(int level, int path, struct link *next)
{
    struct link *l;
    if (level == LEVELS) {
        l = malloc(sizeof *l); /* L_LINK */
        if (l)
            l->next = next, l->n = path;
        return l;
    }
    if (path >> level & 1) {
        l = chain_link(level + 1, path, next);
        __asm__ volatile("nop" ::: "memory");
    } else {
        l = chain_link(level + 1, path, next);
        __asm__ volatile("" ::: "memory");
    }
    return l;
}

/* VmSize in KiB, or 0. */
static unsigned long vm_kib(void)
{
    char line[256];
    unsigned long kib = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmSize:", 7))
            kib = strtoul(line + 7, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: aslimit MARGIN_KIB [N]\n");
        return 2;
    }
    int n = argc == 3 ? atoi(argv[2]) : 100000;
    if (n < 1 || n > 1 << LEVELS)
        return 2;
    for (int i = 0; i < n; i++) {
        struct link *l = chain_link(0, i, g_head);
        if (!l)
            return 1;
        g_head = l;
    }
    printf("aslimit done %d\n", n);
    fflush(stdout);
    unsigned long kib = vm_kib();
    if (!kib)
        return 1;
    rlim_t cap = (rlim_t)(kib + strtoul(argv[1], NULL, 10)) * 1024;
    struct rlimit r = {cap, cap};
    return setrlimit(RLIMIT_AS, &r) == 0 ? 0 : 1;
}
