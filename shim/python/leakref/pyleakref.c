/*
 * pyleakref.c - leaked references: a Python object whose reference count
 * exceeds the pointers to it anywhere in the process's memory holds a
 * count no one can give back (a Py_INCREF without its Py_DECREF).  At a
 * snapshot with a leak check, for the objects held from outside the graph,
 * every word of the program's writable memory (heap, arenas, stacks from
 * this thread's frame out, another's from its sp when it is blocked in a
 * system call (pyg_cstack_live), thread storage, modules' data; not the shim's,
 * whose tables hold every address; nor the threads' dead frames, the
 * main interpreter's free lists, 3.10's zombie frames' value stacks,
 * glibc's free chunks and those its tcaches hold: pyl_dead_spans,
 * pyl_heap_free, pyl_tcache_key; nor a live block's
 * slack: pyl_slack; nor pymalloc's free blocks: pyl_pool_free) is looked
 * up: fewer
 * such words than the count, leaked.  A str's or bytes' text is one too
 * (numpy's add_docstring keeps PyUnicode_AsUTF8's char *), and so is a
 * word that points to an object with its low bit set: PyTorch's C++
 * tensor owns the Python object it preserved (THPVariable_subclass_dealloc)
 * through such a tagged pointer (c10::impl::PyObjectSlot).  A stale
 * pointer counts, so a leak can be missed; never candidates: immortals (3.12 on), a block
 * whose "count" is an address or whose gc head points into itself
 * (pyl_no_gc_head), a block the leak check ignored (its classes handed
 * down, pyl_lc_room: an extension's initialisation constants, ld.so's,
 * heapsnap_ignore's), and one counted exactly once more than pointed to
 * that an extension's initialisation made (pyl_init_made: numpy's initumath
 * tuples), that holds the names of a code object such an initialisation
 * made (pyl_init_names_refs: Cython's on 3.11, from the free list), or that
 * is an item of a tuple an extension's static data holds (pyl_nested),
 * nor an interned str.  Read with process_vm_readv.  Under a leak check
 * on a fork, counted while the child runs and settled once its classes
 * arrive (pyl_count_early, pyl_count_settle). */
#include <errno.h>
#include <string.h>

#include "base/pagemap.h"
#include "base/procmaps.h"
#include "pyframes.h"
#include "pygraph.h"
#include "leak.h"
#include "peek.h"
#include "pyleakref.h"
#include "pyreads.h"

#define PYL_CHUNK (64u << 10) /* bytes read at a time */
#define PYL_SHIM_MAPS 16384u  /* the shim's mappings looked at */
#define PYL_MAPS 65536u       /* the process's mappings remembered */
#define PYL_INIT_DEPTH 64u    /* frames of a trace looked at (pyl_init_kept) */
#define PYL_CHUNKS 64u        /* data stack chunks looked at (pyl_datastack) */
#define PYL_CHUNK_MAX (1ull << 30) /* a chunk's size believed */
#define PYL_NESTED 4096u      /* candidates pyl_nested looks at */
#define PYL_THREADS 4096u     /* thread states followed (pyl_dead_spans) */

static struct {
    uint64_t *bits;  /* two bits a key (pyl_maybe); as many bytes as key has slots */
    uint64_t *key;   /* candidates' object addresses (0: empty), by hash */
    uint32_t *obj;   /* ... their object index */
    uint64_t *at;    /* ... where the last word found to it lies */
    uint64_t mask;
    uint32_t *words; /* by object: words found equal to its address */
    const struct pyh_heap *h; /* the live blocks, by address (pyl_slack) */
    uintptr_t (*shim)[2]; /* the shim's mappings and the dead spans, sorted */
    uint32_t nshim;
    uintptr_t (*map)[2];  /* every mapping, ascending (the maps' order) */
    uint32_t nmap;
    char *buf;       /* PYL_CHUNK */
    char *pool;      /* PYL_CHUNK: a copy of the pool at pool_at (pyl_pool_free) */
    uintptr_t pool_at;
    char line[4096];
    struct pagemap pm; /* pyl_scan_written's */
} l;

/* A count made early (pyl_count_early: while the leak check's fork runs,
 * before its classes are handed down), kept until pyl_count_settle.  The
 * classes leave an ignored block's object out of the keys, and the late
 * want is a subset of the early one (the owners' pass adds edges to the
 * graph after, pyg_owned_make: an object more pointed to may no longer
 * be held): an object left out then reads UINT32_MAX (ignored) or 0 (not
 * wanted) and every other's words are the same, but where an excuse
 * looked at it as a candidate beside the others: a list of them that
 * overflowed (pyl_init_names_refs' sets, PYL_NESTED: the early one holds
 * more) or one left out among pyl_nested's candidates (an outer tuple
 * excused through it).  Then counted again. */
static struct {
    const struct pyh_heap *h;
    uint64_t nobj;
    uint64_t *want;    /* by object, a bit: the early count's want */
    uint32_t *nested;  /* PYL_NESTED: pyl_nested's candidates, by object */
    uint32_t nnested;
    int early;         /* pyl_count is making an early count */
    int kept;          /* ... made: the rest of this struct is its */
    int overflowed;    /* ... an excuse's list was full */
} pe;

/* The last check's classes: the blocks not reachable, by address. */
static struct {
    struct pyl_blkcls *c;
    uint64_t n, cap;
} lc;

void pyl_lc_drop(void)
{
    if (lc.c)
        arena_unmap(lc.c, lc.cap * sizeof *lc.c);
    lc.c = NULL, lc.n = lc.cap = 0;
}

int pyl_lc_wanted(void)
{
    return pyfr_on && pylay_lay && pylay_sym.type_type;
}

struct pyl_blkcls *pyl_lc_room(uint64_t n)
{
    pyl_lc_drop();
    if (!n || !(lc.c = arena_map(n * sizeof *lc.c)))
        return NULL;
    lc.cap = n;
    return lc.c;
}

