/*
 * threadsread.c - THREADS read into a snapshot: the threads that
 * allocated (tid, comm, ended, main) and each trace's thread, checked
 * once here (record size, length, every index a record's) so that
 * snap_thread_of answers without checks.  A file without THREADS (older
 * than it, or of a program that never interned a stack) has no thread
 * known: has_threads stays 0.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "snap.h"

#define THR_FAIL(...) snap_section_fail(err, errlen, "THREADS", __VA_ARGS__)

int snap_threads_decode(struct snap *s, const uint8_t *data, uint64_t len, char *err,
                        size_t errlen)
{
    struct hsnap_threads_head h;
    if (len < sizeof h)
        return THR_FAIL("%llu bytes, want at least %zu", (unsigned long long)len, sizeof h);
    memcpy(&h, data, sizeof h);
    if (h.record_size != sizeof(struct hsnap_thread))
        return THR_FAIL("records of %u bytes, want %zu", h.record_size,
                        sizeof(struct hsnap_thread));
    if (h.ntraces > s->ntraces) /* fewer: a state file's traces born since its document */
        return THR_FAIL("names %u traces, TRACES has %u", h.ntraces, s->ntraces);
    if (len != sizeof h + (uint64_t)h.count * sizeof(struct hsnap_thread) + 2ull * h.ntraces)
        return THR_FAIL("%u records and %u traces do not match %llu bytes", h.count, h.ntraces,
                        (unsigned long long)len);
    if (h.count > HSNAP_THREAD_NONE)
        return THR_FAIL("%u records, more than indexes can name", h.count);
    s->threads = malloc((h.count ? h.count : 1) * sizeof *s->threads);
    s->trace_thread = big_malloc((s->ntraces ? s->ntraces : 1) * sizeof *s->trace_thread);
    if (!s->threads || !s->trace_thread)
        return THR_FAIL("out of memory");
    const uint8_t *p = data + sizeof h;
    memcpy(s->threads, p, (size_t)h.count * sizeof *s->threads);
    memcpy(s->trace_thread, p + (size_t)h.count * sizeof *s->threads,
           (size_t)h.ntraces * sizeof *s->trace_thread);
    for (uint32_t ti = h.ntraces; ti < s->ntraces; ti++)
        s->trace_thread[ti] = HSNAP_THREAD_NONE;
    for (uint32_t i = 0; i < h.count; i++) {
        struct hsnap_thread *t = &s->threads[i];
        if (t->index >= HSNAP_THREAD_NONE || (i && t->index <= s->threads[i - 1].index))
            return THR_FAIL("record %u: index %u out of order", i, t->index);
        t->name[HSNAP_THREAD_NAME - 1] = 0;
        for (int k = 0; t->name[k]; k++)
            if ((unsigned char)t->name[k] < 0x20 || t->name[k] == 0x7f)
                t->name[k] = '?'; /* a name is printed as it is: no control bytes */
    }
    s->nthreads = h.count;
    for (uint32_t ti = 0; ti < h.ntraces; ti++) {
        uint16_t v = s->trace_thread[ti];
        if (v == HSNAP_THREAD_NONE)
            continue;
        uint32_t r = snap_thread_record(s, v);
        if (r == UINT32_MAX)
            return THR_FAIL("trace %u names thread %u, which has no record", ti, v);
        s->trace_thread[ti] = (uint16_t)r;
    }
    s->has_threads = 1;
    return 0;
}

uint32_t snap_thread_record(const struct snap *s, uint32_t index)
{
    uint32_t lo = 0, hi = s->nthreads;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->threads[mid].index == index)
            return mid;
        if (s->threads[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return UINT32_MAX;
}

const struct hsnap_thread *snap_thread_of(const struct snap *s, uint32_t ti)
{
    if (!s->has_threads || ti >= s->ntraces || s->trace_thread[ti] == HSNAP_THREAD_NONE)
        return NULL;
    return &s->threads[s->trace_thread[ti]];
}
