/*
 * pypage.c - the pages of the process's own memory that a snapshot's
 * object passes read a field at a time (a type's flags, a dict's keys, a
 * str's text: pyg_link, pyg_roots_collect, py_types_end), kept for the pass: each 4
 * KiB-aligned chunk is copied whole by one process_vm_readv the first time
 * a read falls in it, and the reads after it are served from the copy.  A
 * system call a field pinned a page for each, most of an exit snapshot's
 * system time.  A chunk may take any of the PYPG_WAYS slots of the set its
 * hash names, the one read least lately replaced: with one slot a chunk,
 * the passes' chunks (type objects, dicts' keys, strings) met again after
 * another landed on their slot cost a system call each time they came
 * back (scripts/bench/exitcount.py --kernel).  Only the chunk a read
 * falls in is copied, a page a peek would have touched: no page the
 * program never touched is faulted in.
 * A copy holds the bytes as they were at its read; other threads may
 * change them meanwhile, as they may between two peeks, and pyrd_pg_close
 * drops them all.
 *   The cache is the thread's that opened it (pyrd_pg_open, under the
 * snapshot lock); any other thread, or a read outside one, is a plain
 * peek (peek.h), and so is one longer than PYPG_LONG (a range's scan: one
 * call either way, and its chunks would push out those fields share).
 * An unreadable chunk is no copy (the read fails, as a peek would); where
 * the system call is refused (a seccomp filter), a peek's plain copy.
 *   A read within the interpreter's own image (the PT_LOAD segments of the
 * module that holds PyCode_Type: its static types, _PyRuntime's strings and
 * interpreter state, about a fourth of the chunks an exit snapshot copied
 * and the roots' scans of the interpreter) is a plain load, whatever its
 * length:
 * that module is never unloaded while the interpreter runs, and its
 * segments are readable, so no mapping can go under the read.  Its
 * segments are found once a pass (pyrd_pg_open: under the snapshot lock,
 * after MODULES' own walk of the loader's list).
 */
#include <errno.h>
#include <link.h>
#include <string.h>

#include "base.h"
#include "pylayout.h"
#include "pyreads.h"
#include "peek.h"

#define PYPG_CHUNK 4096u /* bytes copied at once: in one page whatever the page size */
#define PYPG_BITS 8u               /* chunks kept: 1 << PYPG_BITS, by the chunk's hash */
#define PYPG_SLOTS (1u << PYPG_BITS)
#define PYPG_LONG 2048u  /* bytes of the longest read served from chunks */

#define PYPG_WAYS 4u /* slots a chunk may take: a set's, the least lately read replaced */
#define PYPG_SEGS 8u /* the interpreter image's readable segments kept */

struct pyrd_pg_map {
    uint64_t tag[PYPG_SLOTS]; /* the chunk's number + 1 a slot holds, 0: none */
    uint64_t used[PYPG_SLOTS]; /* pg.clock when the slot was last read */
    char data[PYPG_SLOTS][PYPG_CHUNK];
};

static struct {
    struct pyrd_pg_map *m;   /* mapped while open */
    int plain;            /* the system call refused */
    uint64_t calls, hits; /* system calls made, reads served (pyrd_pg_counts) */
    uint64_t clock;       /* reads of chunks: the slots' ages */
    uint64_t lo[PYPG_SEGS], hi[PYPG_SEGS]; /* the interpreter's segments: [lo, hi) */
    unsigned nseg;
    long pid;             /* getpid() at the open: the pass ends before any fork of this thread */
} pg;
static int pg_busy;                   /* some thread owns the cache */
static __thread unsigned char pg_mine; /* this thread does */
static int pg_given;                  /* ... the one that owned it handed it off */

/* The readable PT_LOAD segments of the module that holds PyCode_Type. */
static int pyrd_pg_image(struct dl_phdr_info *info, size_t size, void *arg)
{
    uint64_t at = pylay_sym.code_type;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum && !mine; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t lo = info->dlpi_addr + ph->p_vaddr;
        mine = ph->p_type == PT_LOAD && at >= lo && at - lo < ph->p_memsz;
    }
    for (int i = 0; i < info->dlpi_phnum && mine && pg.nseg < PYPG_SEGS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_R) && ph->p_memsz) {
            pg.lo[pg.nseg] = info->dlpi_addr + ph->p_vaddr;
            pg.hi[pg.nseg++] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        }
    }
    return mine; /* found: the walk ends */
}

