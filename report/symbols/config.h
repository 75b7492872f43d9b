/*
 * config.h - how every command that prints frames reads them
 * (config_opt, config_load): --alloc-fn, --no-default-alloc-fns and
 * --shorten-templates on the command line, and the same three settings
 * from the rules file, .heapsnap.toml, that the gate reads its rules from.
 *
 * A command puts CONFIG_LONGOPTS in its getopt_long table, hands every
 * option to config_opt, and calls config_load once its options are
 * parsed, before its first frames_get.  `heapsnap gate` reads the same
 * file and keys through its own rules table (report/gate/rules.c).
 */
#ifndef REPORT_CONFIG_H
#define REPORT_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#include "frames.h"

#define CONFIG_OPT_ALLOC_FN 'A'
#define CONFIG_OPT_NO_DEFAULT_ALLOC_FNS 'D'
#define CONFIG_OPT_SHORTEN_TEMPLATES 0x1c0
#define CONFIG_OPT_RULES 0x1c1
#define CONFIG_OPT_NATIVE 0x1c2
#define CONFIG_OPT_INTERPRETER_FRAMES 0x1c3

#define CONFIG_LONGOPTS                                                              \
    {"alloc-fn", required_argument, NULL, CONFIG_OPT_ALLOC_FN},                        \
    {"no-default-alloc-fns", no_argument, NULL, CONFIG_OPT_NO_DEFAULT_ALLOC_FNS},      \
    {"shorten-templates", no_argument, NULL, CONFIG_OPT_SHORTEN_TEMPLATES},            \
    {"rules", required_argument, NULL, CONFIG_OPT_RULES},                              \
    {"native", no_argument, NULL, CONFIG_OPT_NATIVE},                                  \
    {"interpreter-frames", no_argument, NULL, CONFIG_OPT_INTERPRETER_FRAMES}

/* The help lines of the options. */
#define CONFIG_HELP                                                                   \
    FRAMES_ALLOC_FN_HELP                                                              \
    "      --shorten-templates  C++ names without their template arguments:\n"       \
    "                     std::vector<std::pair<int, std::string>>::push_back\n"      \
    "                     reads std::vector<>::push_back (off by default)\n"          \
    "      --rules FILE   read alloc-fn, no-default-alloc-fns and shorten-templates\n" \
    "                     from FILE (default ./.heapsnap.toml when it exists;\n"      \
    "                     none: no file)\n"

/* Handles option c (a CONFIG_OPT_* code) of getopt_long: 1 when it was
 * one of them, 0 when it is not, -1 with "bad value..." in err. */
int config_opt(int c, const char *arg, char *err, size_t errlen);

/* Reads the rules file - the --rules FILE given, else ./.heapsnap.toml
 * when it exists, nothing for --rules none - and applies its alloc-fn
 * (a pattern or an array of them), no-default-alloc-fns and
 * shorten-templates (true or false), at the top level or under [gate];
 * the gate's other keys are left to the gate.  The command line adds to
 * the file's patterns.  0, or 2 with "CMD: FILE:LINE: why" in err (not
 * TOML, a bad value, an unreadable --rules file). */
int config_load(const char *cmd, char *err, size_t errlen);

#endif
