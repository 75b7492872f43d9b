/*
 * sitelineread.c - the SITELINE section read back: points of stride 32 + 16 *
 * nsites after a 32-byte head, each checked once (see siteline.h) so that
 * memline_build can index them without checks; and MAPLINE beside it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sitelineread.h"

#define SL_MAX_VALUE (1ull << 52) /* as SNAP_MAX_SUM: no heap is larger */

static int sl_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "section SITELINE: ");
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t sl_stride(uint32_t nsites)
{
    return sizeof(struct hsnap_siteline_point) + nsites * sizeof(struct hsnap_siteline_site);
}

const struct hsnap_siteline_point *siteline_point(const struct snap *s, uint32_t i)
{
    return (const struct hsnap_siteline_point *)(s->sl.points + i * sl_stride(s->sl.head.nsites));
}

const struct hsnap_siteline_site *siteline_sites(const struct snap *s, uint32_t i)
{
    return (const struct hsnap_siteline_site *)((const uint8_t *)siteline_point(s, i) +
                                                sizeof(struct hsnap_siteline_point));
}

/* Point i's sites: known traces, biggest first, unused slots empty. */
static int sl_check_sites(const struct snap *s, uint32_t i, uint64_t *sum, char *err,
                          size_t errlen)
{
    const struct hsnap_siteline_site *v = siteline_sites(s, i);
    for (uint32_t k = 0; k < s->sl.head.nsites; k++) {
        if (v[k].trace == HSNAP_SITELINE_NONE) {
            if (v[k].bytes)
                return sl_fail(err, errlen, "point %u: an empty site slot holds bytes", i);
            continue;
        }
        if (v[k].trace >= s->ntraces)
            return sl_fail(err, errlen, "point %u: trace id %u out of range (%u traces)", i,
                           v[k].trace, s->ntraces);
        if (v[k].bytes > SL_MAX_VALUE)
            return sl_fail(err, errlen, "point %u: %llu bytes: damaged", i,
                           (unsigned long long)v[k].bytes);
        if (k && v[k].bytes > v[k - 1].bytes)
            return sl_fail(err, errlen, "point %u: sites not biggest first", i);
        *sum += v[k].bytes;
    }
    return 0;
}

static int sl_check_point(const struct snap *s, uint32_t i, char *err, size_t errlen)
{
    const struct hsnap_siteline_point *pt = siteline_point(s, i);
    if (pt->heap > SL_MAX_VALUE || pt->rss > SL_MAX_VALUE || pt->other > SL_MAX_VALUE)
        return sl_fail(err, errlen, "point %u: a value past %llu bytes: damaged", i,
                       (unsigned long long)SL_MAX_VALUE);
    if (i && pt->t_ns < siteline_point(s, i - 1)->t_ns)
        return sl_fail(err, errlen, "point %u: earlier than the point before it", i);
    uint64_t sum = pt->other;
    if (sl_check_sites(s, i, &sum, err, errlen) < 0)
        return -1;
    if (sum != pt->heap)
        return sl_fail(err, errlen, "point %u: sites and other add up to %llu, heap is %llu", i,
                       (unsigned long long)sum, (unsigned long long)pt->heap);
    return 0;
}

/* MAPLINE's payload m[0..mlen) beside the points. */
static int sl_mapped_decode(struct snap *s, const uint8_t *m, uint64_t mlen, char *err,
                            size_t errlen)
{
    uint32_t head[2];
    uint64_t v;
    if (mlen < 8 || (memcpy(head, m, 8), head[0] != s->sl.head.count) || head[1] ||
        mlen != 8 + 8 * (uint64_t)head[0])
        return snap_section_fail(err, errlen, "MAPLINE", "%llu bytes, not %u points'",
                                 (unsigned long long)mlen, s->sl.head.count);
    for (uint32_t i = 0; i < head[0]; i++)
        if (memcpy(&v, m + 8 + 8 * (uint64_t)i, 8), v > siteline_point(s, i)->heap)
            return snap_section_fail(err, errlen, "MAPLINE", "point %u: %llu bytes, heap is %llu",
                                     i, (unsigned long long)v,
                                     (unsigned long long)siteline_point(s, i)->heap);
    s->sl.mapped = m + 8;
    return 0;
}

int siteline_kinds_known(const struct snap *s)
{
    if (s->sl.mapped)
        return 1;
    for (uint32_t t = 0; t < s->ntraces; t++)
        if (s->traces[t].flags & HSNAP_TRACE_MMAP)
            return 0;
    return 1;
}

uint64_t siteline_mapped(const struct snap *s, uint32_t i)
{
    uint64_t v = 0;
    if (s->sl.mapped)
        memcpy(&v, s->sl.mapped + 8 * (uint64_t)i, 8);
    return v;
}

int siteline_decode(struct snap *s, const uint8_t *p, uint64_t len, const uint8_t *m,
                    uint64_t mlen, char *err, size_t errlen)
{
    struct hsnap_siteline_head h;
    if (len < sizeof(h))
        return sl_fail(err, errlen, "too short (%llu bytes)", (unsigned long long)len);
    memcpy(&h, p, sizeof(h));
    if (h.nsites < 1 || h.nsites > HSNAP_SITELINE_MAX_SITES)
        return sl_fail(err, errlen, "%u sites per point (1 to %u)", h.nsites,
                       HSNAP_SITELINE_MAX_SITES);
    uint64_t want = sizeof(h) + (uint64_t)h.count * sl_stride(h.nsites);
    if (len != want)
        return sl_fail(err, errlen, "%llu bytes, %u points of %u sites need %llu",
                       (unsigned long long)len, h.count, h.nsites, (unsigned long long)want);
    s->sl.present = 1;
    s->sl.head = h;
    s->sl.points = p + sizeof(h);
    for (uint32_t i = 0; i < h.count; i++)
        if (sl_check_point(s, i, err, errlen) < 0 ||
            (i + 1 == h.count && m && sl_mapped_decode(s, m, mlen, err, errlen) < 0)) {
            memset(&s->sl, 0, sizeof(s->sl));
            return -1;
        }
    return 0;
}
