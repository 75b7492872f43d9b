/*
 * reldlopen.c - a library opened by a relative path: dlopen("./libleaky.so")
 * from the directory that holds it, then lib_keep(4321) (tests/shim/leak/
 * leakylib.c: the block is held by the library's global).  valgrind
 * --leak-check=full: still reachable 4,321 bytes in 1 blocks, allocated
 * at lib_keep (leakylib.c:10); the report names that line from any
 * directory.
 */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    void *h = dlopen("./libleaky.so", RTLD_NOW);
    void (*keep)(unsigned long) = h ? (void (*)(unsigned long))dlsym(h, "lib_keep") : NULL;
    if (!keep) {
        fprintf(stderr, "reldlopen: %s\n", dlerror());
        return 1;
    }
    keep(4321);
    return 0;
}
