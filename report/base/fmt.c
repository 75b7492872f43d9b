/*
 * fmt.c - the text of tracemalloc's statistics, reproduced rule for rule so
 * that a Python user reads heapsnap's output without learning anything new.
 *
 * _format_size walks the units B, KiB, MiB, GiB, TiB: below 100 of any unit
 * but bytes it prints one decimal ("99.9 KiB"); below 10 * 1024 of a unit (or
 * in TiB, the last one) it prints none ("8704 KiB", "2048 TiB"); otherwise it
 * divides by 1024 and tries the next unit.  Python's "%.0f"/"%.1f" round half
 * to even on the exact binary value, as C's printf does, and size / 1024 is
 * exact in double precision, so the same arithmetic gives the same text.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

void fmt_size(char *buf, size_t n, double size, int sign)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    const size_t nunits = sizeof(units) / sizeof(units[0]);
    for (size_t u = 0; u < nunits; u++) {
        if (fabs(size) < 100 && u != 0) {
            snprintf(buf, n, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
            return;
        }
        if (fabs(size) < 10 * 1024 || u == nunits - 1) {
            snprintf(buf, n, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
            return;
        }
        size /= 1024;
    }
}

/* ", average=A" when count != 0 (average of the sizes given), else "". */
static void fmt_average(char *buf, size_t n, int64_t size, int64_t count)
{
    char avg[64];
    if (!count) {
        buf[0] = 0;
        return;
    }
    fmt_size(avg, sizeof(avg), (double)size / (double)count, 0);
    snprintf(buf, n, ", average=%s", avg);
}

void fmt_statistic(char *buf, size_t n, const char *key, int64_t size, int64_t count)
{
    char sz[64], avg[80];
    fmt_size(sz, sizeof(sz), (double)size, 0);
    fmt_average(avg, sizeof(avg), size, count);
    snprintf(buf, n, "%s: size=%s, count=%lld%s", key, sz, (long long)count, avg);
}

void fmt_statistic_diff(char *buf, size_t n, const char *key, int64_t size,
                        int64_t size_diff, int64_t count, int64_t count_diff)
{
    char sz[64], dsz[64], avg[80];
    fmt_size(sz, sizeof(sz), (double)size, 0);
    fmt_size(dsz, sizeof(dsz), (double)size_diff, 1);
    fmt_average(avg, sizeof(avg), size, count);
    snprintf(buf, n, "%s: size=%s (%s), count=%lld (%+lld)%s", key, sz, dsz,
             (long long)count, (long long)count_diff, avg);
}

void fmt_allocations(char *buf, size_t n, const char *key, int64_t alloc_size,
                     int64_t alloc_count, int64_t size, int64_t count)
{
    char asz[64], avg[80], sz[64];
    fmt_size(asz, sizeof(asz), (double)alloc_size, 0);
    fmt_average(avg, sizeof(avg), alloc_size, alloc_count);
    fmt_size(sz, sizeof(sz), (double)size, 0);
    snprintf(buf, n, "%s: allocations=%lld, allocated=%s%s (live: size=%s, count=%lld)", key,
             (long long)alloc_count, asz, avg, sz, (long long)count);
}

/* The directory is read once: the CLI never changes it.  "/" shortens nothing.
 * A leading "./" (clang joins a comp_dir of "." to the file) is dropped, so
 * one source file reads the same whichever compiler built it. */
const char *fmt_path(const char *file)
{
    static char cwd[4096];
    static size_t len;
    static int known;
    if (!known) {
        known = 1;
        if (getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") != 0)
            len = strlen(cwd);
    }
    if (len && strncmp(file, cwd, len) == 0 && file[len] == '/')
        file += len + 1;
    while (file[0] == '.' && file[1] == '/' && file[2])
        file += 2;
    return file;
}
