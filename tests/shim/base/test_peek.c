// link: shim/base/peek.c
/*
 * test_peek.c - peek_freeze, the leak check fork's plain loads (peek_safe):
 * while frozen, a private anonymous block (malloc's), a file's private
 * mapping (this binary's data) and the stack are safe; a shared mapping
 * (another process may truncate its file), a PROT_NONE page, an unmapped
 * one and a range running off a mapping's end are not, and peek still
 * reads the safe ones and refuses the unmapped one without a fault; thawed,
 * nothing is safe and peek is the system call's again; a table too small
 * for the mappings trusts none.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "peek.h"
#include "unit.h"

static const char peek_data[64] = "a file's private mapping";

#define ROOM 65536u
static struct peek_range room[ROOM];

TEST_BEGIN(peek_frozen_loads_private_mappings_only)
    long pg = sysconf(_SC_PAGESIZE);
    char *heap = malloc(64), local[32] = "the stack";
    char *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *gone = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_true(heap && shared != MAP_FAILED && none != MAP_FAILED && gone != MAP_FAILED,
                "set-up");
    strcpy(heap, "malloc's block");
    munmap(gone + pg, pg); /* gone's second page unmapped */
    expect_true(!peek_safe((uintptr_t)heap, 64), "not frozen: nothing is safe");
    peek_freeze(room, ROOM);
    expect_true(peek_fz.n > 0, "frozen: %zu ranges", peek_fz.n);
    expect_true(peek_safe((uintptr_t)heap, 64), "malloc's block");
    expect_true(peek_safe((uintptr_t)peek_data, sizeof peek_data), "this binary's data");
    expect_true(peek_safe((uintptr_t)local, sizeof local), "the stack");
    expect_true(peek_safe((uintptr_t)gone, pg), "a private anonymous page");
    expect_true(!peek_safe((uintptr_t)shared, 8), "a shared mapping");
    expect_true(!peek_safe((uintptr_t)none, 8), "a PROT_NONE page");
    expect_true(!peek_safe((uintptr_t)(gone + pg), 8), "an unmapped page");
    expect_true(!peek_safe((uintptr_t)(gone + pg - 8), 16), "a read off a mapping's end");
    char got[64];
    expect_true(peek(got, (uintptr_t)heap, 15) && !memcmp(got, "malloc's block", 15),
                "peek of a safe block");
    expect_true(!peek(got, (uintptr_t)(gone + pg), 8), "peek of an unmapped page refused");
    peek_thaw();
    expect_true(!peek_fz.n && !peek_safe((uintptr_t)heap, 64), "thawed: nothing is safe");
    expect_true(peek(got, (uintptr_t)peek_data, 8) && !memcmp(got, peek_data, 8),
                "thawed peek reads");
    peek_freeze(room, 1); /* every process has more than one range */
    expect_true(!peek_fz.n && !peek_safe((uintptr_t)heap, 64), "a table too small trusts none");
    peek_thaw();
    free(heap);
    munmap(shared, pg);
    munmap(none, pg);
    munmap(gone, pg);
TEST_END

int main(void)
{
    peek_frozen_loads_private_mappings_only();
    return 0;
}
