/*
 * frames.c - expands traces into stacks once per command, finds their
 * allocation site, and filters them (see frames.h for the rules).
 *
 * A trace's words (return addresses, Python frame words) name frame
 * records (framerec.h) through a table per snapshot (frameview.h), so
 * each distinct word is resolved once.  The records, with the
 * interpreter's left out of a Python stack, make the stack, interned by
 * its record sequence: the traces that read alike (the same stack in two
 * processes, or at two instruction offsets of one Python line) share one.
 * A stack's shown part (from its first frame past the wrappers) is
 * numbered by the idents of its frames; its text is built only when asked
 * (frames_id).  A compressed TRACES' trace (a node of its tree) is
 * gathered through its node's chain (fchain.h), made once per node from
 * its parent's, and the stack a chain made is kept on it: a trace costs
 * its new nodes, not its depth.  Everything lives until frames_fini,
 * whatever happens to the snapshots.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashfn.h"

#include "cli.h"
#include "fchain.h"
#include "framerec.h"
#include "frames.h"
#include "frameview.h"
#include "hidx.h"
#include "judge.h"
#include "sym.h"
#include "tmlike.h"
#include "wrappers.h"


/* A stack; the index's key is fr's pointers. */
struct stack {
    struct frames_trace t;
    const struct frame **fr;   /* frs: one allocation with the stack */
    const struct frame **py;   /* in fx's chunks, or NULL when py lies in fr */
    char *id;                  /* frames_id's text, once asked */
    const struct frame *frs[];
};

/* A shown part: the idents of its frames, numbered. */
struct shown {
    size_t len;                /* bytes of ids */
    uint32_t num;
    uint32_t ids[];
};

/* The stacks, their shown parts and their texts live until frames_fini,
 * in chunks handed out in order (fx_alloc) and given back whole: a big
 * snapshot makes a million of each, and their frees one by one (glibc
 * coalescing scattered chunks) were a fifth of an html report of `import
 * torch`'s snapshot. */
struct fx_chunk {
    struct fx_chunk *next;
    size_t size, used;
    char mem[];
};
#define FX_CHUNK_FIRST 65536u
#define FX_CHUNK_MAX (4u << 20)

/* A key of the indexes below: bytes at p. */
struct fx_key {
    const void *p;
    size_t len;
};

/* The command's stacks (the snapshots' views: fview_of).  A big snapshot
 * makes a stack and a shown part of most of its traces (774,243 of a C
 * program's), so both are hidx.h's indexes, not uthash's chains. */
static struct {
    struct fx_chunk *chunks;       /* fx_alloc's, the newest first */
    struct hidx stacks;            /* struct stack by fr */
    struct hidx shown;             /* struct shown by ids */
    uint32_t nshown;
    uint64_t *ips;                 /* scratch: the trace's ips */
    size_t capips;
    const struct frame **fr;       /* scratch: the frames being gathered */
    size_t capfr;
    uint32_t *idents;              /* scratch: a shown part's idents */
    size_t capidents;
    uint32_t *walk;                /* scratch: the nodes on the way to a known one */
    size_t capwalk;
    struct frec none[4];           /* the placeholders: no frames, unsampled; and
                                      tracemalloc's own (HSNAP_TRACE_TMOWN) */
} fx;

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct {
    int native;           /* --native */
    int interp;           /* --interpreter-frames */
    int pyonly;           /* frames_python_frames_only */
    int siteonly;         /* frames_site_only */
} py_cfg;

void frames_native_site(void) { py_cfg.native = 1; }
void frames_interpreter_frames(void) { py_cfg.interp = 1; }
void frames_python_frames_only(void) { py_cfg.pyonly = 1; }
void frames_site_only(void)
{
    if (!py_cfg.native && !py_cfg.interp) /* they ask for the frames it leaves out */
        py_cfg.pyonly = py_cfg.siteonly = 1;
}

