/* unwind_main.c - built WITHOUT frame pointers; calls through unwind_lib.so
 * (also without them) at several depths, and allocates directly too. */
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *lib_outer(size_t n, int depth);
void *volatile keep[256];

NOINLINE static void *app_step(int i)
{
    return i % 3 ? lib_outer(16 + (size_t)i, i % 7) : malloc(32 + (size_t)i);
}

NOINLINE static void app_loop(int rounds)
{
    for (int i = 0; i < rounds; i++)
        keep[i & 255] = app_step(i);
}

int main(void)
{
    app_loop(200);
    return 0;
}
