/*
 * pygcfreedread.c - the PYGCFREED section (hsnap_format.h): per allocation
 * site, the Python objects CPython's cycle collector freed over the run,
 * and the interpreter's own collected count; checked whole before anyone
 * reads it (top --collected: gcfreed_add).
 */
#include <string.h>

#include "snap.h"

#define PYGCFREED_HEAD 24 /* u32 count, u32 reserved, u64 collected, u64 dropped */

int pygcfreed_decode(struct snap *s, const uint8_t *data, uint64_t len, char *err,
                     size_t errlen)
{
    uint32_t head[2];
    uint64_t sums[2];
    if (len < PYGCFREED_HEAD)
        return snap_section_fail(err, errlen, "PYGCFREED", "%llu bytes, want 24 at least",
                                 (unsigned long long)len);
    memcpy(head, data, sizeof head);
    memcpy(sums, data + sizeof head, sizeof sums);
    uint64_t rest = len - PYGCFREED_HEAD;
    if (rest % sizeof(struct hsnap_pygcfreed) || rest / sizeof(struct hsnap_pygcfreed) != head[0])
        return snap_section_fail(err, errlen, "PYGCFREED",
                                 "count %u does not match %llu payload bytes", head[0],
                                 (unsigned long long)rest);
    if (head[1])
        return snap_section_fail(err, errlen, "PYGCFREED", "reserved field %u, want 0", head[1]);
    const struct hsnap_pygcfreed *f = (const void *)(data + PYGCFREED_HEAD);
    for (uint32_t i = 0; i < head[0]; i++) {
        if (f[i].trace >= s->ntraces)
            return snap_section_fail(err, errlen, "PYGCFREED", "item %u names trace %u of %u",
                                     i, f[i].trace, s->ntraces);
        if (i && f[i].trace <= f[i - 1].trace)
            return snap_section_fail(err, errlen, "PYGCFREED",
                                     "item %u: traces not increasing", i);
        if (f[i].reserved)
            return snap_section_fail(err, errlen, "PYGCFREED", "item %u: reserved field %u", i,
                                     f[i].reserved);
        /* an object is 16 bytes at least; the sums stay far from overflow */
        if (!f[i].objects || f[i].objects > (1ull << 48) || f[i].bytes < 16 * f[i].objects ||
            f[i].bytes > (1ull << 56))
            return snap_section_fail(err, errlen, "PYGCFREED",
                                     "item %u: %llu objects in %llu bytes", i,
                                     (unsigned long long)f[i].objects,
                                     (unsigned long long)f[i].bytes);
    }
    s->has_gcfreed = 1;
    s->gcfreed = head[0] ? f : NULL;
    s->ngcfreed = head[0];
    s->gc_collected = sums[0];
    s->gc_dropped = sums[1];
    return 0;
}
