/*
 * survivor.c - a program for tests/shim/attach/test_attach_survives.sh: a
 * target whose borrowed thread is where an attach could hurt it, and which
 * says whether it was hurt.  It prints "ready PID" first.
 *   survivor pong            the main thread reads lines on stdin (the
 *                            borrowed one) and answers "pong N", until "q"
 *   survivor slow LIB MS     as pong, and "d" starts a thread that dlopens
 *                            LIB, whose constructor sleeps MS ms holding the
 *                            loader's lock (answers "dlopening" once it
 *                            sleeps, "loaded" on the line after it ended)
 *   survivor altstack        a thread waits in a SIGUSR1 handler on an 8 KiB
 *                            sigaltstack (reading stdin: the only thread an
 *                            attach may borrow), fenced by 28 KiB of a known
 *                            byte on each side; a line ends the wait, and it
 *                            says "fence ok" or "fence N bytes changed"
 *   survivor vector S        a thread spins for S s with known values in
 *                            ymm0-ymm7 (the main thread in a
 *                            join: the spinner is the thread borrowed), and
 *                            says "vector ok" or "vector changed"
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

volatile int slow_started; /* set by the slow library's constructor (-rdynamic) */
static const char *slow_lib;
static void *slow_handle;

static void *slow_main(void *arg)
{
    (void)arg;
    slow_handle = dlopen(slow_lib, RTLD_NOW);
    return NULL;
}

static int pong(void)
{
    char line[64];
    unsigned n = 0;
    pthread_t t;
    int started = 0;
    while (fgets(line, sizeof line, stdin)) {
        char *copy = strdup(line); /* the malloc family, for the attach to find */
        if (line[0] == 'q') {
            free(copy);
            break;
        }
        if (line[0] == 'd' && slow_lib && !started) {
            started = pthread_create(&t, NULL, slow_main, NULL) == 0;
            while (started && !slow_started)
                usleep(1000);
            printf("dlopening\n");
        } else if (line[0] == 'l' && started) {
            pthread_join(t, NULL);
            started = 0;
            printf(slow_handle ? "loaded\n" : "not loaded: %s\n", dlerror());
        } else {
            printf("pong %u\n", ++n);
        }
        fflush(stdout);
        free(copy);
    }
    printf("bye\n");
    return 0;
}

#define FENCE (28 * 1024)
#define ALT (8 * 1024)
static unsigned char *fence;

static void on_usr1(int sig)
{
    char line[64];
    (void)sig;
    printf("parked\n");
    fflush(stdout);
    if (read(0, line, sizeof line) < 0)
        _exit(3);
}

static void *alt_main(void *arg)
{
    (void)arg;
    stack_t ss = {.ss_sp = fence + FENCE, .ss_size = ALT};
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    if (sigaltstack(&ss, NULL) != 0)
        return NULL;
    raise(SIGUSR1);
    size_t changed = 0;
    for (size_t i = 0; i < FENCE; i++)
        changed += (fence[i] != 0xa5) + (fence[FENCE + ALT + i] != 0xa5);
    if (changed)
        printf("fence %zu bytes changed\n", changed);
    else
        printf("fence ok\n");
    return NULL;
}

static int altstack(void)
{
    pthread_t t;
    fence = mmap(NULL, 2 * FENCE + ALT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fence == MAP_FAILED)
        return 2;
    memset(fence, 0xa5, 2 * FENCE + ALT);
    free(malloc(16));
    pthread_create(&t, NULL, alt_main, NULL);
    pthread_join(t, NULL); /* a futex wait: not a thread an attach borrows */
    return 0;
}

static volatile int spin_stop;
static volatile int spin_bad;

static void on_alarm(int sig)
{
    (void)sig;
    spin_stop = 1;
}

static void *spin_main(void *arg)
{
    static const unsigned long long pat[8][4] __attribute__((aligned(32))) = {
        {1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16},
        {17, 18, 19, 20}, {21, 22, 23, 24}, {25, 26, 27, 28}, {29, 30, 31, 32}};
    int bad = 0;
    (void)arg;
    /* ymm0-7 hold pat; each round compares them with memory, until the alarm */
    __asm__ volatile(
        "vmovdqa (%1), %%ymm0\n vmovdqa 32(%1), %%ymm1\n vmovdqa 64(%1), %%ymm2\n"
        "vmovdqa 96(%1), %%ymm3\n vmovdqa 128(%1), %%ymm4\n vmovdqa 160(%1), %%ymm5\n"
        "vmovdqa 192(%1), %%ymm6\n vmovdqa 224(%1), %%ymm7\n"
        "1:\n"
        "vpcmpeqq (%1), %%ymm0, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "vpcmpeqq 32(%1), %%ymm1, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "vpcmpeqq 64(%1), %%ymm2, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "vpcmpeqq 96(%1), %%ymm3, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "vpcmpeqq 128(%1), %%ymm4, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "vpcmpeqq 160(%1), %%ymm5, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "vpcmpeqq 192(%1), %%ymm6, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "vpcmpeqq 224(%1), %%ymm7, %%ymm8\n vpmovmskb %%ymm8, %%eax\n inc %%eax\n jnz 3f\n"
        "cmpl $0, (%2)\n je 1b\n"
        "xor %0, %0\n jmp 4f\n"
        "3: mov $1, %0\n"
        "4: vzeroupper\n"
        : "=r"(bad)
        : "r"(pat), "r"(&spin_stop)
        : "rax", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "cc",
          "memory");
    spin_bad = bad;
    return NULL;
}

static int vector(unsigned secs)
{
    pthread_t t;
    free(malloc(16));
    signal(SIGALRM, on_alarm);
    alarm(secs);
    pthread_create(&t, NULL, spin_main, NULL);
    pthread_join(t, NULL);
    printf(spin_bad ? "vector changed\n" : "vector ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    if (argc >= 2 && !strcmp(argv[1], "altstack"))
        return altstack();
    if (argc >= 3 && !strcmp(argv[1], "vector"))
        return vector((unsigned)atoi(argv[2]));
    if (argc >= 4 && !strcmp(argv[1], "slow")) {
        slow_lib = argv[2];
        setenv("SLOWLIB_MS", argv[3], 1);
    }
    return pong();
}
