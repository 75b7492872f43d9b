/*
 * stats.c - groups live traces by a key and orders the groups the way
 * tracemalloc does (Snapshot.statistics, Snapshot.compare_to).
 *
 * A trace's frames and its allocation site come from frames_get.
 * Keys:
 *   lineno    "file.c:12"      filename  "file.c:0"     function  "name"
 *   module    "libfoo.so"      traceback the frames from the site outward
 * (lineno without a line: "name (libfoo.so)", key_head).  --cumulative
 * charges a trace to every distinct key among the frames from the site
 * outward.  --include/--exclude are frames_filter_add's filters; the options are
 * statsopt_parse's.  The HTML report's folded tables group by pyfold_site.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashfn.h"

#include "cli.h"
#include "escape.h"
#include "fmt.h"
#include "hidx.h"
#include "lset.h"
#include "peakread.h"
#include "progress.h"
#include "pycollected.h"
#include "pyfold.h"
#include "stats.h"

struct strbuf {
    char *p;
    size_t len, cap;
};

/* Groups by a number their frames stand for (group_memo_find). */
struct group_memo {
    struct stat_entry **v;
    size_t cap;
};

struct stats {
    struct stats_opts o;
    /* The groups in the order made (the order a sort keeps among equal
     * ones), NULL where stats_compare moved one out, and by id: a big
     * snapshot's tracebacks are a million groups, whose uthash chains
     * cost a cache miss a group at each look-up (hidx.h). */
    struct stat_entry **all;
    size_t nall, capall;
    struct hidx byid;
    struct stat_entry **sorted;
    size_t nsorted;
    int kinds;                   /* of the groups the last stats_sort or stats_top
                                    listed: 1 malloc ones, 2 mmap ones */
    uint64_t stamp;              /* trace serial, dedupes cumulative keys */
    struct strbuf id;            /* scratch: key identity being built */
    const char *type;            /* the Python type being charged (KEY_TYPE, by_type) */
    struct stat_entry *last;     /* the group charged last (stats_group_of) */
    struct group_memo byident;   /* charge_frame's groups by ident */
    struct group_memo byshown;   /* charge_stack's: by 2 x shown + mmap */
    struct strbuf *frag;         /* id_add's text of a frame, by its ident (len 0: none yet) */
    size_t capfrag;
    const uint64_t *resident;    /* stats_add's snapshot's MAPPED residency by trace, or NULL */
    uint32_t trace;              /* the trace being charged (charge_trace) */
};

/* --- setup ------------------------------------------------------------- */

const char *const stats_sort_names[] = {"live", "allocations", "allocated"};
const char *const stats_key_names[] = {"lineno", "filename", "function", "module",
                                       "traceback", "type", "thread"};

struct stats *stats_new(const struct stats_opts *o)
{
    struct stats *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->o = *o;
    return st;
}

static void entry_free(struct stat_entry *e)
{
    free(e->thread);
    free(e->id);
    free(e->type);
    free(e);
}

void stats_free(struct stats *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nall; i++)
        if (st->all[i])
            entry_free(st->all[i]);
    free(st->all);
    hidx_free(&st->byid);
    free(st->sorted);
    free(st->id.p);
    free(st->byident.v);
    free(st->byshown.v);
    for (size_t i = 0; i < st->capfrag; i++)
        free(st->frag[i].p);
    free(st->frag);
    free(st);
}

/* --- groups ------------------------------------------------------------ */

