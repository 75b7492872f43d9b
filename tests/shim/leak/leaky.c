/*
 * leaky.c - fixtures for the in-process leak check, one mode per argv[1].
 * Every block's requested size is unique to its role, so the tests name
 * blocks by size (hsnap_dump --leaks prints "block <size> <cls> ...").
 * Classes: 1 reachable, 2 possibly lost, 3 direct, 4 indirect, 5 cycle,
 * 6 ignored.  Allocations happen in noinline helpers and main scrubs its
 * dead stack before returning, so no stale copy of a pointer survives
 * where the exit-time scan would see it.
 *
 * basic:   1001 reachable (.data), 1002 direct, lost list 1003 direct +
 *          3 x 1004 indirect, 2-cycle 1005<->1006, reachable cycle
 *          1007<->1008 (.bss), XOR-hidden 1009 direct, interior-only 1010
 *          possible, main-thread TLS 1011 reachable, 5 x 1012 reachable
 *          from an 8000 array (.bss), self-reference 1013 direct (a
 *          block that points only into itself is no cycle), and
 *          malloc(24) last carved from the top chunk, leaked: direct.
 * threads: 2001 on the stack and 2002 in TLS of a thread still running
 *          (both reachable), 2003 leaked by a thread that exited (direct),
 *          2004 held only by the TLS of a thread that exited (a plain TLS
 *          pointer dies with its thread: direct).
 * blocked: like threads' running thread, but it blocks every signal
 *          with pthread_sigmask, which never blocks the stop signal under
 *          the shim: unstopped 0, 2001 and 2002 still reachable.
 * dlopen:  3001 held only by a dlopened library's global: reachable.
 * fork:    the child leaks 4001 (direct) and exits; the parent frees all.
 * worker:  a second thread calls heapsnap_collect(argv[2]) while main
 *          waits in pthread_join holding 5101 on its stack; the worker holds
 *          5102 on its own: both reachable, main stopped (unstopped 0).
 * signal:  HEAPSNAP_SIGNAL's helper thread takes the snapshot (argv[2])
 *          while main sleeps (nanosleep resumed on EINTR) holding 5201:
 *          reachable.
 */
#include <dlfcn.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

long heapsnap_collect(const char *path) __attribute__((weak));

void *g_data = (void *)1; /* .data */
void *g_bss;              /* .bss */
void **g_arr;
uintptr_t g_hidden;
char *g_interior;
void *g_small[64];
static __thread void *t_main;

struct node { struct node *next; char pad[8]; };

NOINLINE static void *alloc(size_t n)
{
    void *p = malloc(n);
    memset(p, 0, n);
    return p;
}

NOINLINE static void scrub(void)
{
    volatile char pad[65536];
    memset((char *)pad, 0, sizeof pad);
}

NOINLINE static void lost_list(void)
{
    struct node *h = alloc(1003);
    struct node *p = h;
    for (int i = 0; i < 3; i++)
        p = p->next = alloc(1004);
}

NOINLINE static void cycles(void)
{
    struct node *a = alloc(1005), *b = alloc(1006);
    a->next = b;
    b->next = a;
    struct node *c = alloc(1007), *d = alloc(1008);
    c->next = d;
    d->next = c;
    g_bss = c;
    struct node *s = alloc(1013);
    s->next = s;
}

/* malloc(24) until the chunk after it is the top chunk (its size field is
 * large); the earlier ones stay reachable in g_small. */
NOINLINE static void top_chunk_leak(void)
{
    for (int i = 0; i < 64; i++) {
        char *p = malloc(24);
        uint64_t next_size;
        memcpy(&next_size, p + 24, 8);
        if ((next_size & ~7ull) >= 4096) {
            memset(p, 0, 24);
            return; /* leaked; glibc's main_arena.top points at p + 16 */
        }
        g_small[i] = p;
    }
}

NOINLINE static void basic(void)
{
    g_data = alloc(1001);
    alloc(1002);
    lost_list();
    cycles();
    g_hidden = (uintptr_t)alloc(1009) ^ 0x5a5a5a5a5a5a5a5aull;
    g_interior = (char *)alloc(1010) + 16;
    t_main = alloc(1011);
    g_arr = alloc(8000);
    for (int i = 0; i < 5; i++)
        g_arr[i] = alloc(1012);
    top_chunk_leak();
}

/* ---- threads ---- */

static int g_pipe[2];
static __thread void *t_ptr;
static pthread_barrier_t g_started;

static void *running(void *arg)
{
    void *volatile on_stack = alloc(2001);
    t_ptr = alloc(2002);
    char c;
    if (arg) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
    }
    pthread_barrier_wait(&g_started);
    while (read(g_pipe[0], &c, 1) < 0) /* until the process exits */
        ;
    return on_stack;
}

static void *exiting(void *arg)
{
    alloc(2003);
    t_ptr = alloc(2004);
    return NULL;
}

NOINLINE static void threads(int blocked)
{
    pthread_t t;
    if (pipe(g_pipe) != 0)
        exit(3);
    pthread_barrier_init(&g_started, NULL, 2);
    pthread_create(&t, NULL, running, blocked ? (void *)1 : NULL);
    pthread_barrier_wait(&g_started);
    if (!blocked) {
        pthread_t e;
        pthread_create(&e, NULL, exiting, NULL);
        pthread_join(e, NULL);
    }
}

/* ---- dlopen, fork ---- */

NOINLINE static int dlopened(const char *lib)
{
    void *h = dlopen(lib, RTLD_NOW);
    void (*keep)(size_t) = h ? (void (*)(size_t))dlsym(h, "lib_keep") : NULL;
    if (!keep)
        return 3;
    keep(3001);
    return 0;
}

NOINLINE static int forked(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        alloc(4001);
        scrub();
        exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 4;
}

/* ---- a check from another thread, and from the signal helper ---- */

static void *collector(void *path)
{
    void *volatile mine = alloc(5102);
    long n = heapsnap_collect ? heapsnap_collect(path) : -2;
    return n == 0 && mine ? NULL : (void *)1;
}

NOINLINE static int worker(const char *path)
{
    void *volatile held = alloc(5101);
    pthread_t t;
    void *bad;
    pthread_create(&t, NULL, collector, (void *)path);
    pthread_join(t, &bad);
    return bad || !held ? 5 : 0;
}

/* Sleeps (resuming on EINTR) until the helper has written path, 10 s at most. */
NOINLINE static int signalled(const char *path)
{
    void *volatile held = alloc(5201);
    raise(SIGUSR2);
    for (int i = 0; i < 1000 && access(path, F_OK) != 0; i++) {
        struct timespec left = {0, 10000000};
        while (nanosleep(&left, &left) != 0 && errno == EINTR)
            ;
    }
    return held ? 0 : 6;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    int rc = 0;
    if (!strcmp(mode, "basic"))
        basic();
    else if (!strcmp(mode, "threads"))
        threads(0);
    else if (!strcmp(mode, "blocked"))
        threads(1);
    else if (!strcmp(mode, "dlopen"))
        rc = dlopened(argc > 2 ? argv[2] : "");
    else if (!strcmp(mode, "fork"))
        rc = forked();
    else if (!strcmp(mode, "worker"))
        rc = worker(argc > 2 ? argv[2] : NULL);
    else if (!strcmp(mode, "signal"))
        rc = signalled(argc > 2 ? argv[2] : "");
    else if (strcmp(mode, "none"))
        return 2;
    scrub();
    return rc;
}
