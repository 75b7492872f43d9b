/*
 * recent.c - the thread's walk of its Python frames, and its recent
 * splices: (native stack's name, Python frames) -> trace id, so that a
 * Python stack met again costs one walk of its Python frames, and no
 * native frame is copied, scanned or interned (pyfr_again).  The
 * walk is made once an allocation (pyfr_again's, then pyfr_trace's) and
 * stops at the frames a splice can write.  A native stack's name
 * (UNWIND_NAME_FRAMES | its number in native.c) stands for its frames for
 * good, so an answer holds forever.  Two tables per thread, from the arena
 * at the first walk, each 2-way set-associative, the least recent out:
 *
 *   contexts  (name, walk limit, whether frames lie beyond the walk, entry
 *             flags, the words of every frame but the innermost) -> a serial,
 *             given anew when a context takes a place
 *   splices   (serial, the innermost frame's word) -> trace id
 *
 * The serials' wrap empties both tables.  Chains of more than PY_CHAIN_MAX
 * frames, or with a frame whose code cannot be kept, are not kept.
 */
#include <string.h>

#include "pyframes.h"

#define PY_CTX_SETS 64u    /* x 2 contexts (power of two) */
#define PY_DONE_SETS 2048u /* x 2 splices (power of two) */

struct pyfr_ctx {
    uint64_t hash;         /* pyfr_walk's, with the name's */
    uint32_t serial;       /* 0: empty */
    uint32_t name, n, lim; /* the native stack's name; Python frames; the walk's limit */
    uint32_t more;         /* frames beyond the walk */
    uint64_t entry;        /* pyfr_walk's entry flags */
    uint64_t w[PY_CHAIN_MAX - 1]; /* the words of frames 1 .. n - 1 */
};

struct pyfr_done {
    uint32_t serial, id;   /* serial 0: empty */
    uint64_t w0;           /* the innermost frame's word (0: no frame) */
};

struct pyfr_recent {
    struct pyfr_walk walk[2]; /* the last walk (pyfr_again) and the one before */
    unsigned last;          /* walk[last] is the last */
    struct pyfr_ctx ctx[PY_CTX_SETS][2];
    uint8_t ctx_mru[PY_CTX_SETS]; /* the most recent context of each set: 0 or 1 */
    struct pyfr_done done[PY_DONE_SETS][2];
    uint32_t serials;      /* given so far */
    unsigned gen;          /* pyfr_frames_gen when it was last emptied */
};

static __thread struct pyfr_recent *pyfr_rec; /* NULL: none (yet) */
static __thread int pyfr_rec_off;           /* none for good (ended, no memory) */

/* The tables emptied (the walk kept), serials from 0. */
static void pyfr_recent_empty(struct pyfr_recent *r)
{
    memset(r->ctx, 0, sizeof r->ctx);
    memset(r->ctx_mru, 0, sizeof r->ctx_mru);
    memset(r->done, 0, sizeof r->done);
    r->serials = 0;
}

struct pyfr_walk *pyfr_walk_last(void)
{
    struct pyfr_recent *r = pyfr_rec;
    if (HS_UNLIKELY(!r)) {
        if (pyfr_rec_off || !(r = pyfr_rec = arena_alloc(sizeof *r))) {
            pyfr_rec_off = 1;
            return NULL;
        }
        r->walk[0].lim = r->walk[1].lim = TRACE_DEPTH_MAX;
        r->gen = atomic_load_explicit(&pyfr_frames_gen, memory_order_relaxed);
    }
    return &r->walk[r->last];
}

#define PY_HASH_SEED 0x9e3779b97f4a7c15ull
#define PY_HASH_MUL 0xff51afd7ed558ccdull

/* pylay_ptr with a full-width offset: offsets kept in registers are not
 * narrowed again at each frame. */
static inline uintptr_t pyfr_word_at(const char *base, uintptr_t off)
{
    uintptr_t v;
    __builtin_memcpy(&v, base + off, sizeof v);
    return v;
}

/* Frames from *frp on into wk->fa and wk->first, lim at most (*np: how
 * many; *frp: the frame past them, or NULL): their entry flags as
 * pyfr_walk's entry holds them (frame i at bit n - 1 - i: the outermost
 * 64 frames' only).  The loop every allocation runs over every
 * frame (pydepth.py's figures): not inlined, so that its values keep to
 * registers (inlined in pyfr_walk_m, the loop spilled them to the stack);
 * the layout's offsets are read once (a store to first[] may alias
 * pylay_lay's fields), and the flags are shifted in as they come. */
