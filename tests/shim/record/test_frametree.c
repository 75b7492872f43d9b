// link: shim/record/traces.c shim/record/tracefail.c shim/record/frametree.c shim/record/athreads.c shim/base/arena.c shim/base/lock.c
/*
 * test_frametree.c - traces.c's interning of stacks as a tree of frames:
 * stacks that share their outer frames get distinct ids, dense and in
 * order of first sight; every stack comes back exactly from trace_stack;
 * the same stack twice (from the thread's cache, past it, from another
 * thread) is the same id; a stack that is another's outer part, the empty
 * stack and the longest are traces of their own; the <unsampled> and
 * __lsan_disable twins share frames but not ids; a trace costs well
 * under the 632 bytes a 64-frame record took before the tree; the
 * frames' index given back is made again; stacks that take turns past
 * the cache are found again by the index of stacks by hash, and without
 * it by the tree; a stack of new frames is made
 * as one chain and walked down again without a node made twice; and
 * ftree_tail_same counts the equal words from the end as a plain loop does, at every length and
 * every first difference (its turns of eight and four words); ftree_found,
 * read against the thread's path, answers as ftree_same.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "record.h"
#include "unit.h"

/* What traces.c calls outside interning; the tests charge nothing. */
void degrade_now(const char *why) { printf("degrade: %s\n", why); }
__thread struct hs_hot hs_hot; /* peak_mine NULL */
__thread int peak_idle = 1;
static const int fork_mark_one = 1;
const volatile int *base_fork_mark = &fork_mark_one;
_Atomic uint64_t peak_next = UINT64_MAX;
void peak_move_slow(uint32_t id, int64_t n, int64_t bytes) {}
void peak_capture(uint64_t peak_now) {}
void pend_settle(void) {}
int pend_settle_one(void) { return 0; }
unsigned pend_forget_fresh(void) { return 0; }
void peak_doubt(void) {}
void tbl_clear(tbl_visit_fn fn, void *arg) {}
int sample_estimates;
struct sample_weight sample_weigh_estimate(uint64_t size) { return (struct sample_weight){0, 0}; }

#define DEPTH 64
#define SHARED 40   /* outer frames every stack of the families shares */

/* Stack k of a family, innermost first: SHARED common outer frames, then
 * frames that branch by k's bits from the most significant one in (so
 * stacks share ever longer prefixes), the innermost `uniq` unique to k. */
static void family(uint32_t k, unsigned uniq, uintptr_t *ip)
{
    for (unsigned i = 0; i < SHARED; i++)
        ip[DEPTH - 1 - i] = 0x400000 + i * 16;
    for (unsigned j = 0; j < DEPTH - SHARED; j++) {
        unsigned i = DEPTH - 1 - SHARED - j;     /* j-th frame inside the shared ones */
        uint32_t v = i < uniq ? k : k >> (j < 20 ? 20 - j : 0);
        ip[i] = 0x500000 + (uintptr_t)v * 64 + i;
    }
}

static uint32_t intern(const uintptr_t *ip, unsigned depth)
{
    uint32_t id = UINT32_MAX;
    if (trace_intern(ip, depth, 0, &id) != 0)
        return UINT32_MAX;
    return id;
}

static int roundtrip(uint32_t id, const uintptr_t *ip, unsigned depth)
{
    uintptr_t got[TRACE_DEPTH_MAX + 1];
    unsigned flags;
    got[depth] = 0xdead;
    return trace_stack(id, got, TRACE_DEPTH_MAX, &flags) == depth &&
           memcmp(got, ip, depth * sizeof *ip) == 0 && got[depth] == 0xdead;
}

#define NFAM 20000u

TEST_BEGIN(tracetree_shared_prefixes_distinct_dense_ids)
    uint32_t first = trace_count();
    uintptr_t ip[DEPTH];
    for (uint32_t k = 0; k < NFAM; k++) {
        family(k, 4, ip);
        uint32_t id = intern(ip, DEPTH);
        expect_eq_u64(id, first + k); /* new every time: distinct, dense, in order */
    }
    expect_eq_u64(trace_count(), first + NFAM);
TEST_END

