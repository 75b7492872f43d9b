/*
 * snapshot.c - the writer of .hsnap files (grammar in hsnap_format.h).
 *
 *   header | META | MODULES | TRACES | STATS | BLOCKS? | TIMELINE | LEAKS? |
 *   RETAINERS? | END
 *
 * Each section is built in its own buffer of the shim's memory (mmap, never
 * the host's malloc), then the file is written with write(2) to
 * ".<base>.tmp.XXXXXX" beside it, created exclusively (O_EXCL|O_NOFOLLOW:
 * no planted symlink is followed), and renamed into place, so a reader
 * never sees half a snapshot.  Files are 0600 unless HEAPSNAP_MODE says.  Any error unlinks the temporary file, warns once, and the
 * program goes on.
 *
 * Consistency without stopping the world: the module map is gathered first
 * (dl_iterate_phdr takes the loader lock; no shim lock may be held then).
 * Blocks are copied next, one table stripe at a time under that stripe's
 * lock, so another thread waits for at most one stripe.  Traces are copied
 * last, under the intern lock: every trace id a copied block names exists by
 * then.  Live sums per trace are summed from the copied blocks (or a walk of
 * the table when BLOCKS is off); totals are relaxed atomics, so a snapshot
 * taken while threads run is a moment's approximation; one taken at exit is
 * exact.
 *
 * With the leak check on (collect.c), the world is stopped from just
 * before the blocks are copied until the model has run on the sorted
 * BLOCKS array, which then carries classes and refcounts; LEAKS and
 * RETAINERS follow TIMELINE.
 *
 * snap_take serialises snapshots (the helper thread, exit, the API, a fatal
 * signal), picks the name, and advances the birth epoch afterwards.  With
 * fatal set (we are in a crashing thread's signal handler) every lock is
 * tried a bounded number of times and the snapshot is abandoned rather than
 * waiting: never hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h> /* rename(2) only; no stdio streams */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "shim.h"

#define SNAP_PATH_MAX 4096
#define SNAP_FATAL_TRIES 2000
#define SNAP_MIN_BUF (64u * 1024u)

/* A growable buffer in mmap'd memory. */
struct sbuf {
    char *p;
    size_t len, cap;
    int err; /* an allocation failed: the buffer is unusable */
};

static struct {
    lock_t lock;              /* one snapshot at a time; guards seq and name */
    _Atomic uint32_t epoch;   /* birth epoch of new blocks */
    uint32_t seq;             /* next %n */
    atomic_int warned;        /* a write failure was reported */
    char name[SNAP_PATH_MAX]; /* the name being written */
    char tmp[SNAP_PATH_MAX + 32];
    mode_t mode;              /* HEAPSNAP_MODE | S_IFREG once read */
    struct pend_left left;    /* held blocks the last walk left out */
    uint64_t sort_w[8 * 512]; /* snap_sort's counters: 8 levels of 512 */
} snap;

/* ---------------- buffers ---------------- */

static int sbuf_reserve(struct sbuf *b, size_t n)
{
    if (b->err)
        return -1;
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : SNAP_MIN_BUF;
    while (cap < b->len + n)
        cap *= 2;
    char *p = arena_map(cap);
    if (!p) {
        b->err = 1;
        return -1;
    }
    if (b->p) {
        memcpy(p, b->p, b->len);
        arena_unmap(b->p, b->cap);
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void sbuf_put(struct sbuf *b, const void *data, size_t n)
{
    if (sbuf_reserve(b, n) == 0) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
    }
}

static void sbuf_u32(struct sbuf *b, uint32_t v) { sbuf_put(b, &v, sizeof v); }
static void sbuf_u64(struct sbuf *b, uint64_t v) { sbuf_put(b, &v, sizeof v); }

static void sbuf_free(struct sbuf *b)
{
    arena_unmap(b->p, b->cap);
    *b = (struct sbuf){0};
}

/* Appends a whole small file (e.g. /proc/self/cmdline). */
static void sbuf_file(struct sbuf *b, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (;;) {
        if (sbuf_reserve(b, 4096) != 0)
            break;
        ssize_t n = read(fd, b->p + b->len, 4096);
        if (n <= 0)
            break;
        b->len += (size_t)n;
    }
    close(fd);
}

/* ---------------- META ---------------- */

static size_t snap_exe(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap);
    return n < 0 ? 0 : (size_t)n;
}

