/*
 * tomlload.c - the door of the rules reader (tomlread_rules) in C: the
 * reader itself is C++ (toml++, and libstdc++ with it) in a library of its
 * own, libheapsnap-toml.so beside the shim, opened the first time a rules
 * file is read.  Linked into the CLI, those two libraries were loaded and
 * relocated at every command's start (`heapsnap run` included, whose cost
 * is read against the program's), though most read no rules file.  A
 * build that links tomlread.cc in (the ASan CLI, the fuzzer) calls it
 * directly.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "tomlread.h"

/* tomlread.cc's entry when linked in; else NULL and the library's. */
extern int tomlread_parse(const char *path, const char *text, size_t len, tomlread_fn fn,
                          void *ctx, char *err, size_t errlen) __attribute__((weak));

typedef int (*tomlread_parse_fn)(const char *, const char *, size_t, tomlread_fn, void *,
                                 char *, size_t);

/* The reader: linked in, or dlopened once; NULL with err filled. */
static tomlread_parse_fn tomlread_load(char *err, size_t errlen)
{
    static tomlread_parse_fn parse;
    char path[PATH_MAX];
    if (tomlread_parse)
        return tomlread_parse;
    if (parse)
        return parse;
    if (cli_find_lib(TOMLREAD_LIB, path, sizeof(path)) < 0) {
        snprintf(err, errlen, "cannot find %s next to heapsnap or in ../lib/heapsnap/ "
                 "(the rules file's reader)", TOMLREAD_LIB);
        return NULL;
    }
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib || !(*(void **)&parse = dlsym(lib, "tomlread_parse"))) {
        snprintf(err, errlen, "the rules file's reader did not load: %s", dlerror());
        return NULL;
    }
    return parse;
}

int tomlread_rules(const char *path, const char *text, size_t len, tomlread_fn fn, void *ctx,
                   char *err, size_t errlen)
{
    tomlread_parse_fn parse = tomlread_load(err, errlen);
    return parse ? parse(path, text, len, fn, ctx, err, errlen) : -1;
}
