/*
 * state.c - the state file (hsnap_state.h): what the reports need, kept
 * where the kernel keeps it when the process is killed.
 *
 * A sparse file of at most HEAPSNAP_STATE MiB beside the output
 * (NAME.state), mapped MAP_SHARED in pieces as they are first used (the
 * header page, each chunk of cells, STATE_SEG segments of the rest).  No
 * descriptor is kept, and none is ever opened on the program's threads: a
 * hook maps a chunk of cells beside one already mapped; the helper opens
 * the file in a descriptor table of its own (helper_init).  peak_set_store's
 * per-thread live sums are allocated here (state_cells), so the hooks keep
 * them in the file at no cost of their own; the helper writes the
 * heartbeat, new traces' stacks (statestacks.c) and, spaced by its cost,
 * a document (snap_state_doc: a snapshot without BLOCKS); what it wrote
 * leaves the program's RSS at each beat's end (state_let_go).  Every range
 * is allocated before it is touched: a full disk never raises SIGBUS;
 * the file is never bigger than RLIMIT_FSIZE (state_fit_limit), so no
 * write into it raises SIGXFSZ.  Through the process's life (the last
 * part): a fork's child moves the pieces to a file of its own, exec takes
 * the name away, a clean end removes the file; here too, so that the
 * module state st has one owner.
 * Lock: none of its own.  Cells are handed out with an atomic counter;
 * the rest is the helper's; start-up and a fork's child are single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "base/fdhigh.h"
#include "base/sysmap.h"
#include "python.h"
#include "snapshot.h"
#include "statefile.h"

#define STATE_SEG (256u * 1024u)    /* the helper's regions are mapped in pieces of this */
#define STATE_SEGS 4096u            /* ... so they span 1 GiB at most */
#define STATE_BEAT_NS 250000000ull  /* the heartbeat, and the documents' spacing at most */
/* Address space held back under an RLIMIT_AS for the last document of an
 * exit that found no memory (state_unwritten): a short program's takes a
 * few hundred KiB (its live sums, sections, the copy's bounce). */
#define STATE_RESERVE (4u << 20)
/* New sites' stacks wait at most this long for a heartbeat (state_due,
 * state_stacks_owed): a process that ends past exit() (a Go program's
 * raw exit_group, a kill) leaves them in its state file, where a short
 * program's sites all went without a name between two beats. */
#define STATE_STACKS_NS 20000000ull
#define STATE_MIB (1024u * 1024u)
#define STATE_DOC_SPACING 100u      /* a document's CPU time, times this, till the next */
#define STATE_DOC_SHARE 50u         /* new code hastens them while they took under 1/this */
#define STATE_PUNCH (64u * 1024u)   /* a slot this big goes back once the other is published */
#define STATE_COPY (64u * 1024u)    /* state_publish's and state_move's bounce buffer */
#define STATE_MOVE_FEW 4u           /* chunks of cells state_move_all moves without it */
#define STATE_MAX_MIB 1024u         /* HEAPSNAP_STATE's bound (OPT_STATE) */
#define STATE_DOC_FLOOR (4u * STATE_MIB) /* a document slot's room at least, file allowing */

/* the helper's regions (all but the header and cells) of the largest file
 * HEAPSNAP_STATE allows lie within the STATE_SEGS pieces state_at maps */
_Static_assert((uint64_t)STATE_MAX_MIB * 1024 * 1024 <= (uint64_t)STATE_SEGS * STATE_SEG +
                                                         HSTATE_PAGE + HSTATE_DIR_MAX * HSTATE_CHUNK,
               "HEAPSNAP_STATE's bound fits the helper's pieces");

struct state_mod {
    const struct state_host *host; /* the root's (state_set_host) */
    struct hsnap_state_head *h;  /* the header page's mapping; NULL: no state file */
    size_t size;                 /* the file's bytes (the bound) */
    /* The scalars, before path and the arrays: in the page whose path a
     * fork's child writes (state_name), so that the ones it resets
     * (state_after_fork_child) cost it no page of their own. */
    dev_t dev;                   /* the file put at path */
    ino_t ino;
    _Atomic uint32_t ncells;     /* chunks handed out */
    uint32_t maxcells;
    uint32_t nseg;               /* seg[nseg..] never mapped: a fork's child reads no further */
    atomic_int stacks_woken;     /* the helper was woken for stacks owed since the last beat */
    int doc_owed;                /* the next beat makes a document, paid or not */
    void *reserve;               /* STATE_RESERVE bytes of PROT_NONE, or NULL */
    uint64_t doc_room[2];        /* bytes of each slot allocated so far */
    uint64_t due;                /* monotonic time of the next heartbeat */
    uint64_t doc_pcpu;           /* the process's CPU time at the last document */
    uint64_t used_max;           /* the most bytes of the file allocated at once */
    uint64_t last_allocs;        /* allocations at the last document */
    uint32_t last_traces;        /* traces at the last document */
    uint32_t doc_unfit;          /* traces of a document too big for its slot, or 0 */
    uint32_t last_codes;         /* Python code objects it named */
    uint32_t beat_traces;        /* traces at the last heartbeat */
    uint64_t beat_allocs;        /* allocations and frees at the last heartbeat */
    uint64_t beat_at, beat_prog; /* its time (monotonic), the program's CPU time then */
    uint64_t doc_at, doc_spent;  /* when it was made (monotonic), its CPU time */
    uint64_t doc_total;          /* every document's CPU time together (STATE_DOC_SHARE) */
    atomic_int warned_full;
    atomic_int done;             /* the file is gone (a clean end): nothing more */
    atomic_int beating;          /* the helper is inside state_beat */
    atomic_int takers;           /* hooks inside state_cells_take */
    atomic_int moving;           /* the helper moves the pieces: no chunk is taken */
    atomic_int unnamed;          /* state_exec took the name; an exec that failed gives it back */
    char path[NAME_MAX_PATH + 32];
    void *_Atomic cells[HSTATE_DIR_MAX]; /* chunk i's mapping */
    void *seg[STATE_SEGS];       /* the helper's regions, from traces_off, by STATE_SEG */
};
static struct state_mod st;
/* Apart from st so that st has no initialiser and stays in .bss: with one,
 * its pages were .data, read from the file and resident in every process. */
static int st_fd = -1;     /* the helper's, during a heartbeat only; else -1 */
static int st_doc_fd = -1; /* the document's memfd, while it is made; else -1 */

/* The process that owns the file (the host's own_process); none before
 * the root named its host. */
static inline int state_own(void)
{
    return st.host && st.host->own_process();
}

static void state_identity(void);       /* pid, ppid, start time, service into the header */
static void state_init_as(long mib);    /* state_init with a bound of mib MiB */
static void state_rename_back(void);    /* the helper, after a failed exec */