/* str := u32 len, bytes.  cmdline: NULs between arguments become spaces. */
static void snap_put_strings(struct sbuf *b)
{
    struct sbuf cmd = {0};
    char exe[SNAP_PATH_MAX];
    sbuf_file(&cmd, "/proc/self/cmdline");
    while (cmd.len && !cmd.p[cmd.len - 1])
        cmd.len--;
    for (size_t i = 0; i < cmd.len; i++)
        if (!cmd.p[i])
            cmd.p[i] = ' ';
    sbuf_u32(b, (uint32_t)cmd.len);
    sbuf_put(b, cmd.p, cmd.len);
    sbuf_free(&cmd);
    size_t n = snap_exe(exe, sizeof exe);
    sbuf_u32(b, (uint32_t)n);
    sbuf_put(b, exe, n);
}

static void snap_meta(struct sbuf *b, unsigned reason, uint32_t seq, uint64_t blocks,
                      uint32_t flags, uint64_t shim_bytes)
{
    struct hsnap_meta m = {0};
    m.pid = (uint32_t)getpid();
    m.ppid = (uint32_t)getppid();
    m.time_ns = life_now_ns();
    m.start_ns = life_start_ns();
    m.reason = reason;
    m.seq = seq;
    m.depth = (uint32_t)opt_int(OPT_DEPTH);
    m.epoch = snap_epoch();
    m.sample_interval = (uint64_t)opt_int(OPT_SAMPLE);
    trace_totals(&m.current_bytes, &m.peak_bytes);
    m.live_blocks = blocks;
    trace_alloc_counts(&m.total_allocs, &m.total_frees);
    /* blocks other threads hold back (pending.c) are freed: the walk left
     * them out, and the sums count them so */
    m.current_bytes -= m.current_bytes > snap.left.bytes ? snap.left.bytes : m.current_bytes;
    m.total_frees += snap.left.blocks;
    m.foreign_frees = atomic_load(&trace_counters.foreign_frees);
    m.shim_bytes = shim_bytes;
    m.flags = (life_degraded() ? HSNAP_META_DEGRADED : 0) | flags;
    sbuf_put(b, &m, sizeof m);
    snap_put_strings(b);
}

/* ---------------- MODULES ---------------- */

/* The GNU build-id from a loaded PT_NOTE segment, bounds-checked. */
static size_t snap_build_id(const char *note, size_t len, const char **id)
{
    size_t off = 0;
    while (off + 12 <= len) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, note + off, 4);
        memcpy(&descsz, note + off + 4, 4);
        memcpy(&type, note + off + 8, 4);
        size_t name_off = off + 12, desc_off = name_off + ((namesz + 3) & ~3u);
        size_t next = desc_off + ((descsz + 3) & ~3u);
        if (next > len || next <= off)
            return 0;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(note + name_off, "GNU", 4)) {
            *id = note + desc_off;
            return descsz;
        }
        off = next;
    }
    return 0;
}

struct snap_modules {
    struct sbuf *b;
    uint32_t count;
};

