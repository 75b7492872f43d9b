/*
 * pygcfreed.c - what CPython's cycle collector freed, per allocation site,
 * over the run: the lines whose objects only a collection frees (a tree
 * whose children point to their parent) stand out from those reference
 * counting frees.  An OBJ-domain block (domain.c's py_free) freed while
 * the main interpreter's gcstate->collecting is set, and holding an
 * object of a gc type (Py_TPFLAGS_HAVE_GC: what gc.get_stats() counts as
 * collected), counts at its trace with its bytes.
 *   The free path pays pyw_gcf_busy(): a load of the flag's address, a
 * load of the flag (a zero of ours until the domains are wrapped).  Only
 * during a collection is a freed block looked at: its words say where an
 * object would start (past its PyGC_Head, or past the pre-header too),
 * the type there is checked once with peek (a freed keys table or buffer
 * has words that are no type) and kept in a small cache, emptied at each
 * collection (the generations' collections count moves).  Counts live in
 * chunks of 1024 traces mapped on first use; the GIL orders the frees,
 * the writer reads them relaxed.  PYGCFREED (hsnap_format.h) carries them
 * with the interpreter's own collected sum, read at the snapshot.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <string.h>

#include "base.h"
#include "hsnap_pyformat.h"
#include "pylayout.h"
#include "pywrap.h"
#include "peek.h"

static const int pygcf_zero;
const volatile int *pyw_gcf_collecting = &pygcf_zero;

#define PYGCF_CHUNK 1024u  /* traces a chunk counts */
#define PYGCF_CHUNKS 4096u /* chunks: traces past 4M are dropped */
#define PYGCF_CACHE 256u   /* types remembered during one collection */
#define PYGCF_TYPE (1ull << 63) /* a cache entry's flags: a type (not in tp_flags' 32 bits) */

struct pygcf_site {
    _Atomic uint64_t objects, bytes;
};

static struct {
    struct pygcf_site *_Atomic *dir; /* PYGCF_CHUNKS, mapped when armed: not bss */
    _Atomic uint64_t dropped;
    const char *stats;          /* the interpreter's generation_stats (3.15: where
                                   it points from), or NULL */
    const char *interp;         /* the main interpreter's state */
    struct pylay_gc_layout gl;     /* where its counts are */
    uintptr_t tuple_type, frame_type;
    uint64_t epoch;             /* collections summed when the cache was filled */
    uint32_t preheader;         /* tp_flags of a pre-header (pylay_obj_layout's) */
    uint32_t fl_lo;             /* linked (3.14): the free lists' place in interp */
    const struct pylay_fl_type *fl; /* ... those of other gc types (pylay_fl_types) */
    uintptr_t fl_type[8];        /* ... their types */
    unsigned nfl;
    int armed;
    struct {
        uintptr_t addr;
        uint64_t flags;         /* tp_flags | PYGCF_TYPE, or 0: no type */
    } cache[PYGCF_CACHE];
} pygcf;

void pyw_gcf_arm(void)
{
    const struct pylay_obj_layout *ol = pylay_obj_layout_find(pylay_sym.version);
    void *runtime = pylay_sym.runtime;
    char *interp = pylay_sym.interp_main ? pylay_sym.interp_main() : NULL;
    if (!ol || !interp || !pylay_sym.type_type || pygcf.armed ||
        pylay_gc_layout_find(pylay_sym.version, runtime, &pygcf.gl) != 0)
        return;
    if (!pygcf.dir && !(pygcf.dir = arena_map(PYGCF_CHUNKS * sizeof *pygcf.dir)))
        return;
    pygcf.preheader = ol->preheader;
    pygcf.interp = interp;
    uint32_t lo[PY_SPANS], hi[PY_SPANS];
    if (pygcf.gl.linked && pylay_borrowed_spans(pylay_sym.version, lo, hi) &&
        (pygcf.fl = pylay_fl_types(pylay_sym.version, &pygcf.nfl))) {
        pygcf.fl_lo = lo[0];
        for (unsigned k = 0; k < pygcf.nfl && k < 8; k++)
            pygcf.fl_type[k] = pylay_sym.fl_type[k];
    }
    pygcf.stats = interp + pygcf.gl.collecting - (pygcf.gl.ring ? 8 : PY_GC_STATS_BYTES);
    pygcf.tuple_type = pylay_sym.tuple_type;
    pygcf.frame_type = pygcf.gl.frame_numfree ? (uintptr_t)dlsym(RTLD_DEFAULT, "PyFrame_Type") : 0;
    pyw_gcf_collecting = (const volatile int *)(interp + pygcf.gl.collecting);
    pygcf.armed = 1;
}

