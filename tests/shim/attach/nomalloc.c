/* nomalloc.c - a program whose own code never calls the malloc family: its
 * GOT holds none (libc's does, for its own use).  Says "ready PID", then
 * answers each line on stdin with "ok" until "q". */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char buf[64], line[32];
    int n = snprintf(line, sizeof line, "ready %d\n", (int)getpid());
    write(1, line, (size_t)n);
    while ((n = (int)read(0, buf, sizeof buf)) > 0) {
        if (buf[0] == 'q') {
            write(1, "bye\n", 4);
            return 0;
        }
        write(1, "ok\n", 3);
    }
    return 0;
}