static int snap_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct snap_modules *sm = arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    const char *id = NULL;
    size_t id_len = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            lo = start < lo ? start : lo;
            hi = start + ph->p_memsz > hi ? start + ph->p_memsz : hi;
        } else if (ph->p_type == PT_NOTE && !id_len) {
            id_len = snap_build_id((const char *)(uintptr_t)start, ph->p_memsz, &id);
        }
    }
    if (hi == 0)
        return 0;
    char exe[SNAP_PATH_MAX];
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    size_t path_len = strlen(path);
    if (sm->count == 0) { /* the main executable: its real path */
        path_len = snap_exe(exe, sizeof exe);
        path = exe;
    }
    uint16_t lens[4] = {(uint16_t)(path_len > 0xffff ? 0xffff : path_len),
                        (uint16_t)(id_len > 0xffff ? 0 : id_len), 0, 0};
    sbuf_u64(sm->b, info->dlpi_addr);
    sbuf_u64(sm->b, lo);
    sbuf_u64(sm->b, hi);
    sbuf_put(sm->b, lens, sizeof lens);
    sbuf_put(sm->b, path, lens[0]);
    sbuf_put(sm->b, id, lens[1]);
    sm->count++;
    return 0;
}

static void snap_modules(struct sbuf *b)
{
    struct snap_modules sm = {b, 0};
    sbuf_u32(b, 0);
    life_iterate_phdr(snap_module, &sm);
    if (!b->err)
        memcpy(b->p, &sm.count, sizeof sm.count);
}

/* ---------------- BLOCKS ---------------- */

struct snap_blocks {
    struct hsnap_block *out;
    uint64_t n, cap;
};

static int snap_block(const struct tbl_entry *e, void *arg)
{
    struct snap_blocks *sb = arg;
    if (sb->n == sb->cap)
        return 1; /* overflow: retry with more room */
    sb->out[sb->n++] = (struct hsnap_block){
        .addr = e->ptr, .size = e->size, .trace = e->trace, .epoch = e->epoch};
    return 0;
}

/* Sorting the BLOCKS copy by address, in place: an MSD radix sort
 * ("American flag sort"), 8 bits a level, with insertion sort below
 * SNAP_SORT_SMALL blocks.  Why our own: glibc's qsort mallocs its scratch
 * (the host's heap, from inside the shim), and the LSD radix sort this
 * replaced scattered into a second copy of the array, 32 more bytes per
 * live block while a snapshot is written.  w: 512 counters a level, 8
 * levels at most (snap.sort_w, under the snapshot lock). */
#define SNAP_SORT_SMALL 32