TEST_BEGIN(tracetree_stacks_round_trip_exactly)
    uintptr_t ip[DEPTH], part[2];
    unsigned flags;
    for (uint32_t k = 0; k < NFAM; k += 7) {
        family(k, 4, ip);
        uint32_t id = intern(ip, DEPTH);
        expect_true(roundtrip(id, ip, DEPTH), "stack %u does not round-trip", k);
        /* fewer frames asked for: the innermost ones, and the full depth */
        part[1] = 0xbeef;
        expect_eq_u64(trace_stack(id, part, 1, &flags), DEPTH);
        expect_eq_u64(part[0], ip[0]);
        expect_eq_u64(part[1], 0xbeef);
    }
    expect_eq_u64(trace_stack(trace_count() + 5, part, 2, &flags), 0); /* unknown id */
    expect_eq_u64(flags, 0);
TEST_END

TEST_BEGIN(tracetree_same_stack_same_id)
    uintptr_t ip[DEPTH];
    family(12345, 4, ip);
    uint32_t a = intern(ip, DEPTH), b = intern(ip, DEPTH); /* the cache */
    expect_eq_u64(b, a);
    for (uint32_t k = 0; k < 3000; k++) { /* every cache slot overwritten */
        uintptr_t o[DEPTH];
        family(k * 3 + 1, 4, o);
        intern(o, DEPTH);
    }
    uint32_t n = trace_count();
    expect_eq_u64(intern(ip, DEPTH), a);  /* the tree */
    expect_eq_u64(trace_count(), n);
TEST_END

/* Frames that differ in one place only, or in order, or in length. */
TEST_BEGIN(tracetree_near_stacks_differ)
    uintptr_t ip[DEPTH], o[DEPTH];
    family(777, 4, ip);
    uint32_t a = intern(ip, DEPTH);
    for (unsigned i = 0; i < DEPTH; i++) {
        memcpy(o, ip, sizeof o);
        o[i] ^= 0x10;
        uint32_t b = intern(o, DEPTH);
        expect_true(b != a, "frame %u changed, same id %u", i, a);
        expect_true(roundtrip(b, o, DEPTH), "frame %u changed: no round-trip", i);
    }
    memcpy(o, ip, sizeof o); /* two frames swapped */
    o[3] = ip[4], o[4] = ip[3];
    expect_true(intern(o, DEPTH) != a, "swapped frames, same id");
    /* the outer part of a stack (its inner frames dropped) is a stack of
     * its own, though its innermost node is on the longer one's path */
    uint32_t outer = intern(ip + 10, DEPTH - 10);
    expect_true(outer != a, "outer part, same id");
    expect_true(roundtrip(outer, ip + 10, DEPTH - 10), "outer part: no round-trip");
    expect_eq_u64(intern(ip, DEPTH), a);
    expect_eq_u64(intern(ip + 10, DEPTH - 10), outer);
TEST_END

TEST_BEGIN(tracetree_depth_0_1_64_256)
    uintptr_t ip[TRACE_DEPTH_MAX];
    for (unsigned i = 0; i < TRACE_DEPTH_MAX; i++)
        ip[i] = 0x900000 + i * 8;
    uint32_t e = intern(ip, 0), one = intern(ip, 1), d64 = intern(ip, 64),
             d256 = intern(ip, TRACE_DEPTH_MAX);
    expect_true(e != one && e != d64 && e != d256 && one != d64 && d64 != d256, "ids shared");
    expect_true(roundtrip(e, ip, 0), "empty stack");
    expect_true(roundtrip(one, ip, 1), "one frame");
    expect_true(roundtrip(d64, ip, 64), "64 frames");
    expect_true(roundtrip(d256, ip, TRACE_DEPTH_MAX), "256 frames");
    expect_eq_u64(intern(ip, 0), e);
    expect_eq_u64(intern(ip, TRACE_DEPTH_MAX), d256);
TEST_END

TEST_BEGIN(tracetree_unsampled_and_disabled_twin)
    uintptr_t ip[DEPTH], got[DEPTH];
    unsigned flags;
    uint32_t e = intern(ip, 0), u, u2;
    expect_eq_u64(trace_intern_unsampled(&u), 0);
    expect_eq_u64(trace_intern_unsampled(&u2), 0);
    expect_true(u != e, "<unsampled> is the empty stack");
    expect_eq_u64(u2, u);
    expect_eq_u64(trace_stack(u, got, DEPTH, &flags), 0);
    expect_eq_u64(flags, HSNAP_TRACE_UNSAMPLED);
    expect_eq_u64(intern(ip, 0), e);

    family(4242, 4, ip);
    uint32_t a = intern(ip, DEPTH), w = trace_disabled_twin(a);
    expect_true(w != a, "twin is the trace");
    expect_eq_u64(trace_disabled_twin(a), w);
    expect_eq_u64(trace_disabled_twin(w), w);
    expect_true(roundtrip(w, ip, DEPTH), "twin's frames");
    trace_stack(w, got, DEPTH, &flags);
    expect_eq_u64(flags, HSNAP_TRACE_DISABLED);
    trace_stack(a, got, DEPTH, &flags);
    expect_eq_u64(flags, 0);
    expect_eq_u64(intern(ip, DEPTH), a); /* lookups never find the twin */