static inline __attribute__((always_inline)) uint64_t pyfr_walk_frames_m(struct pyfr_walk *wk,
                                                                       const char **frp,
                                                                       uint32_t lim, uint32_t *np,
                                                                       int model)
{
    const struct pylay_layout *l = pylay_lay;
    const uintptr_t o_code = l->fr_code, o_at = l->fr_instr, o_up = l->fr_previous,
                    o_entry = l->fr_entry;
    const uint8_t cstack = l->cstack;
    uintptr_t *fa = wk->fa, *end = wk->fa + 2 * (size_t)lim;
    uint8_t *first = wk->first;
    const char *fr = *frp;
    uint64_t entry = 0;
    while (fr && fa != end) {
        const char *up = (const char *)pyfr_word_at(fr, o_up);
        fa[0] = pyfr_word_at(fr, o_code) & ~PY_CODE_TAGS;
        fa[1] = model == PY_FRAMES_OBJECT ? (uintptr_t)(intptr_t) * (const int *)(fr + o_at)
                                          : pyfr_word_at(fr, o_at);
        uint64_t f = 1;
        if (model == PY_FRAMES_ENTRY)
            f = *(const uint8_t *)(fr + o_entry) != 0;
        else if (model == PY_FRAMES_OWNER && up) {
            if (*(const uint8_t *)(up + o_entry) != cstack)
                f = 0;
            else
                do
                    up = (const char *)pyfr_word_at(up, o_up);
                while (up && *(const uint8_t *)(up + o_entry) == cstack);
        }
        *first++ = (uint8_t)f;
        entry = entry << 1 | f;
        fa += 2;
        fr = up;
    }
    uint32_t n = (uint32_t)(first - wk->first);
    *frp = fr;
    *np = n;
    return entry;
}

/* pyfr_walk_frames_m for each frame model, each a function of its own. */
static __attribute__((noinline)) uint64_t pyfr_walk_frames_object(struct pyfr_walk *wk,
                                                                const char **frp, uint32_t lim,
                                                                uint32_t *np)
{
    return pyfr_walk_frames_m(wk, frp, lim, np, PY_FRAMES_OBJECT);
}

static __attribute__((noinline)) uint64_t pyfr_walk_frames_entry(struct pyfr_walk *wk,
                                                               const char **frp, uint32_t lim,
                                                               uint32_t *np)
{
    return pyfr_walk_frames_m(wk, frp, lim, np, PY_FRAMES_ENTRY);
}

static __attribute__((noinline)) uint64_t pyfr_walk_frames_owner(struct pyfr_walk *wk,
                                                               const char **frp, uint32_t lim,
                                                               uint32_t *np)
{
    return pyfr_walk_frames_m(wk, frp, lim, np, PY_FRAMES_OWNER);
}

/* pyfr_walk_take for one frame model (a constant: one copy a model), into
 * wk, the last walk old.  First the frames' code objects and
 * instructions (lim frames at most); then their words from the outermost
 * in: the outermost frames the same as old's at the same distance from
 * its outermost frame (code, instruction) take old's words and hashes at
 * once, each other frame old's word where old had the same there, else
 * its own; then, when some word was 0 (a code that cannot be kept) and
 * frames remain, frames one by one until lim have a word.  The hash runs
 * from the outermost frame in (ph[i]: over frames n - 1 .. i, the
 * innermost frame's word left out). */