void pyl_lc_set(uint64_t n)
{
    lc.n = n <= lc.cap ? n : 0;
}

/* The last check's class of the block at addr: HSNAP_CLASS_REACHABLE
 * when it listed none (or ran none). */
static unsigned pyl_class(uint64_t addr)
{
    uint64_t lo = 0, hi = lc.n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (lc.c[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < lc.n && lc.c[lo].addr == addr ? lc.c[lo].cls : HSNAP_CLASS_REACHABLE;
}

/* The linker's bounds of the shim's own .bss (hidden: this object's, not
 * the program's). */
extern char __bss_start[] __attribute__((visibility("hidden")));
extern char _end[] __attribute__((visibility("hidden")));

static uint64_t pyl_hash(uint64_t a)
{
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdull;
    return a ^ (a >> 29);
}

static uintptr_t pyl_word(uintptr_t at)
{
    uintptr_t w = 0;
    return peek(&w, at, sizeof w) ? w : 0;
}

static void pyl_shim_map(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    if (l.nshim < PYL_SHIM_MAPS && lo < hi)
        l.shim[l.nshim][0] = lo, l.shim[l.nshim++][1] = hi;
}


/* 3.10: the value stack of each code object's zombie frame, the frame
 * its last call returned, kept for its next (which takes it from the
 * code first): its locals are cleared but not its stack's slots. */
static void pyl_zombies(const struct pyh_heap *h, uint64_t nobj)
{
    struct pylay_zombie z;
    if (!pylay_zombie_find(pylay_lay->version, &z) || !pylay_sym.code_type)
        return;
    uint64_t i;
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(h, nobj, &it, &i);) {
        const struct pyh_obj *o = &h->obj[i];
        const struct pyh_block *b = &h->blk[it.bj];
        uint64_t a = b->addr + o->off;
        if (pyh_size(h, b) < o->off + z.co_zombieframe + 8u || pyl_word(a + 8) != pylay_sym.code_type)
            continue;
        uintptr_t f = pyl_word(a + z.co_zombieframe), vs = f ? pyl_word(f + z.f_valuestack) : 0;
        int32_t n = 0;
        if (vs > f && vs - f < 65536 && peek(&n, a + z.co_stacksize, sizeof n) && n > 0 && n < 65536)
            pyl_shim_map(vs, vs + 8u * (uint32_t)n, NULL);
    }
}

/* Thread state ts's dead frames, in its data stack (3.11 on; top_at:
 * its datastack_top's offset) from the top up to the limit of its chunk
 * and, in each earlier chunk, from the top saved when the next was pushed:
 * their slots keep the locals of the frames that returned, say a leaked
 * object's last holder. */
static void pyl_datastack(uintptr_t ts, uint32_t top_at)
{
    uintptr_t chunk = pyl_word(ts + top_at - 8), top = pyl_word(ts + top_at);
    uintptr_t limit = pyl_word(ts + top_at + 8);
    /* _PyStackChunk: previous, size (bytes), top (words of data), data */
    for (unsigned k = 0; chunk && k < PYL_CHUNKS; k++) {
        uintptr_t size = pyl_word(chunk + 8);
        if (!k && !(chunk + 24 <= top && top <= limit && limit - chunk <= PYL_CHUNK_MAX))
            break; /* not the data stack we know: leave it all in */
        if (size > PYL_CHUNK_MAX)
            break;
        if (k) {
            uintptr_t words = pyl_word(chunk + 16);
            if (words > (size - 24) / 8)
                break;
            top = chunk + 24 + 8 * words, limit = chunk + size;
        }
        pyl_shim_map((top + 7) & ~(uintptr_t)7, limit & ~(uintptr_t)7, NULL);
        chunk = pyl_word(chunk);
    }
}

/* The memory that holds no reference, left out as the shim's is: the
 * threads' dead frames (pyl_datastack): this thread's, which runs no
 * Python while it scans, and the others' when this one holds the GIL
 * (they cannot push or pop a frame meanwhile; without it, another's top,
 * read while it runs, could move, and frames popped since the counts
 * were read would hide counts: it is left in); and the main
 * interpreter's free lists and borrowed caches (pylay_borrowed_spans, as
 * pyroot_interp_data). */
static void pyl_dead_spans(const struct pyh_heap *h, uint64_t nobj)
{
    const struct pylay_obj_layout *ol;
    if (!pylay_lay)
        return;
    pyl_zombies(h, nobj);
    uint32_t top_at = pylay_datastack_top_at(pylay_lay->version);
    uintptr_t me = pylay_sym.this_thread ? (uintptr_t)pylay_sym.this_thread() : 0;
    uintptr_t interp = pylay_sym.interp_main ? (uintptr_t)pylay_sym.interp_main() : 0;
    if (top_at && me)
        pyl_datastack(me, top_at);
    int gil = me && pylay_sym.gil_holder && (uintptr_t)pylay_sym.gil_holder() == me;
    if (top_at && gil && interp && (ol = pylay_obj_layout_find(pylay_lay->version))) {
        /* PyThreadState's next is its second word (python_layout_matches_headers) */
        uintptr_t ts = pyl_word(interp + ol->interp_threads);
        for (unsigned k = 0; ts && k < PYL_THREADS; k++, ts = pyl_word(ts + 8))
            if (ts != me)
                pyl_datastack(ts, top_at);
    }
    uint32_t slo[PY_SPANS], shi[PY_SPANS];
    unsigned ns = pylay_borrowed_spans(pylay_lay->version, slo, shi);
    for (unsigned j = 0; interp && j < ns; j++)
        pyl_shim_map(interp + slo[j], interp + shi[j], NULL);
}

/* ---------------- glibc's free chunks ----------------
 * The main arena's heap ([heap], the brk area) keeps in its free chunks
 * and its top the words of the blocks freed there: a list's item array
 * freed says where its items were, and one reused for an object leaked
 * since would count (3.10's leakref fixture lost 1 of 3 so, 3 runs of
 * 8).  glibc's own walk tells them: from the heap's start, each chunk's
 * size (its second word; bit 0: the one before is in use) leads to the
 * next, and a chunk whose next says "not in use" is free, as is the top
 * up to the heap's end.  Chunks in tcache or the fast bins read in use:
 * kept (a live block the shim did not trace could be one).  Taken only
 * when the walk starts as glibc's heap does (a first chunk with no chunk
 * before it: prev_size 0, PREV_INUSE set) and ends on the heap's end:
 * another allocator's heap is scanned whole.  The first chunk's size is
 * no sign: glibc 2.26-2.41 put its tcache there (0x291 on x86_64), sid's
 * 2.43 another chunk (0x151 under the shim, 0x21 without). */

static void pyl_heap_map(const struct procmaps_line *m, void *arg)
{
    size_t len;
    const char *path = procmaps_path(m, &len);
    if (len == 6 && !memcmp(path, "[heap]", 6))
        ((uintptr_t *)arg)[0] = m->lo, ((uintptr_t *)arg)[1] = m->hi;
}

static void pyl_heap_line(const char *text, size_t len, void *arg)
{
    procmaps_parse(text, len, pyl_heap_map, arg);
}

/* The word at at (< end, the heap's end) on the walk: read PYL_CHUNK at
 * a time into l.buf (a word a syscall would cost seconds on a heap of
 * millions of chunks); 0 where it cannot be read.  *w: the window. */
static uint64_t pyl_heap_word(uintptr_t at, uintptr_t end, uintptr_t w[2])
{
    uint64_t v;
    if (at < w[0] || at + 8 > w[1]) {
        size_t n = end - at < PYL_CHUNK ? (size_t)(end - at) : PYL_CHUNK;
        w[0] = w[1] = 0;
        if (n < 8 || !peek(l.buf, at, n))
            return 0;
        w[0] = at, w[1] = at + n;
    }
    memcpy(&v, l.buf + (at - w[0]), 8);
    return v;
}

/* glibc (2.26 on) keeps up to 7 freed chunks of each small size in each
 * thread's tcache; such a chunk stays in use to a walk of the heap (its
 * next chunk's PREV_INUSE set), and its stale words hid leaked references
 * (test_python_leakref's dead frames).  Each holds the tcache key at its
 * second word: from 2.34 a random word of the process's, 2.30-2.33 its
 * thread's tcache struct.  2.30-2.41 put the main thread's struct first
 * in the heap (0x290 bytes), whose entries name each bin's first chunk:
 * two bins must agree on the key, or the key be the struct.  Later ones
 * put it elsewhere: there, a key is a word no pointer could be (a high
 * bit set) that two chunks of a tcache's size hold, each with a first
 * word that unmangles (safe-linking, 2.32 on) to 0 or to a chunk of the
 * heap.  0: none known (2.26-2.29 have no key to tell). */
#define PYL_TCACHE_BINS 64u
#define PYL_TCACHE_CHUNK 0x410u /* the largest chunk a tcache holds */
static uint64_t pyl_tcache_struct_key(uintptr_t heap, uintptr_t end)
{
    uint64_t key = 0;
    unsigned agree = 0;
    if ((pyl_word(heap + 8) & ~7ull) != 0x290)
        return 0;
    for (unsigned i = 0; i < PYL_TCACHE_BINS; i++) {
        uintptr_t e = pyl_word(heap + 16 + 2 * PYL_TCACHE_BINS + 8 * i);
        if (!e)
            continue;
        if ((e & 15) || e < heap + 16 || e + 16 > end)
            return 0;
        uint64_t k = pyl_word(e + 8);
        if (!k || (key && k != key))
            return 0;
        key = k, agree++;
    }
    return agree >= 2 || (key && key == heap + 16) ? key : 0;
}

/* The chunk at c on a walk of the heap (to end): its size, 0 where it
 * reads as none of glibc's (the walk ends); *inuse its next chunk's
 * PREV_INUSE (c not free, or in a tcache), -1 where no chunk header
 * follows it (the top's end, or past the heap: no in-use bit to read).
 * The one step of both walks (pyl_tcache_key's, pyl_heap_free's). */
static uint64_t pyl_chunk(uintptr_t c, uintptr_t end, uintptr_t w[2], int *inuse)
{
    uint64_t sz = pyl_heap_word(c + 8, end, w) & ~7ull;
    if (sz < 32 || (sz & 15) || sz > end - c)
        return 0;
    *inuse = c + sz + 16 <= end ? (int)(pyl_heap_word(c + sz + 8, end, w) & 1) : -1;
    return sz;
}

static uint64_t pyl_tcache_key(uintptr_t heap, uintptr_t end)
{
    uint64_t key = pyl_tcache_struct_key(heap, end), cand[4] = {0};
    uintptr_t w[2] = {0, 0};
    unsigned seen[4] = {0}, last = 0;
    int inuse;
    for (uintptr_t c = heap; !key;) {
        uint64_t sz = pyl_chunk(c, end, w, &inuse);
        if (!sz || inuse < 0)
            break;
        uint64_t k = pyl_heap_word(c + 24, end, w);
        uint64_t next = pyl_heap_word(c + 16, end, w) ^ ((c + 16) >> 12);
        if (sz <= PYL_TCACHE_CHUNK && (k >> 47) && inuse &&
            (!next || (!(next & 15) && next > heap && next < end))) {
            unsigned i = 0;
            while (i < 4 && cand[i] != k)
                i++;
            if (i == 4) /* a fifth: in the place of the last one new */
                i = last = (last + 1) & 3, cand[i] = k, seen[i] = 0;
            if (++seen[i] == 2)
                key = k;
        }
        c += sz;
    }
    return key;
}

static void pyl_heap_free(void)
{
    uintptr_t r[2] = {0, 0}, w[2] = {0, 0};
    uint32_t was = l.nshim;
    if (procmaps_lines("/proc/self/maps", l.line, sizeof l.line, pyl_heap_line, r) != 0 ||
        !r[0] || pyl_word(r[0]) != 0 || !(pyl_word(r[0] + 8) & 1))
        return;
    uint64_t key = pyl_tcache_key(r[0], r[1]);
    int inuse;
    for (uintptr_t c = r[0];;) {
        uint64_t sz = pyl_chunk(c, r[1], w, &inuse);
        if (!sz)
            break; /* not glibc's: leave it all in */
        uintptr_t next = c + sz;
        if (next == r[1]) { /* the top, to the heap's end */
            pyl_shim_map(c + 16, r[1], NULL);
            return;
        }
        if (inuse < 0)
            break;
        if (!inuse || (key && sz <= PYL_TCACHE_CHUNK && pyl_heap_word(c + 24, r[1], w) == key))
            pyl_shim_map(c + 16, next, NULL); /* free, or in a tcache */
        c = next;
    }
    l.nshim = was; /* a walk that did not end on the heap's end: none */
}

/* A filter before the keys' table (Bloom's, two bits a key from one
 * hash): a scan looks up every word that could be an address (import
 * torch's training run, 21M words read, 5.9M such, 170k found), and the
 * table, a quarter full of 8-byte keys (4 MiB for its 97k objects), is
 * a cache miss a probe; the filter is an eighth of its size and turns
 * away all but about one word in a hundred that is no key. */
static inline unsigned pyl_bit(uint64_t h, unsigned half)
{
    return (unsigned)(h >> (32 * half)) & (unsigned)(8 * l.mask + 7);
}

static inline int pyl_maybe(uint64_t h)
{
    unsigned b0 = pyl_bit(h, 0), b1 = pyl_bit(h, 1);
    return (l.bits[b0 >> 6] >> (b0 & 63) & l.bits[b1 >> 6] >> (b1 & 63) & 1) != 0;
}

static void pyl_key(uint64_t a, uint32_t i)
{
    uint64_t h = pyl_hash(a), s = h & l.mask;
    unsigned b0 = pyl_bit(h, 0), b1 = pyl_bit(h, 1);
    l.bits[b0 >> 6] |= 1ull << (b0 & 63);
    l.bits[b1 >> 6] |= 1ull << (b1 & 63);
    while (l.key[s])
        s = (s + 1) & l.mask;
    l.key[s] = a, l.obj[s] = i;
}

/* What pyl_keys reads of the object at a: its type, and a str's state
 * word (0 for another type, or where it could not be read).  One read
 * through the snapshot pass's page copies (pyrd_pg_peek) as far as the
 * state, where two peeks (four for a str) took a system call each (178k
 * objects of a held-out sklearn script: 0.47 s of its 0.77 s count; now
 * 0.05 s, a page copied once for the objects in it); the head alone
 * where that much is not readable (an object at its mapping's end); type
 * 0 where not even that. */
struct pyl_head {
    uint64_t type;
    uint32_t state;
};
static void pyl_head(uint64_t a, struct pyl_head *hd)
{
    const struct pylay_layout *y = pylay_lay;
    uint64_t w[8];
    size_t at = y ? y->str_state : 0;
    hd->type = 0, hd->state = 0;
    if (!y)
        return;
    if (at + 4 <= sizeof w && pyrd_pg_peek(w, a, at + 4)) {
        hd->type = w[1];
        if (hd->type == pylay_sym.str_type)
            memcpy(&hd->state, (const char *)w + at, 4);
        return;
    }
    if (!pyrd_pg_peek(w, a, 16))
        return;
    hd->type = w[1];
    if (hd->type == pylay_sym.str_type && !pyrd_pg_peek(&hd->state, a + at, 4))
        hd->state = 0;
}

/* Where the text of the object at a (read: hd) starts when it is a bytes
 * or a compact ASCII str (pylay_text_at), else 0. */
static uint64_t pyl_text(uint64_t a, const struct pyl_head *hd)
{
    uint16_t at = pylay_text_at(hd->type, hd->state);
    return at ? a + at : 0;
}

/* Whether the object (read: hd) is an interned str: the interpreter's
 * identifier, shared by every module that names it (immortal from 3.12
 * on); an extension's dead static keeps a count of it with no word
 * (pandas' Cython modules, 'first' 9 times), so it is no candidate. */
static int pyl_interned(const struct pyl_head *hd)
{
    return hd->type == pylay_sym.str_type && (hd->state & 3);
}

/* ---------------- pymalloc's free blocks ----------------
 * A free block of a pymalloc pool keeps the words of its last occupant:
 * only its first word is written, the pool's free list running through
 * it.  sid's 3.14 leaves a 16-byte block at the head of a pool's list
 * whose second word names one of test_python_leakref's planted
 * bytearrays, which then read as referenced (under load: which block
 * goes last varies).  The pool's header tells them, as pymalloc's own
 * books (struct pool_header, before the first block, where domain.c's
 * py_pools puts it; tbl_pool_page has matched its size class to the
 * page): a pool
 * with no block in use is free whole; the blocks from nextoffset on were
 * never handed out since the pool took its size; a block on the free
 * list is free.  A page the table does not hold (tbl_pool_page), or a
 * header or list that does not read as pymalloc's, is scanned as it is.
 * The objects made before the domains were wrapped are in use there:
 * kept. */

struct pyl_pool_header { /* pymalloc's (3.10-3.15, 64-bit) */
    uint32_t count, pad;   /* blocks in use (ref.count) */
    uint64_t freeblock;    /* the free list's head (each free block's first word: the next) */
    uint64_t nextpool, prevpool;
    uint32_t arenaindex, szidx;
    uint32_t nextoffset;   /* the first block never handed out */
    uint32_t maxnextoffset;
};

/* Whether the word at lies in a free block of a pymalloc pool (read into
 * l.pool, kept for the next word there). */
static int pyl_pool_free(uint64_t at)
{
    unsigned bs = 0, first = 0;
    size_t size = 0;
    uintptr_t pg = tbl_pool_page(at, &bs, &size, &first);
    if (!pg || size > PYL_CHUNK || first < sizeof(struct pyl_pool_header) || at - pg < first)
        return 0;
    if (l.pool_at != pg) {
        l.pool_at = 0;
        if (!peek(l.pool, pg, size))
            return 0;
        l.pool_at = pg;
    }
    struct pyl_pool_header hd;
    memcpy(&hd, l.pool, sizeof hd);
    uint64_t blocks = (size - first) / bs;
    if (hd.count > blocks || hd.nextoffset < first + 2 * bs || hd.nextoffset > size + bs)
        return 0; /* not a header pymalloc wrote (a pool's first block and its next
                   * are handed out or listed when it takes its size) */
    uint64_t blk = first + (at - pg - first) / bs * bs;
    if (!hd.count || blk + bs > size || blk >= hd.nextoffset)
        return 1;
    for (uint64_t f = hd.freeblock, k = 0; f && k < blocks; k++) {
        uint64_t fo = f - pg;
        if (fo < first || fo + bs > size || (fo - first) % bs)
            return 0; /* not a list of this pool */
        if (fo == blk)
            return 1;
        memcpy(&f, l.pool + fo, sizeof f);
    }
    return 0;
}

/* Whether the word at lies in a live block's slack: past its size, before
 * its size rounded up to 16.  An allocator hands out at least that much
 * (pymalloc's classes and glibc's chunks are multiples of 16; in a glibc
 * chunk the rest is the next chunk's size field, never an address), and
 * the program never writes there, so a word there is its last occupant's:
 * sid's 3.14 put a 56-byte bytearray in a 64-byte pymalloc block whose
 * last word still named a planted one (test_python_leakref).  No other
 * block starts before the rounded end, so no live word is left out.
 * *inside: at lies in the block's bytes. */
static int pyl_slack(uint64_t at, int *inside)
{
    const struct pyh_heap *h = l.h;
    uint64_t lo = pyh_blks_upto(h, at);
    if (!lo)
        return 0;
    const struct pyh_block *b = &h->blk[lo - 1];
    uint64_t size = pyh_size(h, b);
    *inside = at < b->addr + size;
    return !*inside && at < b->addr + ((size + 15) & ~(uint64_t)15);
}

/* Whether the word at, which names a candidate, is a dead occupant's: in
 * a live block's slack, or outside every live block in a free block of
 * pymalloc's. */
static int pyl_stale(uint64_t at)
{
    int inside = 0;
    return pyl_slack(at, &inside) || (!inside && pyl_pool_free(at));
}

/* The words of [lo, hi) looked up. */
static void pyl_scan(uintptr_t lo, uintptr_t hi)
{
    for (uintptr_t at = lo; at < hi; at += PYL_CHUNK) {
        size_t n = hi - at < PYL_CHUNK ? (size_t)(hi - at) : PYL_CHUNK;
        if (!peek(l.buf, at, n))
            continue; /* gone, or part of it unreadable */
        const uint64_t *w = (const uint64_t *)l.buf;
        for (size_t k = 0; k < n / 8; k++) {
            uint64_t a = w[k];
            if ((a & 7) > 1 || a < 4096)
                continue;
            a &= ~(uint64_t)1; /* tagged in its low bit: a reference too */
            uint64_t h = pyl_hash(a);
            if (!pyl_maybe(h))
                continue;
            for (uint64_t s = h & l.mask; l.key[s]; s = (s + 1) & l.mask)
                if (l.key[s] == a) {
                    if (pyl_stale(at + 8 * k))
                        break;
                    l.words[l.obj[s]]++;
                    l.at[s] = at + 8 * k;
                    break;
                }
        }
    }
}

/* pyl_scan of [lo, hi), a private mapping's, but for the pages it never
 * wrote (pagemap.h): they read as zeros or as their file's bytes as
 * linked, which name no object the program made, and a read faults
 * each in for good (a library's .data that torch's process never
 * touched: libcodec2's 15 MB, file pages the process then held). */
static void pyl_scan_written(uintptr_t lo, uintptr_t hi)
{
    uintptr_t at = lo, a, b;
    l.pm.n = 0; /* the entries read afresh for each range */
    while (pagemap_piece(&l.pm, &at, hi, 1, &a, &b))
        pyl_scan(a, b);
}

/* A line of /proc/self/maps: the program's writable memory, less the
 * shim's, scanned (a private mapping's written pages alone). */
static void pyl_map(const struct procmaps_line *m, void *arg)
{
    (void)arg;
    if (l.nmap < PYL_MAPS)
        l.map[l.nmap][0] = m->lo, l.map[l.nmap++][1] = m->hi;
    size_t len;
    const char *path = procmaps_path(m, &len), *perm = memchr(m->text, ' ', m->len);
    if (!perm || perm + 4 >= m->text + m->len || !m->readable || perm[2] != 'w' ||
        (len && procmaps_path_is(path, len, "/dev/") && !procmaps_programs(m)) ||
        (len && memmem(path, len, "libheapsnap", 11)))
        return;
    uintptr_t at = m->lo, sp = (uintptr_t)&at, pc;
    int tid = len == 7 && !memcmp(path, "[stack]", 7) ? getpid()
            : len ? -1 : stop_stack_tid(m->lo, m->hi);
    if (tid == STOP_STACK_SHIM)
        return; /* the shim's helper: copies of every address it read */
    if (sp >= m->lo && sp < m->hi) /* this thread's stack: below here, dead frames */
        at = sp & ~(uintptr_t)7;
    else if (tid >= 0 && pyg_cstack_live(tid, m->lo, m->hi, &at, &pc)) { /* another's, blocked: */
        size_t nr; /* below its sp, dead (pyg_cstack_live); its registers, if the stop kept them */
        const uintptr_t *regs = pyg_cstack_regs(tid, at, pc, &nr);
        if (regs)
            pyl_scan((uintptr_t)regs, (uintptr_t)(regs + nr));
    }
    void (*scan)(uintptr_t, uintptr_t) = perm[4] == 'p' ? pyl_scan_written : pyl_scan;
    for (uint32_t i = 0; i < l.nshim && at < m->hi; i++) {
        if (l.shim[i][1] <= at || l.shim[i][0] >= m->hi)
            continue;
        if (l.shim[i][0] > at)
            scan(at, l.shim[i][0]);
        at = l.shim[i][1];
    }
    if (at < m->hi)
        scan(at, m->hi);
}

/* Whether v is an address in a mapping. */
static int pyl_mapped(uint64_t v)
{
    uint32_t lo = 0, hi = l.nmap;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v < l.map[mid][0])
            hi = mid;
        else if (v >= l.map[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static void pyl_line(const char *text, size_t len, void *arg)
{
    procmaps_parse(text, len, pyl_map, arg);
}

/* Whether the object of block addr is counted once more than pointed to
 * by its maker, a C extension's initialisation (pyl_init_made): a
 * reference that initialisation kept with no pointer, as it keeps its
 * constants; once per process, the extension's for good, like them. */
static int pyl_init_kept(uint64_t addr)
{
    struct tbl_entry e;
    uintptr_t ip[PYL_INIT_DEPTH];
    unsigned flags;
    if (!tbl_find(addr, &e) && !pend_find_fresh(addr, &e))
        return 0;
    trace_lock();
    unsigned d = trace_stack(e.trace, ip, PYL_INIT_DEPTH, &flags);
    trace_unlock();
    return pyl_init_made(ip, d);
}

/* ---------------- constants nested in constants ----------------
 * A Cython module makes a constant tuple of constants (pandas' parsing:
 * (("day",), "%d", 2)) in its initialisation: the inner tuple's static
 * is written once and read once, to build the outer, so the compiler
 * keeps it in a register (pyl_init_held's dead stores): its count of 1 has no
 * word, the outer's item has the other.  pyl_init_made tells it by its
 * stack, but a tuple (or float) the interpreter's free list handed out
 * keeps its first life's stack (a Python line).  Here such a candidate,
 * counted exactly once more than pointed to, with its one word an item of
 * a tuple that an extension's static data holds (pyg_roots_statics; or a
 * tuple itself so excused: constants nested deeper), is the extension's
 * constant too.  A leak of one count of an item of a module's constant
 * tuple at run time is then missed. */

struct pyl_nest {
    uint32_t *obj;   /* the candidates looked at: object index */
    uint64_t *outer; /* ... the tuple whose item is their one word */
    uint32_t n;
    uint64_t *set;   /* the outer tuples, by hash (| 1: excused) */
    uint64_t mask;
};

/* The tuple whose items (from byte items of it) hold address at (h's
 * object, by the sorted blocks), or 0. */
static uint64_t pyl_outer(const struct pyh_heap *h, uint64_t at, uint16_t items)
{
    uint64_t lo = 0, hi = h->nblk, w[3];
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->blk[mid].addr <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo || at - h->blk[lo - 1].addr >= pyh_size(h, &h->blk[lo - 1]) ||
        pyh_obj_of(h, lo - 1) == PYG_NONE)
        return 0;
    uint64_t t = h->blk[lo - 1].addr + h->obj[pyh_obj_of(h, lo - 1)].off;
    if (!peek(w, t, sizeof w) || w[1] != pylay_sym.tuple_type || at < t + items ||
        (at - t - items) / 8 >= w[2])
        return 0;
    return t;
}

/* The slot of tuple t in the set (empty: 0 there). */
static uint64_t *pyl_nest_slot(struct pyl_nest *n, uint64_t t)
{
    uint64_t s = pyl_hash(t) & n->mask;
    while (n->set[s] && (n->set[s] & ~1ull) != t)
        s = (s + 1) & n->mask;
    return &n->set[s];
}

/* A segment of static data: its words that are outer tuples excused. */
static void pyl_nest_static(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct pyl_nest *n = arg;
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t at = lo; at + 8 <= hi; at += PYL_CHUNK) {
        size_t len = (hi - at < PYL_CHUNK ? (size_t)(hi - at) : PYL_CHUNK) & ~(size_t)7;
        if (!peek(l.buf, at, len))
            continue;
        const uint64_t *w = (const uint64_t *)l.buf;
        for (size_t k = 0; k < len / 8; k++) {
            if (!w[k] || (w[k] & 7))
                continue;
            uint64_t *s = pyl_nest_slot(n, w[k]);
            if (*s)
                *s |= 1;
        }
    }
}

/* The candidates left counted once more than pointed to, by one word:
 * those nested in an extension's constant excused (words UINT32_MAX). */
static void pyl_nested(const struct pyh_heap *h, uint64_t nobj, uint32_t *words)
{
    struct pyl_nest n = {0};
    uint64_t cap = 2 * PYL_NESTED;
    const struct pylay_obj_layout *ol = pylay_obj_layout_find(pylay_lay->version);
    if (!pylay_sym.tuple_type || !ol || !(n.obj = arena_map(PYL_NESTED * 4)) ||
        !(n.outer = arena_map(PYL_NESTED * 8)) || !(n.set = arena_map(cap * 8))) {
        pe.overflowed |= pe.early; /* none looked at: a settle counts again */
        goto out;
    }
    n.mask = cap - 1;
    for (uint64_t i = 0; i < nobj && n.n < PYL_NESTED; i++) {
        const struct pyh_obj *o = &h->obj[i];
        if (words[i] != 1 || o->refcnt != 2)
            continue;
        uint64_t a = h->blk[pyh_blk_of(h, i)].addr + o->off, s = pyl_hash(a) & l.mask;
        while (l.key[s] && l.key[s] != a)
            s = (s + 1) & l.mask;
        uint64_t t = l.key[s] ? pyl_outer(h, l.at[s], ol->tuple_items) : 0;
        if (!t)
            continue;
        n.obj[n.n] = (uint32_t)i, n.outer[n.n++] = t;
        *pyl_nest_slot(&n, t) |= t;
    }
    if (!n.n)
        goto out;
    pyg_roots_statics(pyl_nest_static, &n);
    /* deeper: a candidate excused is an outer tuple excused too */
    for (int round = 0, more = 1; more && round < 4; round++) {
        more = 0;
        for (uint32_t k = 0; k < n.n; k++) {
            const struct pyh_obj *o = &h->obj[n.obj[k]];
            uint64_t a = h->blk[pyh_blk_of(h, n.obj[k])].addr + o->off, *s;
            if (!(*pyl_nest_slot(&n, n.outer[k]) & 1) || !*(s = pyl_nest_slot(&n, a)) || (*s & 1))
                continue;
            *s |= 1;
            more = 1;
        }
    }
    for (uint32_t k = 0; k < n.n; k++)
        if (*pyl_nest_slot(&n, n.outer[k]) & 1)
            words[n.obj[k]] = UINT32_MAX;
    if (pe.early && n.n == PYL_NESTED)
        pe.overflowed = 1;
    if (pe.early && pe.nested)
        memcpy(pe.nested, n.obj, (size_t)n.n * sizeof *n.obj), pe.nnested = n.n;
out:
    if (n.obj)
        arena_unmap(n.obj, PYL_NESTED * 4);
    if (n.outer)
        arena_unmap(n.outer, PYL_NESTED * 8);
    if (n.set)
        arena_unmap(n.set, cap * 8);
}

/* Whether process_vm_readv works here: peek's plain copy, where a filter
 * refuses the call, would fault on a mapping another thread unmaps while
 * the whole memory is read; then no scan at all. */
static int pyl_safe_reads(void)
{
    uint64_t a = 1, b = 0;
    struct iovec to = {&b, 8}, from = {&a, 8};
    int saved = errno;
    long r = syscall(SYS_process_vm_readv, (long)getpid(), &to, 1L, &from, 1L, 0L);
    errno = saved;
    return r == 8 && b == 1;
}

/* Each wanted object's address and its text's keyed (pyl_key), words[i]
 * cleared, or UINT32_MAX where its references are never counted: the
 * runtime's, the program's wish (ignored), an interned name. */
static void pyl_keys(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want,
                     uint32_t *words)
{
    uint64_t i0;
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(h, nobj, &it, &i0);) {
        uint64_t i = i0;
        words[i] = 0;
        if (!want[i])
            continue;
        const struct pyh_obj *o = &h->obj[i];
        uint64_t a = h->blk[it.bj].addr + o->off, t;
        struct pyl_head hd = {0, 0};
        if (pyl_class(h->blk[it.bj].addr) == HSNAP_CLASS_IGNORED ||
            (pyl_head(a, &hd), pyl_interned(&hd))) {
            words[i] = UINT32_MAX; /* the runtime's, the program's wish, a name */
            continue;
        }
        t = pyl_text(a, &hd);
        pyl_key(a, (uint32_t)i);
        if (t)
            pyl_key(t, (uint32_t)i);
    }
}