void frames_site_only_of(const struct snap *s)
{
    struct frames_snap *v = fview_of(s);
    if (v && !py_cfg.native && !py_cfg.interp)
        v->siteonly = 1;
}

void frames_whole_of(const struct snap *s)
{
    struct frames_snap *v = fview_of(s);
    if (!v || !v->siteonly)
        return;
    v->siteonly = 0;
    memset(v->traces, 0, s->ntraces * sizeof(*v->traces));
}

/* Whether v's stacks are their site's alone, and a Python stack's words
 * its Python ones alone (frames_site_only, frames_site_only_of). */
static int site_only(const struct frames_snap *v)
{
    return (py_cfg.siteonly || v->siteonly) && !py_cfg.native && !py_cfg.interp;
}

static int python_only(const struct frames_snap *v)
{
    return py_cfg.pyonly || v->siteonly;
}

/* --- stacks -------------------------------------------------------------- */

static int push(int n, const struct frame *f)
{
    if (grow_array((void **)&fx.fr, &fx.capfr, (size_t)n + 1, sizeof(*fx.fr)) < 0)
        return -1;
    fx.fr[n] = f;
    return n + 1;
}

/* The placeholder frame of a trace without frames (judged). */
static const struct frame *placeholder(int unsampled)
{
    static const char *const names[2] = {"<unknown>", "<unsampled>"};
    struct frec *r = &fx.none[unsampled];
    if (!r->bits) {
        const char *x = names[unsampled];
        r->f = (struct frame){0, x, x, x, 0, x, "", 0, NULL, 0};
        if (judge_frame(r) < 0)
            return NULL;
    }
    return &r->f;
}

/* The site of an allocation the shim found tracemalloc's hooks made for
 * themselves (HSNAP_TRACE_TMOWN: told by the hooks' addresses), where no
 * frame is named so (no debug information): judged tracemalloc's own
 * (wrap_is_tracemalloc_own).  Its C file: Modules/_tracemalloc.c up to
 * 3.11, Python/tracemalloc.c from 3.12 (py_version 0: the older). */
static const struct frame *tm_own(uint32_t py_version)
{
    int later = py_version >= 0x030c0000u;
    static const char *const files[2] = {"Modules/_tracemalloc.c", "Python/tracemalloc.c"};
    struct frec *r = &fx.none[2 + later];
    if (!r->bits) {
        const char *file = files[later];
        r->f = (struct frame){0, "tracemalloc", file, file, 0, "<tracemalloc>", "", 0, NULL, 0};
        if (judge_frame(r) < 0)
            return NULL;
    }
    return &r->f;
}

/* Whether trace t, of n frames gathered (named: one is tracemalloc's own),
 * gets tm_own's frame in front: tracemalloc's own allocation that no
 * frame names; -1 when out of memory. */
static int trace_own(const struct snap *s, struct frames_snap *v, const struct snap_trace *t,
                     int n, int named)
{
    int own = (t->flags & HSNAP_TRACE_TMOWN) != 0;
    if (n == 0 || named)
        return 0;
    if (!own && s->py_version) { /* made before the shim knew the hooks */
        if (!v->tm && !(v->tm = tmlike_new(s)))
            return -1;
        own = tmlike_has(v->tm, s, t);
    }
    return own;
}

/* Ends the gathering of trace t's fx.fr[0..n) (npy Python frames; own:
 * trace_own's): tm_own's frame in front, or the placeholder for none, and
 * the interpreter left out of a Python stack; how many, -1. */
static int gather_end(const struct snap *s, const struct snap_trace *t, int n, int npy, int own)
{
    if (own) { /* debug information names it */
        const struct frame *tm = tm_own(s->py_version);
        if (!tm || push(n, tm) < 0)
            return -1;
        memmove(fx.fr + 1, fx.fr, (size_t)n * sizeof(*fx.fr));
        fx.fr[0] = tm, n++;
    }
    if (n == 0) {
        const struct frame *none = placeholder((t->flags & HSNAP_TRACE_UNSAMPLED) != 0);
        n = none ? push(0, none) : -1;
    }
    if (n > 0 && npy && !py_cfg.interp)
        n = judge_py_trim(fx.fr, n);
    return n;
}

