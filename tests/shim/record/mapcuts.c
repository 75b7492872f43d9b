/*
 * mapcuts.c - mapped ranges cut in pieces, then a new peak
 * (test_mapped_cuts.sh): 8 MiB with its front 2 MiB unmapped (6 MiB, one
 * range), 8 MiB with its back 2 MiB unmapped (6 MiB, one range), 12 MiB
 * with a hole of 2 MiB in its middle (10 MiB, two ranges); then a 32 MiB
 * malloc raises the peak past the mappings' first 28 MiB, so that the
 * peak's capture holds the pieces.  It tells the test through the FIFO
 * named by its argument that it holds them, and waits for the SIGKILL;
 * without one it exits (the exit snapshot's walk).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

__attribute__((noinline)) static char *map_front(void) { return mmap(NULL, 8 * MiB, RW, ANON, -1, 0); }
__attribute__((noinline)) static char *map_back(void) { return mmap(NULL, 8 * MiB, RW, ANON, -1, 0); }
__attribute__((noinline)) static char *map_hole(void) { return mmap(NULL, 12 * MiB, RW, ANON, -1, 0); }

int main(int argc, char **argv)
{
    char *f = map_front(), *b = map_back(), *h = map_hole();
    if (f == MAP_FAILED || b == MAP_FAILED || h == MAP_FAILED)
        return 1;
    munmap(f, 2 * MiB);
    munmap(b + 6 * MiB, 2 * MiB);
    munmap(h + 5 * MiB, 2 * MiB);
    char *peak = malloc(32 * MiB);
    if (!peak)
        return 1;
    memset(peak, 1, 32 * MiB);
    if (argc < 2)
        return 0;
    int fd = open(argv[1], O_WRONLY);
    if (fd < 0 || write(fd, "1", 1) != 1)
        return 1;
    close(fd);
    for (;;)
        pause();
}
