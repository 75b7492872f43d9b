/*
 * root_dlopen.c - dlopen()s libleakfix_root.so (libroot.c), whose global
 * is the only pointer to a list of 3 nodes allocated in the library.  The
 * library stays loaded.  One direct leak as a control.
 *
 * Expected:
 *   still reachable: 3 x 32 = 96 bytes in 3 blocks at libroot.c:15
 *                    (+ runtime; what ld.so allocates is runtime too:
 *                    the DTV, dynamic TLS, link maps)
 *   direct:   16 bytes in 1 blocks at root_dlopen.c:27
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <dlfcn.h>
#include <stdlib.h>

#include "leakfix.h"

static void *volatile sink;

static LF_NOINLINE void build(void)
{
    /* found through the executable's RUNPATH ($ORIGIN) */
    void *lib = dlopen("libleakfix_root.so", RTLD_NOW);
    void (*fn)(void) = lib ? (void (*)(void))dlsym(lib, "libroot_build") : NULL;
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
