/*
 * state.c - the state file (hsnap_state.h): what the reports need, kept
 * where the kernel keeps it when the process is killed.
 *
 * A file-backed MAP_SHARED mapping of HEAPSNAP_STATE MiB beside the output
 * (NAME.state), sparse.  peak.c's per-thread live sums per trace are
 * allocated here (state_cells) instead of in the arena, so the hooks keep
 * them in the file at no cost of their own; the helper thread writes the
 * heartbeat and, when something changed, a document: a snapshot without
 * BLOCKS (snapshot.c's snap_state_doc) made in a memfd and copied into the
 * slot not in use, then published.  Every range is allocated (fallocate)
 * before it is first touched: a full disk never raises SIGBUS in the host.
 * A clean end (the exit or fatal snapshot written) removes the file; a
 * fork's child moves to a file of its own (or to private memory) at the
 * same address, so every pointer into the mapping stays valid.
 * Lock: none of its own.  Cells are handed out with an atomic counter;
 * the heartbeat and documents are the helper's (under the snapshot lock);
 * start-up and a fork's child are single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* rename only; no stdio streams */
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "base/sysmap.h"
#include "hsnap_state.h"
#include "snapshot.h"

#define STATE_BEAT_NS 250000000ull  /* the heartbeat, and the documents' spacing at most */
#define STATE_MIB (1024u * 1024u)
#define STATE_STEP (16u * 1024u)    /* nodes, traces and documents grow by this */
#define STATE_DOC_SPACING 100u      /* a document's CPU time, times this, till the next */

static struct {
    struct hsnap_state_head *h;  /* the mapping; NULL: no state file */
    size_t size;                 /* its bytes */
    int fd;                      /* the state file */
    int doc_fd;                  /* the documents' memfd, -1 until the first */
    char path[NAME_MAX_PATH + 32];
    dev_t dev;                   /* the file put at path */
    ino_t ino;
    _Atomic uint32_t ncells;     /* chunks handed out */
    uint32_t maxcells;
    uint64_t doc_room[2];        /* bytes of each slot allocated so far */
    uint64_t stacks_room;        /* ... of the nodes */
    uint64_t traces_room;        /* ... of the traces */
    uint64_t due;                /* monotonic time of the next heartbeat */
    uint64_t doc_next;           /* ... before which no document is made */
    uint64_t used_max;           /* the most bytes of the file allocated at once */
    uint64_t last_allocs;        /* allocations at the last document */
    uint32_t last_traces;        /* traces at the last document */
    atomic_int warned_full;
} st = {.fd = -1, .doc_fd = -1};

int state_on(void)
{
    return st.h != NULL;
}

const char *state_path(void)
{
    return st.h ? st.path : NULL;
}

/* [off, off + len) of the file backed by blocks: 0, or -1 (a full disk). */
static int state_reserve(uint64_t off, uint64_t len)
{
    static const char zero[4096];
    if (fallocate(st.fd, 0, (off_t)off, (off_t)len) == 0)
        return 0;
    if (errno != EOPNOTSUPP)
        return -1;
    for (uint64_t at = off; at < off + len; at += sizeof zero)
        if (pwrite(st.fd, zero, sizeof zero, (off_t)at) != (ssize_t)sizeof zero)
            return -1;
    return 0;
}

/* A part of the file is full: one warning when HEAPSNAP_STATE's bound is
 * reached; a full disk is the snapshot writer's to report (its warning
 * names the disk), so only HEAPSNAP_VERBOSE says it here. */
static void state_full(uint32_t flag, const char *what)
{
    __atomic_fetch_or(&st.h->flags, flag, __ATOMIC_RELAXED);
    if (atomic_exchange(&st.warned_full, 1))
        return;
    if (errno == ENOSPC || errno == EDQUOT)
        opt_debug("the state file cannot grow (the disk is full): ", what,
                  " are kept in memory only");
    else
        opt_warn("the state file is full (HEAPSNAP_STATE): ", what,
                 " are kept in memory only; the exit snapshot has them all");
}

