/*
 * snapjob.c - a snapshot's second thread: one piece of a big snapshot's
 * work run beside the rest, on a thread of the shim's own made for it and
 * joined before the snapshot is written (snap_write hands it the Python
 * objects' sections while it writes the stacks').  Its thread blocks every
 * signal, runs under the guard for good (nothing it does is recorded) and
 * writes only what the piece's caller gave it (its own side file, its own
 * compressor: zsec.c's is a thread's).  Where no thread can be made the
 * piece runs on the caller's thread, in sjob_start: the snapshot is the
 * same either way, only its time differs.  One piece at a time, under the
 * snapshot lock.  Prefix sjob_.
 */
#include <pthread.h>
#include <signal.h>

#include "snapshot.h"

/* The thread's stack: the snapshot's passes keep their data in the arena
 * and never recurse (the helper runs whole snapshots on as much). */
#define SJOB_STACK (256u * 1024u)

static struct {
    void (*fn)(void *);
    void *arg;
    pthread_t thread;
    int on; /* a thread runs the piece: sjob_wait joins it */
} sjob;

static void *sjob_main(void *unused)
{
    (void)unused;
    guard_enter(); /* for good: what the piece maps is the shim's */
    sjob.fn(sjob.arg);
    zsec_release(); /* this thread's compressor */
    return NULL;
}

int sjob_start(void (*fn)(void *), void *arg)
{
    sigset_t all, old;
    pthread_attr_t attr;
    sjob.fn = fn;
    sjob.arg = arg;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, SJOB_STACK);
    /* the guard is on (a snapshot's): the interposed pthread_create
     * passes this straight on, no program thread is registered */
    sjob.on = pthread_create(&sjob.thread, &attr, sjob_main, NULL) == 0;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (sjob.on)
        return 1;
    fn(arg);
    return 0;
}

void sjob_wait(void)
{
    if (sjob.on)
        pthread_join(sjob.thread, NULL);
    sjob.on = 0;
}
