// link: shim/base/arena.c shim/base/lock.c
/*
 * test_arena.c - the shim's own memory: blocks are zeroed, distinct and
 * reused after free; big requests are mappings of their own and the mapped
 * byte count follows them; many threads at once get disjoint blocks; while
 * the maps are held, /proc/self/maps agrees with the list of mappings,
 * which lists thousands of them (its pieces mapped as it grows); sparse
 * maps are listed too, shared with a fork when asked; arena_populate makes
 * whole pages resident.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procmaps.h"
#include "base.h"
#include "unit.h"

static int degraded;
void degrade_now(const char *why) { degraded = 1; }
void opt_warn(const char *a, const char *b, const char *c) {}

TEST_BEGIN(arena_blocks_are_zeroed_and_distinct)
    static char *p[1000];
    for (int i = 0; i < 1000; i++) {
        size_t n = 1 + (size_t)i * 37 % 5000;
        p[i] = arena_alloc(n);
        expect_true(p[i] != NULL, "alloc %zu", n);
        for (size_t k = 0; k < n; k++)
            expect_true(p[i][k] == 0, "block %d byte %zu not zero", i, k);
        memset(p[i], 0xab, n);
    }
    for (int i = 1; i < 1000; i++)
        expect_true(p[i] != p[i - 1], "same block twice");
    for (int i = 0; i < 1000; i++)
        arena_free(p[i], 1 + (size_t)i * 37 % 5000);
TEST_END

TEST_BEGIN(arena_reuses_freed_blocks)
    void *a = arena_alloc(100);
    arena_free(a, 100);
    void *b = arena_alloc(120); /* same class (128) */
    expect_true(a == b, "freed block not reused: %p then %p", a, b);
    expect_true(((char *)b)[0] == 0, "reused block not zeroed");
    arena_free(b, 120);
TEST_END

TEST_BEGIN(arena_big_blocks_are_mapped_and_unmapped)
    size_t before = arena_mapped();
    char *p = arena_alloc(10u << 20);
    expect_true(p != NULL, "10 MiB");
    expect_true(arena_mapped() >= before + (10u << 20), "mapped did not grow");
    p[(10u << 20) - 1] = 1;
    arena_free(p, 10u << 20);
    expect_eq_u64(arena_mapped(), before);
    expect_true(!degraded, "degraded without reason");
TEST_END

TEST_BEGIN(arena_out_of_memory_degrades)
    void *p = arena_alloc((size_t)1 << 62);
    expect_true(p == NULL, "an impossible allocation succeeded");
    expect_true(degraded, "no degrade on out of memory");
    degraded = 0;
TEST_END

static void *arena_thread(void *arg)
{
    uintptr_t tag = (uintptr_t)arg;
    void *mine[2000];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 2000; i++) {
            mine[i] = arena_alloc(48);
            if (!mine[i])
                return (void *)1;
            memset(mine[i], (int)tag, 48);
        }
        for (int i = 0; i < 2000; i++) {
            unsigned char *c = mine[i];
            for (int k = 0; k < 48; k++)
                if (c[k] != (unsigned char)tag)
                    return (void *)2; /* someone else wrote our block */
            arena_free(mine[i], 48);
        }
    }
    return NULL;
}

TEST_BEGIN(arena_many_threads)
    pthread_t t[8];
    for (uintptr_t i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, arena_thread, (void *)(i + 1));
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        expect_true(r == NULL, "thread %d: %s", i, r == (void *)1 ? "NULL" : "overlap");
    }
TEST_END

/* ---- the list agrees with /proc/self/maps while held ---- */

#define AGREE_MAX 4096

struct agree_ranges {
    uintptr_t lo[AGREE_MAX], hi[AGREE_MAX];
    unsigned n;
};

static struct agree_ranges agree_before, agree_listed;
static atomic_int agree_stop;

static void agree_add(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct agree_ranges *r = arg;
    if (r->n < AGREE_MAX) {
        r->lo[r->n] = lo;
        r->hi[r->n++] = hi;
    }
}

/* The end of the range of r holding a, or 0. */
static uintptr_t agree_in(const struct agree_ranges *r, uintptr_t a)
{
    for (unsigned i = 0; i < r->n; i++)
        if (a >= r->lo[i] && a < r->hi[i])
            return r->hi[i];
    return 0;
}

/* Calls add for each piece of an anonymous writable line that is neither
 * listed nor in agree_before (as roots.c sees the program's mappings). */
static void agree_line(const struct procmaps_line *l, void *arg)
{
    if (!procmaps_programs_rw(l))
        return;
    for (uintptr_t a = l->lo; a < l->hi;) {
        uintptr_t end = agree_in(&agree_listed, a);
        if (!end)
            end = agree_in(&agree_before, a);
        if (!end) {
            end = a + 4096;
            while (end < l->hi && !agree_in(&agree_listed, end) && !agree_in(&agree_before, end))
                end += 4096;
            agree_add(a, end < l->hi ? end : l->hi, arg);
        }
        a = end;
    }
}

/* What a maps read under the hold shows unlisted, into *out. */
static void agree_read(struct agree_ranges *out)
{
    static char buf[8192];
    arena_maps_hold();
    agree_listed.n = 0;
    arena_each_map(agree_add, &agree_listed);
    procmaps_each(buf, sizeof buf, agree_line, out);
    arena_maps_release();
}

/* The shim's helper thread: it makes, grows and removes mappings without
 * a pause while the leak check reads /proc/self/maps (roots.c). */
