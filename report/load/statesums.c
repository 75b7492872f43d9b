/*
 * statesums.c - a state file's live figures without its stacks (state.h's
 * state_sums_read): what a live view that already knows the file's sites
 * needs on each look, read at the cost of the header page and the cells.
 *
 * state_load makes a whole snapshot of a state: it reads the document,
 * the frame tree and every trace's stack, and hands the lot to the
 * snapshot loader.  A scraper that looks every second at a process whose
 * sites it resolved on an earlier look needs none of that: the traces
 * are numbered once and only added to (hsnap_state.h), so while the
 * header names as many as the caller knows, the live sums come from the
 * cells, and the counters (allocations, frees, peak, failed allocations,
 * the reserved total) from the document's META, FAILED and MAPPED, read only when the published
 * document is another than the last one seen.  The header and the
 * document are read and checked by state_load's own steps
 * (state_header_check, state_doc_read), and what is read is charged to
 * the same budget, sized by the bytes in use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "hsnap_state.h"
#include "stateread.h"

#define SUMS_MAX_FAILED (1ull << 48) /* as the snapshot loader bounds a count */

static int sums_fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "state file: %s", why);
    return -1;
}

/* FAILED's payload p (plen bytes, plain) summed into *sum, its items
 * checked as the snapshot loader checks them against ntraces. */
static int sums_failed(const uint8_t *p, uint64_t plen, uint32_t ntraces, uint64_t *sum,
                       char *err, size_t errlen)
{
    uint32_t head[2];
    struct hsnap_failed f;
    if (plen < sizeof head)
        return sums_fail(err, errlen, "section FAILED: no count");
    memcpy(head, p, sizeof head);
    if ((plen - sizeof head) % sizeof f || (plen - sizeof head) / sizeof f != head[0] || head[1])
        return sums_fail(err, errlen, "section FAILED: its count does not match: damaged");
    for (uint32_t i = 0; i < head[0]; i++) {
        memcpy(&f, p + sizeof head + (uint64_t)i * sizeof f, sizeof f);
        if (f.trace >= ntraces || !f.count || f.count > SUMS_MAX_FAILED)
            return sums_fail(err, errlen, "section FAILED: an item is out of range: damaged");
        *sum += f.count;
    }
    return 0;
}

/* The document d (len bytes, its crc checked): META copied into s->meta,
 * FAILED (inflated when stored compressed) summed into s->failed, MAPPED's
 * head (the reserved address space) into s->mapped. */
static int sums_doc(const uint8_t *d, uint64_t len, struct snap_budget *b, struct state_sums *s,
                    char *err, size_t errlen)
{
    struct hsnap_section sec;
    int meta = 0;
    for (uint64_t at = sizeof(struct hsnap_header); at + sizeof sec <= len;) {
        memcpy(&sec, d + at, sizeof sec);
        if (sec.length > len - at - sizeof sec)
            return sums_fail(err, errlen, "its document's sections overrun it: damaged");
        const uint8_t *p = d + at + sizeof sec;
        at += sizeof sec + sec.length;
        if (sec.type == HSNAP_SEC_META && sec.length >= sizeof s->meta) {
            memcpy(&s->meta, p, sizeof s->meta);
            meta = 1;
        } else if ((sec.type & ~HSNAP_SEC_ZSTD) == HSNAP_SEC_FAILED) {
            uint8_t *raw = NULL;
            uint64_t rlen = sec.length;
            int r = 0;
            if (sec.type & HSNAP_SEC_ZSTD) {
                r = snap_section_inflate(p, sec.length, "FAILED", b, &raw, &rlen, err, errlen);
                p = raw;
            }
            if (r == 0)
                r = sums_failed(p, rlen, s->ntraces, &s->failed, err, errlen);
            free(raw);
            if (r != 0)
                return -1;
        } else if ((sec.type & ~HSNAP_SEC_ZSTD) == HSNAP_SEC_MAPPED) {
            uint8_t *raw = NULL;
            uint64_t rlen = sec.length;
            if ((sec.type & HSNAP_SEC_ZSTD) &&
                snap_section_inflate(p, sec.length, "MAPPED", b, &raw, &rlen, err, errlen) != 0)
                return -1;
            if (rlen < sizeof s->mapped) {
                free(raw);
                return sums_fail(err, errlen, "section MAPPED: no head: damaged");
            }
            memcpy(&s->mapped, raw ? raw : p, sizeof s->mapped);
            free(raw);
            if (s->mapped.reserved_bytes > (1ull << 52))
                return sums_fail(err, errlen, "section MAPPED: its reserved total is out of range");
            s->has_mapped = 1;
        }
    }
    return meta ? 0 : sums_fail(err, errlen, "its document has no META: damaged");
}

int state_sums_read(int fd, uint64_t doc_seen, struct state_sums *s, char *err, size_t errlen)
{
    struct stat sb;
    struct hsnap_state_head h;
    struct snap_budget b;
    char why[200];
    memset(s, 0, sizeof *s);
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return sums_fail(err, errlen, "cannot be looked at (not a regular file)");
    if (state_header_check(fd, &sb, &h, &b, err, errlen) != 0)
        return -1;
    const struct hsnap_state_doc *dd = &h.doc[h.doc_slot];
    s->ntraces = h.stacks_n;
    s->doc_id = (h.docs << 32 ^ (uint64_t)h.doc_slot << 31 ^ dd->crc32 ^ dd->len << 8) | 1;
    if (snap_budget_take(&b, (uint64_t)s->ntraces * 32, "its cells", why, sizeof why) < 0)
        return sums_fail(err, errlen, why);
    if (s->doc_id != doc_seen) {
        uint8_t *d = NULL;
        int r = state_doc_read(fd, &h, &b, &d, err, errlen);
        if (r == 0)
            r = sums_doc(d, dd->len, &b, s, err, errlen);
        free(d);
        if (r != 0)
            return -1;
        s->doc_read = 1;
    }
    int64_t (*acc)[2] = big_calloc((size_t)s->ntraces + 1, sizeof *acc);
    s->live = big_calloc((size_t)s->ntraces + 1, sizeof *s->live);
    if (!acc || !s->live || state_cells_read(fd, &h, acc, s->ntraces, &s->info.later_bytes) != 0) {
        const char *what = acc && s->live ? "cannot read its cells" : "out of memory";
        free(acc);
        state_sums_free(s);
        return sums_fail(err, errlen, what);
    }
    for (uint32_t i = 0; i < s->ntraces; i++) {
        state_live(acc[i], &s->live[i][0], &s->live[i][1]);
        s->blocks += s->live[i][0];
        s->bytes += s->live[i][1];
    }
    free(acc);
    state_info_fill(&h, &s->info); /* later_bytes stays */
    return 0;
}

void state_sums_free(struct state_sums *s)
{
    free(s->live);
    s->live = NULL;
}
