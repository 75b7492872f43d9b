/*
 * unit.h - the C half of the test harness, jemalloc-style.  Each unit test
 * binary prints one "PASS name" / "FAIL name: why" line per TEST_BEGIN block;
 * tests/run.sh counts them.  A failed expectation ends the test, not the binary.
 */
#ifndef UNIT_H
#define UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_failed_;
static const char *unit_name_;

#define TEST_BEGIN(name)                                                       \
    static void name(void)                                                     \
    {                                                                          \
        unit_name_ = #name;                                                    \
        unit_failed_ = 0;
#define TEST_END                                                               \
    out:                                                                       \
        if (!unit_failed_)                                                     \
            printf("PASS %s\n", unit_name_);                                   \
    }

#define expect_true(cond, ...)                                                 \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("FAIL %s: %s:%d: ", unit_name_, __FILE__, __LINE__);        \
            printf(__VA_ARGS__);                                               \
            printf("\n");                                                      \
            unit_failed_ = 1;                                                  \
            goto out;                                                          \
        }                                                                      \
    } while (0)
#define expect_eq_u64(a, b)                                                    \
    expect_true((unsigned long long)(a) == (unsigned long long)(b),            \
                "%s == %llu, want %llu", #a, (unsigned long long)(a),          \
                (unsigned long long)(b))
#define expect_str_eq(a, b)                                                    \
    expect_true(strcmp((a), (b)) == 0, "%s == \"%s\", want \"%s\"", #a, (a), (b))

#endif
