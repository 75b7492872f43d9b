// link: shim/python/frames/native.c shim/python/frames/code.c shim/python/layout/layout.c shim/base/lock.c shim/python/reads/pyarray.c
/*
 * test_native.c - shim/python/frames/native.c names a native stack by
 * lanes run from its outermost frame in, so that a stack sharing its outer
 * frames with the one before (stack.c's pyfr_last) is named from the
 * lanes kept there: the name so made is the whole stack's, the same frames
 * always get the same name, and another frame, another depth (the same
 * frames outermost) or the truncation flag makes another.
 * arena_* and sbuf_* are stubbed (malloc; no snapshot here).
 */
#include <stdlib.h>

#include "pyframes.h"
#include "unwind.h"
#include "unit.h"

void *arena_alloc(size_t n)
{
    return calloc(1, n);
}
void arena_free(void *p, size_t n)
{
    (void)n;
    free(p);
}
void *arena_keep(size_t n)
{
    return calloc(1, n);
}
void *arena_map(size_t n)
{
    return calloc(1, n);
}
void *arena_remap(void *p, size_t old, size_t n)
{
    char *q = realloc(p, n);
    if (q && n > old)
        memset(q + old, 0, n - old);
    return q;
}
void sbuf_u32(struct sbuf *b, uint32_t v)
{
    (void)b, (void)v;
}
void sbuf_put(struct sbuf *b, const void *p, size_t n)
{
    (void)b, (void)p, (void)n;
}

#define DEPTH 40

/* The lanes of ip[0..depth)'s outermost `outer` frames. */
static struct pyfr_native_lanes lanes_outer(const uintptr_t *ip, unsigned depth, unsigned outer)
{
    struct pyfr_native_lanes s = PY_NATIVE_SEED;
    for (unsigned k = 0; k < outer; k++)
        s = pyfr_native_step(s, ip[depth - 1 - k]);
    return s;
}

TEST_BEGIN(native_name_from_shared_outer_lanes)
{
    uintptr_t a[DEPTH], b[DEPTH];
    for (unsigned i = 0; i < DEPTH; i++)
        a[i] = b[i] = 0x400000 + 0x40 * i;
    for (unsigned i = 0; i < 5; i++)
        b[i] = 0x7f0000001000 + 0x10 * i; /* another C function allocates */
    uint32_t na = pyfr_native_name(a, DEPTH, 0), nb = pyfr_native_name(b, DEPTH, 0);
    expect_true(na != UNWIND_NO_NAME && (na & UNWIND_NAME_FRAMES), "a named: %x", na);
    expect_true(na != nb, "a and b share a name %x", na);
    /* b from a's lanes over the 35 outer frames they share */
    struct pyfr_native_lanes s = lanes_outer(a, DEPTH, DEPTH - 5);
    for (unsigned i = 5; i-- > 0;)
        s = pyfr_native_step(s, b[i]);
    expect_eq_u64(pyfr_native_name_of(s, DEPTH, 0), nb);
    expect_eq_u64(pyfr_native_name_of(lanes_outer(a, DEPTH, DEPTH), DEPTH, 0), na);
    expect_eq_u64(pyfr_native_name(a, DEPTH, 0), na);
    uint32_t ta = pyfr_native_name(a, DEPTH, 1);
    expect_true(ta != na && ta != nb, "truncated a is a's or b's name %x", ta);
    /* a's outer 39 frames: the same lanes as a's there, another depth */
    uint32_t short_a = pyfr_native_name(a + 1, DEPTH - 1, 0);
    expect_true(short_a != na && short_a != nb && short_a != ta, "a less its innermost: %x", short_a);
    expect_eq_u64(pyfr_native_name_of(lanes_outer(a, DEPTH, DEPTH - 1), DEPTH - 1, 0), short_a);
}
TEST_END

int main(void)
{
    native_name_from_shared_outer_lanes();
    return 0;
}
