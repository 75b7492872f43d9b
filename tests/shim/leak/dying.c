/*
 * dying.c - threads in their exit path: after its start routine returned,
 * a thread still runs its TLS destructors (pthread_key, C++ thread_local)
 * and glibc's own cleanup, and what they hold is still held.  One mode per
 * argv[1], argv[2] the snapshot path; each prints "collect N" (N
 * unreachable blocks after heapsnap_collect).  Pipes make every step
 * deterministic: the check runs while the destructor waits in read().
 *
 * tsd:     a detached thread's pthread_key destructor holds the only
 *          pointer to a 6001-byte block in a local: reachable (0).
 * dlerror: LeakSanitizer's detached_thread_dlsym: the thread's failed
 *          dlsym leaves glibc's dlerror buffer in its TLS, freed only by
 *          glibc's cleanup after the destructors: reachable (0).
 * ended:   a detached thread that has ended (the kernel knows it no more)
 *          held 6002 in its TLS and its destructor's frame: the pointer
 *          died with it, so 6002 is lost (1).
 * churn:   1100 detached threads, each gone before the next starts, then
 *          one that holds 6003 on its stack in its destructor: the ended
 *          threads' registrations are reused (no "more than 1024 threads"
 *          warning) and 6003 is reachable (0).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

long heapsnap_collect(const char *path) __attribute__((weak));

static pthread_key_t key;
static int to_main[2], to_thread[2];
static size_t size; /* the destructor's block */
static __thread void *t_held;
static pid_t last_tid;

static void say(int fd, char c)
{
    while (write(fd, &c, 1) != 1 && errno == EINTR)
        ;
}

static char hear(int fd)
{
    char c = 0;
    while (read(fd, &c, 1) != 1 && errno == EINTR)
        ;
    return c;
}

/* Runs after the start routine returned: holds a block in a local while
 * main checks (mode 'w'), or just leaves (mode 'q'). */
static void destructor(void *v)
{
    void *volatile p = size ? malloc(size) : NULL;
    if ((uintptr_t)v == 'q') {
        t_held = (void *)p;
        return;
    }
    say(to_main[1], 'r');
    hear(to_thread[0]);
    free((void *)p);
}

static void *body(void *v)
{
    if (v == (void *)'d')
        dlsym(RTLD_DEFAULT, "heapsnap_no_such_symbol_12345");
    last_tid = (pid_t)syscall(SYS_gettid);
    pthread_setspecific(key, v == (void *)'q' ? (void *)'q' : (void *)'w');
    return NULL;
}

static int spawn(void *how)
{
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&t, &a, body, how);
    pthread_attr_destroy(&a);
    return r;
}

/* Until the last thread spawned with 'q' has ended for the kernel. */
static void wait_gone(void)
{
    while (!__atomic_load_n(&last_tid, __ATOMIC_SEQ_CST))
        sched_yield();
    while (syscall(SYS_tgkill, getpid(), last_tid, 0) == 0)
        sched_yield();
    last_tid = 0;
}

NOINLINE static long check_while_held(const char *path, void *how)
{
    long n;
    if (spawn(how) != 0)
        return -2;
    hear(to_main[0]);
    n = heapsnap_collect(path);
    say(to_thread[1], 'g');
    return n;
}

int main(int argc, char **argv)
{
    long n = -2;
    if (!heapsnap_collect) {
        puts("no shim");
        return 0;
    }
    if (argc < 3 || pipe(to_main) || pipe(to_thread) || pthread_key_create(&key, destructor))
        return 2;
    if (!strcmp(argv[1], "tsd")) {
        size = 6001;
        n = check_while_held(argv[2], (void *)'w');
    } else if (!strcmp(argv[1], "dlerror")) {
        n = check_while_held(argv[2], (void *)'d');
    } else if (!strcmp(argv[1], "ended")) {
        size = 6002;
        if (spawn((void *)'q') != 0)
            return 1;
        wait_gone();
        n = heapsnap_collect(argv[2]);
    } else if (!strcmp(argv[1], "churn")) {
        for (int i = 0; i < 1100; i++) {
            if (spawn((void *)'q') != 0)
                return 1;
            wait_gone();
        }
        size = 6003;
        n = check_while_held(argv[2], (void *)'w');
        size = 0;
    }
    printf("collect %ld\n", n);
    return 0;
}
