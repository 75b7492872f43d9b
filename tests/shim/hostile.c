/* hostile.c - what real services do to the process they share with the shim.
 *   title        overwrites argv and environ in place (setproctitle, as
 *                redis, nginx and postgres do), allocates, raises SIGUSR2
 *                (a signal snapshot when HEAPSNAP_SIGNAL=USR2), exits 0
 *   chdir DIR    chdir(DIR) (a daemon's chdir("/")), allocates, exits 0
 *   handler      installs its own SIGUSR2 handler with sigaction, raises it,
 *                then another with signal(), raises it; prints how often
 *                each ran; exits 0
 *   forkexit N   allocates 2000 blocks, forks N children that leave through
 *                _exit and one that leaves through exit; exits 0
 *   guard        makes the middle page of a live, reachable block PROT_NONE
 *                (a guard region: valgrind's leak-segv-jmp); a 200-byte
 *                block is referenced from that page only, a 100-byte one
 *                from the block's first page; exits 0
 *   vmsize       prints its address space (VmSize, kB), which counts
 *                against RLIMIT_AS
 *   grow         keeps 50,000-byte blocks (grow_block) until malloc fails
 *                (under `ulimit -v`), prints "grew N", exits 0 with them live
 *   lowfd FMT N  a daemon's habit: each open() is expected to return the
 *                lowest free number (3), in a loop that allocates, until the
 *                shim's helper has beat N times more (the header of the state
 *                file FMT names with the pid for %d: u64 beats at 48; 20 s at
 *                most); prints "stolen K" (the opens that got another
 *                number) and "beats B"
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t ran_a, ran_b;

static void on_a(int sig) { ran_a++; }
static void on_b(int sig) { ran_b++; }

static void set_title(int argc, char **argv)
{
    char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
    for (char **e = environ; *e; e++)
        if (*e + strlen(*e) + 1 > end)
            end = *e + strlen(*e) + 1;
    memset(start, 0, (size_t)(end - start));
    strcpy(start, "hostile: title");
}

static int forkexit(int n)
{
    void *keep[2000];
    for (int i = 0; i < 2000; i++)
        keep[i] = malloc(64);
    for (int i = 0; i <= n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (i == n)
                exit(0);
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    for (int i = 0; i < 2000; i++)
        free(keep[i]);
    return 0;
}

/* grow's block: its own function, so that `top` names its line */
__attribute__((noinline)) static void *grow_block(void)
{
    return malloc(50000);
}

static void **grown;

static int grow(void)
{
    size_t n = 0, cap = 1 << 16;
    grown = malloc(cap * sizeof *grown);
    for (void *p; grown && n < cap && (p = grow_block()) != NULL;)
        grown[n++] = p;
    printf("grew %zu\n", n);
    return 0;
}

/* The beats of the state file's header, read through an open that must
 * get 3 too (*stolen counts it otherwise). */
static uint64_t beats_of(const char *state, int *stolen)
{
    uint64_t b = 0;
    int fd = open(state, O_RDONLY);
    if (fd >= 0 && fd != 3)
        (*stolen)++;
    if (fd >= 0 && pread(fd, &b, sizeof b, 48) != (ssize_t)sizeof b)
        b = 0;
    if (fd >= 0)
        close(fd);
    return b;
}

static int lowfd(const char *fmt, int n)
{
    char state[4096];
    int stolen = 0;
    snprintf(state, sizeof state, fmt, (int)getpid());
    uint64_t b0 = beats_of(state, &stolen), b = b0;
    time_t end = time(NULL) + 20;
    for (unsigned long i = 0; b < b0 + (uint64_t)n && time(NULL) < end; i++) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd != 3)
            stolen++;
        if (fd >= 0)
            close(fd);
        free(malloc(16 + i % 4000)); /* something moved: a document at each beat */
        if (i % 64 == 0)
            b = beats_of(state, &stolen);
    }
    printf("stolen %d\nbeats %llu\n", stolen, (unsigned long long)(b - b0));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "title")) {
        set_title(argc, argv);
        void *p = malloc(4242);
        raise(SIGUSR2);
        usleep(200000); /* the helper thread writes the signal snapshot */
        printf("title %p\n", p != NULL ? (void *)1 : NULL);
        return 0;
    }
    if (!strcmp(argv[1], "chdir") && argc > 2) {
        if (chdir(argv[2]) != 0)
            return 3;
        void *p = malloc(4242);
        return p ? 0 : 1;
    }
    if (!strcmp(argv[1], "handler")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_a;
        sigaction(SIGUSR2, &sa, NULL);
        raise(SIGUSR2);
        signal(SIGUSR2, on_b);
        raise(SIGUSR2);
        printf("own handlers ran: %d %d\n", (int)ran_a, (int)ran_b);
        return 0;
    }
    if (!strcmp(argv[1], "guard")) {
        static void *volatile keep;
        char *a = aligned_alloc(4096, 3 * 4096);
        ((void **)a)[0] = malloc(100);
        ((void **)(a + 4096))[0] = malloc(200);
        keep = a;
        if (mprotect(a + 4096, 4096, PROT_NONE) != 0)
            return 3;
        return 0;
    }
    if (!strcmp(argv[1], "vmsize")) {
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "VmSize:", 7))
                printf("%ld\n", atol(line + 7));
        return 0;
    }
    if (!strcmp(argv[1], "forkexit") && argc > 2)
        return forkexit(atoi(argv[2]));
    if (!strcmp(argv[1], "grow"))
        return grow();
    if (!strcmp(argv[1], "lowfd") && argc > 3)
        return lowfd(argv[2], atoi(argv[3]));
    return 2;
}
