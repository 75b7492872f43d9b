/*
 * recent.c - the thread's walk of its Python frames, and its recent
 * splices: (native stack's name, Python frames) -> trace id, so that a
 * Python stack met again costs one walk of its Python frames, and no
 * native frame is copied, scanned or interned (pyfr_again).  The
 * walk is made once an allocation (pyfr_again's, then pyfr_trace's) and
 * stops at the frames a splice can write.  A native stack's name
 * (UNWIND_NAME_FRAMES | its number in native.c) stands for its frames for
 * good, so an answer holds forever.  Two tables per thread, from the arena
 * at the first walk, set-associative, the least recent out (a context in
 * either of two sets of four: pyfr_ctx_room; a splice in a set of two):
 *
 *   contexts  (name, walk limit, whether frames lie beyond the walk, entry
 *             flags, the words of every frame but the innermost) -> a serial,
 *             given anew when a context takes a place
 *   splices   (serial, the innermost frame's word) -> trace id
 *
 * A context's words lie in the thread's pool of words, written in turn
 * round a ring: a context whose words were written over since is no
 * longer found (pyfr_ctx_same), so the pool bounds the words kept and the
 * table the contexts.  The serials' wrap empties both tables.  Chains of
 * more than PY_CHAIN_MAX frames, or with a frame whose code cannot be
 * kept, are not kept.
 */
#include <string.h>

#include "pyframes.h"

/* Contexts a thread keeps, and the words of their frames.  A program's
 * loop takes turns through more contexts than allocation sites: each
 * site's native stack under each caller's line, each call chain above it
 * (a request's parse, route and render: some hundreds).  A table of 128
 * contexts with PY_CHAIN_MAX words each in place (2-way, 70 KiB) missed
 * on a fifth to two fifths of such loops' allocations, each miss a splice
 * and an intern; 1,024 contexts of 48 bytes in sets of four, each context
 * in one of two sets (pyfr_ctx_room), the least recent out, whose words
 * share a pool of 8,192 (112 KiB, touched as used), miss on about one in a
 * hundred (docs/performance-python.md, "Recent splices";
 * docs/performance-hotpath.md, pyfr_ctx_find's row).  The pool holds 130
 * contexts of the longest chain: never fewer than before. */
#define PY_CTX_SET_BITS 8u
#define PY_CTX_SETS (1u << PY_CTX_SET_BITS) /* x PY_CTX_WAYS contexts */
#define PY_CTX_WAYS 4u
#define PY_CTX_WORDS 8192u  /* the words' pool (power of two, >= PY_CHAIN_MAX) */
#define PY_DONE_SETS 2048u  /* x 2 splices (power of two) */
_Static_assert(PY_CTX_WORDS >= PY_CHAIN_MAX && !(PY_CTX_WORDS & (PY_CTX_WORDS - 1)),
               "a chain's words fit the pool, whose index is a mask");

struct pyfr_ctx {
    uint64_t hash;         /* pyfr_walk's, with the name's */
    uint64_t at;           /* where the words of frames 1 .. n - 1 begin: a count of
                              the pool's words (pyfr_recent.wrote) */
    uint64_t entry;        /* pyfr_walk's entry flags */
    uint32_t serial;       /* 0: empty */
    uint32_t name, n, lim; /* the native stack's name; Python frames; the walk's limit */
    uint32_t more;         /* frames beyond the walk */
    uint32_t used;         /* the thread's look-ups (pyfr_recent.asked) when it was
                              last found or kept */
};
_Static_assert(sizeof(struct pyfr_ctx) == 48, "a context in 48 bytes");

struct pyfr_done {
    uint32_t serial, id;   /* serial 0: empty */
    uint64_t w0;           /* the innermost frame's word (0: no frame) */
};

