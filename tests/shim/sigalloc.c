/* sigalloc.c - a signal handler that frees and allocates while the
 * interrupted thread is inside a heapsnap hook (raisealloc.c raises
 * SIGUSR1 from inside the allocator the shim calls).  Each round the main
 * thread allocates a victim block, then 777 bytes: the handler frees the
 * victim and allocates a block it keeps.  At exit every block is freed or
 * reachable: no leak.  Usage: sigalloc ROUNDS */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void *volatile victim;
static void *volatile kept[64];
static volatile int nkept;

static void on_usr1(int sig)
{
    free(victim);
    victim = NULL;
    free(kept[nkept % 64]);
    kept[nkept++ % 64] = malloc(32);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 1000;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < rounds; i++) {
        victim = malloc(64 + i % 64);
        free(malloc(777));
    }
    return victim == NULL ? 0 : 1;
}
