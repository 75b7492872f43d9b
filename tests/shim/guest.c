/*
 * guest.c - a host that looks for the shim and must not find it
 * (test_guest.sh).
 *   guest lastexit: main starts a thread that allocates and ends, and
 *     leaves by pthread_exit: the process ends when that thread does
 *     (glibc's exit(0) for the last thread), prints "done" from atexit.
 *   guest sigquery: each fatal signal's disposition, asked with a null
 *     action, then set to a handler and asked again: prints one line a
 *     signal, "SIG dfl|other, then handler|other".
 */
#include <pthread.h>
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