void pyw_gcf_disarm(void)
{
    pyw_gcf_collecting = &pygcf_zero;
}

/* n bytes of the interpreter's memory at src: directly (under the GIL,
 * during a collection), else with peek (the snapshot's); 1, or 0. */
static int pygcf_read(void *dst, const char *src, size_t n, int direct)
{
    if (direct)
        memcpy(dst, src, n);
    return direct || peek(dst, (uintptr_t)src, n);
}

/* The generations' collections and collected, summed into t[0] and t[1]:
 * 3.10-3.14's three entries, or 3.15's latest entry of each ring; 0, or
 * -1 when unreadable (no stats yet, an index out of its ring). */
static int pygcf_totals(uint64_t t[2], int direct)
{
    uint64_t st[9];
    const char *s;
    t[0] = t[1] = 0;
    if (!pygcf.gl.ring) {
        if (!pygcf_read(st, pygcf.stats, sizeof st, direct))
            return -1;
        t[0] = st[0] + st[3] + st[6];
        t[1] = st[1] + st[4] + st[7];
        return 0;
    }
    if (!pygcf_read(&s, pygcf.stats, sizeof s, direct) || !s)
        return -1;
    for (unsigned g = 0; g < 3; g++) {
        int8_t i;
        uint64_t v[2];
        const char *ring = s + PY_GCR_AT(g);
        if (!pygcf_read(&i, ring + PY_GCR_N(g) * PY_GCR_ITEM, 1, direct) || i < 0 ||
            (unsigned)i >= PY_GCR_N(g) ||
            !pygcf_read(v, ring + (unsigned)i * PY_GCR_ITEM + PY_GCR_TOTALS, sizeof v, direct))
            return -1;
        t[0] += v[0];
        t[1] += v[1];
    }
    return 0;
}

/* tp_flags | PYGCF_TYPE when t is a ready type (its type PyType_Type, or
 * a metaclass of it), else 0; peek'd once a collection. */
static uint64_t pygcf_type(uintptr_t t)
{
    if (t < 4096 || (t & 7))
        return 0;
    unsigned slot = (unsigned)((t >> 4) ^ (t >> 12)) % PYGCF_CACHE;
    if (pygcf.cache[slot].addr == t)
        return pygcf.cache[slot].flags;
    uint64_t flags = 0, f, m;
    if (peek(&m, t + 8, sizeof m) && peek(&f, t + PY_TP_FLAGS, sizeof f) && (f & PY_TPF_READY)) {
        uint64_t mf;
        /* the metaclass chain up to type itself, a few steps at most */
        for (int i = 0; i < 4 && m != pylay_sym.type_type; i++)
            if (m < 4096 || !peek(&mf, m + PY_TP_FLAGS, sizeof mf) ||
                !(mf & PY_TPF_TYPE_SUBCLASS) || !peek(&m, m + 8, sizeof m))
                break;
        if (m == pylay_sym.type_type)
            flags = f | PYGCF_TYPE;
    }
    pygcf.cache[slot].addr = t;
    pygcf.cache[slot].flags = flags;
    return flags;
}

