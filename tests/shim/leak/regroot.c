/*
 * regroot.c - the leak check called from the program's own thread sees the
 * program's callee-saved registers as they were at the call.  Built with
 * -O2: five blocks are held only in rbx and r12-r15 across
 * heapsnap_collect() (explicit register variables, kept live by empty asm
 * statements), and a sixth is dropped.  The shim's frames save those
 * registers where their own code needs them; the check must find the
 * program's values there (libunwind, collect.c), not in the shim's frames,
 * which are not roots.  Prints "collect N": 1, only 4006 unreachable.
 */
#include <stdio.h>
#include <stdlib.h>

#include "heapsnap.h"

#define NOINLINE __attribute__((noinline))

NOINLINE static void drop(void)
{
    void *volatile p = malloc(4006); /* leaked: the slot is scrubbed below */
    p = NULL;
}

NOINLINE static void scrub(void)
{
    volatile char pad[16384];
    for (unsigned i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

NOINLINE static long check(void)
{
    register void *a asm("rbx") = malloc(4001);
    register void *b asm("r12") = malloc(4002);
    register void *c asm("r13") = malloc(4003);
    register void *d asm("r14") = malloc(4004);
    register void *e asm("r15") = malloc(4005);
    asm volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e));
    drop();
    scrub();
    long n = heapsnap_collect(NULL);
    asm volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e));
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    return n;
}

int main(void)
{
    if (!heapsnap_collect) {
        puts("no shim");
        return 0;
    }
    printf("collect %ld\n", check());
    return 0;
}
