/*
 * pytmline.c - before 3.13, an object a free list handed out again,
 * charged to the line tracemalloc charges it to, where tracemalloc traces
 * in the host (-X tracemalloc, PYTHONTRACEMALLOC, `heapsnap run
 * --python-reuse`, a tracemalloc.start()).  3.10-3.12 tell no one of a
 * free list's pop but tracemalloc: _Py_NewReference calls
 * _PyTraceMalloc_NewReference while it traces, which points the block's
 * trace at the current traceback.  So at a snapshot its answer is taken:
 * its table of traces (a _Py_hashtable_t keyed by block, found once as
 * the one word of the interpreter's data that points at a table hashed by
 * _Py_hashtable_hash_ptr, compared by _Py_hashtable_compare_direct,
 * that frees its values and not its keys: tracemalloc's
 * static table of traces, or _PyRuntime.tracemalloc.traces) is walked, and a
 * block on our books that holds a dict, list, tuple or float, whose
 * innermost Python line differs from that of tracemalloc's traceback, is
 * charged to a trace of tracemalloc's frames (each as the first
 * instruction at its line in the innermost code we copied of that file:
 * code.c's pyfr_code_word_at; none copied: the block stays).  Verdicts are
 * kept per (our trace, tracemalloc's traceback), which tracemalloc
 * interns; only blocks of a free-list object's size have their trace
 * read.  Everything is read with peeks (pypage.c): the host's threads run
 * meanwhile and tracemalloc's lock is not taken, so an entry changed
 * under the walk can at worst give one block another traceback's line;
 * hook_recharge moves a block only while it is still at the trace read.
 * From 3.13 on pyreborn.c moves each birth as it happens.  Prefix: pyw_tml_.
 */
#include <string.h>

#include "peek.h"
#include "pyframes.h"
#include "pyreads.h"
#include "pywrap.h"

#define TML_FILE 1024u       /* bytes of a file name compared */
#define TML_FRAMES 64u       /* tracemalloc's frames taken, at most */
#define TML_SLOTS 4096u      /* verdicts kept at first (power of two; doubled when half full) */
#define TML_KEEP UINT32_MAX  /* verdict: the block stays */
#define TML_MOVE (UINT32_MAX - 1) /* verdict: tracemalloc's line, its trace not made yet */

/* _Py_hashtable_t (Include/internal/pycore_hashtable.h, 3.10-3.12) */
struct tml_table {
    uint64_t nentries, nbuckets, buckets;
    uint64_t get_entry, hash, compare, key_destroy, value_destroy;
    uint64_t alloc_malloc, alloc_free;
};
/* _Py_hashtable_entry_t: next, the key's hash, key, value; a trace of
 * tracemalloc's {size, traceback}; traceback_t {hash, u16 nframe, u16
 * total_nframe, frames[]}, each frame packed {PyObject *filename; unsigned
 * lineno} */
#define TML_TB_NFRAME 8
#define TML_TB_FRAMES 12
#define TML_FRAME 12

static struct {
    pyw_tml_move move;
    uintptr_t hash_ptr, compare_direct; /* the interpreter's _Py_hashtable_ functions */
    uintptr_t float_type;
    uintptr_t at;        /* the word of the interpreter's data that points at the table */
    int looked;          /* the data was scanned (at: 0, none found) */
    struct tml_slot { uint64_t tb; uint32_t trace, to; } *slot; /* nslots, per pass */
    uint32_t nslot, nslots;
    uint64_t moved, seen;
} tml;

void pyw_tml_arm(void *(*lookup)(const char *), pyw_tml_move move)
{
    if (pylay_sym.version < 0x030a0000u || pylay_sym.version >= 0x030d0000u || tml.move)
        return; /* 3.13 on: pyreborn.c */
    tml.hash_ptr = (uintptr_t)lookup("_Py_hashtable_hash_ptr");
    tml.compare_direct = (uintptr_t)lookup("_Py_hashtable_compare_direct");
    tml.float_type = (uintptr_t)lookup("PyFloat_Type");
    if (tml.hash_ptr && tml.compare_direct)
        tml.move = move;
}

/* Whether the table at t reads as tracemalloc's traces (its head into *h). */
static int tml_table_at(uintptr_t t, struct tml_table *h)
{
    return t >= 4096 && !(t & 7) && pyrd_pg_peek(h, t, sizeof *h) && h->hash == tml.hash_ptr &&
           h->compare == tml.compare_direct && !h->key_destroy && h->value_destroy &&
           h->alloc_malloc && h->alloc_free && h->buckets &&
           h->nbuckets && !(h->nbuckets & (h->nbuckets - 1)) && h->nbuckets < (1ull << 40);
}