static int sb_add(struct strbuf *b, const char *s, size_t n)
{
    if (grow_array((void **)&b->p, &b->cap, b->len + n + 1, 1) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

/* Appends frame f's identity to the id being built. */
static int id_make(struct stats *st, const struct frame *f)
{
    char num[24], where[KEY_PART_MAX];
    int line;
    const char *name = stats_key_part(st->o.key, f, where, sizeof(where), &line);
    int n = snprintf(num, sizeof(num), "\x1f%d\x1f", line);
    if (sb_add(&st->id, name, strlen(name)) || sb_add(&st->id, num, n))
        return -1;
    if (st->o.key == KEY_TRACEBACK)
        return sb_add(&st->id, f->func, strlen(f->func));
    return 0;
}

/* The traceback key's frame texts, each numbered once for the process
 * while the frames' records live (frames_era): a traceback group's id is
 * its frames' numbers as tokens ("\x02" hex "\x03"), not their texts, a
 * kilobyte or two a group, which made a big snapshot's ids most of a
 * traceback view's memory.  Equal texts, equal tokens, in every stats of
 * the era, so ids still match across them (stats_compare, growth).  Not
 * under --retained, whose ties are ordered by the ids' text (pyretained.c). */
struct tb_text {
    char *p;
    size_t len;
    uint32_t num;
};
static struct {
    unsigned era;
    struct hidx bytext;
    struct tb_text **v;
    size_t n, cap;
} tb;

static int tb_same(const void *item, const void *key)
{
    const struct tb_text *a = item, *b = key;
    return a->len == b->len && !memcmp(a->p, b->p, a->len);
}

static void tb_reset(void)
{
    for (size_t i = 0; i < tb.n; i++) {
        free(tb.v[i]->p);
        free(tb.v[i]);
    }
    free(tb.v);
    hidx_free(&tb.bytext);
    memset(&tb, 0, sizeof(tb));
    tb.era = frames_era();
}

/* st->id[at..] (a frame's text) replaced by its token; -1 when out of
 * memory. */
static int tb_tokenize(struct stats *st, size_t at)
{
    if (tb.era != frames_era())
        tb_reset();
    struct tb_text key = {st->id.p + at, st->id.len - at, 0}, *e;
    uint64_t h = hashfn_bytes64(key.p, key.len);
    if (!(e = hidx_find(&tb.bytext, h, tb_same, &key))) {
        if (grow_array((void **)&tb.v, &tb.cap, tb.n + 1, sizeof(*tb.v)) < 0 ||
            !(e = malloc(sizeof(*e))))
            return -1;
        if (!(e->p = malloc(key.len ? key.len : 1))) {
            free(e);
            return -1;
        }
        memcpy(e->p, key.p, key.len);
        e->len = key.len;
        e->num = (uint32_t)tb.n;
        if (hidx_add(&tb.bytext, h, e) < 0) {
            free(e->p);
            free(e);
            return -1;
        }
        tb.v[tb.n++] = e;
    }
    char tok[16];
    int n = snprintf(tok, sizeof(tok), "\x02%x\x03", e->num);
    st->id.len = at;
    return sb_add(&st->id, tok, (size_t)n);
}

/* id_make's text is a function of the key and of the frame's file, line,
 * function and module, which its ident stands for (frames.h): made once
 * an ident, then copied (a traceback's 45 frames, at every stack). */
static int id_add(struct stats *st, const struct frame *f)
{
    uint32_t k = f->ident;
    if (k == FRAMES_NO_IDENT)
        return id_make(st, f);
    if (k < st->capfrag && st->frag[k].len)
        return sb_add(&st->id, st->frag[k].p, st->frag[k].len);
    size_t at = st->id.len, old = st->capfrag;
    if (id_make(st, f) < 0 ||
        (st->o.key == KEY_TRACEBACK && !st->o.retained && tb_tokenize(st, at) < 0))
        return -1;
    if (grow_array((void **)&st->frag, &st->capfrag, (size_t)k + 1, sizeof(*st->frag)) < 0)
        return 0; /* unmemoized: the id is made all the same */
    memset(st->frag + old, 0, (st->capfrag - old) * sizeof(*st->frag));
    struct strbuf *m = &st->frag[k];
    m->p = malloc(st->id.len - at);
    if (m->p) {
        memcpy(m->p, st->id.p + at, st->id.len - at);
        m->len = st->id.len - at;
    }
    return 0;
}

/* A key of st->byid: an id's bytes. */
struct id_key {
    const char *p;
    size_t len;
};

static int id_same(const void *item, const void *key)
{
    const struct stat_entry *e = item;
    const struct id_key *k = key;
    return e->idlen == k->len && !memcmp(e->id, k->p, k->len);
}

/* The group whose id is id[0..len) (hashed h), or NULL. */
static struct stat_entry *group_by_id(const struct stats *st, const char *id, size_t len,
                                      uint64_t h)
{
    struct id_key k = {id, len};
    return hidx_find(&st->byid, h, id_same, &k);
}

/* Adds group e (its id hashed h) after st's others; -1 when out of memory. */
static int group_keep(struct stats *st, struct stat_entry *e, uint64_t h)
{
    if (grow_array((void **)&st->all, &st->capall, st->nall + 1, sizeof(*st->all)) < 0 ||
        hidx_add(&st->byid, h, e) < 0)
        return -1;
    st->all[st->nall++] = e;
    return 0;
}

/* A new group of identity st->id (hashed h: a traceback's is kilobytes,
 * hashed once for the look-up and the add). */
static struct stat_entry *group_new_hashed(struct stats *st, const struct frame *const *fr, int n,
                                           int head, int mmap, uint64_t h)
{
    struct stat_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->id = strdup(st->id.p)) || (st->type && !(e->type = strdup(st->type)))) {
        if (e)
            free(e->id);
        free(e);
        return NULL;
    }
    e->mmap = mmap;
    e->nframes = n;
    e->frames = fr;
    e->head = head;
    e->idlen = st->id.len;
    if (group_keep(st, e, h) < 0) {
        entry_free(e);
        return NULL;
    }
    return e;
}