static void snap_sort_small(struct hsnap_block *a, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
        struct hsnap_block v = a[i];
        uint64_t j = i;
        for (; j > 0 && a[j - 1].addr > v.addr; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* a[0..n) share every address bit above shift + 8: sorts them on the
 * byte at shift, then each bucket on the next byte down. */
static void snap_sort_level(struct hsnap_block *a, uint64_t n, unsigned shift, uint64_t *w)
{
    if (n <= SNAP_SORT_SMALL) {
        snap_sort_small(a, n);
        return;
    }
    uint64_t *head = w, *tail = w + 256, sum = 0;
    memset(head, 0, 256 * sizeof *head);
    for (uint64_t i = 0; i < n; i++)
        head[(a[i].addr >> shift) & 0xff]++;
    for (unsigned d = 0; d < 256; d++) {
        uint64_t c = head[d];
        head[d] = sum;
        tail[d] = sum += c;
    }
    for (unsigned d = 0; d < 256; d++) /* each block to its bucket, by cycles */
        while (head[d] < tail[d]) {
            struct hsnap_block v = a[head[d]];
            unsigned k = (unsigned)(v.addr >> shift) & 0xff;
            while (k != d) {
                struct hsnap_block t = a[head[k]];
                a[head[k]++] = v;
                v = t;
                k = (unsigned)(v.addr >> shift) & 0xff;
            }
            a[head[d]++] = v;
        }
    if (shift == 0)
        return;
    for (unsigned d = 0; d < 256; d++) { /* bucket d is [tail[d - 1], tail[d]) */
        uint64_t from = d ? tail[d - 1] : 0;
        if (tail[d] - from > 1)
            snap_sort_level(a + from, tail[d] - from, shift - 8, w + 512);
    }
}

static void snap_sort(struct hsnap_block *a, uint64_t n, uint64_t *w)
{
    uint64_t x = 0;
    for (uint64_t i = 1; i < n; i++)
        x |= a[i].addr ^ a[0].addr;
    if (x)
        snap_sort_level(a, n, (unsigned)(63 - __builtin_clzll(x)) / 8 * 8, w);
}

/* BLOCKS payload into b: u64 count, then the blocks sorted by address. */
static int snap_blocks(struct sbuf *b, int fatal)
{
    uint64_t cap = pend_live_count();
    for (cap += cap / 4 + 1024;; cap *= 2) {
        b->len = 0;
        if (sbuf_reserve(b, 8 + cap * sizeof(struct hsnap_block)) != 0)
            return -1;
        struct snap_blocks sb = {(struct hsnap_block *)(b->p + 8), 0, cap};
        int r = pend_foreach(snap_block, &sb, fatal ? SNAP_FATAL_TRIES : 0, &snap.left);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        memcpy(b->p, &sb.n, 8);
        b->len = 8 + sb.n * sizeof(struct hsnap_block);
        snap_sort(sb.out, sb.n, snap.sort_w);
        return 0;
    }
}

/* ---------------- TRACES, STATS, TIMELINE ---------------- */

/* Live sums per trace, derived here rather than kept on the hot path:
 * from the BLOCKS copy when there is one, else from a walk of the table
 * (one stripe locked at a time, as the BLOCKS copy).  Traces born after
 * the array was sized get zero live sums in this snapshot. */
struct snap_live {
    struct trace_live *live;
    uint32_t n;
    size_t len;
};

static int snap_live_block(const struct tbl_entry *e, void *arg)
{
    struct snap_live *lv = arg;
    trace_live_add(lv->live, lv->n, e->trace, e->size);
    return 0;
}

static int snap_live(struct snap_live *lv, const struct sbuf *blocks, int fatal)
{
    lv->n = trace_count();
    lv->len = (size_t)lv->n * sizeof *lv->live;
    if (!lv->n)
        return 0;
    if (!(lv->live = arena_map(lv->len)))
        return -1;
    if (blocks) {
        uint64_t nb;
        memcpy(&nb, blocks->p, 8);
        const struct hsnap_block *b = (const struct hsnap_block *)(blocks->p + 8);
        for (uint64_t i = 0; i < nb; i++)
            trace_live_add(lv->live, lv->n, b[i].trace, b[i].size);
        return 0;
    }
    int r = pend_foreach(snap_live_block, lv, fatal ? SNAP_FATAL_TRIES : 0, &snap.left);
    return r < 0 ? -1 : 0;
}

static int snap_traces(struct sbuf *tr, struct sbuf *st, const struct snap_live *lv, int fatal)
{
    if (fatal ? !trace_lock_bounded(SNAP_FATAL_TRIES) : (trace_lock(), 0))
        return -1;
    uint32_t n = trace_count();
    sbuf_u32(tr, n);
    sbuf_u32(st, n);
    for (uint32_t id = 0; id < n; id++) {
        unsigned depth, flags;
        const uintptr_t *ip = trace_stack(id, &depth, &flags);
        uint16_t head[4] = {(uint16_t)depth, (uint16_t)flags, 0, 0};
        struct hsnap_stat s;
        sbuf_put(tr, head, sizeof head);
        sbuf_put(tr, ip, depth * sizeof *ip);
        trace_read_stat(id, id < lv->n ? &lv->live[id] : NULL, &s);
        sbuf_put(st, &s, sizeof s);
    }
    trace_unlock();
    return tr->err || st->err ? -1 : 0;
}

static int snap_timeline(struct sbuf *b, int fatal)
{
    if (fatal ? !life_timeline_lock_bounded(SNAP_FATAL_TRIES) : (life_timeline_lock(), 0))
        return -1;
    unsigned n = life_timeline_copy(NULL, 0);
    if (sbuf_reserve(b, 4 + (size_t)n * sizeof(struct hsnap_point)) == 0) {
        sbuf_u32(b, n);
        life_timeline_copy((struct hsnap_point *)(b->p + 4), n);
        b->len += (size_t)n * sizeof(struct hsnap_point);
    }
    life_timeline_unlock();
    return b->err ? -1 : 0;
}

/* ---------------- the file ---------------- */

static int snap_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int snap_put_section(int fd, uint32_t type, const struct sbuf *b)
{
    struct hsnap_section s = {type, 0, b ? b->len : 0};
    if (b && b->len)
        s.crc32 = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), (const Bytef *)b->p, b->len);
    if (snap_write_all(fd, &s, sizeof s) != 0)
        return -1;
    return b && b->len ? snap_write_all(fd, b->p, b->len) : 0;
}

