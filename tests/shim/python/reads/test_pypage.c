// link: shim/python/reads/pypage.c shim/base/peek.c
/*
 * test_pypage.c - shim/python/reads/pypage.c, the page copies of a snapshot's
 * field reads: while the thread that opened it reads, a read copies the 4
 * KiB piece it falls in by one process_vm_readv and the reads after it in
 * that piece make no call, with the same bytes (across two pieces too); a
 * read of an unmapped page fails, as a peek's does, and does not crash; a
 * new open drops the copies (a write since is seen); another thread, and
 * any thread once closed, reads afresh (a plain peek); chunks whose hash
 * names one slot are held four at a time, the least lately read pushed out.
 * A read in the interpreter's image (here the test's own, pylay_sym.code_type
 * pointing into it) is a plain load, no call.  arena_map and arena_unmap
 * are stubbed (mmap), pylay_sym and loader_iterate_phdr too.
 */
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "pylayout.h"
#include "pyreads.h"
#include "unit.h"

void *arena_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void arena_unmap(void *p, size_t n)
{
    munmap(p, n);
}

struct pylay_syms pylay_sym;

int loader_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
    return dl_iterate_phdr(cb, data);
}

static uint64_t image_word = 0x0123456789abcdefull; /* in this program's data */
static const char image_text[] = "a constant in the image's read-only data";
static uint64_t image_big[1024]; /* longer than a field read (a roots scan's) */

static char *mem; /* 3 pages: 0 and 1 readable, 2 unmapped */

static uint64_t calls(void)
{
    uint64_t c, h;
    pyrd_pg_counts(&c, &h);
    return c;
}

TEST_BEGIN(pypage_reads_a_piece_once)
{
    uint64_t w = 0, c0;
    char buf[64];
    pyrd_pg_open();
    c0 = calls();
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 8, 8), "first read");
    expect_eq_u64(w, 0x1122334455667788ull);
    expect_eq_u64(calls(), c0 + 1);
    for (int i = 0; i < 100; i++)
        expect_true(pyrd_pg_peek(buf, (uintptr_t)mem + 40 * i, 32) && !memcmp(buf, mem + 40 * i, 32),
                    "read %d", i);
    expect_eq_u64(calls(), c0 + 1); /* the same piece: no call */
    expect_true(pyrd_pg_peek(buf, (uintptr_t)mem + 4096 - 16, 32) && !memcmp(buf, mem + 4096 - 16, 32),
                "across two pieces");
    expect_eq_u64(calls(), c0 + 2);
    pyrd_pg_close();
}
TEST_END

TEST_BEGIN(pypage_unmapped_page_fails)
{
    uint64_t w = 7;
    pyrd_pg_open();
    expect_true(!pyrd_pg_peek(&w, (uintptr_t)mem + 2 * 4096 + 8, 8), "an unmapped page read");
    expect_true(!pyrd_pg_peek(&w, (uintptr_t)mem + 2 * 4096 - 4, 8), "a read running into it");
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 4096, 8), "its neighbour still reads");
    pyrd_pg_close();
}
TEST_END

TEST_BEGIN(pypage_open_drops_copies)
{
    uint64_t w = 0, v = 0xabcdefull, old;
    memcpy(&old, mem + 4096 + 64, 8);
    pyrd_pg_open();
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 4096 + 64, 8) && w == old, "first read");
    memcpy(mem + 4096 + 64, &v, 8);
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 4096 + 64, 8) && w == old, "the copy, within a pass");
    pyrd_pg_open(); /* a new pass */
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 4096 + 64, 8) && w == v, "a new pass reads afresh");
    pyrd_pg_close();
    memcpy(mem + 4096 + 64, &old, 8);
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 4096 + 64, 8) && w == old, "closed: a plain peek");
}
TEST_END

static void *other_reads(void *arg)
{
    uint64_t *w = arg;
    pyrd_pg_open(); /* held by the main thread: this one peeks */
    if (!pyrd_pg_peek(w, (uintptr_t)mem + 4096 + 128, 8))
        *w = 1;
    pyrd_pg_close();
    return NULL;
}

TEST_BEGIN(pypage_other_thread_peeks)
{
    uint64_t w = 0, v = 0x5eed, old, c0;
    pthread_t t;
    memcpy(&old, mem + 4096 + 128, 8);
    pyrd_pg_open();
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 4096 + 128, 8) && w == old, "owner's read");
    memcpy(mem + 4096 + 128, &v, 8);
    c0 = calls();
    expect_true(pthread_create(&t, NULL, other_reads, &w) == 0, "thread");
    pthread_join(t, NULL);
    expect_eq_u64(w, v);        /* not the owner's copy */
    expect_eq_u64(calls(), c0); /* nor through the cache */
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 4096 + 128, 8) && w == old, "the owner's copy stands");
    pyrd_pg_close();
    memcpy(mem + 4096 + 128, &old, 8);
}
TEST_END

