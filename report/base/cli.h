/*
 * cli.h - the small helpers every command line of the CLI shares: one
 * wording for a bad option or value, the nearest name to a mistyped one,
 * the one parser behind every number an option takes, grow_array, and the
 * big buffers' allocations (bigmem.c).
 * The commands themselves are behind the commands' door (commands.h).
 */
#ifndef REPORT_CLI_H
#define REPORT_CLI_H

#include <stddef.h>
#include <stdint.h>

/* getopt_long's "unknown option" / "missing argument" as one line in err,
 * with "did you mean '--NAME'?" when one of longopts (getopt_long's table,
 * may be NULL) is cli_nearest to a mistyped long option; returns 2. */
struct option;
int cli_bad_option(const char *cmd, int c, char **argv, const struct option *longopts,
                   char *err, size_t errlen);

/* "bad value for OPT: 'VAL' (ACCEPTED)" in err, the one wording of a bad
 * option value everywhere (ACCEPTED lists the values or describes them);
 * returns -1. */
int cli_bad_value(char *err, size_t errlen, const char *opt, const char *val,
                  const char *accepted);

/* --format text|json: *json = 0 or 1; -1 with "bad value for --format: 'V'
 * (text, json)" in err. */
int cli_parse_format(const char *arg, int *json, char *err, size_t errlen);

/* The one of names[0..n) nearest to a mistyped word (a swap, a letter
 * missing, added or wrong: at most 1 edit for words under 5 letters, 2
 * for longer), or NULL when none is that near. */
const char *cli_nearest(const char *word, const char *const *names, size_t n);

/* --kind's value ("all", "malloc", "mmap") into *kind (SNAP_KIND_*): 0,
 * or -1 with cli_bad_value's message. */
int cli_parse_kind(const char *arg, int *kind, char *err, size_t errlen);
#define CLI_KIND_HELP                                                                  \
    "      --kind KIND    all (default), malloc (blocks of the malloc family) or\n"     \
    "                     mmap (anonymous memory the program mapped itself)\n"

/* Puts "CMD: " before the message in err. */
void cli_prefix(char *err, size_t errlen, const char *cmd);

/* What a byte amount accepts, for cli_bad_value. */
#define CLI_AMOUNT_WANTS "a byte count: digits with an optional K, M or G (binary multiples), " \
                         "e.g. 4096, 64K, 10M"

/* The one parser behind every numeric option, so that none of them takes
 * "inf", "nan", "1e30", " 7", "-0" or a value that overflows.
 * cli_parse_count: decimal digits only, at most max.  cli_parse_amount:
 * DIGITS[.DIGITS] then optionally K, M or G (binary multiples), or % when
 * allow_pct; a byte amount may reach CLI_MAX_BYTES, a percentage
 * CLI_MAX_PCT.  Both return 0, or -1 with *out untouched. */
#define CLI_MAX_BYTES 4611686018427387904.0 /* 2^62: more than any heap */
#define CLI_MAX_PCT 1000000.0
int cli_parse_count(const char *s, uint64_t max, uint64_t *out);
int cli_parse_amount(const char *s, int allow_pct, double *out, int *pct);

/* Makes room for at least need elements of elem bytes in *arr (a T ** passed
 * as void **), whose capacity is *cap elements: 0 when it already fits or
 * after a realloc to a doubled capacity (from 8), -1 when the size in bytes
 * would overflow or realloc fails, with *arr and *cap unchanged. */
int grow_array(void **arr, size_t *cap, size_t need, size_t elem);

/* malloc, calloc and realloc for a buffer that may be big (a section, an
 * array by trace or by block): the same, and one of 2 MiB or more is
 * advised onto huge pages (bigmem.c).  Freed with free. */
void *big_malloc(size_t n);
void *big_calloc(size_t k, size_t n);
void *big_realloc(void *p, size_t n);

/* heapsnap's own libraries (the shim, the rules reader): name next to this
 * executable (build/), else in ../lib/heapsnap/ (after `make install`), its
 * real path in out; 0, or -1. */
int cli_find_lib(const char *name, char *out, size_t n);

/* The command as the user can type it again, for the hints that name one
 * ("next: heapsnap leaks ..."): "heapsnap" when that name on PATH is this
 * very executable, else the path it was run by (argv0, given once by main;
 * "build/heapsnap" after `make`), else "heapsnap". */
void cli_set_self(const char *argv0);
const char *cli_self(void);

#endif
