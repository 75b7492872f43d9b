/*
 * gcapi.c - the gc-like API of heapsnap.h on a heap whose answer is known.
 * Blocks are named by size; helpers allocate into globals and main scrubs
 * the dead stack after each, so no stale copy of a pointer is a root.
 * Prints one line per check; tests/shim/leak/test_leak_check.sh compares them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heapsnap.h"

#define NOINLINE __attribute__((noinline))

char *g_a;     /* 5001, also held by g_h[0] (start) and g_h[1] (interior) */
char **g_h;    /* 5002 */
void **g_map;  /* an mmap'd page: not a root unless registered */
void *g_ign;

NOINLINE static void *alloc(size_t n)
{
    void *p = malloc(n);
    memset(p, 0, n);
    return p;
}

NOINLINE static void scrub(void)
{
    volatile char pad[65536];
    memset((char *)pad, 0, sizeof pad);
}

NOINLINE static void build(void)
{
    g_a = alloc(5001);
    g_h = alloc(5002);
    g_h[0] = g_a;
    g_h[1] = g_a + 8;
    alloc(5003); /* leaked */
    g_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_map[0] = alloc(5005);
}

NOINLINE static void ignored(void)
{
    g_ign = alloc(5004);
    printf("ignore %d\n", heapsnap_ignore(g_ign));
    g_ign = NULL;
}

static int by_kind(const void *a, const void *b)
{
    const struct heapsnap_ref *x = a, *y = b;
    return x->kind != y->kind ? x->kind - y->kind : (x->where > y->where) - (x->where < y->where);
}

NOINLINE static void refs(void)
{
    struct heapsnap_ref r[8];
    printf("refcount %ld\n", heapsnap_refcount(g_a));
    printf("refcount_interior %ld\n", heapsnap_refcount(g_a + 100));
    printf("refcount_none %ld\n", heapsnap_refcount((void *)&g_a));
    long n = heapsnap_referrers(g_a, r, 8);
    qsort(r, n > 8 ? 8 : (size_t)n, sizeof r[0], by_kind);
    printf("referrers %ld\n", n);
    for (long i = 0; i < n && i < 8; i++)
        printf("  kind %d size %zu where %s site %s\n", r[i].kind, r[i].size,
               r[i].where == (void *)&g_a ? "g_a"
               : r[i].where == (void *)&g_h[0] ? "h0"
               : r[i].where == (void *)&g_h[1] ? "h1" : "?",
               r[i].kind == HEAPSNAP_REF_BLOCK ? (r[i].site ? "yes" : "no") : "-");
    n = heapsnap_referents(g_h, r, 8);
    printf("referents %ld", n);
    for (long i = 0; i < n && i < 8; i++)
        printf(" %zu%s", r[i].size, r[i].block == g_a ? "=g_a" : "");
    memset(r, 0, sizeof r); /* r held two copies of g_a: they would count */
    printf("\nreferrers_count_only %ld\n", heapsnap_referrers(g_a, NULL, 0));
}

int main(int argc, char **argv)
{
    if (!heapsnap_collect) {
        puts("no shim");
        return 0;
    }
    build();
    scrub();
    refs();
    scrub();
    printf("collect %ld\n", heapsnap_collect(NULL)); /* 5003, 5005 */
    ignored();
    scrub();
    printf("collect_ignored %ld\n", heapsnap_collect(NULL)); /* 5004 is ignored */
    printf("register %d\n", heapsnap_register_root(g_map, 4096));
    printf("collect_registered %ld\n", heapsnap_collect(argc > 1 ? argv[1] : NULL));
    printf("unregister %d", heapsnap_unregister_root(g_map));
    printf(" %d\n", heapsnap_unregister_root(g_map));
    printf("collect_unregistered %ld\n", heapsnap_collect(NULL));
    size_t c[3];
    size_t before = heapsnap_get_count(c, 3);
    void *volatile fresh = malloc(5006);
    size_t after = heapsnap_get_count(c, 3);
    printf("get_count %zu %zu new %zu\n", after - before, c[0], c[1] + c[2] == before ? (size_t)1 : 0);
    free(fresh);
    return 0;
}
