/*
 * scrub.c - what the shim's own work leaves behind in a thread: block
 * addresses in the caller-saved registers (a table slot copied through
 * xmm2, a probe's neighbour in r9, libc's EVEX memmove in ymm16-31) and
 * in the dead frames below the hook (a callee's prologue pushing the
 * register that holds the new block).  The leak check scans a stopped
 * thread's registers, vector ones included (a program may hold a pointer
 * only there: LeakSanitizer's use_registers_extra), and its stack from
 * the stack pointer up, holes in live frames included: a frame the
 * program builds later over the shim's dead ones shows whatever its
 * holes cover.  Neither can be told from a live value, so a block the
 * program dropped would read as kept.  A hook that kept the books clears
 * both before it returns (Boehm's GC_clear_stack, for the same reason);
 * nothing of the program's is lost: across a call every one of these
 * registers is the callee's, and below its stack pointer nothing is live.
 */
#include <stdint.h>
#include <sys/platform/x86.h>

#include "base.h"

#define SCRUB_WINDOW 768 /* a multiple of 32; SCRUB_STACK stores it unrolled */
#define SCRUB_WIDE 896   /* ... and this one, a multiple of 32 above it: at most 56 of
                          * SSE's 16-byte stores (SCRUB_UNROLLED's .irp list) */
_Static_assert(SCRUB_WIDE / 16 <= 56, "SCRUB_UNROLLED stores 56 SSE words at most");
#define HS_STR_(x) #x
#define HS_STR(x) HS_STR_(x)

/* One variant per CPU, chosen once (scrub_init; SSE until then): SSE
 * clears xmm0-15 and stores 16 bytes at a time; AVX clears ymm0-15 at
 * once (vzeroall) and stores 32; with AVX-512 it also clears xmm16-31
 * (zmm with VL, else the zmm form), which the shim's own code (built for
 * SSE2) never names but libc's string functions do.  Opmask and x87 are
 * left alone: no address goes through them. */
enum { SCRUB_SSE, SCRUB_AVX, SCRUB_EVEX, SCRUB_ZMM };
int scrub_kind = SCRUB_SSE; /* scrub_use's last kind */

/* The loader's own reading of the CPU (CPU_FEATURE_ACTIVE: present, and
 * its registers' state kept by the kernel), not cpuid, which traps to
 * the hypervisor in a virtual machine: this runs in every process the
 * shim is loaded into, a launcher's inactive ones included. */
void scrub_init(void)
{
    if (!CPU_FEATURE_ACTIVE(AVX))
        return;
    if (!CPU_FEATURE_ACTIVE(AVX512F))
        scrub_use(SCRUB_AVX);
    else
        scrub_use(CPU_FEATURE_ACTIVE(AVX512VL) ? SCRUB_EVEX : SCRUB_ZMM);
}

#define SCRUB_X(r) "pxor %%xmm" #r ", %%xmm" #r "\n\t"
#define SCRUB_E(r) "vpxord %%xmm" #r ", %%xmm" #r ", %%xmm" #r "\n\t"
#define SCRUB_Z(r) "vpxord %%zmm" #r ", %%zmm" #r ", %%zmm" #r "\n\t"
#define SCRUB_8(m, a, b, c, d, e, f, g, h) m(a) m(b) m(c) m(d) m(e) m(f) m(g) m(h)
#define SCRUB_SSE_REGS                                                                    \
    SCRUB_8(SCRUB_X, 0, 1, 2, 3, 4, 5, 6, 7) SCRUB_8(SCRUB_X, 8, 9, 10, 11, 12, 13, 14, 15)
#define SCRUB_HI_E SCRUB_8(SCRUB_E, 16, 17, 18, 19, 20, 21, 22, 23) \
                   SCRUB_8(SCRUB_E, 24, 25, 26, 27, 28, 29, 30, 31)
#define SCRUB_HI_Z SCRUB_8(SCRUB_Z, 16, 17, 18, 19, 20, 21, 22, 23) \
                   SCRUB_8(SCRUB_Z, 24, 25, 26, 27, 28, 29, 30, 31)
