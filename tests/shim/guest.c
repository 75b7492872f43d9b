/*
 * guest.c - a host that looks for the shim and must not find it
 * (test_guest.sh).
 *   guest lastexit: main starts a thread that allocates and ends, and
 *     leaves by pthread_exit: the process ends when that thread does
 *     (glibc's exit(0) for the last thread), prints "done" from atexit.
 *   guest lastlinger: the same, but the worker's end lingers past the
 *     shim's own thread key: a key of the program's, made after it, has a
 *     destructor that lets main go on (main then leaves by pthread_exit)
 *     and sleeps 200 ms, so main's end finds the worker still counted by
 *     the kernel; the process still ends when the worker does.
 *   guest sigquery: each fatal signal's disposition, asked with a null
 *     action, then set to a handler and asked again: prints one line a
 *     signal, "SIG dfl|other, then handler|other".
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *worker(void *arg)
{
    char *p = malloc(1000);
    usleep(200000); /* main has ended by now */
    memset(p, 1, 1000);
    free(p);
    return arg;
}

static sem_t linger_go;
static pthread_key_t linger_key;

static void linger_end(void *v)
{
    (void)v;
    sem_post(&linger_go); /* main leaves now, */
    usleep(200000);       /* while this thread is still there */
}

static void *linger(void *arg)
{
    pthread_setspecific(linger_key, (void *)1);
    free(malloc(100));
    return arg;
}

static void done(void)
{
    printf("done\n");
}

static void handler(int s)
{
    (void)s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "lastexit")) {
        pthread_t t;
        atexit(done);
        if (pthread_create(&t, NULL, worker, NULL) != 0)
            return 1;
        pthread_exit(NULL);
    }
    if (argc > 1 && !strcmp(argv[1], "lastlinger")) {
        pthread_t t;
        atexit(done);
        if (sem_init(&linger_go, 0, 0) != 0 || pthread_key_create(&linger_key, linger_end) != 0 ||
            pthread_create(&t, NULL, linger, NULL) != 0)
            return 1;
        while (sem_wait(&linger_go) != 0)
            ;
        pthread_exit(NULL);
    }
    if (argc > 1 && !strcmp(argv[1], "sigquery")) {
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
        for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) {
            struct sigaction old, sa, now;
            sigaction(sigs[i], NULL, &old);
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = handler;
            sigaction(sigs[i], &sa, NULL);
            sigaction(sigs[i], NULL, &now);
            printf("%d %s, then %s\n", sigs[i], old.sa_handler == SIG_DFL ? "dfl" : "other",
                   now.sa_handler == handler ? "handler" : "other");
        }
        return 0;
    }
    return 2;
}