/* The shim's own ranges, by start: its arena's maps and its .bss (its
 * .data is named for its file): its own range, not its mapping's, which
 * the kernel may have merged with the anonymous mapping next to it,
 * another module's .bss (a Cython extension's constants).  Sorted by
 * span_sort: 3.10's dead frames may be thousands. */
static void pyl_shim_ranges(const struct pyh_heap *h, uint64_t nobj)
{
    arena_each_map(pyl_shim_map, NULL);
    pyl_shim_map((uintptr_t)__bss_start & ~(uintptr_t)7, ((uintptr_t)_end + 7) & ~(uintptr_t)7,
                 NULL);
    pyl_dead_spans(h, nobj);
    pyl_heap_free();
    span_sort(l.shim, l.nshim);
}

/* Whether the gc object i's PyGC_Head is no gc head: its _gc_next points
 * into its own block, as a tracked object's never does (it names another
 * object's head or the collector's list).  A C++ block whose stale bytes
 * read as an object: a std::string's inline buffer holding "_0" (the
 * argument names libtorch_cpu's schema inference makes, torch 1.13) over
 * a dead tuple's ob_refcnt reads refcount 12383, its ob_type left as it
 * was; test_python_leakref's lookalike() plants one. */
static int pyl_no_gc_head(const struct pyh_heap *h, uint64_t i)
{
    const struct pyh_obj *o = &h->obj[i];
    if (o->off < 16)
        return 0;
    const struct pyh_block *b = &h->blk[pyh_blk_of(h, i)];
    uint64_t next = pyl_word(b->addr + o->off - 16);
    return next - b->addr < pyh_size(h, b);
}

