/*
 * fpstate.c - the vector registers a signal frame holds.  When the kernel
 * delivers a signal on x86-64 it saves the whole FPU state in the frame,
 * and uc_mcontext.fpregs points at it:
 *
 *   fp +0    fxsave area (512 bytes): ..., xmm0-15 at +160 (256 bytes),
 *      +464  sw_reserved: magic1, extended_size, xfeatures, xstate_size
 *   fp +512  XSAVE header (64 bytes): xstate_bv, the components present
 *      +576  the extended components, at CPUID 0xD's offsets (standard
 *            format, what XSAVE writes): 2 ymm upper halves, 5 opmask,
 *            6 zmm0-15 upper halves, 7 zmm16-31
 *   fp + xstate_size: magic2
 *
 * Only when magic1 is there is the extended part present.  A component
 * whose xstate_bv bit is clear is in its initial state (zero): skipped.
 * Nothing is read before it is checked against xstate_size (itself
 * bounded by the largest area the CPU can write, and vouched for by magic2
 * at its end) and extended_size.
 */
#include <cpuid.h>
#include <string.h>

#include "fpstate.h"

#define FP_XMM 160u
#define FP_XMM_LEN 256u
#define FP_SW 464u
#define FP_XSAVE_HDR 512u
#define FP_MAGIC1 0x46505853u
#define FP_MAGIC2 0x46505845u
#define FP_BYTES_MAX 16384u      /* the four components, on any CPU */

static const unsigned fp_xc_id[FPSTATE_NXC] = {2, 5, 6, 7};

void fpstate_layout_init(struct fpstate_layout *l)
{
    unsigned a, b, c, d;
    memset(l, 0, sizeof *l);
    l->bytes = FP_XMM_LEN;
    if (__get_cpuid_max(0, NULL) < 0xD || !__get_cpuid_count(0xD, 0, &a, &b, &c, &d))
        return;
    l->max = c; /* every feature the CPU supports, enabled or not */
    for (int k = 0; k < FPSTATE_NXC; k++)
        if (__get_cpuid_count(0xD, fp_xc_id[k], &a, &b, &c, &d) && a && a % 8 == 0 &&
            l->bytes + a <= FP_BYTES_MAX) {
            l->xc[k].size = a;
            l->xc[k].off = b;
            l->bytes += a;
        }
}

static uint32_t fp_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

size_t fpstate_vectors(const void *fp, const struct fpstate_layout *l, void *out, size_t cap)
{
    const unsigned char *f = fp;
    unsigned char *o = out;
    if (!f || !o || cap < FP_XMM_LEN)
        return 0;
    memcpy(o, f + FP_XMM, FP_XMM_LEN);
    size_t n = FP_XMM_LEN;
    uint32_t ext = fp_u32(f + FP_SW + 4), size = fp_u32(f + FP_SW + 16);
    if (fp_u32(f + FP_SW) != FP_MAGIC1 || size < FP_XSAVE_HDR + 64 || size > l->max ||
        ext < size + 4 || fp_u32(f + size) != FP_MAGIC2)
        return n;
    uint64_t bv, feat;
    memcpy(&bv, f + FP_XSAVE_HDR, sizeof bv);
    memcpy(&feat, f + FP_SW + 8, sizeof feat);
    bv &= feat;
    for (int k = 0; k < FPSTATE_NXC; k++) {
        uint32_t off = l->xc[k].off, len = l->xc[k].size;
        if (!len || !(bv >> fp_xc_id[k] & 1) || off < FP_XSAVE_HDR + 64 || off > size ||
            len > size - off || len > cap - n)
            continue;
        memcpy(o + n, f + off, len);
        n += len;
    }
    return n;
}
