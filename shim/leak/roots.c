/*
 * roots.c - the leak check's root ranges other than threads: the writable
 * PT_LOAD segments of every loaded module, the program's registered roots
 * (heapsnap_register_root), the memory the program maps itself
 * (roots_add_mapped), and the rule that tells glibc's bookkeeping from
 * references (docs/design.md, "Roots").
 *
 * roots_begin runs before the world is stopped (dl_iterate_phdr takes the
 * loader lock and may allocate); thread and user ranges are added after,
 * into the same array (shim memory from mmap: not itself a root).  The
 * shim's own segments and mappings (arena_each_map) are never roots: they
 * hold block addresses.  When the real malloc is glibc's, libc's writable
 * segments are flagged MODEL_ROOT_ALLOC_META: a word there equal to the
 * chunk after block b is not a reference to b.  Blocks allocated from
 * ld.so (roots_in_loader) are its bookkeeping: the runtime's (rt_mark).
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "base/pagemap.h"
#include "base/peek.h"
#include "leakinner.h"
#include "procmaps.h"

#define ROOTS_CAP 16384u      /* ranges per check (modules, threads, user) */
#define ROOTS_USER_MAX 8192u  /* heapsnap_register_root ranges (and pymalloc arenas) */
#define ROOTS_CHUNK_HDR 16u   /* glibc: prev_size + size before user memory */
#define ROOTS_MMAPPED 0x2u    /* glibc chunk size bit: IS_MMAPPED */
#define ROOTS_GAP_PAGES 4u    /* unwritten pages in a row that roots_written leaves out */

/* heapsnap_register_root's ranges and pymalloc's arenas: an array mapped
 * when the first is registered (arena_map: no host malloc, and the call
 * may come from inside a hook), not kept in bss, so that a program that
 * registers none has none of it in the shim's fixed address space
 * (shim_fixed_address_space_under_8mib). */
struct roots_user {
    uintptr_t lo, hi;
};

static struct {
    struct model_root *r;      /* this check's ranges (mapped) */
    size_t n;
    struct model_root *w;      /* the model's: r cut to written pages (roots_written) */
    int full_warned;
    uintptr_t real_malloc;     /* dlsym(RTLD_NEXT, "malloc") */
    int glibc;                 /* the real malloc is in libc.so.6 */
    uintptr_t ld_lo, ld_hi;    /* the dynamic loader's text and data */
    struct { uintptr_t lo, hi; } self[8];   /* the shim's own PT_LOADs */
    size_t nself;
    struct roots_user *user;   /* ROOTS_USER_MAX, mapped at the first one */
    size_t nuser;              /* user and nuser: under user_lock */
    lock_t user_lock;          /* roots_user_lock */
    int mapped_off;            /* HEAPSNAP_MAPPED_ROOTS=0 */
} roots;

/* ---------------- the array ---------------- */

void roots_add(uintptr_t lo, uintptr_t hi, unsigned kind, unsigned flags)
{
    if (!roots.r || hi <= lo)
        return;
    if (roots.n == ROOTS_CAP) {
        if (!roots.full_warned++)
            collect_host->warn("too many root ranges; the leak check may report false leaks", "", "");
        return;
    }
    roots.r[roots.n++] = (struct model_root){lo, hi, kind, flags, 0, 0};
}

/* A thread's range: roots_add's, with the thread named (the holder view). */
void roots_add_thread(uintptr_t lo, uintptr_t hi, unsigned kind, pid_t tid, uintptr_t tp)
{
    size_t n = roots.n;
    roots_add(lo, hi, kind, 0);
    if (roots.n > n) {
        roots.r[n].tid = tid;
        roots.r[n].tp = tp;
    }
}

const struct model_root *roots_get(size_t *n)
{
    *n = roots.n;
    return roots.r;
}

/* Range r's pieces that hold written pages (pagemap.h) into out from
 * out[k], at most limit entries in all: a run of ROOTS_GAP_PAGES
 * unwritten pages or more ends a piece; with one entry left, the rest of
 * r is the last piece.  The new k. */
static size_t roots_cut_written(struct pagemap *pm, const struct model_root *r,
                                struct model_root *out, size_t k, size_t limit)
{
    uintptr_t at = r->lo, lo, end;
    while (k < limit && pagemap_piece(pm, &at, r->hi, ROOTS_GAP_PAGES, &lo, &end)) {
        out[k] = *r;
        out[k].lo = lo;
        if (k + 1 < limit) /* the last entry: the rest whole */
            out[k].hi = end;
        k++;
    }
    return k;
}

