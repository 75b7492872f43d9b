/*
 * quietdoc.c - a program whose state documents are costly, then quiet
 * (test_state_fresh.sh): it keeps a block from each of 2^15 distinct
 * stacks (spread, a chain of choices between two frames) and says so
 * through the FIFO named by its first argument; once the test writes to
 * the FIFO named by its second (a document holds them all by then), it
 * keeps one block of 777 bytes from last_block, says so through the first
 * again, and waits for the SIGKILL.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define DEPTH 15

static void *volatile keep[1 << DEPTH];

static void tell(const char *fifo)
{
    int fd = open(fifo, O_WRONLY);
    if (fd >= 0) {
        (void)!write(fd, "k", 1);
        close(fd);
    }
}

static void spread(unsigned bits, int depth, unsigned at);

__attribute__((noinline)) static void left(unsigned bits, int depth, unsigned at)
{
    spread(bits, depth, at);
    __asm__ volatile("" ::: "memory"); /* no tail call: a frame each */
}

__attribute__((noinline)) static void right(unsigned bits, int depth, unsigned at)
{
    spread(bits, depth, at);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void spread(unsigned bits, int depth, unsigned at)
{
    if (depth == DEPTH) {
        keep[at] = malloc(48);
        return;
    }
    if (bits >> depth & 1)
        right(bits, depth + 1, at);
    else
        left(bits, depth + 1, at);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void *last_block(size_t n)
{
    return malloc(n);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    for (unsigned i = 0; i < 1u << DEPTH; i++)
        spread(i, 0, i);
    tell(argv[1]);
    char c;
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0 || read(fd, &c, 1) != 1)
        return 3;
    close(fd);
    void *volatile last = last_block(777);
    (void)last;
    tell(argv[1]);
    for (;;)
        pause();
}