/* *a += v, held at INT64_MAX: the load does not bound the allocation
 * totals (a crafted snapshot's, or a long run's), and they must not wrap. */
static void sat_add(int64_t *a, uint64_t v)
{
    *a = v > (uint64_t)(INT64_MAX - *a) ? INT64_MAX : *a + (int64_t)v;
}

/* The group of frames fr[0..n), named by fr[head], made when new; NULL
 * when out of memory. */
static struct stat_entry *group_find(struct stats *st, const struct frame *const *fr, int n,
                                     int head, int mmap)
{
    struct stat_entry *e;
    st->id.len = 0;
    for (int i = 0; i < n; i++)
        if (id_add(st, fr[i]) < 0)
            return NULL;
    if (mmap && sb_add(&st->id, "\x01mmap", 5) < 0) /* a group of its own */
        return NULL;
    if (st->type && (sb_add(&st->id, "\x1e", 1) < 0 || sb_add(&st->id, st->type, strlen(st->type)) < 0))
        return NULL;
    uint64_t h = hashfn_bytes64(st->id.p, st->id.len);
    e = group_by_id(st, st->id.p, st->id.len, h);
    return e ? e : group_new_hashed(st, fr, n, head, mmap, h);
}

/* Charges sv to group e (once a trace under --cumulative). */
static int group_add(struct stats *st, struct stat_entry *e, const struct hsnap_stat *sv)
{
    st->last = e;
    if (e->stamp == st->stamp)
        return 0; /* cumulative: this trace already counted here */
    e->stamp = st->stamp;
    e->live |= sv->live_count || sv->live_bytes;
    if (st->o.failed) { /* --failed: count summed, size the largest asked */
        sat_add(&e->count, sv->live_count);
        if ((int64_t)sv->live_bytes > e->size)
            e->size = (int64_t)sv->live_bytes;
        return 0;
    }
    /* Each snapshot's sums are bounded at load (snap_load); many of them
     * together saturate rather than wrap. */
    if (__builtin_add_overflow(e->size, (int64_t)sv->live_bytes, &e->size))
        e->size = INT64_MAX;
    if (__builtin_add_overflow(e->count, (int64_t)sv->live_count, &e->count))
        e->count = INT64_MAX;
    sat_add(&e->alloc_size, sv->total_bytes);
    sat_add(&e->alloc_count, sv->total_count);
    if (e->mmap && (sv->live_count || sv->live_bytes)) { /* its residency, where measured */
        if (!st->resident)
            e->residency = -1;
        else if (e->residency >= 0)
            e->residency = 1, sat_add(&e->resident, st->resident[st->trace]);
    }
    return 0;
}

int stats_untouched(const struct stat_entry *e)
{
    return e->mmap && e->residency == 1 && e->resident == 0 && e->size > 0;
}

int64_t stats_rank_size(const struct stat_entry *e)
{
    return e->mmap && e->residency == 1 && e->resident < e->size ? e->resident : e->size;
}

int stats_partly_resident(const struct stat_entry *e)
{
    return e->mmap && e->residency == 1 && e->resident > 0 && e->resident < e->size;
}

/* Charges size/count to the group of frames fr[0..n), named by fr[head]. */
static int group_charge(struct stats *st, const struct frame *const *fr, int n, int head,
                        const struct hsnap_stat *sv, int mmap)
{
    struct stat_entry *e = group_find(st, fr, n, head, mmap);
    return e ? group_add(st, e, sv) : -1;
}

/* A memo of groups by a number the frames stand for (an ident, a shown
 * id): where it has one at `at`, that group, else the group of fr[0..n)
 * found by its identity (built) and kept there; NULL when out of memory. */
static struct stat_entry *group_memo_find(struct stats *st, struct group_memo *m, size_t at,
                                          const struct frame *const *fr, int n, int head,
                                          int mmap)
{
    if (at < m->cap && m->v[at])
        return m->v[at];
    size_t old = m->cap;
    struct stat_entry *e = group_find(st, fr, n, head, mmap);
    if (!e || grow_array((void **)&m->v, &m->cap, at + 1, sizeof(*m->v)) < 0)
        return NULL;
    memset(m->v + old, 0, (m->cap - old) * sizeof(*m->v));
    return m->v[at] = e;
}

/* group_charge of one frame of a stack: under a key its ident decides (not
 * module: a Python one's is the file's), a group (not mmap, not by type)
 * is found by the ident after its first time, its identity unbuilt. */
