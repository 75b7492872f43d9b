/*
 * json.c - a tiny streaming JSON writer for `leaks --format json` and the
 * gate's JSON and SARIF.  Why not a library: heapsnap only ever WRITES JSON, of a fixed
 * shape, and needs exactly two things a library would bring - string
 * escaping and comma placement - which fit in this file; a dependency for
 * that would cost more (packaging, install-deps, API churn) than it saves.
 *
 * Strings are written as UTF-8 with '"', '\\' and control characters
 * escaped (\n, \t, ... or \u00XX); well-formed UTF-8 is passed through.
 * Anything else (a mangled symbol name, a path's stray byte, a UTF-16
 * surrogate encoded as CESU-8) is replaced byte by byte with U+FFFD
 * (esc_utf8_len decides what is well-formed), so the output always
 * parses, with Python's strict json module too.
 */
#include <string.h>

#include "decimal.h"
#include "escape.h"
#include "json.h"

void json_init(struct json *j, FILE *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

void json_init_compact(struct json *j, FILE *out, int html)
{
    json_init(j, out);
    j->compact = 1;
    j->html = html;
}

static void json_indent(struct json *j)
{
    if (j->compact)
        return;
    static const char pad[] = "                                "; /* 16 levels */
    fputc('\n', j->out);
    for (size_t n = 2 * (size_t)j->depth, k; n; n -= k) { /* two spaces a level */
        k = n < sizeof pad - 1 ? n : sizeof pad - 1;
        fwrite(pad, 1, k, j->out);
    }
}

/* Before any value: a comma and a new line inside containers, nothing after
 * a key (the key wrote them). */
static void json_pre(struct json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth == 0)
        return;
    if (j->count[j->depth - 1]++)
        fputc(',', j->out);
    json_indent(j);
}

static void json_open(struct json *j, int c)
{
    json_pre(j);
    fputc(c, j->out);
    if (j->depth < JSON_MAX_DEPTH)
        j->count[j->depth] = 0;
    j->depth++;
}

static void json_close(struct json *j, int c)
{
    int had = j->depth <= JSON_MAX_DEPTH ? j->count[j->depth - 1] : 1;
    j->depth--;
    if (had)
        json_indent(j);
    fputc(c, j->out);
}

void json_obj_begin(struct json *j) { json_open(j, '{'); }
void json_obj_end(struct json *j) { json_close(j, '}'); }
void json_arr_begin(struct json *j) { json_open(j, '['); }
void json_arr_end(struct json *j) { json_close(j, ']'); }

/* Whether c is written as itself: printable ASCII but '"', '\\' and, for
 * HTML, '<', '>' and '&'. */
static int json_plain(unsigned char c, int html)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
           !(html && (c == '<' || c == '>' || c == '&'));
}

static void json_escaped(FILE *out, const char *str, int html)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', out);
    while (*s) {
        const unsigned char *run = s; /* plain characters go out a run at a time */
        while (json_plain(*s, html))
            s++;
        if (s != run)
            fwrite(run, 1, (size_t)(s - run), out);
        if (!*s)
            break;
        unsigned char c = *s;
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                        : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
        if (html && (c == '<' || c == '>' || c == '&')) {
            fprintf(out, "\\u%04x", c);
            s++;
        } else if (html && c == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
            fprintf(out, "\\u%04x", 0x2000 + s[2] - 0x80);
            s += 3;
        } else if (esc) {
            fputs(esc, out);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
            s++;
        } else if (c < 0x80) {
            fputc(c, out);
            s++;
        } else {
            uint32_t cp;
            int n = esc_utf8_len(s, &cp);
            if (n) {
                fwrite(s, 1, (size_t)n, out);
                s += n;
            } else {
                fputs("\\ufffd", out);
                s++;
            }
        }
    }
    fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
    json_pre(j);
    json_escaped(j->out, key, j->html);
    fputs(j->compact ? ":" : ": ", j->out);
    j->after_key = 1;
}

void json_str(struct json *j, const char *s)
{
    json_pre(j);
    if (s)
        json_escaped(j->out, s, j->html);
    else
        fputs("null", j->out);
}

/* v in decimal, after a '-' when neg (decimal.h: fprintf's parse of its
 * format was 581M instructions of html's 6.85G on a numpy + pandas
 * snapshot). */
static void json_digits(FILE *out, uint64_t v, int neg)
{
    char buf[DECIMAL_MAX];
    char *p = decimal_put(buf + sizeof buf, v, neg);
    fwrite(p, 1, (size_t)(buf + sizeof buf - p), out);
}

void json_u64(struct json *j, uint64_t v)
{
    json_pre(j);
    json_digits(j->out, v, 0);
}

void json_i64(struct json *j, int64_t v)
{
    json_pre(j);
    json_digits(j->out, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

void json_bool(struct json *j, int v)
{
    json_pre(j);
    fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
    json_pre(j);
    fputs("null", j->out);
}

void json_kstr(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_str(j, s);
}

void json_ku64(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_u64(j, v);
}

void json_ki64(struct json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_i64(j, v);
}

void json_kbool(struct json *j, const char *key, int v)
{
    json_key(j, key);
    json_bool(j, v);
}

void json_finish(struct json *j) { fputc('\n', j->out); }
