/* fiforead.c - `fiforead FIFO OUT [LIMIT]`: a reader of FIFO that is open
 * before the test goes on: it opens FIFO without blocking (no writer yet),
 * then creates OUT.ready; copies what comes to OUT until the writer closes
 * (or LIMIT bytes, then leaves early), 5 s at most between two reads. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char ready[4096], buf[65536];
    long limit = argc > 3 ? atol(argv[3]) : -1, seen = 0;
    if (argc < 3)
        return 2;
    int fd = open(argv[1], O_RDONLY | O_NONBLOCK);
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    snprintf(ready, sizeof ready, "%s.ready", argv[2]);
    if (fd < 0 || out < 0 || close(open(ready, O_WRONLY | O_CREAT, 0644)) != 0)
        return 2;
    while (limit < 0 || seen < limit) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        size_t want = limit < 0 || limit - seen > (long)sizeof buf ? sizeof buf : (size_t)(limit - seen);
        ssize_t n = read(fd, buf, want);
        if (n < 0)
            continue; /* EAGAIN: poll again */
        if (n == 0 || write(out, buf, (size_t)n) != n)
            break;
        seen += n;
    }
    return 0;
}