static int charge_frame(struct stats *st, const struct frame *const *fr,
                        const struct hsnap_stat *sv, int mmap)
{
    uint32_t k = st->o.key;
    if (mmap || st->type || (k != KEY_LINENO && k != KEY_FILENAME && k != KEY_FUNCTION) ||
        fr[0]->ident == FRAMES_NO_IDENT)
        return group_charge(st, fr, 1, 0, sv, mmap);
    struct stat_entry *e = group_memo_find(st, &st->byident, fr[0]->ident, fr, 1, 0, mmap);
    return e ? group_add(st, e, sv) : -1;
}

/* group_charge of a whole stack as shown (--key traceback, t's frames
 * from its first): equal `shown`, equal frames (frames.h), so a group
 * (not by type) is found by it after its first time, its identity (the
 * text of every frame) unbuilt. */
static int charge_stack(struct stats *st, const struct frames_trace *t,
                        const struct hsnap_stat *sv, int mmap)
{
    const struct frame *const *fr = t->fr + t->first;
    int rest = t->n - t->first, head = st->o.native_site ? 0 : t->site - t->first;
    if (st->type)
        return group_charge(st, fr, rest, head, sv, mmap);
    struct stat_entry *e = group_memo_find(st, &st->byshown, 2 * (size_t)t->shown + (mmap != 0),
                                           fr, rest, head, mmap);
    return e ? group_add(st, e, sv) : -1;
}

/* --key lineno: a site with neither line nor name (a static function of a
 * library without debug information) is keyed by its nearest named caller
 * in its module ("sqlite3BtreeInsert (libsqlite3.so.0)"): one row per
 * library ("[libsqlite3.so.0]:0") would say little. */
static int key_head(const struct stats *st, const struct frame *const *fr, int rest, int head)
{
    int i = head;
    if (st->o.key != KEY_LINENO)
        return head;
    while (i + 1 < rest && !frames_has_file(fr[i]) && !frames_has_symbol(fr[i]) &&
           fr[i]->module[0] != '<' && !strcmp(fr[i]->module, fr[i + 1]->module))
        i++;
    return stats_key_by_function(KEY_LINENO, fr[i]) ? i : head;
}

/* The live sums: an mmap-kind trace's residency at the snapshot goes with
 * them (MAPPED: not for the peak's sums, nor a snapshot without it). */
int stats_add(struct stats *st, const struct snap *s)
{
    st->resident = s->has_mapped ? s->resident : NULL;
    int rc = stats_add_values(st, s, s->stats);
    st->resident = NULL;
    return rc;
}

void stats_residency(struct stats *st, const uint64_t *resident)
{
    st->resident = resident;
}

/* KEY_THREAD: charges sv to the group of the thread that allocated trace
 * ti (by its label: the same thread in two snapshots is one group). */
static int charge_thread(struct stats *st, const struct snap *s, uint32_t ti,
                         const struct hsnap_stat *sv, int mmap)
{
    const struct hsnap_thread *t = snap_thread_of(s, ti);
    char label[64];
    struct stat_entry *e;
    stats_thread_label(t, label, sizeof label);
    st->id.len = 0;
    if (sb_add(&st->id, "\x1dthread\x1f", 8) < 0 || sb_add(&st->id, label, strlen(label)) < 0 ||
        (mmap && sb_add(&st->id, "\x01mmap", 5) < 0))
        return -1;
    uint64_t h = hashfn_bytes64(st->id.p, st->id.len);
    if (!(e = group_by_id(st, st->id.p, st->id.len, h))) {
        if (!(e = group_new_hashed(st, NULL, 0, 0, mmap, h)) || !(e->thread = strdup(label)))
            return -1;
        if (t)
            e->thr = *t;
        else
            e->thr.index = HSNAP_THREAD_NONE;
    }
    return group_add(st, e, sv);
}

