// link: report/symbols/identrank.c report/base/grow.c report/base/cli.c report/base/bigmem.c
/*
 * test_identrank.c - stacks compared by their idents' ranks (identrank.h)
 * in the order strcmp gives their whole identities (each ident's text, one
 * after another): for every pair of 1,500 random stacks over texts some of
 * which begin others, identrank_cmp's answer is strcmp's sign, or
 * IDENTRANK_WHOLE exactly where the first texts that differ begin one
 * another.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identrank.h"
#include "unit.h"

/* Idents 3, 5, 7, ... (not every number is one), their texts. */
static const char *const texts[] = {"b.c\x1f" "2", "a.c\x1f" "10", "a.c\x1f" "1", "a.c\x1f" "1x",
                                    "b.c\x1f" "2y", "z", "a.c", "m\x1e", "m", "a.c\x1f" "100"};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static const char *text_of(uint32_t ident)
{
    return ident % 2 && ident >= 3 && (ident - 3) / 2 < NTEXTS ? texts[(ident - 3) / 2] : "";
}

static int sign(int c) { return (c > 0) - (c < 0); }

/* The identity of stack s[0..n): its texts, one after another. */
static void identity(const uint32_t *s, size_t n, char *out)
{
    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        strcat(out, text_of(s[i]));
}

static int begins(const char *a, const char *b)
{
    return !strncmp(a, b, strlen(a)) || !strncmp(b, a, strlen(b));
}

TEST_BEGIN(identrank_orders_as_strcmp)
{
    enum { N = 1500, DEPTH = 6 };
    static uint32_t st[N][DEPTH];
    static size_t len[N];
    static char id[N][DEPTH * 8];
    struct identrank r = {0};
    uint64_t x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        len[i] = (x >> 33) % (DEPTH + 1);
        for (size_t k = 0; k < len[i]; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            st[i][k] = 3 + 2 * (uint32_t)((x >> 33) % NTEXTS);
            expect_true(identrank_note(&r, st[i][k]) == 0, "note failed");
        }
        identity(st[i], len[i], id[i]);
    }
    expect_true(identrank_make(&r, text_of) == 0, "make failed");
    size_t whole = 0, decided = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            int c = identrank_cmp(&r, st[i], len[i], st[j], len[j]);
            size_t k = 0;
            while (k < len[i] && k < len[j] && st[i][k] == st[j][k])
                k++;
            int pre = k < len[i] && k < len[j] && begins(text_of(st[i][k]), text_of(st[j][k]));
            if (c == IDENTRANK_WHOLE) {
                expect_true(pre, "stacks %zu and %zu: WHOLE, but their texts %zu do not begin "
                            "one another", i, j, k);
                whole++;
                continue;
            }
            expect_true(!pre, "stacks %zu and %zu: decided where texts %zu begin one another",
                        i, j, k);
            expect_true(c == sign(strcmp(id[i], id[j])), "stacks %zu and %zu: %d, strcmp %d", i,
                        j, c, sign(strcmp(id[i], id[j])));
            decided++;
        }
    expect_true(whole > 0 && decided > whole, "whole %zu, decided %zu: the texts' prefixes "
                "went untried", whole, decided);
    identrank_free(&r);
}
TEST_END

int main(void)
{
    identrank_orders_as_strcmp();
    return 0;
}
