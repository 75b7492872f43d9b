/*
 * leakfix.h - what every leak-class fixture shares: a way to leave no stale
 * copy of a block's address behind, so that a conservative scan (heapsnap's
 * or Valgrind's) gives the exact answer written in each fixture's header.
 *
 * The habits, taken from Valgrind's own memcheck/tests/leak*.c:
 *   - allocate in LF_NOINLINE helpers and build the heap in a LF_NOINLINE
 *     function called by main, so no address lives in main's frame;
 *   - after building it, main calls lf_scrub(): it zeroes 64 KiB of stack
 *     below main (the dead frames of the helpers) and the caller-saved
 *     registers, which may still hold the last address returned by malloc;
 *   - print nothing (stdout's buffer would be one more reachable block).
 *
 * Every fixture's header states its exact answer per class (blocks, bytes,
 * allocation line); tests/shim/leak/classes/expect/<name>.txt is the same answer in
 * the form tests/shim/leak/classes/check.py reads.  "+ runtime" there means: plus
 * whatever the C library (or libstdc++) keeps reachable in a program that
 * allocates nothing, measured on the noleak / cxx_noleak fixtures.
 */
#ifndef LEAKFIX_H
#define LEAKFIX_H

#include <stdint.h>
#include <string.h>

#define LF_NOINLINE __attribute__((noinline))

/* Zero the dead stack below the caller, then the caller-saved registers. */
static LF_NOINLINE void lf_scrub(void)
{
    volatile char pad[65536];
    explicit_bzero((char *)pad, sizeof(pad));
#if defined(__x86_64__)
    __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
                     "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
                     "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d"
                     ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                     "memory");
#endif
}

#endif