int state_on(void)
{
    return st.h != NULL;
}

const char *state_path(void)
{
    return st.h ? st.path : NULL;
}

/* The state file opened again, high (fdhigh.h); -1: path is no longer ours. */
static int state_open_as(int mode)
{
    struct stat sb;
    if (atomic_load(&st.done)) {
        errno = ENOENT;
        return -1;
    }
    int fd = fd_high(open(st.path, mode | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
    if (fd >= 0 && (fstat(fd, &sb) != 0 || sb.st_dev != st.dev || sb.st_ino != st.ino)) {
        close(fd);
        errno = ENOENT;
        fd = -1;
    }
    return fd;
}

/* [off, off + len) of fd backed by blocks: 0, or -1 (a full disk). */
static int state_reserve_fd(int fd, uint64_t off, uint64_t len)
{
    static const char zero[4096];
    if (fallocate(fd, 0, (off_t)off, (off_t)len) == 0)
        return 0;
    if (errno != EOPNOTSUPP)
        return -1;
    for (uint64_t at = off; at < off + len; at += sizeof zero)
        if (pwrite(fd, zero, sizeof zero, (off_t)at) != (ssize_t)sizeof zero)
            return -1;
    return 0;
}

/* The helper's descriptor for this heartbeat: 0, or -1. */
static int state_fd(void)
{
    if (st_fd < 0)
        st_fd = state_open_as(O_RDWR);
    return st_fd < 0 ? -1 : 0;
}

int state_write(uint64_t off, const void *p, size_t len)
{
    if (state_fd() != 0)
        return -1;
    for (size_t put = 0; put < len;) {
        ssize_t w = pwrite(st_fd, (const char *)p + put, len - put, (off_t)(off + put));
        if (w <= 0 && !(w < 0 && errno == EINTR))
            return -1;
        put += w > 0 ? (size_t)w : 0;
    }
    return 0;
}

int state_reserve(uint64_t off, uint64_t len)
{
    return state_fd() != 0 ? -1 : state_reserve_fd(st_fd, off, len);
}

/* A part of the file is full: one warning when a HEAPSNAP_STATE the user
 * set is reached (errno 0) or a piece cannot be mapped (the address space
 * is bounded).  The default bound reached is said only under
 * HEAPSNAP_VERBOSE: the user chose nothing to change, the state stays
 * right (documents count only the traces whose stacks fit) and `info` of
 * the state says it was full.  A full disk is the snapshot writer's to
 * report (its warning names the disk), and a file removed or out of reach
 * is the program's doing, so only HEAPSNAP_VERBOSE says those. */
void state_full(uint32_t flag, const char *what)
{
    int e = errno;
    uint32_t why = e == 0 ? 0 : e == ENOSPC || e == EDQUOT ? HSTATE_FULL_DISK : HSTATE_FULL_REACH;
    __atomic_fetch_or(&st.h->flags, flag | why, __ATOMIC_RELAXED);
    if (atomic_load(&st.done) || atomic_exchange(&st.warned_full, 1))
        return;
    if (e == 0 && opt_given(OPT_STATE))
        opt_warn("the state file is full (HEAPSNAP_STATE): ", what,
                 " are kept in memory only; the exit snapshot has them all");
    else if (e == 0)
        opt_debug("the state file is full (HEAPSNAP_STATE's default): ", what,
                  " are kept in memory only; the exit snapshot has them all");
    else if (e == ENOMEM || e == EAGAIN)
        opt_warn("the state file cannot be mapped (out of address space): ", what,
                 " are kept in memory only; the exit snapshot has them all");
    else if (e == ENOSPC || e == EDQUOT)
        opt_debug("the state file cannot grow (the disk is full): ", what,
                  " are kept in memory only");
    else /* ENOENT, EBADF: removed or replaced under it; EMFILE, EACCES ... */
        opt_debug("the state file is gone or out of reach: ", what, " are kept in memory only");
}

/* The segments state_at gave out since state_let_go: [lo, hi). */
static uint32_t state_touched_lo = STATE_SEGS, state_touched_hi;

/* The helper's bytes at [off, off + len) (inside one segment: records and
 * segments are aligned), mapped if need be; NULL with errno set. */
void *state_at(uint64_t off, uint64_t len)
{
    uint64_t rel = off - st.h->traces_off, j = rel / STATE_SEG;
    if (j >= STATE_SEGS || (rel + len - 1) / STATE_SEG != j) {
        errno = 0;
        return NULL;
    }
    if (!st.seg[j]) {
        if (state_fd() != 0)
            return NULL;
        uint64_t at = st.h->traces_off + j * STATE_SEG, n = st.size - at;
        void *m = sys_mmap(NULL, n < STATE_SEG ? n : STATE_SEG, PROT_READ | PROT_WRITE,
                           MAP_SHARED, st_fd, (off_t)at);
        if (m == MAP_FAILED)
            return NULL;
        madvise(m, n < STATE_SEG ? n : STATE_SEG, MADV_RANDOM); /* as state_map_chunk's */
        st.seg[j] = m;
        if (j >= st.nseg)
            st.nseg = (uint32_t)j + 1;
    }
    if (j < state_touched_lo)
        state_touched_lo = (uint32_t)j;
    if (j >= state_touched_hi)
        state_touched_hi = (uint32_t)j + 1;
    return (char *)st.seg[j] + rel % STATE_SEG;
}

/* The pages the helper wrote this beat leave the program's resident set
 * (MADV_DONTNEED on a shared file mapping: they stay in the page cache,
 * dirty, and in the file after a kill; a later write faults one back).
 * Written once and read by the reports alone, they were most of the
 * state file's share of the program's RSS: new stacks' nodes above all.
 * Called at each beat's end, and by state_stacks as it writes (a first
 * beat after a start-up writes MiBs of nodes). */
void state_let_go(void)
{
    for (uint32_t j = state_touched_lo; j < state_touched_hi; j++)
        if (st.seg[j]) {
            uint64_t n = st.size - st.h->traces_off - (uint64_t)j * STATE_SEG;
            madvise(st.seg[j], n < STATE_SEG ? n : STATE_SEG, MADV_DONTNEED);
        }
    state_touched_lo = STATE_SEGS;
    state_touched_hi = 0;
}

static void *state_cells_take(unsigned line, unsigned chunk);

/* A zeroed chunk of cells in the file for trace ids [chunk * HSTATE_IDS,
 * ...) of line `line`, or NULL (no state, full, or the pieces being moved:
 * the caller takes arena memory). */
void *state_cells(unsigned line, unsigned chunk)
{
    if (!st.h || line >= 0xffffu || chunk > 0xffffu)
        return NULL;
    int saved = errno; /* a hook's caller sees errno as the allocator left it */
    void *c = NULL;
    atomic_fetch_add(&st.takers, 1); /* state_yield sees it, or we see moving */
    if (!atomic_load(&st.moving))
        c = state_cells_take(line, chunk);
    atomic_fetch_sub(&st.takers, 1);
    errno = saved;
    return c;
}

/* [off, off + len) of the file mapped without a descriptor: the hooks run
 * on the program's threads, where a descriptor, even for an instant, could
 * take the number another thread's open() expects.  A second mapping of
 * the piece at `near` (file offset near_off <= off; mremap of old size 0
 * maps the same pages again) grown to reach off + len, its head unmapped;
 * its pages allocated by MADV_POPULATE_WRITE, so that a full disk is an
 * error here rather than a SIGBUS later.  MAP_FAILED, errno EINVAL where
 * the kernel has neither (before 5.14). */
static void *state_map_near(void *near, uint64_t near_off, uint64_t off, uint64_t len)
{
    uint64_t head = off - near_off;
    char *m = sys_mremap(near, 0, head + len, MREMAP_MAYMOVE, NULL);
    if (m == MAP_FAILED)
        return MAP_FAILED;
    if (head)
        sys_munmap(m, head);
    if (madvise(m + head, len, MADV_POPULATE_WRITE) != 0) {
        int e = errno;
        /* the pages it did allocate before the disk was full go back:
         * else a chunk that did not fit keeps the last of the disk */
        madvise(m + head, len, MADV_REMOVE);
        sys_munmap(m + head, len);
        errno = e == EFAULT ? ENOSPC : e; /* EFAULT: a SIGBUS it spared us */
        return MAP_FAILED;
    }
    /* Out of the resident set but the first page, the rest stays in the
     * file and the page cache: a cell's first touch is a load (peak_move),
     * a read fault, which maps the 64 KiB window of cached pages around it
     * (fault-around) unless that page is mapped already.  A program with
     * few sites then holds one page of a chunk, not its 16. */
    if (len > 4096)
        madvise(m + head + 4096, len - 4096, MADV_DONTNEED);
    return m + head;
}

/* Chunk i mapped: beside the nearest chunk below already mapped (or the
 * header page), else, on an older kernel, through a descriptor. */
static void *state_map_chunk(uint32_t i)
{
    uint64_t off = st.h->cells_off + (uint64_t)i * HSTATE_CHUNK;
    void *near = st.h, *m;
    uint64_t near_off = 0;
    for (uint32_t j = i; j-- > 0;)
        if ((m = atomic_load_explicit(&st.cells[j], memory_order_acquire))) {
            near = m;
            near_off = st.h->cells_off + (uint64_t)j * HSTATE_CHUNK;
            break;
        }
    m = state_map_near(near, near_off, off, HSTATE_CHUNK);
    if (m != MAP_FAILED || errno != EINVAL)
        return m;
    int fd = state_open_as(O_RDWR), e;
    if (fd < 0)
        return MAP_FAILED;
    m = state_reserve_fd(fd, off, HSTATE_CHUNK) == 0
            ? sys_mmap(NULL, HSTATE_CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off)
            : MAP_FAILED;
    e = errno;
    close(fd);
    if (m != MAP_FAILED) /* a first touch faults in no readahead window of the file */
        madvise(m, HSTATE_CHUNK, MADV_RANDOM);
    errno = e;
    return m;
}

static void *state_cells_take(unsigned line, unsigned chunk)
{
    uint32_t i = atomic_fetch_add(&st.ncells, 1);
    if (i >= st.maxcells) {
        atomic_store(&st.ncells, st.maxcells);
        errno = 0;
        state_full(HSTATE_FULL_CELLS, "new sites' live sums");
        return NULL;
    }
    void *m = state_map_chunk(i);
    if (m == MAP_FAILED) {
        state_full(HSTATE_FULL_CELLS, "new sites' live sums");
        return NULL;
    }
    atomic_store_explicit(&st.cells[i], m, memory_order_release);
    __atomic_store_n(&st.h->dir[i], (uint32_t)(line + 1) << 16 | chunk, __ATOMIC_RELEASE);
    uint32_t n = __atomic_load_n(&st.h->ndir, __ATOMIC_RELAXED);
    while (n < i + 1 && !__atomic_compare_exchange_n(&st.h->ndir, &n, i + 1, 1,
                                                     __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return m;
}

/* A chunk state_cells gave that its caller did not keep (it lost a race):
 * the directory forgets it (its mapping stays: a chunk is never reused). */
void state_cells_drop(const void *c)
{
    if (!st.h)
        return;
    for (uint32_t i = 0; i < st.maxcells; i++)
        if (atomic_load_explicit(&st.cells[i], memory_order_acquire) == c) {
            __atomic_store_n(&st.h->dir[i], 0, __ATOMIC_RELEASE);
            return;
        }
}

/* The name beside out: NAME.state, NAME.<pid>.state when the pattern has
 * no %p (processes that share the output must not share this). */
static void state_name(char *out)
{
    char name[NAME_MAX_PATH], num[24];
    name_choose(name, NULL, HSNAP_REASON_EXIT, 0);
    size_t len = strlen(name), k;
    if (len + 48 >= sizeof st.path)
        len = sizeof st.path - 48;
    memcpy(out, name, len);
    if (!name_has_pid()) {
        out[len++] = '.';
        k = opt_fmt_u64(num, (uint64_t)getpid());
        memcpy(out + len, num, k);
        len += k;
    }
    memcpy(out + len, ".state", 7);
}

/* The layout of a file of size bytes into the header: a quarter for the
 * cells (at most the directory's), then of the rest a tenth for the
 * traces' records, a tenth for each document slot but at least a quarter
 * up to STATE_DOC_FLOOR (a small file's first document must fit), and
 * the others for the frames' nodes (seven tenths of the default's).  A
 * trace takes 8 bytes of records and, on a Python program's stacks,
 * about 4.5 new nodes of 16 (its outer frames are shared); a document,
 * compressed, a few bytes a trace.  So `import numpy, pandas` (372,000
 * traces, 1.68M nodes) fits the default 64 MiB
 * (python_state_default_bound_fits_numpy_pandas). */
static void state_layout(struct hsnap_state_head *h, size_t size)
{
    uint64_t cells = (size / 4) / HSTATE_CHUNK;
    if (cells > HSTATE_DIR_MAX)
        cells = HSTATE_DIR_MAX;
    memcpy(h->magic, HSTATE_MAGIC, sizeof h->magic);
    h->version = HSTATE_VERSION;
    h->header_size = HSTATE_PAGE;
    h->file_size = size;
    h->cells_off = HSTATE_PAGE;
    h->cells_len = cells * HSTATE_CHUNK;
    uint64_t rest = size - HSTATE_PAGE - h->cells_len;
    h->traces_off = h->cells_off + h->cells_len;
    uint64_t doc = rest / 4 < STATE_DOC_FLOOR ? rest / 4 : STATE_DOC_FLOOR;
    if (doc < rest / 10)
        doc = rest / 10;
    h->traces_cap = (rest / 10) & ~(uint64_t)4095;
    h->doc_cap = doc & ~(uint64_t)4095;
    h->stacks_off = h->traces_off + h->traces_cap;
    h->stacks_cap = (rest - h->traces_cap - 2 * h->doc_cap) & ~(uint64_t)4095;
    h->doc_off[0] = h->stacks_off + h->stacks_cap;
    h->doc_off[1] = h->doc_off[0] + h->doc_cap;
    h->doc_slot = HSTATE_NO_DOC;
    h->state = HSTATE_RUNNING;
    st.maxcells = (uint32_t)cells;
}

/* A new state file of st.size bytes, its header page allocated, under a
 * temporary name in t (beside st.path): its descriptor (close-on-exec; the
 * caller closes it), or -1.  It takes st.path (state_name_file) only once
 * its header is whole: a kill before leaves no file a reader takes for a
 * state of zeros. */
static int state_create_file(char *t)
{
    const char *why = NULL;
    if (dest_kind(st.path, &why) != DEST_RENAME)
        return -1;
    int wfd = name_open_tmp(t, st.path), fd = -1;
    struct stat sb, wsb;
    if (wfd >= 0) { /* the same inode again, for reading too (the mapping) */
        fd = open(t, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd >= 0 && (fstat(fd, &sb) != 0 || fstat(wfd, &wsb) != 0 ||
                        sb.st_dev != wsb.st_dev || sb.st_ino != wsb.st_ino)) {
            close(fd); /* replaced under us: not ours */
            fd = -1;
        }
        close(wfd);
        if (fd < 0)
            unlink(t);
    }
    if (fd < 0)
        return -1;
    struct sighold fsz; /* a file size limit lowered since state_init: EFBIG, not the host's end */
    sighold_take(&fsz, SIGXFSZ);
    int bad = ftruncate(fd, (off_t)st.size) != 0 || posix_fallocate(fd, 0, HSTATE_PAGE) != 0 ||
              fstat(fd, &sb) != 0;
    sighold_drop(&fsz);
    if (bad) {
        unlink(t);
        close(fd);
        return -1;
    }
    st.dev = sb.st_dev;
    st.ino = sb.st_ino;
    return fd;
}

/* The file state_create_file made at t given st.path: 0, or -1 (t gone).
 * Not libc's rename (sys_rename): its window of text would stay resident. */
static int state_name_file(const char *t)
{
    if (sys_rename(t, st.path, 0) == 0)
        return 0;
    int e = errno;
    unlink(t);
    errno = e;
    return -1;
}

static void state_layout(struct hsnap_state_head *h, size_t size);

/* The state file made, its header page mapped and written, then named:
 * 0, or -1 (errno). */
static int state_create(void)
{
    char t[NAME_MAX_PATH + 64];
    int fd = state_create_file(t);
    if (fd < 0)
        return -1;
    void *m = sys_mmap(NULL, HSTATE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (m != MAP_FAILED) {
        /* the header's page alone: a fault's read-around would fill the
         * page cache with the file's zeros past it (read_ahead_kb's worth) */
        madvise(m, HSTATE_PAGE, MADV_RANDOM);
        st.h = m;
        state_layout(st.h, st.size);
        state_identity();
        if (state_name_file(t) == 0)
            return 0;
        e = errno;
        sys_munmap(m, HSTATE_PAGE);
        st.h = NULL;
    } else {
        unlink(t);
    }
    errno = e;
    return -1;
}

static void state_identity(void)
{
    st.h->pid = (uint32_t)getpid();
    st.h->ppid = (uint32_t)getppid();
    st.h->start_ns = clock_start_ns();
    st.h->beat_ns = clock_now_ns();
    /* the service's name, cut to its field (the reader checks what it holds) */
    const char *svc = opt_str(OPT_SERVICE);
    size_t i = 0;
    for (; svc[i] && i + 1 < HSTATE_SERVICE; i++)
        st.h->service[i] = svc[i];
    for (; i < HSTATE_SERVICE; i++)
        st.h->service[i] = 0;
}

/* st.size within RLIMIT_FSIZE, in whole MiB, or 0: the file is sized
 * with ftruncate up front, and a size past the limit would fail (the
 * write of the last snapshot, no bigger, may still fit).  A smaller
 * bound, or no file, said once: as a warning when HEAPSNAP_STATE was
 * set, else under HEAPSNAP_VERBOSE. */
static void state_fit_limit(void)
{
    struct rlimit rl;
    char num[24];
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= st.size)
        return;
    void (*say)(const char *, const char *, const char *) = opt_given(OPT_STATE) ? opt_warn
                                                                                 : opt_debug;
    st.size = (size_t)(rl.rlim_cur / STATE_MIB) * STATE_MIB;
    if (!st.size) {
        say("no state file: the file size limit (RLIMIT_FSIZE, ulimit -f) is under 1 MiB; "
            "a SIGKILL will leave nothing of ", st.path, "");
        return;
    }
    num[opt_fmt_u64(num, st.size / STATE_MIB)] = 0;
    say("the state file's bound is cut to the file size limit (RLIMIT_FSIZE, ulimit -f): ", num,
        " MiB");
}

/* Start-up (before recording): the file, unless HEAPSNAP_STATE=0, the
 * peak's sums are off, the output is not a file's name, or the file size
 * limit leaves no MiB for it (state_fit_limit). */
void state_set_host(const struct state_host *host)
{
    st.host = host;
}

/* Under a finite RLIMIT_AS, address space for the last document of an
 * exit that finds none left (state_unwritten gives it back first): a
 * program that grows to its limit and catches the failure (a Python
 * MemoryError) would else leave sums whose new lines no document names.
 * PROT_NONE and no swap reserved: it holds no memory, only room; with no
 * limit there is none to run out of, and nothing is mapped. */
static void state_reserve_room(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    void *m = sys_mmap(NULL, STATE_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
    st.reserve = m == MAP_FAILED ? NULL : m;
}

void state_init(void)
{
    state_init_as(opt_int(OPT_STATE) ? opt_int(OPT_STATE) : opt_int(OPT_LIVE) ? 64 : 0);
}

/* state_init with a bound of mib MiB (state_late: the hooks may record
 * already, the helper is paused). */
static void state_init_as(long mib)
{
    if (!mib || opt_int(OPT_PEAK) == OPT_PEAK_OFF || cred_secure())
        return;
    st.size = (size_t)mib * STATE_MIB;
    state_name(st.path);
    state_fit_limit();
    if (!st.size)
        return;
    if (state_create() != 0) {
        if (errno == ENOMEM || errno == EAGAIN)
            opt_warn("no state file (out of address space): a SIGKILL will leave nothing of ",
                     st.path, "");
        else
            opt_debug("no state file: cannot create ", st.path, "");
        st.h = NULL;
        return;
    }
    static const struct peak_store store = {state_cells, state_cells_drop};
    peak_set_store(&store);
    rchan_tell_state(st.path);
    state_reserve_room();
}

/* Whether traces were made that have no stack in the file, and the file
 * still takes stacks. */
static int state_stacks_behind(void)
{
    return !(__atomic_load_n(&st.h->flags, __ATOMIC_RELAXED) & HSTATE_FULL_DOC) &&
           __atomic_load_n(&st.h->stacks_n, __ATOMIC_RELAXED) < trace_count();
}

/* The helper's next heartbeat (monotonic), 0 without a state file; now
 * when an exec failed and the file waits for its name (state_exec_failed);
 * STATE_STACKS_NS after the last one when new sites' stacks are owed. */
uint64_t state_due(void)
{
    if (!st.h)
        return 0;
    if (!st.due || atomic_load(&st.unnamed) == 2)
        return 1;
    uint64_t soon = st.beat_at + STATE_STACKS_NS;
    return soon < st.due && state_stacks_behind() ? soon : st.due;
}

/* From the allocations' tick (helper_tick): 1, once a beat, when new
 * sites' stacks are owed, for the helper to be woken: it slept till its
 * next beat, and now sleeps till STATE_STACKS_NS past its last one
 * (state_due), which a program that then idles before a raw exit gets
 * too.  A few loads. */
int state_stacks_owed(void)
{
    if (!st.h || atomic_load_explicit(&st.stacks_woken, memory_order_relaxed) ||
        atomic_load_explicit(&st.done, memory_order_relaxed) ||
        !__atomic_load_n(&st.beat_at, __ATOMIC_RELAXED))
        return 0;
    return state_stacks_behind() && atomic_exchange(&st.stacks_woken, 1) == 0;
}

/* The document made in the memfd (len bytes) into the slot not in use,
 * then published; the slot before goes back to a hole.  1 when it is too
 * big for a slot (a bigger one is not tried again), else 0. */
static int state_publish(uint64_t len)
{
    uint32_t cur = __atomic_load_n(&st.h->doc_slot, __ATOMIC_RELAXED);
    uint32_t k = cur == 0 ? 1 : 0;
    uint64_t base = st.h->doc_off[k];
    if (len > st.h->doc_cap) {
        errno = 0;
        state_full(HSTATE_FULL_DOC, "new sites' stacks");
        return 1;
    }
    if (len > st.doc_room[k]) {
        uint64_t want = (len + STATE_STEP - 1) & ~(uint64_t)(STATE_STEP - 1);
        if (want > st.h->doc_cap)
            want = st.h->doc_cap;
        if (state_reserve(base + st.doc_room[k], want - st.doc_room[k]) != 0) {
            state_full(HSTATE_FULL_DOC, "new sites' stacks");
            return 0;
        }
        st.doc_room[k] = want;
    }
    /* Copied through a bounce buffer with pwrite, not into the mapping:
     * a document's pages written through the mapping stay resident in the
     * program (its RSS) until the slot's hole is punched, and a document
     * is most of the file's pages. */
    if (state_fd() != 0) {
        state_full(HSTATE_FULL_DOC, "new sites' stacks");
        return 0;
    }
    char *buf = arena_map(STATE_COPY);
    if (!buf) {
        state_full(HSTATE_FULL_DOC, "new sites' stacks");
        return 0;
    }
    uint32_t crc = (uint32_t)crc32_z(0, Z_NULL, 0);
    int ok = 1; /* -1: the memfd's read failed (no warning: nothing is full) */
    for (uint64_t at = 0; ok == 1 && at < len;) {
        uint64_t n = len - at < STATE_COPY ? len - at : STATE_COPY;
        ssize_t r = pread(st_doc_fd, buf, n, (off_t)at);
        if (r <= 0) {
            ok = -1;
            break;
        }
        crc = (uint32_t)crc32_z(crc, (const Bytef *)buf, (size_t)r);
        for (ssize_t put = 0; put < r;) {
            ssize_t w = pwrite(st_fd, buf + put, (size_t)(r - put), (off_t)(base + at + (uint64_t)put));
            if (w <= 0) {
                ok = 0;
                break;
            }
            put += w;
        }
        at += (uint64_t)r;
    }
    arena_unmap(buf, STATE_COPY);
    if (ok < 0)
        return 0;
    if (!ok) {
        state_full(HSTATE_FULL_DOC, "new sites' stacks");
        return 0;
    }
    st.h->doc[k].len = len;
    st.h->doc[k].t_ns = clock_now_ns();
    st.h->doc[k].crc32 = crc;
    __atomic_store_n(&st.h->doc_slot, k, __ATOMIC_RELEASE);
    st.h->docs++;
    /* the slot before holds nothing a reader takes now: its pages go back
     * when they are many (allocated again before the next is copied in) */
    if (st.doc_room[1 - k] >= STATE_PUNCH && state_fd() == 0 &&
        fallocate(st_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)st.h->doc_off[1 - k], (off_t)st.doc_room[1 - k]) == 0) {
        st.h->doc[1 - k].len = 0;
        st.doc_room[1 - k] = 0;
    }
    return 0;
}

static uint64_t state_cpu_ns(clockid_t id)
{
    return clock_cpu_ns(id);
}

/* The helper's heartbeat: the time, new traces' stacks, and, when traces or allocations
 * moved, a document paid for as the site line's points are: the process used 100 times the
 * last one's CPU time since, or 10 times that passed (cells and stacks are always current).
 * A program idle through a whole beat (no allocation, free or trace, and under a tenth of a
 * core of CPU besides the helper's: waiting, hung, about to be killed) has its document
 * brought up to date sooner, once 10 times its CPU time passed: the totals a kill leaves
 * are then its last ones, not those of seconds before, and the document takes CPU time the
 * program leaves unused (one that computes without allocating is not idle: a training
 * step's arithmetic pays as before).  New Python code (code objects the last document did
 * not name) brings the next one 10 times sooner, so that a kill leaves its lines, while the
 * documents together took under 1/STATE_DOC_SHARE of the process's CPU time: an import of
 * sklearn or torch makes code throughout, and documents took 4-8% of its CPU (at most a
 * tenth).  doc_fresh tells a reader which it has. */
static void state_beat_now(void)
{
    if (atomic_load(&st.unnamed) == 2)
        state_rename_back();
    uint64_t allocs, frees, now = clock_mono_ns();
    st.due = now + STATE_BEAT_NS;
    trace_alloc_counts(&allocs, &frees);
    uint32_t n = trace_count(), seen = n;
    int stacks = st.h->flags & HSTATE_FULL_DOC ? -1 : state_stacks(st.h, n);
    uint32_t codes = pyfr_code_count();
    uint64_t pcpu = state_cpu_ns(CLOCK_PROCESS_CPUTIME_ID), cost = st.doc_spent * STATE_DOC_SPACING;
    /* new Python code: its lines sooner, while documents stay a small share */
    unsigned div = codes != st.last_codes && st.doc_total * STATE_DOC_SHARE < pcpu ? 10 : 1;
    uint64_t own = state_cpu_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t prog = pcpu > own ? pcpu - own : 0; /* the program's threads' (and ended ones') */
    int idle = allocs + frees == st.beat_allocs && seen == st.beat_traces &&
               prog >= st.beat_prog && (prog - st.beat_prog) * 10 < now - st.beat_at;
    int paid = st.doc_owed ||
               (now >= st.doc_at + STATE_BEAT_NS / 2 &&
                (pcpu >= st.doc_pcpu + cost / div || now >= st.doc_at + 10 * cost / div ||
                 (idle && now >= st.doc_at + cost / 10)));
    st.beat_allocs = allocs + frees;
    st.beat_traces = seen;
    __atomic_store_n(&st.beat_at, now, __ATOMIC_RELAXED);
    atomic_store_explicit(&st.stacks_woken, 0, memory_order_relaxed);
    st.beat_prog = prog;
    /* Stacks that no longer fit leave the documents to the traces that
     * have theirs (none counts a trace without its stack): a bound reached
     * before the first document still leaves one that reads after a kill
     * (state_bound_1_mib_works, under load). */
    if (stacks != 0)
        n = __atomic_load_n(&st.h->stacks_n, __ATOMIC_RELAXED);
    if ((stacks == 0 || n) && (!st.doc_unfit || n < st.doc_unfit) &&
        (st.h->doc_slot == HSTATE_NO_DOC || paid) &&
        (st.h->doc_slot == HSTATE_NO_DOC || allocs + frees != st.last_allocs ||
         n != st.last_traces)) {
        uint64_t cpu = state_cpu_ns(CLOCK_THREAD_CPUTIME_ID);
        if (st_doc_fd < 0)
            st_doc_fd = fd_high(memfd_create("heapsnap-state", MFD_CLOEXEC));
        struct snap_live lv = {0};
        if (st_doc_fd >= 0 && snap_live_init(&lv, n) == 0) {
            arena_populate(lv.live, lv.len); /* peak_live writes it all */
            peak_live(lv.live, n);
            int r = snap_state_doc(st_doc_fd, &lv, st.h->doc_cap / 2);
            off_t len = r == 0 ? lseek(st_doc_fd, 0, SEEK_END) : -1;
            if (len > 0 && state_publish((uint64_t)len) == 1)
                st.doc_unfit = n;
            if (r == 0) {
                st.last_allocs = allocs + frees;
                st.last_traces = n;
                st.last_codes = codes;
            }
            snap_live_drop(&lv);
        }
        if (st_doc_fd >= 0) /* no descriptor stays open, and its pages go */
            close(st_doc_fd);
        st_doc_fd = -1;
        st.doc_spent = state_cpu_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
        st.doc_total += st.doc_spent;
        st.doc_at = now;
        st.doc_pcpu = pcpu + st.doc_spent;
    }
    state_used();
    state_let_go();
    if (st_fd >= 0 && close(st_fd) >= -1) /* no descriptor stays open */
        st_fd = -1;
    st.h->doc_fresh = st.h->doc_slot != HSTATE_NO_DOC && allocs + frees == st.last_allocs &&
                      n == st.last_traces;
    st.h->beat_ns = clock_now_ns();
    __atomic_store_n(&st.h->beats, st.h->beats + 1, __ATOMIC_RELEASE);
}

/* The heartbeat (state_beat_now), unless the file is done. */
void state_beat(void)
{
    if (!st.h || !state_own())
        return;
    atomic_store(&st.beating, 1); /* state_yield sees it, or we see done */
    if (!atomic_load(&st.done))
        state_beat_now();
    atomic_store(&st.beating, 0);
}

/* The bytes of the file allocated now (the most so far kept). */
uint64_t state_used(void)
{
    if (!st.h)
        return 0;
    uint32_t cells = atomic_load(&st.ncells);
    uint64_t u = HSTATE_PAGE + (uint64_t)(cells < st.maxcells ? cells : st.maxcells) * HSTATE_CHUNK +
                 state_stacks_room() + st.doc_room[0] + st.doc_room[1];
    if (u > st.used_max)
        st.used_max = u;
    return u;
}

/* A snapshot's STATE section: the bound and the most of it used. */
void state_put(struct sbuf *b)
{
    if (!st.h)
        return;
    state_used();
    sbuf_u64(b, st.size);
    sbuf_u64(b, st.used_max);
    sbuf_u32(b, __atomic_load_n(&st.h->flags, __ATOMIC_RELAXED));
    sbuf_u32(b, 0);
}

/* ---------------- the file across the process's life ---------------- */

/* Whether path is still the file this process put there. */
static int state_ours(void)
{
    struct stat sb;
    return stat(st.path, &sb) == 0 && sb.st_dev == st.dev && sb.st_ino == st.ino;
}

/* The exit snapshot could not be written (err: for want of memory, or of
 * the right to write its directory, life_atexit): the file stays, said to
 * be that end's record (HSTATE_UNWRITTEN, with err), its cells kept
 * by the hooks to the end, with a last heartbeat: the stacks of sites
 * made since the helper's last one (a short program's are all of them;
 * they take no memory but the file's) and a document where memory allows.
 * The caller holds the helper off (helper_pause). */
void state_unwritten(int err)
{
    if (!st.h || !state_own())
        return;
    uint32_t e = err == ENOMEM ? 0 : (uint32_t)err & 0xffffu;
    __atomic_fetch_or(&st.h->flags, HSTATE_UNWRITTEN | e << HSTATE_ERR_SHIFT, __ATOMIC_RELAXED);
    if (st.reserve) { /* the room held back for this document (state_reserve_room) */
        sys_munmap(st.reserve, STATE_RESERVE);
        st.reserve = NULL;
    }
    st.doc_owed = 1; /* the sites made since the last names theirs */
    state_beat();
}

/* A clean end (exit, written or not: the process was not killed), or a
 * fatal signal's snapshot written: the state goes, its mapping stays (the
 * hooks may still write to it) until the process ends. */
void state_done(void)
{
    if (!st.h || !state_own())
        return;
    st.h->state = HSTATE_EXITED;
    atomic_store(&st.done, 1);
    if (state_ours())
        unlink(st.path);
}

/* The file given to uid, if it is still the one this process put at its
 * name (by its name: no descriptor on the caller's thread), unless done.
 * Its group stays (the mode is the owner's).  0, or -1 (not permitted:
 * the caller has no CAP_CHOWN; no file). */
int state_owner(uid_t uid)
{
    struct stat sb;
    if (!st.h || atomic_load(&st.done) || !state_own() ||
        lstat(st.path, &sb) != 0 || sb.st_dev != st.dev || sb.st_ino != st.ino)
        return -1;
    if (sb.st_uid == uid)
        return 0;
    return fchownat(AT_FDCWD, st.path, uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW);
}

/* Piece [at, at + len) of the mapping replaced, at the same address, by
 * a copy of what the file before holds there, read with pread from pfd (a
 * fork's child has none of its parent's pages mapped: reading them
 * through the mapping would fault each in), or through the mapping (pfd
 * -1: a file removed): into fd at off (a file of the process's own), or,
 * fd -1, into private memory, only the pages that are not zero.  The
 * piece bounces through buf, cap bytes (whole pages) at a time: one pread
 * a bounce and one pwrite a run of pages that are not zero, where a page
 * each took two system calls (a fork's child paid them for every chunk
 * of cells its parent had).  0 or -1. */
static int state_move(void *at, uint64_t len, int pfd, int fd, uint64_t off, uint64_t *buf,
                      uint64_t cap)
{
    enum { W = HSTATE_PAGE / 8 }; /* words a page */
    if (fd >= 0 && state_reserve_fd(fd, off, len) != 0)
        return -1;
    void *m = fd >= 0 ? sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off)
                      : sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    for (uint64_t b = 0; b < len; b += cap) {
        uint64_t n = len - b < cap ? len - b : cap;
        ssize_t got = pfd >= 0 ? pread(pfd, buf, n, (off_t)(off + b)) : -1;
        uint64_t have = got > 0 ? (uint64_t)got / HSTATE_PAGE * HSTATE_PAGE : 0;
        if (have < n) /* past the file's end, or no file: faults it in, still right */
            memcpy((char *)buf + have, (const char *)at + b + have, n - have);
        for (uint64_t p = 0; p < n;) {
            uint64_t q = p;
            for (int zero = 1; q < n; q += HSTATE_PAGE, zero = 1) { /* the run of pages not zero */
                const uint64_t *w = buf + q / 8;
                for (unsigned k = 0; k < W && zero; k++)
                    zero = !w[k];
                if (zero)
                    break;
            }
            if (q > p && (fd < 0 || pwrite(fd, (char *)buf + p, q - p, (off_t)(off + b + p)) !=
                                        (ssize_t)(q - p)))
                memcpy((char *)m + b + p, (char *)buf + p, q - p);
            p = q + HSTATE_PAGE; /* a hole, or zeros: both files read as zero there */
        }
    }
    if (sys_mremap(m, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED) {
        sys_munmap(m, len);
        return -1;
    }
    return 0;
}

/* Every piece moved (state_move) from pfd to fd (or private memory); the
 * helper's segments dropped.  0 or -1. */
static int state_move_all(int pfd, int fd)
{
    _Static_assert(STATE_COPY % HSTATE_PAGE == 0, "the bounce holds whole pages");
    /* A few chunks (a small program's fork) go a page at a time through
     * the stack: the bounce's own pages would be most of its child's
     * faults (test_footprint's fork_page_faults_small); no memory for the
     * bounce, the same. */
    uint64_t page[HSTATE_PAGE / 8];
    uint32_t nc = atomic_load(&st.ncells);
    uint64_t *buf = nc > STATE_MOVE_FEW ? arena_map(STATE_COPY) : NULL, cap = STATE_COPY;
    if (!buf)
        buf = page, cap = HSTATE_PAGE;
    int r = state_move(st.h, HSTATE_PAGE, pfd, fd, 0, buf, cap);
    /* only the directory's and the segments' entries ever set are read: in a
     * fork's child each page of them read is a fault */
    for (uint32_t i = 0; i < nc && i < st.maxcells && r == 0; i++) {
        void *c = atomic_load(&st.cells[i]);
        if (c)
            r = state_move(c, HSTATE_CHUNK, pfd, fd, st.h->cells_off + (uint64_t)i * HSTATE_CHUNK, buf,
                           cap);
    }
    if (buf != page)
        arena_unmap(buf, STATE_COPY);
    for (uint32_t j = 0; j < st.nseg; j++)
        if (st.seg[j]) {
            uint64_t n = st.size - st.h->traces_off - (uint64_t)j * STATE_SEG;
            sys_munmap(st.seg[j], n < STATE_SEG ? n : STATE_SEG);
            st.seg[j] = NULL;
        }
    st.nseg = 0;
    return r;
}

#define STATE_YIELD_WAIT_NS 1000000000ull /* a heartbeat or a hook is waited for this long */

/* Until the count *n is 0, or STATE_YIELD_WAIT_NS: 0, or -1 (it is not:
 * on a fatal signal, the thread in there may be the one that faulted). */
static int state_wait_zero(atomic_int *n)
{
    uint64_t until = clock_mono_ns() + STATE_YIELD_WAIT_NS;
    while (atomic_load(n))
        if (clock_mono_ns() >= until)
            return -1;
        else
            lock_yield();
    return 0;
}

/* The last snapshot found the disk full: the file is done (as at a clean
 * end, state_done, which follows) and gives all its blocks back.  Once a
 * heartbeat in progress is over (none starts again), every piece moves to
 * private memory at the same address (the hooks of other threads still
 * write their cells: a page of the file punched under them would be
 * allocated again on a full disk, a SIGBUS), then the whole file is
 * punched.  When the hooks cannot be held off, only the helper's regions
 * are.  0 when blocks were given back, -1 (nothing changed but done). */
int state_yield(void)
{
    if (!st.h || atomic_load(&st.done) || !state_own())
        return -1;
    int fd = state_open_as(O_RDWR), r = -1;
    atomic_store(&st.done, 1); /* state_beat sees it, or we see beating */
    if (fd < 0 || state_wait_zero(&st.beating) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uint64_t from = st.h->traces_off, size = st.size;
    atomic_store(&st.moving, 1); /* state_cells sees it, or we see takers */
    if (state_wait_zero(&st.takers) == 0 && state_move_all(fd, -1) == 0)
        from = 0;
    else
        opt_debug("the state file's cells keep their blocks: ", "they could not be moved", "");
    atomic_store(&st.moving, 0);
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from,
                  (off_t)(size - from)) == 0)
        r = 0;
    close(fd);
    return r;
}

/* The pieces are a new file's now (state_move_all): the helper's regions
 * start empty there, and the stacks and a document are written again
 * from the next beat. */
static void state_restart(void)
{
    struct hsnap_state_head *h = st.h;
    h->doc_slot = HSTATE_NO_DOC;
    h->doc[0].len = h->doc[1].len = 0;
    h->stacks_n = 0;
    h->stacks_len = 0;
    h->flags &= ~HSTATE_FULL_DOC;
    st.doc_room[0] = st.doc_room[1] = 0;
    state_stacks_restart();
    st.last_traces = 0;
    st.beat_allocs = UINT64_MAX; /* no beat yet: not idle */
    h->doc_fresh = 0;
    st.due = st.doc_at = st.doc_pcpu = st.doc_total = 0;
}

/* The helper, after an exec failed (state_exec_failed): the file made
 * again at its name, every piece moved to it, read through the mappings
 * of the old one (removed, still mapped).  No chunk of cells is taken
 * meanwhile; a hook of another thread that moves a live sum while its
 * page is copied may see that move lost (the exit snapshot's sums come
 * from the table, whole). */
static void state_rename_back(void)
{
    atomic_store(&st.moving, 1);
    for (unsigned spins = 0; atomic_load(&st.takers); spins++)
        lock_wait(NULL, spins + 65);
    char t[NAME_MAX_PATH + 64];
    int fd = state_create_file(t), moved = fd >= 0 && state_move_all(-1, fd) == 0;
    if (moved)
        state_restart();
    if (moved && state_name_file(t) == 0) {
        atomic_store(&st.unnamed, 0);
    } else { /* the pieces stay mapped and up to date, with no name */
        if (fd >= 0 && !moved)
            unlink(t);
        atomic_store(&st.unnamed, 1);
        opt_debug("after a failed exec, the state file cannot be made again: ", st.path, "");
    }
    if (fd >= 0)
        close(fd);
    atomic_store(&st.moving, 0);
}

/* A fork's child: the pieces are the parent's file.  They move, at the
 * same addresses, to a file of the child's own (named from its own output
 * name) or, when children write nothing or that fails, to private memory;
 * only the pages resident are copied (a fork costs no fault for the rest). */
void state_after_fork_child(void)
{
    if (!st.h)
        return;
    if (st_doc_fd >= 0)
        close(st_doc_fd);
    st_doc_fd = st_fd = -1;
    st.doc_room[0] = st.doc_room[1] = 0;
    atomic_store(&st.takers, 0); /* the parent's threads are not here */
    atomic_store(&st.unnamed, 0);
    int pfd = state_open_as(O_RDWR); /* the parent's file (-1: the mapping is read instead) */
    if (opt_int(OPT_CHILDREN) != OPT_CHILDREN_NONE) {
        char parent[sizeof st.path];
        memcpy(parent, st.path, sizeof parent);
        state_name(st.path);
        char t[NAME_MAX_PATH + 64];
        int fd = strcmp(parent, st.path) ? state_create_file(t) : -1;
        if (fd >= 0 && state_move_all(pfd, fd) == 0) {
            close(fd);
            if (pfd >= 0)
                close(pfd);
            state_restart(); /* its own stacks and documents, from the next beat */
            state_identity();
            if (state_name_file(t) == 0) /* named once its header is the child's */
                rchan_tell_state(st.path);
            else
                st.h = NULL; /* the pieces stay mapped, in a file with no name */
            return;
        }
        if (fd >= 0) {
            unlink(t);
            close(fd);
        }
    }
    /* no file: private memory at the same addresses, the sums kept */
    state_move_all(pfd, -1);
    if (pfd >= 0)
        close(pfd);
    st.h = NULL; /* nothing more is written: the hooks' cells stay valid */
}

/* exec replaces the image: the program it becomes (the shim again, or
 * not) owns the pid's name from now on, so the file goes first (else, if
 * that program does not keep one of the same name, it would stay as if
 * this one had been killed).  Not a vfork child's: the file is its
 * parent's.  path (NULL: unknown, as for a search of PATH): an exec that
 * cannot start it (no such file, not executable) fails without taking the
 * name away. */
void state_exec(const char *path)
{
    if (!st.h || atomic_load(&st.done) || !state_own() ||
        (path && faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0))
        return;
    if (state_ours() && unlink(st.path) == 0)
        atomic_store(&st.unnamed, 1);
}

/* The exec returned (it failed): the file is given its name back by the
 * helper (state_rename_back), which owns the pieces and opens no
 * descriptor in the program's table.  1 when the helper must be woken. */
int state_exec_failed(void)
{
    int one = 1;
    return st.h && state_own() && atomic_compare_exchange_strong(&st.unnamed, &one, 2);
}

/* The file made again under the session's name after state_done took it
 * away, every piece moved to it at the same addresses (the hooks' cells
 * stay valid), its stacks and documents from the next beat. */
static void state_again(void)
{
    state_name(st.path);
    char t[NAME_MAX_PATH + 64];
    int fd = state_create_file(t);
    if (fd < 0 || state_move_all(-1, fd) != 0) {
        if (fd >= 0) {
            unlink(t);
            close(fd);
        }
        opt_debug("a new session has no state file: cannot make ", st.path, "");
        return;
    }
    close(fd);
    state_restart();
    state_identity();
    st.h->state = HSTATE_RUNNING;
    if (state_name_file(t) != 0) { /* the pieces stay mapped, with no name */
        atomic_store(&st.unnamed, 1);
        opt_debug("a new session's state file cannot be named ", st.path, "");
    }
    atomic_store(&st.warned_full, 0);
    atomic_store(&st.done, 0);
    rchan_tell_state(st.path);
}

/* heapsnap attach again after a detach (state_done took the file away):
 * state_again; or the file made for the first time, when the sessions
 * before had none (a plain attach keeps no state). */
void state_reattach(void)
{
    if (!st.h) {
        state_init();
        return;
    }
    if (!atomic_load(&st.done) || opt_int(OPT_STATE) == 0)
        return;
    state_again();
}

/* heapsnap live asks for the file in a session that keeps none (a plain
 * attach, HEAPSNAP_STATE=0): made now, while the hooks record, with the
 * helper paused (it beats on the header), as at start-up (64 MiB unless
 * HEAPSNAP_STATE says) or as state_again makes it; one taken away by
 * state_done only when again (an attach's session: in a preloaded
 * process the file goes at the end).  0 once there is a file, else -1
 * (the peak's sums off, secure execution, no room). */
int state_late(int again)
{
    if (st.h && !atomic_load(&st.done))
        return 0;
    if ((st.h && !again) || !state_own() || opt_int(OPT_PEAK) == OPT_PEAK_OFF ||
        cred_secure())
        return -1;
    int paused = st.host->helper_pause();
    if (!st.h)
        state_init_as(opt_int(OPT_STATE) ? opt_int(OPT_STATE) : 64);
    else
        state_again();
    if (paused)
        st.host->helper_resume();
    st.host->helper_wake();
    return st.h && !atomic_load(&st.done) ? 0 : -1;
}
