/*
 * cfichecks.c - the list of words an exact repeat of a memo's walk must
 * find again (cfi_memo_checks), made from its states the first time a
 * walk starts where the memo did, and laid out for the compare: adjacent
 * words as pairs, pairs of pairs, the rest flat (cfi_memo_pairs).  The
 * memo's layout, and why the list makes a repeat exact: cfimemo.h; the
 * compare itself: cfisame.h; the memos: cfi.c.
 */
#include "cfimemo.h"
#include "unwindinner.h"

/* The pairs, then the checks (the arena's blocks are 16-aligned). */
static struct cfi_pair *cfi_memo_pair(const struct cfi_memo *m, unsigned cap)
{
    return (struct cfi_pair *)((char *)m + cfi_memo_chk_at(cap));
}

static struct cfi_check *cfi_memo_chk(const struct cfi_memo *m, unsigned cap)
{
    return (struct cfi_check *)(cfi_memo_pair(m, cap) + m->npair);
}

#define CFI_SINGLES 8 /* checks cfi_memo_pairs sets aside; past them the rest stays flat */

/* The flat list of nk checks at k, which cfi_memo_checks made, becomes
 * pairs first and the checks left after them: two checks of adjacent
 * words (the list has a frame's return address and then its saved rbp,
 * the word below, next to each other) are one pair, in place (a pair takes the room of
 * the two checks it is made of, at or before where they were).  Every
 * word is compared all the same; only the order changes, which the result
 * does not depend on.  Past CFI_SINGLES unpaired checks (frames without a
 * frame pointer: a Python interpreter's) the rest of the list is left flat
 * after the pairs found so far, the singles set aside put back before it;
 * the compare is then four instructions a check, where the step-by-step
 * compare (cfi_still) that a lost list fell back to was about thirteen. */
static void cfi_memo_pairs(struct cfi_memo *m, struct cfi_check *k, unsigned nk)
{
    struct cfi_check single[CFI_SINGLES];
    struct cfi_pair *p = (struct cfi_pair *)(void *)k;
    unsigned np = 0, ns = 0, i = 0;
    int flat = 0;
    while (i < nk) {
        const struct cfi_check *lo = NULL, *hi = NULL;
        if (i + 1 < nk && k[i + 1].at == k[i].at + 8)
            lo = &k[i], hi = &k[i + 1];
        else if (i + 1 < nk && k[i].at == k[i + 1].at + 8) /* the usual order */
            lo = &k[i + 1], hi = &k[i];
        if (lo) {
            struct cfi_pair x = {{lo->val, hi->val}, lo->at, 0};
            p[np++] = x; /* over k[2 np - 2, 2 np), both already read */
            i += 2;
        } else if (ns < CFI_SINGLES) {
            single[ns++] = k[i++];
        } else {
            flat = 1; /* k[i, nk) stays where it is */
            break;
        }
    }
    /* The singles go back right after the pairs: k[2 np, 2 np + ns), the
     * room of the checks read so far that are not in pairs (with flat,
     * 2 np + ns == i, so the list runs on unbroken to k[nk]). */
    struct cfi_check *q = k + 2 * (size_t)np;
    for (unsigned j = 0; j < ns; j++)
        q[j] = single[j];
    struct cfi_check *end = flat ? k + nk : q + ns;
    if (np & 1) { /* an odd pair out: its two words go back to the checks, in its place */
        np--;
        struct cfi_pair x = p[np];
        struct cfi_check *o = (struct cfi_check *)(void *)(p + np);
        o[0] = (struct cfi_check){x.at, x.val[0]};
        o[1] = (struct cfi_check){x.at + 8, x.val[1]};
    }
    struct cfi_check *rest = (struct cfi_check *)(void *)(p + np);
    struct cfi_pair2 *p2 = (struct cfi_pair2 *)(void *)p;
    for (unsigned j = 0; j < np / 2; j++) { /* in place: two pairs, one cfi_pair2 */
        struct cfi_pair a = p[2 * j], b = p[2 * j + 1];
        p2[j] = (struct cfi_pair2){{a.val[0], a.val[1], b.val[0], b.val[1]}, {a.at, b.at}, {0, 0}};
    }
    m->npair = np;
    m->nchk = (unsigned)(end - rest);
    m->pair = p2;
    m->pair_end = p2 + np / 2;
    m->chk_end = end;
    m->cmp = flat ? CFI_CMP_FLAT : np / 2 > 1 ? CFI_CMP_PAIRS : CFI_CMP_INLINE;
}

/* The words a walk from m's first state must find again to give m's
 * frames exactly, as a flat list (what cfi_still compares step by step,
 * without its branches): each step's return address word and, for a CFA
 * based on rbp, that state's rbp, once per load of rbp - the register
 * itself (rbp0) or the word a step loaded it from.  A saved rbp no later
 * CFA uses is not compared (its value changes nothing), and the saved-rbp
 * slot's bound (lo) is what it was when the walk was recorded, since the
 * first state's rsp must be.  The return address words are listed too,
 * rather than derived from the states (half the memory, but no faster). */
void cfi_memo_checks(struct cfi_memo *m, unsigned cap)
{
    m->npair = 0;
    struct cfi_check *k = cfi_memo_chk(m, cap), *kp = k;
    const struct cfi_check *kend = k + cfi_memo_checks_max(cap);
    uintptr_t from = 0; /* where rbp was last loaded from; 0: the register */
    int checked = 0;
    m->rbp_mask = 0;
    m->nchk = CFI_CHECKS_NONE;
    m->cmp = CFI_CMP_LIST; /* until cfi_memo_pairs: compared step by step */
    /* A state adds two checks at most: the first (kend - k) / 2 states
     * without a test of the room left. */
    const struct cfi_state *s = m->st, *send = m->st + m->n;
    const struct cfi_state *sure = m->st + ((size_t)(kend - k) / 2 < m->n ? (size_t)(kend - k) / 2 : m->n);
    for (; s < send; s++) {
        uintptr_t how = s->how;
        if (s >= sure && kend - kp < 2)
            return;
        if (HS_UNLIKELY(how & CFI_HOW_CFA_RBP) && !checked) {
            if (from) {
                *kp++ = (struct cfi_check){from, s->rbp};
            } else {
                m->rbp_mask = ~(uintptr_t)0;
                m->rbp0 = s->rbp;
            }
            checked = 1;
        }
        *kp++ = (struct cfi_check){s[1].rsp - 8, s[1].key};
        if (how & ~CFI_HOW_CFA_RBP) {
            from = how & ~CFI_HOW_CFA_RBP;
            checked = 0;
        }
    }
    cfi_memo_pairs(m, k, (unsigned)(kp - k));
}