/* Charges trace ti's values sv to its groups. */
static int charge_trace(struct stats *st, const struct snap *s, uint32_t ti,
                        const struct hsnap_stat *sv)
{
    const struct frames_filter *fl = &st->o.filter;
    st->trace = ti;
    if (st->o.thread && !stats_thread_kept(st->o.thread, snap_thread_of(s, ti)))
        return 0;
    if (st->o.key == KEY_TYPE && !fl->ninclude && !fl->nexclude) { /* no frames needed */
        st->stamp++;
        return snap_kind_kept(st->o.kind, s, ti)
                   ? group_charge(st, NULL, 0, 0, sv, (s->traces[ti].flags & HSNAP_TRACE_MMAP) != 0)
                   : 0;
    }
    const struct frames_trace *t = frames_get(s, ti);
    if (!t)
        return -1;
    if (!frames_kept(&st->o.filter, t) || !snap_kind_kept(st->o.kind, s, ti))
        return 0;
    int mmap = (s->traces[ti].flags & HSNAP_TRACE_MMAP) != 0;
    st->stamp++;
    if (st->o.key == KEY_TYPE)
        return group_charge(st, NULL, 0, 0, sv, mmap);
    if (st->o.key == KEY_THREAD)
        return charge_thread(st, s, ti, sv, mmap);
    /* The stack as shown from its first frame past the wrappers; under
     * --python-only, a Python stack's Python frames alone. */
    if (st->o.key == KEY_TRACEBACK && !(st->o.python_only && !st->o.native_site && t->npy))
        return charge_stack(st, t, sv, mmap);
    const struct frame *const *fr = t->fr + t->first;
    int rest = t->n - t->first, head = st->o.native_site ? 0 : t->site - t->first;
    if (st->o.python_only && !st->o.native_site && t->npy) {
        fr = t->py;
        rest = t->npy;
        head = 0;
    }
    if (st->o.key == KEY_TRACEBACK)
        return group_charge(st, fr, rest, head, sv, mmap);
    const struct frame *const *folded =
        st->o.fold && st->o.python_only && !st->o.native_site ? pyfold_site(t, fr, rest, &head) : NULL;
    if (folded)
        return group_charge(st, folded, 1, 0, sv, mmap);
    if (!st->o.cumulative)
        return charge_frame(st, fr + key_head(st, fr, rest, head), sv, mmap);
    for (int i = 0; i < rest; i++)
        if (charge_frame(st, fr + i, sv, mmap) < 0)
            return -1;
    return 0;
}

struct stat_entry *stats_group_of(struct stats *st, const struct snap *s, uint32_t ti,
                                  const char *type)
{
    struct hsnap_stat zero = {0};
    st->type = type, st->last = NULL;
    int rc = charge_trace(st, s, ti, &zero);
    st->type = NULL;
    return rc < 0 ? NULL : st->last;
}

/* Whether st's output shows the allocation totals (--sort allocations or
 * allocated, JSON's allocated_*, the live view's column): then a trace with
 * nothing live still adds its totals to its group, or a site's count would
 * depend on which of its stacks still hold a block. */
static int shows_totals(const struct stats *st)
{
    return st->o.sort != SORT_LIVE || st->o.json || st->o.totals;
}

/* Charges trace ti its values sv, unless they are nothing to show. */
static int add_value(struct stats *st, const struct snap *s, uint32_t ti,
                     const struct hsnap_stat *sv)
{
    if (!sv->live_count && !sv->live_bytes &&
        (!shows_totals(st) || (!sv->total_count && !sv->total_bytes)))
        return 0; /* nothing live, and its totals unshown */
    return charge_trace(st, s, ti, sv);
}

int stats_add_values(struct stats *st, const struct snap *s, const struct hsnap_stat *values)
{
    for (uint32_t ti = 0; ti < s->ntraces; ti++)
        if (add_value(st, s, ti, &values[ti]) < 0)
            return -1;
    return 0;
}

int stats_add_traces(struct stats *st, const struct snap *s, const struct hsnap_stat *values,
                     const uint32_t *traces, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (add_value(st, s, traces[i], &values[traces[i]]) < 0)
            return -1;
    return 0;
}

/* A block's place in the typed order: its type (no object last), trace. */
struct typed {
    uint32_t type, trace;
    uint64_t size;
    int owned; /* --owner: an owned block: bytes of its owner, no count */
};

static int cmp_typed(const void *pa, const void *pb)
{
    const struct typed *a = pa, *b = pb;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    return (a->trace > b->trace) - (a->trace < b->trace);
}

/* --key type and KEY,type: the live blocks (as --leaked and --born-since
 * keep them) summed per (type, trace), each sum charged with its type. */
static int stats_add_typed(struct stats *st, const struct snap *s)
{
    struct typed *v = big_malloc((s->nblocks ? s->nblocks : 1) * sizeof(*v));
    uint64_t n = 0;
    if (!v)
        return -1;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        const struct hsnap_block *b = &s->blocks[i];
        /* --owner: an owned block counts as its owner's (type, trace, flags) */
        uint64_t k = st->o.owner && s->py.block_owner[i] != UINT64_MAX ? s->py.block_owner[i] : i;
        if ((st->o.garbage && !(s->py.block_flags[k] & HSNAP_PYOBJ_GARBAGE)) ||
            (st->o.born && b->epoch < st->o.born_since) ||
            (st->o.born_upto && b->epoch > st->o.born_until) ||
            (st->o.leaked && b->cls != HSNAP_CLASS_DIRECT && b->cls != HSNAP_CLASS_INDIRECT &&
             b->cls != HSNAP_CLASS_CYCLE))
            continue;
        v[n++] = (struct typed){s->py.block_type[k], s->blocks[k].trace, b->size, k != i};
    }
    qsort(v, n, sizeof(*v), cmp_typed);
    int rc = 0;
    for (uint64_t i = 0, j; rc == 0 && i < n; i = j) {
        struct hsnap_stat sv = {0};
        for (j = i; j < n && v[j].type == v[i].type && v[j].trace == v[i].trace; j++) {
            sv.live_count += !v[j].owned;
            sv.live_bytes += v[j].size;
        }
        st->type = st->o.key != KEY_TYPE && !st->o.by_type ? NULL
                   : v[i].type == PYTYPE_NONE ? STATS_NO_OBJECT : s->py.types[v[i].type].name;
        rc = charge_trace(st, s, v[i].trace, &sv);
    }
    st->type = NULL;
    free(v);
    return rc;
}

