/*
 * pyread.c - many blocks of the process's own memory read at a snapshot
 * with few system calls, for the objects' passes (pytype.c, pygraph.c).
 * The blocks come in ascending address order; neighbours less than
 * PYRD_GAP apart, or in the page a range ends in, share one range (a
 * range's pages are pinned once), and a batch of ranges is copied into
 * one window by one process_vm_readv.  The copy, not a load, because the
 * other threads run while a snapshot is written: a block may be freed and
 * its arena unmapped under the walk, and the system call fails where a
 * load would fault (peek.h).  A read one iovec a block pinned a page for
 * each, the cost of the objects' passes; a range pins its pages once.
 *   A short read (a range crossing a gone mapping) leaves the blocks past
 * the fault to be read one by one; one that fails so is unreadable (the
 * callback gets NULL).  Where the system call is refused (a seccomp
 * filter), a plain copy, as peek does.  State is one struct, used under
 * the snapshot lock only, by one pass at a time.
 */
#include <errno.h>
#include <string.h>

#include "base.h"
#include "pyreads.h"
#include "peek.h"

/* A batch is a quarter of a MiB and 2,048 blocks: one system call reads
 * all its ranges or nearly, and what it touches (the window as filled, the
 * arrays) stays small, for it lands on a Python program's peak, its exit
 * snapshot; a MiB and 4,096 blocks saved few system calls. */
#define PYRD_WINDOW (1u << 18) /* bytes a batch of ranges is copied into */
#define PYRD_BLOCKS 2048u      /* blocks a batch */
#define PYRD_IOV 1024u         /* iovecs a system call (IOV_MAX) */
#define PYRD_LONG (1u << 18)   /* the longest block a batch takes */
#define PYRD_GAP 512u          /* bytes between two blocks one range reads too */
#define PYRD_PAGE 4096u        /* a block starting in the page a range ends in joins it */

/* The batch's arrays (108 KiB) live past the window in its mapping, not
 * in bss: the shim's fixed address space counts against RLIMIT_AS
 * (shim_fixed_address_space_under_8mib). */
struct pyrd_batch {
    uint64_t addr[PYRD_BLOCKS], aux[PYRD_BLOCKS];
    uint32_t len[PYRD_BLOCKS], tag[PYRD_BLOCKS], off[PYRD_BLOCKS]; /* off: in win */
    uint8_t ok[PYRD_BLOCKS];
    uint64_t rlo[PYRD_BLOCKS], rhi[PYRD_BLOCKS]; /* ranges: [lo, hi) at rwin in win */
    uint32_t rwin[PYRD_BLOCKS], rfirst[PYRD_BLOCKS + 1]; /* rfirst: its first block */
    const char *p[PYRD_BLOCKS]; /* each block's bytes as read, or NULL (pyrd_pre's) */
};
#define PYRD_MAP (PYRD_WINDOW + sizeof(struct pyrd_batch))

static struct {
    char *win;             /* the window; the batch follows it */
    struct pyrd_batch *b;
    pyrd_fn fn;
    pyrd_pre_fn pre;       /* the batch's blocks seen whole first (pyrd_pre), or NULL */
    void *arg;
    int plain;             /* the system call refused: plain copies */
    int held;              /* pyrd_hold: the window kept mapped past pyrd_end */
    long pid;              /* getpid() at pyrd_begin: a pass forks no thread of its own */
    unsigned n, nr;        /* blocks, ranges gathered */
    uint64_t used;         /* the window's bytes the ranges take */
    uint64_t calls;        /* system calls made (pyrd_calls) */
} rd;

int pyrd_begin(pyrd_fn fn, void *arg)
{
    char *w = rd.win;
    uint64_t calls = rd.calls;
    int plain = rd.plain, held = rd.held;
    memset(&rd, 0, sizeof rd);
    rd.calls = calls, rd.plain = plain, rd.held = held;
    /* resident at once: an interpreter's heap fills the window many
     * times over, and one call costs less than a fault a page */
    if (!w && !(w = arena_map_full(PYRD_MAP)))
        return -1;
    rd.win = w, rd.b = (struct pyrd_batch *)(w + PYRD_WINDOW), rd.fn = fn, rd.arg = arg;
    rd.pid = (long)getpid();
    return 0;
}

