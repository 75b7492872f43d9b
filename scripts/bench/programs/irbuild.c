/*
 * irbuild.c - benchmark workload: a compiler-like IR builder (issue 68:
 * programs that build).
 *
 * Builds, from a fixed seed, N functions of SSA-like IR: each function has
 * 2-17 basic blocks, each block 1-24 instructions, each instruction an
 * object of its own with 0-3 operands and a use-list node per operand (the
 * def-use chains compilers keep), a block's instruction array grows by
 * realloc, and every value gets a name ("%t123", a string of its own).
 * Per function, a scratch map from names to values lives while the
 * function is built and is freed after it (the pass's temporaries); the
 * module - functions, blocks, instructions, names, uses - is kept to the
 * end.  Builder functions call each other by kind (emit_binop, emit_load,
 * emit_call, emit_phi ...), so allocations come from a few dozen stacks.
 *
 * Usage: irbuild N      prints "checksum irbuild <hex>", exits 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct use {
    struct insn *user;
    struct use *next;           /* the next use of the same value */
};

struct insn {
    int op;
    char *name;                 /* "%tN", its own string */
    struct insn *operand[3];
    int nops;
    struct use *uses;           /* who uses this value */
};

struct block {
    struct insn **insn;
    int n, cap;
};

struct func {
    char *name;
    struct block **blocks;
    int nblocks;
};

/* The scratch map of a function being built: name -> value, freed after. */
struct scratch {
    char **key;
    struct insn **val;
    size_t n, cap;
};

static struct {
    uint64_t rng;               /* xorshift64 state, fixed seed */
    struct func **funcs;        /* the module, kept */
    size_t nfuncs, cap;
    unsigned next_value;
    uint64_t sum;
} ir = { .rng = 0x2545F4914F6CDD1Dull };

static uint64_t ir_next(void)
{
    uint64_t x = ir.rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return ir.rng = x;
}

static void *ir_need(void *p)
{
    if (!p) {
        fprintf(stderr, "irbuild: out of memory\n");
        exit(1);
    }
    return p;
}

static size_t ir_hash(const char *s)
{
    size_t h = 0;
    for (; *s; s++)
        h = h * 131 + (unsigned char)*s;
    return h;
}

static void scratch_put(struct scratch *m, const char *k, struct insn *v)
{
    if (2 * (m->n + 1) > m->cap) {
        struct scratch g = {.cap = m->cap ? 2 * m->cap : 32};
        g.key = ir_need(calloc(g.cap, sizeof *g.key));
        g.val = ir_need(calloc(g.cap, sizeof *g.val));
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i]) {
                size_t h = ir_hash(m->key[i]);
                while (g.key[h & (g.cap - 1)])
                    h++;
                g.key[h & (g.cap - 1)] = m->key[i];
                g.val[h & (g.cap - 1)] = m->val[i];
            }
        g.n = m->n;
        free(m->key);
        free(m->val);
        *m = g;
    }
    size_t h = ir_hash(k);
    while (m->key[h & (m->cap - 1)])
        h++;
    m->key[h & (m->cap - 1)] = ir_need(strdup(k));
    m->val[h & (m->cap - 1)] = v;
    m->n++;
}

static void scratch_free(struct scratch *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->key[i]);
    free(m->key);
    free(m->val);
}

static void add_use(struct insn *value, struct insn *user)
{
    struct use *u = ir_need(malloc(sizeof *u));
    u->user = user;
    u->next = value->uses;
    value->uses = u;
}

static struct insn *new_insn(int op)
{
    struct insn *i = ir_need(calloc(1, sizeof *i));
    char buf[24];
    i->op = op;
    snprintf(buf, sizeof buf, "%%t%u", ir.next_value++);
    i->name = ir_need(strdup(buf));
    return i;
}

static void append(struct block *b, struct insn *i)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 4;
        b->insn = ir_need(realloc(b->insn, (size_t)b->cap * sizeof *b->insn));
    }
    b->insn[b->n++] = i;
}

/* An operand: one of the values made so far in this function, or none. */
static struct insn *pick(struct insn **made, size_t n)
{
    return n ? made[ir_next() % n] : NULL;
}

__attribute__((noinline)) static struct insn *emit_with(int op, int nops, struct insn **made, size_t n)
{
    struct insn *i = new_insn(op);
    for (int k = 0; k < nops; k++) {
        struct insn *v = pick(made, n);
        if (v) {
            i->operand[i->nops++] = v;
            add_use(v, i);
        }
    }
    return i;
}

__attribute__((noinline)) static struct insn *emit_const(struct insn **made, size_t n)
{ return emit_with(1, 0, made, n); }
__attribute__((noinline)) static struct insn *emit_load(struct insn **made, size_t n)
{ return emit_with(2, 1, made, n); }
__attribute__((noinline)) static struct insn *emit_binop(struct insn **made, size_t n)
{ return emit_with(3, 2, made, n); }
__attribute__((noinline)) static struct insn *emit_call(struct insn **made, size_t n)
{ return emit_with(4, 3, made, n); }
__attribute__((noinline)) static struct insn *emit_phi(struct insn **made, size_t n)
{ return emit_with(5, 2, made, n); }

static struct block *build_block(struct insn ***made, size_t *nmade, size_t *capmade,
                                 struct scratch *names)
{
    struct block *b = ir_need(calloc(1, sizeof *b));
    int count = 1 + (int)(ir_next() % 24);
    for (int k = 0; k < count; k++) {
        struct insn *i;
        switch (ir_next() % 8) {
        case 0: case 1: i = emit_const(*made, *nmade); break;
        case 2: case 3: i = emit_load(*made, *nmade); break;
        case 4: case 5: i = emit_binop(*made, *nmade); break;
        case 6: i = emit_call(*made, *nmade); break;
        default: i = emit_phi(*made, *nmade);
        }
        append(b, i);
        scratch_put(names, i->name, i);
        if (*nmade == *capmade) {
            *capmade = *capmade ? 2 * *capmade : 64;
            *made = ir_need(realloc(*made, *capmade * sizeof **made));
        }
        (*made)[(*nmade)++] = i;
    }
    return b;
}

static struct func *build_func(long index)
{
    struct func *f = ir_need(calloc(1, sizeof *f));
    char buf[32];
    snprintf(buf, sizeof buf, "fn%ld", index);
    f->name = ir_need(strdup(buf));
    f->nblocks = 2 + (int)(ir_next() % 16);
    f->blocks = ir_need(calloc((size_t)f->nblocks, sizeof *f->blocks));
    struct scratch names = {0};
    struct insn **made = NULL;
    size_t nmade = 0, capmade = 0;
    for (int k = 0; k < f->nblocks; k++)
        f->blocks[k] = build_block(&made, &nmade, &capmade, &names);
    ir.sum = ir.sum * 1000003 + nmade + names.n;
    free(made);
    scratch_free(&names);
    return f;
}

int main(int argc, char **argv)
{
    long n = argc == 2 ? atol(argv[1]) : 0;
    if (n < 1) {
        fprintf(stderr, "usage: irbuild N\n");
        return 2;
    }
    for (long k = 0; k < n; k++) {
        struct func *f = build_func(k);
        if (ir.nfuncs == ir.cap) {
            ir.cap = ir.cap ? 2 * ir.cap : 64;
            ir.funcs = ir_need(realloc(ir.funcs, ir.cap * sizeof *ir.funcs));
        }
        ir.funcs[ir.nfuncs++] = f;
        ir.sum = ir.sum * 31 + (uint64_t)f->nblocks;
    }
    printf("checksum irbuild %llx\n", (unsigned long long)ir.sum);
    return 0;
}
