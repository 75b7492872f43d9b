/*
 * rtkeep.c - the C runtime's own blocks are not the program's.  It sets
 * the locale and prints to stdout (libc's locale data and stdout's buffer:
 * the runtime's), keeps 64 bytes in a static, and opens a stream it never
 * closes (the FILE is the program's, though only libc's list holds it).
 * Known answer (heapsnap run --leaks; memcheck agrees, docs/leaks.md):
 *   direct, indirect, cycle, possibly lost: 0
 *   still reachable: 2 blocks: 64 bytes at rtkeep.c:23 and the FILE at rtkeep.c:24
 *   runtime: at least stdout's buffer
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *kept;
static FILE *opened;

int main(void)
{
    setlocale(LC_ALL, "");
    printf("hello\n");
    kept = malloc(64);
    opened = fopen("/dev/null", "r");
    memset(kept, 1, 64);
    return opened ? 0 : 1;
}
