/*
 * libroot.c - the shared library that root_dlopen.c loads with dlopen: its
 * global lib_root (in the library's .bss) is the only pointer to a list of
 * 3 nodes that the library allocates.
 */
#include <stdlib.h>

struct node { struct node *next; long pad[3]; }; /* 32 bytes */
void *lib_root;

__attribute__((noinline)) void libroot_build(void)
{
    struct node *first = NULL;
    for (int i = 0; i < 3; i++) {
        struct node *x = calloc(1, sizeof(*x));
        x->next = first;
        first = x;
    }
    lib_root = first;
}
