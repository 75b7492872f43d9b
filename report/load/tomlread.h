/*
 * tomlread.h - the rules file (.heapsnap.toml) read by a complete TOML
 * parser (toml++, Debian's libtomlplusplus; tomlread.cc is the one C++
 * file of the CLI, built as libheapsnap-toml.so, and this header its C
 * door), for the gate's rules (report/gate/rules.c) and every command's
 * frame settings (config_load).  docs/ci.md says why a library.
 */
#ifndef REPORT_GATE_TOMLREAD_H
#define REPORT_GATE_TOMLREAD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called once per value: key, the value as text (a string as is, an integer
 * in decimal, a float as %g, a boolean as true/false), and its line.  An
 * array calls it once per element.  Returns 0, or -1 with err filled (the
 * reader then stops and returns -1). */
typedef int (*tomlread_fn)(void *ctx, const char *key, const char *value, int line, char *err,
                           size_t errlen);

/* Parses text (len bytes) as TOML and hands fn every key of the root table
 * and of an optional [gate] table.  Returns 0, or -1 with "PATH:LINE: why" in
 * err for a TOML syntax error, another table, a nested array or inline table,
 * or a date. */
int tomlread_rules(const char *path, const char *text, size_t len, tomlread_fn fn, void *ctx,
                   char *err, size_t errlen);

/* The same, in libheapsnap-toml.so (tomlread.cc), which tomlread_rules
 * (tomlload.c) opens on its first call; a build that links tomlread.cc in
 * (the ASan CLI, the fuzzer) calls it directly. */
#define TOMLREAD_LIB "libheapsnap-toml.so"
int tomlread_parse(const char *path, const char *text, size_t len, tomlread_fn fn, void *ctx,
                   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