/* Gathers the frames of trace t into fx.fr, the interpreter's left out of
 * a Python stack; how many, -1. */
static int gather(const struct snap *s, struct frames_snap *v, uint32_t ti)
{
    const struct snap_trace *t = &s->traces[ti];
    int n = 0, npy = 0, named = 0, era;
    if (grow_array((void **)&fx.ips, &fx.capips, (size_t)t->depth + 1, sizeof(*fx.ips)) < 0)
        return -1;
    snap_trace_ips(s, t, fx.ips);
    int pyonly = 0; /* a Python stack's native words are not even symbolized */
    for (int i = 0; i < t->depth && python_only(v) && !pyonly; i++)
        pyonly = HSNAP_IS_PYFRAME(fx.ips[i]);
    for (int i = 0; i < t->depth && n >= 0; i++) {
        struct frec *const *recs;
        if (pyonly && !HSNAP_IS_PYFRAME(fx.ips[i]))
            continue;
        int k = fview_word(s, v, ti, fx.ips[i], &recs, &era);
        if (k < 0)
            return -1;
        if (k && (size_t)n + k > fx.capfr && push(n + k - 1, NULL) < 0) /* room for k */
            return -1;
        for (int j = 0; j < k; j++) {
            npy += (recs[j]->bits & V_PYTHON) != 0;
            named |= (recs[j]->bits & V_TMOWN) != 0;
            fx.fr[n++] = &recs[j]->f;
        }
    }
    int own = trace_own(s, v, t, n, named);
    return own < 0 ? -1 : gather_end(s, t, n, npy, own);
}

/* --- a compressed TRACES' nodes ------------------------------------------ */

/* The nodes from node outward while their memo (m32's or m8's) is 0, into
 * fx.walk, innermost first: how many, or -1; the first with one (0: past
 * the outermost) in *at. */
static int64_t walk_out(const struct snap *s, uint32_t node, const uint32_t *m32,
                        const uint8_t *m8, uint32_t *at)
{
    size_t n = 0;
    for (; node && !(m32 ? m32[node] : m8[node]); node = s->nodes[node].parent) {
        if (n + 1 > fx.capwalk &&
            grow_array((void **)&fx.walk, &fx.capwalk, n + 1, sizeof(*fx.walk)) < 0)
            return -1;
        fx.walk[n++] = node;
    }
    *at = node;
    return (int64_t)n;
}

/* Whether a word from node outward is a Python frame's: 1, 0, or -1. */
static int node_has_py(const struct snap *s, struct frames_snap *v, uint32_t node)
{
    uint32_t at;
    if (!v->haspy && !(v->haspy = big_calloc((size_t)s->nnodes + 1, 1)))
        return -1;
    int64_t n = walk_out(s, node, NULL, v->haspy, &at);
    if (n < 0)
        return -1;
    uint8_t py = at ? v->haspy[at] : 1;
    while (n-- > 0) {
        uint32_t x = fx.walk[n];
        py = HSNAP_IS_PYFRAME(s->iptab[s->nodes[x].ipx]) ? 2 : py;
        v->haspy[x] = py;
    }
    return v->haspy[node] == 2;
}

/* The chain of the records of the words from node outward (of their Python
 * ones alone when py), made for the nodes not met before; NODE_ERA when a
 * word's records depend on the trace (word_of_era: never kept), -1 when
 * out of memory. */