static void *state_cells_take(unsigned line, unsigned chunk);

/* A zeroed chunk of cells in the file for trace ids [chunk * HSTATE_IDS,
 * ...) of line `line`, or NULL (no state, or full: the caller takes arena
 * memory). */
void *state_cells(unsigned line, unsigned chunk)
{
    if (!st.h || line >= 0xffffu || chunk > 0xffffu)
        return NULL;
    int saved = errno; /* a hook's caller sees errno as the allocator left it */
    void *c = state_cells_take(line, chunk);
    errno = saved;
    return c;
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
    uint64_t off = st.h->cells_off + (uint64_t)i * HSTATE_CHUNK;
    if (state_reserve(off, HSTATE_CHUNK) != 0) {
        state_full(HSTATE_FULL_CELLS, "new sites' live sums");
        return NULL;
    }
    __atomic_store_n(&st.h->dir[i], (uint32_t)(line + 1) << 16 | chunk, __ATOMIC_RELEASE);
    uint32_t n = __atomic_load_n(&st.h->ndir, __ATOMIC_RELAXED);
    while (n < i + 1 && !__atomic_compare_exchange_n(&st.h->ndir, &n, i + 1, 1,
                                                     __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
    return (char *)st.h + off;
}

/* A chunk state_cells gave that its caller did not keep (it lost a race):
 * the directory forgets it. */
void state_cells_drop(const void *c)
{
    uint64_t off = (uint64_t)((const char *)c - (const char *)st.h);
    if (st.h && off >= st.h->cells_off)
        __atomic_store_n(&st.h->dir[(off - st.h->cells_off) / HSTATE_CHUNK], 0, __ATOMIC_RELEASE);
}

/* fd moved to a high number (close-on-exec): the program's first
 * descriptors stay free, as without the shim.  The new fd, or fd. */
static int state_high_fd(int fd)
{
    struct rlimit rl;
    long at = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
                      rl.rlim_cur > 64 ? (long)rl.rlim_cur - 32 : 1000;
    int hi = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, at > 1000 ? 1000 : at);
    if (hi < 0)
        return fd;
    close(fd);
    return hi;
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

/* The layout of a file of size bytes into the header. */
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
    h->traces_cap = (rest / 16) & ~(uint64_t)4095;
    h->stacks_off = h->traces_off + h->traces_cap;
    h->stacks_cap = (rest * 7 / 16) & ~(uint64_t)4095;
    h->doc_cap = ((rest - h->traces_cap - h->stacks_cap) / 2) & ~(uint64_t)4095;
    h->doc_off[0] = h->stacks_off + h->stacks_cap;
    h->doc_off[1] = h->doc_off[0] + h->doc_cap;
    h->doc_slot = HSTATE_NO_DOC;
    h->state = HSTATE_RUNNING;
    st.maxcells = (uint32_t)cells;
}

/* A new state file at st.path, mapped at `at` (MAP_FIXED over the old
 * mapping) or anywhere (at NULL), its header page filled from `from` (may
 * be NULL).  The fd, or -1. */
static int state_create(void *at, const struct hsnap_state_head *from)
{
    char t[NAME_MAX_PATH + 64];
    const char *why = NULL;
    if (dest_kind(st.path, &why) != DEST_RENAME)
        return -1;
    int wfd = name_open_tmp(t, st.path), fd = -1;
    if (wfd >= 0) { /* the same inode again, for reading too (the mapping) */
        char self[48] = "/proc/self/fd/";
        self[14 + opt_fmt_u64(self + 14, (uint64_t)wfd)] = 0;
        fd = open(self, O_RDWR | O_CLOEXEC);
        close(wfd);
        if (fd < 0)
            unlink(t);
    }
    if (fd < 0)
        return -1;
    void *m = MAP_FAILED;
    if (ftruncate(fd, (off_t)st.size) == 0 && posix_fallocate(fd, 0, HSTATE_PAGE) == 0)
        m = sys_mmap(at, st.size, PROT_READ | PROT_WRITE, MAP_SHARED | (at ? MAP_FIXED : 0), fd, 0);
    struct stat sb;
    fd = state_high_fd(fd);
    if (m == MAP_FAILED || fstat(fd, &sb) != 0 || rename(t, st.path) != 0) {
        if (m != MAP_FAILED && !at)
            sys_munmap(m, st.size);
        unlink(t);
        close(fd);
        return -1;
    }
    if (from)
        memcpy(m, from, HSTATE_PAGE);
    st.h = m;
    st.dev = sb.st_dev;
    st.ino = sb.st_ino;
    return fd;
}

static void state_identity(void)
{
    st.h->pid = (uint32_t)getpid();
    st.h->ppid = (uint32_t)getppid();
    st.h->start_ns = life_start_ns();
    st.h->beat_ns = life_now_ns();
}

/* Start-up (before recording): the file, unless HEAPSNAP_STATE=0, the
 * peak's sums are off, or the output is not a file's name. */
void state_init(void)
{
    long mib = opt_int(OPT_STATE);
    if (!mib || opt_int(OPT_PEAK) == OPT_PEAK_OFF || cred_secure())
        return;
    st.size = (size_t)mib * STATE_MIB;
    state_name(st.path);
    int fd = state_create(NULL, NULL);
    if (fd < 0) {
        opt_debug("no state file: cannot create ", st.path, "");
        st.h = NULL;
        return;
    }
    st.fd = fd;
    state_layout(st.h, st.size);
    state_identity();
    static const struct peak_store store = {state_cells, state_cells_drop};
    peak_set_store(&store);
    rchan_tell_state(st.path);
}

/* The helper's next heartbeat (monotonic), 0 without a state file. */
uint64_t state_due(void)
{
    if (!st.h)
        return 0;
    return st.due ? st.due : 1;
}

/* The document made in the memfd (len bytes) into the slot not in use,
 * then published. */
static void state_publish(uint64_t len)
{
    uint32_t cur = __atomic_load_n(&st.h->doc_slot, __ATOMIC_RELAXED);
    uint32_t k = cur == 0 ? 1 : 0;
    char *dst = (char *)st.h + st.h->doc_off[k];
    if (len > st.h->doc_cap) {
        errno = 0;
        state_full(HSTATE_FULL_DOC, "new sites' stacks");
        return;
    }
    if (len > st.doc_room[k]) {
        uint64_t want = (len + STATE_STEP - 1) & ~(uint64_t)(STATE_STEP - 1);
        if (want > st.h->doc_cap)
            want = st.h->doc_cap;
        if (state_reserve(st.h->doc_off[k], want) != 0) {
            state_full(HSTATE_FULL_DOC, "new sites' stacks");
            return;
        }
        st.doc_room[k] = want;
    }
    for (uint64_t at = 0; at < len;) {
        ssize_t r = pread(st.doc_fd, dst + at, len - at, (off_t)at);
        if (r <= 0)
            return;
        at += (uint64_t)r;
    }
    st.h->doc[k].len = len;
    st.h->doc[k].t_ns = life_now_ns();
    st.h->doc[k].crc32 = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), (const Bytef *)dst, len);
    __atomic_store_n(&st.h->doc_slot, k, __ATOMIC_RELEASE);
    st.h->docs++;
    /* the slot before holds nothing a reader takes now: its pages go back
     * (allocated again before the next document is copied there) */
    if (st.doc_room[1 - k] &&
        fallocate(st.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)st.h->doc_off[1 - k], (off_t)st.doc_room[1 - k]) == 0) {
        st.h->doc[1 - k].len = 0;
        st.doc_room[1 - k] = 0;
    }
}

