// link: shim/python/frames/native.c shim/base/arena.c shim/base/lock.c
/*
 * test_pynative.c - shim/python/frames/native.c's names of native stacks:
 * the same frames get the same name while the table remembers them (the
 * last 65,536 names), a name is never handed out again, a stack met after
 * that many others gets a new one, and the table's memory stays the same
 * however many names were made (import torch makes 770k); a stack is
 * named alike from its frames or from lanes run outermost first, as
 * stack.c resumes them from the stack before.
 */
#include <stdint.h>

#include "base.h"
#include "unwind.h"
#include "pyframes.h"
#include "unit.h"

#define KEEP 65536u /* native.c's PY_NATIVE_KEEP */

static int degraded;
void degrade_now(const char *why) { degraded = 1; }
void opt_warn(const char *a, const char *b, const char *c) {}
void pyfr_code_lock(void) {}
void pyfr_code_unlock(void) {}

/* Not traces.c's: any hash of the frames will do for the table. */
uint64_t trace_hash(const uintptr_t *ip, unsigned depth)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ depth;
    for (unsigned i = 0; i < depth; i++)
        h = trace_mix(h ^ ip[i]);
    return h;
}

/* Stack i: three frames, the innermost i's own. */
static uint32_t name_of(uint32_t i)
{
    uintptr_t ip[3] = {0x400000 + (uintptr_t)i * 16, 0x7f0000001000, 0x7f0000002000};
    return pyfr_native_name(ip, 3, 0);
}

static uint32_t names[4 * KEEP];

TEST_BEGIN(native_names_remembered_for_the_last_keep)
    uint32_t first = name_of(0);
    expect_true(first != UNWIND_NO_NAME && (first & UNWIND_NAME_FRAMES), "name %#x", first);
    uintptr_t ip[3] = {0x400000, 0x7f0000001000, 0x7f0000002000};
    expect_true(pyfr_native_name(ip, 3, 1) != first, "a truncated stack shares its name");
    size_t mapped = 0;
    /* 4 x KEEP stacks; each named twice in a row, and the one KEEP - 1
     * names back again (the oldest the table still remembers), so that
     * forgetting one name never loses another from the index */
    for (uint32_t i = 1; i < 4 * KEEP; i++) {
        names[i] = name_of(i);
        if (names[i] == UNWIND_NO_NAME || names[i] != name_of(i)) {
            expect_true(0, "stack %u: %#x, then another", i, names[i]);
            break;
        }
        if (i >= KEEP && name_of(i - (KEEP - 2)) != names[i - (KEEP - 2)]) {
            expect_true(0, "stack %u forgotten at %u", i - (KEEP - 2), i);
            break;
        }
        if (i == 2 * KEEP)
            mapped = arena_mapped();
    }
    expect_true(arena_mapped() == mapped, "the table grew from %zu to %zu bytes past %u names",
                mapped, arena_mapped(), 2 * KEEP);
    /* records 1 MiB, index 1 MiB (8-byte slots), the arena's first chunk of
     * small blocks 1 MiB */
    expect_true(mapped <= 3u << 20, "%zu bytes for the table", mapped);
    /* the last KEEP - 1 all remembered, whatever order they come in */
    for (uint32_t i = 4 * KEEP - 1; i > 3 * KEEP + 1; i -= 7)
        if (name_of(i) != names[i]) {
            expect_true(0, "stack %u forgotten", i);
            break;
        }
    /* stack 0, long forgotten: a name no stack had */
    uint32_t again = name_of(0);
    expect_true(again != first && again != UNWIND_NO_NAME, "stack 0: %#x, then %#x", first, again);
    for (uint32_t i = 1; i < 4 * KEEP; i++)
        if (names[i] == again) {
            expect_true(0, "stack 0's new name %#x was stack %u's", again, i);
            break;
        }
    expect_true(name_of(0) == again, "stack 0 named anew twice");
    expect_true(degraded == 0, "the arena degraded");
TEST_END

/* A stack sharing its outer frames with the one before (stack.c's
 * pyfr_last) is named from the lanes kept there, run from the outermost
 * frame in: the name so made is the whole stack's, and another frame,
 * another depth (the same frames outermost) or the truncation flag makes
 * another. */
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
    native_names_remembered_for_the_last_keep();
    native_name_from_shared_outer_lanes();
    return 0;
}
