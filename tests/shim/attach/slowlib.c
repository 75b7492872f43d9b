/*
 * slowlib.c - a library whose constructor sleeps SLOWLIB_MS ms, holding the
 * loader's lock the while (tests/shim/attach/survivor.c's "slow" mode): an
 * attach meanwhile waits in its dlopen.  It tells the program it sleeps
 * through the program's slow_started.
 */
#include <stdlib.h>
#include <time.h>

extern volatile int slow_started;

__attribute__((constructor)) static void slow_init(void)
{
    const char *v = getenv("SLOWLIB_MS");
    long ms = v ? atol(v) : 1000;
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    slow_started = 1;
    while (nanosleep(&t, &t) != 0)
        ;
}
