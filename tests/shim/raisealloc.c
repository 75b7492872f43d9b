/* raisealloc.c - an allocator placed after the shim in LD_PRELOAD (the
 * shim's "real" malloc): a request of exactly 777 bytes first raises
 * SIGUSR1, so the program's handler runs while the shim's hook is on the
 * stack and glibc's malloc is not (test_hostile_host.sh, sigalloc.c). */
#include <signal.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);

void *malloc(size_t n)
{
    if (n == 777)
        raise(SIGUSR1);
    return __libc_malloc(n);
}
