// link: report/load/pytypes.c report/base/escape.c report/load/section.c report/base/bigmem.c
/*
 * test_pytypes.c - pytypes_decode: a PYTYPES payload (hsnap_format.h) put
 * on a snapshot's blocks by address (an object whose block BLOCKS lacks is
 * left out), its graph's flags, cycle links and parents with their labels
 * and dict keys, and every damage refused with a one-line reason; PYOWNED's
 * blocks put on their owners' blocks, its damage refused likewise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"
#include "unit.h"

static const struct hsnap_block blocks[] = {
    {.addr = 0x1000, .size = 48}, {.addr = 0x2000, .size = 64}, {.addr = 0x3000, .size = 48},
    {.addr = 0x4000, .size = 800}, {.addr = 0x5000, .size = 64}}; /* the last two: PYOWNED's */

struct payload {
    struct hsnap_pytypes_head h;
    struct hsnap_pyobj o[4];
    struct hsnap_pytype t[2];
    char names[16];
    struct hsnap_pylink l[3];
} __attribute__((packed));

/* Objects at 0x1000 (a Node), 0x1800 (not in BLOCKS), 0x2000 (a dict),
 * 0x3000 (a Node); 0x1000 and 0x2000 garbage, linked by the key "next";
 * 0x3000 reached from 0x2000 through list index 2 (a parent). */
static void payload(struct payload *p)
{
    memset(p, 0, sizeof *p);
    p->h = (struct hsnap_pytypes_head){.ntypes = 2, .flags = HSNAP_PYTYPES_GRAPH,
                                       .nobjects = 4, .names_len = 16, .nlinks = 2,
                                       .nparents = 1};
    uint16_t g = HSNAP_PYOBJ_TRACKED | HSNAP_PYOBJ_GARBAGE;
    p->o[0] = (struct hsnap_pyobj){0x1000, 0, 32, g};
    p->o[1] = (struct hsnap_pyobj){0x1800, 1, 16, g};
    p->o[2] = (struct hsnap_pyobj){0x2000, 1, 16, g};
    p->o[3] = (struct hsnap_pyobj){0x3000, 0, 32, HSNAP_PYOBJ_TRACKED};
    p->t[0] = (struct hsnap_pytype){0, 8, HSNAP_PYTYPE_GC | HSNAP_PYTYPE_CLASS, 0};
    p->t[1] = (struct hsnap_pytype){8, 4, HSNAP_PYTYPE_GC, 0};
    memcpy(p->names, "app.Nodedictnext", 16);
    p->l[0] = (struct hsnap_pylink){0, 2, HSNAP_PYLABEL_FIELD, 16, 0, 0};
    p->l[1] = (struct hsnap_pylink){2, 0, HSNAP_PYLABEL_KEY, 0, 12, 4};
    p->l[2] = (struct hsnap_pylink){2, 3, HSNAP_PYLABEL_INDEX, 2, 0, 0};
}

static char err[512];

static int decode(const struct payload *p, size_t len, struct snap *s)
{
    memset(s, 0, sizeof *s);
    s->blocks = blocks;
    s->nblocks = 3;
    err[0] = 0;
    return pytypes_decode(s, (const uint8_t *)p, len, err, sizeof err);
}

TEST_BEGIN(pytypes_objects_on_their_blocks)
{
    struct payload p;
    struct snap s;
    payload(&p);
    expect_true(decode(&p, sizeof p, &s) == 0, "decode: %s", err);
    expect_eq_u64(s.py.ntypes, 2);
    expect_str_eq(pytypes_of_block(&s, 0), "app.Node");
    expect_str_eq(pytypes_of_block(&s, 1), "dict");
    expect_str_eq(pytypes_of_block(&s, 2), "app.Node");
    expect_eq_u64(s.py.nobjects, 3); /* 0x1800: no such block */
    expect_eq_u64(s.py.block_off[0], 32);
    expect_true(s.py.graph, "graph");
    expect_eq_u64(s.py.garbage, 2);
    expect_eq_u64(s.py.block_next[0].block, 1);
    expect_eq_u64(s.py.block_next[1].block, 0);
    expect_true(s.py.block_next[1].label == HSNAP_PYLABEL_KEY && s.py.block_next[1].name &&
                    !memcmp(s.py.block_next[1].name, "next", 4) && s.py.block_next[1].name_len == 4,
                "the key");
    expect_eq_u64(s.py.block_parent[2].block, 1);
    expect_eq_u64(s.py.block_parent[2].value, 2);
    expect_eq_u64(s.py.block_parent[0].block, UINT64_MAX);
    pytypes_free(&s);
}
TEST_END

/* payload damaged by f refused, the reason (one line) holding want. */
static int refused(void (*f)(struct payload *, size_t *), const char *want)
{
    struct payload p;
    struct snap s;
    size_t len = sizeof p;
    payload(&p);
    f(&p, &len);
    int rc = decode(&p, len, &s);
    pytypes_free(&s);
    return rc < 0 && strstr(err, want) && !strchr(err, '\n') && strstr(err, "PYTYPES");
}

