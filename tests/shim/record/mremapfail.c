/*
 * mremapfail.c - mremap calls the kernel refuses, each on a piece of a
 * tracked range (test_mremap_failed.sh): map_one's 16 MiB range (32 MiB
 * mapped, the back half given back and its first 4 MiB mapped again
 * read-only by map_next, a mapping of its own the kernel does not merge),
 * then
 *   EFAULT  map_one's back 4 MiB and map_next's 4 MiB: not one mapping,
 *   EINVAL  a 4 MiB hole in map_one's middle, MREMAP_FIXED without
 *           MREMAP_MAYMOVE,
 *   ENOMEM  map_one's back 8 MiB grown to 16 MiB in place, map_next after it;
 * each must leave the books as they were: one 16 MiB range at map_one's
 * line, one 4 MiB range at map_next's.  It says on stderr how each call
 * ended, so that the test knows the kernel refused each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MiB ((size_t)1 << 20)
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

__attribute__((noinline)) static char *map_one(void) { return mmap(NULL, 32 * MiB, RW, ANON, -1, 0); }
__attribute__((noinline)) static char *map_next(char *at) { return mmap(at, 4 * MiB, PROT_READ, ANON | MAP_FIXED, -1, 0); }

static void say(const char *what, void *q)
{
    fprintf(stderr, "mremapfail: %s: %s\n", what, q == MAP_FAILED ? strerror(errno) : "moved");
}

int main(void)
{
    char *a = map_one();
    if (a == MAP_FAILED)
        return 1;
    munmap(a + 20 * MiB, 12 * MiB);
    if (map_next(a + 16 * MiB) == MAP_FAILED) /* another protection: not merged */
        return 1;
    errno = 0;
    say("efault", mremap(a + 12 * MiB, 8 * MiB, 16 * MiB, MREMAP_MAYMOVE));
    errno = 0;
    say("einval", mremap(a + 6 * MiB, 4 * MiB, 4 * MiB, MREMAP_FIXED, a + 64 * MiB));
    errno = 0;
    say("enomem", mremap(a + 8 * MiB, 8 * MiB, 16 * MiB, 0));
    return 0;
}