/* --leaked and --born-since: per-trace sums over the blocks the model
 * found leaked, and over those born in the epoch asked or later. */
static int stats_add_leaked(struct stats *st, const struct snap *s)
{
    struct hsnap_stat *v = big_calloc(s->ntraces ? s->ntraces : 1, sizeof(*v));
    if (!v)
        return -1;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        const struct hsnap_block *b = &s->blocks[i];
        if (st->o.born && b->epoch < st->o.born_since)
            continue;
        if (!st->o.leaked || b->cls == HSNAP_CLASS_DIRECT || b->cls == HSNAP_CLASS_INDIRECT ||
            b->cls == HSNAP_CLASS_CYCLE) {
            v[b->trace].live_count++;
            v[b->trace].live_bytes += b->size;
        }
    }
    int rc = stats_add_values(st, s, v);
    free(v);
    return rc;
}

/* Sampled sizes and counts are estimates that print like exact ones: say
 * so once per command, on stderr (stdout stays tracemalloc's format). */
static void stats_note_sampled(const struct snap *s, const char *path)
{
    static int noted;
    char name[4200];
    if (noted || !s->meta.sample_interval)
        return;
    noted = 1;
    fprintf(stderr, "heapsnap: note: %s was sampled (one allocation per %llu bytes on "
            "average): sizes and counts are estimates\n", esc_text(path, name, sizeof(name)),
            (unsigned long long)s->meta.sample_interval);
}

/* --temporary: per trace, temporaries as size and allocations as count. */
static int stats_add_temps(struct stats *st, const struct snap *s)
{
    struct hsnap_stat *v = big_calloc(s->ntraces ? s->ntraces : 1, sizeof(*v));
    if (!v)
        return -1;
    for (uint32_t i = 0; i < s->ntraces; i++)
        if (s->temps[i]) {
            v[i].live_bytes = s->temps[i];
            v[i].live_count = s->stats[i].total_count;
        }
    int rc = stats_add_values(st, s, v);
    free(v);
    return rc;
}

/* --failed: per trace, failed calls as count and the largest size asked
 * as size (an overflowed n * size: INT64_MAX, as any size past it). */
static int stats_add_failed(struct stats *st, const struct snap *s)
{
    struct hsnap_stat *v = big_calloc(s->ntraces ? s->ntraces : 1, sizeof(*v));
    if (!v)
        return -1;
    for (uint32_t i = 0; i < s->nfailed; i++) {
        const struct hsnap_failed *f = &s->failed[i];
        v[f->trace].live_count = f->count;
        v[f->trace].live_bytes = f->max_size > INT64_MAX ? INT64_MAX : f->max_size;
    }
    int rc = stats_add_values(st, s, v);
    free(v);
    return rc;
}

