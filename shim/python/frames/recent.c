/*
 * recent.c - the thread's walk of its Python frames, and its recent
 * splices: (native stack's name, Python frames) -> trace id, so that a
 * Python stack met again costs one walk of its Python frames, and no
 * native frame is copied, scanned or interned (stack.c's py_again).  The
 * walk is made once an allocation (py_again's, then py_trace's) and
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

struct py_ctx {
    uint64_t hash;         /* py_walk's, with the name's */
    uint32_t serial;       /* 0: empty */
    uint32_t name, n, lim; /* the native stack's name; Python frames; the walk's limit */
    uint32_t more;         /* frames beyond the walk */
    uint64_t entry;        /* py_walk's entry flags */
    uint64_t w[PY_CHAIN_MAX - 1]; /* the words of frames 1 .. n - 1 */
};

struct py_done {
    uint32_t serial, id;   /* serial 0: empty */
    uint64_t w0;           /* the innermost frame's word (0: no frame) */
};

struct py_recent {
    struct py_walk walk[2]; /* the last walk (stack.c) and the one before */
    unsigned last;          /* walk[last] is the last */
    struct py_ctx ctx[PY_CTX_SETS][2];
    uint8_t ctx_mru[PY_CTX_SETS]; /* the most recent context of each set: 0 or 1 */
    struct py_done done[PY_DONE_SETS][2];
    uint32_t serials;      /* given so far */
    unsigned gen;          /* py_frames_gen when it was last emptied */
};

static __thread struct py_recent *py_rec; /* NULL: none (yet) */
static __thread int py_rec_off;           /* none for good (ended, no memory) */

/* The tables emptied (the walk kept), serials from 0. */
static void py_recent_empty(struct py_recent *r)
{
    memset(r->ctx, 0, sizeof r->ctx);
    memset(r->ctx_mru, 0, sizeof r->ctx_mru);
    memset(r->done, 0, sizeof r->done);
    r->serials = 0;
}

struct py_walk *py_walk_last(void)
{
    struct py_recent *r = py_rec;
    if (HS_UNLIKELY(!r)) {
        if (py_rec_off || !(r = py_rec = arena_alloc(sizeof *r))) {
            py_rec_off = 1;
            return NULL;
        }
        r->walk[0].lim = r->walk[1].lim = TRACE_DEPTH_MAX;
        r->gen = atomic_load_explicit(&py_frames_gen, memory_order_relaxed);
    }
    return &r->walk[r->last];
}

#define PY_HASH_SEED 0x9e3779b97f4a7c15ull
#define PY_HASH_MUL 0xff51afd7ed558ccdull

/* py_ptr with a full-width offset: offsets kept in registers are not
 * narrowed again at each frame. */
static inline uintptr_t py_word_at(const char *base, uintptr_t off)
{
    uintptr_t v;
    __builtin_memcpy(&v, base + off, sizeof v);
    return v;
}

/* Frames from *frp on into wk->fa and wk->first, lim at most (*np: how
 * many; *frp: the frame past them, or NULL): their entry flags as
 * py_walk's entry holds them (frame i at bit n - 1 - i: the outermost
 * 64 frames' only).  The loop every allocation runs over every
 * frame (pydepth.py's figures): not inlined, so that its values keep to
 * registers (inlined in py_walk_m, the loop spilled them to the stack);
 * the layout's offsets are read once (a store to first[] may alias
 * py_lay's fields), and the flags are shifted in as they come. */