static int64_t node_chain(const struct snap *s, struct frames_snap *v, uint32_t ti,
                          uint32_t node, int py)
{
    uint32_t at, *memo = v->chains[py];
    if (!memo && !(memo = v->chains[py] = big_calloc((size_t)s->nnodes + 1, sizeof(*memo))))
        return -1;
    int64_t n = walk_out(s, node, memo, NULL, &at);
    if (n < 0)
        return -1;
    int era = at && memo[at] == NODE_ERA;
    uint32_t c = at && !era ? memo[at] - 1 : 0;
    while (!era && n-- > 0) {
        uint64_t w = s->iptab[s->nodes[fx.walk[n]].ipx];
        struct frec *const *recs;
        int k = 0;
        if (!(py && !HSNAP_IS_PYFRAME(w)) && (k = fview_word(s, v, ti, w, &recs, &era)) < 0)
            return -1;
        if (era) { /* this node and every one inward */
            n++;
            break;
        }
        for (int j = k; j-- > 0;) { /* the outermost inline level first */
            int64_t id = fchain_push(&recs[j]->f, (recs[j]->bits & V_PYTHON) != 0,
                                     recs[j]->bits, c);
            if (id < 0)
                return -1;
            c = (uint32_t)id;
        }
        memo[fx.walk[n]] = c + 1;
    }
    while (era && n-- > 0)
        memo[fx.walk[n]] = NODE_ERA;
    return era ? NODE_ERA : c;
}

/* n bytes (8-aligned) that live until frames_fini, or NULL. */
static void *fx_alloc(size_t n)
{
    struct fx_chunk *c = fx.chunks;
    n = (n + 7) & ~(size_t)7;
    if (!c || c->size - c->used < n) {
        size_t size = c ? 2 * c->size : FX_CHUNK_FIRST;
        size = size > FX_CHUNK_MAX ? FX_CHUNK_MAX : size;
        size = size < n ? n : size;
        if (size > SIZE_MAX - sizeof(*c) || !(c = big_malloc(sizeof(*c) + size)))
            return NULL;
        c->next = fx.chunks;
        c->size = size;
        c->used = 0;
        fx.chunks = c;
    }
    void *p = c->mem + c->used;
    c->used += n;
    return p;
}

static int shown_same(const void *item, const void *key)
{
    const struct shown *e = item;
    const struct fx_key *k = key;
    return e->len == k->len && !memcmp(e->ids, k->p, k->len);
}

/* The number of st's shown part (its frames from first outward, by
 * ident), whose idents st->t.ids then points at; -1 when out of memory. */
static int64_t shown_num(struct stack *st)
{
    int len = st->t.n - st->t.first;
    struct shown *e;
    if (grow_array((void **)&fx.idents, &fx.capidents, (size_t)len + 1, sizeof(*fx.idents)) < 0)
        return -1;
    for (int i = 0; i < len; i++)
        fx.idents[i] = st->fr[st->t.first + i]->ident;
    struct fx_key key = {fx.idents, (size_t)len * sizeof(*fx.idents)};
    uint64_t hv = hashfn_bytes64(key.p, key.len); /* once, for the look-up and the add */
    if ((e = hidx_find(&fx.shown, hv, shown_same, &key)) != NULL) {
        st->t.ids = e->ids;
        return e->num;
    }
    if (!(e = fx_alloc(sizeof(*e) + key.len)))
        return -1;
    memcpy(e->ids, key.p, key.len);
    e->len = key.len;
    e->num = fx.nshown;
    if (hidx_add(&fx.shown, hv, e) < 0)
        return -1;
    st->t.ids = e->ids;
    return fx.nshown++;
}

/* st's Python frames (npy of them), and the site moved to the innermost
 * unless --native; -1 when out of memory. */