static void bad_type(struct payload *p, size_t *n) { (void)n; p->o[2].type = 2; }
static void unsorted(struct payload *p, size_t *n) { (void)n; p->o[1].addr = 0x900; }
static void short_len(struct payload *p, size_t *n) { (void)p; *n -= 1; }
static void long_name(struct payload *p, size_t *n) { (void)n; p->t[1].name_len = 9; }
static void bad_link(struct payload *p, size_t *n) { (void)n; p->l[0].to = 4; }
static void bad_key(struct payload *p, size_t *n) { (void)n; p->l[1].name_off = 15; }
static void many_links(struct payload *p, size_t *n) { (void)n; p->h.nlinks = 1u << 30; }

TEST_BEGIN(pytypes_damage_refused_in_one_line)
{
    expect_true(refused(bad_type, "type 2 of 2"), "type: %s", err);
    expect_true(refused(unsorted, "not ascending"), "order: %s", err);
    expect_true(refused(short_len, "do not match"), "length: %s", err);
    expect_true(refused(long_name, "name past the names"), "name: %s", err);
    expect_true(refused(bad_link, "link 0"), "link: %s", err);
    expect_true(refused(bad_key, "name past the names"), "key: %s", err);
    expect_true(refused(many_links, "links"), "links: %s", err);
}
TEST_END

struct owned {
    uint64_t count;
    struct hsnap_pyowned w[3];
} __attribute__((packed));

/* 0x4000 owned by the dict (object 2), 0x5000 by the Node at 0x3000
 * (object 3), 0x3000 "owned" by object 0: a block with an object is no
 * one's (ignored). */
static void owned(struct owned *w)
{
    memset(w, 0, sizeof *w);
    w->count = 3;
    w->w[0] = (struct hsnap_pyowned){0x3000, 0, 0};
    w->w[1] = (struct hsnap_pyowned){0x4000, 2, 0};
    w->w[2] = (struct hsnap_pyowned){0x5000, 3, 0};
}

/* The payload, then w (len bytes) as PYOWNED, on all five blocks. */
static int decode_owned(const struct owned *w, size_t len, struct snap *s)
{
    struct payload p;
    payload(&p);
    memset(s, 0, sizeof *s);
    s->blocks = blocks;
    s->nblocks = 5;
    err[0] = 0;
    if (pytypes_decode(s, (const uint8_t *)&p, sizeof p, err, sizeof err) < 0)
        return -1;
    return pytypes_decode_owned(s, (const uint8_t *)w, len, err, sizeof err);
}

TEST_BEGIN(pytypes_owned_blocks_on_their_owners)
{
    struct owned w;
    struct snap s;
    owned(&w);
    expect_true(decode_owned(&w, sizeof w, &s) == 0, "decode: %s", err);
    expect_true(s.py.block_owner != NULL, "owners");
    expect_eq_u64(s.py.block_owner[3], 1); /* the dict's block */
    expect_eq_u64(s.py.block_owner[4], 2);
    expect_eq_u64(s.py.block_owner[2], UINT64_MAX); /* an object: its own */
    expect_eq_u64(s.py.block_owner[0], UINT64_MAX);
    pytypes_free(&s);
}
TEST_END

/* w damaged by f refused in one line naming PYOWNED and holding want. */
static int owned_refused(void (*f)(struct owned *, size_t *), const char *want)
{
    struct owned w;
    struct snap s;
    size_t len = sizeof w;
    owned(&w);
    f(&w, &len);
    int rc = decode_owned(&w, len, &s);
    pytypes_free(&s);
    return rc < 0 && strstr(err, want) && !strchr(err, '\n') && strstr(err, "PYOWNED");
}

static void own_bad(struct owned *w, size_t *n) { (void)n; w->w[1].owner = 4; }
static void own_unsorted(struct owned *w, size_t *n) { (void)n; w->w[2].addr = 0x3800; }
static void own_short(struct owned *w, size_t *n) { (void)w; *n -= 8; }
static void own_count(struct owned *w, size_t *n) { (void)n; w->count = 1ull << 60; }

TEST_BEGIN(pytypes_owned_damage_refused_in_one_line)
{
    expect_true(owned_refused(own_bad, "owner 4 of 4"), "owner: %s", err);
    expect_true(owned_refused(own_unsorted, "not ascending"), "order: %s", err);
    expect_true(owned_refused(own_short, "not a count"), "length: %s", err);
    expect_true(owned_refused(own_count, "not a count"), "count: %s", err);
}
TEST_END

int main(void)
{
    pytypes_objects_on_their_blocks();
    pytypes_damage_refused_in_one_line();
    pytypes_owned_blocks_on_their_owners();
    pytypes_owned_damage_refused_in_one_line();
    return 0;
}