static uintptr_t pygcf_word(const char *p, unsigned off)
{
    uintptr_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

/* The freed block p of size bytes holds an object of a gc type: its type,
 * and the object's start at *obj; else 0.
 * an untracked PyGC_Head (_gc_next 0; the dealloc untracked it) at 0, or
 * after a pre-header at 16, then the object, its refcount 0 and its type
 * a gc type whose pre-header is there or not.  A block whose second word
 * is a type holds an object at 0: not a gc one. */
static uintptr_t pygcf_gc_type(const char *p, uint64_t size, const char **obj)
{
    if (size < 32)
        return 0;
    uint64_t f0 = pygcf_type(pygcf_word(p, 8));
    if (f0 & PYGCF_TYPE)
        return 0;
    for (unsigned o = 16; o <= 32; o += 16) {
        if (size < o + 16 || (o == 32 && !pygcf.preheader))
            break;
        if (pygcf_word(p, o - 16) != 0 || pygcf_word(p, o) != 0)
            continue;
        uintptr_t t = pygcf_word(p, o + 8);
        uint64_t f = pygcf_type(t);
        if ((f & PYGCF_TYPE) && (f & PY_TPF_HAVE_GC) && !(f & pygcf.preheader) == (o == 16)) {
            *obj = p + o;
            return t;
        }
    }
    return 0;
}

static int pygcf_int(unsigned off)
{
    int v;
    memcpy(&v, pygcf.interp + off, sizeof v);
    return v;
}

/* A dead object of type t the collector frees from one of CPython's free
 * lists (its clear_freelists, at a full collection): it died before,
 * reference counting put it there, and gc.get_stats() does not count it.
 * Such a type's dealloc frees an object only when its free list is full
 * (or off: numfree -1), so an exact list, dict, tuple of a saved size, or
 * 3.10's frame freed while its list has room comes from the list. */
static int pygcf_from_freelist(uintptr_t t, const char *obj)
{
    int room, nf;
    /* 3.14 keeps more gc types on free lists (iterators, methods,
     * contexts), emptied at a full collection the same way; of a list
     * being emptied only the last object has a count 0 here (the others'
     * first word is their link) */
    for (unsigned k = 0; k < pygcf.nfl && k < 8; k++)
        if (t == pygcf.fl_type[k] && t) {
            nf = pygcf_int(pygcf.fl_lo + pygcf.fl[k].at + 8u);
            return nf >= 0 && nf < pygcf.fl[k].room;
        }
    if (t == pylay_sym.list_type)
        nf = pygcf_int(pygcf.gl.list_numfree), room = 80;
    else if (t == pylay_sym.dict_type)
        nf = pygcf_int(pygcf.gl.dict_numfree), room = 80;
    else if (t == pygcf.frame_type && pygcf.frame_type)
        nf = pygcf_int(pygcf.gl.frame_numfree), room = 200;
    else if (t == pygcf.tuple_type && pygcf.tuple_type) {
        int64_t size;
        memcpy(&size, obj + 16, sizeof size);
        int64_t i = size - (int64_t)pygcf.gl.tuple_base;
        if (size < 1 || i < 0 || i >= 20)
            return 0;
        nf = pygcf_int(pygcf.gl.tuple_numfree + (pygcf.gl.linked ? 16 : 4) * (unsigned)i),
        room = 2000;
    } else
        return 0;
    return nf >= 0 && nf < room;
}

static struct pygcf_site *pygcf_site(uint32_t trace)
{
    uint32_t c = trace / PYGCF_CHUNK;
    if (c >= PYGCF_CHUNKS)
        return NULL;
    struct pygcf_site *chunk = atomic_load_explicit(&pygcf.dir[c], memory_order_acquire);
    if (!chunk) {
        struct pygcf_site *fresh = arena_map(PYGCF_CHUNK * sizeof *fresh), *none = NULL;
        if (!fresh)
            return NULL;
        if (atomic_compare_exchange_strong(&pygcf.dir[c], &none, fresh))
            chunk = fresh;
        else
            arena_unmap(fresh, PYGCF_CHUNK * sizeof *fresh), chunk = none;
    }
    return &chunk[trace % PYGCF_CHUNK];
}

HS_NOINLINE void pyw_gcf_freed(const void *p, uint64_t size, uint32_t trace)
{
    if (!pygcf.armed)
        return;
    uint64_t tot[2];
    pygcf_totals(tot, 1);
    uint64_t epoch = tot[0];
    if (epoch != pygcf.epoch) { /* a new collection: types may have gone since */
        memset(pygcf.cache, 0, sizeof pygcf.cache);
        pygcf.epoch = epoch;
    }
    const char *obj;
    uintptr_t t = pygcf_gc_type(p, size, &obj);
    if (!t || pygcf_from_freelist(t, obj))
        return;
    struct pygcf_site *s = pygcf_site(trace);
    if (!s) {
        atomic_fetch_add_explicit(&pygcf.dropped, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&s->objects, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->bytes, size, memory_order_relaxed);
}

void pyw_gcf_put(struct sbuf *b, uint32_t ntraces)
{
    if (!pygcf.armed)
        return;
    uint64_t tot[2], collected = pygcf_totals(tot, 0) == 0 ? tot[1] : UINT64_MAX;
    size_t head = b->len;
    uint32_t count = 0;
    sbuf_u32(b, 0);
    sbuf_u32(b, 0);
    sbuf_u64(b, collected);
    sbuf_u64(b, atomic_load_explicit(&pygcf.dropped, memory_order_relaxed));
    for (uint32_t c = 0; c < PYGCF_CHUNKS && c * PYGCF_CHUNK < ntraces; c++) {
        struct pygcf_site *chunk = atomic_load_explicit(&pygcf.dir[c], memory_order_acquire);
        for (uint32_t i = 0; chunk && i < PYGCF_CHUNK && c * PYGCF_CHUNK + i < ntraces; i++) {
            struct hsnap_pygcfreed it = {
                c * PYGCF_CHUNK + i, 0,
                atomic_load_explicit(&chunk[i].objects, memory_order_relaxed),
                atomic_load_explicit(&chunk[i].bytes, memory_order_relaxed)};
            if (it.objects) {
                sbuf_put(b, &it, sizeof it);
                count++;
            }
        }
    }
    if (!b->err)
        memcpy(b->p + head, &count, sizeof count);
}