static int py_list(struct stack *st, int npy)
{
    int lo = -1, hi = -1;
    for (int i = 0; i < st->t.n; i++)
        if (st->fr[i]->pymodule) {
            lo = lo < 0 ? i : lo;
            hi = i;
        }
    /* tracemalloc's own tables stay at their native site (wrap_is_tracemalloc_own) */
    if (!py_cfg.native && lo > st->t.site && !(judge_bits(st->fr[st->t.site]) & V_TMOWN))
        st->t.site = lo;
    st->t.npy = npy;
    if (hi - lo + 1 == npy) { /* one run: a view into fr */
        st->t.py = st->fr + lo;
        return 0;
    }
    if (!(st->py = fx_alloc((size_t)npy * sizeof(*st->py))))
        return -1;
    for (int i = 0, k = 0; i < st->t.n; i++)
        if (st->fr[i]->pymodule)
            st->py[k++] = st->fr[i];
    st->t.py = st->py;
    return 0;
}

/* A new stack of the frames fx.fr[0..n), whose hash is hv. */
static struct stack *stack_new(int n, uint64_t hv)
{
    struct stack *st = fx_alloc(sizeof(*st) + (size_t)n * sizeof(*st->fr));
    int npy = 0;
    if (!st)
        return NULL;
    memset(st, 0, sizeof(*st));
    st->fr = st->frs;
    memcpy(st->fr, fx.fr, (size_t)n * sizeof(*st->fr));
    st->t.n = n;
    st->t.fr = st->fr;
    st->t.first = st->t.site = judge_site(st->fr, n, &st->t.nwrap);
    for (int i = 0; i < n; i++)
        npy += st->fr[i]->pymodule != NULL;
    if (npy && py_list(st, npy) < 0)
        goto oom;
    int64_t num = shown_num(st);
    if (num < 0)
        goto oom;
    st->t.shown = (uint32_t)num;
    st->t.site_name = frec_site_name(st->fr[st->t.site]->ident);
    if (hidx_add(&fx.stacks, hv, st) < 0)
        goto oom;
    return st;
oom: /* st stays in its chunk, unnamed */
    return NULL;
}

static int stack_same(const void *item, const void *key)
{
    const struct stack *st = item;
    const struct fx_key *k = key;
    return (size_t)st->t.n * sizeof(*st->fr) == k->len && !memcmp(st->fr, k->p, k->len);
}

/* The stack of the frames fx.fr[0..n), made when new. */
static struct stack *stack_of(int n)
{
    struct fx_key key = {fx.fr, (size_t)n * sizeof(*fx.fr)};
    uint64_t hv = hashfn_bytes64(key.p, key.len); /* once, for the look-up and the add */
    struct stack *st = hidx_find(&fx.stacks, hv, stack_same, &key);
    return st ? st : stack_new(n, hv);
}

/* Trace ti of a compressed TRACES, from its node's chain: the stack that
 * chain made before, unless the trace gets tm_own's frame or has none;
 * NULL with *slow set when its words depend on the trace (gather it),
 * NULL alone when out of memory. */
static const struct frames_trace *get_by_node(const struct snap *s, struct frames_snap *v,
                                              uint32_t ti, int *slow)
{
    const struct snap_trace *t = &s->traces[ti];
    int py = python_only(v) ? node_has_py(s, v, t->node) : 0;
    int64_t c = py < 0 ? -1 : node_chain(s, v, ti, t->node, py);
    if (c == NODE_ERA)
        *slow = 1;
    const struct fchain *ch = c < 0 || c == NODE_ERA ? NULL : fchain_at((uint32_t)c);
    if (!ch)
        return NULL;
    int own = trace_own(s, v, t, (int)ch->len, (ch->bits & V_TMOWN) != 0);
    if (own < 0)
        return NULL;
    if (c && !own && ch->stack)
        return ch->stack;
    if (push((int)ch->len, NULL) < 0) /* room for len frames and tm_own's */
        return NULL;
    fchain_frames((uint32_t)c, fx.fr);
    /* judge_py_trim keeps every frame when none is machinery or runtime */
    int trim = ch->npy && (own || (ch->bits & (V_PYMACH | V_RUNTIME)));
    int n = gather_end(s, t, (int)ch->len, trim ? (int)ch->npy : 0, own);
    struct stack *st = n < 0 ? NULL : stack_of(n);
    if (st && c && !own)
        fchain_at((uint32_t)c)->stack = &st->t;
    return st ? &st->t : NULL;
}