static void *agree_churn(void *arg)
{
    while (!atomic_load(&agree_stop)) {
        char *p = arena_map(32768);
        if (!p)
            return (void *)1;
        p[0] = 1;
        p = arena_remap(p, 32768, 65536);
        if (!p)
            return (void *)1;
        arena_unmap(p, 65536);
    }
    return NULL;
}

TEST_BEGIN(arena_maps_held_agree_with_the_list)
    static struct agree_ranges seen;
    pthread_t t;
    pthread_create(&t, NULL, agree_churn, NULL);
    agree_before.n = 0;
    agree_read(&agree_before); /* the program's: stacks, the thread's among them */
    unsigned bad = 0;
    uintptr_t bad_lo = 0, bad_hi = 0;
    for (int round = 0; round < 2000 && !bad; round++) {
        seen.n = 0;
        agree_read(&seen);
        bad = seen.n;
        if (bad) {
            bad_lo = seen.lo[0];
            bad_hi = seen.hi[0];
        }
    }
    atomic_store(&agree_stop, 1);
    void *r;
    pthread_join(t, &r);
    expect_true(r == NULL, "the churning thread ran out of memory");
    expect_true(!bad, "a mapping of the shim's at %#lx-%#lx was seen unlisted",
                (unsigned long)bad_lo, (unsigned long)bad_hi);
TEST_END

/* ---- the list grows past its first piece, and lists its pieces ---- */

#define MANY_MAPS 2500 /* past two pieces of the list (ARENA_MAPS_PIECE) */

struct many_seen {
    void **p;
    int found, pieces;
};

static void many_find(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct many_seen *m = arg;
    for (int i = 0; i < MANY_MAPS; i++)
        if ((uintptr_t)m->p[i] == lo && hi - lo == 4096) {
            m->found++;
            return;
        }
    if (hi - lo == 16384) /* a piece of the list (1024 entries of 16 bytes) */
        m->pieces++;
}

TEST_BEGIN(arena_lists_thousands_of_mappings)
    static void *p[MANY_MAPS];
    for (int i = 0; i < MANY_MAPS; i++) {
        p[i] = arena_map(4096);
        expect_true(p[i] != NULL, "map %d", i);
    }
    struct many_seen m = {p, 0, 0};
    expect_true(arena_each_map(many_find, &m) == 0, "the list says some were not listed");
    expect_true(m.found == MANY_MAPS, "%d of %d mappings listed", m.found, MANY_MAPS);
    expect_true(m.pieces >= 3, "%d pieces of the list listed, want 3 at least", m.pieces);
    for (int i = 0; i < MANY_MAPS; i++)
        arena_unmap(p[i], 4096);
    m.found = 0;
    arena_each_map(many_find, &m);
    expect_true(m.found == 0, "%d unmapped mappings still listed", m.found);
TEST_END

struct sparse_seen {
    uintptr_t lo, hi;
    int found;
};

static void sparse_find(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct sparse_seen *s = arg;
    if (lo == s->lo && hi == s->hi)
        s->found = 1;
}

/* arena_map_sparse: listed (the leak check takes no shim mapping for the
 * program's shared memory, a root), zero, shared with a fork when asked
 * and private otherwise, gone from the list once unmapped; arena_populate
 * makes a mapping's pages resident (mincore) and keeps them zero. */
TEST_BEGIN(arena_sparse_maps_are_listed_and_shared_when_asked)
    size_t len = 1u << 20;
    for (int shared = 0; shared < 2; shared++) {
        volatile uint64_t *m = arena_map_sparse(len, shared);
        expect_true(m != NULL, "sparse map, shared %d", shared);
        if (!m)
            continue;
        struct sparse_seen s = {(uintptr_t)m, (uintptr_t)m + len, 0};
        arena_each_map(sparse_find, &s);
        expect_true(s.found, "sparse map (shared %d) not listed", shared);
        expect_eq_u64(m[len / 8 - 1], 0);
        pid_t pid = fork();
        if (pid == 0) {
            m[12345] = 0x5eed;
            _exit(0);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        expect_eq_u64(m[12345], shared ? 0x5eed : 0);
        arena_unmap((void *)m, len);
        s.found = 0;
        arena_each_map(sparse_find, &s);
        expect_true(!s.found, "unmapped sparse map still listed");
    }
    char *p = arena_map(len);
    unsigned char vec[256];
    arena_populate(p + 100, len - 200); /* whole pages inside only */
    expect_true(mincore(p, len, vec) == 0, "mincore");
    unsigned resident = 0;
    for (unsigned i = 0; i < 256; i++)
        resident += vec[i] & 1;
    /* 254 whole pages inside; kernels before 5.14 populate none */
    expect_true(resident == 254 || resident == 0, "%u of 256 pages resident", resident);
    expect_true(!(vec[0] & 1) && !(vec[255] & 1), "a page only partly asked for was populated");
    for (size_t k = 0; k < len; k += 4096)
        expect_true(p[k] == 0, "populated byte %zu not zero", k);
    arena_unmap(p, len);
TEST_END

int main(void)
{
    arena_blocks_are_zeroed_and_distinct();
    arena_reuses_freed_blocks();
    arena_big_blocks_are_mapped_and_unmapped();
    arena_out_of_memory_degrades();
    arena_many_threads();
    arena_maps_held_agree_with_the_list();
    arena_lists_thousands_of_mappings();
    arena_sparse_maps_are_listed_and_shared_when_asked();
    return 0;
}
