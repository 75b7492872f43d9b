/*
 * fmt.h - tracemalloc's text: _format_size and the Statistic /
 * StatisticDiff lines, byte for byte.
 */
#ifndef REPORT_FMT_H
#define REPORT_FMT_H

#include <stddef.h>
#include <stdint.h>

/* file as shown: relative to the current directory when it lies below it
 * ("tests/NAME.c" for "/repo/tests/NAME.c" run from /repo), without a leading "./",
 * else unchanged. */
const char *fmt_path(const char *file);

/* tracemalloc._format_size(size, sign) into buf ("10.0 KiB", "+2150 KiB"). */
void fmt_size(char *buf, size_t n, double size, int sign);

/* "KEY: size=S, count=C[, average=A]" (Statistic.__str__), no newline. */
void fmt_statistic(char *buf, size_t n, const char *key, int64_t size, int64_t count);

/* "KEY: size=S (+D), count=C (+DC)[, average=A]" (StatisticDiff.__str__). */
void fmt_statistic_diff(char *buf, size_t n, const char *key, int64_t size,
                        int64_t size_diff, int64_t count, int64_t count_diff);

/* top --sort allocations/allocated: "KEY: allocations=C, allocated=S,
 * average=A (live: size=S, count=C)", in _format_size's units; no
 * average when nothing was allocated. */
void fmt_allocations(char *buf, size_t n, const char *key, int64_t alloc_size,
                     int64_t alloc_count, int64_t size, int64_t count);

#endif
