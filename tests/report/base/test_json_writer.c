// link: report/base/json.c report/base/escape.c
/*
 * test_json_writer.c - pins the JSON writer's bytes: strings escaped character by
 * character as json_escaped's table says (plain runs written whole, '"',
 * '\\', control characters, HTML's <, >, & and U+2028/9, bad UTF-8 as
 * U+FFFD) and the indentation of two spaces a level past json_indent's
 * pad (deeper than 16 levels).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

/* The document json_str of s alone writes (compact when html). */
static char *json_one(const char *s, int html)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct json j;
    if (html)
        json_init_compact(&j, f, 1);
    else
        json_init(&j, f);
    json_str(&j, s);
    fclose(f);
    return buf;
}

TEST_BEGIN(json_strings_escaped_by_character)
{
    static const struct { const char *in; int html; const char *want; } v[] = {
        {"", 0, "\"\""},
        {"plain text run", 0, "\"plain text run\""},
        {"a\"b\\c", 0, "\"a\\\"b\\\\c\""},
        {"tab\there\nnl\rcr\x01\x7f", 0, "\"tab\\there\\nnl\\rcr\\u0001\\u007f\""},
        {"<a>&b", 0, "\"<a>&b\""},
        {"<a>&b", 1, "\"\\u003ca\\u003e\\u0026b\""},
        {"x\xe2\x80\xa8y\xe2\x80\xa9", 1, "\"x\\u2028y\\u2029\""},
        {"x\xe2\x80\xa8y", 0, "\"x\xe2\x80\xa8y\""},
        {"caf\xc3\xa9 ok", 0, "\"caf\xc3\xa9 ok\""},
        {"bad\xff" "end", 0, "\"bad\\ufffdend\""},
        {"\"", 0, "\"\\\"\""},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *got = json_one(v[i].in, v[i].html);
        int ok = got && strcmp(got, v[i].want) == 0;
        expect_true(ok, "case %zu: got %s, want %s", i, got ? got : "(null)", v[i].want);
        free(got);
    }
}
TEST_END

TEST_BEGIN(json_indent_two_spaces_a_level_past_the_pad)
{
    char *buf = NULL, want[4096], *w = want;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct json j;
    json_init(&j, f);
    for (int d = 0; d < 20; d++)
        json_arr_begin(&j);
    json_u64(&j, 7);
    for (int d = 0; d < 20; d++)
        json_arr_end(&j);
    fclose(f);
    w += sprintf(w, "[");
    for (int d = 1; d < 20; d++)
        w += sprintf(w, "\n%*s[", 2 * d, "");
    w += sprintf(w, "\n%*s7", 40, "");
    for (int d = 19; d >= 0; d--)
        w += sprintf(w, "\n%*s]", 2 * d, "");
    expect_str_eq(buf, want);
    free(buf);
}
TEST_END

int main(void)
{
    json_strings_escaped_by_character();
    json_indent_two_spaces_a_level_past_the_pad();
    return 0;
}
