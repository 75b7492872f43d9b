// link: shim/python/frames/code.c shim/python/layout/layout.c shim/base/lock.c shim/python/reads/pyarray.c
/*
 * test_code.c - shim/python/frames/code.c's per-thread cache of code ids
 * answers what the code table answers, on fake CPython 3.11 code objects
 * laid out by layout.c's row: a repeat is the same id; another code object
 * at the same address (another file name), born after the first died, is
 * a new id; and the ABA case: thread 1 knows code A at X, A dies, thread 2
 * sees code B born at X (a newer id for X), B dies and a code made of A's
 * very parts is born at X again: thread 1 must get the table's answer (a
 * new id, since X's newest id is B's), never its cached one.  A death is
 * what domain.c's free of the OBJ domain reports (pyfr_code_maybe_dies: the
 * object's type word is PyCode_Type's address); a cached answer is not
 * checked against the object again, so one that no death voided stands.
 * And a code's line runs (struct pyfr_lines): a frame's offset becomes the
 * first offset of its line, across runs of the line apart, lines the CLI's
 * reading (hsnap_py_line) gives alike for both.
 * arena_* and sbuf_* are stubbed (malloc; no snapshot here).
 */
#include <pthread.h>
#include <stdlib.h>

#include "hsnap_pyline.h"
#include "pyframes.h"
#include "unit.h"

/* pyfr_code_quick, the line runs left out. */
static uint32_t quick(const char *co)
{
    const struct pyfr_lines *ln;
    return pyfr_code_quick(co, &ln);
}

void *arena_alloc(size_t n)
{
    return calloc(1, n);
}
void arena_free(void *p, size_t n)
{
    (void)n;
    free(p);
}
void *arena_keep(size_t n)
{
    return calloc(1, n);
}
void *arena_remap(void *p, size_t old, size_t n)
{
    char *q = realloc(p, n);
    if (q && n > old)
        memset(q + old, 0, n - old);
    return q;
}
void sbuf_u32(struct sbuf *b, uint32_t v)
{
    (void)b, (void)v;
}
void sbuf_put(struct sbuf *b, const void *p, size_t n)
{
    (void)b, (void)p, (void)n;
}

static _Alignas(16) char mem[6][512]; /* strs and line tables */
static _Alignas(16) char co_x[512];   /* the code objects, all at X */
static char fake_code_type;           /* PyCode_Type, as far as these codes go */

static const char *fake_str(char *o, const char *s)
{
    const struct pylay_layout *l = pylay_lay;
    uintptr_t len = strlen(s);
    uint32_t state = 1u << 2 | 1u << 5 | 1u << 6; /* kind 1, compact, ascii */
    memcpy(o + l->str_length, &len, sizeof len);
    memcpy(o + l->str_state, &state, sizeof state);
    memcpy(o + l->str_ascii_data, s, len);
    return o;
}

static const char *fake_bytes(char *o, const char *s, uintptr_t len)
{
    const struct pylay_layout *l = pylay_lay;
    memcpy(o + l->bytes_size, &len, sizeof len);
    memcpy(o + l->bytes_data, s, len);
    return o;
}

/* The code object at X becomes one made of these parts. */
static void fake_code(const char *fn, const char *qn, const char *lt, int32_t line)
{
    const struct pylay_layout *l = pylay_lay;
    uintptr_t f = (uintptr_t)fn, q = (uintptr_t)qn, t = (uintptr_t)lt, size = 8;
    uintptr_t type = (uintptr_t)&fake_code_type;
    memset(co_x, 0, sizeof co_x);
    memcpy(co_x + l->ob_type, &type, sizeof type);
    memcpy(co_x + l->co_filename, &f, sizeof f);
    memcpy(co_x + l->co_qualname, &q, sizeof q);
    memcpy(co_x + l->co_linetable, &t, sizeof t);
    memcpy(co_x + l->co_firstlineno, &line, sizeof line);
    memcpy(co_x + l->co_size, &size, sizeof size);
}

static const char *fn_a, *fn_b, *qn, *lt;

/* The code object at X dies (domain.c's free sees it) and another is
 * born there. */
