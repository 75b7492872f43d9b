/* unwind_ctor.c - a library built WITHOUT frame pointers whose constructor
 * allocates, for test_unwind_equiv.sh: its stacks run out through ld.so's
 * _dl_init into _dl_start_user, which has no FDE (ld.so's _start is
 * hand-written), where libunwind's unw_step ends the stack because rbp is
 * 0.  auto must end it there too, without leaving the stack to libunwind.
 * Some blocks stay live at exit, so that the report shows the stacks. */
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

void *volatile ctor_keep[16];

NOINLINE static void *ctor_leaf(size_t n, int kind)
{
    switch (kind) {
    case 0: return malloc(n);
    case 1: return calloc(1, n);
    default: return realloc(NULL, n);
    }
}

NOINLINE static void ctor_fill(int rounds)
{
    for (int i = 0; i < rounds; i++) {
        void *p = ctor_leaf(24 + (size_t)(i & 7) * 8, i % 3);
        if (p)
            memset(p, i, 24);
        free(ctor_keep[i & 15]);
        ctor_keep[i & 15] = p;
    }
}

__attribute__((constructor)) static void ctor_start(void)
{
    ctor_fill(3000);
}
