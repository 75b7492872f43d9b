/*
 * fpstate.h - the vector registers in a signal frame's FPU state (x86-64),
 * for the stop handler (stop.c).  Pure: no state but the layout the CPU
 * reports, which the caller keeps; unit-tested on crafted frames
 * (tests/shim/leak/test_fpstate.c).
 */
#ifndef HEAPSNAP_LEAK_FPSTATE_H
#define HEAPSNAP_LEAK_FPSTATE_H

#include <stddef.h>
#include <stdint.h>

#define FPSTATE_NXC 4 /* XSAVE components saved: ymm_hi, opmask, zmm_hi256, hi16_zmm */

/* Where this CPU puts the saved components in a standard-format XSAVE
 * area (CPUID leaf 0xD), and how many bytes fpstate_vectors may fill. */
struct fpstate_layout {
    struct { uint32_t off, size; } xc[FPSTATE_NXC]; /* size 0: the CPU lacks it */
    size_t bytes;                                    /* xmm + the present ones */
    uint32_t max; /* the largest XSAVE area the CPU writes (0: none is read) */
};

void fpstate_layout_init(struct fpstate_layout *l);   /* from CPUID */
/* The vector registers of the FPU state at fp (a ucontext's fpregs, or
 * NULL) into out (cap bytes, 8-aligned): xmm0-15, then each component the
 * frame holds.  Every offset is checked against the frame's own sizes
 * first.  Async-signal-safe; returns the bytes filled (a multiple of 8). */
size_t fpstate_vectors(const void *fp, const struct fpstate_layout *l, void *out, size_t cap);

#endif