/* The counts the words found fall short of, forgiven where no reference
 * leaked: a "count" that is an address, or a gc head that is none (no
 * object: a C structure that looks like one), one count its maker kept
 * (an initialisation). */
static void pyl_forgive(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want,
                        uint32_t *words)
{
    for (uint64_t i = 0; i < nobj; i++) {
        uint64_t rc1 = h->obj[i].refcnt;
        if (!want[i] || words[i] >= rc1)
            continue;
        if (pyl_mapped(rc1) || pyl_no_gc_head(h, i))
            words[i] = UINT32_MAX;
        else if (words[i] + 1 == rc1 && pyl_init_kept(h->blk[pyh_blk_of(h, i)].addr))
            words[i] = UINT32_MAX;
    }
}

static void pyl_early_drop(void)
{
    if (pe.nested)
        arena_unmap(pe.nested, PYL_NESTED * sizeof *pe.nested);
    if (pe.want)
        arena_unmap(pe.want, (pe.nobj + 63) / 64 * 8);
    memset(&pe, 0, sizeof pe);
}

int pyl_count(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words)
{
    uint64_t n = 0, cap = 1024;
    if (!pe.early)
        pyl_early_drop(); /* a count now: an early one is stale */
    for (uint64_t i = 0; i < nobj; i++)
        n += want[i];
    while (cap < 4 * n) /* an object and its text */
        cap *= 2;
    size_t lshim = PYL_SHIM_MAPS * sizeof *l.shim, lmap = PYL_MAPS * sizeof *l.map;
    memset(&l, 0, offsetof(__typeof__(l), line));
    l.bits = arena_map(cap); /* cap bytes: 8 cap bits, the filter's mask 8 l.mask + 7 */
    l.key = arena_map_full(cap * 8); /* probed, a quarter full: every page read and written */
    l.obj = arena_map_full(cap * 4);
    l.at = arena_map(cap * 8);
    l.shim = arena_map(lshim);
    l.buf = arena_map(PYL_CHUNK);
    l.pool = arena_map(PYL_CHUNK);
    l.map = arena_map(lmap);
    int rc = -1;
    if (!l.bits || !l.key || !l.obj || !l.at || !l.shim || !l.buf || !l.pool || !l.map || !pyl_safe_reads())
        goto out;
    l.mask = cap - 1, l.words = words, l.h = h;
    /* the reads by pread of /proc/self/mem: one system call a peek where
     * process_vm_readv took two (getpid's), and no pin (peek.h) */
    peek_mem_on();
    int pg = !pyrd_pg_is_open(); /* the early count's: the typing pass's copies */
    if (pg)
        pyrd_pg_open();
    pyl_keys(h, nobj, want, words);
    if (pg)
        pyrd_pg_close();
    pyl_shim_ranges(h, nobj);
    pagemap_open(&l.pm);
    rc = procmaps_lines("/proc/self/maps", l.line, sizeof l.line, pyl_line, NULL);
    pagemap_close(&l.pm);
    pyl_init_prepare(); /* pyl_init_kept's names */
    if (rc == 0) {
        int full = 0;
        pyl_forgive(h, nobj, want, words);
        pyl_init_names_refs(h, nobj, want, words, pyl_init_kept, &full);
        pyl_nested(h, nobj, words);
        pe.overflowed |= full;
    }
    peek_mem_off();
out:
    if (l.bits)
        arena_unmap(l.bits, cap);
    if (l.key)
        arena_unmap(l.key, cap * 8);
    if (l.obj)
        arena_unmap(l.obj, cap * 4);
    if (l.at)
        arena_unmap(l.at, cap * 8);
    if (l.shim)
        arena_unmap(l.shim, lshim);
    if (l.buf)
        arena_unmap(l.buf, PYL_CHUNK);
    if (l.pool)
        arena_unmap(l.pool, PYL_CHUNK);
    if (l.map)
        arena_unmap(l.map, lmap);
    memset(&l, 0, offsetof(__typeof__(l), line));
    pyl_lc_drop(); /* heard once: the next check leaves its own */
    return rc;
}