/* The ranges the model scans, world stopped (or in the check's fork,
 * whose pages are the parent's at the fork): roots_get's, each private
 * mapping's (MODEL_ROOT_PRIVATE) cut to the pages it ever wrote.  A page
 * never written reads as zeros (a .bss page or an arena's tail never
 * touched) or as its file's bytes as linked: it holds no reference the
 * program made, and reading it would fault it in, on some kernels a page
 * of memory each (tests/shim/leak/sparsemap.c, 320 MiB mapped and one
 * page of each range written: 82,016 faults in place; in place they are
 * the program's own for good).  Shared mappings are
 * read whole: another process may have written them.  The holder view
 * names root words by the ranges as gathered (hold_keep_roots gets
 * roots_get's).  Without pagemap, or without room, roots_get's. */
const struct model_root *roots_written(size_t *n)
{
    static struct pagemap pm; /* one check at a time; its window is 4 KiB */
    *n = roots.n;
    if (!roots.r || (!roots.w && !(roots.w = collect_host->map(ROOTS_CAP * sizeof *roots.w))))
        return roots.r;
    pagemap_open(&pm);
    if (!pm.fd1)
        return roots.r;
    size_t k = 0;
    for (size_t i = 0; i < roots.n; i++) {
        size_t limit = ROOTS_CAP - (roots.n - i - 1); /* room for the rest, one each */
        if (roots.r[i].flags & MODEL_ROOT_PRIVATE)
            k = roots_cut_written(&pm, &roots.r[i], roots.w, k, limit);
        else
            roots.w[k++] = roots.r[i];
    }
    pagemap_close(&pm);
    *n = k;
    return roots.w;
}

void roots_end(void)
{
    collect_host->unmap(roots.r, ROOTS_CAP * sizeof *roots.r);
    collect_host->unmap(roots.w, ROOTS_CAP * sizeof *roots.w);
    roots.r = roots.w = NULL;
    roots.n = 0;
}

/* ---------------- modules ---------------- */

static int roots_contains(const struct dl_phdr_info *info, uintptr_t a)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && a >= lo && a < lo + ph->p_memsz)
            return 1;
    }
    return 0;
}

static int roots_is_libc(const char *name)
{
    const char *base = strrchr(name, '/');
    return !strcmp(base ? base + 1 : name, "libc.so.6");
}

/* The range covered by the loader's PT_LOADs. */
static void roots_note_loader(const struct dl_phdr_info *info)
{
    const char *base = strrchr(info->dlpi_name, '/');
    if (strncmp(base ? base + 1 : info->dlpi_name, "ld-linux", 8) != 0)
        return;
    roots.ld_lo = UINTPTR_MAX;
    roots.ld_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD)
            continue;
        roots.ld_lo = lo < roots.ld_lo ? lo : roots.ld_lo;
        roots.ld_hi = lo + ph->p_memsz > roots.ld_hi ? lo + ph->p_memsz : roots.ld_hi;
    }
}

int roots_in_loader(uintptr_t ip)
{
    return ip >= roots.ld_lo && ip < roots.ld_hi;
}

static int roots_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (roots_contains(info, (uintptr_t)&roots_module)) { /* the shim itself */
        roots.nself = 0;
        for (int i = 0; i < info->dlpi_phnum && roots.nself < 8; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            if (ph->p_type == PT_LOAD) { /* its bss's pages too */
                roots.self[roots.nself].lo = lo;
                roots.self[roots.nself++].hi = (lo + ph->p_memsz + 4095) & ~(uintptr_t)4095;
            }
        }
        return 0;
    }
    unsigned flags = 0;
    if (info->dlpi_name) {
        roots_note_loader(info);
        flags |= rt_note(info) ? MODEL_ROOT_RUNTIME : 0;
        gobj_note(info);
    }
    if (info->dlpi_name && roots_is_libc(info->dlpi_name)) {
        roots.glibc = roots_contains(info, roots.real_malloc);
        flags |= roots.glibc ? MODEL_ROOT_ALLOC_META : 0;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        roots_add(lo, lo + ph->p_memsz, MODEL_ROOT_DATA, flags | MODEL_ROOT_PRIVATE);
    }
    return 0;
}

/* Starts a check's root array with every module's data; 0 or -1.  Call
 * with guard_on set, before the world is stopped. */