/* Whether p lies in the interpreter's writable data. */
static int tml_in_data(uintptr_t p)
{
    for (int k = 0; k < 4; k++)
        if (p - pylay_sym.data_lo[k] < pylay_sym.data_hi[k] - pylay_sym.data_lo[k])
            return 1;
    return 0;
}

/* The word of the interpreter's data that points at tracemalloc's traces
 * (a block on our books of the table's size), once; 0 when none, or more
 * than one (then none is trusted). */
static uintptr_t tml_find(void)
{
    if (tml.looked)
        return tml.at;
    tml.looked = 1;
    uintptr_t found = 0;
    for (int k = 0; k < 4; k++)
        for (uintptr_t a = (pylay_sym.data_lo[k] + 7) & ~(uintptr_t)7; a + 8 <= pylay_sym.data_hi[k];
             a += 8) {
            uintptr_t w = *(const volatile uintptr_t *)a; /* the image's: a plain load (pypage.c) */
            struct tbl_entry e;
            struct tml_table h;
            if (w < 4096 || (w & 15) || tml_in_data(w) ||
                !(tbl_find(w, &e) || pend_find_fresh(w, &e)) || e.size != sizeof h ||
                !tml_table_at(w, &h))
                continue;
            if (found)
                return tml.at = 0;
            found = a;
        }
    return tml.at = found;
}

/* Whether block p holds an object of a type with a free list: a float at
 * its start, a dict, list or tuple past its PyGC_Head. */
static int tml_freelist_object(uintptr_t p)
{
    uint64_t w[4];
    if (!pyrd_pg_peek(w, p, sizeof w))
        return 0;
    if (tml.float_type && w[1] == tml.float_type)
        return 1;
    return w[3] && (w[3] == pylay_sym.dict_type || w[3] == pylay_sym.list_type ||
                    w[3] == pylay_sym.tuple_type);
}

/* Frame k of tracemalloc's traceback tb: its file name's text into file
 * (*n bytes) and its line; 0: unreadable. */
static int tml_frame(uintptr_t tb, unsigned k, char *file, uint32_t *n)
{
    struct __attribute__((packed)) { uint64_t filename; uint32_t lineno; } f;
    if (!pyrd_pg_peek(&f, tb + TML_TB_FRAMES + (uintptr_t)k * TML_FRAME, sizeof f) || !f.filename)
        return 0;
    *n = pyfr_str_peek(f.filename, file, TML_FILE);
    return *n && f.lineno && f.lineno < (1u << 30) ? (int)f.lineno : 0;
}

/* Whether a block of trace `trace`, whose traceback in tracemalloc's
 * books is tb, belongs elsewhere: TML_MOVE when its innermost Python line
 * is not tracemalloc's innermost one (or it has none), TML_KEEP when it
 * is, or tracemalloc's names no line. */
static uint32_t tml_verdict(uint32_t trace, uintptr_t tb)
{
    static char want[TML_FILE], have[TML_FILE];
    uintptr_t ip[TRACE_DEPTH_MAX];
    uint32_t wn = 0, hn = 0;
    unsigned flags, depth, k = 0;
    int line = tml_frame(tb, 0, want, &wn);
    if (!line)
        return TML_KEEP;
    trace_lock();
    depth = trace_stack(trace, ip, TRACE_DEPTH_MAX, &flags);
    trace_unlock();
    while (k < depth && !HSNAP_IS_PYFRAME(ip[k]))
        k++;
    return k < depth && pyfr_code_where(ip[k], have, TML_FILE, &hn) == line && hn == wn &&
                   !memcmp(have, want, wn)
               ? TML_KEEP
               : TML_MOVE;
}

/* The trace of tracemalloc's traceback tb: its frames as ours, innermost
 * first, as far as each is known (the first not known: TML_KEEP). */
static uint32_t tml_target(uintptr_t tb)
{
    static char want[TML_FILE];
    uintptr_t ip[TML_FRAMES];
    uint32_t wn = 0, id;
    uint16_t nframe = 0;
    unsigned n = 0;
    if (!pyrd_pg_peek(&nframe, tb + TML_TB_NFRAME, sizeof nframe))
        return TML_KEEP;
    for (unsigned f = 0; f < nframe && f < TML_FRAMES && f < TRACE_DEPTH_MAX; f++) {
        int line = tml_frame(tb, f, want, &wn);
        uint64_t w = line ? pyfr_code_word_at(want, wn, line) : 0;
        if (!w)
            break;
        ip[n++] = (uintptr_t)w;
    }
    return n && trace_intern(ip, n, 0, &id) == 0 && id < TML_MOVE ? id : TML_KEEP;
}

static uint32_t tml_hash(uint32_t trace, uintptr_t tb)
{
    return (uint32_t)((((uint64_t)tb * 0x9e3779b97f4a7c15ull) ^
                       (trace * 0xff51afd7ed558ccdull)) >> 32);
}

