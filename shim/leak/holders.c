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

#include "leakinner.h"

#define HOLD_TLS_MAX 64       /* modules with static TLS kept */
#define HOLD_RANGES_MAX 8192u /* root ranges named (more: "a root at 0x...") */

/*
 * One mapping, the section's payload as it will be written, so that no
 * copy is ever resident beside it (the check's fork keeps within its
 * memory budget: test_leak_fork_memory):
 *
 *   head | item[n] (8 B) | root_at[<= n] | interior[<= n] | range[] | tls[]
 *
 * reserved at its largest and touched only as filled: root words as the
 * marking meets them, the rest at hold_keep_roots, with the world stopped.
 */
static struct {
    const struct hsnap_block *b; /* the run's blocks (their addresses) */
    char *buf;                   /* the mapping */
    size_t bytes;                /* its size */
    struct hsnap_hold *item;     /* n items, in buf */
    uint64_t *root_at;           /* nroot words, in buf */
    uint64_t n, nroot;
    size_t len;                  /* the payload, once hold_keep_roots ran */
    struct hsnap_hold_tls tls[HOLD_TLS_MAX];
    uint32_t ntls;
} hold;

/* Starts a run over b[0..n); 0, or -1 (no section this time). */
int hold_begin(const struct hsnap_block *b, uint64_t n)
{
    hold_free();
    hold.bytes = sizeof(struct hsnap_holders_head) + (size_t)n * 3 * 8 +
                 HOLD_RANGES_MAX * sizeof(struct hsnap_hold_range) +
                 HOLD_TLS_MAX * sizeof(struct hsnap_hold_tls);
    if (!(hold.buf = collect_host->map(hold.bytes)))
        return -1;
    hold.item = (struct hsnap_hold *)(hold.buf + sizeof(struct hsnap_holders_head));
    hold.root_at = (uint64_t *)(hold.item + n);
    for (uint64_t i = 0; i < n; i++)
        hold.item[i].from = HSNAP_HOLD_NONE;
    hold.b = b;
    hold.n = n;
    hold.nroot = 0;
    hold.len = 0;
    return 0;
}

/* model_ops.on_ref's half: a first retainer wins over whatever was kept;
 * otherwise the first reference met stays (a possibly lost block's).  A
 * root word replaces the block's earlier root word in place, so there
 * are at most n. */
void hold_on_ref(uint32_t to, uint32_t from, int first, uintptr_t at)
{
    struct hsnap_hold *h = hold.buf ? &hold.item[to] : NULL;
    if (!h || (!first && h->from != HSNAP_HOLD_NONE))
        return;
    if (from == MODEL_FROM_ROOT) {
        uint64_t k = h->from == HSNAP_HOLD_ROOT ? h->aux : hold.nroot++;
        hold.root_at[k] = at;
        *h = (struct hsnap_hold){HSNAP_HOLD_ROOT, (uint32_t)k};
        return;
    }
    uint64_t off = at - hold.b[from].addr;
    *h = (struct hsnap_hold){from, off > UINT32_MAX ? UINT32_MAX : (uint32_t)off};
}

/* model_ops.on_owned: a leaked block claimed by the record of root. */
void hold_on_owned(uint32_t b, uint32_t root, void *ctx)
{
    (void)ctx;
    if (hold.buf)
        hold.item[b] = (struct hsnap_hold){b != root ? root : HSNAP_HOLD_NONE, 0};
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

/* The word the holder of block i holds it by, or NULL. */
static const uintptr_t *hold_word(uint64_t i)
{
    const struct hsnap_hold *h = &hold.item[i];
    if (h->from == HSNAP_HOLD_ROOT)
        return (const uintptr_t *)(uintptr_t)hold.root_at[h->aux];
    if (h->from < hold.n && h->aux != UINT32_MAX)
        return (const uintptr_t *)(uintptr_t)(hold.b[h->from].addr + h->aux);
    return NULL;
}

/* After the run, the world still stopped (the words still say what the
 * marking read): the interior offsets, the root ranges r[0..nr) (threads'
 * named) and the TLS places, after the root words; the payload is then
 * whole. */
void hold_keep_roots(const struct model_root *r, size_t nr)
{
    if (!hold.buf)
        return;
    struct hsnap_hold_in *in = (struct hsnap_hold_in *)(hold.root_at + hold.nroot);
    uint32_t nin = 0;
    for (uint64_t i = 0; i < hold.n; i++) {
        const uintptr_t *w = hold.b[i].cls == HSNAP_CLASS_POSSIBLE ? hold_word(i) : NULL;
        uint64_t off = w ? *w - hold.b[i].addr : 0;
        if (off && off < hold.b[i].size)
            in[nin++] = (struct hsnap_hold_in){(uint32_t)i, (uint32_t)off};
    }
    if (nr > HOLD_RANGES_MAX)
        nr = HOLD_RANGES_MAX;
    struct hsnap_hold_range *g = (struct hsnap_hold_range *)(in + nin);
    for (size_t i = 0; i < nr; i++) {
        g[i] = (struct hsnap_hold_range){r[i].lo, r[i].hi, r[i].tp, r[i].kind, (uint32_t)r[i].tid,
                                         {0}};
        if (r[i].tid > 0)
            hold_comm(r[i].tid, g[i].name);
    }
    memcpy(g + nr, hold.tls, hold.ntls * sizeof(struct hsnap_hold_tls));
    struct hsnap_holders_head head = {(uint32_t)hold.n, (uint32_t)hold.nroot, nin, (uint32_t)nr,
                                      hold.ntls, 0};
    memcpy(hold.buf, &head, sizeof head);
    hold.len = (size_t)((char *)(g + nr) - hold.buf) + hold.ntls * sizeof(struct hsnap_hold_tls);
}

/* The HOLDERS payload, its mapping's size and its length; the caller
 * owns the mapping from then on (unmap with *cap).  NULL: none. */
void *hold_take(size_t *cap, size_t *len)
{
    void *p = hold.len ? hold.buf : NULL;
    if (p) {
        *cap = hold.bytes;
        *len = hold.len;
        hold.buf = NULL;
    }
    hold_free();
    return p;
}

void hold_free(void)
{
    if (hold.buf)
        collect_host->unmap(hold.buf, hold.bytes);
    hold.buf = NULL;
    hold.b = NULL;
    hold.n = hold.nroot = 0;
    hold.len = 0;
}
