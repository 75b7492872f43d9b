/*
 * tramp.c - the code a borrowed thread runs during `heapsnap attach`, as
 * bytes the CLI copies into the target (inject.c puts them in the unused
 * tail of the last page of libc's, the loader's or the program's code).
 *
 * Every state the CLI leaves the thread in ends where the thread was found,
 * with or without the CLI: inj_tramp_start makes one system call on the
 * thread's own stack pointer (the mmap of the call's memory, or nothing),
 * undoes it and falls into inj_tramp_restore; inj_tramp_call blocks every
 * signal (the thread's mask saved into a signal frame in that memory),
 * calls dlopen, dlsym and the shim's entry on a stack in that memory, and
 * rt_sigreturns through the frame, which puts back every register, the
 * vector state and the mask; when the CLI turns that rt_sigreturn into the
 * munmap of the memory, the thread falls into inj_tramp_restore too, which
 * puts back the mask, the flags and the registers kept in the blob's data
 * (struct inj_back) and jumps back.  Nothing is ever written below the
 * thread's own stack pointer.  The steps: inj_load.
 */
#include <stddef.h>
#include <string.h>
#include <sys/user.h>

#include "inject.h"

#ifdef __x86_64__

/* The region header's fields as the code reads them: struct inj_hdr. */
__asm__(
    ".pushsection .rodata.inj_tramp,\"a\",@progbits\n"
    ".intel_syntax noprefix\n"
    ".p2align 6\n"
    ".globl inj_tramp_start\n.hidden inj_tramp_start\n"
    ".globl inj_tramp_call\n.hidden inj_tramp_call\n"
    ".globl inj_tramp_ret\n.hidden inj_tramp_ret\n"
    ".globl inj_tramp_data\n.hidden inj_tramp_data\n"
    ".globl inj_tramp_end\n.hidden inj_tramp_end\n"
    "inj_tramp_start:\n"                 /* r15: bytes to munmap at rax on the way back */
    "    syscall\n"
    "    test r15, r15\n"
    "    jz inj_tramp_restore\n"
    "    cmp rax, -4095\n"
    "    jae inj_tramp_restore\n"
    "    mov rdi, rax\n"
    "    mov rsi, r15\n"
    "    mov eax, 11\n"                  /* munmap */
    "    syscall\n"
    "    jmp inj_tramp_restore\n"
    "inj_tramp_call:\n"                  /* rbx: struct inj_hdr, rsp = rbx */
    "    mov eax, 14\n"                  /* rt_sigprocmask(SIG_BLOCK, all, &uc_sigmask, 8) */
    "    xor edi, edi\n"
    "    lea rsi, [rbx + 112]\n"
    "    lea rdx, [rbx + 552]\n"
    "    mov r10d, 8\n"
    "    syscall\n"
    "    mov eax, 131\n"                 /* sigaltstack(NULL, &uc_stack) */
    "    xor edi, edi\n"
    "    lea rsi, [rbx + 272]\n"
    "    syscall\n"
    "    mov rdi, [rbx + 32]\n"          /* handle = dlopen(path, mode) */
    "    mov rsi, [rbx + 56]\n"
    "    call qword ptr [rbx + 8]\n"
    "    mov [rbx + 72], rax\n"
    "    test rax, rax\n"
    "    jnz 1f\n"
    "    mov rax, [rbx + 16]\n"          /* error = dlerror() */
    "    test rax, rax\n"
    "    jz 3f\n"
    "    call rax\n"
    "    mov [rbx + 80], rax\n"
    "    jmp 3f\n"
    "1:  mov rax, [rbx + 64]\n"          /* entry, or dlsym(handle, sym) */
    "    test rax, rax\n"
    "    jnz 2f\n"
    "    mov rax, [rbx + 24]\n"
    "    test rax, rax\n"
    "    jz 3f\n"
    "    mov rdi, [rbx + 72]\n"
    "    mov rsi, [rbx + 40]\n"
    "    call rax\n"
    "    mov [rbx + 64], rax\n"
    "    test rax, rax\n"
    "    jz 3f\n"
    "2:  mov rdi, [rbx + 48]\n"          /* ret = entry(conf) */
    "    call rax\n"
    "    mov [rbx + 88], rax\n"
    "    mov qword ptr [rbx + 96], 1\n"
    "3:  mov qword ptr [rbx + 104], 1\n"
    "    lea rsp, [rbx + 256]\n"         /* the frame's ucontext */
    "    mov eax, 15\n"                  /* rt_sigreturn */
    "    syscall\n"
    "inj_tramp_ret:\n"                   /* only when the CLI made it a munmap */
    "inj_tramp_restore:\n"
    "    mov rsp, [rip + inj_tramp_data + 120]\n"
    "    cmp byte ptr [rip + inj_tramp_data + 144], 0\n"
    "    je 4f\n"
    "    mov eax, 14\n"                  /* rt_sigprocmask(SIG_SETMASK, &mask, NULL, 8) */
    "    mov edi, 2\n"
    "    lea rsi, [rip + inj_tramp_data + 136]\n"
    "    xor edx, edx\n"
    "    mov r10d, 8\n"
    "    syscall\n"
    "4:  cmp byte ptr [rip + inj_tramp_data + 145], 0\n"
    "    je 5f\n"
    "    std\n"
    "    jmp 6f\n"
    "5:  cld\n"
    "6:  mov al, byte ptr [rip + inj_tramp_data + 146]\n" /* 0x40 + 0x40 sets OF */
    "    add al, al\n"
    "    mov ah, byte ptr [rip + inj_tramp_data + 147]\n" /* SF ZF AF PF CF */
    "    sahf\n"
    "    mov rbx, [rip + inj_tramp_data + 8]\n"
    "    mov rcx, [rip + inj_tramp_data + 16]\n"
    "    mov rdx, [rip + inj_tramp_data + 24]\n"
    "    mov rsi, [rip + inj_tramp_data + 32]\n"
    "    mov rdi, [rip + inj_tramp_data + 40]\n"
    "    mov rbp, [rip + inj_tramp_data + 48]\n"
    "    mov r8, [rip + inj_tramp_data + 56]\n"
    "    mov r9, [rip + inj_tramp_data + 64]\n"
    "    mov r10, [rip + inj_tramp_data + 72]\n"
    "    mov r11, [rip + inj_tramp_data + 80]\n"
    "    mov r12, [rip + inj_tramp_data + 88]\n"
    "    mov r13, [rip + inj_tramp_data + 96]\n"
    "    mov r14, [rip + inj_tramp_data + 104]\n"
    "    mov r15, [rip + inj_tramp_data + 112]\n"
    "    mov rax, [rip + inj_tramp_data + 0]\n"
    "    jmp qword ptr [rip + inj_tramp_data + 128]\n"
    ".p2align 3\n"
    "inj_tramp_data:\n"
    "    .zero 152\n"
    "inj_tramp_end:\n"
    ".att_syntax prefix\n"
    ".popsection\n");

