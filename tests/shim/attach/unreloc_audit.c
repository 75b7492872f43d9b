/*
 * unreloc_audit.c - an LD_AUDIT module that holds a dlopen between the
 * mapping of a library whose name holds "unreloc_lib" and its relocation
 * (la_objopen runs in that gap) for UNRELOC_MS ms: the control thread's
 * poll of a late-loaded shim then finds the module listed by
 * dl_iterate_phdr but not relocated yet (test_attach_unrelocated.sh).
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned la_version(unsigned v)
{
    (void)v;
    return LAV_CURRENT;
}

unsigned la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie)
{
    (void)lmid, (void)cookie;
    if (map->l_name && strstr(map->l_name, "unreloc_lib")) {
        const char *v = getenv("UNRELOC_MS");
        long ms = v ? atol(v) : 400;
        struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&t, &t) != 0)
            ;
    }
    return 0;
}
