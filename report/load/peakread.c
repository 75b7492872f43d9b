/*
 * peakread.c - decodes and validates a snapshot's PEAK and TEMPS sections
 * (version 2; a version-1 file has neither):
 *
 *   PEAK  := hsnap_peak (40 bytes), hsnap_peak_item[count] (24 bytes each)
 *   TEMPS := u32 count, u32 reserved, u64 temps[count]
 *
 * PEAK's items become a per-trace hsnap_stat array (live fields only), so
 * that every command groups the peak with the code that groups live
 * memory (stats_add_values): `top --peak` is `top` on that array.
 * The shim writes what each trace held at the high-water mark
 * (the shim's peak_step says how near it is); TEMPS counts temporary allocations
 * per trace (heaptrack's rule, per thread: docs/usage.md).  peak_resident
 * reads how much of the peak's mapped bytes were touched, for the peak
 * that leaves an arena nothing touched out (docs/usage.md, "Memory
 * mapped outside malloc").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "peakread.h"

#define PEAK_HEAD 40u
#define PEAK_ITEM 24u
#define PEAK_MAX_SUM (1ull << 52) /* as the loader's bound on sums */

_Static_assert(sizeof(struct hsnap_peak) == PEAK_HEAD, "PEAK head size");
_Static_assert(sizeof(struct hsnap_peak_item) == PEAK_ITEM, "PEAK item size");

static int peak_items(struct snap *s, const uint8_t *p, uint32_t count, char *err, size_t errlen)
{
    uint64_t blocks = 0, bytes = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct hsnap_peak_item it;
        memcpy(&it, p + PEAK_HEAD + (size_t)i * PEAK_ITEM, sizeof(it));
        if (it.trace >= s->ntraces)
            return snap_section_fail(err, errlen, "PEAK", "item %u: trace id %u out of range (%u traces)",
                             i, it.trace, s->ntraces);
        if (i && it.trace <= s->peak_items_last)
            return snap_section_fail(err, errlen, "PEAK", "item %u: not sorted by trace id", i);
        s->peak_items_last = it.trace;
        if (it.bytes > PEAK_MAX_SUM || it.blocks > PEAK_MAX_SUM ||
            (blocks += it.blocks) > PEAK_MAX_SUM || (bytes += it.bytes) > PEAK_MAX_SUM)
            return snap_section_fail(err, errlen, "PEAK", "item %u: sums past %llu: damaged", i,
                             (unsigned long long)PEAK_MAX_SUM);
        s->peak_stats[it.trace].live_count = it.blocks;
        s->peak_stats[it.trace].live_bytes = it.bytes;
    }
    if (blocks != s->peak.blocks || bytes != s->peak.bytes)
        return snap_section_fail(err, errlen, "PEAK", "items add up to %llu blocks, %llu bytes; "
                         "the head says %llu, %llu", (unsigned long long)blocks,
                         (unsigned long long)bytes, (unsigned long long)s->peak.blocks,
                         (unsigned long long)s->peak.bytes);
    return 0;
}

int peak_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
    if (len < PEAK_HEAD)
        return snap_section_fail(err, errlen, "PEAK", "too short (%llu bytes)", (unsigned long long)len);
    memcpy(&s->peak, p, sizeof(s->peak));
    if (len != PEAK_HEAD + (uint64_t)s->peak.count * PEAK_ITEM)
        return snap_section_fail(err, errlen, "PEAK", "count %u does not match %llu payload bytes",
                         s->peak.count, (unsigned long long)len);
    if (s->peak.count > s->ntraces)
        return snap_section_fail(err, errlen, "PEAK", "%u items for %u traces", s->peak.count,
                         s->ntraces);
    if (snap_budget_take(&s->budget, (uint64_t)s->ntraces * sizeof(*s->peak_stats), "PEAK", err,
                         errlen) < 0)
        return -1;
    s->peak_stats = big_calloc(s->ntraces ? s->ntraces : 1, sizeof(*s->peak_stats));
    if (!s->peak_stats)
        return snap_section_fail(err, errlen, "PEAK", "out of memory");
    if (peak_items(s, p, s->peak.count, err, errlen) < 0)
        return -1;
    s->has_peak = 1;
    return 0;
}

int temps_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
    uint32_t count;
    if (len < 8)
        return snap_section_fail(err, errlen, "TEMPS", "too short (%llu bytes)", (unsigned long long)len);
    memcpy(&count, p, 4);
    if (len != 8 + (uint64_t)count * 8)
        return snap_section_fail(err, errlen, "TEMPS", "count %u does not match %llu payload bytes",
                         count, (unsigned long long)len);
    if (count != s->ntraces)
        return snap_section_fail(err, errlen, "TEMPS", "%u entries for %u traces", count, s->ntraces);
    if (snap_budget_take(&s->budget, (uint64_t)count * sizeof(*s->temps), "TEMPS", err,
                         errlen) < 0)
        return -1;
    s->temps = big_malloc((count ? count : 1) * sizeof(*s->temps));
    if (!s->temps)
        return snap_section_fail(err, errlen, "TEMPS", "out of memory");
    memcpy(s->temps, p + 8, (size_t)count * 8);
    for (uint32_t i = 0; i < count; i++)
        if (s->temps[i] > PEAK_MAX_SUM)
            return snap_section_fail(err, errlen, "TEMPS", "trace %u: %llu temporaries: damaged", i,
                             (unsigned long long)s->temps[i]);
    return 0;
}

const char *peak_missing_why(const struct snap *s)
{
    return s->peak_dropped ? "its PEAK section was damaged and dropped"
           : s->version < 2 ? "written by a heapsnap before format version 2"
                            : "written with HEAPSNAP_PEAK=off, or by heapsnap merge";
}

int peak_require(const struct snap *s, const char *path, char *err, size_t errlen)
{
    if (s->has_peak)
        return 0;
    snprintf(err, errlen, "%s: no peak in this snapshot (%s)", path, peak_missing_why(s));
    return -1;
}

int temps_require(const struct snap *s, const char *path, char *err, size_t errlen)
{
    if (s->temps)
        return 0;
    snprintf(err, errlen, "%s: no temporary allocations in this snapshot (%s)", path,
             s->version < 2 ? "written by a heapsnap before format version 2"
                            : "written by heapsnap merge, which keeps none");
    return -1;
}

int peak_split(const char *arg, char *path, size_t n)
{
    size_t len = strlen(arg);
    struct stat st;
    if (len >= n)
        return -1;
    memcpy(path, arg, len + 1);
    if (len > 5 && !strcmp(arg + len - 5, "@peak") && stat(arg, &st) != 0) {
        path[len - 5] = 0;
        return 1;
    }
    return 0;
}

uint64_t *peak_resident(const struct snap *s, uint64_t *untouched)
{
    *untouched = 0;
    if (!s->has_peak || !s->has_mapped || !s->resident || !s->peak_stats)
        return NULL;
    uint64_t *r = big_calloc(s->ntraces ? s->ntraces : 1, sizeof *r);
    if (!r)
        return NULL;
    for (uint32_t t = 0; t < s->ntraces; t++) {
        uint64_t at = s->peak_stats[t].live_bytes;
        if (!at || !(s->traces[t].flags & HSNAP_TRACE_MMAP))
            continue;
        r[t] = at;
        if (s->stats[t].live_bytes >= at && s->resident[t] < at)
            r[t] = s->resident[t];
        *untouched += at - r[t];
    }
    return r;
}
