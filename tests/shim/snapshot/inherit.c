/* inherit.c - a parent's heap a fork child inherits (test_inherited.sh).
 *
 * The parent keeps 20000 x malloc(100) (parent_site), then forks.  The
 * child frees 5000 of them, reallocates 10 more to 300 bytes
 * (child_realloc), keeps 300 x malloc(200) (child_site) and drops the
 * pointers to 7 x malloc(48) (child_leak: its own leak), then ends as
 * argv[1] says: "exit" (exit(0)) or "abort" (SIGABRT: the fatal
 * snapshot).  Still live in the child of what it inherited: 14990 of
 * parent_site's blocks, 1499000 bytes (and whatever libc kept before the
 * fork).  The parent waits for it and exits 0. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NPARENT 20000
static void *kept[NPARENT];
static void *mine[300];
static void *volatile sink;

__attribute__((noinline)) static void parent_site(void)
{
    for (int i = 0; i < NPARENT; i++)
        kept[i] = malloc(100);
}

__attribute__((noinline)) static void child_realloc(void)
{
    for (int i = 5000; i < 5010; i++)
        kept[i] = realloc(kept[i], 300);
}

__attribute__((noinline)) static void child_site(void)
{
    for (int i = 0; i < 300; i++)
        mine[i] = malloc(200);
}

__attribute__((noinline)) static void child_leak(void)
{
    for (int i = 0; i < 7; i++) {
        sink = malloc(48);
        memset(sink, 0, 48);
    }
    sink = NULL;
}

int main(int argc, char **argv)
{
    parent_site();
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        for (int i = 0; i < 5000; i++)
            free(kept[i]);
        child_realloc();
        child_site();
        child_leak();
        if (argc > 1 && !strcmp(argv[1], "abort"))
            abort();
        exit(0);
    }
    int st;
    return waitpid(pid, &st, 0) == pid ? 0 : 1;
}
