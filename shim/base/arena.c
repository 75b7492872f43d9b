/*
 * arena.c - the shim's own memory, all of it from mmap: the shim never
 * allocates through the host's malloc (that would recurse into the hooks,
 * move the program's heap and show in its profile).
 *
 * Power-of-two size classes from 16 B to 64 KiB, each a free list through
 * its free blocks, carved from 1 MiB chunks; larger requests are mmaps of
 * their own.  Callers pass the size back to arena_free: no headers.  A
 * block is zeroed only when it comes from a free list (a carved one is
 * fresh from mmap, its pages untouched until used).  arena_keep: memory
 * never given back, a second bump region in 8-byte steps.
 *   Rules: one lock over the lists and both bump regions (every caller is
 * on a slow path).  Out of memory: warn once, degrade, return NULL.  Every
 * mapping is listed (arena_each_map): the leak check must not take the
 * shim's mappings for roots.  A second lock (arena_maps_hold) makes a
 * mapping's system call and its listing one step, and the check holds it
 * while it reads /proc/self/maps: the helper thread runs on while the
 * world is stopped, and a mapping seen in between was a root unmapped
 * before its scan.
 */
#include <string.h>
#include <sys/mman.h>

#include "base/sysmap.h"

#include "base.h"

#define ARENA_MIN_SHIFT 4   /* 16 B */
#define ARENA_MAX_SHIFT 16  /* 64 KiB; above that, a mapping of its own */
#define ARENA_NCLASS (ARENA_MAX_SHIFT - ARENA_MIN_SHIFT + 1)
_Static_assert(ARENA_BLOCK_MAX == 1u << ARENA_MAX_SHIFT, "base.h's ARENA_BLOCK_MAX");
#define ARENA_CHUNK (1u << 20)
#define ARENA_PAGE 4096u

#define ARENA_KEEP_CHUNK (256u * 1024u)

#ifdef MADV_POPULATE_WRITE
#define ARENA_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define ARENA_POPULATE_WRITE 23 /* Linux 5.14's; older kernels answer EINVAL */
#endif

struct arena_free { struct arena_free *next; };

struct arena_bump {
    char *cur, *end; /* the current mapping's unused tail */
    char *ready;     /* resident up to here (arena_carve's pages ahead) */
};

static struct {
    lock_t lock;                              /* lists and bump regions */
    struct arena_free *free[ARENA_NCLASS];    /* per class, LIFO */
    struct arena_bump classes;                /* fresh size-class blocks */
    struct arena_bump keep;                   /* arena_keep: never freed */
    _Atomic size_t mapped;                    /* bytes mapped, all kinds */
} arena;

/* ---------------- the list of the shim's mappings ---------------- */

/* The list is in pieces of ARENA_MAPS_PIECE entries, each mapped when the
 * list first reaches it (a process of a few dozen mappings holds one, 16
 * KiB) rather than kept in bss: the shim's fixed address space
 * (shim_fixed_address_space_under_8mib) holds none of it.  A piece is
 * never unmapped; it lists itself, and like the rest of the list it is
 * not counted in arena.mapped (it is the shim's bookkeeping, as the bss
 * it replaces was). */
#define ARENA_MAPS 16384u
#define ARENA_MAPS_PIECE 1024u

struct arena_ent {
    _Atomic uintptr_t lo; /* 0: a free entry */
    _Atomic uintptr_t hi; /* 0 while being filled or emptied */
};

static struct {
    lock_t lock;                      /* mmap + list, unlist + munmap: one step */
    _Atomic(struct arena_ent *) piece[ARENA_MAPS / ARENA_MAPS_PIECE]; /* NULL: not yet */
    atomic_uint top;                  /* entries ever used: [0, top) */
    atomic_int full;                  /* a mapping could not be listed */
} amaps;

