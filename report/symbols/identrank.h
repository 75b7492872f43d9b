/*
 * identrank.h - idents ranked by their texts, so that two stacks'
 * identities (frames_id: their frames' ident texts from the first frame
 * outward) compare by integers in the order strcmp gives the texts.
 *
 * A sort of a big snapshot's stacks by identity (an export's ties, the
 * leak records' ties) followed every frame of both stacks to its record
 * and its text at each compare: a cache miss a frame, n log n times.  The
 * idents met are ranked once (memcmp's order of their texts, a text before
 * those it begins); a compare then reads two runs of idents and the rank
 * of the first pair that differs.  Where one of those two texts begins the
 * other, the order depends on what follows in the whole identities: the
 * caller compares those (identrank_cmp says so).
 */
#ifndef REPORT_IDENTRANK_H
#define REPORT_IDENTRANK_H

#include <stddef.h>
#include <stdint.h>

struct identrank {
    uint32_t *of;      /* by ident: its rank + 1 (0: not noted) */
    size_t capof;
    uint32_t *ext;     /* by rank: the last rank whose text begins with this one's */
    size_t n;          /* idents noted */
    int made;          /* identrank_make ran */
};

/* Notes ident (not FRAMES_NO_IDENT) for identrank_make: 0, or -1 when out of memory. */
int identrank_note(struct identrank *r, uint32_t ident);

/* Ranks the idents noted by their texts (text: frec_ident_text, or a
 * test's): 0, or -1 when out of memory. */
int identrank_make(struct identrank *r, const char *(*text)(uint32_t ident));

#define IDENTRANK_WHOLE 2 /* identrank_cmp: compare the whole identities */

/* strcmp's sign for the identities of the stacks whose idents (from the
 * first frame outward) are a[0..na) and b[0..nb), every one noted; or
 * IDENTRANK_WHOLE. */
static inline int identrank_cmp(const struct identrank *r, const uint32_t *a, size_t na,
                                const uint32_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == b[i]) /* one ident, one text */
            continue;
        uint32_t x = r->of[a[i]] - 1, y = r->of[b[i]] - 1;
        uint32_t lo = x < y ? x : y, hi = x < y ? y : x;
        if (hi <= r->ext[lo]) /* lo's text begins hi's */
            return IDENTRANK_WHOLE;
        return x < y ? -1 : 1;
    }
    return (na > n) - (nb > n);
}

void identrank_free(struct identrank *r);

#endif