TEST_END

/* The bytes the shim maps per trace for stacks shaped like Python's
 * (dicts.py: 40 frames deep on average, 3.8 nodes per trace; here 64
 * deep, ~5 nodes): before the tree each 64-frame record took 632 bytes,
 * plus uthash's buckets. */
TEST_BEGIN(tracetree_bytes_per_trace)
    size_t before = arena_mapped();
    uint32_t n0 = trace_count();
    uintptr_t ip[DEPTH];
    for (uint32_t k = 0; k < 100000; k++) {
        family(0x100000 + k, 4, ip);
        intern(ip, DEPTH);
    }
    uint32_t n = trace_count() - n0;
    size_t per = (arena_mapped() - before) / n;
    printf("    %u traces: %zu bytes each\n", n, per);
    expect_eq_u64(n, 100000);
    expect_true(per <= 200, "%zu bytes per trace, want at most 200 (632 before the tree)", per);
TEST_END

/* Threads interning the same stacks at once: each thread gets its own
 * trace of each stack (traces are kept apart per allocating thread:
 * athr_mine), the same id again when it interns the stack again, and
 * every id reads back as its stack. */
#define THREADS 4
#define PER 3000u
static uint32_t seen[THREADS][PER];

static void *worker(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    uintptr_t ip[DEPTH];
    for (uint32_t k = 0; k < PER; k++) {
        uint32_t j = (k * 7 + me * 1000) % PER; /* different orders */
        family(0x200000 + j, 4, ip);
        seen[me][j] = intern(ip, DEPTH);
    }
    for (uint32_t j = 0; j < PER; j += 7) { /* again: the same id */
        family(0x200000 + j, 4, ip);
        if (intern(ip, DEPTH) != seen[me][j])
            seen[me][j] = UINT32_MAX;
    }
    return NULL;
}

TEST_BEGIN(tracetree_threads_apart)
    pthread_t th[THREADS];
    uint32_t n0 = trace_count();
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    expect_eq_u64(trace_count() - n0, (uint64_t)PER * THREADS);
    uintptr_t ip[DEPTH];
    for (uint32_t j = 0; j < PER; j++) {
        family(0x200000 + j, 4, ip);
        for (unsigned i = 0; i < THREADS; i++) {
            expect_true(seen[i][j] != UINT32_MAX, "thread %u, stack %u: another id again", i, j);
            for (unsigned k = 0; k < i; k++)
                expect_true(seen[i][j] != seen[k][j], "threads %u and %u share stack %u's id", k, i, j);
            expect_true(roundtrip(seen[i][j], ip, DEPTH), "thread %u, stack %u", i, j);
        }
    }
TEST_END

/* The index given back (the exit snapshot's) and made again from the
 * nodes at the next walk that makes nodes: the same stacks get their ids,
 * new ones new ids, every stack round-trips. */
TEST_BEGIN(ftree_index_dropped_and_made_again)
    uintptr_t ip[DEPTH];
    uint32_t n = trace_count();
    size_t before = arena_mapped();
    trace_lock();
    ftree_index_drop();
    ftree_index_drop(); /* twice: nothing more to give */
    trace_unlock();
    size_t after = arena_mapped();
    /* NFAM families of 4 frames of their own at least: 80,000 nodes, of
     * which the index holds each family's first (the others are each the
     * next of the one before: ftree_indexed), an index of 2^15 slots of 4
     * bytes or more */
    expect_true(before >= after + (128u << 10), "index gave back %zu bytes", before - after);
    for (uint32_t k = 0; k < NFAM; k += 3) {
        family(k, 4, ip);
        uint32_t id = intern(ip, DEPTH);
        expect_true(id < n && roundtrip(id, ip, DEPTH), "family %u: id %u of %u", k, id, n);
    }
    expect_eq_u64(trace_count(), n);
    for (uint32_t k = 0; k < 100; k++) {
        family(NFAM + 1000 + k, 4, ip);
        uint32_t id = intern(ip, DEPTH);
        expect_eq_u64(id, n + k);
        expect_true(roundtrip(id, ip, DEPTH), "new stack %u", k);
    }
    /* made again by the first walk that made nodes (the stacks met before
     * may all come from traces.c's index by hash, without a walk) */
    expect_true(arena_mapped() >= before, "the index was not made again");