void pyrd_pg_open(void)
{
    if (pg_mine) { /* open already: a new pass, its copies dropped */
        memset(pg.m->tag, 0, sizeof pg.m->tag);
        memset(pg.m->used, 0, sizeof pg.m->used);
        return;
    }
    if (__atomic_exchange_n(&pg_busy, 1, __ATOMIC_ACQUIRE))
        return; /* another thread's: this one peeks */
    if (!(pg.m = arena_map(sizeof *pg.m))) {
        __atomic_store_n(&pg_busy, 0, __ATOMIC_RELEASE);
        return;
    }
    pg_mine = 1;
    pg.pid = (long)getpid();
    pg.nseg = 0;
    if (pylay_sym.code_type)
        loader_iterate_phdr(pyrd_pg_image, NULL);
}

void pyrd_pg_close(void)
{
    if (!pg_mine)
        return;
    arena_unmap(pg.m, sizeof *pg.m);
    pg.m = NULL;
    pg_mine = 0;
    __atomic_store_n(&pg_busy, 0, __ATOMIC_RELEASE);
}

void pyrd_pg_hand_off(void)
{
    if (pg_mine)
        pg_mine = 0, pg_given = 1;
}

void pyrd_pg_take(void)
{
    if (pg_given)
        pg_given = 0, pg_mine = 1;
}

int pyrd_pg_is_open(void)
{
    return pg_mine;
}

void pyrd_pg_counts(uint64_t *calls, uint64_t *hits)
{
    *calls = pg.calls, *hits = pg.hits;
}

/* The copy of chunk c (its number), read now if not held; NULL when it is
 * unreadable or the system call is refused (then pg.plain). */
static const char *pyrd_pg_chunk(uint64_t c)
{
    unsigned set = (unsigned)((c * 0x9e3779b97f4a7c15ull) >> (64 - PYPG_BITS)) & ~(PYPG_WAYS - 1);
    unsigned s = set;
    pg.clock++;
    for (unsigned w = set; w < set + PYPG_WAYS; w++) {
        if (pg.m->tag[w] == c + 1) {
            pg.m->used[w] = pg.clock;
            pg.hits++;
            return pg.m->data[w];
        }
        if (pg.m->used[w] < pg.m->used[s])
            s = w;
    }
    pg.m->used[s] = pg.clock;
    struct iovec to = {pg.m->data[s], PYPG_CHUNK}, from = {(void *)(uintptr_t)(c * PYPG_CHUNK), PYPG_CHUNK};
    int saved = errno;
    long r = peek_mem_fd1 ? peek_readv(&to, &from, 1) /* a fork shares the pages (peek.h) */
             : syscall(SYS_process_vm_readv, pg.pid, &to, 1L, &from, 1L, 0L);
    int err = errno;
    errno = saved;
    pg.calls++;
    if (r == (long)PYPG_CHUNK) {
        pg.m->tag[s] = c + 1;
        return pg.m->data[s];
    }
    pg.m->tag[s] = 0; /* a part may have been copied over the old chunk */
    if (r < 0 && (err == ENOSYS || err == EPERM))
        pg.plain = 1;
    return NULL;
}

int pyrd_pg_peek(void *dst, uintptr_t src, size_t n)
{
    if (!pg_mine || pg.plain || src + n < src || peek_safe(src, n))
        return peek(dst, src, n); /* peek_safe's: a load */
    for (unsigned k = 0; k < pg.nseg; k++)
        if (src >= pg.lo[k] && src + n <= pg.hi[k]) { /* the interpreter's image, any length */
            memcpy(dst, (const void *)src, n);
            pg.hits++;
            return 1;
        }
    if (n > PYPG_LONG)
        return peek(dst, src, n);
    char *d = dst;
    while (n) {
        uint64_t c = src / PYPG_CHUNK, at = src % PYPG_CHUNK;
        size_t k = PYPG_CHUNK - at < n ? PYPG_CHUNK - at : n;
        const char *p = pyrd_pg_chunk(c);
        if (!p)
            return pg.plain ? peek(d, src, n) : 0;
        memcpy(d, p + at, k);
        d += k, src += k, n -= k;
    }
    return 1;
}