static inline __attribute__((always_inline)) uint64_t py_walk_frames_m(struct py_walk *wk,
                                                                       const char **frp,
                                                                       uint32_t lim, uint32_t *np,
                                                                       int model)
{
    const struct py_layout *l = py_lay;
    const uintptr_t o_code = l->fr_code, o_at = l->fr_instr, o_up = l->fr_previous,
                    o_entry = l->fr_entry;
    const uint8_t cstack = l->cstack;
    uintptr_t *fa = wk->fa, *end = wk->fa + 2 * (size_t)lim;
    uint8_t *first = wk->first;
    const char *fr = *frp;
    uint64_t entry = 0;
    while (fr && fa != end) {
        const char *up = (const char *)py_word_at(fr, o_up);
        fa[0] = py_word_at(fr, o_code) & ~PY_CODE_TAGS;
        fa[1] = model == PY_FRAMES_OBJECT ? (uintptr_t)(intptr_t) * (const int *)(fr + o_at)
                                          : py_word_at(fr, o_at);
        uint64_t f = 1;
        if (model == PY_FRAMES_ENTRY)
            f = *(const uint8_t *)(fr + o_entry) != 0;
        else if (model == PY_FRAMES_OWNER && up) {
            if (*(const uint8_t *)(up + o_entry) != cstack)
                f = 0;
            else
                do
                    up = (const char *)py_word_at(up, o_up);
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

/* py_walk_frames_m for each frame model, each a function of its own. */
static __attribute__((noinline)) uint64_t py_walk_frames_object(struct py_walk *wk,
                                                                const char **frp, uint32_t lim,
                                                                uint32_t *np)
{
    return py_walk_frames_m(wk, frp, lim, np, PY_FRAMES_OBJECT);
}

static __attribute__((noinline)) uint64_t py_walk_frames_entry(struct py_walk *wk,
                                                               const char **frp, uint32_t lim,
                                                               uint32_t *np)
{
    return py_walk_frames_m(wk, frp, lim, np, PY_FRAMES_ENTRY);
}

static __attribute__((noinline)) uint64_t py_walk_frames_owner(struct py_walk *wk,
                                                               const char **frp, uint32_t lim,
                                                               uint32_t *np)
{
    return py_walk_frames_m(wk, frp, lim, np, PY_FRAMES_OWNER);
}

/* py_walk_take for one frame model (a constant: one copy a model), into
 * wk, the last walk old.  First the frames' code objects and
 * instructions (lim frames at most); then their words from the outermost
 * in: the outermost frames the same as old's at the same distance from
 * its outermost frame (code, instruction) take old's words and hashes at
 * once, each other frame old's word where old had the same there, else
 * its own; then, when some word was 0 (a code that cannot be kept) and
 * frames remain, frames one by one until lim have a word.  The hash runs
 * from the outermost frame in (ph[i]: over frames n - 1 .. i, the
 * innermost frame's word left out). */
static inline __attribute__((always_inline)) void py_walk_m(const char *ts, struct py_walk *wk,
                                                            const struct py_walk *old,
                                                            uint32_t lim, int model)
{
    const char *fr = py_frame_top(ts, model);
    uint32_t n = 0, gen = atomic_load_explicit(&py_code_gen, memory_order_relaxed);
    wk->top = (uintptr_t)fr;
    if (lim > PY_WALK_MAX)
        lim = PY_WALK_MAX;
    uint64_t entry = model == PY_FRAMES_OBJECT  ? py_walk_frames_object(wk, &fr, lim, &n)
                     : model == PY_FRAMES_ENTRY ? py_walk_frames_entry(wk, &fr, lim, &n)
                                                : py_walk_frames_owner(wk, &fr, lim, &n);
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
            w = py_word_of((const char *)wk->fa[2 * i], (intptr_t)wk->fa[2 * i + 1], model);
        wk->w[i] = w;
        have += w != 0;
        if (i)
            h = (h ^ w) * PY_HASH_MUL;
        wk->ph[i] = h;
    }
    wk->ext = 0;
    for (int first; HS_UNLIKELY(fr && have < lim && n < PY_WALK_MAX); n++) {
        const char *co = (const char *)py_frame_code(fr);
        intptr_t at = py_frame_at(fr, model);
        wk->fa[2 * n] = (uintptr_t)co;
        wk->fa[2 * n + 1] = (uintptr_t)at;
        fr = py_frame_next(fr, &first, model);
        wk->first[n] = first != 0;
        uint64_t w = wk->w[n] = py_word_of(co, at, model);
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

struct py_walk *py_walk_take(const char *ts, uint32_t lim)
{
    if (!py_walk_last())
        return NULL;
    struct py_recent *r = py_rec;
    struct py_walk *old = &r->walk[r->last], *wk = &r->walk[r->last ^ 1];
    switch (py_lay->frames) {
    case PY_FRAMES_ENTRY:
        py_walk_m(ts, wk, old, lim, PY_FRAMES_ENTRY);
        break;
    case PY_FRAMES_OWNER:
        py_walk_m(ts, wk, old, lim, PY_FRAMES_OWNER);
        break;
    default:
        py_walk_m(ts, wk, old, lim, PY_FRAMES_OBJECT);
    }
    r->last ^= 1;
    wk->valid = 0;
    return wk;
}

/* The context's hash: the walk's and the name's. */
static inline uint64_t py_ctx_hash(const struct py_walk *wk, uint32_t name)
{
    uint64_t h = (wk->hash ^ name) * 0x9e3779b97f4a7c15ull;
    return h ^ h >> 31;
}

static inline uint64_t py_w0(const struct py_walk *k)
{
    return k->n ? k->w[0] : 0;
}

/* The words compared inline: a context holds a few (dicts.py: 2 or 3), and
 * a call of memcmp cost more than the compare itself. */
static int py_ctx_same(const struct py_ctx *c, const struct py_walk *k, uint64_t hash,
                       uint32_t name)
{
    if (!c->serial || c->hash != hash || c->name != name || c->n != k->n ||
        c->lim != k->lim || c->more != k->more || c->entry != k->entry)
        return 0;
    return k->n < 2 || ftree_tail_same(c->w + (k->n - 1), k->w + k->n, k->n - 1) == k->n - 1;
}

/* k's context, made the most recent of its set (by its mark: a context
 * is some hundred bytes, never moved); NULL: not kept. */
static struct py_ctx *py_ctx_find(struct py_recent *r, const struct py_walk *k, uint64_t hash,
                                  uint32_t name)
{
    unsigned s = hash & (PY_CTX_SETS - 1), m = r->ctx_mru[s];
    struct py_ctx *set = r->ctx[s];
    if (py_ctx_same(&set[m], k, hash, name))
        return &set[m];
    if (!py_ctx_same(&set[m ^ 1], k, hash, name))
        return NULL;
    r->ctx_mru[s] = (uint8_t)(m ^ 1);
    return &set[m ^ 1];
}

static inline struct py_done *py_done_set(struct py_recent *r, uint32_t serial, uint64_t w0)
{
    uint64_t h = ((uint64_t)serial * 0x9e3779b97f4a7c15ull) ^ (w0 * 0xc4ceb9fe1a85ec53ull);
    return r->done[(h ^ h >> 32) & (PY_DONE_SETS - 1)];
}

/* The tables emptied when heapsnap_python_frames changed the Python
 * frames a stack keeps: their traces were cut otherwise. */
static inline void py_recent_current(struct py_recent *r)
{
    unsigned gen = atomic_load_explicit(&py_frames_gen, memory_order_relaxed);
    if (HS_UNLIKELY(r->gen != gen)) {
        py_recent_empty(r);
        r->gen = gen;
    }
}

int py_recent_find(const struct py_walk *k, uint32_t name, uint32_t *id)
{
    struct py_recent *r = py_rec;
    const struct py_ctx *c;
    if (!r || !k->keep)
        return 0;
    py_recent_current(r);
    if (!(c = py_ctx_find(r, k, py_ctx_hash(k, name), name)))
        return 0;
    uint64_t w0 = py_w0(k);
    struct py_done *set = py_done_set(r, c->serial, w0);
    for (unsigned j = 0; j < 2; j++)
        if (set[j].serial == c->serial && set[j].w0 == w0) {
            *id = set[j].id;
            if (j) { /* the most recent first */
                struct py_done t = set[0];
                set[0] = set[1];
                set[1] = t;
            }
            return 1;
        }
    return 0;
}

void py_recent_keep(const struct py_walk *k, uint32_t name, uint32_t id)
{
    struct py_recent *r = py_rec;
    if (!r || !k->keep)
        return;
    py_recent_current(r);
    uint64_t hash = py_ctx_hash(k, name);
    struct py_ctx *c = py_ctx_find(r, k, hash, name);
    if (!c) {
        if (HS_UNLIKELY(++r->serials == 0)) { /* wrapped: serials come round again */
            py_recent_empty(r);
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
    uint64_t w0 = py_w0(k);
    struct py_done *set = py_done_set(r, c->serial, w0);
    if (set[0].serial != c->serial || set[0].w0 != w0) /* a walk's splice may be kept already */
        set[1] = set[0];
    set[0] = (struct py_done){c->serial, id, w0};
}

void py_recent_thread_end(void)
{
    if (py_rec)
        arena_free(py_rec, sizeof *py_rec);
    py_rec = NULL;
    py_rec_off = 1;
}