/* Entry i, or NULL when its piece is not mapped (then it is free). */
static struct arena_ent *arena_ent(unsigned i)
{
    struct arena_ent *pc = atomic_load(&amaps.piece[i / ARENA_MAPS_PIECE]);
    return pc ? &pc[i % ARENA_MAPS_PIECE] : NULL;
}

static void arena_list(void *p, size_t n);

/* With amaps.lock: piece k mapped (a raw mmap: this may run inside a
 * hook), and listed in itself; 0, or -1 when the mapping failed.  A
 * signal handler's snapshot may map in this thread meanwhile (the lock
 * nests): the first piece stored stays, the other goes. */
static int arena_piece(unsigned k)
{
    size_t n = ARENA_MAPS_PIECE * sizeof(struct arena_ent);
    struct arena_ent *none = NULL;
    void *pc = sys_mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pc == MAP_FAILED)
        return -1;
    if (!atomic_compare_exchange_strong(&amaps.piece[k], &none, (struct arena_ent *)pc))
        sys_munmap(pc, n);
    else
        arena_list(pc, n);
    return 0;
}

/* With amaps.lock (arena_maps_hold). */
static void arena_list(void *p, size_t n)
{
    uintptr_t lo = (uintptr_t)p;
    for (unsigned i = 0; i < ARENA_MAPS; i++) {
        uintptr_t zero = 0;
        struct arena_ent *e = arena_ent(i);
        if (!e && (i % ARENA_MAPS_PIECE || arena_piece(i / ARENA_MAPS_PIECE) < 0))
            break;
        if (!e)
            e = arena_ent(i);
        if (atomic_load_explicit(&e->lo, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&e->lo, &zero, lo)) {
            atomic_store(&e->hi, lo + n);
            for (unsigned t = atomic_load(&amaps.top); t < i + 1 &&
                 !atomic_compare_exchange_weak(&amaps.top, &t, i + 1);)
                ;
            return;
        }
    }
    atomic_store(&amaps.full, 1);
}

static void arena_unlist(void *p)
{
    unsigned top = atomic_load(&amaps.top);
    for (unsigned i = 0; i < top; i++) {
        struct arena_ent *e = arena_ent(i);
        if (e && atomic_load_explicit(&e->lo, memory_order_relaxed) == (uintptr_t)p) {
            atomic_store(&e->hi, 0);
            atomic_store(&e->lo, 0);
            return;
        }
    }
}

/* Calls fn for each of the shim's mappings; -1 when some could not be
 * listed (then the caller cannot tell the shim's memory from the
 * program's), else 0. */
int arena_each_map(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    unsigned top = atomic_load(&amaps.top);
    for (unsigned i = 0; i < top; i++) {
        struct arena_ent *e = arena_ent(i);
        uintptr_t lo = e ? atomic_load(&e->lo) : 0, hi = e ? atomic_load(&e->hi) : 0;
        if (lo && hi > lo)
            fn(lo, hi, arg);
    }
    return atomic_load(&amaps.full) ? -1 : 0;
}

static size_t arena_round_pages(size_t n)
{
    return (n + ARENA_PAGE - 1) & ~(size_t)(ARENA_PAGE - 1);
}

/* A listed mapping of n bytes (flags: MAP_SHARED or MAP_PRIVATE, and
 * more), or NULL. */
static void *arena_mmap_listed(size_t n, int flags)
{
    n = arena_round_pages(n ? n : 1);
    arena_maps_hold();
    void *p = sys_mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | flags, -1, 0);
    if (p != MAP_FAILED)
        arena_list(p, n);
    arena_maps_release();
    if (p == MAP_FAILED)
        return NULL;
    atomic_fetch_add(&arena.mapped, n);
    return p;
}

static void *arena_map_flags(size_t n, int flags)
{
    void *p = arena_mmap_listed(n, MAP_PRIVATE | flags);
    if (!p)
        degrade_now("out of memory (mmap failed)");
    return p;
}