/* Room in [off, off + cap) up to end bytes, *room of them allocated
 * already (ahead in steps: on a tmpfs an allocated page is charged to the
 * process's cgroup).  0, or -1 (errno 0: the bound, not the disk). */
static int state_room(uint64_t off, uint64_t cap, uint64_t *room, uint64_t end)
{
    if (end <= *room)
        return 0;
    if (end > cap) {
        errno = 0;
        return -1;
    }
    uint64_t want = (end + STATE_STEP - 1) & ~(uint64_t)(STATE_STEP - 1);
    if (want > cap)
        want = cap;
    if (state_reserve(off + *room, want - *room) != 0)
        return -1;
    *room = want;
    return 0;
}

/* Trace id's nodes that are not in the file yet (written outermost first,
 * so a node written has its parents written), then its record.  0, or -1
 * (full). */
static int state_trace(uint32_t id)
{
    struct hsnap_state_head *h = st.h;
    struct hsnap_state_node *nodes = (struct hsnap_state_node *)((char *)h + h->stacks_off);
    uint32_t leaf, path[TRACE_DEPTH_MAX], x;
    unsigned flags, depth = trace_node(id, &leaf, &flags), k = 0;
    if (depth > TRACE_DEPTH_MAX)
        depth = TRACE_DEPTH_MAX;
    if (state_room(h->traces_off, h->traces_cap, &st.traces_room, ((uint64_t)id + 1) * 8) != 0 ||
        state_room(h->stacks_off, h->stacks_cap, &st.stacks_room, ((uint64_t)leaf + 1) * 16) != 0)
        return -1;
    for (x = leaf; k < depth && x && !nodes[x].set; k++) { /* a parent's id is below its child's */
        path[k] = x;
        (void)ftree_frame(x, &x);
    }
    while (k--) {
        uint32_t parent;
        uintptr_t ip = ftree_frame(path[k], &parent);
        nodes[path[k]] = (struct hsnap_state_node){ip, parent, 1};
    }
    struct hsnap_state_trace *t = (struct hsnap_state_trace *)((char *)h + h->traces_off);
    t[id] = (struct hsnap_state_trace){leaf, (uint16_t)depth, (uint16_t)flags};
    if (((uint64_t)leaf + 1) * 16 > h->stacks_len)
        h->stacks_len = ((uint64_t)leaf + 1) * 16;
    return 0;
}

