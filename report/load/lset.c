/*
 * lset.c - decodes and validates a snapshot's LEAKS and RETAINERS
 * sections; the reader trusts nothing:
 *
 *   LEAKS := hsnap_leaks_head                    40 bytes
 *            hsnap_leak_total[nclass]            16 bytes each, by class
 *            hsnap_leak_record[nrecords]         56 bytes each
 *            u32 member[nmembers]                BLOCKS indices
 *   RETAINERS := u32 count, u32 reserved, hsnap_retainer[count] (40 bytes)
 *   HOLDERS   := hsnap_holders_head (24), hsnap_hold[nblocks] (8 each),
 *                u64 root_at[nroot], hsnap_hold_in[ninterior] (8 each),
 *                hsnap_hold_range[nranges] (48 each), hsnap_hold_tls[ntls] (24)
 *
 * A length must be exactly the sum (in 64 bits, from 32-bit counts); for
 * RETAINERS, traces in range, known kinds and the promised sort order (so
 * that readers may binary-search it).  Totals of classes this reader does
 * not know are ignored, missing ones read as 0.  Records and members stay
 * in the file buffer (packed: members are read through memcpy), so a
 * snapshot with a million-block ring costs no copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lset.h"

#define LSET_HEAD 40u
#define LSET_TOTAL 16u
#define LSET_RECORD 56u
#define LSET_RETAINER 40u

_Static_assert(sizeof(struct hsnap_leaks_head) == LSET_HEAD, "LEAKS head size");
_Static_assert(sizeof(struct hsnap_leak_total) == LSET_TOTAL, "LEAKS total size");
_Static_assert(sizeof(struct hsnap_leak_record) == LSET_RECORD, "LEAKS record size");
_Static_assert(sizeof(struct hsnap_retainer) == LSET_RETAINER, "RETAINERS item size");
_Static_assert(sizeof(struct hsnap_holders_head) == 24, "HOLDERS head size");
_Static_assert(sizeof(struct hsnap_hold) == 8, "HOLDERS item size");
_Static_assert(sizeof(struct hsnap_hold_in) == 8, "HOLDERS interior item size");
_Static_assert(sizeof(struct hsnap_hold_range) == 48, "HOLDERS range size");
_Static_assert(sizeof(struct hsnap_hold_tls) == 24, "HOLDERS TLS item size");

const char *lset_absent_why(const struct snap *s)
{
    if (s->meta.reason == HSNAP_REASON_FATAL)
        return "no leak check: the snapshot was written at a fatal signal (the program "
               "crashed, and no leak check runs in a crashing process)";
    if (s->meta.flags & HSNAP_META_CUT_SHORT && s->state_live)
        return "no leak check: the process still runs, and its state file has no block "
               "list: the leak check runs at its exit, or with HEAPSNAP_SIGNAL";
    if (s->meta.flags & HSNAP_META_CUT_SHORT)
        return "no leak check: the process was killed, and what it left (a state file) has "
               "no block list: the leak check runs at exit, or with HEAPSNAP_SIGNAL";
    if (s->meta.flags & HSNAP_META_LSAN_CHECKED)
        return "no leak check at exit: the program's __lsan_do_leak_check() ran it earlier "
               "(see its snapshot, reason lsan)";
    if ((s->meta.flags & (HSNAP_META_LEAKS_SKIPPED | HSNAP_META_LEAKS_FAILED)) ==
        (HSNAP_META_LEAKS_SKIPPED | HSNAP_META_LEAKS_FAILED))
        return "the leak check gave no answer: it ran out of memory, or its copy of the "
               "process ended without one (the program's run warned which)";
    if (s->meta.flags & HSNAP_META_LEAKS_SKIPPED)
        return "the leak check was skipped: a thread could not be stopped (it blocks the "
               "stop signal), and the check could not run on a fork of the process "
               "(HEAPSNAP_LEAK_FORK=0, or the fork failed)";
    if (s->meta.flags & HSNAP_META_LSAN_OFF)
        return "no leak check at exit: the program's __lsan_is_turned_off() turned it off";
    return "no leak check in this snapshot (run with --leaks or HEAPSNAP_LEAKS=1)";
}

int lset_require(const struct snap *s, const char *path, char *err, size_t errlen)
{
    if (s->lk.present)
        return 0;
    snprintf(err, errlen, "%s: %s", path, lset_absent_why(s));
    return -1;
}

uint32_t lset_member(const struct snap *s, uint32_t i)
{
    uint32_t v;
    memcpy(&v, s->lk.members + (size_t)i * 4, 4);
    return v;
}

static int lset_check_members(const struct snap *s, uint32_t k,
                              const struct hsnap_leak_record *r, char *err, size_t errlen)
{
    if ((uint64_t)r->members_off + r->nmembers > s->lk.head.nmembers)
        return snap_section_fail(err, errlen, "LEAKS", "record %u: members %u+%u beyond the %u stored", k,
                         r->members_off, r->nmembers, s->lk.head.nmembers);
    if (r->nmembers == 0)
        return snap_section_fail(err, errlen, "LEAKS", "record %u: a cycle without members", k);
    for (uint32_t i = 0; i < r->nmembers; i++) {
        uint32_t m = lset_member(s, r->members_off + i);
        if (m >= s->nblocks)
            return snap_section_fail(err, errlen, "LEAKS", "record %u: member %u is block %u (%llu blocks)", k,
                             i, m, (unsigned long long)s->nblocks);
        if (s->blocks[m].cls != HSNAP_CLASS_CYCLE)
            return snap_section_fail(err, errlen, "LEAKS", "record %u: member block %u is not in a cycle", k, m);
    }
    return 0;
}

static int lset_check_record(const struct snap *s, uint32_t k, char *err, size_t errlen)
{
    const struct hsnap_leak_record *r = &s->lk.records[k];
    if (r->root >= s->nblocks)
        return snap_section_fail(err, errlen, "LEAKS", "record %u: root block %u out of range (%llu blocks)",
                         k, r->root, (unsigned long long)s->nblocks);
    if (r->cls != HSNAP_CLASS_DIRECT && r->cls != HSNAP_CLASS_CYCLE)
        return snap_section_fail(err, errlen, "LEAKS", "record %u: class %u is not direct or cycle", k, r->cls);
    if (s->blocks[r->root].cls != r->cls)
        return snap_section_fail(err, errlen, "LEAKS", "record %u: class %u, its root block's is %u", k,
                         r->cls, s->blocks[r->root].cls);
    if (r->ref_min > r->ref_max)
        return snap_section_fail(err, errlen, "LEAKS", "record %u: refcount range %u..%u is backwards", k,
                         r->ref_min, r->ref_max);
    if (r->cls == HSNAP_CLASS_DIRECT) {
        if (r->nmembers)
            return snap_section_fail(err, errlen, "LEAKS", "record %u: a direct leak with %u members", k,
                             r->nmembers);
        return 0;
    }
    return lset_check_members(s, k, r, err, errlen);
}

int lset_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
    struct hsnap_leaks_head h;
    if (len < LSET_HEAD)
        return snap_section_fail(err, errlen, "LEAKS", "too short (%llu bytes)", (unsigned long long)len);
    memcpy(&h, p, LSET_HEAD);
    uint64_t want = LSET_HEAD + (uint64_t)LSET_TOTAL * h.nclass +
                    (uint64_t)LSET_RECORD * h.nrecords + 4ull * h.nmembers;
    if (want != len)
        return snap_section_fail(err, errlen, "LEAKS", "%llu bytes, its counts (%u classes, %u records, "
                         "%u members) need %llu", (unsigned long long)len, h.nclass,
                         h.nrecords, h.nmembers, (unsigned long long)want);
    if (!s->has_blocks)
        return snap_section_fail(err, errlen, "LEAKS", "present without a BLOCKS section");
    memset(&s->lk, 0, sizeof(s->lk));
    s->lk.head = h;
    uint32_t known = h.nclass < SNAP_NCLASS ? h.nclass : SNAP_NCLASS;
    memcpy(s->lk.total, p + LSET_HEAD, (size_t)known * LSET_TOTAL);
    const uint8_t *q = p + LSET_HEAD + (uint64_t)LSET_TOTAL * h.nclass;
    s->lk.records = (const struct hsnap_leak_record *)q;
    s->lk.members = q + (uint64_t)LSET_RECORD * h.nrecords;
    s->lk.present = 1;
    for (uint32_t k = 0; k < h.nrecords; k++)
        if (lset_check_record(s, k, err, errlen) < 0) {
            memset(&s->lk, 0, sizeof(s->lk));
            return -1;
        }
    return 0;
}

/* -1, 0, 1 as a sorts before, equals, after b in (target, kind, source). */
static int ret_cmp(const struct hsnap_retainer *a, const struct hsnap_retainer *b)
{
    if (a->target_trace != b->target_trace)
        return a->target_trace < b->target_trace ? -1 : 1;
    if (a->source_kind != b->source_kind)
        return a->source_kind < b->source_kind ? -1 : 1;
    if (a->source_trace != b->source_trace)
        return a->source_trace < b->source_trace ? -1 : 1;
    return 0;
}

