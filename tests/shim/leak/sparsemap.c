/*
 * sparsemap.c - roots that are mostly pages never written: a 256 MiB
 * private anonymous mapping and a 64 MiB .bss array, each written on one
 * page only, where it holds the only pointer to a malloc'd block (1,111
 * bytes from the mapping, 2,222 from the array); a block of 333 bytes is
 * lost.  An allocator's reservation, a runtime's arena or a big static
 * table look like this.  The check (heapsnap_collect, then the exit's)
 * must find both blocks reachable without reading the untouched pages,
 * which would fault each in (and on some kernels make each resident).
 * Prints "faults N": the minor faults the first check made in this
 * process (getrusage; in place: HEAPSNAP_LEAK_FORK=0).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

void *sparse_table[64u << 17]; /* 64 MiB of .bss (not static: its store stays) */

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

int main(void)
{
    size_t len = 256u << 20;
    void **m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    m[(len / 2) / sizeof *m + 3] = memset(malloc(1111), 1, 1111);
    sparse_table[(sizeof sparse_table / sizeof *sparse_table) / 3 + 5] = memset(malloc(2222), 2, 2222);
    void *volatile lost = malloc(333);
    lost = NULL;
    long (*collect)(const char *) = (long (*)(const char *))dlsym(RTLD_DEFAULT, "heapsnap_collect");
    long before = minflt();
    long r = collect ? collect(NULL) : -1;
    printf("collect %ld faults %ld\n", r, minflt() - before);
    return 0;
}
