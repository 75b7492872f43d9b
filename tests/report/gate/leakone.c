/*
 * leakone.c - leaks on purpose for the gate's leak rules (tests/report/gate/test_gate.sh):
 *   line 10  one malloc(100) whose only pointer is dropped: a direct leak
 */
#include <stdlib.h>
#include <string.h>

static void lose(void)
{
    char *volatile p = malloc(100);
    memset(p, 1, 100);
    p = NULL;
}

int main(void)
{
    lose();
    return 0;
}
