/*
 * root_tls_dynamic.c - dlopen()s libleakfix_tls.so (libtlsroot.c), whose
 * __thread variable (dynamic TLS of the main thread) is the only pointer to
 * a list of 3 nodes allocated in the library.  The library stays loaded.
 * One direct leak as a control.
 *
 * Expected:
 *   still reachable: 3 x 32 = 96 bytes in 3 blocks at libtlsroot.c:16
 *                    (+ runtime; what ld.so allocates is runtime too:
 *                    the DTV, dynamic TLS, link maps)
 *   direct:   16 bytes in 1 blocks at root_tls_dynamic.c:28
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "leakfix.h"

static void *volatile sink;

static LF_NOINLINE void build(void)
{
    /* found through the executable's RUNPATH ($ORIGIN) */
    void *lib = dlopen("libleakfix_tls.so", RTLD_NOW);
    void (*fn)(void) = lib ? (void (*)(void))dlsym(lib, "libtlsroot_build") : NULL;
    if (!fn) exit(3);
    fn();
    sink = malloc(16);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
