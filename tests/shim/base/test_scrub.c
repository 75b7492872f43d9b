// link: shim/base/scrub.c
/*
 * test_scrub.c - scrub.c's clearing, in each variant this CPU can run
 * (SSE always; AVX; AVX-512 with and without VL), as the hooks reach it
 * (scrub_fn, scrub_regs_fn, set by scrub_use): after scrub_frames(n) or
 * scrub_regs
 * every caller-saved register is zero (the integer ones, and the vector
 * ones as wide and as many as the variant knows them), and so are the n
 * bytes below the caller's stack pointer, while the words further down
 * are as they were (the stack is not probed: a window that grew past its
 * bound would write where the shim never went).
 */
#include <stdint.h>

#include "base.h"
#include "unit.h"

#define NOINLINE __attribute__((noinline))
#define MARK 0x5c5c5c5c5c5c5c5cull
#define OUT_WORDS (9 + 32 * 8)


/* sc_regs_K(out): every caller-saved register set (integer: MARK; vector:
 * all ones), scrub_frames(0), then rax rcx rdx rsi rdi r8-r11 into
 * out[0..9) and the vector registers after them. */
__asm__(".text\n"
        ".macro SC_FN name, fill, insn, reg, size, n, fn\n"
        "  .globl \\name\n  .type \\name, @function\n"
        "\\name:\n  .cfi_startproc\n  push %rbx\n  .cfi_def_cfa_offset 16\n"
        "  .cfi_offset %rbx, -16\n  mov %rdi, %rbx\n"
        "  .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,"
        "27,28,29,30,31\n  .if \\k < \\n\n  \\fill\\()_ \\k\n  .endif\n  .endr\n"
        "  movabs $0x5c5c5c5c5c5c5c5c, %rax\n  mov %rax, %rcx\n  mov %rax, %rdx\n"
        "  mov %rax, %rsi\n  mov %rax, %r8\n  mov %rax, %r9\n  mov %rax, %r10\n"
        "  mov %rax, %r11\n  xor %edi, %edi\n  call *\\fn(%rip)\n"
        "  mov %rax, 0(%rbx)\n  mov %rcx, 8(%rbx)\n  mov %rdx, 16(%rbx)\n"
        "  mov %rsi, 24(%rbx)\n  mov %rdi, 32(%rbx)\n  mov %r8, 40(%rbx)\n"
        "  mov %r9, 48(%rbx)\n  mov %r10, 56(%rbx)\n  mov %r11, 64(%rbx)\n"
        "  .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,"
        "27,28,29,30,31\n  .if \\k < \\n\n  \\insn %\\reg\\k, 72+\\k*\\size(%rbx)\n  .endif\n"
        "  .endr\n  pop %rbx\n  .cfi_def_cfa_offset 8\n  ret\n  .cfi_endproc\n"
        "  .size \\name, .-\\name\n"
        ".endm\n"
        ".macro sse_ k\n  pcmpeqd %xmm\\k, %xmm\\k\n.endm\n"
        ".macro avx_ k\n  vcmpps $15, %ymm\\k, %ymm\\k, %ymm\\k\n.endm\n"
        ".macro zmm_ k\n  vpternlogd $0xff, %zmm\\k, %zmm\\k, %zmm\\k\n.endm\n"
        "SC_FN sc_regs_sse, sse, movdqu, xmm, 16, 16, scrub_fn\n"
        "SC_FN sc_regs_avx, avx, vmovdqu, ymm, 32, 16, scrub_fn\n"
        "SC_FN sc_regs_zmm, zmm, vmovdqu64, zmm, 64, 32, scrub_fn\n"
        "SC_FN sc_regs_only_sse, sse, movdqu, xmm, 16, 16, scrub_regs_fn\n"
        "SC_FN sc_regs_only_avx, avx, vmovdqu, ymm, 32, 16, scrub_regs_fn\n"
        "SC_FN sc_regs_only_zmm, zmm, vmovdqu64, zmm, 64, 32, scrub_regs_fn\n");
void sc_regs_sse(uint64_t *out);
void sc_regs_avx(uint64_t *out);
void sc_regs_zmm(uint64_t *out);
void sc_regs_only_sse(uint64_t *out);
void sc_regs_only_avx(uint64_t *out);
void sc_regs_only_zmm(uint64_t *out);

/* The variants this CPU can run, and each one's register dump. */
static int sc_can(int kind)
{
    __builtin_cpu_init();
    switch (kind) {
    case 0: return 1;
    case 1: return __builtin_cpu_supports("avx");
    case 2: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    default: return __builtin_cpu_supports("avx512f");
    }
}

