// link: shim/leak/fpstate.c
/*
 * test_fpstate.c - the vector registers of a signal frame's FPU state
 * (shim/leak/fpstate.c): crafted frames (fxsave only, full XSAVE, absent
 * components, every size the parser must not trust), each ending right
 * before a PROT_NONE page so that a read past what the frame claims
 * crashes the test; and a real frame: a value put in xmm8 (and in ymm9's
 * upper half when the CPU has AVX) is found by a signal handler.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "leak/fpstate.h"
#include "unit.h"

#define XMM 160
#define SW 464
#define HDR 512
#define MAGIC1 0x46505853u
#define MAGIC2 0x46505845u

/* A layout like this machine's with AVX-512: ymm_hi 576/256, opmask 832/64,
 * zmm_hi256 896/512, hi16_zmm 1408/1024; areas of up to 2432 bytes. */
static const struct fpstate_layout lay = {
    {{576, 256}, {832, 64}, {896, 512}, {1408, 1024}}, 256 + 256 + 64 + 512 + 1024, 2432};

static unsigned char *guard_base;
static size_t guard_len;

/* A frame of len bytes (zeroed) that ends where a PROT_NONE page starts. */
static unsigned char *frame(size_t len)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t pages = (len + (size_t)pg - 1) / (size_t)pg + 1;
    if (guard_base)
        munmap(guard_base, guard_len);
    guard_len = pages * (size_t)pg;
    guard_base = mmap(NULL, guard_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(guard_base + guard_len - (size_t)pg, (size_t)pg, PROT_NONE);
    return guard_base + guard_len - (size_t)pg - len;
}

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

/* An XSAVE frame of size bytes (+4 for magic2) with components bv, each
 * component's bytes filled with its id, the xmm area with 0x11. */
static unsigned char *xframe(uint32_t size, uint32_t ext, uint64_t bv)
{
    unsigned char *f = frame(size + 4);
    memset(f + XMM, 0x11, 256);
    put32(f + SW, MAGIC1);
    put32(f + SW + 4, ext);
    put64(f + SW + 8, 0xe7);
    put32(f + SW + 16, size);
    put64(f + HDR, bv);
    for (int k = 0; k < FPSTATE_NXC; k++)
        if (lay.xc[k].off + lay.xc[k].size <= size)
            memset(f + lay.xc[k].off, 0x20 + k, lay.xc[k].size);
    put32(f + size, MAGIC2);
    return f;
}

static unsigned char out[4096];

TEST_BEGIN(fpstate_fxsave_only_gives_xmm)
    unsigned char *f = frame(512);
    memset(f + XMM, 0x11, 256);
    memset(out, 0, sizeof out);
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256);
    expect_true(out[0] == 0x11 && out[255] == 0x11 && out[256] == 0, "xmm bytes");
TEST_END

TEST_BEGIN(fpstate_xsave_gives_every_present_component)
    unsigned char *f = xframe(2432, 2436, 0xe7);
    memset(out, 0, sizeof out);
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 2112);
    expect_true(out[256] == 0x20 && out[511] == 0x20, "ymm upper halves after xmm");
    expect_true(out[512] == 0x21 && out[576] == 0x22 && out[1088] == 0x23 && out[2111] == 0x23,
                "opmask, zmm_hi256, hi16_zmm in order");
TEST_END

TEST_BEGIN(fpstate_absent_component_is_skipped)
    unsigned char *f = xframe(2432, 2436, 0x03 | 0x04 | 0x80); /* no opmask, no zmm_hi256 */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256 + 256 + 1024);
    f = xframe(2432, 2436, 0xff);
    put64(f + SW + 8, 0x07); /* the kernel's xfeatures: no AVX-512 in the frame */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 512);
TEST_END

TEST_BEGIN(fpstate_avx_only_frame)
    unsigned char *f = xframe(832, 836, 0x07); /* an AVX2 machine's area */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 512);
TEST_END

TEST_BEGIN(fpstate_untrusted_sizes_read_nothing_more)
    unsigned char *f = xframe(2432, 2436, 0xe7);
    put32(f + 2432, 0); /* magic2 missing */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256);
    f = xframe(2432, 2436, 0xe7);
    put32(f + SW + 16, 1u << 30); /* xstate_size past anything the CPU writes */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256);
    f = xframe(2432, 2436, 0xe7);
    put32(f + SW + 16, 100); /* smaller than the XSAVE header's end */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256);
    f = xframe(2432, 2432, 0xe7); /* extended_size leaves no room for magic2 */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256);
    f = xframe(1000, 1004, 0xe7); /* components past xstate_size are not read */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256 + 256 + 64);
    f = frame(512);
    put32(f + SW, 0x12345678); /* no magic1: fxsave only */
    expect_eq_u64(fpstate_vectors(f, &lay, out, sizeof out), 256);
TEST_END

TEST_BEGIN(fpstate_small_buffer_and_null)
    unsigned char *f = xframe(2432, 2436, 0xe7);
    expect_eq_u64(fpstate_vectors(f, &lay, out, 600), 256 + 256 + 64);
    expect_eq_u64(fpstate_vectors(f, &lay, out, 100), 0);
    expect_eq_u64(fpstate_vectors(NULL, &lay, out, sizeof out), 0);
    struct fpstate_layout none = {{{0, 0}}, 256, 0}; /* no CPUID 0xD: xmm only */
    expect_eq_u64(fpstate_vectors(f, &none, out, sizeof out), 256);
TEST_END

/* ---- a real signal frame ---- */

static struct fpstate_layout real;
static size_t got;
static const uint64_t want = 0x00007f00deadbee8ull;

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
    const ucontext_t *uc = ucv;
    got = fpstate_vectors(uc->uc_mcontext.fpregs, &real, out, sizeof out);
}

static int holds(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i += 8)
        if (!memcmp(p + i, &want, 8))
            return 1;
    return 0;
}

TEST_BEGIN(fpstate_real_frame_holds_xmm8)
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    fpstate_layout_init(&real);
    memset(out, 0, sizeof out);
    __asm__ volatile("movq %0, %%xmm8" : : "m"(want) : "xmm8");
    raise(SIGUSR1);
    expect_true(got >= 256 && holds(out, 256), "xmm8's value not in the xmm area (%zu bytes)", got);
TEST_END

TEST_BEGIN(fpstate_real_frame_holds_ymm_upper_half)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx") || !real.xc[0].size) {
        printf("SKIP fpstate_real_frame_holds_ymm_upper_half: no AVX on this CPU\n");
        return;
    }
    memset(out, 0, sizeof out);
    __asm__ volatile("pxor %%xmm8, %%xmm8" : : : "xmm8"); /* the last test's value */
    __asm__ volatile("vmovq %0, %%xmm0\n\t"
                     "vinsertf128 $1, %%xmm0, %%ymm9, %%ymm9\n\t"
                     "vpxor %%xmm0, %%xmm0, %%xmm0"
                     : : "m"(want) : "xmm0", "xmm9");
    raise(SIGUSR1);
    __asm__ volatile("vzeroupper");
    expect_true(got >= 512 && !holds(out, 256) && holds(out + 256, 256),
                "ymm9's upper half not in the ymm area (%zu bytes)", got);
TEST_END

int main(void)
{
    fpstate_fxsave_only_gives_xmm();
    fpstate_xsave_gives_every_present_component();
    fpstate_absent_component_is_skipped();
    fpstate_avx_only_frame();
    fpstate_untrusted_sizes_read_nothing_more();
    fpstate_small_buffer_and_null();
    fpstate_real_frame_holds_xmm8();
    fpstate_real_frame_holds_ymm_upper_half();
    return 0;
}