/* The slots twice as many, their pairs put again; 0: no memory. */
static int tml_grow(void)
{
    uint32_t n = tml.nslots * 2;
    struct tml_slot *s = arena_alloc(n * sizeof *s);
    if (!s || n < tml.nslots)
        return 0;
    for (uint32_t i = 0; i < tml.nslots; i++) {
        struct tml_slot *o = &tml.slot[i];
        if (!o->tb)
            continue;
        uint32_t j = tml_hash(o->trace, o->tb) & (n - 1);
        while (s[j].tb)
            j = (j + 1) & (n - 1);
        s[j] = *o;
    }
    arena_free(tml.slot, tml.nslots * sizeof *tml.slot);
    tml.slot = s, tml.nslots = n;
    return 1;
}

/* The slot of the pair (trace, tb), its verdict made if new; NULL when
 * there is no memory for more (the block stays). */
static struct tml_slot *tml_pair(uint32_t trace, uintptr_t tb)
{
    if (tml.nslot + 1 >= tml.nslots / 2 && !tml_grow())
        return NULL;
    uint32_t m = tml.nslots - 1;
    for (uint32_t s = tml_hash(trace, tb) & m;; s = (s + 1) & m) {
        struct tml_slot *sl = &tml.slot[s];
        if (sl->tb == tb && sl->trace == trace)
            return sl;
        if (sl->tb)
            continue;
        tml.nslot++;
        *sl = (struct tml_slot){tb, trace, tml_verdict(trace, tb)};
        return sl;
    }
}

/* Whether a block of size n may hold an object of a type with a free
 * list (3.10-3.12, with its PyGC_Head): a float (24), a tuple of 1-19
 * items (48-192), a list (56), a dict (64).  Most blocks are not, and
 * their traces in tracemalloc's books are not read. */
static int tml_freelist_size(uint64_t n)
{
    return n == 24 || (n >= 48 && n <= 192 && !(n & 7));
}

/* One entry of the traces: block key, tracemalloc's trace of it at value. */
static void tml_entry(uintptr_t key, uintptr_t value)
{
    struct tbl_entry e;
    uint64_t tr[2];
    if (!(tbl_find(key, &e) || pend_find_fresh(key, &e)) || !tml_freelist_size(e.size) ||
        !pyrd_pg_peek8(tr, value, sizeof tr) || !tr[1])
        return;
    tml.seen++;
    struct tml_slot *sl = tml_pair(e.trace, tr[1]);
    if (!sl || sl->to == TML_KEEP || !tml_freelist_object(key))
        return;
    if (sl->to == TML_MOVE)
        sl->to = tml_target(tr[1]); /* made once a pair: a trace none uses is none made */
    if (sl->to != TML_KEEP && tml.move(key, e.trace, sl->to))
        tml.moved++;
}

uint64_t pyw_tml_pass(void)
{
    if (!tml.move || !pyfr_on || !pyfr_tm_on())
        return 0;
    uint64_t t0 = clock_mono_ns();
    int opened = !pyrd_pg_is_open();
    if (opened)
        pyrd_pg_open();
    struct tml_table h;
    uintptr_t t = 0, at = tml_find();
    tml.moved = tml.seen = 0;
    tml.nslot = 0;
    tml.nslots = TML_SLOTS;
    if (at && tml_table_at(t = *(const volatile uintptr_t *)at, &h) &&
        (tml.slot = arena_alloc(TML_SLOTS * sizeof *tml.slot))) {
        uintptr_t bucket[512];
        for (uint64_t b = 0; b < h.nbuckets; b += 512) {
            uint64_t n = h.nbuckets - b < 512 ? h.nbuckets - b : 512;
            if (!peek(bucket, h.buckets + b * 8, n * 8))
                break; /* the table grew meanwhile: its old array went */
            for (uint64_t i = 0; i < n; i++) {
                uint64_t ent[4]; /* next, the key's hash, key, value */
                unsigned hops = 0;
                for (uintptr_t p = bucket[i]; p && hops < 64 && pyrd_pg_peek8(ent, p, sizeof ent);
                     p = ent[0], hops++)
                    tml_entry(ent[2], ent[3]);
            }
        }
        arena_free(tml.slot, tml.nslots * sizeof *tml.slot);
        tml.slot = NULL;
    }
    if (opened)
        pyrd_pg_close();
    opt_debug_count("python: tracemalloc's traces read of blocks on the books: ", tml.seen);
    opt_debug_count("python: blocks charged to tracemalloc's line of their reuse: ", tml.moved);
    opt_debug_count("python: ... in microseconds: ", (clock_mono_ns() - t0) / 1000);
    return tml.moved;
}