static void code_a(void)
{
    pyfr_code_maybe_dies(co_x, 0);
    fake_code(fn_a, qn, lt, 3);
}

static void code_b(void)
{
    pyfr_code_maybe_dies(co_x, 0);
    fake_code(fn_b, qn, lt, 3);
}

static void *other_thread(void *arg)
{
    (void)arg;
    code_b(); /* A died; B is born at X, and this thread sees it */
    *(uint32_t *)arg = quick(co_x);
    return NULL;
}

TEST_BEGIN(pycache_answers_as_the_table)
{
    code_a();
    uint32_t a = quick(co_x);
    expect_true(a != UINT32_MAX, "no id for A");
    expect_eq_u64(quick(co_x), a); /* a hit: the same id */
    code_b();
    uint32_t b = quick(co_x);
    expect_true(b != UINT32_MAX && b != a, "B at A's address: id %u, A's %u", b, a);
    code_a(); /* A's parts again: X's newest id is B's, so a new one */
    uint32_t a2 = quick(co_x);
    expect_true(a2 != a && a2 != b && a2 != UINT32_MAX, "A again: %u (A %u, B %u)", a2, a, b);
    expect_eq_u64(quick(co_x), a2);
}
TEST_END

TEST_BEGIN(pycache_void_after_another_thread_renumbers)
{
    fn_a = fake_str(mem[3], "aba.py"); /* a fresh address: not in the table yet */
    code_a();
    uint32_t a = quick(co_x);
    expect_eq_u64(quick(co_x), a); /* cached on this thread */
    uint32_t b = UINT32_MAX;
    pthread_t t;
    expect_true(pthread_create(&t, NULL, other_thread, &b) == 0, "pthread_create");
    pthread_join(t, NULL);
    expect_true(b != UINT32_MAX && b != a, "B on the other thread: %u, A %u", b, a);
    code_a(); /* B died, A's parts born at X again */
    uint32_t a2 = quick(co_x);
    expect_true(a2 != a, "this thread kept its answer %u for X after B took a newer id", a);
    expect_true(a2 != b && a2 != UINT32_MAX, "A again: %u (B %u)", a2, b);
}
TEST_END

/* What pyfr_code_maybe_dies takes for a death: a code object's type word,
 * or a block it cannot read 16 bytes of within its page; not any other
 * object. */
TEST_BEGIN(pycache_deaths_seen_by_type)
{
    static _Alignas(4096) char page[2][4096];
    uintptr_t other = 1, code = (uintptr_t)&fake_code_type;
    uint32_t g = atomic_load(&pyfr_code_gen);
    memcpy(page[0] + 64 + pylay_lay->ob_type, &other, sizeof other);
    pyfr_code_maybe_dies(page[0] + 64, 0);
    expect_eq_u64(atomic_load(&pyfr_code_gen), g); /* another type: nothing */
    memcpy(page[0] + 128 + pylay_lay->ob_type, &code, sizeof code);
    pyfr_code_maybe_dies(page[0] + 128, 0);
    expect_eq_u64(atomic_load(&pyfr_code_gen), g + 1); /* a code object died */
    pyfr_code_maybe_dies(page[0] + 4096 - 8, 0); /* its type word would be on the next page */
    expect_eq_u64(atomic_load(&pyfr_code_gen), g + 2);
}
TEST_END

/* A 3.11 location table, first line 10 (entries: kind 13, a line delta;
 * kind 15, no line): units 0-1 line 10, 2-4 and 5 line 11, 6-7 line 10
 * again, 8 none, 9-10 line 12, 11 none. */
static const char lt_runs[] = "\xe9\x00\xea\x02\xe8\x00\xe9\x03\xf8\xe9\x04\xf8";

