/*
 * parser.c - benchmark workload: a recursive-descent parser that keeps its
 * tree (issue 68: programs that build).
 *
 * Generates, from a fixed seed, N statements of a small language
 * ("let x12 = (a3 + 7) * f(b1, 4) - c9;") and parses them: each token's
 * text is a short-lived copy (freed once its node has taken what it
 * needs), each node of the tree is kept, names are interned in a hash
 * table that grows, and statements go into a list that grows by realloc.
 * The parse functions recurse through the grammar's levels (statement,
 * sum, product, unary, primary, call arguments), so allocations come
 * from a few dozen distinct stacks, varying with the expressions' depth.
 * Nothing is freed at the end: the exit snapshot sees the whole tree.
 *
 * Usage: parser N      prints "checksum parser <hex>", exits 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_NUM, P_NAME, P_BIN, P_CALL, P_NEG, P_LET };

struct node {
    int kind;
    int op;                     /* P_BIN: '+', '-', '*', '/' */
    long num;                   /* P_NUM */
    const char *name;           /* P_NAME, P_CALL, P_LET: interned */
    struct node *a, *b;         /* operands; P_LET: a = value */
    struct node **args;         /* P_CALL */
    int nargs;
};

static struct {
    uint64_t rng;               /* xorshift64 state, fixed seed */
    char *src;                  /* the statement being parsed */
    size_t at;                  /* the parse position in src */
    char **names;               /* the intern table, open addressing */
    size_t nnames, cap;
    struct node **stmts;        /* every statement parsed, kept */
    size_t nstmts, stmtcap;
    uint64_t sum;
} parser = { .rng = 0x9E3779B97F4A7C15ull };

static uint64_t parser_next(void)
{
    uint64_t x = parser.rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return parser.rng = x;
}

static void *parser_need(void *p)
{
    if (!p) {
        fprintf(stderr, "parser: out of memory\n");
        exit(1);
    }
    return p;
}

/* ---------------- the source: generated ---------------- */

static void gen_expr(char *out, size_t *n, int depth)
{
    uint64_t r = parser_next();
    if (depth > 4 || r % 3 == 0) {
        if (r & 8)
            *n += (size_t)sprintf(out + *n, "%c%u", 'a' + (int)(r >> 8) % 26, (unsigned)(r >> 16) % 40);
        else
            *n += (size_t)sprintf(out + *n, "%u", (unsigned)(r >> 16) % 1000);
        return;
    }
    switch (r % 5) {
    case 1:
        out[(*n)++] = '(';
        gen_expr(out, n, depth + 1);
        *n += (size_t)sprintf(out + *n, " %c ", "+-*/"[(r >> 4) % 4]);
        gen_expr(out, n, depth + 1);
        out[(*n)++] = ')';
        break;
    case 2:
        *n += (size_t)sprintf(out + *n, "f%u(", (unsigned)(r >> 8) % 8);
        for (unsigned i = 0, k = 1 + (unsigned)(r >> 20) % 3; i < k; i++) {
            if (i)
                *n += (size_t)sprintf(out + *n, ", ");
            gen_expr(out, n, depth + 1);
        }
        out[(*n)++] = ')';
        break;
    case 3:
        out[(*n)++] = '-';
        gen_expr(out, n, depth + 1);
        break;
    default:
        gen_expr(out, n, depth + 1);
        *n += (size_t)sprintf(out + *n, " %c ", "+-*/"[(r >> 4) % 4]);
        gen_expr(out, n, depth + 1);
    }
}

/* ---------------- names, interned ---------------- */

static const char *intern(const char *s)
{
    if (2 * (parser.nnames + 1) > parser.cap) {
        size_t cap = parser.cap ? 2 * parser.cap : 64;
        char **t = parser_need(calloc(cap, sizeof *t));
        for (size_t i = 0; i < parser.cap; i++)
            if (parser.names[i]) {
                size_t h = 0;
                for (const char *c = parser.names[i]; *c; c++)
                    h = h * 131 + (unsigned char)*c;
                while (t[h & (cap - 1)])
                    h++;
                t[h & (cap - 1)] = parser.names[i];
            }
        free(parser.names);
        parser.names = t;
        parser.cap = cap;
    }
    size_t h = 0;
    for (const char *c = s; *c; c++)
        h = h * 131 + (unsigned char)*c;
    for (;; h++) {
        char **slot = &parser.names[h & (parser.cap - 1)];
        if (!*slot) {
            parser.nnames++;
            return *slot = parser_need(strdup(s));
        }
        if (strcmp(*slot, s) == 0)
            return *slot;
    }
}

