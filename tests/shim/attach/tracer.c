/* tracer.c - holds a process traced (PTRACE_SEIZE, which does not stop it)
 * until its stdin closes: "traced" on stdout once it is. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char c;
    if (argc < 2 || ptrace(PTRACE_SEIZE, atoi(argv[1]), 0, 0) != 0) {
        perror("tracer");
        return 1;
    }
    printf("traced\n");
    fflush(stdout);
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
