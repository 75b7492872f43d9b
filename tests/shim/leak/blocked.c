/*
 * blocked.c - worker threads that block every signal (a service whose one
 * signal-handling thread takes them all) and build and free linked lists
 * until main calls exit(0).  The list's head, and the newest node, live
 * only in a register while a list is built: a check that could not read
 * those registers calls the list leaked.  valgrind --leak-check=full:
 * definitely lost 0.
 *   blocked [THREADS [MS]]      THREADS workers (4), exit after MS (50)
 *   blocked raw [THREADS [MS]]  the same, blocking with the raw system call
 *                               (past any pthread_sigmask of the shim's):
 *                               no stop reaches them
 *   blocked pipe [MS]           one thread blocks every signal and waits
 *                               in read() on a pipe, the only pointer to a
 *                               4096-byte block in its registers or frame
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct node { struct node *next; char pad[40]; }; /* 48 bytes */

static struct node *push(struct node *head)
{
    struct node *n = malloc(sizeof *n);
    n->next = head;
    return n;
}

/* Touches every node many times.  No call: head stays in registers; its
 * frame first covers the dead ones that malloc left below the stack
 * pointer, where a saved copy of a node's address would still lie. */
static __attribute__((noinline)) unsigned walk(struct node *head)
{
    volatile long cover[8192];
    unsigned sum = 0;
    for (size_t i = 0; i < 8192; i++)
        cover[i] = 0;
    sum += (unsigned)cover[0];
    for (int k = 0; k < 4096 * 64; k++)
        for (struct node *p = head; p; p = p->next)
            sum += (unsigned char)p->pad[k % 40]++;
    return sum;
}

static int raw;

static void block_all(void)
{
    sigset_t all;
    sigfillset(&all);
    if (raw)
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, 8);
    else
        pthread_sigmask(SIG_BLOCK, &all, NULL);
}

static void *worker(void *arg)
{
    unsigned sum = 0;
    block_all();
    for (;;) {
        struct node *head = NULL;
        for (int i = 0; i < 64; i++)
            head = push(head);
        sum += walk(head);
        while (head) {
            struct node *next = head->next;
            free(head);
            head = next;
        }
        if (sum == 1)
            break;
    }
    return arg;
}

static int pfd[2];

/* Blocks every signal, then waits in read() holding the block. */
static void *reader(void *arg)
{
    block_all();
    char *held = malloc(4096), c;
    memset(held, 1, 4096);
    __asm__ volatile("" : "+r"(held)); /* kept, in a register */
    while (read(pfd[0], &c, 1) < 0)
        ;
    free(held);
    return arg;
}

int main(int argc, char **argv)
{
    int pipe_mode = argc > 1 && strcmp(argv[1], "pipe") == 0, a = 1;
    raw = argc > 1 && strcmp(argv[1], "raw") == 0;
    a += pipe_mode || raw;
    int nt = pipe_mode ? 0 : argc > a ? atoi(argv[a++]) : 4;
    int ms = argc > a ? atoi(argv[a]) : 50;
    pthread_t t;
    if (pipe_mode && pipe(pfd) == 0)
        pthread_create(&t, NULL, reader, NULL);
    for (int i = 0; i < nt; i++)
        pthread_create(&t, NULL, worker, NULL);
    usleep(ms * 1000);
    exit(0);
}
