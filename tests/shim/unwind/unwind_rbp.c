/* unwind_rbp.c - for test_unwind_equiv.sh: two stacks whose walks start in
 * the same state (same return address into rbp_site, same stack pointer at
 * its call to malloc) and differ only in rbp, on which rbp_site's CFA is
 * based (alloca makes it keep a frame pointer).  main calls, through one
 * pointer from one call instruction, either rbp_wrap -> rbp_site (path A)
 * or rbp_site directly with an alloca bigger by rbp_wrap's frame (path B),
 * calibrated so that both allocate at the same stack pointer.  Path B also
 * writes, into its alloca buffer, the word path A's walk read there (A's
 * return address into rbp_wrap): a repeat check that compared return
 * address words only would take B's stack for A's.  Each path allocates
 * 100 times, in turn.  Prints "aligned 1" when the calibration worked. */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static void *volatile rbp_keep[256];
static volatile int rbp_sink;
static uintptr_t rbp_buf, rbp_fa, rbp_ra; /* what rbp_site last saw */
static uintptr_t rbp_a_fa, rbp_a_ra;      /* path A's frame and return address */

NOINLINE static void *rbp_site(size_t pad, int fake)
{
    char *buf = alloca(pad);
    memset(buf, 0, pad);
    rbp_buf = (uintptr_t)buf;
    rbp_fa = (uintptr_t)__builtin_frame_address(0);
    rbp_ra = (uintptr_t)__builtin_return_address(0);
    if (fake && rbp_a_fa + 8 >= rbp_buf && rbp_a_fa + 16 <= rbp_buf + pad)
        memcpy(buf + (rbp_a_fa + 8 - rbp_buf), &rbp_a_ra, sizeof rbp_a_ra);
    void *p = malloc(24);
    rbp_sink += buf[0];
    return p;
}

NOINLINE static void *rbp_wrap(size_t pad, int fake)
{
    volatile char room[512]; /* a frame bigger than rbp_site's own part */
    room[0] = (char)pad;
    void *p = rbp_site(pad, fake);
    rbp_sink += room[0];
    return p;
}

int main(void)
{
    void *(*volatile call)(size_t, int);
    size_t pad_a = 64, pad_b = 64 + 512;
    call = rbp_wrap;
    free(call(pad_a, 0));
    uintptr_t buf_a = rbp_buf;
    rbp_a_fa = rbp_fa;
    rbp_a_ra = rbp_ra;
    for (int i = 0; i < 8; i++) { /* B's alloca until its buffer starts where A's does */
        call = rbp_site;
        free(call(pad_b, 0));
        if (rbp_buf == buf_a)
            break;
        pad_b += rbp_buf - buf_a;
    }
    int aligned = rbp_buf == buf_a && rbp_fa != rbp_a_fa;
    for (int i = 0; i < 200; i++) {
        call = i & 1 ? (void *(*)(size_t, int))rbp_site : rbp_wrap;
        rbp_keep[i] = call(i & 1 ? pad_b : pad_a, 1);
    }
    printf("aligned %d\n", aligned);
    return 0;
}
