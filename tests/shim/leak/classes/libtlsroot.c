/*
 * libtlsroot.c - the shared library that root_tls_dynamic.c loads with
 * dlopen: its __thread variable lib_tls_root lives in dynamic TLS (a block
 * that __tls_get_addr allocates on first use) and is the only pointer to a
 * list of 3 nodes that the library allocates.
 */
#include <stdlib.h>

struct node { struct node *next; long pad[3]; }; /* 32 bytes */
__thread void *lib_tls_root;

__attribute__((noinline)) void libtlsroot_build(void)
{
    struct node *first = NULL;
    for (int i = 0; i < 3; i++) {
        struct node *x = calloc(1, sizeof(*x));
        x->next = first;
        first = x;
    }
    lib_tls_root = first;
}