struct pyfr_recent {
    struct pyfr_walk walk[2]; /* the last walk (pyfr_again) and the one before */
    /* Both walks' words and hashes, anchored at the outermost frame: a
     * walk of n frames has its frame i at PY_WALK_MAX - n + i, so a frame
     * at the same place from the outermost as in the walk before is in
     * the same slot, and the outer frames two walks share (most of a deep
     * stack's) keep their words and hashes where they are, not copied
     * from one walk into the other.  Past PY_WALK_MAX: frames walked
     * past lim (pyfr_walk_m's ext), which no later walk takes up. */
    uint64_t wa[2 * PY_WALK_MAX], pha[2 * PY_WALK_MAX];
    unsigned last;          /* walk[last] is the last */
    struct pyfr_ctx ctx[PY_CTX_SETS][PY_CTX_WAYS]; /* each set the most recent first */
    uint64_t wrote;         /* words the pool was given, the skips to its start
                               counted: word i lies at words[i % PY_CTX_WORDS] */
    uint64_t words[PY_CTX_WORDS];
    struct pyfr_done done[PY_DONE_SETS][2];
    uint32_t serials;      /* given so far */
    unsigned gen;          /* pyfr_frames_gen when it was last emptied */
    uint64_t asked, found; /* look-ups of a chain to keep, and those answered */
};

static __thread struct pyfr_recent *pyfr_rec; /* NULL: none (yet) */
static __thread int pyfr_rec_off;           /* none for good (ended, no memory) */
static _Atomic uint64_t pyfr_asked_ended, pyfr_found_ended; /* ended threads' */

/* The tables emptied (the walk kept), serials from 0. */
static void pyfr_recent_empty(struct pyfr_recent *r)
{
    memset(r->ctx, 0, sizeof r->ctx);
    memset(r->done, 0, sizeof r->done);
    r->serials = 0;
    r->wrote = 0;
}

/* The thread's tables made, at its first walk: pyfr_walk_last's, out of
 * its line so that its every other call saves no register. */
static HS_NOINLINE struct pyfr_walk *pyfr_walk_first(void)
{
    struct pyfr_recent *r;
    if (pyfr_rec_off || !(r = pyfr_rec = arena_alloc(sizeof *r))) {
        pyfr_rec_off = 1;
        return NULL;
    }
    r->walk[0].lim = r->walk[1].lim = TRACE_DEPTH_MAX;
    r->walk[0].w = r->walk[1].w = r->wa + PY_WALK_MAX;
    r->walk[0].ph = r->walk[1].ph = r->pha + PY_WALK_MAX;
    r->gen = atomic_load_explicit(&pyfr_frames_gen, memory_order_relaxed);
    return &r->walk[r->last];
}

