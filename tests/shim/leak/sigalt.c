/*
 * sigalt.c - the leak check called from a signal handler running on an
 * alternate signal stack (sigaltstack, mmap'd: run with
 * HEAPSNAP_MAPPED_ROOTS=0 so that the mapping is no root of its own).
 * main holds a 5001-byte block only in a local when it raises the signal;
 * the handler holds a 5002-byte block only in a local and drops a
 * 5003-byte one, then calls heapsnap_collect(argv[1]).  Both the
 * handler's frame (alternate stack) and the interrupted frame (main's
 * stack) are roots: prints "collect 1" (only 5003 unreachable).
 * Without the shim the handler runs memcheck's VALGRIND_DO_LEAK_CHECK
 * instead: valgrind 3.19 says "definitely lost: 5,003 bytes in 1 blocks",
 * 5001 and 5002 still reachable.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#else
#define VALGRIND_DO_LEAK_CHECK
#endif

long heapsnap_collect(const char *path) __attribute__((weak));

#define NOINLINE __attribute__((noinline))
#define ALT_SIZE (256 * 1024)

static const char *path;
static volatile long result = -9;

NOINLINE static void drop(void)
{
    void *volatile p = malloc(5003);
    p = NULL;
}

NOINLINE static void scrub(void)
{
    volatile char pad[8192];
    for (unsigned i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

static void on_usr1(int sig)
{
    void *volatile b = malloc(5002);
    drop();
    scrub();
    if (heapsnap_collect)
        result = heapsnap_collect(path);
    else
        VALGRIND_DO_LEAK_CHECK;
    free(b == (void *)1 ? NULL : NULL); /* keeps b live to here */
    (void)b;
}

NOINLINE static void hold_and_raise(void)
{
    void *volatile a = malloc(5001);
    raise(SIGUSR1);
    (void)a;
}

int main(int argc, char **argv)
{
    stack_t ss;
    struct sigaction sa;
    path = argc > 1 ? argv[1] : NULL;
    ss.ss_sp = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ss.ss_sp == MAP_FAILED)
        return 2;
    ss.ss_size = ALT_SIZE;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) != 0)
        return 2;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    hold_and_raise();
    printf("collect %ld\n", result);
    return 0;
}
