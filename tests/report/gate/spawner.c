/*
 * spawner.c - starts PROG twice, through the two libc paths that `fork` and
 * `exec` tests do not cover (tests/report/gate/test_gate.sh, following children):
 *   posix_spawn(PROG)     glibc: clone(CLONE_VM|CLONE_VFORK) + exec
 *   system("PROG")        glibc: posix_spawn of /bin/sh -c PROG
 * Each child, and the shell of system() if it does not exec PROG itself,
 * must write its own snapshot.  Exit status: 0 when both children exited 0.
 */
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    pid_t pid;
    int status;
    if (argc != 2)
        return 2;
    char *args[] = {argv[1], NULL};
    if (posix_spawn(&pid, argv[1], NULL, NULL, args, environ) != 0)
        return 1;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        return 1;
    status = system(argv[1]);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