enum { SEC_META, SEC_MODULES, SEC_TRACES, SEC_STATS, SEC_BLOCKS, SEC_TIMELINE, SEC_LEAKS,
       SEC_RETAINERS, SEC_N };
static const uint32_t snap_types[SEC_N] = {HSNAP_SEC_META,     HSNAP_SEC_MODULES,
                                           HSNAP_SEC_TRACES,   HSNAP_SEC_STATS,
                                           HSNAP_SEC_BLOCKS,   HSNAP_SEC_TIMELINE,
                                           HSNAP_SEC_LEAKS,    HSNAP_SEC_RETAINERS};

/* BLOCKS only when recorded; LEAKS and RETAINERS only when the model ran. */
static int snap_present(const struct sbuf *sec, int i, int has_blocks)
{
    if (i == SEC_BLOCKS)
        return has_blocks;
    return i < SEC_LEAKS || sec[i].len > 0;
}

static int snap_emit(int fd, struct sbuf *sec, int has_blocks)
{
    struct hsnap_header h = {HSNAP_MAGIC, HSNAP_VERSION, sizeof h, sizeof h};
    for (int i = 0; i < SEC_N; i++)
        if (snap_present(sec, i, has_blocks))
            h.file_size += sizeof(struct hsnap_section) + sec[i].len;
    h.file_size += sizeof(struct hsnap_section);
    if (snap_write_all(fd, &h, sizeof h) != 0)
        return -1;
    for (int i = 0; i < SEC_N; i++)
        if (snap_present(sec, i, has_blocks) && snap_put_section(fd, snap_types[i], &sec[i]))
            return -1;
    return snap_put_section(fd, HSNAP_SEC_END, NULL);
}

static void snap_warn_failure(const char *path, int err)
{
    if (atomic_exchange(&snap.warned, 1) != 0)
        return;
    char why[96] = ": ";
    const char *desc = err ? strerrordesc_np(err) : "out of memory";
    strncat(why, desc ? desc : "unknown error", sizeof why - 3);
    opt_warn("cannot write ", path, why);
}

/* HEAPSNAP_MODE, octal, read once: a bad value warns and gives 0600. */
static mode_t snap_mode(void)
{
    if (!snap.mode) {
        const char *s = opt_str(OPT_MODE);
        char *end = NULL;
        long m = s && *s ? strtol(s, &end, 8) : 0600;
        if (m < 0 || m > 07777 || (end && *end)) {
            opt_warn("bad HEAPSNAP_MODE (want octal permissions, e.g. 0644), using 0600", "", "");
            m = 0600;
        }
        snap.mode = (mode_t)m | S_IFREG; /* nonzero: read */
    }
    return snap.mode & 07777;
}

/* ".<base>.tmp.XXXXXX" beside path, into t: six alphanumerics from
 * getrandom, or from the clock and pid where it fails; try moves them on
 * (a name that exists is never reused). */