struct pyfr_walk *pyfr_walk_last(void)
{
    struct pyfr_recent *r = pyfr_rec;
    return HS_LIKELY(r != NULL) ? &r->walk[r->last] : pyfr_walk_first();
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
static inline __attribute__((always_inline)) void pyfr_walk_m(struct pyfr_recent *r, const char *ts,
                                                            struct pyfr_walk *wk,
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
    /* old's frame j is frame j + shift of this walk, in the same slot */
    int64_t shift = old->gen == gen && !old->ext ? (int64_t)n - old->n : (int64_t)PY_WALK_MAX;
    uint64_t *w = wk->w = r->wa + (PY_WALK_MAX - n), *ph = wk->ph = r->pha + (PY_WALK_MAX - n);
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
    uint64_t h = k < n ? ph[k] : PY_HASH_SEED; /* frames k .. n - 1: old's, in place */
    uint32_t have = n - k;
    for (uint32_t i = k; i-- > 0;) {
        int64_t j = (int64_t)i - shift;
        uint64_t x = w[i]; /* old's frame j's word, when old had a frame j */
        if (!((uint64_t)j < old->n && old->fa[2 * j] == wk->fa[2 * i] &&
              old->fa[2 * j + 1] == wk->fa[2 * i + 1] && x))
            w[i] = x = pyfr_word_of((const char *)wk->fa[2 * i], (intptr_t)wk->fa[2 * i + 1], model);
        have += x != 0;
        if (i)
            h = (h ^ x) * PY_HASH_MUL;
        ph[i] = h;
    }
    wk->ext = 0;
    for (int first; HS_UNLIKELY(fr && have < lim && n < PY_WALK_MAX); n++) {
        const char *co = (const char *)pyfr_frame_code(fr);
        intptr_t at = pyfr_frame_at(fr, model);
        wk->fa[2 * n] = (uintptr_t)co;
        wk->fa[2 * n + 1] = (uintptr_t)at;
        fr = pyfr_frame_next(fr, &first, model);
        wk->first[n] = first != 0;
        uint64_t x = w[n] = pyfr_word_of(co, at, model);
        have += x != 0;
        h = (h ^ x) * PY_HASH_MUL;
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
    struct pyfr_recent *r = pyfr_rec; /* made: the caller's pyfr_walk_last gave a walk */
    struct pyfr_walk *old = &r->walk[r->last], *wk = &r->walk[r->last ^ 1];
    switch (pylay_lay->frames) {
    case PY_FRAMES_ENTRY:
        pyfr_walk_m(r, ts, wk, old, lim, PY_FRAMES_ENTRY);
        break;
    case PY_FRAMES_OWNER:
        pyfr_walk_m(r, ts, wk, old, lim, PY_FRAMES_OWNER);
        break;
    default:
        pyfr_walk_m(r, ts, wk, old, lim, PY_FRAMES_OBJECT);
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
 * a call of memcmp cost more than the compare itself.  Words the pool
 * wrote over since c's (more than PY_CTX_WORDS ago) are not c's: no match. */
static int pyfr_ctx_same(const struct pyfr_recent *r, const struct pyfr_ctx *c,
                       const struct pyfr_walk *k, uint64_t hash, uint32_t name)
{
    if (!c->serial || c->hash != hash || c->name != name || c->n != k->n ||
        c->lim != k->lim || c->more != k->more || c->entry != k->entry)
        return 0;
    if (k->n < 2)
        return 1;
    if (r->wrote - c->at > PY_CTX_WORDS)
        return 0;
    const uint64_t *w = r->words + c->at % PY_CTX_WORDS;
    return ftree_tail_same(w + (k->n - 1), k->w + k->n, k->n - 1) == k->n - 1;
}

/* A context's two sets (way 0, 1): its hash's top bits and the bits
 * below them.  Its low bits (the multiply's, which only the hashes' own
 * low bits reach, folded with bits 31 up) crowded Debian 13's 3.13 loop of
 * test_python_recent into a few sets, where it missed seven times as
 * often. */
static inline struct pyfr_ctx *pyfr_ctx_set(struct pyfr_recent *r, uint64_t hash, unsigned way)
{
    return r->ctx[hash >> (64 - (way + 1) * PY_CTX_SET_BITS) & (PY_CTX_SETS - 1)];
}

/* Room in the pool for m words (m <= PY_CHAIN_MAX - 1): where they go, in
 * one run (past the pool's end, from its start). */
static uint64_t pyfr_words_put(struct pyfr_recent *r, const uint64_t *w, uint32_t m)
{
    uint64_t at = r->wrote;
    if (at % PY_CTX_WORDS + m > PY_CTX_WORDS)
        at += PY_CTX_WORDS - at % PY_CTX_WORDS;
    memcpy(r->words + at % PY_CTX_WORDS, w, m * sizeof *w);
    r->wrote = at + m;
    return at;
}

/* k's context in set past its front, moved there (a context is 48 bytes,
 * and the splices know it by its serial); NULL: not there. */
static struct pyfr_ctx *pyfr_ctx_past(struct pyfr_recent *r, struct pyfr_ctx *set,
                                      const struct pyfr_walk *k, uint64_t hash, uint32_t name)
{
    for (unsigned j = 1; j < PY_CTX_WAYS; j++)
        if (set[j].hash == hash && pyfr_ctx_same(r, &set[j], k, hash, name)) {
            struct pyfr_ctx t = set[j];
            memmove(set + 1, set, j * sizeof *set);
            set[0] = t;
            return &set[0];
        }
    return NULL;
}

/* pyfr_ctx_find past the front of the first set: the rest of it, then the
 * second set. */
static __attribute__((noinline)) struct pyfr_ctx *
pyfr_ctx_find_rest(struct pyfr_recent *r, struct pyfr_ctx *a, const struct pyfr_walk *k,
                   uint64_t hash, uint32_t name)
{
    struct pyfr_ctx *b = pyfr_ctx_set(r, hash, 1), *c = pyfr_ctx_past(r, a, k, hash, name);
    if (!c && b != a) {
        if (b->hash == hash && pyfr_ctx_same(r, b, k, hash, name))
            c = b;
        else
            c = pyfr_ctx_past(r, b, k, hash, name);
    }
    if (c)
        c->used = (uint32_t)r->asked;
    return c;
}

/* k's context, in either of its sets (the first's front most often: a
 * loop's allocation met again), stamped; NULL: not kept. */
static inline struct pyfr_ctx *pyfr_ctx_find(struct pyfr_recent *r, const struct pyfr_walk *k,
                                             uint64_t hash, uint32_t name)
{
    struct pyfr_ctx *a = pyfr_ctx_set(r, hash, 0);
    if (HS_LIKELY(a->hash == hash && pyfr_ctx_same(r, a, k, hash, name))) {
        a->used = (uint32_t)r->asked;
        return a;
    }
    return pyfr_ctx_find_rest(r, a, k, hash, name);
}

/* Where a new context goes, its set's last made room for: the first set
 * when its least recent context is empty or was not met in the table's
 * worth of look-ups (a program's contexts come and go: most are found at
 * the first set's front, pyfr_ctx_find's quick path), else the set of the
 * two whose least recent was met longer ago.  A loop takes turns through
 * its contexts, each met again after all the others: a set given more
 * than PY_CTX_WAYS of them misses on every one each turn.  With one set a
 * context, ~310 contexts in turn (test_python_recent on 3.15) overfilled a
 * set or two and missed 1.6%, and in about one run in twelve five sets,
 * 13%; one set of eight (128 sets) overfilled on Debian 13's 3.13 (9 of
 * 298 hashes in one set: 2.9%).  Two choices keep a set's load near the
 * mean (the "power of two choices"). */
static struct pyfr_ctx *pyfr_ctx_room(struct pyfr_recent *r, uint64_t hash)
{
    struct pyfr_ctx *a = pyfr_ctx_set(r, hash, 0), *b = pyfr_ctx_set(r, hash, 1);
    const struct pyfr_ctx *la = &a[PY_CTX_WAYS - 1], *lb = &b[PY_CTX_WAYS - 1];
    uint32_t now = (uint32_t)r->asked;
    struct pyfr_ctx *c = !la->serial || now - la->used > PY_CTX_SETS * PY_CTX_WAYS ? a
                         : !lb->serial || (int32_t)(lb->used - la->used) < 0     ? b
                                                                                 : a;
    memmove(c + 1, c, (PY_CTX_WAYS - 1) * sizeof *c);
    return c;
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
    r->asked++;
    if (!(c = pyfr_ctx_find(r, k, pyfr_ctx_hash(k, name), name)))
        return 0;
    uint64_t w0 = pyfr_w0(k);
    struct pyfr_done *set = pyfr_done_set(r, c->serial, w0);
    for (unsigned j = 0; j < 2; j++)
        if (set[j].serial == c->serial && set[j].w0 == w0) {
            *id = set[j].id;
            r->found++;
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
        c = pyfr_ctx_room(r, hash);
        c->used = (uint32_t)r->asked;
        c->hash = hash;
        c->serial = r->serials;
        c->name = name;
        c->n = k->n;
        c->lim = k->lim;
        c->more = k->more;
        c->entry = k->entry;
        c->at = k->n > 1 ? pyfr_words_put(r, k->w + 1, k->n - 1) : 0;
    }
    uint64_t w0 = pyfr_w0(k);
    struct pyfr_done *set = pyfr_done_set(r, c->serial, w0);
    if (set[0].serial != c->serial || set[0].w0 != w0) /* a walk's splice may be kept already */
        set[1] = set[0];
    set[0] = (struct pyfr_done){c->serial, id, w0};
}

void pyfr_recent_thread_end(void)
{
    if (pyfr_rec) {
        atomic_fetch_add(&pyfr_asked_ended, pyfr_rec->asked);
        atomic_fetch_add(&pyfr_found_ended, pyfr_rec->found);
        arena_free(pyfr_rec, sizeof *pyfr_rec);
    }
    pyfr_rec = NULL;
    pyfr_rec_off = 1;
}

/* HEAPSNAP_VERBOSE: how often a stack's Python frames and native name were
 * a recent splice's (the ended threads' and the exiting thread's; tests
 * use it to see the tables hold a loop's contexts). */
__attribute__((destructor)) static void pyfr_recent_report(void)
{
    uint64_t asked = atomic_load(&pyfr_asked_ended), found = atomic_load(&pyfr_found_ended);
    if (pyfr_rec) {
        asked += pyfr_rec->asked;
        found += pyfr_rec->found;
    }
    if (!asked)
        return;
    opt_debug_count("python: stacks asked of the recent splices: ", asked);
    opt_debug_count("python: stacks found there: ", found);
}
