/*
 * killgrow.c - a program killed mid-growth (test_killstate.sh): it keeps
 * N blocks of 16 KiB from load_chunk, tells the test through the FIFO
 * named by its second argument that it holds them, and waits for the
 * SIGKILL.  With a third argument it exits instead (a clean end): at once,
 * or with "then-exit" once the test has looked and written to the FIFO;
 * with "threads", 8 threads allocate first (each keeps its own line of
 * live sums: a chunk of cells of the state file each).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *keep[100000];

__attribute__((noinline)) static void *load_chunk(size_t n)
{
    void *p = malloc(n);
    memset(p, 1, n);
    return p;
}

static pthread_barrier_t all_in;

static void *worker(void *arg)
{
    void *p = load_chunk(64 + (size_t)arg);
    pthread_barrier_wait(&all_in); /* all 8 alive at once: 8 lines */
    return p;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (argc > 3 && !strcmp(argv[3], "threads")) {
        pthread_t t[8];
        pthread_barrier_init(&all_in, NULL, 9);
        for (long i = 0; i < 8; i++)
            if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
                return 1;
        pthread_barrier_wait(&all_in);
        for (int i = 0; i < 8; i++)
            pthread_join(t[i], NULL);
    }
    for (int i = 0; i < n && i < 100000; i++)
        keep[i] = load_chunk(16384);
    if (argc > 3 && strcmp(argv[3], "then-exit"))
        return 0;
    int fd = open(argv[2], O_WRONLY);
    if (fd < 0 || write(fd, "1", 1) != 1)
        return 1;
    close(fd);
    if (argc > 3) { /* then-exit: a clean end once the test has looked */
        char c;
        fd = open(argv[2], O_RDONLY);
        return fd < 0 || read(fd, &c, 1) != 1;
    }
    for (;;)
        pause();
}
