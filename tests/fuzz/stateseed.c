/*
 * stateseed.c - the program tests/fuzz/mkstate.sh kills to make the
 * fuzzer's state file seeds (corpus/*.state): three blocks from one site
 * and a mapping (the mmap kind), "1" written to the FIFO named by argv[1];
 * then, once something is written back, two more sites one frame deeper,
 * "2" written, and it waits for the SIGKILL.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *keep[8];

__attribute__((noinline)) static void *seed_block(size_t n)
{
    void *p = malloc(n);
    memset(p, 1, n);
    return p;
}

__attribute__((noinline)) static void *seed_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED)
        memset(p, 1, n);
    return p;
}

__attribute__((noinline)) static void later(void)
{
    keep[4] = seed_block(700);
    keep[5] = calloc(3, 100);
}

static int tell(const char *fifo, const char *what)
{
    int fd = open(fifo, O_WRONLY);
    int ok = fd >= 0 && write(fd, what, 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    char c;
    if (argc < 2)
        return 2;
    for (int i = 0; i < 3; i++)
        keep[i] = seed_block(4096);
    keep[3] = seed_map(1 << 20);
    if (tell(argv[1], "1"))
        return 1;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0 || read(fd, &c, 1) != 1)
        return 1;
    close(fd);
    later();
    if (tell(argv[1], "2"))
        return 1;
    for (;;)
        pause();
}