void pyrd_end(void)
{
    pyrd_flush();
    rd.fn = NULL;
    rd.pre = NULL;
    rd.pid = 0; /* the next pass reads it again (a fork may come between) */
    if (rd.held)
        return;
    if (rd.win)
        arena_unmap(rd.win, PYRD_MAP);
    rd.win = NULL, rd.b = NULL;
}

/* The passes of one snapshot (py_types_begin to py_types_end) share one
 * window: mapped afresh for each, its pages were faulted in again each
 * time, and the munmap was the passes' other kernel cost
 * (scripts/bench/exitcount.py --kernel).  The window is in use through
 * the graph's passes anyway, so holding it between them adds little to
 * the exit's peak (scripts/bench/rsspeak.sh). */
void pyrd_hold(int on)
{
    rd.held = on;
    if (!on && rd.win && !rd.fn) {
        arena_unmap(rd.win, PYRD_MAP);
        rd.win = NULL, rd.b = NULL;
    }
}

uint64_t pyrd_calls(void)
{
    return rd.calls;
}

/* n bytes at src into dst, by the system call (a frozen copy's safe
 * ranges by loads: peek_safe); the bytes read (a prefix: it stops at the
 * first fault). */
static uint64_t pyrd_copy(const struct iovec *to, const struct iovec *from, unsigned k)
{
    uint64_t got = 0;
    unsigned i = 0;
    for (; i < k && peek_safe((uintptr_t)from[i].iov_base, from[i].iov_len); i++) {
        memcpy(to[i].iov_base, from[i].iov_base, to[i].iov_len); /* a frozen copy's */
        got += to[i].iov_len;
    }
    if (i == k)
        return got;
    to += i, from += i, k -= i;
    if (!rd.plain) {
        int saved = errno;
        long r = peek_readv_as(rd.pid, to, from, k);
        int err = errno;
        errno = saved;
        rd.calls++;
        if (r >= 0)
            return got + (uint64_t)r;
        if (err != ENOSYS && err != EPERM)
            return got;
        rd.plain = 1;
    }
    for (i = 0; i < k; i++) {
        memcpy(to[i].iov_base, from[i].iov_base, to[i].iov_len);
        got += to[i].iov_len;
    }
    return got;
}

/* Ranges [r, r + k) read by one call: their blocks' ok set; the ranges
 * done (a short read stops at the range it ends in, whose blocks past
 * the fault are read one by one). */
static unsigned pyrd_ranges(unsigned r, unsigned k)
{
    struct iovec to[PYRD_IOV], from[PYRD_IOV];
    for (unsigned j = 0; j < k; j++) {
        to[j] = (struct iovec){rd.win + rd.b->rwin[r + j], rd.b->rhi[r + j] - rd.b->rlo[r + j]};
        from[j] = (struct iovec){(void *)rd.b->rlo[r + j], to[j].iov_len};
    }
    uint64_t got = pyrd_copy(to, from, k);
    unsigned j = 0;
    for (; j < k && got >= to[j].iov_len; got -= to[j].iov_len, j++)
        memset(rd.b->ok + rd.b->rfirst[r + j], 1, rd.b->rfirst[r + j + 1] - rd.b->rfirst[r + j]);
    if (j == k)
        return k;
    for (uint32_t b = rd.b->rfirst[r + j]; b < rd.b->rfirst[r + j + 1]; b++) { /* the short one */
        uint64_t end = rd.b->addr[b] + rd.b->len[b] - rd.b->rlo[r + j];
        rd.b->ok[b] = end <= got || peek(rd.win + rd.b->off[b], rd.b->addr[b], rd.b->len[b]);
    }
    return j + 1;
}

void pyrd_flush(void)
{
    if (!rd.n)
        return;
    rd.b->rfirst[rd.nr] = rd.n;
    memset(rd.b->ok, 0, rd.n);
    for (unsigned r = 0; r < rd.nr;)
        r += pyrd_ranges(r, rd.nr - r < PYRD_IOV ? rd.nr - r : PYRD_IOV);
    unsigned n = rd.n;
    rd.n = rd.nr = 0, rd.used = 0; /* the callback may add no more (one pass) */
    for (unsigned b = 0; b < n; b++)
        rd.b->p[b] = rd.b->ok[b] ? rd.win + rd.b->off[b] : NULL;
    if (rd.pre)
        rd.pre(rd.arg, n, rd.b->p, rd.b->len);
    for (unsigned b = 0; b < n; b++)
        rd.fn(rd.arg, rd.b->tag[b], rd.b->aux[b], rd.b->p[b], rd.b->addr[b], rd.b->len[b]);
}