/* Trace ti's word i: *node the tree's node of it, moved outward. */
static uint64_t site_word(const struct snap *s, int by_node, uint32_t *node, int i)
{
    uint64_t w = by_node ? s->iptab[s->nodes[*node].ipx] : fx.ips[i];
    if (by_node)
        *node = s->nodes[*node].parent;
    return w;
}

/* The stack of fx.fr[site..last] alone (frames_site_only's: a site and
 * the frames its name needs), unless it is tracemalloc's own (trace_own:
 * gathered whole); NULL then or out of memory. */
static const struct frames_trace *site_alone(const struct snap *s, struct frames_snap *v,
                                             const struct snap_trace *t, int site, int last)
{
    if (trace_own(s, v, t, 1, 0) != 0)
        return NULL;
    memmove(fx.fr, fx.fr + site, (size_t)(last - site + 1) * sizeof(*fx.fr));
    struct stack *st = stack_of(last - site + 1);
    return st ? &st->t : NULL;
}

/* Trace ti's stack of its site alone (frames_site_only): in a Python
 * stack the innermost Python frame past the wrappers and the machinery
 * (its native words are not symbolized); in a native one the site
 * judge_site would find, symbolized from the innermost word out only
 * until the frames further out cannot change it (judge_site_known).  NULL,
 * to gather it whole, when that needs the other frames (no such frame, a
 * Python one without a file, tracemalloc's own) or out of memory. */
static const struct frames_trace *get_site(const struct snap *s, struct frames_snap *v,
                                           uint32_t ti)
{
    const struct snap_trace *t = &s->traces[ti];
    uint32_t node = t->node;
    int by_node = s->nodes && !t->ips, era, py = 0, n = 0;
    if (!by_node) {
        if (grow_array((void **)&fx.ips, &fx.capips, (size_t)t->depth + 1, sizeof(*fx.ips)) < 0)
            return NULL;
        snap_trace_ips(s, t, fx.ips);
    }
    /* by node, the load's innermost Python frame (snap_trace.pynode): a
     * Python stack's site is looked for from there, not through the
     * native frames under it (an extension's constructors: dozens, a
     * cache miss each); a tree made otherwise asks node_has_py's memo */
    int i = 0;
    if (by_node && !s->pynodes && t->depth && (py = node_has_py(s, v, t->node)) < 0)
        return NULL;
    if (by_node && s->pynodes && (py = t->pynode != 0))
        node = t->pynode, i = t->pyat;
    for (int k = 0; !by_node && k < t->depth && !py; k++)
        py = HSNAP_IS_PYFRAME(site_word(s, by_node, &node, k));
    for (; i < t->depth; i++) {
        uint64_t w = site_word(s, by_node, &node, i);
        struct frec *const *recs;
        if (py && !HSNAP_IS_PYFRAME(w))
            continue;
        if (!py && n) { /* decided by w's module alone: w is not symbolized */
            const struct snap_module *m = snap_module_in(s, ti, w);
            int32_t mod = m ? v->mods[m - s->modules] : -1;
            if (mod >= 0 && fview_is_self(mod))
                continue; /* the shim's own: no frame */
            int last, site = judge_site_known(fx.fr, n, mod >= 0 ? sym_module_base(mod) : NULL,
                                              &last);
            if (site >= 0)
                return site_alone(s, v, t, site, last);
        }
        int k = fview_word(s, v, ti, w, &recs, &era);
        if (k < 0)
            return NULL;
        for (int j = 0; py && j < k; j++) {
            const struct frec *r = recs[j];
            if (r->bits & (V_WRAPPER | V_PYMACH))
                continue;
            if (!(r->bits & V_PYTHON) || !frames_has_file(&r->f) || push(0, &r->f) < 0)
                return NULL;
            return site_alone(s, v, t, 0, 0);
        }
        if (py || !k)
            continue;
        if (push(n + k - 1, NULL) < 0) /* room for k */
            return NULL;
        for (int j = 0; j < k; j++)
            fx.fr[n++] = &recs[j]->f;
    }
    return NULL;
}

