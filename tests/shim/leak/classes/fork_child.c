/*
 * fork_child.c - a forked child leaks a block and exits normally; it writes
 * its own snapshot, with only its own leak.  The parent leaks another block
 * after the fork, so the two snapshots differ.
 *
 * Expected, child's snapshot (expect/fork_child+child.txt):
 *   direct: 22 bytes in 1 blocks at fork_child.c:25
 * Expected, parent's snapshot (expect/fork_child.txt):
 *   direct: 11 bytes in 1 blocks at fork_child.c:30
 * Both: indirect, cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leakfix.h"

static void *volatile sink;

static LF_NOINLINE int build(void)
{
    pid_t pid = fork();
    if (pid < 0) exit(3);
    if (pid == 0) {
        sink = malloc(22);
        sink = NULL;
        return 0;
    }
    int status = 0;
    sink = malloc(11);
    sink = NULL;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(void)
{
    int rc = build();
    lf_scrub();
    return rc;
}
