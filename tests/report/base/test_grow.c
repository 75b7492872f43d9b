// link: report/base/grow.c report/base/bigmem.c
/*
 * test_grow.c - grow_array: growth from an empty array, doubling, a request
 * that already fits, and the two failures (a byte size that overflows, and
 * a realloc that cannot be met) each leaving the caller's array and
 * capacity exactly as they were, contents included.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli.h"
#include "unit.h"

TEST_BEGIN(test_grows_from_zero)
{
    int *v = NULL;
    size_t cap = 0;
    expect_true(grow_array((void **)&v, &cap, 1, sizeof(*v)) == 0, "first growth failed");
    expect_true(v != NULL, "no array after growth");
    expect_eq_u64(cap, 8);
    v[7] = 42; /* the whole capacity is usable */
    free(v);
}
TEST_END

TEST_BEGIN(test_doubles_and_keeps_contents)
{
    int *v = NULL;
    size_t cap = 0;
    for (int i = 0; i < 100; i++) {
        expect_true(grow_array((void **)&v, &cap, (size_t)i + 1, sizeof(*v)) == 0,
                    "growth to %d failed", i + 1);
        v[i] = i * 3;
    }
    expect_eq_u64(cap, 128);
    for (int i = 0; i < 100; i++)
        expect_true(v[i] == i * 3, "v[%d] == %d after growth", i, v[i]);
    expect_true(grow_array((void **)&v, &cap, 1000, sizeof(*v)) == 0, "jump to 1000");
    expect_eq_u64(cap, 1024);
    expect_true(v[99] == 297, "contents lost by a jump");
    free(v);
}
TEST_END

TEST_BEGIN(test_fitting_request_is_noop)
{
    int *v = NULL;
    size_t cap = 0;
    expect_true(grow_array((void **)&v, &cap, 5, sizeof(*v)) == 0, "growth failed");
    int *before = v;
    expect_true(grow_array((void **)&v, &cap, 8, sizeof(*v)) == 0, "fitting request failed");
    expect_true(v == before, "a fitting request moved the array");
    expect_eq_u64(cap, 8);
    free(v);
}
TEST_END

/* The byte size does not fit a size_t: refused before realloc is asked.
 * 2^60 elements of 16 bytes wrap to exactly 0, which an unchecked multiply
 * would hand to realloc (freeing the array). */
struct pair {
    long a, b;
};

TEST_BEGIN(test_overflow_refused_array_kept)
{
    struct pair *v = NULL;
    size_t cap = 0;
    expect_true(grow_array((void **)&v, &cap, 3, sizeof(*v)) == 0, "growth failed");
    v[0].a = 11, v[1].a = 22, v[2].b = 33;
    struct pair *before = v;
    errno = 0;
    expect_true(grow_array((void **)&v, &cap, SIZE_MAX / 16 + 1, sizeof(*v)) == -1,
                "overflowing size accepted");
    expect_true(errno == ENOMEM, "errno %d, want ENOMEM", errno);
    expect_true(grow_array((void **)&v, &cap, SIZE_MAX, sizeof(*v)) == -1,
                "SIZE_MAX elements accepted");
    expect_true(v == before, "array changed by a failed growth");
    expect_eq_u64(cap, 8);
    expect_true(v[0].a == 11 && v[1].a == 22 && v[2].b == 33, "contents changed");
    free(v);
}
TEST_END

/* A size that fits size_t but not the address space (more than PTRDIFF_MAX
 * bytes, which glibc's realloc always refuses): the old array survives. */
TEST_BEGIN(test_failed_realloc_keeps_array)
{
    char *v = NULL;
    size_t cap = 0;
    expect_true(grow_array((void **)&v, &cap, 4, 1) == 0, "growth failed");
    memcpy(v, "abc", 4);
    char *before = v;
    expect_true(grow_array((void **)&v, &cap, (size_t)PTRDIFF_MAX + 2, 1) == -1,
                "realloc of more than PTRDIFF_MAX bytes succeeded");
    expect_true(v == before, "array changed by a failed realloc");
    expect_eq_u64(cap, 8);
    expect_str_eq(v, "abc");
    free(v);
}
TEST_END

int main(void)
{
    test_grows_from_zero();
    test_doubles_and_keeps_contents();
    test_fitting_request_is_noop();
    test_overflow_refused_array_kept();
    test_failed_realloc_keeps_array();
    return 0;
}
