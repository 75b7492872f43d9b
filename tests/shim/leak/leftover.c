/*
 * leftover.c - what a hook leaves behind in the thread that called it.
 * The leak check scans a stopped thread's registers (vector ones too) and
 * its stack, holes of live frames included, so a block address the shim's
 * own work left there keeps a dropped block "reachable".  argv[1] "regs": 64
 * blocks of 72 bytes (half from one stack, half each from a stack of its
 * own: lo_at_depth) made and freed through lo_call_sse (or its avx/zmm kin), which stores every
 * caller-saved register (the integer ones, then xmm0-15, ymm0-15 or
 * zmm0-31 as the CPU has them) the moment the hook returns; after each
 * malloc the dead stack below the caller (16 KiB) is searched too.  Prints
 * "regs N stack M": the words that held one of the blocks' addresses (rax
 * after malloc aside: the result).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEY 0x5a5a5a5a5a5aull /* addresses kept xored: this file's arrays are roots */
#define NB 64
#define DUMP_WORDS (9 + 32 * 8)

long heapsnap_collect(const char *path) __attribute__((weak));

/* lo_call_K(arg, fn, out): fn(arg), then rcx rdx rsi rdi r8-r11 rax into
 * out[0..9), the vector registers after them; returns fn's result. */
__asm__(".text\n"
        ".macro LO_GP\n"
        "  mov %rcx, 0(%rbx)\n  mov %rdx, 8(%rbx)\n  mov %rsi, 16(%rbx)\n"
        "  mov %rdi, 24(%rbx)\n  mov %r8, 32(%rbx)\n  mov %r9, 40(%rbx)\n"
        "  mov %r10, 48(%rbx)\n  mov %r11, 56(%rbx)\n  mov %rax, 64(%rbx)\n"
        ".endm\n"
        ".macro LO_FN name, insn, reg, size, n\n"
        "  .globl \\name\n  .type \\name, @function\n"
        "\\name:\n  .cfi_startproc\n  push %rbx\n  .cfi_def_cfa_offset 16\n"
        "  .cfi_offset %rbx, -16\n  mov %rdx, %rbx\n  call *%rsi\n  LO_GP\n"
        "  .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,"
        "27,28,29,30,31\n"
        "  .if \\k < \\n\n  \\insn %\\reg\\k, 72+\\k*\\size(%rbx)\n  .endif\n  .endr\n"
        "  pop %rbx\n  .cfi_def_cfa_offset 8\n  ret\n  .cfi_endproc\n"
        "  .size \\name, .-\\name\n"
        ".endm\n"
        "LO_FN lo_call_sse, movdqu, xmm, 16, 16\n"
        "LO_FN lo_call_avx, vmovdqu, ymm, 32, 16\n"
        "LO_FN lo_call_zmm, vmovdqu64, zmm, 64, 32\n");
void *lo_call_sse(uintptr_t arg, void *fn, uint64_t *out);
void *lo_call_avx(uintptr_t arg, void *fn, uint64_t *out);
void *lo_call_zmm(uintptr_t arg, void *fn, uint64_t *out);

static uintptr_t blocks[NB]; /* xored with KEY */
static int nblocks;

static int lo_is_block(uint64_t v)
{
    for (int i = 0; i < nblocks; i++)
        if ((v ^ KEY) == blocks[i])
            return 1;
    return 0;
}

/* malloc through depth frames of its own: each depth is a stack the hook
 * has not seen, so it is walked afresh (the walk and the intern go far
 * deeper below the caller than a stack named before).  The block comes
 * back xored with KEY, so that these frames, dead once they return, hold
 * no address of the program's own in the stack searched. */
static NOINLINE uintptr_t lo_at_depth(int depth, void *(*call)(uintptr_t, void *, uint64_t *),
                                      uint64_t *out)
{
    uintptr_t v = depth ? lo_at_depth(depth - 1, call, out)
                        : (uintptr_t)call(72, (void *)malloc, out) ^ KEY;
    __asm__ volatile("" ::: "memory"); /* no tail call: a frame a depth */
    return v;
}

/* Words below this frame (the callee's dead ones) that hold a block's
 * address; no call before the search is over. */
static NOINLINE int lo_dead_stack(void)
{
    const volatile uint64_t *sp = __builtin_frame_address(0);
    int hits = 0;
    for (int k = 2; k < 2048; k++)
        hits += lo_is_block(sp[-k]);
    return hits;
}

static int lo_regs(void)
{
    static uint64_t out[DUMP_WORDS];
    void *(*call)(uintptr_t, void *, uint64_t *) = lo_call_sse;
    int words = 9 + 16 * 2, regs = 0, stack = 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        call = lo_call_zmm, words = 9 + 32 * 8;
    else if (__builtin_cpu_supports("avx"))
        call = lo_call_avx, words = 9 + 16 * 4;
    for (int i = 0; i < 8; i++) /* whatever comes first (boot, start-up) */
        free(malloc(72));
    void *p[NB];
    for (int i = 0; i < NB; i++) {
        p[i] = i < NB / 2 ? call(72, (void *)malloc, out)
                          : (void *)(lo_at_depth(i - NB / 2 + 1, call, out) ^ KEY);
        blocks[nblocks++] = (uintptr_t)p[i] ^ KEY;
        for (int w = 0; w < words; w++)
            regs += w != 8 && lo_is_block(out[w]);
        stack += lo_dead_stack();
    }
    for (int i = 0; i < NB; i++) {
        call((uintptr_t)p[i], (void *)free, out);
        for (int w = 0; w < words; w++)
            regs += lo_is_block(out[w]);
    }
    printf("regs %d stack %d\n", regs, stack);
    return 0;
}

int main(int argc, char **argv)
{
    if (!heapsnap_collect) {
        puts("no shim");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "regs"))
        return lo_regs();
    return 2;
}
