/* early_lib.c - a library whose constructor leaks 4242 bytes.  A program
 * linked with it runs this constructor before a preloaded library's own
 * (test_hostile_host.sh: early_constructor_leak_seen). */
#include <stdlib.h>

void *early_keep;

__attribute__((constructor)) static void early_init(void)
{
    early_keep = malloc(100);  /* reachable */
    malloc(4242);              /* leaked */
}