int roots_begin(void)
{
    roots.r = collect_host->map(ROOTS_CAP * sizeof *roots.r);
    roots.n = 0;
    if (!roots.r)
        return -1;
    collect_host->loader_enter(); /* dlsym and dl_iterate_phdr take the loader's locks */
    if (!roots.real_malloc)
        roots.real_malloc = (uintptr_t)dlsym(RTLD_NEXT, "malloc");
    roots.glibc = 0;
    gobj_reset();
    rt_reset();
    dl_iterate_phdr(roots_module, NULL);
    collect_host->loader_leave();
    return 0;
}

/* With the world stopped (user_lock held since before the stop): the
 * program's registered ranges. */
void roots_add_user(void)
{
    for (size_t i = 0; i < roots.nuser; i++)
        roots_add(roots.user[i].lo, roots.user[i].hi, MODEL_ROOT_USER, 0);
}

/* ---------------- the program's own mappings ---------------- */

#define ROOTS_CUTS 4096u               /* ranges cut out of one mapping */
#define ROOTS_BLOCKS_MAX 8u            /* more live blocks: an allocator's mapping */
#define ROOTS_HEAP_MAX (64ul << 20)    /* glibc's HEAP_MAX_SIZE (64-bit) */

struct roots_map {
    const struct hsnap_block *b;
    uint64_t n;
    size_t nfixed;                     /* roots before the mappings' */
    struct model_range *cut;           /* ROOTS_CUTS of them (mapped) */
    size_t ncut;
    uintptr_t lo, hi;                  /* the mapping being cut */
    int overflow;
};

static void roots_cut(struct roots_map *m, uintptr_t lo, uintptr_t hi)
{
    lo = lo > m->lo ? lo : m->lo;
    hi = hi < m->hi ? hi : m->hi;
    if (lo >= hi)
        return;
    if (m->ncut == ROOTS_CUTS)
        m->overflow = 1;
    else
        m->cut[m->ncut++] = (struct model_range){lo, hi};
}

static void roots_cut_own(uintptr_t lo, uintptr_t hi, void *arg)
{
    roots_cut(arg, lo, hi);
}

/* glibc's non-main heap: heap_info {ar_ptr, prev, size, mprotect_size}
 * at a 64 MiB-aligned start. */
static int roots_glibc_heap(uintptr_t lo, uintptr_t hi)
{
    uintptr_t h[4];
    if (lo % ROOTS_HEAP_MAX || hi - lo < 64 || !peek(h, lo, sizeof h))
        return 0;
    return h[2] && h[2] <= ROOTS_HEAP_MAX && h[3] >= h[2] &&
           (h[1] ? h[1] % ROOTS_HEAP_MAX == 0 : h[0] - lo < 256);
}