int stats_add_snap(struct stats *st, const struct snap *s, const char *path, char *err,
                   size_t errlen)
{
    int peak = st->o.peak || s->at_peak;
    if (st->o.leaked && lset_require(s, path, err, errlen) < 0)
        return -1;
    if ((st->o.key == KEY_TYPE || st->o.by_type || st->o.garbage || st->o.owner) &&
        (!s->py.block_type || (st->o.garbage && !s->py.graph) ||
         (st->o.owner && !s->py.block_owner))) {
        char why[320];
        if (pytypes_capped_note(s, why, sizeof why) || pytypes_unread_note(s, why, sizeof why)) {
            snprintf(err, errlen, "%s: --%s: %s", path,
                     st->o.garbage ? "garbage" : st->o.owner ? "owner" : "key type", why);
            return -1;
        }
        snprintf(err, errlen, "%s: --%s needs a snapshot of a Python process with its "
                 "blocks (CPython 3.10-3.13, HEAPSNAP_BLOCKS=1, the default)%s", path,
                 st->o.garbage ? "garbage" : st->o.owner ? "owner" : "key type",
                 st->o.owner && s->py.block_type ? " and the objects' graph (PYOWNED)" : "");
        return -1;
    }
    if ((st->o.key == KEY_THREAD || st->o.thread) && !s->has_threads) {
        snprintf(err, errlen, "%s: %s needs a snapshot that names its threads (THREADS: "
                 "written by this heapsnap or later)", path,
                 st->o.key == KEY_THREAD ? "--key thread" : "--thread");
        return -1;
    }
    if (st->o.collected && !s->has_gcfreed) {
        snprintf(err, errlen, "%s: --collected needs a snapshot of a Python process whose "
                 "collector heapsnap watched (CPython 3.10-3.13, this heapsnap or later)", path);
        return -1;
    }
    if (st->o.born && !(s->meta.flags & HSNAP_META_HAS_BLOCKS)) {
        snprintf(err, errlen, "%s: --born-since needs the blocks (HEAPSNAP_BLOCKS=1, the "
                 "default)", path);
        return -1;
    }
    if (peak && peak_require(s, path, err, errlen) < 0)
        return -1;
    if (st->o.temporary && temps_require(s, path, err, errlen) < 0)
        return -1;
    if (peak || st->o.temporary) {
        stats_note_sampled(s, path);
        progress_step("symbolizing", path);
        uint64_t untouched;
        uint64_t *resident = peak ? peak_resident(s, &untouched) : NULL;
        st->resident = resident; /* the peak's untouched mappings rank last */
        int rc = peak ? stats_add_values(st, s, s->peak_stats) : stats_add_temps(st, s);
        st->resident = NULL;
        free(resident);
        if (rc < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        return 0;
    }
    if (!st->o.leaked && !st->o.failed) /* failures are never sampled */
        stats_note_sampled(s, path);
    progress_step("symbolizing", path);
    if ((st->o.key == KEY_TYPE || st->o.by_type || st->o.garbage || st->o.owner
             ? stats_add_typed(st, s)
         : st->o.failed               ? stats_add_failed(st, s)
         : st->o.collected            ? gcfreed_add(st, s)
         : st->o.leaked || st->o.born ? stats_add_leaked(st, s)
                                      : stats_add(st, s)) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

int stats_compare(struct stats *newer, struct stats *older)
{
    struct stat_entry *e, *o;
    size_t moved = 0;
    for (size_t i = 0; i < newer->nall; i++) {
        if (!(e = newer->all[i]))
            continue;
        o = group_by_id(older, e->id, e->idlen, hashfn_bytes64(e->id, e->idlen));
        e->size_diff = e->size - (o ? o->size : 0);
        e->count_diff = e->count - (o ? o->count : 0);
        if (o) {
            o->seen = 1;
            e->live |= o->live;
        }
    }
    for (size_t i = 0; i < older->nall; i++) {
        if (!(o = older->all[i]) || o->seen)
            continue;
        if (group_keep(newer, o, hashfn_bytes64(o->id, o->idlen)) < 0)
            return -1;
        older->all[i] = NULL; /* newer's now */
        moved++;
        o->size_diff = -o->size;
        o->count_diff = -o->count;
        o->size = o->count = 0;
    }
    if (moved) { /* older's index names only what older still holds */
        hidx_free(&older->byid);
        for (size_t i = 0; i < older->nall; i++)
            if ((o = older->all[i]) &&
                hidx_add(&older->byid, hashfn_bytes64(o->id, o->idlen), o) < 0)
                return -1;
    }
    return 0;
}

/* --- order and output -------------------------------------------------- */

/* --failed's largest size: "1024 GiB", or "overflow" (n * size did not fit). */
void stats_failed_size(char *buf, size_t n, int64_t size)
{
    if (size == INT64_MAX)
        snprintf(buf, n, "overflow");
    else
        fmt_size(buf, n, (double)size, 0);
}

/* top and diff tag a group " [mmap]" when both kinds are shown (mixed). */
static void print_entry(const struct stats *st, const struct stat_entry *e, FILE *out,
                        int diff, int mixed)
{
    char key[4200], line[4600], where[300];
    stats_key(st->o.key, e, key, sizeof(key));
    if (st->o.failed) {
        char sz[64];
        stats_failed_size(sz, sizeof(sz), e->size);
        snprintf(line, sizeof(line), "%s: failed=%lld, largest=%s", key, (long long)e->count, sz);
    } else if (st->o.collected) { /* diff: the change since the older snapshot */
        char sz[64], dsz[64];
        fmt_size(sz, sizeof(sz), (double)e->size, 0);
        fmt_size(dsz, sizeof(dsz), (double)e->size_diff, 1);
        if (diff)
            snprintf(line, sizeof(line), "%s: collected=%lld (%+lld), size=%s (%s)", key,
                     (long long)e->count, (long long)e->count_diff, sz, dsz);
        else
            snprintf(line, sizeof(line), "%s: collected=%lld, size=%s", key, (long long)e->count, sz);
    } else if (diff)
        fmt_statistic_diff(line, sizeof(line), key, e->size, e->size_diff, e->count,
                           e->count_diff);
    else if (st->o.sort != SORT_LIVE)
        fmt_allocations(line, sizeof(line), key, e->alloc_size, e->alloc_count, e->size,
                        e->count);
    else
        fmt_statistic(line, sizeof(line), key, e->size, e->count);
    char tag[160] = "";
    if (stats_untouched(e) && !diff)
        snprintf(tag, sizeof tag, mixed ? " [mmap, untouched]" : " [untouched]");
    else if (stats_partly_resident(e) && !diff && st->o.sort == SORT_LIVE && !st->o.collected) {
        char in[64], all[64]; /* resident/mapped, what it ranks by */
        fmt_size(in, sizeof in, (double)e->resident, 0);
        fmt_size(all, sizeof all, (double)e->size, 0);
        snprintf(tag, sizeof tag, " [%s%s/%s resident]", mixed ? "mmap, " : "", in, all);
    } else if (mixed && e->mmap)
        snprintf(tag, sizeof tag, " [mmap]");
    fprintf(out, "%s%s\n", line, tag);
    if (st->o.key != KEY_TRACEBACK)
        return;
    for (int i = 0; i < e->nframes; i++)
        fprintf(out, "  File \"%s\", line %d, in %s\n",
                frames_where(e->frames[i], where, sizeof(where)), e->frames[i]->line,
                e->frames[i]->func);
}

/* st->sorted made room for n groups; -1 when out of memory. */
static int sorted_alloc(struct stats *st, size_t n)
{
    free(st->sorted);
    st->nsorted = 0;
    st->sorted = malloc((n ? n : 1) * sizeof(*st->sorted));
    return st->sorted ? 0 : -1;
}

/* A group is listed unless the order is by live memory and none of its
 * traces held anything (in either snapshot of a diff): such a group was
 * made only to sum its site's allocation totals (shows_totals). */
static int listed(const struct stats *st, const struct stat_entry *e)
{
    return e->live || st->o.sort != SORT_LIVE;
}

struct stat_entry **stats_sort(struct stats *st, int diff, size_t *n)
{
    size_t i = 0;
    struct stat_entry *e;
    void *arg;
    stats_order_fn cmp = stats_order(&st->o, diff, &arg);
    if (sorted_alloc(st, st->nall) < 0)
        return NULL;
    st->kinds = 0;
    for (size_t k = 0; k < st->nall; k++)
        if ((e = st->all[k]) && listed(st, e)) {
            st->sorted[i++] = e;
            st->kinds |= e->mmap ? 2 : 1;
        }
    *n = st->nsorted = i;
    qsort_r(st->sorted, *n, sizeof(*st->sorted), cmp, arg);
    return st->sorted;
}

/* Insertion into the k best so far: an equal group stays after those met
 * before it, as the stable sort (glibc's merge sort) keeps it. */
struct stat_entry **stats_top(struct stats *st, int diff, size_t k, size_t *n)
{
    struct stat_entry *e;
    void *arg;
    stats_order_fn cmp = stats_order(&st->o, diff, &arg);
    if (sorted_alloc(st, k) < 0)
        return NULL;
    *n = 0;
    st->kinds = 0;
    for (size_t g = 0; g < st->nall; g++) {
        if (!(e = st->all[g]) || !listed(st, e))
            continue;
        st->kinds |= e->mmap ? 2 : 1;
        size_t at = *n < k ? (*n)++ : k;
        while (at > 0 && cmp(&e, &st->sorted[at - 1], arg) < 0) {
            if (at < k)
                st->sorted[at] = st->sorted[at - 1];
            at--;
        }
        if (at < k)
            st->sorted[at] = e;
    }
    st->nsorted = *n;
    return st->sorted;
}

const struct stats_opts *stats_opts(const struct stats *st) { return &st->o; }

struct stat_entry *stats_find(struct stats *st, const char *id)
{
    size_t len = strlen(id);
    return group_by_id(st, id, len, hashfn_bytes64(id, len));
}

/* Up to this many lines asked (-n), stats_print keeps the best as it goes
 * (stats_top: a compare a group, most of them) instead of ordering every
 * group: a big snapshot's tracebacks are a million groups, and their sort
 * was a third of a `top --key traceback -n 10`. */
#define STATS_PRINT_TOP 256

int stats_print(struct stats *st, FILE *out, int diff)
{
    size_t n, i;
    if (st->o.limit > 0 && st->o.limit <= STATS_PRINT_TOP) {
        if (!stats_top(st, diff, (size_t)st->o.limit, &n))
            return -1;
    } else if (!stats_sort(st, diff, &n)) {
        return -1;
    }
    if (st->o.limit > 0 && (size_t)st->o.limit < n)
        n = (size_t)st->o.limit;
    for (i = 0; i < n; i++)
        print_entry(st, st->sorted[i], out, diff, st->kinds == 3);
    return 0;
}