TEST_END

/* Stacks that take turns past the thread's cache (TRACE_CACHE slots) are
 * found again by the index of stacks by hash, in any order, and after
 * the index is given back (trace_index_drop) by the tree: the same ids,
 * no trace made twice, every stack round-trips; a new stack among them
 * gets the next id. */
#define TURNS 5000u
TEST_BEGIN(tracetree_index_finds_stacks_past_the_cache)
    uintptr_t ip[DEPTH];
    uint32_t first = trace_count();
    for (uint32_t k = 0; k < TURNS; k++) {
        family(0x300000 + k, 2, ip);
        expect_eq_u64(intern(ip, DEPTH), first + k);
    }
    for (int round = 0; round < 3; round++) {
        if (round == 2) {
            trace_lock();
            trace_index_drop();
            trace_index_drop(); /* twice: nothing more to give */
            trace_unlock();
        }
        for (uint32_t i = 0; i < TURNS; i++) {
            uint32_t k = (i * 7919u + (uint32_t)round) % TURNS; /* another order each round */
            family(0x300000 + k, 2, ip);
            uint32_t id = intern(ip, DEPTH);
            expect_true(id == first + k && roundtrip(id, ip, DEPTH),
                        "round %d, stack %u: id %u, want %u", round, k, id, first + k);
        }
        expect_eq_u64(trace_count(), first + TURNS);
    }
    family(0x300000 + TURNS, 2, ip);
    expect_eq_u64(intern(ip, DEPTH), first + TURNS);
TEST_END

/* Stack j of chain_stack, innermost first: the outer SHARED frames of
 * every such stack, then frames of j's own. */
static void chain_stack(uint32_t j, uintptr_t *ip)
{
    for (unsigned i = 0; i < DEPTH; i++)
        ip[DEPTH - 1 - i] = i < SHARED ? 0x900000 + i * 16 : 0xa00000 + j * 0x1000 + i * 16;
}

/* Stack j's innermost node, or UINT32_MAX when it is not its frames.
 * The tree's own walk, as traces.c's intern makes it (the callers take
 * turns: no lock needed). */
static uint32_t chain_node(uint32_t j)
{
    uintptr_t ip[DEPTH];
    chain_stack(j, ip);
    int64_t n = ftree_walk_in(ip, DEPTH, ftree_path_shared(ip, DEPTH));
    if (n < 0 || !ftree_same((uint32_t)n, ip, DEPTH))
        return UINT32_MAX;
    return (uint32_t)n;
}

static uint32_t chain_again[2];

static void *chain_walker(void *arg)
{
    (void)arg;
    chain_again[0] = chain_node(0);
    chain_again[1] = chain_node(1);
    return NULL;
}

/* A stack of new frames is made as one chain, its nodes' ids in a row
 * (SHARED outer frames, then DEPTH - SHARED of its own); a walk down made
 * chains (from a thread with no path of its own, so every
 * frame is found, by the next id or the index) makes no node twice: the
 * next new stack's nodes follow right after. */
TEST_BEGIN(tracetree_chains_are_made_once_and_found_again)
    uint32_t a = chain_node(0);
    uint32_t b = chain_node(1);
    expect_true(a != UINT32_MAX, "chain stack 0");
    expect_eq_u64(b, a + (DEPTH - SHARED)); /* its own frames: new, in a row */
    pthread_t t;
    pthread_create(&t, NULL, chain_walker, NULL);
    pthread_join(t, NULL);
    expect_eq_u64(chain_again[0], a);
    expect_eq_u64(chain_again[1], b);
    expect_eq_u64(chain_node(2), b + (DEPTH - SHARED)); /* nothing made between */
TEST_END

/* Node of the stack of n frames out[] (outermost first), walked in; the
 * callers take turns. */
static uint32_t next_node(const uintptr_t *out, unsigned n)
{
    uintptr_t ip[4];
    for (unsigned i = 0; i < n; i++)
        ip[n - 1 - i] = out[i];
    trace_lock();
    int64_t got = ftree_walk_in(ip, n, ftree_path_shared(ip, n));
    trace_unlock();
    return got > 0 && ftree_same((uint32_t)got, ip, n) ? (uint32_t)got : UINT32_MAX;
}

