// link: shim/base/peek.c
/*
 * test_peek.c - peek_freeze, the leak check fork's plain loads (peek_safe):
 * while frozen, a private anonymous block (malloc's), a file's private
 * mapping (this binary's data) and the stack are safe; a shared mapping
 * (another process may truncate its file), a PROT_NONE page, an unmapped
 * one and a range running off a mapping's end are not, and peek still
 * reads the safe ones and refuses the unmapped one without a fault; thawed,
 * nothing is safe and peek is the system call's again; a table too small
 * for the mappings trusts none; a range cut out (peek_forget: the fork's
 * own mappings) is not safe, nor a read running into it, and a cut that
 * needs a range more than the table holds trusts none.  Between
 * peek_mem_on and peek_mem_off (the check's fork alive) a read of a page
 * the fork shares leaves it shared (process_vm_readv's pin made the kernel
 * copy it for the reader), a read running off a mapping gives the bytes
 * before the hole, and an unmapped address none.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peek.h"
#include "unit.h"

static const char peek_data[64] = "a file's private mapping";

#define ROOM 65536u
static struct peek_range room[ROOM];

TEST_BEGIN(peek_frozen_loads_private_mappings_only)
    long pg = sysconf(_SC_PAGESIZE);
    char *heap = malloc(64), local[32] = "the stack";
    char *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *gone = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_true(heap && shared != MAP_FAILED && none != MAP_FAILED && gone != MAP_FAILED,
                "set-up");
    strcpy(heap, "malloc's block");
    munmap(gone + pg, pg); /* gone's second page unmapped */
    expect_true(!peek_safe((uintptr_t)heap, 64), "not frozen: nothing is safe");
    peek_freeze(room, ROOM);
    expect_true(peek_fz.n > 0, "frozen: %zu ranges", peek_fz.n);
    expect_true(peek_safe((uintptr_t)heap, 64), "malloc's block");
    expect_true(peek_safe((uintptr_t)peek_data, sizeof peek_data), "this binary's data");
    expect_true(peek_safe((uintptr_t)local, sizeof local), "the stack");
    expect_true(peek_safe((uintptr_t)gone, pg), "a private anonymous page");
    expect_true(!peek_safe((uintptr_t)shared, 8), "a shared mapping");
    expect_true(!peek_safe((uintptr_t)none, 8), "a PROT_NONE page");
    expect_true(!peek_safe((uintptr_t)(gone + pg), 8), "an unmapped page");
    expect_true(!peek_safe((uintptr_t)(gone + pg - 8), 16), "a read off a mapping's end");
    char got[64];
    expect_true(peek(got, (uintptr_t)heap, 15) && !memcmp(got, "malloc's block", 15),
                "peek of a safe block");
    expect_true(!peek(got, (uintptr_t)(gone + pg), 8), "peek of an unmapped page refused");
    peek_thaw();
    expect_true(!peek_fz.n && !peek_safe((uintptr_t)heap, 64), "thawed: nothing is safe");
    expect_true(peek(got, (uintptr_t)peek_data, 8) && !memcmp(got, peek_data, 8),
                "thawed peek reads");
    peek_freeze(room, 1); /* every process has more than one range */
    expect_true(!peek_fz.n && !peek_safe((uintptr_t)heap, 64), "a table too small trusts none");
    peek_thaw();
    free(heap);
    munmap(shared, pg);
    munmap(none, pg);
    munmap(gone, pg);
TEST_END

/* A mapping of the frozen copy's own, cut out of the range it was merged
 * into (peek_forget), is not read by a load once it is gone: the leak
 * check's fork faulted in py_object_starts reading a "type" whose bytes
 * ran from the host's memory into scratch it had unmapped. */