void *arena_map(size_t n)
{
    return arena_map_flags(n, 0);
}

/* For a caller that writes every page at once (a table's new array): the
 * kernel fills them in one call (MAP_POPULATE) rather than one fault each. */
void *arena_map_full(size_t n)
{
    return arena_map_flags(n, MAP_POPULATE);
}

/* The whole pages of [p, p + n) made resident in one call, for a caller
 * about to write all of them (a document's array by trace, a section's
 * buffer): the kernel fills them at once rather than one fault each, which
 * on a virtual machine costs tens of microseconds a page (a million-trace
 * Python program's state documents: thousands a document).  Where the
 * kernel cannot (before Linux 5.14, out of memory), the pages fault in as
 * they are written, as before. */
void arena_populate(void *p, size_t n)
{
    uintptr_t lo = ((uintptr_t)p + ARENA_PAGE - 1) & ~(uintptr_t)(ARENA_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(ARENA_PAGE - 1);
    if (hi > lo)
        (void)sys_madvise((void *)lo, hi - lo, ARENA_POPULATE_WRITE);
}

/* Room sized for the worst case and written sparsely (no swap reserved
 * for it: pages only where written); shared with the process's forks when
 * shared is set (the leak check's replies).  Listed as every arena
 * mapping is: the leak check must not read it as the program's shared
 * memory, a root (replies of tens of MiB read whole, a fault a page, in
 * the check's fork).  NULL when the kernel has no room: the caller does
 * without (nothing degrades). */
void *arena_map_sparse(size_t n, int shared)
{
    return arena_mmap_listed(n, MAP_NORESERVE | (shared ? MAP_SHARED : MAP_PRIVATE));
}

void arena_unmap(void *p, size_t n)
{
    if (!p)
        return;
    n = arena_round_pages(n ? n : 1);
    arena_maps_hold();
    arena_unlist(p);
    sys_munmap(p, n);
    arena_maps_release();
    atomic_fetch_sub(&arena.mapped, n);
}

/* A mapping from arena_map grown (or moved) to n bytes, its contents kept:
 * the kernel moves the pages, so a growing buffer is never resident twice
 * (a copy to a new mapping held old and new at once: a snapshot's 20 MiB
 * trace section peaked at 40).  NULL when out of memory; p is then still
 * valid. */
void *arena_remap(void *p, size_t old, size_t n)
{
    old = arena_round_pages(old ? old : 1);
    n = arena_round_pages(n ? n : 1);
    arena_maps_hold();
    arena_unlist(p); /* listed again below, whatever the outcome */
    void *q = sys_mremap(p, old, n, MREMAP_MAYMOVE, NULL);
    arena_list(q == MAP_FAILED ? p : q, q == MAP_FAILED ? old : n);
    arena_maps_release();
    if (q == MAP_FAILED) {
        degrade_now("out of memory (mremap failed)");
        return NULL;
    }
    if (n > old)
        atomic_fetch_add(&arena.mapped, n - old);
    else
        atomic_fetch_sub(&arena.mapped, old - n);
    return q;
}

static unsigned arena_class(size_t n)
{
    unsigned shift = ARENA_MIN_SHIFT;
    while (((size_t)1 << shift) < n)
        shift++;
    return shift - ARENA_MIN_SHIFT;
}

/* n bytes from region b, mapping a fresh chunk (at least `chunk` bytes) when
 * the tail is too short; the old tail is simply abandoned (small).  Fresh
 * mappings are zero, and bumped memory is never handed out twice. */
static void *arena_bump(struct arena_bump *b, size_t n, size_t chunk)
{
    if ((size_t)(b->end - b->cur) < n) {
        size_t len = n > chunk ? n : chunk;
        char *m = arena_map(len);
        if (!m)
            return NULL;
        b->cur = m;
        b->end = m + len;
    }
    void *p = b->cur;
    b->cur += n;
    return p;
}

/* Blocks of a page or less are carved in order and written soon after
 * (the unwinder's memos, a page each; records, index pieces): the pages
 * ahead of them are made resident ARENA_AHEAD at a time, where each was a
 * fault (`python3 -c pass`: 238 of its faults were the memos').  A bigger
 * block may be written sparsely (a chunk of cells) and comes as it is;
 * at most one window ahead is resident unused. */
#define ARENA_AHEAD (16u * 1024u)
static void *arena_carve(unsigned c)
{
    struct arena_bump *b = &arena.classes;
    size_t n = (size_t)1 << (c + ARENA_MIN_SHIFT);
    char *p = arena_bump(b, n, ARENA_CHUNK);
    if (!p || n > ARENA_PAGE)
        return p;
    if (b->ready < p || b->ready > b->end) /* a fresh mapping, or a big block went by */
        b->ready = p;
    if (p + n > b->ready) {
        uintptr_t lo = (uintptr_t)b->ready & ~(uintptr_t)(ARENA_PAGE - 1);
        char *hi = b->ready + ARENA_AHEAD;
        if (hi > b->end)
            hi = b->end;
        uintptr_t top = ((uintptr_t)hi + ARENA_PAGE - 1) & ~(uintptr_t)(ARENA_PAGE - 1);
        arena_populate((void *)lo, top - lo);
        b->ready = (char *)top;
    }
    return p;
}

void *arena_keep(size_t n)
{
    lock_take(&arena.lock);
    void *p = arena_bump(&arena.keep, (n + 7) & ~(size_t)7, ARENA_KEEP_CHUNK);
    lock_drop(&arena.lock);
    return p;
}

void *arena_alloc(size_t n)
{
    if (n > ((size_t)1 << ARENA_MAX_SHIFT))
        return arena_map(n); /* fresh pages are zero */
    unsigned c = arena_class(n ? n : 1);
    lock_take(&arena.lock);
    struct arena_free *f = arena.free[c];
    void *p;
    if (f) {
        arena.free[c] = f->next;
        p = f;
    } else {
        p = arena_carve(c);
    }
    lock_drop(&arena.lock);
    if (f) /* a carved block is fresh from mmap: zero, and left untouched */
        memset(p, 0, (size_t)1 << (c + ARENA_MIN_SHIFT));
    return p;
}

void arena_free(void *p, size_t n)
{
    if (!p)
        return;
    if (n > ((size_t)1 << ARENA_MAX_SHIFT)) {
        arena_unmap(p, n);
        return;
    }
    unsigned c = arena_class(n ? n : 1);
    struct arena_free *f = p;
    lock_take(&arena.lock);
    f->next = arena.free[c];
    arena.free[c] = f;
    lock_drop(&arena.lock);
}

size_t arena_mapped(void)
{
    return atomic_load(&arena.mapped);
}

void arena_lock(void)
{
    lock_take(&arena.lock);
}

void arena_unlock(void)
{
    lock_drop(&arena.lock);
}

/* No mapping of the shim's is made, moved or removed until the release:
 * what /proc/self/maps shows meanwhile agrees with arena_each_map.  The
 * last lock of root.h's order (nothing but a system call is done under
 * it).  The leak check holds it as the threads stop, so with the world
 * stopped only a thread the stop skips (the helper, inside one system
 * call) can hold it.  Nested in one thread (the check maps its scratch
 * with it held; a signal handler's snapshot maps in a thread inside
 * arena_map): a count of the thread's own. */
static __thread unsigned amaps_held;

void arena_maps_hold(void)
{
    if (amaps_held++ == 0)
        lock_take(&amaps.lock);
}

/* Also in a child whose other threads are gone (fork's handlers, a clone
 * that none reached): a thread that holds nothing frees the lock. */
void arena_maps_release(void)
{
    if (amaps_held == 0 || --amaps_held == 0)
        lock_drop(&amaps.lock);
}