/* ---------------- the parser ---------------- */

static void skip(void)
{
    while (parser.src[parser.at] == ' ')
        parser.at++;
}

/* The next token's text, a copy the caller frees. */
static char *token(void)
{
    skip();
    size_t b = parser.at;
    char c = parser.src[b];
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        while ((parser.src[parser.at] >= 'a' && parser.src[parser.at] <= 'z') ||
               (parser.src[parser.at] >= '0' && parser.src[parser.at] <= '9'))
            parser.at++;
    else if (c)
        parser.at++;
    char *t = parser_need(malloc(parser.at - b + 1));
    memcpy(t, parser.src + b, parser.at - b);
    t[parser.at - b] = 0;
    return t;
}

static int peek(void)
{
    skip();
    return parser.src[parser.at];
}

static struct node *new_node(int kind)
{
    struct node *n = parser_need(calloc(1, sizeof *n));
    n->kind = kind;
    return n;
}

static struct node *parse_sum(void);

static struct node *parse_primary(void)
{
    char *t = token();
    struct node *n;
    if (t[0] == '(') {
        n = parse_sum();
        free(token()); /* ')' */
    } else if (t[0] == '-') {
        n = new_node(P_NEG);
        n->a = parse_primary();
    } else if (t[0] >= '0' && t[0] <= '9') {
        n = new_node(P_NUM);
        n->num = atol(t);
    } else if (peek() == '(') {
        free(token());
        n = new_node(P_CALL);
        n->name = intern(t);
        int cap = 0;
        while (peek() != ')') {
            if (n->nargs == cap) {
                cap = cap ? 2 * cap : 2;
                n->args = parser_need(realloc(n->args, (size_t)cap * sizeof *n->args));
            }
            n->args[n->nargs++] = parse_sum();
            if (peek() == ',')
                free(token());
        }
        free(token());
    } else {
        n = new_node(P_NAME);
        n->name = intern(t);
    }
    free(t);
    return n;
}

static struct node *parse_product(void)
{
    struct node *l = parse_primary();
    while (peek() == '*' || peek() == '/') {
        char *t = token();
        struct node *n = new_node(P_BIN);
        n->op = t[0];
        free(t);
        n->a = l;
        n->b = parse_primary();
        l = n;
    }
    return l;
}

static struct node *parse_sum(void)
{
    struct node *l = parse_product();
    while (peek() == '+' || peek() == '-') {
        char *t = token();
        struct node *n = new_node(P_BIN);
        n->op = t[0];
        free(t);
        n->a = l;
        n->b = parse_product();
        l = n;
    }
    return l;
}

static struct node *parse_statement(void)
{
    free(token()); /* let */
    char *name = token();
    struct node *n = new_node(P_LET);
    n->name = intern(name);
    free(name);
    free(token()); /* = */
    n->a = parse_sum();
    free(token()); /* ; */
    return n;
}

static uint64_t walk(const struct node *n)
{
    uint64_t h = (uint64_t)n->kind * 31 + (uint64_t)n->op + (uint64_t)n->num;
    if (n->name)
        h = h * 131 + (unsigned char)n->name[0];
    if (n->a)
        h = h * 7 + walk(n->a);
    if (n->b)
        h = h * 11 + walk(n->b);
    for (int i = 0; i < n->nargs; i++)
        h = h * 13 + walk(n->args[i]);
    return h;
}

int main(int argc, char **argv)
{
    long n = argc == 2 ? atol(argv[1]) : 0;
    if (n < 1) {
        fprintf(stderr, "usage: parser N\n");
        return 2;
    }
    char *src = parser_need(malloc(1 << 16));
    for (long i = 0; i < n; i++) {
        size_t len = (size_t)sprintf(src, "let v%u = ", (unsigned)(i % 5000));
        gen_expr(src, &len, 0);
        strcpy(src + len, ";");
        parser.src = src;
        parser.at = 0;
        struct node *s = parse_statement();
        if (parser.nstmts == parser.stmtcap) {
            parser.stmtcap = parser.stmtcap ? 2 * parser.stmtcap : 256;
            parser.stmts = parser_need(realloc(parser.stmts, parser.stmtcap * sizeof *parser.stmts));
        }
        parser.stmts[parser.nstmts++] = s;
        parser.sum = parser.sum * 1000003 + walk(s);
    }
    printf("checksum parser %llx\n", (unsigned long long)parser.sum);
    return 0;
}
