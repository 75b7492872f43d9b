/*
 * chain.c - a chain of N blocks (default 100,000), each from a stack of its
 * own (chain_link's walk of LEVELS frames through two call sites a level)
 * and each pointing to the one made before it, the last held by g_head:
 * N - 1 (target, source) pairs from blocks and one from module data, for
 * the leak check's RETAINERS (test_leak_retainers_many: more pairs than its
 * table is made for at first).  With MARGIN_KIB it then caps RLIMIT_AS at
 * what it has mapped now (VmSize) plus that much, so that the exit
 * snapshot and the check's copy of the process find only that much room
 * (test_leak_address_limit: a sweep of margins runs each of the check's
 * steps out in turn).  Prints "chain done N" and exits 0.
 *
 * Usage: chain [N [MARGIN_KIB]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define LEVELS 17 /* 2^17 > the most blocks asked for */

struct link {
    struct link *next;
    long n;
};
struct link *g_head;

/* One frame a level, called from one of two sites picked by the path's
 * bit for that level: LEVELS frames, a stack per path. */
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
    if (argc > 3) {
        fprintf(stderr, "usage: chain [N [MARGIN_KIB]]\n");
        return 2;
    }
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    if (n < 1 || n > 1 << LEVELS)
        return 2;
    for (int i = 0; i < n; i++) {
        struct link *l = chain_link(0, i, g_head);
        if (!l)
            return 1;
        g_head = l;
    }
    char done[32]; /* by write(2): a stdio buffer would be one more block held by libc */
    int len = snprintf(done, sizeof done, "chain done %d\n", n);
    if (write(1, done, (size_t)len) != len)
        return 1;
    if (argc < 3)
        return 0;
    unsigned long kib = vm_kib();
    if (!kib)
        return 1;
    rlim_t cap = (rlim_t)(kib + strtoul(argv[2], NULL, 10)) * 1024;
    struct rlimit r = {cap, cap};
    return setrlimit(RLIMIT_AS, &r) == 0 ? 0 : 1;
}
