/*
 * demangle.c - linkage names to the names people read, by the demanglers
 * that binutils, gdb and valgrind use rather than one of our own.
 *
 * Rust first: libiberty's rust_demangle (linked in statically, -liberty)
 * takes the v0 scheme ("_R...") and the legacy one, which is C++'s "_ZN"
 * with a last segment "17h<16 hex>E".  libstdc++'s __cxa_demangle would
 * take a legacy name too, but keep the hash and the $LT$ escapes, so it
 * only sees what rust_demangle refuses; rust_demangle refuses a C++ name
 * at its last segment, before any allocation.
 *
 * C++: libstdc++'s __cxa_demangle, linked in (a build with -lstdc++), else
 * dlopened when the first C++ name comes, so that C++ is no part of the
 * CLI's start; without libstdc++ C++ names stay as they are.
 */
#include <dlfcn.h>
#include <libiberty/demangle.h>
#include <stddef.h>
#include <stdlib.h>

#include "demangle.h"

extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status)
    __attribute__((weak));
typedef char *(*demangle_cxx_fn)(const char *, char *, size_t *, int *);

static demangle_cxx_fn demangle_cxx(void)
{
    static demangle_cxx_fn fn;
    static int tried;
    if (__cxa_demangle)
        return __cxa_demangle;
    if (!tried) {
        tried = 1;
        void *lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
        if (lib)
            *(void **)&fn = dlsym(lib, "__cxa_demangle");
    }
    return fn;
}

char *demangle_name(const char *name)
{
    if (!name || name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
        return NULL;
    char *d = rust_demangle(name, 0); /* 0: no DMGL_VERBOSE, no hash */
    if (d || name[1] != 'Z')
        return d;
    demangle_cxx_fn cxx = demangle_cxx();
    int status = -1;
    d = cxx ? cxx(name, NULL, NULL, &status) : NULL;
    if (d && status != 0) {
        free(d);
        d = NULL;
    }
    return d;
}