void pyrd_pre(pyrd_pre_fn pre)
{
    rd.pre = pre;
}

/* pyrd_peek_many's reads, a system call for each PYRD_PEEK_IOV of those a
 * frozen copy cannot load (peek_safe; 9 KiB of stack, not pyrd_ranges'
 * 32: a program's thread may take a snapshot through the API): ok[j] says
 * which were read whole; the one a short read stopped at is left unread
 * and the call goes on after it. */
#define PYRD_PEEK_IOV 256u
void pyrd_peek_many(const uint64_t *addr, unsigned n, unsigned len, char *out, uint8_t *ok)
{
    struct iovec to[PYRD_PEEK_IOV], from[PYRD_PEEK_IOV];
    unsigned at[PYRD_PEEK_IOV];
    long pid = rd.pid ? rd.pid : (long)getpid(); /* outside a pass: asked */
    for (unsigned i = 0; i < n;) {
        unsigned k = 0;
        for (; i < n && k < PYRD_PEEK_IOV; i++) {
            ok[i] = 0;
            if (addr[i] + len < addr[i])
                continue;
            if (peek_safe(addr[i], len)) {
                memcpy(out + (size_t)i * len, (const void *)(uintptr_t)addr[i], len);
                ok[i] = 1;
                continue;
            }
            to[k] = (struct iovec){out + (size_t)i * len, len};
            from[k] = (struct iovec){(void *)(uintptr_t)addr[i], len};
            at[k++] = i;
        }
        for (unsigned j = 0; j < k;) {
            int saved = errno;
            long r = rd.plain ? -1 : peek_readv_as(pid, to + j, from + j, k - j);
            int err = errno;
            errno = saved;
            rd.calls += !rd.plain;
            if (r < 0 && (rd.plain || err == ENOSYS || err == EPERM)) {
                rd.plain = 1; /* refused: a peek's plain copy, one by one */
                for (; j < k; j++)
                    ok[at[j]] = (uint8_t)peek(to[j].iov_base, (uintptr_t)from[j].iov_base, len);
                break;
            }
            uint64_t got = r > 0 ? (uint64_t)r : 0;
            for (; j < k && got >= len; got -= len, j++)
                ok[at[j]] = 1;
            j++; /* the one it stopped at (a gone mapping): unread */
        }
    }
}

/* A block at addr joins the range ending at hi: within PYRD_GAP of it, or
 * in the page it ends in.  The system call pins each page of each range
 * it is given, and a page pinned twice (two ranges in it) costs more than
 * copying the rest of that page once (scripts/bench/exitcount.py --kernel). */
static int pyrd_near(uint64_t hi, uint64_t addr)
{
    return addr <= hi + PYRD_GAP || addr / PYRD_PAGE == (hi - 1) / PYRD_PAGE;
}

int pyrd_add(uint64_t addr, uint32_t len, uint32_t tag, uint64_t aux)
{
    if (!rd.fn || len > PYRD_LONG) /* not begun */
        return -1;
    if (rd.n == PYRD_BLOCKS)
        pyrd_flush();
    unsigned r = rd.nr;
    if (r && addr >= rd.b->rlo[r - 1] && pyrd_near(rd.b->rhi[r - 1], addr) &&
        rd.used + (addr + len > rd.b->rhi[r - 1] ? addr + len - rd.b->rhi[r - 1] : 0) <= PYRD_WINDOW) {
        if (addr + len > rd.b->rhi[r - 1]) {
            rd.used += addr + len - rd.b->rhi[r - 1];
            rd.b->rhi[r - 1] = addr + len;
        }
    } else {
        if (rd.used + len > PYRD_WINDOW)
            pyrd_flush();
        r = rd.nr++;
        rd.b->rlo[r] = addr, rd.b->rhi[r] = addr + len;
        rd.b->rwin[r] = (uint32_t)rd.used, rd.b->rfirst[r] = rd.n;
        rd.used += len;
        r++;
    }
    unsigned b = rd.n++;
    rd.b->addr[b] = addr, rd.b->len[b] = len, rd.b->tag[b] = tag, rd.b->aux[b] = aux;
    rd.b->off[b] = (uint32_t)(rd.b->rwin[r - 1] + (addr - rd.b->rlo[r - 1]));
    return 0;
}
