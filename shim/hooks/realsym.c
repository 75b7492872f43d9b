/*
 * realsym.c - the next definition of a name past the shim (hook_real_sym):
 * where hooks.c finds the real allocator, and the attach build its real
 * dlopen.  Preloaded, that is dlsym(RTLD_NEXT), so an allocator later in
 * the chain is respected.  Loaded late by the attach, RTLD_NEXT can name
 * the executable's own PLT entry, which the attach rewrites to the hooks;
 * the search then walks the loaded modules in the loader's order instead.
 * dlsym and dlopen may allocate.
 */
#include <dlfcn.h>
#include <string.h>

#include "hooks.h"

#ifdef HEAPSNAP_ATTACH_BUILD
#include <link.h>

/* Loaded late (attach), the next definition is the first in the loader's
 * order that is neither the executable's nor ours: a non-PIE executable
 * that imports malloc defines it as its PLT entry (the canonical address),
 * which RTLD_NEXT and RTLD_DEFAULT would return, and which jumps through
 * the very GOT entry the attach rewrites to the hooks. */
struct hook_mods {
    const char *name[64];
    unsigned n;
};

static int hook_mod(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct hook_mods *m = arg;
    (void)size;
    if (info->dlpi_name && info->dlpi_name[0] == '/' && m->n < 64)
        m->name[m->n++] = info->dlpi_name;
    return 0;
}

void *hook_real_sym(const char *name)
{
    struct hook_mods m = {{0}, 0};
    Dl_info self, at;
    dladdr((void *)hook_real_sym, &self);
    dl_iterate_phdr(hook_mod, &m); /* the executable has no name: never listed */
    for (unsigned i = 0; i < m.n; i++) {
        void *h = dlopen(m.name[i], RTLD_NOLOAD | RTLD_LAZY), *f;
        if (!h)
            continue;
        f = dlsym(h, name);
        dlclose(h);
        if (f && dladdr(f, &at) && at.dli_fname && !strcmp(at.dli_fname, m.name[i]) &&
            at.dli_fbase != self.dli_fbase)
            return f;
    }
    return dlsym(RTLD_NEXT, name);
}
#else
void *hook_real_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}
#endif
