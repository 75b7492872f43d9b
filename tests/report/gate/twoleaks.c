/*
 * twoleaks.c - two leak sites for the gate's suppression tests
 * (tests/report/gate/test_gate.sh):
 *   line 13  keep_cache: 2 x malloc(64), pointers dropped: direct leaks
 *   line 21  lose_name:  1 x malloc(100), pointer dropped: a direct leak
 */
#include <stdlib.h>
#include <string.h>

static void keep_cache(void)
{
    for (int i = 0; i < 2; i++) {
        char *volatile p = malloc(64);
        memset(p, 2, 64);
        p = NULL;
    }
}

static void lose_name(void)
{
    char *volatile p = malloc(100);
    memset(p, 1, 100);
    p = NULL;
}

/* Overwrites the stack that lose_name used, so that no stale copy of its
 * pointer keeps the block reachable for the conservative scan. */
static void scrub(void)
{
    volatile char junk[4096];
    memset((char *)junk, 0, sizeof(junk));
}

int main(void)
{
    keep_cache();
    lose_name();
    scrub();
    return 0;
}