static int ret_check(const struct snap *s, const struct hsnap_retainer *v, uint32_t i,
                     char *err, size_t errlen)
{
    const struct hsnap_retainer *r = &v[i];
    if (r->target_trace >= s->ntraces)
        return snap_section_fail(err, errlen, "RETAINERS", "item %u: target trace %u out of range (%u traces)", i,
                        r->target_trace, s->ntraces);
    if (r->source_kind > HSNAP_RET_MAPPED)
        return snap_section_fail(err, errlen, "RETAINERS", "item %u: unknown source kind %u", i, r->source_kind);
    if (r->source_kind == HSNAP_RET_BLOCK && r->source_trace >= s->ntraces)
        return snap_section_fail(err, errlen, "RETAINERS", "item %u: source trace %u out of range (%u traces)", i,
                        r->source_trace, s->ntraces);
    if (r->source_kind != HSNAP_RET_BLOCK && r->source_trace != 0)
        return snap_section_fail(err, errlen, "RETAINERS", "item %u: a root source with trace %u", i,
                        r->source_trace);
    if (i && ret_cmp(&v[i - 1], r) >= 0)
        return snap_section_fail(err, errlen, "RETAINERS", "item %u: not sorted, or a duplicate", i);
    return 0;
}

int lset_decode_retainers(struct snap *s, const uint8_t *p, uint64_t len, char *err,
                          size_t errlen)
{
    uint32_t n;
    if (len < 8)
        return snap_section_fail(err, errlen, "RETAINERS", "too short (%llu bytes)", (unsigned long long)len);
    memcpy(&n, p, 4);
    if (len != 8 + (uint64_t)LSET_RETAINER * n)
        return snap_section_fail(err, errlen, "RETAINERS", "%llu bytes, count %u needs %llu",
                        (unsigned long long)len, n,
                        (unsigned long long)(8 + (uint64_t)LSET_RETAINER * n));
    const struct hsnap_retainer *v = (const struct hsnap_retainer *)(p + 8);
    for (uint32_t i = 0; i < n; i++)
        if (ret_check(s, v, i, err, errlen) < 0)
            return -1;
    s->retainers = n ? v : NULL;
    s->nretainers = n;
    return 0;
}

