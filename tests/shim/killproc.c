/*
 * killproc.c - the state file across fork, a raw clone and exec, for
 * test_killstate_procs.sh.  Each mode keeps 100 blocks of 8 KiB from
 * parent_load first, then:
 *   killproc fork FIFO      a forked child keeps 1000 blocks of 16 KiB from
 *                           child_load and writes "c" to FIFO, then waits for
 *                           its SIGKILL; the parent, once the child is dead,
 *                           writes "p" and waits for its own
 *   killproc forkmany FIFO  the same, the parent keeping 20,000 blocks of 32
 *                           bytes from spread_load first, each from a stack
 *                           of its own (spread: 2^15 paths), so that its
 *                           cells fill more chunks than a small fork moves
 *                           a page at a time (state.c, STATE_MOVE_FEW)
 *   killproc rawclone FIFO  a child of the raw clone system call (no fork
 *                           handler) frees the 100 blocks it inherited and
 *                           exits 0; the parent then writes "p" and waits
 *   killproc exec FIFO PROG ARGS...  an exec of a program that does not
 *                           exist fails; "e" to FIFO, then a byte read from
 *                           it, then PROG ARGS is exec'd
 * Exit status 2 on a bad call or a step that failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *kept[100], *grown[1000];

__attribute__((noinline)) static void *parent_load(size_t n)
{
    void *p = malloc(n);
    memset(p, 2, n);
    return p;
}

__attribute__((noinline)) static void *child_load(size_t n)
{
    void *p = malloc(n);
    memset(p, 3, n);
    return p;
}

__attribute__((noinline)) static void *spread_load(size_t n)
{
    void *p = malloc(n);
    memset(p, 4, n);
    return p;
}

/* A block from a stack of its own for each x below 2^d: two call sites
 * (the asm keeps the compiler from merging them), no tail call. */
static volatile int spread_sink;
__attribute__((noinline)) static void *spread(int d, unsigned x)
{
    void *p;
    if (!d) {
        p = spread_load(32);
    } else if (x & 1) {
        __asm__ volatile("# spread: one");
        p = spread(d - 1, x >> 1);
    } else {
        __asm__ volatile("# spread: zero");
        p = spread(d - 1, x >> 1);
    }
    spread_sink++;
    return p;
}

static int tell(const char *fifo, const char *what)
{
    int fd = open(fifo, O_WRONLY);
    int ok = fd >= 0 && write(fd, what, 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

static int wait_word(const char *fifo)
{
    char c;
    int fd = open(fifo, O_RDONLY);
    int ok = fd >= 0 && read(fd, &c, 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    for (int i = 0; i < 100; i++)
        kept[i] = parent_load(8192);
    const char *fifo = argv[2];
    int many = !strcmp(argv[1], "forkmany");
    for (unsigned x = 0; many && x < 20000; x++)
        if (!spread(15, x))
            return 2;
    if (!strcmp(argv[1], "fork") || many) {
        pid_t c = fork();
        if (c == 0) {
            for (int i = 0; i < 1000; i++)
                grown[i] = child_load(16384);
            if (tell(fifo, "c") != 0)
                _exit(2);
            for (;;)
                pause();
        }
        int status;
        if (c < 0 || waitpid(c, &status, 0) != c || !WIFSIGNALED(status))
            return 2;
    } else if (!strcmp(argv[1], "rawclone")) {
        long c = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
        if (c == 0) {
            for (int i = 0; i < 100; i++)
                free(kept[i]);
            _exit(0);
        }
        int status;
        if (c < 0 || waitpid((pid_t)c, &status, 0) != c || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            return 2;
    } else if (!strcmp(argv[1], "exec") && argc > 3) {
        execlp("no-such-program-of-heapsnap", "x", (char *)NULL);
        if (errno != ENOENT || tell(fifo, "e") != 0 || wait_word(fifo) != 0)
            return 2;
        execv(argv[3], argv + 3);
        return 2;
    } else {
        return 2;
    }
    if (tell(fifo, "p") != 0)
        return 2;
    for (;;)
        pause();
}