/* Chunks whose hash names one slot (pypage.c's): up to PYPG_WAYS of them
 * are held at once, where one slot held one; a fifth pushes out the one
 * read least lately, and only it. */
TEST_BEGIN(pypage_keeps_four_chunks_of_one_slot)
{
    size_t len = 16u << 20;
    char *big = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t c[5], k = 0, w, c0;
    expect_true(big != MAP_FAILED, "no memory");
    if (big == MAP_FAILED)
        return;
    uint64_t first = ((uintptr_t)big + 4095) / 4096, want = 0;
    for (uint64_t n = first; n < first + len / 4096 - 1 && k < 5; n++) {
        uint64_t slot = (n * 0x9e3779b97f4a7c15ull) >> 56;
        if (!k)
            want = slot;
        if (slot == want)
            c[k++] = n;
    }
    expect_eq_u64(k, 5);
    pyrd_pg_open();
    for (unsigned i = 0; i < 4 && k == 5; i++)
        expect_true(pyrd_pg_peek(&w, c[i] * 4096 + 8, 8), "chunk %u", i);
    c0 = calls();
    for (unsigned i = 0; i < 4 && k == 5; i++)
        expect_true(pyrd_pg_peek(&w, c[i] * 4096 + 16, 8), "chunk %u again", i);
    expect_eq_u64(calls(), c0); /* all four held */
    if (k == 5) {
        expect_true(pyrd_pg_peek(&w, c[4] * 4096, 8), "a fifth");
        for (unsigned i = 1; i < 4; i++)
            expect_true(pyrd_pg_peek(&w, c[i] * 4096, 8), "chunk %u after the fifth", i);
        expect_eq_u64(calls(), c0 + 1); /* the fifth's read only */
        expect_true(pyrd_pg_peek(&w, c[0] * 4096, 8), "the first, pushed out");
        expect_eq_u64(calls(), c0 + 2);
    }
    pyrd_pg_close();
    munmap(big, len);
}
TEST_END

/* The interpreter's image (the module holding PyCode_Type; here this
 * program, pylay_sym.code_type pointing into its data) is read by a plain
 * load: no system call, its bytes as they are now, in its data and in its
 * read-only data; a read outside it still goes through a copy. */
TEST_BEGIN(pypage_interpreter_image_read_without_a_call)
{
    uint64_t w = 0, c0;
    char buf[sizeof image_text];
    pylay_sym.code_type = (uintptr_t)&image_word;
    pyrd_pg_open();
    c0 = calls();
    expect_true(pyrd_pg_peek(&w, (uintptr_t)&image_word, 8), "the image's data");
    expect_eq_u64(w, 0x0123456789abcdefull);
    image_word = 42; /* a load, not a copy: a change is seen at once */
    expect_true(pyrd_pg_peek(&w, (uintptr_t)&image_word, 8) && w == 42, "read again");
    expect_true(pyrd_pg_peek(buf, (uintptr_t)image_text, sizeof buf) && !memcmp(buf, image_text, sizeof buf),
                "the image's read-only data");
    image_big[1000] = 77;
    static uint64_t big[1024];
    expect_true(pyrd_pg_peek(big, (uintptr_t)image_big, sizeof big) && big[1000] == 77, "8 KiB of it");
    expect_eq_u64(calls(), c0); /* no system call */
    expect_true(pyrd_pg_peek(&w, (uintptr_t)mem + 16, 8), "outside the image");
    expect_eq_u64(calls(), c0 + 1);
    pyrd_pg_close();
    pylay_sym.code_type = 0;
    image_word = 0x0123456789abcdefull;
}
TEST_END

int main(void)
{
    mem = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || munmap(mem + 2 * 4096, 4096) != 0) {
        printf("FAIL pypage_reads_a_piece_once: no memory\n");
        return 0;
    }
    for (int i = 0; i < 2 * 4096; i++)
        mem[i] = (char)(i * 7 + 1);
    uint64_t w = 0x1122334455667788ull;
    memcpy(mem + 8, &w, 8);
    pypage_reads_a_piece_once();
    pypage_unmapped_page_fails();
    pypage_open_drops_copies();
    pypage_other_thread_peeks();
    pypage_keeps_four_chunks_of_one_slot();
    pypage_interpreter_image_read_without_a_call();
    return 0;
}