TEST_BEGIN(peek_forgotten_range_not_safe)
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 5 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t a = (uintptr_t)m;
    expect_true(m != MAP_FAILED, "five pages mapped");
    peek_freeze(room, ROOM);
    expect_true(peek_safe(a, 5 * pg), "one range, merged");
    peek_forget(a + pg, a + 2 * pg); /* a hole */
    peek_forget(a + 4 * pg, a + 5 * pg); /* a back */
    munmap(m + pg, pg);
    munmap(m + 4 * pg, pg);
    expect_true(peek_safe(a, pg) && peek_safe(a + 2 * pg, 2 * pg), "the rest still safe");
    expect_true(!peek_safe(a + pg - 8, 16), "a read into the hole");
    expect_true(!peek_safe(a + 4 * pg - 8, 16), "a read past the new end");
    char got[16];
    expect_true(!peek(got, a + pg - 8, 16), "peek into the hole refused, no fault");
    peek_forget(a, a + 4 * pg); /* over two ranges: both go */
    expect_true(!peek_safe(a, 8) && !peek_safe(a + 2 * pg, 8), "both gone");
    peek_thaw();
    peek_freeze(room, ROOM);
    size_t n = peek_fz.n;
    peek_thaw();
    peek_freeze(room, n + 1); /* room for one split */
    expect_true(peek_fz.n == n, "the same ranges again");
    peek_forget(a + 2 * pg + 8, a + 2 * pg + 16);
    expect_true(peek_fz.n == n + 1 && peek_safe(a + 3 * pg, 8), "one split, table full");
    peek_forget(a + 3 * pg + 8, a + 3 * pg + 16);
    expect_true(!peek_fz.n && !peek_safe(a + 2 * pg, 8), "no room to split: none trusted");
    peek_thaw();
    munmap(m, pg);
    munmap(m + 2 * pg, 2 * pg);
TEST_END

/* Whether the page at p is mapped by this process alone (pagemap's bit
 * 56); -1 where pagemap cannot tell. */
static int peek_test_exclusive(const void *p)
{
    uint64_t e = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    long pg = sysconf(_SC_PAGESIZE);
    ssize_t r = fd < 0 ? -1 : pread(fd, &e, 8, (off_t)((uintptr_t)p / (uintptr_t)pg * 8));
    if (fd >= 0)
        close(fd);
    return r != 8 || !(e >> 63) ? -1 : (int)((e >> 56) & 1);
}

TEST_BEGIN(peek_mem_reads_shared_pages_without_copying)
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_true(m != MAP_FAILED, "three pages mapped");
    memset(m, 'a', pg);
    memset(m + pg, 'b', pg);
    munmap(m + 2 * pg, pg); /* the second page is the mapping's last */
    int hold[2];
    expect_true(pipe(hold) == 0, "pipe");
    pid_t child = fork();
    if (child == 0) { /* the fork: shares the pages until it goes */
        char c;
        close(hold[1]);
        (void)!read(hold[0], &c, 1);
        _exit(0);
    }
    close(hold[0]);
    expect_true(child > 0, "fork");
    peek_mem_on();
    expect_true(peek_mem_fd1 > 0, "/proc/self/mem opened");
    char got[2 * 4096 + 64];
    struct iovec to[2] = {{got, 64}, {got + 64, 2 * pg}};
    struct iovec from[2] = {{m, 64}, {m + pg, 2 * pg}};
    int before = peek_test_exclusive(m);
    long r = peek_readv(to, from, 2);
    expect_true(r == 64 + pg, "a read off the mapping's end: the bytes before (%ld)", r);
    expect_true(got[0] == 'a' && got[63] == 'a' && got[64] == 'b' && got[64 + pg - 1] == 'b',
                "the bytes read");
    int after = peek_test_exclusive(m);
    expect_true(before != 0 || after == 0, "a shared page read stays shared (%d -> %d)",
                before, after);
    from[0].iov_base = m + 2 * pg;
    expect_true(peek_readv(to, from, 1) < 0, "an unmapped page: nothing");
    expect_true(peek(got, (uintptr_t)(m + 8), 8) && got[0] == 'a', "peek through it");
    peek_mem_off();
    expect_true(peek_mem_fd1 == 0, "closed");
    expect_true(peek(got, (uintptr_t)(m + pg), 8) && got[0] == 'b', "the system call's again");
    close(hold[1]);
    waitpid(child, NULL, 0);
    munmap(m, 2 * pg);
TEST_END

int main(void)
{
    peek_frozen_loads_private_mappings_only();
    peek_forgotten_range_not_safe();
    peek_mem_reads_shared_pages_without_copying();
    return 0;
}