/* The stacks of traces [stacks_n, n) written; 0, or -1 (full: the
 * documents stop, so that none counts a trace without its stack). */
static int state_stacks(uint32_t n)
{
    uint32_t id = st.h->stacks_n;
    while (id < n && state_trace(id) == 0)
        id++;
    __atomic_store_n(&st.h->stacks_n, id, __ATOMIC_RELEASE);
    if (id == n)
        return 0;
    state_full(HSTATE_FULL_DOC, "new sites' stacks");
    return -1;
}

static uint64_t state_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The helper's heartbeat: the time, new traces' stacks, and a document
 * when traces or allocations moved since the last - spaced by its cost:
 * the next waits a hundred times the CPU time this one took (the cells and
 * the stacks, which a reader adds to it, are current at every beat). */
void state_beat(void)
{
    if (!st.h || !life_own_process())
        return;
    uint64_t allocs, frees, now = life_mono_ns();
    st.due = now + STATE_BEAT_NS;
    trace_alloc_counts(&allocs, &frees);
    uint32_t n = trace_count();
    int stacks = st.h->flags & HSTATE_FULL_DOC ? -1 : state_stacks(n);
    if (stacks == 0 && (st.h->doc_slot == HSTATE_NO_DOC || now >= st.doc_next) &&
        (st.h->doc_slot == HSTATE_NO_DOC || allocs + frees != st.last_allocs ||
         n != st.last_traces)) {
        uint64_t cpu = state_cpu_ns();
        if (st.doc_fd < 0)
            st.doc_fd = state_high_fd(memfd_create("heapsnap-state", MFD_CLOEXEC));
        struct snap_live lv = {0};
        if (st.doc_fd >= 0 && snap_live_init(&lv, n) == 0) {
            peak_live(lv.live, n);
            int r = snap_state_doc(st.doc_fd, &lv);
            off_t len = r == 0 ? lseek(st.doc_fd, 0, SEEK_END) : -1;
            if (len > 0)
                state_publish((uint64_t)len);
            if (len > 0 && ftruncate(st.doc_fd, 0) != 0)
                (void)0; /* its pages stay till the next: harmless */
            if (r == 0) {
                st.last_allocs = allocs + frees;
                st.last_traces = n;
            }
            arena_unmap(lv.live, lv.len);
        }
        uint64_t spent = state_cpu_ns() - cpu;
        st.doc_next = now + (spent * STATE_DOC_SPACING > STATE_BEAT_NS
                                 ? spent * STATE_DOC_SPACING : STATE_BEAT_NS) - STATE_BEAT_NS / 8;
    }
    state_used();
    st.h->beat_ns = life_now_ns();
    __atomic_store_n(&st.h->beats, st.h->beats + 1, __ATOMIC_RELEASE);
}

