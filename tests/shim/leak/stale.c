/*
 * stale.c - dead frames at exit.  The exit-time check scans the exiting
 * thread's stack from where exit() was called: a pointer left in a dead
 * slot of main's frame, or of a function that returned before exit() was
 * called, must not keep a leaked block reachable, while the live frames
 * above the call keep theirs (LeakSanitizer's exit_atexit_stale_stack,
 * pointer_to_self and large_allocation_leak cases).  Frames about to die
 * are sprayed with copies of the pointers (SPRAY, 960 bytes below the
 * frame pointer), so that some copies survive in the holes of exit()'s
 * own frames, built later at the same place (the frames must be built
 * with frame pointers and no stack protector, and linked with -z now: a
 * lazy binding of exit() would run the loader's resolver there first,
 * whose 64-byte-aligned save area overwrites a varying part of them).
 * One mode per argv[1]:
 *
 * return: main allocates 7001, 7002 (which points to itself) and 33554432
 *         bytes (an mmapped chunk, placed clear of 4 GiB boundaries: see
 *         malloc_large), sprays its own frame with them and returns: 7001,
 *         7002 and the large block direct (a block that points only into
 *         itself is no cycle, as LeakSanitizer's pointer_to_self says).
 * exit:   main holds 7011 in a live local and calls nested(), which
 *         holds 7022 in its own and whose callee sprayed 7012 into its
 *         frame before returning; nested() then calls exit(0): 7011 and
 *         7022 reachable (live frames above the exit), 7012 direct.
 * api:    the same shape, but nested() runs heapsnap_collect(argv[2])
 *         mid-program: the caller's whole stack from its stack pointer is
 *         scanned, so 7021 (main's live local) and 7022 (nested()'s live
 *         local) are reachable, 7023 (sprayed by the callee) direct:
 *         prints "collect 1".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

long heapsnap_collect(const char *path) __attribute__((weak));

/* Fills the calling frame (built with frame pointers) from rbp-8 down,
 * 120 words, with a, b, c in turn: its locals go too, so it comes last,
 * and the frame must have room (ROOM). */
#define ROOM volatile char room_[1024]; (void)room_
#define SPRAY(a, b, c)                                                               \
    __asm__ volatile("lea -8(%%rbp), %%rcx\n\t"                                      \
                     "mov $40, %%edx\n"                                              \
                     "1:\n\t"                                                        \
                     "mov %0, (%%rcx)\n\t"                                           \
                     "mov %1, -8(%%rcx)\n\t"                                         \
                     "mov %2, -16(%%rcx)\n\t"                                        \
                     "sub $24, %%rcx\n\t"                                            \
                     "dec %%edx\n\t"                                                 \
                     "jnz 1b"                                                         \
                     : : "r"(a), "r"(b), "r"(c) : "rcx", "rdx", "memory")

/*
 * The large block of "return", away from every 4 GiB boundary.  A live
 * word can point into a 32 MiB chunk without being a pointer: a 32-bit
 * field whose padding keeps the upper half of an older pointer reads
 * 0x7fXX000000nn.  glibc's __libc_start_call_main has one in the frame
 * above main's, live until exit: the setjmp buffer it keeps for the main
 * thread's cancellation (struct pthread_unwind_buf) ends in the int
 * mask_was_saved, and the word's upper half holds whatever the loader's
 * start-up frames left there, often the top half of a library address.
 * The chunk is mapped just below the libraries, so about one run in 150
 * (ASLR, and the environment's size, which moves the start-up frames) it
 * spanned 0x7fXX00000000 and was possibly lost, not direct: a true interior
 * reference from a live frame, not the dead frame's doing.  So a chunk
 * within LARGE_SLACK of a boundary (small ints either side of it) is kept
 * while another is mapped, then freed: each new chunk lands next to the
 * last (32 MiB on), so the third at the latest is clear.  The test case
 * still fails if the dead frame were scanned (its copies are start
 * pointers: the block would read reachable).
 */
#define LARGE 33554432u
#define LARGE_SLACK ((uintptr_t)16 << 20)
#define LARGE_TRIES 8

static int near_4gib_boundary(uintptr_t lo, uintptr_t size)
{
    return (lo - LARGE_SLACK) >> 32 != (lo + size + LARGE_SLACK) >> 32;
}

NOINLINE static void *malloc_large(void)
{
    void *tried[LARGE_TRIES];
    int n = 0;
    void *p = malloc(LARGE);
    while (p && near_4gib_boundary((uintptr_t)p, LARGE) && n < LARGE_TRIES) {
        tried[n++] = p;
        p = malloc(LARGE);
    }
    while (n > 0)
        free(tried[--n]);
    return p;
}

NOINLINE static void drop_sprayed(size_t n)
{
    ROOM;
    void *p = malloc(n);
    SPRAY(p, p, p);
}

NOINLINE static void nested(const char *path)
{
    void *volatile live = malloc(7022);
    drop_sprayed(path ? 7023 : 7012);
    if (!path)
        exit(0);
    printf("collect %ld\n", heapsnap_collect(path));
    free((void *)live);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "return")) {
        ROOM;
        void *p = malloc(7001);
        void **self = malloc(7002);
        *self = self;
        void *large = malloc_large();
        SPRAY(p, self, large);
        return 0;
    }
    void *volatile live = malloc(!strcmp(argv[1], "api") ? 7021 : 7011);
    nested(!strcmp(argv[1], "api") ? argv[2] : NULL);
    free((void *)live);
    return 0;
}
