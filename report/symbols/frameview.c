/*
 * frameview.c - one view per snapshot a command expands (frameview.h):
 * its modules' registry indices, and its words' frame records in a table
 * (open addressing, a power of two, at most half full), so that each
 * distinct word is resolved and judged once per snapshot.  views[serial -
 * lo] belongs to the snapshot of that load serial: serials grow for the
 * process's life, and a process that loads without end (heapsnap serve)
 * resets between (frames_fini), so the array starts at the lowest serial
 * asked since.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dbgsym.h"
#include "frameview.h"
#include "judge.h"
#include "sym.h"
#include "tmlike.h"

static struct {
    struct frames_snap *snaps;
    size_t capsnaps;
    uint64_t lo;                   /* snaps[0]'s serial (0: none asked yet) */
} fv;

struct frames_snap *fview_of(const struct snap *s)
{
    size_t old = fv.capsnaps;
    if (s->serial == 0)
        return NULL;
    if (s->serial >= fv.lo && s->serial - fv.lo < old && fv.snaps[s->serial - fv.lo].traces)
        return &fv.snaps[s->serial - fv.lo]; /* made before: asked once a trace */
    if (!fv.lo)
        fv.lo = s->serial;
    if (s->serial < fv.lo) { /* older than every one asked: the array moves up */
        size_t shift = (size_t)(fv.lo - s->serial);
        if (grow_array((void **)&fv.snaps, &fv.capsnaps, old + shift, sizeof(*fv.snaps)) < 0)
            return NULL;
        memmove(fv.snaps + shift, fv.snaps, old * sizeof(*fv.snaps));
        memset(fv.snaps, 0, shift * sizeof(*fv.snaps));
        memset(fv.snaps + old + shift, 0, (fv.capsnaps - old - shift) * sizeof(*fv.snaps));
        fv.lo = s->serial;
        old = fv.capsnaps;
    }
    size_t at = (size_t)(s->serial - fv.lo);
    if (grow_array((void **)&fv.snaps, &fv.capsnaps, at + 1, sizeof(*fv.snaps)) < 0)
        return NULL;
    memset(fv.snaps + old, 0, (fv.capsnaps - old) * sizeof(*fv.snaps));
    struct frames_snap *v = &fv.snaps[at];
    if (v->traces)
        return v;
    int ok = (v->mods = calloc(s->nmodules + 1, sizeof(*v->mods))) &&
             (v->traces = big_calloc(s->ntraces + 1, sizeof(*v->traces)));
    for (uint32_t j = 0; ok && j < s->nmodules; j++)
        ok = (v->mods[j] = sym_module(&s->modules[j])) >= 0;
    if (ok && s->nmodules)
        dbg_program(s->modules[0].path); /* module 0: the main executable */
    if (!ok) {
        free(v->mods);
        free(v->traces);
        memset(v, 0, sizeof(*v));
        return NULL;
    }
    return v;
}

static size_t word_hash(uint64_t w, size_t cap)
{
    return (size_t)((w * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

/* Doubles v's word table; -1 when out of memory. */
static int words_grow(struct frames_snap *v)
{
    size_t cap = v->capwords ? v->capwords * 2 : 1024;
    struct word_slot *w = big_malloc(cap * sizeof(*w));
    if (!w)
        return -1;
    for (size_t i = 0; i < cap; i++)
        w[i].n = -1;
    for (size_t i = 0; i < v->capwords; i++) {
        if (v->words[i].n < 0)
            continue;
        size_t k = word_hash(v->words[i].w, cap);
        while (w[k].n >= 0)
            k = (k + 1) & (cap - 1);
        w[k] = v->words[i];
    }
    free(v->words);
    v->words = w;
    v->capwords = cap;
    return 0;
}

/* heapsnap's own library: its frames (the thread-start wrapper under every
 * thread's start routine) are never part of the user's stack. */
int fview_is_self(int mod)
{
    return strncmp(sym_module_base(mod), "libheapsnap", 11) == 0;
}

/* The records of word w of snapshot s: a Python frame's, or the return
 * address's (none for the shim's own); how many, or -1. */
static int word_resolve(const struct snap *s, const struct frames_snap *v, uint32_t ti,
                        uint64_t w, struct frec *const **out)
{
    if (HSNAP_IS_PYFRAME(w)) {
        int line;
        const struct snap_pycode *c = pycode_of_word(s, w, &line);
        return frec_python(c->file, c->qualname, line, w, out) < 0 ? -1 : 1;
    }
    const struct snap_module *m = snap_module_in(s, ti, w);
    int32_t mod = m ? v->mods[m - s->modules] : -1;
    if (mod >= 0 && fview_is_self(mod)) {
        *out = NULL;
        return 0;
    }
    return frec_native(mod, m ? w - m->bias : w, w, out);
}

/* 1 when the module of w depends on the trace (an unloaded module's range
 * holds it: UNLOADED's rule, hsnap_format.h): such a word is not cached. */
static int word_of_era(const struct snap *s, uint64_t w)
{
    for (uint32_t i = 0; !HSNAP_IS_PYFRAME(w) && i < s->nmodules; i++)
        if ((s->modules[i].flags & HSNAP_MODULE_UNLOADED) && w >= s->modules[i].lo &&
            w < s->modules[i].hi)
            return 1;
    return 0;
}

int fview_word(const struct snap *s, struct frames_snap *v, uint32_t ti, uint64_t w,
               struct frec *const **out, int *era)
{
    *era = 0;
    if (v->capwords) {
        for (size_t k = word_hash(w, v->capwords); v->words[k].n >= 0; k = (k + 1) & (v->capwords - 1))
            if (v->words[k].w == w) {
                *out = v->words[k].recs;
                return v->words[k].n;
            }
    }
    int n = word_resolve(s, v, ti, w, out);
    for (int i = 0; i < n; i++)
        if (judge_frame((*out)[i]) < 0)
            return -1;
    if (n >= 0 && (*era = word_of_era(s, w)))
        return n;
    if (n < 0 || ((v->nwords + 1) * 2 > v->capwords && words_grow(v) < 0))
        return -1;
    size_t k = word_hash(w, v->capwords);
    while (v->words[k].n >= 0)
        k = (k + 1) & (v->capwords - 1);
    v->words[k] = (struct word_slot){w, *out, n};
    v->nwords++;
    return n;
}

static void fview_free(struct frames_snap *v)
{
    free(v->mods);
    free(v->traces);
    free(v->words);
    free(v->chains[0]);
    free(v->chains[1]);
    free(v->haspy);
    tmlike_free(v->tm);
    memset(v, 0, sizeof(*v));
}

void fview_forget(const struct snap *s)
{
    if (s->serial >= fv.lo && s->serial - fv.lo < fv.capsnaps)
        fview_free(&fv.snaps[s->serial - fv.lo]);
}

void fview_fini(void)
{
    for (size_t i = 0; i < fv.capsnaps; i++)
        fview_free(&fv.snaps[i]);
    free(fv.snaps);
    memset(&fv, 0, sizeof(fv));
}
