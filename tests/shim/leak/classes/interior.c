/*
 * interior.c - blocks known only through interior pointers.
 *   A (64 bytes): a global points at A+8 only          -> possibly lost
 *   B (32 bytes): only A points at it (start)          -> possibly lost
 *                 (reachable only through a chain with an interior link)
 *   C (48 bytes): a global points at C and at C+40     -> still reachable
 *   D (48 bytes): a global holds D+48, one past its end -> direct leak
 *                 (not a reference: a block's extent is its requested size)
 *
 * Expected:
 *   possibly lost:   64 + 32 = 96 bytes in 2 blocks at interior.c:28 and interior.c:29
 *   still reachable: 48 bytes in 1 blocks (+ runtime) at interior.c:32
 *   direct:          48 bytes in 1 blocks at interior.c:35
 *   indirect, cycle, suppressed: 0
 */
#include <stdint.h>
#include <stdlib.h>

#include "leakfix.h"

struct blk64 { void *to_b; long pad[7]; };  /* 64 bytes */
struct blk48 { long pad[6]; };              /* 48 bytes */
struct blk32 { long pad[4]; };              /* 32 bytes */
uintptr_t g_a_mid, g_c_start, g_c_mid, g_d_end;

static LF_NOINLINE void build(void)
{
    struct blk64 *a = calloc(1, sizeof(struct blk64));
    a->to_b = calloc(1, sizeof(struct blk32));
    g_a_mid = (uintptr_t)a + 8;
    a = NULL;
    struct blk48 *c = calloc(1, sizeof(struct blk48));
    g_c_start = (uintptr_t)c;
    g_c_mid = (uintptr_t)c + 40;
    c = calloc(1, sizeof(struct blk48));
    g_d_end = (uintptr_t)c + sizeof(struct blk48);
    c = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
