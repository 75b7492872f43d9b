/*
 * rawexit.c - a program that leaves past exit() and _exit(), as Go's runtime
 * ends every Go program: it keeps 100 blocks of 50,000 bytes made by
 * raw_block, idles 150 ms (no allocation: the shim's helper is not woken
 * by one), then calls exit_group itself.  test_run_raw_exit.sh.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

void *kept[100];

__attribute__((noinline)) static void *raw_block(void)
{
    return malloc(50000);
}

int main(void)
{
    for (int i = 0; i < 100; i++)
        kept[i] = raw_block();
    usleep(150000);
    syscall(SYS_exit_group, 0);
    return 1;
}
