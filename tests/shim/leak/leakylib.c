/* leakylib.c - a library whose global is the only holder of a block
 * (tests/shim/leak: "a library's globals after dlopen"). */
#include <stdlib.h>
#include <string.h>

void *lib_global;

void lib_keep(size_t n)
{
    lib_global = malloc(n);
    memset(lib_global, 0, n);
}