/* [rsp - rdi, rsp) zeroed with xmm0 / ymm0 (zero by then), rdi rounded
 * up to a multiple of 256: the stack pointer is moved below the window
 * first, so that every store is at or above it (a main thread's stack
 * grows into a window it never reached, valgrind's too, and a signal's
 * frame lands below it), then from the vector-aligned address below the
 * old one down, eight stores a turn, and one unaligned store for the
 * words between that address and the old stack pointer.  The frame
 * pointer keeps the CFA.  A window of SCRUB_WINDOW bytes (the hooks'
 * usual one, HOOK_SCRUB_STACK) or SCRUB_WIDE (HOOK_SCRUB_CAREFUL)
 * is stored straight, without the rounding and the loop's counting: the
 * wide one's first stores, then the usual one's, below the same bottom. */
#define SCRUB_UNROLLED(w, mov, reg, from, to)                                             \
    ".irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,"   \
    "28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55\n\t" \
    ".if \\k * " #w " >= " from "\n\t"                                                  \
    ".if \\k * " #w " < " to "\n\t"                                                     \
    mov " %%" reg "0, \\k*" #w "(%%rcx)\n\t"                                             \
    ".endif\n\t"                                                                          \
    ".endif\n\t"                                                                          \
    ".endr\n\t"
#define SCRUB_ST(mov, reg, w, k) mov " %%" reg "0, " #k "*" #w "(%%rcx)\n\t"
#define SCRUB_STACK(w, mov, movu, reg)                                                    \
    "test %%rdi, %%rdi\n\t"                                                               \
    "jz 2f\n\t"                                                                           \
    "mov %%rsp, %%rdx\n\t"                                                                \
    "mov %%rsp, %%rcx\n\t"                                                                \
    "and $-" #w ", %%rcx\n\t"                                                             \
    "cmp $" HS_STR(SCRUB_WINDOW) ", %%rdi\n\t"                                            \
    "jne 5f\n\t"                                                                          \
    "sub $" HS_STR(SCRUB_WIDE) ", %%rcx\n\t"                                              \
    "mov %%rcx, %%rsp\n"                                                                  \
    "6:\n\t"                                                                              \
    SCRUB_UNROLLED(w, mov, reg, HS_STR(SCRUB_WIDE - SCRUB_WINDOW), HS_STR(SCRUB_WIDE))    \
    "jmp 3f\n"                                                                            \
    "5:\n\t"                                                                              \
    "cmp $" HS_STR(SCRUB_WIDE) ", %%rdi\n\t"                                              \
    "jne 4f\n\t"                                                                          \
    "sub $" HS_STR(SCRUB_WIDE) ", %%rcx\n\t"                                              \
    "mov %%rcx, %%rsp\n\t"                                                                \
    SCRUB_UNROLLED(w, mov, reg, "0", HS_STR(SCRUB_WIDE - SCRUB_WINDOW))                   \
    "jmp 6b\n"                                                                            \
    "4:\n\t"                                                                              \
    "mov %%rcx, %%rax\n\t"                                                                \
    "add $255, %%rdi\n\t"                                                                 \
    "and $-256, %%rdi\n\t"                                                                \
    "sub %%rdi, %%rcx\n\t"                                                                \
    "mov %%rcx, %%rsp\n"                                                                  \
    "1:\n\t"                                                                              \
    SCRUB_ST(mov, reg, w, 0) SCRUB_ST(mov, reg, w, 1) SCRUB_ST(mov, reg, w, 2)            \
    SCRUB_ST(mov, reg, w, 3) SCRUB_ST(mov, reg, w, 4) SCRUB_ST(mov, reg, w, 5)            \
    SCRUB_ST(mov, reg, w, 6) SCRUB_ST(mov, reg, w, 7)                                     \
    "add $8*" #w ", %%rcx\n\t"                                                            \
    "cmp %%rax, %%rcx\n\t"                                                                \
    "jb 1b\n"                                                                             \
    "3:\n\t"                                                                              \
    movu " %%" reg "0, -" #w "(%%rdx)\n\t"                                                \
    "mov %%rdx, %%rsp\n"                                                                  \
    "2:\n\t"
/* Last: the integer registers the ABI gives the callee (rax too: free
 * returns nothing, and a caller that returns a value sets it after). */
#define SCRUB_GP                                                                          \
    "xorl %%eax, %%eax\n\txorl %%ecx, %%ecx\n\txorl %%edx, %%edx\n\t"                     \
    "xorl %%esi, %%esi\n\txorl %%edi, %%edi\n\txorl %%r8d, %%r8d\n\t"                     \
    "xorl %%r9d, %%r9d\n\txorl %%r10d, %%r10d\n\txorl %%r11d, %%r11d"
/* The same for scrub_frames_ret: rax gets rsi (what the caller returns),
 * and rsi is cleared with the others. */
