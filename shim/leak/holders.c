/*
 * holders.c - the holder view, block by block (the HOLDERS section,
 * grammar in hsnap_format.h): for each live block, the one reference that
 * explains its class.  A reachable block's is the word the marking
 * followed to it (its first retainer, as retain.c counts it per site); a
 * possibly lost block's the first reference met (an interior one, from a
 * root or a reachable block, or one from another possibly lost block); a
 * leaked block's its loss record's root.  The CLI walks from a block up
 * these words to a root and names it as a developer does: a global by
 * symbol and module, a thread by tid and comm, a TLS variable.  So the
 * root ranges go along (a thread's with its tid, comm and thread
 * pointer), and each module's static TLS block's place below the thread
 * pointer.  Valgrind's who_points_at answers this for one address;
 * here it is one array slot per block, written during the marking.
 *
 * Everything lives in mapped memory (the world may be stopped: no locks,
 * no host malloc); a failed mapping means no section, never a failed check.
 */
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "inner.h"

#define HOLD_TLS_MAX 64 /* modules with static TLS kept */

static struct {
    const struct hsnap_block *b; /* the run's blocks (their addresses) */
    struct hsnap_hold *hold;     /* n items, mapped */
    uint64_t n;
    size_t bytes;                /* hold's mapping */
    struct hsnap_hold_range *range; /* nrange items, mapped */
    size_t nrange, range_bytes;
    struct hsnap_hold_tls tls[HOLD_TLS_MAX];
    uint32_t ntls;
} hold;

/* Starts a run over b[0..n); 0, or -1 (no section this time). */
int hold_begin(const struct hsnap_block *b, uint64_t n)
{
    hold_free();
    hold.bytes = (size_t)(n ? n : 1) * sizeof(struct hsnap_hold);
    if (!(hold.hold = collect_host->map(hold.bytes)))
        return -1;
    for (uint64_t i = 0; i < n; i++)
        hold.hold[i].from = HSNAP_HOLD_NONE;
    hold.b = b;
    hold.n = n;
    return 0;
}

/* model_ops.on_ref's half: a first retainer wins over whatever was kept;
 * otherwise the first reference met stays (a possibly lost block's). */
void hold_on_ref(uint32_t to, uint32_t from, int first, uintptr_t at)
{
    struct hsnap_hold *h = hold.hold ? &hold.hold[to] : NULL;
    if (!h || (!first && h->from != HSNAP_HOLD_NONE))
        return;
    uint64_t off = *(const uintptr_t *)at - hold.b[to].addr;
    h->at = at;
    h->from = from == MODEL_FROM_ROOT ? HSNAP_HOLD_ROOT : from;
    h->off = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
}

/* model_ops.on_owned: a leaked block claimed by the record of root. */
void hold_on_owned(uint32_t b, uint32_t root, void *ctx)
{
    (void)ctx;
    if (hold.hold && b != root)
        hold.hold[b] = (struct hsnap_hold){0, root, 0};
    else if (hold.hold)
        hold.hold[b] = (struct hsnap_hold){0, HSNAP_HOLD_NONE, 0};
}

/* dl_iterate_phdr: each module's static TLS block, as placed for the
 * calling thread (dlpi_tls_data); static TLS sits at the same distance
 * below every thread's pointer. */
static int hold_tls_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    uintptr_t tp = *(const uintptr_t *)arg;
    (void)size;
    if (!info->dlpi_tls_data || hold.ntls == HOLD_TLS_MAX)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_TLS) {
            uintptr_t blk = (uintptr_t)info->dlpi_tls_data;
            if (blk < tp)
                hold.tls[hold.ntls++] = (struct hsnap_hold_tls){
                    info->dlpi_addr, tp - blk, info->dlpi_phdr[i].p_memsz};
            break;
        }
    return 0;
}

/* Before the stop (the loader lock): the modules' static TLS places. */
void hold_note_tls(void)
{
    uintptr_t tp = (uintptr_t)pthread_self();
    hold.ntls = 0;
    dl_iterate_phdr(hold_tls_module, &tp);
}

/* Appends decimal v at p; the end. */
static char *hold_dec(char *p, unsigned v)
{
    char d[12];
    int k = 0;
    do
        d[k++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (k)
        *p++ = d[--k];
    return p;
}

/* "/proc/PID/task/TID/comm" (PID 0: self) into path (64 bytes). */
static void hold_comm_path(char *path, unsigned pid, unsigned tid)
{
    char *p = path;
    memcpy(p, "/proc/", 6);
    p += 6;
    if (pid)
        p = hold_dec(p, pid);
    else
        memcpy(p, "self", 4), p += 4;
    memcpy(p, "/task/", 6);
    p = hold_dec(p + 6, tid);
    memcpy(p, "/comm", 6);
}

/* Thread tid's comm into name (16 bytes, NUL-padded; "" unknown): this
 * process's, or in the check's fork its parent's.  Raw reads, no stdio. */
static void hold_comm(int32_t tid, char *name)
{
    char path[64];
    memset(name, 0, 16);
    for (int k = 0; k < 2 && tid > 0; k++) {
        hold_comm_path(path, k ? (unsigned)getppid() : 0, (unsigned)tid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t got = read(fd, name, 15);
        close(fd);
        if (got > 0 && name[got - 1] == '\n')
            name[got - 1] = 0;
        if (got > 0)
            return;
        memset(name, 0, 16);
    }
}

/* After the run, the world still stopped: the root ranges r[0..nr) kept
 * (the caller's array goes at the resume), threads' named. */
void hold_keep_roots(const struct model_root *r, size_t nr)
{
    if (!hold.hold || !nr)
        return;
    hold.range_bytes = nr * sizeof(struct hsnap_hold_range);
    if (!(hold.range = collect_host->map(hold.range_bytes)))
        return;
    hold.nrange = nr;
    for (size_t i = 0; i < nr; i++) {
        struct hsnap_hold_range *g = &hold.range[i];
        *g = (struct hsnap_hold_range){r[i].lo, r[i].hi, r[i].tp, r[i].kind, (uint32_t)r[i].tid,
                                       {0}};
        if (r[i].tid > 0)
            hold_comm(r[i].tid, g->name);
    }
}

/* The HOLDERS payload; its size (written only when cap is enough).  0: no
 * run, no section. */
size_t hold_encode(void *buf, size_t cap)
{
    if (!hold.hold)
        return 0;
    struct hsnap_holders_head head = {(uint32_t)hold.n, (uint32_t)hold.nrange, hold.ntls, 0};
    size_t items = (size_t)hold.n * sizeof(struct hsnap_hold);
    size_t ranges = hold.nrange * sizeof(struct hsnap_hold_range);
    size_t need = sizeof head + items + ranges + hold.ntls * sizeof(struct hsnap_hold_tls);
    if (!buf || cap < need)
        return need;
    char *p = buf;
    memcpy(p, &head, sizeof head);
    memcpy(p += sizeof head, hold.hold, items);
    memcpy(p += items, hold.range, ranges);
    memcpy(p + ranges, hold.tls, hold.ntls * sizeof(struct hsnap_hold_tls));
    return need;
}

void hold_free(void)
{
    if (hold.hold)
        collect_host->unmap(hold.hold, hold.bytes);
    if (hold.range)
        collect_host->unmap(hold.range, hold.range_bytes);
    hold.hold = NULL;
    hold.range = NULL;
    hold.nrange = 0;
    hold.b = NULL;
    hold.n = 0;
}