static inline __attribute__((always_inline)) void pyfr_walk_m(const char *ts, struct pyfr_walk *wk,
                                                            const struct pyfr_walk *old,
                                                            uint32_t lim, int model)
{
    const char *fr = pyfr_frame_top(ts, model);
    uint32_t n = 0, gen = atomic_load_explicit(&pyfr_code_gen, memory_order_relaxed);
    wk->top = (uintptr_t)fr;
    if (lim > PY_WALK_MAX)
        lim = PY_WALK_MAX;
    uint64_t entry = model == PY_FRAMES_OBJECT  ? pyfr_walk_frames_object(wk, &fr, lim, &n)
                     : model == PY_FRAMES_ENTRY ? pyfr_walk_frames_entry(wk, &fr, lim, &n)
                                                : pyfr_walk_frames_owner(wk, &fr, lim, &n);
    /* old's frame j is frame j + shift of this walk */
    int64_t shift = old->gen == gen && !old->ext ? (int64_t)n - old->n : (int64_t)PY_WALK_MAX;
    uint32_t k = n; /* frames k .. n - 1 are old's (old's frame 0 not among them) */
    if (n && shift < (int64_t)n) {
        /* frame i is old's j = i - shift; both go down to 1 */
        uint32_t i = n - 1, j = old->n - 1, stop = shift < 0 ? 1 : (uint32_t)shift + 1;
        if (!old->zero) /* every word of old's is one: its frames compare as words */
            i -= ftree_tail_same(wk->fa + 2 * n, old->fa + 2 * old->n, 2 * (n - stop)) / 2;
        else
            while (i >= stop && old->fa[2 * j] == wk->fa[2 * i] &&
                   old->fa[2 * j + 1] == wk->fa[2 * i + 1] && old->w[j])
                i--, j--;
        k = i + 1;
    }
    uint64_t h = PY_HASH_SEED;
    if (k < n) {
        memcpy(wk->w + k, old->w + (k - shift), (n - k) * sizeof wk->w[0]);
        memcpy(wk->ph + k, old->ph + (k - shift), (n - k) * sizeof wk->ph[0]);
        h = wk->ph[k];
    }
    uint32_t have = n - k;
    for (uint32_t i = k; i-- > 0;) {
        int64_t j = (int64_t)i - shift;
        uint64_t w;
        if ((uint64_t)j < old->n && old->fa[2 * j] == wk->fa[2 * i] &&
            old->fa[2 * j + 1] == wk->fa[2 * i + 1] && old->w[j])
            w = old->w[j];
        else
            w = pyfr_word_of((const char *)wk->fa[2 * i], (intptr_t)wk->fa[2 * i + 1], model);
        wk->w[i] = w;
        have += w != 0;
        if (i)
            h = (h ^ w) * PY_HASH_MUL;
        wk->ph[i] = h;
    }
    wk->ext = 0;
    for (int first; HS_UNLIKELY(fr && have < lim && n < PY_WALK_MAX); n++) {
        const char *co = (const char *)pyfr_frame_code(fr);
        intptr_t at = pyfr_frame_at(fr, model);
        wk->fa[2 * n] = (uintptr_t)co;
        wk->fa[2 * n + 1] = (uintptr_t)at;
        fr = pyfr_frame_next(fr, &first, model);
        wk->first[n] = first != 0;
        uint64_t w = wk->w[n] = pyfr_word_of(co, at, model);
        have += w != 0;
        h = (h ^ w) * PY_HASH_MUL;
        wk->ext = 1; /* its ph are not the outermost frames' */
    }
    h = (h ^ entry ^ (uint64_t)n << 32 ^ (uint64_t)(fr != NULL) << 63) * 0xc4ceb9fe1a85ec53ull;
    wk->hash = h ^ h >> 29;
    wk->n = n;
    wk->lim = lim;
    wk->gen = gen;
    wk->more = fr != NULL;
    wk->cut = fr && have < lim;
    wk->zero = have < n;
    wk->keep = !wk->zero && n <= PY_CHAIN_MAX;
    wk->entry = entry;
}

struct pyfr_walk *pyfr_walk_take(const char *ts, uint32_t lim)
{
    if (!pyfr_walk_last())
        return NULL;
    struct pyfr_recent *r = pyfr_rec;
    struct pyfr_walk *old = &r->walk[r->last], *wk = &r->walk[r->last ^ 1];
    switch (pylay_lay->frames) {
    case PY_FRAMES_ENTRY:
        pyfr_walk_m(ts, wk, old, lim, PY_FRAMES_ENTRY);
        break;
    case PY_FRAMES_OWNER:
        pyfr_walk_m(ts, wk, old, lim, PY_FRAMES_OWNER);
        break;
    default:
        pyfr_walk_m(ts, wk, old, lim, PY_FRAMES_OBJECT);
    }
    r->last ^= 1;
    wk->valid = 0;
    return wk;
}

/* The context's hash: the walk's and the name's. */
static inline uint64_t pyfr_ctx_hash(const struct pyfr_walk *wk, uint32_t name)
{
    uint64_t h = (wk->hash ^ name) * 0x9e3779b97f4a7c15ull;
    return h ^ h >> 31;
}

static inline uint64_t pyfr_w0(const struct pyfr_walk *k)
{
    return k->n ? k->w[0] : 0;
}

/* The words compared inline: a context holds a few (dicts.py: 2 or 3), and
 * a call of memcmp cost more than the compare itself. */
