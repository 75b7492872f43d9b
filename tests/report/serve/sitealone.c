/* sitealone.c - serve's test of a site read alone
 * (serve_metrics_read_no_frame_past_the_site): every block is allocated
 * from main, whose callers are the C runtime's, and nothing else
 * allocates (no stdio: its buffers would be sites inside libc); "ready"
 * goes out with write(2), then it waits for the end of its input. */
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    static void *keep[4];
    char c;
    for (int i = 0; i < 4; i++)
        keep[i] = malloc(5000);
    if (write(1, "ready\n", 6) != 6)
        return 1;
    while (read(0, &c, 1) > 0)
        ;
    return keep[3] == NULL;
}
