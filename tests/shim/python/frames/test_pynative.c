// link: shim/python/frames/native.c shim/base/arena.c shim/base/lock.c
/*
 * test_pynative.c - shim/python/frames/native.c's names of native stacks:
 * the same frames get the same name while the table remembers them (the
 * last 65,536 names), a name is never handed out again, a stack met after
 * that many others gets a new one, and the table's memory stays the same
 * however many names were made (import torch makes 770k).
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
    /* records 1 MiB, index 512 KiB, the arena's first chunk of small blocks 1 MiB */
    expect_true(mapped <= 5u << 19, "%zu bytes for the table", mapped);
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

int main(void)
{
    native_names_remembered_for_the_last_keep();
    return 0;
}