#define SCRUB_GP_RET                                                                      \
    "mov %%rsi, %%rax\n\txorl %%ecx, %%ecx\n\txorl %%edx, %%edx\n\t"                      \
    "xorl %%esi, %%esi\n\txorl %%edi, %%edi\n\txorl %%r8d, %%r8d\n\t"                     \
    "xorl %%r9d, %%r9d\n\txorl %%r10d, %%r10d\n\txorl %%r11d, %%r11d"
/* rdi is the operand (cleared as well).  xmm16-31 are written without
 * clobbers: the compiler cannot name them without -mavx512f, and without
 * it never uses them either. */
#define SCRUB_CLOBBERS_VEC                                                                \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",       \
        "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc"
#define SCRUB_CLOBBERS "rax", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", SCRUB_CLOBBERS_VEC

/* Each variant twice: the dead stack below the caller's frame, bytes of
 * it (0: none; rounded up to 256), then every caller-saved register; and
 * the registers alone (the free path's, without the window's arithmetic).
 * The caller must not touch a block's address after it: it is the last
 * call before the return to the program.  bytes may reach further than
 * the shim's work went this time (the stack grows into it), but no further
 * than that work may go: a thread's stack must have room for it either
 * way.  The hooks call the variant through scrub_fn / scrub_regs_fn (one
 * indirect call, no test of the kind on every hook). */
#define SCRUB_VARIANT(name, regs, w, mov, movu, reg)                                      \
    static HS_NOINLINE void scrub_frames_##name(size_t bytes)                             \
    {                                                                                     \
        register size_t n __asm__("rdi") = bytes; /* rounded in SCRUB_STACK */            \
        void *fp = __builtin_frame_address(0); /* a frame pointer: the asm moves rsp */   \
        __asm__ volatile(regs SCRUB_STACK(w, mov, movu, reg) SCRUB_GP                     \
                         : "+r"(n) : "r"(fp) : SCRUB_CLOBBERS);                           \
    }                                                                                     \
    static HS_NOINLINE void scrub_regs_##name(void)                                       \
    {                                                                                     \
        __asm__ volatile(regs SCRUB_GP ::: SCRUB_CLOBBERS, "rdi");                        \
    }                                                                                     \
    static HS_NOINLINE void *scrub_ret_##name(size_t bytes, void *ret)                    \
    {                                                                                     \
        register size_t n __asm__("rdi") = bytes;                                         \
        register void *r __asm__("rsi") = ret;                                            \
        void *out, *fp = __builtin_frame_address(0);                                      \
        __asm__ volatile(regs SCRUB_STACK(w, mov, movu, reg) SCRUB_GP_RET                 \
                         : "+r"(n), "+r"(r), "=&a"(out) : "r"(fp)                         \
                         : "rcx", "rdx", "r8", "r9", "r10", "r11", SCRUB_CLOBBERS_VEC);   \
        return out;                                                                       \
    }
SCRUB_VARIANT(sse, SCRUB_SSE_REGS, 16, "movaps", "movups", "xmm")
SCRUB_VARIANT(avx, "vzeroall\n\t", 32, "vmovdqa", "vmovdqu", "ymm")
SCRUB_VARIANT(evex, "vzeroall\n\t" SCRUB_HI_E, 32, "vmovdqa", "vmovdqu", "ymm")
SCRUB_VARIANT(zmm, "vzeroall\n\t" SCRUB_HI_Z, 32, "vmovdqa", "vmovdqu", "ymm")

void (*scrub_fn)(size_t) = scrub_frames_sse;
void (*scrub_regs_fn)(void) = scrub_regs_sse;
void *(*scrub_ret_fn)(size_t, void *) = scrub_ret_sse;

void scrub_use(int kind)
{
    static void (*const frames[])(size_t) = {scrub_frames_sse, scrub_frames_avx,
                                             scrub_frames_evex, scrub_frames_zmm};
    static void (*const regs[])(void) = {scrub_regs_sse, scrub_regs_avx, scrub_regs_evex,
                                         scrub_regs_zmm};
    static void *(*const rets[])(size_t, void *) = {scrub_ret_sse, scrub_ret_avx, scrub_ret_evex,
                                                    scrub_ret_zmm};
    if (kind < SCRUB_SSE || kind > SCRUB_ZMM)
        kind = SCRUB_SSE;
    scrub_kind = kind;
    scrub_fn = frames[kind];
    scrub_regs_fn = regs[kind];
    scrub_ret_fn = rets[kind];
}