/* Stacks of next_node: 0 (o, m), 1 (o, m, x), 2 (o, m, y), 3 (o, z). */
static const uintptr_t next_out[4][3] = {
    {0xd00000, 0xd00010}, {0xd00000, 0xd00010, 0xd00020},
    {0xd00000, 0xd00010, 0xd00030}, {0xd00000, 0xd00040}};
static const unsigned next_depth[4] = {2, 3, 3, 2};
static uint32_t next_again[4];

static void *next_walker(void *arg)
{
    (void)arg;
    static const unsigned order[4] = {1, 3, 2, 0}; /* x first, with no path of its own */
    for (unsigned i = 0; i < 4; i++)
        next_again[order[i]] = next_node(next_out[order[i]], next_depth[order[i]]);
    return NULL;
}

/* A node made right after its parent is in no index (ftree_indexed): x,
 * made under m when m was the newest node, is found beside m by a walk
 * that has no path, after the index was given back and made again; y and
 * z, made under older nodes, through the index; no node is made twice. */
TEST_BEGIN(ftree_next_nodes_found_without_the_index)
    uint32_t node[4];
    for (unsigned j = 0; j < 4; j++)
        node[j] = next_node(next_out[j], next_depth[j]);
    expect_true(node[0] != UINT32_MAX, "stack 0");
    expect_eq_u64(node[1], node[0] + 1); /* x: m's next */
    expect_eq_u64(node[2], node[0] + 2); /* y: under m, not its next */
    expect_eq_u64(node[3], node[0] + 3); /* z: under o, not its next */
    trace_lock();
    ftree_index_drop();
    trace_unlock();
    pthread_t t;
    pthread_create(&t, NULL, next_walker, NULL);
    pthread_join(t, NULL);
    for (unsigned j = 0; j < 4; j++)
        expect_eq_u64(next_again[j], node[j]);
    const uintptr_t w[2] = {0xd00000, 0xd00050};
    expect_eq_u64(next_node(w, 2), node[0] + 4); /* nothing made between */
TEST_END

/* Stack j of a long chain of new frames (LONG deep, innermost first):
 * one outer frame, then LONG - 1 of j's own. */
#define LONG 200u
static void long_stack(uint32_t j, uintptr_t *ip)
{
    for (unsigned i = 0; i < LONG; i++)
        ip[LONG - 1 - i] = i == 0 ? 0xb00000 : 0xc00000 + (uintptr_t)j * 0x10000 + i * 16;
}

/* ftree_same guesses that a node's parent is the node just before it,
 * but not across a chunk of nodes: a chain of new frames that crosses
 * one is its frames, and no longer is with a frame changed on either side
 * of the crossing. */
TEST_BEGIN(ftree_same_follows_a_chain_across_chunks)
    uintptr_t ip[LONG], back[LONG];
    uint32_t n = 0, b = 0;
    for (uint32_t j = 0; j < 100 && !b; j++) {
        long_stack(j, ip);
        trace_lock();
        int64_t got = ftree_walk_in(ip, LONG, ftree_path_shared(ip, LONG));
        trace_unlock();
        expect_true(got > 0, "stack %u walked in", j);
        n = (uint32_t)got;
        if ((n - (LONG - 2)) >> 13 != n >> 13) /* its own nodes span two chunks (of 8192) */
            b = n & ~8191u;
    }
    expect_true(b, "no chain crossed a chunk");
    unsigned at = n - b; /* the frame whose node opens the chunk */
    expect_true(ftree_same(n, ip, LONG), "the chain's own frames");
    expect_eq_u64(ftree_copy(n, LONG, back, LONG), LONG);
    expect_true(memcmp(back, ip, sizeof ip) == 0, "the chain copied back");
    for (unsigned i = at - 1; i <= at + 1; i++) {
        ip[i] ^= 0x8;
        expect_true(!ftree_same(n, ip, LONG), "frame %u changed, %u at the crossing", i, at);
        ip[i] ^= 0x8;
    }
TEST_END

/* ftree_tail_same against one word a turn: every length up to 70, the
 * first difference (from the end) at every place or none, and a
 * difference in either 32-bit half of the word (its SSE2 lanes). */
