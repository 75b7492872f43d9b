/*
 * twosites.c - one source built twice: as a shared library (-shared) and as
 * the program that links it (-DMAIN).  keep() is then one function, file and
 * line in two modules: two sites to the symbolizer, one label to a scraper.
 * The program keeps 10 blocks of 1000 bytes from each copy, says "ready" and
 * waits for its stdin to close.
 */
#include <stdio.h>
#include <stdlib.h>

#ifdef MAIN
void *lib_keep(size_t n);
#endif

__attribute__((noinline)) static void *keep(size_t n) { return malloc(n); }

#ifdef MAIN
int main(void)
{
    static void *kept[20];
    for (int i = 0; i < 10; i++) {
        kept[i] = keep(1000);
        kept[10 + i] = lib_keep(1000);
    }
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF)
        ;
    return kept[0] == NULL;
}
#else
void *lib_keep(size_t n) { return keep(n); }
#endif