static int pyfr_ctx_same(const struct pyfr_ctx *c, const struct pyfr_walk *k, uint64_t hash,
                       uint32_t name)
{
    if (!c->serial || c->hash != hash || c->name != name || c->n != k->n ||
        c->lim != k->lim || c->more != k->more || c->entry != k->entry)
        return 0;
    return k->n < 2 || ftree_tail_same(c->w + (k->n - 1), k->w + k->n, k->n - 1) == k->n - 1;
}

/* k's context, made the most recent of its set (by its mark: a context
 * is some hundred bytes, never moved); NULL: not kept. */
static struct pyfr_ctx *pyfr_ctx_find(struct pyfr_recent *r, const struct pyfr_walk *k, uint64_t hash,
                                  uint32_t name)
{
    unsigned s = hash & (PY_CTX_SETS - 1), m = r->ctx_mru[s];
    struct pyfr_ctx *set = r->ctx[s];
    if (pyfr_ctx_same(&set[m], k, hash, name))
        return &set[m];
    if (!pyfr_ctx_same(&set[m ^ 1], k, hash, name))
        return NULL;
    r->ctx_mru[s] = (uint8_t)(m ^ 1);
    return &set[m ^ 1];
}

static inline struct pyfr_done *pyfr_done_set(struct pyfr_recent *r, uint32_t serial, uint64_t w0)
{
    uint64_t h = ((uint64_t)serial * 0x9e3779b97f4a7c15ull) ^ (w0 * 0xc4ceb9fe1a85ec53ull);
    return r->done[(h ^ h >> 32) & (PY_DONE_SETS - 1)];
}

/* The tables emptied when heapsnap_python_frames changed the Python
 * frames a stack keeps: their traces were cut otherwise. */
static inline void pyfr_recent_current(struct pyfr_recent *r)
{
    unsigned gen = atomic_load_explicit(&pyfr_frames_gen, memory_order_relaxed);
    if (HS_UNLIKELY(r->gen != gen)) {
        pyfr_recent_empty(r);
        r->gen = gen;
    }
}

int pyfr_recent_find(const struct pyfr_walk *k, uint32_t name, uint32_t *id)
{
    struct pyfr_recent *r = pyfr_rec;
    const struct pyfr_ctx *c;
    if (!r || !k->keep)
        return 0;
    pyfr_recent_current(r);
    if (!(c = pyfr_ctx_find(r, k, pyfr_ctx_hash(k, name), name)))
        return 0;
    uint64_t w0 = pyfr_w0(k);
    struct pyfr_done *set = pyfr_done_set(r, c->serial, w0);
    for (unsigned j = 0; j < 2; j++)
        if (set[j].serial == c->serial && set[j].w0 == w0) {
            *id = set[j].id;
            if (j) { /* the most recent first */
                struct pyfr_done t = set[0];
                set[0] = set[1];
                set[1] = t;
            }
            return 1;
        }
    return 0;
}

void pyfr_recent_keep(const struct pyfr_walk *k, uint32_t name, uint32_t id)
{
    struct pyfr_recent *r = pyfr_rec;
    if (!r || !k->keep)
        return;
    pyfr_recent_current(r);
    uint64_t hash = pyfr_ctx_hash(k, name);
    struct pyfr_ctx *c = pyfr_ctx_find(r, k, hash, name);
    if (!c) {
        if (HS_UNLIKELY(++r->serials == 0)) { /* wrapped: serials come round again */
            pyfr_recent_empty(r);
            r->serials = 1;
        }
        unsigned s = hash & (PY_CTX_SETS - 1), lru = r->ctx_mru[s] ^ 1u;
        c = &r->ctx[s][lru]; /* the least recent goes */
        r->ctx_mru[s] = (uint8_t)lru;
        c->hash = hash;
        c->serial = r->serials;
        c->name = name;
        c->n = k->n;
        c->lim = k->lim;
        c->more = k->more;
        c->entry = k->entry;
        if (k->n > 1)
            memcpy(c->w, k->w + 1, (k->n - 1) * sizeof k->w[0]);
    }
    uint64_t w0 = pyfr_w0(k);
    struct pyfr_done *set = pyfr_done_set(r, c->serial, w0);
    if (set[0].serial != c->serial || set[0].w0 != w0) /* a walk's splice may be kept already */
        set[1] = set[0];
    set[0] = (struct pyfr_done){c->serial, id, w0};
}

void pyfr_recent_thread_end(void)
{
    if (pyfr_rec)
        arena_free(pyfr_rec, sizeof *pyfr_rec);
    pyfr_rec = NULL;
    pyfr_rec_off = 1;
}