/* The first block whose chunk may end after a. */
static uint64_t roots_first_block(const struct hsnap_block *b, uint64_t n, uintptr_t a)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (b[mid].addr + b[mid].size + ROOTS_CHUNK_HDR <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void roots_sort_cuts(struct model_range *c, size_t n)
{
    for (size_t gap = n / 2; gap; gap /= 2) /* Shell's: no allocation */
        for (size_t i = gap; i < n; i++)
            for (size_t j = i; j >= gap && c[j - gap].lo > c[j].lo; j -= gap) {
                struct model_range t = c[j];
                c[j] = c[j - gap];
                c[j - gap] = t;
            }
}

static void roots_map_line(const struct procmaps_line *l, void *arg)
{
    struct roots_map *m = arg;
    if (!procmaps_programs_rw(l) || l->hi <= l->lo || stop_is_thread_stack(l->lo, l->hi) ||
        roots_glibc_heap(l->lo, l->hi))
        return;
    m->lo = l->lo;
    m->hi = l->hi;
    m->ncut = 0;
    m->overflow = 0;
    uint64_t i = roots_first_block(m->b, m->n, l->lo), k = 0;
    for (; i < m->n && m->b[i].addr < l->hi + ROOTS_CHUNK_HDR; i++, k++) {
        if (k == ROOTS_BLOCKS_MAX)
            return; /* the allocator's */
        uintptr_t end = (m->b[i].addr + m->b[i].size + 15) & ~(uintptr_t)15;
        roots_cut(m, m->b[i].addr - ROOTS_CHUNK_HDR, end);
    }
    for (size_t r = 0; r < m->nfixed; r++)
        roots_cut(m, roots.r[r].lo, roots.r[r].hi);
    for (size_t r = 0; r < roots.nself; r++)
        roots_cut(m, roots.self[r].lo, roots.self[r].hi);
    collect_host->own_maps(roots_cut_own, m);
    if (m->overflow)
        return;
    roots_sort_cuts(m->cut, m->ncut);
    const char *perm = memchr(l->text, ' ', l->len); /* " rw-p": private */
    unsigned flags = perm && perm[4] == 'p' ? MODEL_ROOT_PRIVATE : 0;
    uintptr_t at = l->lo;
    for (size_t c = 0; c < m->ncut; c++) {
        if (m->cut[c].lo > at)
            roots_add(at, m->cut[c].lo, MODEL_ROOT_MAPPED, flags);
        if (m->cut[c].hi > at)
            at = m->cut[c].hi;
    }
    if (at < l->hi)
        roots_add(at, l->hi, MODEL_ROOT_MAPPED, flags);
}

/* With the world stopped, after every other root (see the top). */
void roots_add_mapped(const struct hsnap_block *b, uint64_t n)
{
    static char buf[8192]; /* one check at a time */
    struct roots_map m = {b, n, roots.n, NULL, 0, 0, 0, 0};
    if (!roots.r || roots.mapped_off)
        return;
    if (collect_host->own_maps(roots_cut_own, &(struct roots_map){0}) != 0) {
        collect_host->debug("the shim's mappings are not all listed: the program's own "
                            "mappings are not roots", "", "");
        return;
    }
    m.cut = collect_host->map(ROOTS_CUTS * sizeof *m.cut);
    if (!m.cut)
        return;
    collect_host->own_maps_hold(); /* a shim mapping seen unlisted would be a root */
    procmaps_each(buf, sizeof buf, roots_map_line, &m);
    collect_host->own_maps_release();
    collect_host->unmap(m.cut, ROOTS_CUTS * sizeof *m.cut);
}

/* ---------------- model services ---------------- */

/* The glibc rule (see the top); b is a block the word points into. */
static int roots_is_meta(uintptr_t word, const struct hsnap_block *b, void *ctx)
{
    uint64_t size;
    memcpy(&size, (const char *)(uintptr_t)b->addr - 8, sizeof size);
    if (size & ROOTS_MMAPPED)
        return 0;
    return word == b->addr - ROOTS_CHUNK_HDR + (size & ~(uint64_t)7);
}

static void *roots_alloc(size_t n, void *ctx)
{
    return collect_host->map(n);
}

static void roots_free(void *p, size_t n, void *ctx)
{
    collect_host->unmap(p, n);
}

/* The model's memory is whole mappings (no lock: the world may be stopped
 * with any thread anywhere); is_alloc_meta only when glibc allocates. */
void roots_set_ops(struct model_ops *ops)
{
    ops->alloc = roots_alloc;
    ops->free = roots_free;
    ops->is_alloc_meta = roots.glibc ? roots_is_meta : NULL;
    ops->ctx = NULL;
}

void roots_set_mapped(int on)
{
    roots.mapped_off = !on;
}

/* ---------------- user roots ---------------- */

/* The registered ranges have a lock of their own, not the snapshot's:
 * pymalloc asks for an arena (py_arena_alloc) while the helper writes a
 * state document under the snapshot lock, and the host's thread waited
 * for the whole document.  The check takes it from before the stop to
 * the resume (collect_begin, collect_end), so that no thread is stopped
 * halfway through a change, and fork's prepare after the snapshot lock
 * and the loader's gate; a writer takes nothing else but arena_map's
 * lock, which both take after this one. */
void roots_user_lock(void)
{
    lock_take(&roots.user_lock);
}

void roots_user_unlock(void)
{
    lock_drop(&roots.user_lock);
}

int roots_register(const void *p, size_t len)
{
    uintptr_t lo = (uintptr_t)p;
    int r = -1;
    if (!p || !len || lo + len < lo)
        return -1;
    roots_user_lock();
    if (roots.nuser == ROOTS_USER_MAX)
        goto out;
    if (!roots.user && !(roots.user = arena_map(ROOTS_USER_MAX * sizeof *roots.user)))
        goto out; /* arena_map warned */
    roots.user[roots.nuser].lo = lo;
    roots.user[roots.nuser].hi = lo + len;
    roots.nuser++;
    r = 0;
out:
    roots_user_unlock();
    return r;
}

int roots_unregister(const void *p, size_t len)
{
    int r = -1;
    roots_user_lock();
    for (size_t i = 0; i < roots.nuser; i++) {
        if (roots.user[i].lo == (uintptr_t)p &&
            (!len || roots.user[i].hi - roots.user[i].lo == len)) {
            roots.user[i] = roots.user[--roots.nuser];
            r = 0;
            break;
        }
    }
    roots_user_unlock();
    return r;
}
