/* ucheck.c - built WITHOUT frame pointers for test_unwind_check.sh: each
 * mode allocates in the ways that break a naive cache of the last walk
 * (a frame at the same CFA with the same return address, reached by
 * another path), under HEAPSNAP_UNWIND_CHECK=1, which compares every
 * stack the incremental walk gives with the walk from scratch.
 *   recur     a recursion whose every level calls down from one of two
 *             call sites: consecutive stacks differ only in one outer
 *             return address, at the same depth and the same CFAs
 *   jump      longjmp / siglongjmp out of allocating frames, then the
 *             other path at the same depth
 *   context   makecontext/swapcontext coroutines on their own stacks, one
 *             stack reused by another coroutine function
 *   signal    allocations in a handler raised at several depths, on the
 *             thread's stack, then on a sigaltstack
 *   threads   four threads at once, then threads one after the other on
 *             the stack glibc's cache hands back, each another function
 *   fork      a child that goes on allocating from the parent's memo
 *   vfork     a child that allocates on the parent's stack, then _exit
 *   dlclose   ucheck_lib A's frames cached, unloaded, B loaded (usually at
 *             A's address) and called at the same depth
 *   jit       code written to an anonymous mapping, run, rewritten, run
 * Every mode prints "ok MODE". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define KEEP 512

static __thread void *uc_keep[KEEP]; /* each thread's own */
static __thread unsigned uc_next;
static volatile unsigned uc_sink;

NOINLINE static void uc_put(void *p)
{
    unsigned i = uc_next++ % KEEP;
    free(uc_keep[i]);
    uc_keep[i] = p;
}

NOINLINE static void *uc_leaf(size_t n)
{
    void *p = malloc(n);
    uc_sink += (unsigned)n;
    return p;
}

/* Each level calls down from the call site its bit of path picks: the
 * frames sit at the same CFAs for every path of one depth. */
NOINLINE static void *uc_rec(int d, unsigned path, size_t n)
{
    void *p;
    if (d <= 0)
        return uc_leaf(n);
    if (path & 1) {
        p = uc_rec(d - 1, path >> 1, n);
        uc_sink += 1;
    } else {
        __asm__ volatile("" ::: "memory");
        p = uc_rec(d - 1, path >> 1, n);
        uc_sink ^= 3;
    }
    return p;
}

static void uc_recur_rounds(int rounds)
{
    static const int depth[] = {6, 6, 6, 12, 12, 3, 20, 20, 9, 9};
    for (int i = 0; i < rounds; i++) {
        int d = depth[i % 10];
        unsigned path = (unsigned)(i * 2654435761u) >> (32 - d); /* one bit moves at a time, often */
        uc_put(uc_rec(d, path, 16 + (size_t)(i & 7)));
        uc_put(uc_rec(d, path ^ (1u << (unsigned)(i % d)), 24));
    }
}

/* ---------------- jump ---------------- */

static jmp_buf uc_jb;
static sigjmp_buf uc_sjb;

NOINLINE static void uc_jump_down(int d, int how)
{
    if (d > 0) {
        uc_jump_down(d - 1, how);
        uc_sink += 1;
        return;
    }
    uc_put(uc_leaf(40));
    if (how == 1)
        longjmp(uc_jb, 1);
    if (how == 2)
        siglongjmp(uc_sjb, 1);
    if (how == 3)
        raise(SIGUSR1); /* the handler allocates, then siglongjmps */
}

static void uc_on_usr1(int sig)
{
    uc_put(uc_rec(3, (unsigned)sig, 56));
    siglongjmp(uc_sjb, 2);
}

static void uc_jump_rounds(int rounds)
{
    signal(SIGUSR1, uc_on_usr1);
    for (int i = 0; i < rounds; i++) {
        int d = 2 + i % 7;
        if (setjmp(uc_jb) == 0)
            uc_jump_down(d, 1);
        uc_jump_down(d, 0); /* the same frames but the outermost, from another call */
        if (sigsetjmp(uc_sjb, 1) == 0)
            uc_jump_down(d, 2 + (i & 1));
        uc_sink ^= 5;
        uc_jump_down(d, 0);
    }
}

/* ---------------- context ---------------- */

static ucontext_t uc_main_ctx, uc_co_ctx[2];

static void uc_co_a(void)
{
    for (int i = 0; i < 300; i++) {
        uc_put(uc_rec(4 + i % 3, (unsigned)i, 24));
        swapcontext(&uc_co_ctx[0], &uc_main_ctx);
    }
}

static void uc_co_b(void)
{
    for (int i = 0; i < 300; i++) {
        uc_put(uc_rec(5, (unsigned)~i, 40));
        swapcontext(&uc_co_ctx[1], &uc_main_ctx);
    }
}

static void uc_context_rounds(void)
{
    size_t sz = 256 * 1024;
    char *stk[2];
    for (int k = 0; k < 2; k++)
        stk[k] = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int pass = 0; pass < 2; pass++) { /* the second pass swaps the stacks' owners */
        void (*fn[2])(void) = {uc_co_a, uc_co_b};
        for (int k = 0; k < 2; k++) {
            getcontext(&uc_co_ctx[k]);
            uc_co_ctx[k].uc_stack.ss_sp = stk[k ^ pass];
            uc_co_ctx[k].uc_stack.ss_size = sz;
            uc_co_ctx[k].uc_link = &uc_main_ctx;
            makecontext(&uc_co_ctx[k], fn[k], 0);
        }
        for (int i = 0; i < 300; i++)
            for (int k = 0; k < 2; k++) {
                swapcontext(&uc_main_ctx, &uc_co_ctx[k]);
                uc_put(uc_rec(4, (unsigned)i, 8)); /* the main stack between turns */
            }
    }
}