TEST_BEGIN(pylines_first_offset_of_its_line)
{
    static const intptr_t want[13] = {0, 0, 2, 2, 2, 2, 0, 0, 8, 9, 9, 8, 12};
    fake_code(fake_str(mem[5], "runs.py"), qn, fake_bytes(mem[3], lt_runs, 12), 10);
    const struct pyfr_lines *ln = NULL;
    uint32_t id = pyfr_code_quick(co_x, &ln);
    expect_true(id != UINT32_MAX && ln, "no id (%u) or no runs for the code", id);
    expect_eq_u64(ln->n, 6); /* 10, 11, 10, none, 12, none */
    for (intptr_t off = 0; off < 13; off++) {
        intptr_t f = pyfr_line_first(ln, off);
        expect_true(f == want[off], "offset %ld: first %ld, want %ld", (long)off, (long)f,
                    (long)want[off]);
        expect_eq_u64((uint64_t)(int64_t)hsnap_py_line(0x030b0000u, (const uint8_t *)lt_runs, 12,
                                                       10, f),
                      (uint64_t)(int64_t)hsnap_py_line(0x030b0000u, (const uint8_t *)lt_runs, 12,
                                                       10, off));
    }
    expect_true(pyfr_line_first(ln, -1) == -1, "not started: kept");
    expect_true(pyfr_line_first(NULL, 7) == 7, "no runs: the offset");
    const struct pyfr_lines *again = NULL;
    expect_eq_u64(pyfr_code_quick(co_x, &again), id);
    expect_true(again == ln, "the cache's runs are the table's");
}
TEST_END

/* pyfr_word_of keeps in the thread's answer the line run its last search
 * found, and a frame in that run takes its word from there: the words of
 * every offset, in an order that goes in and out of the runs, are the
 * search's (the line's first offset + 1), and stay so after a code object
 * dies (the answer is made again, its run forgotten). */
TEST_BEGIN(pylines_word_of_keeps_its_last_run)
{
    static const intptr_t want[13] = {0, 0, 2, 2, 2, 2, 0, 0, 8, 9, 9, 8, 12};
    static const int order[] = {3, 4, 2, 5, 6, 7, 0, 1, 10, 9, 3, 12, 11, 8, 0, 5, 9, 6, 7, 2, 12, 4};
    fake_code(fake_str(mem[5], "runs.py"), qn, fake_bytes(mem[3], lt_runs, 12), 10);
    const struct pyfr_lines *ln = NULL;
    uint32_t id = pyfr_code_quick(co_x, &ln);
    expect_true(id != UINT32_MAX && ln, "no id (%u) or no runs for the code", id);
    for (unsigned k = 0; k < sizeof order / sizeof *order; k++) {
        if (k == 14)
            atomic_fetch_add(&pyfr_code_gen, 1); /* a code object died: answers void */
        intptr_t off = order[k];
        uint64_t w = pyfr_word_of(co_x, off, PY_FRAMES_OBJECT);
        expect_eq_u64(w, pyfr_frame_word(id, (uint32_t)(want[off] + 1)));
        if (k == 0) { /* offset 3's run, units 2-5, starts its line at 2 */
            const struct pyfr_code_hit *h = pyfr_code_hit_of(co_x);
            expect_eq_u64(h->run.lo, 2);
            expect_eq_u64(h->run.hi, 6);
            expect_eq_u64(h->run.first, 2);
        }
    }
    expect_eq_u64(pyfr_word_of(co_x, -1, PY_FRAMES_OBJECT), pyfr_frame_word(id, 0));
}
TEST_END

int main(void)
{
    pylay_lay = pylay_layout_find(0x030b0000);
    if (!pylay_lay) {
        printf("FAIL pycache_answers_as_the_table: no 3.11 row\n");
        return 0;
    }
    fn_a = fake_str(mem[0], "a.py");
    fn_b = fake_str(mem[1], "b.py");
    qn = fake_str(mem[2], "f");
    lt = fake_bytes(mem[4], "\x80\x00\xd8\x08\x09\x0a\x0b\x0c\x0d", 9);
    pylay_sym.code_type = (uintptr_t)&fake_code_type;
    pylay_sym.version = 0x030b0000u;
    pycache_answers_as_the_table();
    pycache_void_after_another_thread_renumbers();
    pycache_deaths_seen_by_type();
    pylines_first_offset_of_its_line();
    pylines_word_of_keeps_its_last_run();
    return 0;
}