/* Whether path is still the file this process put there. */
static int state_ours(void)
{
    struct stat sb;
    return stat(st.path, &sb) == 0 && sb.st_dev == st.dev && sb.st_ino == st.ino;
}

/* A clean end (exit, written or not: the process was not killed), or a
 * fatal signal's snapshot written: the state goes, its mapping stays (the
 * hooks may still write to it) until the process ends. */
void state_done(void)
{
    if (!st.h || !life_own_process())
        return;
    st.h->state = HSTATE_EXITED;
    if (state_ours())
        unlink(st.path);
}

/* A fork's child: the mapping is the parent's file.  It moves, at the same
 * address, to a file of the child's own (named from its own output name)
 * or, when children write nothing, to private memory; the used parts are
 * copied. */
void state_after_fork_child(void)
{
    if (!st.h)
        return;
    struct hsnap_state_head *old = st.h;
    uint32_t cells = atomic_load(&st.ncells);
    uint64_t used = old->cells_off + (uint64_t)(cells < st.maxcells ? cells : st.maxcells) *
                                         HSTATE_CHUNK;
    void *copy = sys_mmap(NULL, used, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED)
        goto anon;
    memcpy(copy, old, used);
    if (st.doc_fd >= 0)
        close(st.doc_fd);
    st.doc_fd = -1;
    st.doc_room[0] = st.doc_room[1] = 0;
    close(st.fd);
    st.fd = -1;
    if (opt_int(OPT_CHILDREN) != OPT_CHILDREN_NONE) {
        state_name(st.path);
        int fd = state_create(old, NULL);
        if (fd >= 0 && state_reserve(0, used) == 0) {
            st.fd = fd;
            memcpy(old, copy, used);
            old->doc_slot = HSTATE_NO_DOC; /* its own stacks and documents, from the next beat */
            old->doc[0].len = old->doc[1].len = 0;
            old->stacks_n = 0;
            old->stacks_len = 0;
            old->flags &= ~HSTATE_FULL_DOC;
            st.stacks_room = st.traces_room = 0;
            st.last_traces = 0;
            st.due = st.doc_next = 0;
            state_identity();
            sys_munmap(copy, used);
            rchan_tell_state(st.path);
            return;
        }
        if (fd >= 0) {
            unlink(st.path);
            close(fd);
        }
    }
anon:
    /* no file: private memory at the same address, the sums kept */
    if (sys_mmap(old, st.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
             0) != MAP_FAILED && copy != MAP_FAILED)
        memcpy(old, copy, used);
    if (copy != MAP_FAILED)
        sys_munmap(copy, used);
    st.h = NULL; /* nothing more is written: the hooks' cells stay valid */
}

/* The bytes of the file allocated now (the most so far kept). */
uint64_t state_used(void)
{
    if (!st.h)
        return 0;
    uint32_t cells = atomic_load(&st.ncells);
    uint64_t u = HSTATE_PAGE + (uint64_t)(cells < st.maxcells ? cells : st.maxcells) * HSTATE_CHUNK +
                 st.stacks_room + st.traces_room + st.doc_room[0] + st.doc_room[1];
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

/* exec replaces the image: the program it becomes (the shim again, or
 * not) owns the pid's name from now on.  Not a vfork child's: the file is
 * its parent's. */
void state_exec(void)
{
    if (st.h && life_own_process() && state_ours())
        unlink(st.path);
}
