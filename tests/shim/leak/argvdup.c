/*
 * argvdup.c - leak-check fixture: what setproctitle does (redis's spt_init,
 * nginx's ngx_init_setproctitle): every argument is copied to the heap and
 * the copy stored back in argv[], whose array is the one the kernel laid out
 * at the top of the main thread's stack, above __libc_stack_end.  With enough
 * arguments the array runs past the page after __libc_stack_end (the end of
 * the stack as pthread_getattr_np gives it), and a scan that stops there
 * misses the later copies: they read as direct leaks.  Each copy is 77
 * bytes, so the dump can find them by size.
 *
 * Usage: argvdup ARG...      prints "copied N", exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *c = malloc(77);
        if (!c)
            return 1;
        snprintf(c, 77, "%s", argv[i]);
        argv[i] = c;
    }
    printf("copied %d\n", argc - 1);
    return 0;
}