extern const unsigned char inj_tramp_start[], inj_tramp_call[], inj_tramp_ret[],
    inj_tramp_data[], inj_tramp_end[];

/* inj_tramp_data's layout, as the code above reads it. */
struct inj_back {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rsp, rip;
    uint64_t mask;              /* the signal mask to put back, when mask_on */
    uint8_t mask_on, df, of, low;
    uint8_t pad[4];
};
_Static_assert(sizeof(struct inj_back) == 152, "inj_tramp_data's size");

size_t inj_tramp_size(void)
{
    return (size_t)(inj_tramp_end - inj_tramp_start);
}

size_t inj_tramp_off(int which)
{
    const unsigned char *p = which == INJ_T_CALL ? inj_tramp_call
                             : which == INJ_T_RET ? inj_tramp_ret
                             : which == INJ_T_DATA ? inj_tramp_data : inj_tramp_start;
    return (size_t)(p - inj_tramp_start);
}

void inj_tramp_build(unsigned char *out, const struct user_regs_struct *r, const uint64_t *mask)
{
    struct inj_back b = {
        .rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi,
        .rdi = r->rdi, .rbp = r->rbp, .r8 = r->r8, .r9 = r->r9, .r10 = r->r10,
        .r11 = r->r11, .r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
        .rsp = r->rsp, .rip = r->rip,
        .mask = mask ? *mask : 0, .mask_on = mask != NULL,
        .df = (r->eflags >> 10) & 1,
        .of = (r->eflags >> 11) & 1 ? 0x40 : 0,
        .low = (uint8_t)(r->eflags & 0xd5), /* SF ZF AF PF CF, as sahf takes them */
    };
    memcpy(out, inj_tramp_start, inj_tramp_size());
    memcpy(out + inj_tramp_off(INJ_T_DATA), &b, sizeof b);
}

#else

size_t inj_tramp_size(void) { return 0; }
size_t inj_tramp_off(int which) { (void)which; return 0; }
void inj_tramp_build(unsigned char *out, const struct user_regs_struct *r, const uint64_t *mask)
{
    (void)out; (void)r; (void)mask;
}

#endif