static void snap_tmp_name(char *t, const char *path, unsigned try)
{
    static const char an[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t r[6];
    size_t len = strlen(path), base = len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        uint64_t x = (life_now_ns() ^ (uint64_t)getpid() << 40) * 0x9e3779b97f4a7c15ULL;
        for (unsigned i = 0; i < sizeof r; i++)
            r[i] = (uint8_t)(x >> (8 * i + 16));
    }
    memcpy(t, path, base);
    t[base] = '.';
    memcpy(t + base + 1, path + base, len - base);
    char *x = t + len + 1;
    memcpy(x, ".tmp.", 5);
    for (unsigned i = 0; i < sizeof r; i++)
        x[5 + i] = an[(r[i] + try * 11u) % (sizeof an - 1)];
    x[5 + sizeof r] = 0;
}

/* The temporary file for path, created exclusively (never through a
 * symlink or over a file someone planted), 0600 until written; t gets
 * its name.  The fd, or -1 with errno. */
static int snap_open_tmp(char *t, const char *path)
{
    for (unsigned try = 0; try < 16; try++) {
        snap_tmp_name(t, path, try);
        int fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Writes everything to path via a temporary file (snap_open_tmp); 0 or -1
 * (warned). */
static int snap_to_file(const char *path, struct sbuf *sec, int has_blocks)
{
    char *t = snap.tmp;
    int fd = snap_open_tmp(t, path), err = 0;
    if (fd < 0) {
        snap_warn_failure(path, errno);
        return -1;
    }
    if (fchmod(fd, snap_mode()) != 0 || snap_emit(fd, sec, has_blocks) != 0)
        err = errno ? errno : EIO;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(t, path) != 0)
        err = errno;
    if (err) {
        unlink(t);
        snap_warn_failure(path, err);
        return -1;
    }
    return 0;
}

/* The encoded LEAKS and RETAINERS of the model's last run into their
 * buffers; 0, or -1 when either could not be built (no section). */
static int snap_leak_sections(struct sbuf *leaks, struct sbuf *ret)
{
    size_t nl = collect_leaks(NULL, 0), nr = collect_retainers(NULL, 0);
    if (!nl || sbuf_reserve(leaks, nl) != 0 || (nr && sbuf_reserve(ret, nr) != 0))
        return -1;
    leaks->len = collect_leaks(leaks->p, leaks->cap);
    ret->len = nr ? collect_retainers(ret->p, ret->cap) : 0;
    return 0;
}

/* Blocks with the leak check around them: the world is stopped from just
 * before the copy until the model has classified the sorted array.
 * *leaks is cleared when the check could not run. */
static int snap_blocks_checked(struct sbuf *sec, int fatal, int *leaks)
{
    if (*leaks && collect_begin() != 0)
        *leaks = 0;
    int r = snap_blocks(&sec[SEC_BLOCKS], fatal);
    if (*leaks) {
        uint64_t n = 0;
        if (r == 0)
            memcpy(&n, sec[SEC_BLOCKS].p, 8);
        if (r != 0 || collect_model((struct hsnap_block *)(sec[SEC_BLOCKS].p + 8), n) != 0)
            *leaks = 0;
        collect_end();
        if (*leaks && snap_leak_sections(&sec[SEC_LEAKS], &sec[SEC_RETAINERS]) != 0)
            *leaks = 0;
        collect_release();
    }
    return r;
}

/* Writes one snapshot to path; 0 or -1 (warned once).  Call with the
 * snapshot lock held and hook_guard set. */
static int snap_write(const char *path, unsigned reason, uint32_t seq, int fatal)
{
    struct sbuf sec[SEC_N] = {{0}};
    int leaks = !fatal && collect_wanted(reason);
    int has_blocks = opt_int(OPT_BLOCKS) != 0 || leaks, ret = -1;
    uint64_t blocks = pend_live_count();
    /* the shim's memory as the program had it: not this snapshot's own
     * buffers (the BLOCKS copy takes about 40 MiB for a million blocks,
     * returned when the file is written) */
    uint64_t shim_bytes = arena_mapped();
    snap.left = (struct pend_left){0, 0};
    snap_modules(&sec[SEC_MODULES]);
    if (has_blocks && snap_blocks_checked(sec, fatal, &leaks) != 0)
        goto out;
    if (!leaks)
        sec[SEC_LEAKS].len = sec[SEC_RETAINERS].len = 0;
    struct snap_live lv = {0};
    int r = snap_live(&lv, has_blocks ? &sec[SEC_BLOCKS] : NULL, fatal);
    if (r == 0)
        r = snap_traces(&sec[SEC_TRACES], &sec[SEC_STATS], &lv, fatal);
    arena_unmap(lv.live, lv.len);
    if (r != 0 || snap_timeline(&sec[SEC_TIMELINE], fatal) != 0)
        goto out;
    if (has_blocks)
        memcpy(&blocks, sec[SEC_BLOCKS].p, 8);
    else
        blocks -= blocks > snap.left.blocks ? snap.left.blocks : blocks;
    snap_meta(&sec[SEC_META], reason, seq, blocks,
              (has_blocks ? HSNAP_META_HAS_BLOCKS : 0) | (leaks ? HSNAP_META_HAS_LEAKS : 0),
              shim_bytes);
    for (int i = 0; i < SEC_N; i++)
        if (sec[i].err)
            goto out;
    ret = snap_to_file(path, sec, has_blocks) == 0 ? 0 : -2;
out:
    if (ret == -1)
        snap_warn_failure(path, 0);
    for (int i = 0; i < SEC_N; i++)
        sbuf_free(&sec[i]);
    return ret == 0 ? 0 : -1;
}

/* ---------------- names, manifest, epochs ---------------- */

static size_t snap_append(char *out, size_t len, const char *s, size_t n)
{
    if (len + n >= SNAP_PATH_MAX)
        n = SNAP_PATH_MAX - 1 - len;
    memcpy(out + len, s, n);
    return len + n;
}

/* Expands %p %n %e %% of pat into out (NUL-terminated); *has_n tells
 * whether %n occurred. */
static void snap_expand(char *out, const char *pat, uint32_t seq, int *has_n)
{
    size_t len = 0;
    char num[24], exe[SNAP_PATH_MAX];
    *has_n = 0;
    for (const char *c = pat; *c; c++) {
        if (*c != '%' || !c[1]) {
            len = snap_append(out, len, c, 1);
            continue;
        }
        c++;
        if (*c == 'p') {
            len = snap_append(out, len, num, opt_fmt_u64(num, (uint64_t)getpid()));
        } else if (*c == 'n') {
            len = snap_append(out, len, num, opt_fmt_u64(num, seq));
            *has_n = 1;
        } else if (*c == 'e') {
            size_t n = snap_exe(exe, sizeof exe);
            const char *base = exe;
            for (size_t i = 0; i < n; i++)
                if (exe[i] == '/')
                    base = exe + i + 1;
            len = snap_append(out, len, base, (size_t)(exe + n - base));
        } else if (*c == '%') {
            len = snap_append(out, len, "%", 1);
        } else {
            len = snap_append(out, len, c - 1, 2); /* unknown: kept as is */
        }
    }
    out[len] = 0;
}

/* "a/b.hsnap" -> "a/b.<seq>.hsnap"; no extension -> "a/b.<seq>". */
static void snap_insert_seq(char *name, uint32_t seq)
{
    char num[24], tail[SNAP_PATH_MAX];
    size_t len = strlen(name), dot = len;
    for (size_t i = len; i-- > 0 && name[i] != '/';)
        if (name[i] == '.' && i > 0 && name[i - 1] != '/') {
            dot = i;
            break;
        }
    size_t tail_len = len - dot;
    memcpy(tail, name + dot, tail_len);
    num[0] = '.';
    size_t n = 1 + opt_fmt_u64(num + 1, seq);
    len = snap_append(name, dot, num, n);
    len = snap_append(name, len, tail, tail_len);
    name[len] = 0;
}

/* Appends "<absolute path>\n" to HEAPSNAP_MANIFEST, in one write. */
static void snap_manifest(const char *path)
{
    const char *m = opt_str(OPT_MANIFEST);
    char line[2 * SNAP_PATH_MAX + 2];
    size_t len = 0;
    if (!m || !*m)
        return;
    if (path[0] != '/' && getcwd(line, SNAP_PATH_MAX)) {
        len = strlen(line);
        line[len++] = '/';
    }
    len = snap_append(line, len, path, strlen(path));
    line[len++] = '\n';
    int fd = open(m, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (snap_write_all(fd, line, len) != 0)
        opt_warn("cannot append to ", m, "");
    close(fd);
}

/* Takes one snapshot: to path, or to HEAPSNAP_OUTPUT's expansion when path
 * is NULL.  Serialised with every other snapshot; advances the epoch. */
int snap_take(unsigned reason, const char *path, int fatal)
{
    int saved_errno = errno, ret;
    if (!hook_guard && !fatal)
        pend_settle(); /* this thread's held frees came before the snapshot */
    int saved_guard = guard_enter();
    if (fatal ? !lock_take_bounded(&snap.lock, SNAP_FATAL_TRIES) : (lock_take(&snap.lock), 0)) {
        guard_leave(saved_guard);
        return -1;
    }
    uint32_t seq = snap.seq++;
    if (path) {
        size_t len = snap_append(snap.name, 0, path, strlen(path));
        snap.name[len] = 0;
    } else {
        int has_n;
        snap_expand(snap.name, opt_str(OPT_OUTPUT), seq, &has_n);
        if (!has_n && reason != HSNAP_REASON_EXIT && reason != HSNAP_REASON_FATAL)
            snap_insert_seq(snap.name, seq);
    }
    ret = snap_write(snap.name, reason, seq, fatal);
    if (ret == 0) {
        snap_manifest(snap.name);
        opt_debug("wrote ", snap.name, "");
    }
    atomic_fetch_add(&snap.epoch, 1);
    lock_drop(&snap.lock);
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

uint32_t snap_epoch(void)
{
    return atomic_load_explicit(&snap.epoch, memory_order_relaxed);
}

void snap_lock(void)
{
    lock_take(&snap.lock);
}

void snap_unlock(void)
{
    lock_drop(&snap.lock);
}

/* heapsnap_collect: the leak check now; with a path, a snapshot too (whose
 * name is taken literally).  Advances the epoch like a snapshot. */
int snap_collect(const char *path)
{
    if (path)
        return snap_take(HSNAP_REASON_COLLECT, path, 0);
    int saved_errno = errno, ret = -1, leaks = 1;
    struct sbuf sec[SEC_N] = {{0}};
    int saved_guard = guard_enter();
    lock_take(&snap.lock);
    if (snap_blocks_checked(sec, 0, &leaks) == 0 && leaks)
        ret = 0;
    for (int i = 0; i < SEC_N; i++)
        sbuf_free(&sec[i]);
    atomic_fetch_add(&snap.epoch, 1);
    lock_drop(&snap.lock);
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

int snap_copy_blocks(struct hsnap_block **b, uint64_t *n, void **map, size_t *maplen)
{
    struct sbuf s = {0};
    if (snap_blocks(&s, 0) != 0) {
        sbuf_free(&s);
        return -1;
    }
    memcpy(n, s.p, 8);
    *b = (struct hsnap_block *)(s.p + 8);
    *map = s.p;
    *maplen = s.cap;
    return 0;
}

/* The child of fork numbers its own snapshots from 0. */
void snap_after_fork_child(void)
{
    snap.seq = 0;
    atomic_store(&snap.warned, 0);
}