TEST_BEGIN(tail_same_counts_equal_words_from_the_end)
    uintptr_t a[72], b[72];
    for (unsigned m = 0; m <= 70; m++)
        for (unsigned d = 0; d <= m; d++)
            for (unsigned half = 0; half < 2; half++) {
                for (unsigned i = 0; i < 72; i++)
                    a[i] = b[i] = 0x7f0000001000ull + i * 0x100000001ull;
                if (d < m) /* the word d from the end differs */
                    b[72 - 1 - d] ^= half ? 0x100000000ull : 1;
                unsigned want = 0;
                while (want < m && a[72 - 1 - want] == b[72 - 1 - want])
                    want++;
                expect_eq_u64(ftree_tail_same(a + 72, b + 72, m), want);
            }
TEST_END


/* ftree_found answers as ftree_same whatever the thread's path holds:
 * stacks of a random tree (families sharing outer frames) asked against
 * their own node and against another's, the query changed at a random
 * frame or not, in an order where the path shares some outer frames with
 * the query and the node's stack shares others (a node whose outer frames
 * are not the query's, though the query's are the path's, is told apart
 * by its ancestor's id); and the path cut by a mismatch still answers. */
#define FOUND_STACKS 64u
#define FOUND_DEPTH 24u
static void found_stack(uint32_t j, unsigned depth, uintptr_t *ip)
{
    /* frame i from the outermost: shared by the stacks whose number agrees
     * on the bits above i / 4 (a family tree four frames a level) */
    for (unsigned i = 0; i < depth; i++)
        ip[depth - 1 - i] = 0xd00000 + (uintptr_t)(j >> (i / 4 < 6 ? 6 - i / 4 : 0)) * 0x1000 +
                            i * 16;
}

TEST_BEGIN(ftree_found_answers_as_ftree_same)
    uint32_t node[FOUND_STACKS];
    unsigned depth[FOUND_STACKS];
    uintptr_t ip[FOUND_DEPTH];
    for (uint32_t j = 0; j < FOUND_STACKS; j++) {
        depth[j] = FOUND_DEPTH - (j % 5);
        found_stack(j, depth[j], ip);
        trace_lock();
        int64_t got = ftree_walk_in(ip, depth[j], ftree_path_shared(ip, depth[j]));
        trace_unlock();
        expect_true(got > 0, "stack %u walked in", j);
        node[j] = (uint32_t)got;
    }
    uint64_t seed = 12345, differ = 0, same = 0;
    for (unsigned q = 0; q < 200000; q++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t a = (uint32_t)(seed >> 33) % FOUND_STACKS, b = (uint32_t)(seed >> 45) % FOUND_STACKS;
        unsigned mode = (unsigned)(seed >> 20) & 3, d = depth[mode < 3 ? a : b];
        if (mode < 2)
            b = a; /* its own node */
        found_stack(a, d, ip);
        if (mode == 1) /* a frame changed, anywhere */
            ip[(seed >> 24) % d] ^= 0x10;
        if (mode == 2) { /* b's inner frames under a's outer ones, a's stack last found */
            uintptr_t own[FOUND_DEPTH];
            expect_true(ftree_found(node[a], ip, d) == (depth[a] == d), "stack %u itself", a);
            found_stack(b, d, own);
            memcpy(ip, own, ((seed >> 24) % d) * sizeof *ip);
        }
        int want = depth[b] == d && ftree_same(node[b], ip, d);
        int got = depth[b] == d && ftree_found(node[b], ip, d);
        expect_true(got == want, "query %u: stack %u against node of %u: %d, want %d", q, a, b,
                    got, want);
        if (got != want)
            break;
        want ? same++ : differ++;
    }
    expect_true(same > 10000 && differ > 10000, "both answers asked: %llu same, %llu not",
                (unsigned long long)same, (unsigned long long)differ);
TEST_END

int main(void)
{
    tracetree_shared_prefixes_distinct_dense_ids();
    tracetree_stacks_round_trip_exactly();
    tracetree_same_stack_same_id();
    tracetree_near_stacks_differ();
    tracetree_depth_0_1_64_256();
    tracetree_unsampled_and_disabled_twin();
    tracetree_bytes_per_trace();
    tracetree_threads_apart();
    ftree_index_dropped_and_made_again();
    tracetree_index_finds_stacks_past_the_cache();
    tracetree_chains_are_made_once_and_found_again();
    ftree_next_nodes_found_without_the_index();
    ftree_same_follows_a_chain_across_chunks();
    tail_same_counts_equal_words_from_the_end();
    ftree_found_answers_as_ftree_same();
    return 0;
}