int pyl_count_early(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words)
{
    pyl_early_drop();
    pyl_lc_drop(); /* no class yet: pyl_count_settle's */
    pe.nobj = nobj;
    if (!(pe.nested = arena_map(PYL_NESTED * sizeof *pe.nested)) ||
        !(pe.want = arena_map((nobj + 63) / 64 * 8))) {
        pyl_early_drop();
        return -1;
    }
    for (uint64_t i = 0; i < nobj; i++)
        pe.want[i / 64] |= (uint64_t)(want[i] != 0) << (i % 64);
    pe.early = 1;
    int rc = pyl_count(h, nobj, want, words);
    pe.early = 0;
    if (rc != 0) {
        pyl_early_drop();
        return rc;
    }
    pe.h = h, pe.kept = 1;
    return 0;
}

/* Whether object i is one pyl_count would leave out now (not wanted, or
 * its block ignored by the check). */
static int pyl_left_out(const struct pyh_heap *h, const uint8_t *want, uint64_t i)
{
    return !want[i] || pyl_class(h->blk[pyh_blk_of(h, i)].addr) == HSNAP_CLASS_IGNORED;
}

int pyl_count_settle(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words)
{
    int again = !pe.kept || pe.overflowed || pe.h != h || pe.nobj != nobj;
    for (uint64_t i = 0; !again && i < nobj; i++)
        again = want[i] && !(pe.want[i / 64] >> (i % 64) & 1);
    for (uint32_t k = 0; !again && k < pe.nnested; k++)
        again = pe.nested[k] >= nobj || pyl_left_out(h, want, pe.nested[k]);
    if (again) { /* as if counted now (it drops the early count) */
        opt_debug("python: leaked references counted again after the leak check", "", "");
        return pyl_count(h, nobj, want, words);
    }
    uint64_t i;
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(h, nobj, &it, &i);)
        if (!want[i])
            words[i] = 0; /* as pyl_keys leaves it */
        else if (lc.n && pyl_class(h->blk[it.bj].addr) == HSNAP_CLASS_IGNORED)
            words[i] = UINT32_MAX;
    opt_debug("python: leaked references counted while the leak check's fork ran", "", "");
    pyl_early_drop();
    pyl_lc_drop();
    return 0;
}