const struct frames_trace *frames_get(const struct snap *s, uint32_t ti)
{
    struct frames_snap *v = fview_of(s);
    if (!v)
        return NULL;
    if (v->traces[ti])
        return v->traces[ti];
    const struct snap_trace *t = &s->traces[ti];
    const struct frames_trace *r = NULL;
    if (site_only(v) && (r = get_site(s, v, ti)))
        return v->traces[ti] = r;
    int slow = !s->nodes || t->ips || !t->depth;
    r = slow ? NULL : get_by_node(s, v, ti, &slow);
    if (slow) {
        int n = gather(s, v, ti);
        struct stack *st = n < 0 ? NULL : stack_of(n);
        r = st ? &st->t : NULL;
    }
    return r ? (v->traces[ti] = r) : NULL;
}

int frames_has_python(const struct snap *s, uint32_t ti)
{
    const struct snap_trace *t = &s->traces[ti];
    struct frames_snap *v = fview_of(s);
    if (!v)
        return -1;
    if (s->nodes && !t->ips && s->pynodes)
        return t->pynode != 0; /* the load's answer (snap_trace.pynode) */
    if (s->nodes && !t->ips)
        return t->depth ? node_has_py(s, v, t->node) : 0;
    for (int i = 0; i < t->depth; i++)
        if (HSNAP_IS_PYFRAME(snap_ip(s, t, i)))
            return 1;
    return 0;
}

const char *frames_id(const struct frames_trace *t)
{
    struct stack *st = (struct stack *)((char *)t - offsetof(struct stack, t));
    size_t len = 1, at = 0;
    if (st->id)
        return st->id;
    for (int i = t->first; i < t->n; i++)
        len += strlen(frec_ident_text(t->fr[i]->ident));
    if (!(st->id = fx_alloc(len)))
        return NULL;
    for (int i = t->first; i < t->n; i++) {
        const char *p = frec_ident_text(t->fr[i]->ident);
        size_t k = strlen(p);
        memcpy(st->id + at, p, k);
        at += k;
    }
    st->id[at] = 0;
    return st->id;
}

int frames_id_cmp(const struct frames_trace *a, const struct frames_trace *b)
{
    int i = a->first, k = b->first;
    for (; i < a->n && k < b->n; i++, k++) {
        if (a->fr[i]->ident == b->fr[k]->ident)
            continue;
        const char *x = frec_ident_text(a->fr[i]->ident), *y = frec_ident_text(b->fr[k]->ident);
        size_t lx = strlen(x), ly = strlen(y);
        int c = memcmp(x, y, lx < ly ? lx : ly);
        if (c || lx == ly)
            return c ? c : 0; /* equal texts of two idents cannot be */
        /* one text a prefix of the other: the strings decide, whole */
        const char *ia = frames_id(a), *ib = frames_id(b);
        return ia && ib ? strcmp(ia, ib) : 0;
    }
    return (i < a->n) - (k < b->n);
}

void frames_forget(const struct snap *s)
{
    fview_forget(s);
}

static unsigned frames_eras; /* frames_era */

unsigned frames_era(void)
{
    return frames_eras;
}

void frames_fini(void)
{
    frames_eras++;
    for (struct fx_chunk *c = fx.chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    hidx_free(&fx.stacks);
    hidx_free(&fx.shown);
    fview_fini();
    free(fx.fr);
    free(fx.ips);
    free(fx.idents);
    free(fx.walk);
    memset(&fx, 0, sizeof(fx));
    judge_fini();
    wrap_fini();
    fchain_fini();
    frec_fini();
    sym_fini();
}
