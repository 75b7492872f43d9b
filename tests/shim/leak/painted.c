/*
 * painted.c - how deep the shim's work goes below the caller of a hook,
 * against how deep the hook clears (hook_leave).  Before each malloc the
 * dead stack below the caller (16 KiB) is painted; after it, the deepest
 * word that lost the paint must be one the scrub wrote (zero): a word of
 * the shim's own below the cleared stack would be one the leak check may
 * read as the program's (shim/base/scrub.c).  The mallocs come from
 * random paths through four functions, 6 to 40 deep, 3,000 paths taken
 * twice (new stacks, then stacks named before).  Prints "painted N
 * below M": the mallocs checked, and those that left a word of the
 * shim's below the cleared stack deeper than 1 KiB (the named-stack
 * windows' own reach: HOOK_SCRUB_STACK).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))
#define PAINT (16 * 1024)
#define PAT 0x5a5a5a5a5a5a5a5aull
#define SHALLOW 1024
#define PATHS 3000

static unsigned long checked, below;
static void *kept[2 * PATHS];
static int nkept;

/* The paint, the malloc and the check in one frame that calls nothing
 * else: below its stack pointer only the hook writes. */
static NOINLINE void *pt_malloc(size_t n)
{
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    volatile uint64_t *w = (uint64_t *)(sp - PAINT);
    for (size_t i = 0; i < (PAINT - 8) / 8; i++)
        w[i] = PAT;
    void *p = malloc(n);
    for (size_t i = 0; i < (PAINT - 8) / 8; i++) {
        uint64_t v = w[i];
        if (v == PAT)
            continue;
        if (v != 0 && PAINT - i * 8 > SHALLOW)
            below++;
        break;
    }
    checked++;
    return p;
}

static void *pt_go(int d, uint64_t path);
static NOINLINE void *pt_a(int d, uint64_t p) { return pt_go(d, p); }
static NOINLINE void *pt_b(int d, uint64_t p)
{
    volatile char pad[40];
    pad[0] = 1;
    void *r = pt_go(d, p);
    return pad[0] ? r : NULL;
}
static NOINLINE void *pt_c(int d, uint64_t p) { return pt_go(d, p ^ (p >> 7)); }
static NOINLINE void *pt_d(int d, uint64_t p)
{
    volatile char pad[200];
    pad[0] = 1;
    void *r = pt_go(d, p);
    return pad[0] ? r : NULL;
}
static void *pt_go(int d, uint64_t p)
{
    void *(*const step[])(int, uint64_t) = {pt_a, pt_b, pt_c, pt_d};
    return d ? step[p & 3](d - 1, p >> 2 | p << 62) : pt_malloc(16 + (p & 63));
}

int main(void)
{
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 2; round++) {
        x = 88172645463325252ull;
        for (int i = 0; i < PATHS; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            kept[nkept++] = pt_go(6 + (int)(x % 35), x);
        }
    }
    printf("painted %lu below %lu\n", checked, below);
    return 0;
}
