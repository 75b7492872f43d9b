/*
 * roots.c - the leak check's root ranges other than threads: the writable
 * PT_LOAD segments of every loaded module (executable, libraries, dlopened
 * ones), the program's registered roots (heapsnap_register_root), and the
 * rule that tells glibc's own bookkeeping from references.
 *
 * Module ranges are gathered with dl_iterate_phdr, which takes the loader
 * lock and may allocate, so roots_begin runs before the world is stopped;
 * thread and user ranges are added afterwards, into the same array (shim
 * memory from mmap: it is not itself a root).  The shim's own segments are
 * left out: its tables and buffers hold block addresses.
 *
 * glibc keeps pointers into its heap in its .data (main_arena's top chunk,
 * bins): the top pointer lands inside the last block carved from the top
 * whenever the request used the chunk's last bytes (malloc(24) in a
 * 32-byte chunk), and would make a leaked block reachable.  When the real
 * malloc is glibc's (it lies in libc.so.6), libc's writable segments are
 * flagged MODEL_ROOT_ALLOC_META, and a word there that equals the address
 * of the chunk after block b (b - 16 + chunk size, from b's size field) is
 * not a reference to b.  Mmapped chunks (size bit 0x2) are never followed
 * by another chunk, so the rule does not apply to them.
 *
 * The dynamic loader's own blocks (link maps, scope arrays, DTVs, the
 * dl_find_object segments, which it keeps through 64-byte-aligned interior
 * pointers) are its bookkeeping, not the program's: roots_in_loader tells
 * collect.c which allocation sites lie in ld.so, and their blocks are
 * treated as ignored (roots themselves, never reported).
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "inner.h"

#define ROOTS_CAP 16384u      /* ranges per check (modules, threads, user) */
#define ROOTS_USER_MAX 8192u  /* heapsnap_register_root ranges (and pymalloc arenas) */
#define ROOTS_CHUNK_HDR 16u   /* glibc: prev_size + size before user memory */
#define ROOTS_MMAPPED 0x2u    /* glibc chunk size bit: IS_MMAPPED */

static struct {
    struct model_root *r;      /* this check's ranges (mapped) */
    size_t n;
    int full_warned;
    uintptr_t real_malloc;     /* dlsym(RTLD_NEXT, "malloc") */
    int glibc;                 /* the real malloc is in libc.so.6 */
    uintptr_t ld_lo, ld_hi;    /* the dynamic loader's text and data */
    struct { uintptr_t lo, hi; } user[ROOTS_USER_MAX]; /* callers serialise */
    size_t nuser;
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
    roots.r[roots.n++] = (struct model_root){lo, hi, kind, flags};
}

const struct model_root *roots_get(size_t *n)
{
    *n = roots.n;
    return roots.r;
}

void roots_end(void)
{
    collect_host->unmap(roots.r, ROOTS_CAP * sizeof *roots.r);
    roots.r = NULL;
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
    if (roots_contains(info, (uintptr_t)&roots_module))
        return 0; /* the shim itself */
    unsigned flags = 0;
    if (info->dlpi_name)
        roots_note_loader(info);
    if (info->dlpi_name && roots_is_libc(info->dlpi_name)) {
        roots.glibc = roots_contains(info, roots.real_malloc);
        flags = roots.glibc ? MODEL_ROOT_ALLOC_META : 0;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        roots_add(lo, lo + ph->p_memsz, MODEL_ROOT_DATA, flags);
    }
    return 0;
}

/* Starts a check's root array with every module's data; 0 or -1.  Call
 * with hook_guard set, before the world is stopped. */
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
    dl_iterate_phdr(roots_module, NULL);
    collect_host->loader_leave();
    return 0;
}

/* With the world stopped: the program's registered ranges. */
void roots_add_user(void)
{
    for (size_t i = 0; i < roots.nuser; i++)
        roots_add(roots.user[i].lo, roots.user[i].hi, MODEL_ROOT_USER, 0);
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

/* ---------------- user roots (callers serialise) ---------------- */

int roots_register(const void *p, size_t len)
{
    uintptr_t lo = (uintptr_t)p;
    if (!p || !len || lo + len < lo || roots.nuser == ROOTS_USER_MAX)
        return -1;
    roots.user[roots.nuser].lo = lo;
    roots.user[roots.nuser].hi = lo + len;
    roots.nuser++;
    return 0;
}

int roots_unregister(const void *p, size_t len)
{
    for (size_t i = 0; i < roots.nuser; i++) {
        if (roots.user[i].lo == (uintptr_t)p &&
            (!len || roots.user[i].hi - roots.user[i].lo == len)) {
            roots.user[i] = roots.user[--roots.nuser];
            return 0;
        }
    }
    return -1;
}