/* ---------------- signal ---------------- */

static void uc_on_alloc_signal(int sig)
{
    uc_put(uc_rec(2 + (int)(uc_next % 5), uc_next, 72));
    uc_put(uc_leaf(80));
}

NOINLINE static void uc_raise_at(int d)
{
    if (d > 0) {
        uc_raise_at(d - 1);
        uc_sink += 2;
        return;
    }
    uc_put(uc_leaf(48));
    raise(SIGUSR2);
    uc_put(uc_leaf(48));
}

static void uc_signal_rounds(int altstack)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = uc_on_alloc_signal;
    if (altstack) {
        stack_t ss = {.ss_sp = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                      .ss_size = 1 << 16};
        sigaltstack(&ss, NULL);
        sa.sa_flags = SA_ONSTACK;
    }
    sigaction(SIGUSR2, &sa, NULL);
    for (int i = 0; i < 400; i++) {
        uc_raise_at(i % 6);
        uc_sink ^= 7; /* the same frames again but the outermost, from another call */
        uc_raise_at(i % 6);
    }
}

/* ---------------- threads ---------------- */

static void *uc_thread_a(void *arg)
{
    uc_recur_rounds(400 + (int)(long)arg);
    return NULL;
}

static void *uc_thread_b(void *arg)
{
    for (int i = 0; i < 300; i++)
        uc_put(uc_rec(7, (unsigned)i * 5 + 1, 96));
    return NULL;
}

static void uc_threads_rounds(void)
{
    pthread_t t[4];
    for (long k = 0; k < 4; k++)
        pthread_create(&t[k], NULL, k & 1 ? uc_thread_b : uc_thread_a, (void *)k);
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    for (int k = 0; k < 12; k++) { /* one at a time: the same stack, another function */
        pthread_create(&t[0], NULL, k & 1 ? uc_thread_b : uc_thread_a, NULL);
        pthread_join(t[0], NULL);
    }
}

/* ---------------- fork, vfork ---------------- */

static int uc_fork_rounds(int use_vfork)
{
    uc_recur_rounds(300);
    for (int k = 0; k < 3; k++) {
        pid_t pid = use_vfork ? vfork() : fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            if (use_vfork) { /* on the parent's stack, its memo's memory */
                void *p = uc_rec(6, 0x15u + (unsigned)k, 24);
                free(p);
                _exit(0);
            }
            uc_put(uc_rec(6, 0x2au, 24));
            uc_recur_rounds(300);
            exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
        uc_recur_rounds(200);
    }
    return 0;
}

/* ---------------- dlclose ---------------- */

static int uc_dlclose_rounds(const char *liba, const char *libb)
{
    const char *lib[2] = {liba, libb};
    void *base[2] = {NULL, NULL};
    for (int pass = 0; pass < 4; pass++) {
        void *h = dlopen(lib[pass & 1], RTLD_NOW | RTLD_LOCAL);
        if (!h)
            return 1;
        void *(*f)(int, size_t) = (void *(*)(int, size_t))dlsym(h, "ucl_alloc");
        Dl_info di;
        if (!f || !dladdr((void *)f, &di))
            return 1;
        base[pass & 1] = di.dli_fbase;
        for (int i = 0; i < 300; i++) {
            free(f(4 + i % 3, 32));
            uc_put(uc_rec(4 + i % 3, (unsigned)i, 16));
        }
        dlclose(h);
    }
    printf("same base %d\n", base[0] == base[1]);
    return 0;
}

/* ---------------- jit ---------------- */

/* sub rsp, K; call rdi; add rsp, K; ret - rsp stays 16-aligned at the call */
static void uc_jit_emit(unsigned char *c, unsigned char k)
{
    static const unsigned char tmpl[] = {0x48, 0x83, 0xec, 0, 0xff, 0xd7,
                                         0x48, 0x83, 0xc4, 0, 0xc3};
    memcpy(c, tmpl, sizeof tmpl);
    c[3] = c[9] = k;
}

static void uc_jit_callee(void)
{
    uc_put(uc_rec(3, uc_next, 24));
}

static int uc_jit_rounds(void)
{
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED)
        return 1;
    for (int i = 0; i < 40; i++) {
        mprotect(code, 4096, PROT_READ | PROT_WRITE);
        uc_jit_emit(code, i & 1 ? 8 : 40);
        mprotect(code, 4096, PROT_READ | PROT_EXEC);
        __builtin___clear_cache((char *)code, (char *)code + 16);
        for (int j = 0; j < 20; j++) {
            ((void (*)(void (*)(void)))code)(uc_jit_callee);
            uc_put(uc_rec(3, (unsigned)j, 24)); /* the same depth, by C alone */
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    int r = 0;
    if (!strcmp(mode, "recur"))
        uc_recur_rounds(3000);
    else if (!strcmp(mode, "jump"))
        uc_jump_rounds(500);
    else if (!strcmp(mode, "context"))
        uc_context_rounds();
    else if (!strcmp(mode, "signal"))
        uc_signal_rounds(0);
    else if (!strcmp(mode, "altstack"))
        uc_signal_rounds(1);
    else if (!strcmp(mode, "threads"))
        uc_threads_rounds();
    else if (!strcmp(mode, "fork"))
        r = uc_fork_rounds(0);
    else if (!strcmp(mode, "vfork"))
        r = uc_fork_rounds(1);
    else if (!strcmp(mode, "dlclose") && argc > 3)
        r = uc_dlclose_rounds(argv[2], argv[3]);
    else if (!strcmp(mode, "jit"))
        r = uc_jit_rounds();
    else
        r = 2;
    if (r == 0)
        printf("ok %s\n", mode);
    return r;
}
