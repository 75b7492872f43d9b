/*
 * unreloc_main.c - loads the shim's late copy itself (heapsnap__load, as
 * the pytest plugin does: the control thread polls for new modules), then
 * dlopens unreloc_lib (argv[2]) and allocates through it; "ok N" when it
 * lives to tell, N the blocks it made.  test_attach_unrelocated.sh.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    void *shim = dlopen(argv[1], RTLD_NOW);
    int (*load)(const char *) = shim ? (int (*)(const char *))dlsym(shim, "heapsnap__load") : NULL;
    /* the late start takes its options from this text, not the
     * environment: the test's HEAPSNAP_OUTPUT passed on (else the
     * snapshot lands in the working directory) */
    char opts[4096];
    const char *out = getenv("HEAPSNAP_OUTPUT");
    snprintf(opts, sizeof opts, "HEAPSNAP_STATE=0\n%s%s%s", out ? "HEAPSNAP_OUTPUT=" : "",
             out ? out : "", out ? "\n" : "");
    if (!load || load(opts) != 0) {
        fprintf(stderr, "unreloc_main: no heapsnap__load\n");
        return 2;
    }
    nap_ms(150); /* the control thread polls */
    void *lib = dlopen(argv[2], RTLD_LAZY);
    void *(*alloc)(size_t) = lib ? (void *(*)(size_t))dlsym(lib, "unreloc_alloc") : NULL;
    void (*release)(void *) = lib ? (void (*)(void *))dlsym(lib, "unreloc_free") : NULL;
    if (!alloc || !release) {
        fprintf(stderr, "unreloc_main: %s\n", dlerror());
        return 2;
    }
    int n = 0;
    for (int i = 0; i < 3; i++, nap_ms(120)) {
        void *p = alloc(100);
        n += p != NULL;
        release(p);
    }
    printf("ok %d\n", n);
    return 0;
}