int lset_decode_holders(struct snap *s, const uint8_t *p, uint64_t len, char *err,
                        size_t errlen)
{
    struct hsnap_holders_head h;
    if (len < sizeof h)
        return snap_section_fail(err, errlen, "HOLDERS", "too short (%llu bytes)",
                                 (unsigned long long)len);
    memcpy(&h, p, sizeof h);
    uint64_t need = sizeof h + 8ull * h.nblocks + 8ull * h.nroot + 8ull * h.ninterior +
                    48ull * h.nranges + 24ull * h.ntls;
    if (len != need)
        return snap_section_fail(err, errlen, "HOLDERS", "%llu bytes, its counts need %llu",
                                 (unsigned long long)len, (unsigned long long)need);
    if (h.nblocks != s->nblocks)
        return snap_section_fail(err, errlen, "HOLDERS", "%u items for %llu blocks", h.nblocks,
                                 (unsigned long long)s->nblocks);
    /* a section's payload is only 4-aligned in the file: its u64s are read
     * from an aligned copy */
    uint8_t *copy = malloc(len);
    if (!copy)
        return snap_section_fail(err, errlen, "HOLDERS", "out of memory");
    memcpy(copy, p, len);
    s->hold_buf = copy;
    p = copy;
    const struct hsnap_hold *v = (const struct hsnap_hold *)(p + sizeof h);
    for (uint32_t i = 0; i < h.nblocks; i++)
        if (v[i].from == HSNAP_HOLD_ROOT ? v[i].aux >= h.nroot
                                         : v[i].from >= h.nblocks && v[i].from != HSNAP_HOLD_NONE)
            return snap_section_fail(err, errlen, "HOLDERS", "item %u: from %u (aux %u), beyond "
                                     "the %u blocks or %u root words", i, v[i].from, v[i].aux,
                                     h.nblocks, h.nroot);
    const uint64_t *at = (const uint64_t *)(v + h.nblocks);
    const struct hsnap_hold_in *in = (const struct hsnap_hold_in *)(at + h.nroot);
    for (uint32_t i = 0; i < h.ninterior; i++)
        if (in[i].block >= h.nblocks || (i && in[i].block <= in[i - 1].block))
            return snap_section_fail(err, errlen, "HOLDERS", "interior item %u: block %u out of "
                                     "range or order", i, in[i].block);
    const struct hsnap_hold_range *r = (const struct hsnap_hold_range *)(in + h.ninterior);
    for (uint32_t i = 0; i < h.nranges; i++)
        if (r[i].kind < HSNAP_RET_DATA || r[i].kind > HSNAP_RET_MAPPED || r[i].lo > r[i].hi)
            return snap_section_fail(err, errlen, "HOLDERS", "range %u: kind %u, [%#llx, %#llx)",
                                     i, r[i].kind, (unsigned long long)r[i].lo,
                                     (unsigned long long)r[i].hi);
    s->hold = h.nblocks ? v : NULL;
    s->hold_at = at;
    s->hold_in = in;
    s->nhold_in = h.ninterior;
    s->hold_ranges = r;
    s->nhold_ranges = h.nranges;
    s->hold_tls = (const struct hsnap_hold_tls *)(r + h.nranges);
    s->nhold_tls = h.ntls;
    return 0;
}
