/*
 * unstoppable.c - threads the leak check cannot stop: four threads block
 * every signal with the raw system call, past the shim's pthread_sigmask
 * (so HEAPSNAP_STOP_SIGNAL never reaches them), and keep
 * rebuilding linked lists (push a node, drop the oldest past 1,000) while
 * main calls exit(0).  Every node is reachable from heads[] at every
 * moment; a scan in place reads the lists while they change and calls
 * nodes lost.  valgrind --leak-check=full: definitely lost 0 (it
 * serialises the threads).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NT 4

struct node {
    struct node *next;
    char pad[56];
};

static struct node *volatile heads[NT];

static void *builder(void *arg)
{
    long i = (long)arg, n = 0;
    sigset_t all;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, 8);
    for (;;) {
        struct node *x = calloc(1, sizeof *x);
        x->next = heads[i];
        heads[i] = x;
        if (++n > 1000) { /* drop the oldest */
            struct node *p = heads[i];
            while (p->next->next)
                p = p->next;
            free(p->next);
            p->next = NULL;
            n--;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t;
    for (long i = 0; i < NT; i++)
        pthread_create(&t, NULL, builder, (void *)i);
    usleep(argc > 1 ? atoi(argv[1]) * 1000 : 100000);
    exit(0);
}
