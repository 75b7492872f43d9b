/*
 * lsaninit.c - preloaded after Debian's liblsan.so.0 in the bench's
 * LeakSanitizer column on Debian's own binaries (scripts/bench, mode
 * "lsan" on a workload that is not one of our programs).  That runtime,
 * preloaded rather than linked, starts itself on its first intercepted
 * call, and its signal() interceptor does not start it: a program whose
 * main calls signal() before any malloc (the sqlite3 shell) jumps through
 * the interceptor's still-null pointer to the real signal().  One malloc
 * and free in a constructor start the runtime before main, as linking it
 * (liblsan_preinit.o's .preinit_array) would.
 */
#include <stdlib.h>

__attribute__((constructor)) static void lsaninit_start(void)
{
    void *volatile p = malloc(1);   /* volatile: a pair the compiler would drop */

    free(p);
}