/* only: scrub_regs (scrub_regs_fn) rather than scrub_frames(0). */
static int sc_nonzero_regs(int kind, int only)
{
    static uint64_t out[OUT_WORDS];
    int words = kind == 0 ? 9 + 16 * 2 : kind == 1 ? 9 + 16 * 4 : 9 + 32 * 8, bad = 0;
    memset(out, 0xa5, sizeof out);
    scrub_use(kind);
    if (kind == 0)
        (only ? sc_regs_only_sse : sc_regs_sse)(out);
    else if (kind == 1)
        (only ? sc_regs_only_avx : sc_regs_avx)(out);
    else
        (only ? sc_regs_only_zmm : sc_regs_zmm)(out);
    for (int w = 0; w < words; w++)
        bad += out[w] != 0;
    return bad;
}

TEST_BEGIN(scrub_clears_every_caller_saved_register)
{
    for (int kind = 0; kind < 4; kind++)
        if (sc_can(kind)) {
            expect_true(sc_nonzero_regs(kind, 0) == 0, "variant %d: %d words not cleared", kind,
                        sc_nonzero_regs(kind, 0));
            expect_true(sc_nonzero_regs(kind, 1) == 0, "variant %d: scrub_regs left %d words",
                        kind, sc_nonzero_regs(kind, 1));
        }
}
TEST_END

/* The stack below the caller, dirtied with MARK over 8 KiB. */
static NOINLINE void sc_dirty(void)
{
    volatile uint64_t pad[1024];
    for (int i = 0; i < 1024; i++)
        pad[i] = MARK;
}

/* After scrub_frames(n) from this frame: *zero gets the words below the
 * stack pointer at the call that are zero, counted down from it until the
 * first that is not; *marked, the MARK words further down. */
static NOINLINE void sc_stack(size_t n, long *zero, long *marked)
{
    uintptr_t sp;
    sc_dirty();
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    scrub_frames(n);
    const volatile uint64_t *w = (const uint64_t *)sp;
    long k = 3; /* the call's return address, and a frame pointer pushed */
    while (k < 900 && w[-k] == 0)
        k++;
    *zero = (k - 1) * 8;
    *marked = 0;
    for (; k < 900; k++)
        *marked += w[-k] == MARK;
}

TEST_BEGIN(scrub_clears_the_dead_frames_it_is_asked_to_and_no_more)
{
    for (int kind = 0; kind < 4; kind++) {
        if (!sc_can(kind))
            continue;
        long zero, marked;
        scrub_use(kind);
        sc_stack(768, &zero, &marked);
        /* rounded up to 256, and the store at the stack pointer's vector
         * alignment: 768..768 + 256 + 64 bytes */
        expect_true(zero >= 768 && zero <= 768 + 320, "variant %d: %ld bytes cleared", kind, zero);
        expect_true(marked >= 900 - 3 - (768 + 320) / 8 - 2,
                    "variant %d: only %ld words further down left alone", kind, marked);
        sc_stack(0, &zero, &marked);
        expect_true(zero <= 16, "variant %d: scrub_regs cleared %ld bytes", kind, zero);
    }
}
TEST_END

/* The usual window (768) is stored straight; any other goes through the
 * loop, rounded up to 256: both clear what they are asked to. */
TEST_BEGIN(scrub_clears_a_window_other_than_the_usual_one)
{
    static const size_t asks[] = {256, 1000, 1536, 2048};
    for (int kind = 0; kind < 4; kind++) {
        if (!sc_can(kind))
            continue;
        scrub_use(kind);
        for (unsigned i = 0; i < sizeof asks / sizeof asks[0]; i++) {
            long zero, marked, want = (long)((asks[i] + 255) & ~(size_t)255);
            sc_stack(asks[i], &zero, &marked);
            expect_true(zero >= want && zero <= want + 64, "variant %d: %zu asked, %ld cleared",
                        kind, asks[i], zero);
            expect_true(marked >= 900 - 3 - (want + 64) / 8 - 2,
                        "variant %d: %zu asked, only %ld words further down left alone", kind,
                        asks[i], marked);
        }
    }
}
TEST_END

int main(void)
{
    scrub_clears_every_caller_saved_register();
    scrub_clears_the_dead_frames_it_is_asked_to_and_no_more();
    scrub_clears_a_window_other_than_the_usual_one();
    return 0;
}
