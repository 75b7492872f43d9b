/*
 * pytrack.c - tracemalloc's domains: a block that a C extension tracks
 * with PyTraceMalloc_Track(domain, ptr, size) (numpy: domain 389047 for
 * its arrays' data) keeps that domain, which heapsnap_dump hands over
 * (dump_domains, pyw_domain_of), so the Python package's DomainFilter sees it.
 *
 * Why GOT entries: Debian's python3 is a static build whose executable
 * defines PyTraceMalloc_Track, and the executable comes first in the
 * lookup order, so a preloaded definition is never what an extension's
 * call reaches (memray rewrites the same entries for the same reason).
 * Once the allocator domains are wrapped (dom_poll), every loaded module's
 * JUMP_SLOT and GLOB_DAT entries (gotw_module's walk) against
 * PyTraceMalloc_Track and _Untrack are rewritten to ours, which call the
 * interpreter's after (so a running tracemalloc still gets them); and the
 * interpreter module's entry to dlopen, the one CPython loads extensions
 * with, goes to pytrack_dlopen, which rewrites the new modules' entries
 * before their PyInit runs (CPython passes dlopen a path with a '/', so the
 * caller glibc sees, the shim, changes no search).  Domains:
 * python/wrap/pydomain.c.  Not in the attach build (got_hook owns dlopen there).
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>

#include "base.h"
#include "pywrap.h"

static struct {
    lock_t walk;             /* the GOT walks */
    int (*track)(unsigned, uintptr_t, size_t);
    int (*untrack)(unsigned, uintptr_t);
    void *(*dlopen)(const char *, int);
    uintptr_t track_at;      /* the interpreter's PyTraceMalloc_Track: its module */
    unsigned long long adds; /* the loader's count at the last walk */
} pt;

static int pytrack_track(unsigned domain, uintptr_t p, size_t size)
{
    pyw_domain_set(domain, p, size);
    return pt.track(domain, p, size);
}

static int pytrack_untrack(unsigned domain, uintptr_t p)
{
    pyw_domain_unset(domain, p);
    return pt.untrack(domain, p);
}

/* ---------------- the GOT entries ---------------- */

static void *pytrack_dlopen(const char *file, int mode);

/* The names rewritten; dlopen's only in the interpreter's module. */
static const char *const pt_names[] = {"PyTraceMalloc_Track", "PyTraceMalloc_Untrack", "dlopen"};

static void pt_entry(void **at, unsigned k, const struct gotw_mod *m, void *arg)
{
    void *ours = k == 0 ? (void *)pytrack_track : k == 1 ? (void *)pytrack_untrack
                                                          : (void *)pytrack_dlopen;
    (void)arg;
    if (__atomic_load_n(at, __ATOMIC_ACQUIRE) != ours)
        gotw_write(at, ours, m);
}

static int pt_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    pt.adds = info->dlpi_adds;
    if (gotw_holds(info, (uintptr_t)pytrack_track))
        return 0;
    int interp = gotw_holds(info, pt.track_at);
    if (gotw_module(info, pt_names, interp && pt.dlopen ? 3 : 2, pt_entry, NULL))
        *(int *)arg = 1;
    return 0;
}

/* Every module loaded since the last walk (all of them, the first time). */
static void pt_walk(void)
{
    int saved = guard_enter();
    unsigned long long adds = gotw_adds();
    lock_take(&pt.walk);
    int pending = 0; /* a module another thread's dlopen has not finished */
    if (adds != pt.adds)
        loader_iterate_phdr(pt_module, &pending);
    if (pending)
        pt.adds = ~0ull; /* walked again next time */
    lock_drop(&pt.walk);
    guard_leave(saved);
}

/* The interpreter's dlopen: the extension's entries before its PyInit. */
static void *pytrack_dlopen(const char *file, int mode)
{
    void *h = pt.dlopen(file, mode);
    if (h)
        pt_walk();
    return h;
}

static void pytrack_prepare(void)
{
    pyw_domain_fork(0);
}

static void pytrack_parent(void)
{
    pyw_domain_fork(1);
}

static void pytrack_child(void)
{
    pyw_domain_fork(2);
}

/* The domains wrapped (dom_poll): the interpreter's functions found, every
 * loaded module's entries rewritten.  Once. */
void pyw_track_arm(void *(*lookup)(const char *))
{
    static int armed;
#ifdef HEAPSNAP_ATTACH_BUILD
    armed = 1;
#endif
    if (armed)
        return;
    armed = 1;
    loader_enter(); /* dlsym takes the loader's lock */
    pt.track = (int (*)(unsigned, uintptr_t, size_t))lookup("PyTraceMalloc_Track");
    pt.untrack = (int (*)(unsigned, uintptr_t))lookup("PyTraceMalloc_Untrack");
    pt.dlopen = (void *(*)(const char *, int))lookup("dlopen");
    loader_leave();
    if (!pt.track || !pt.untrack)
        return;
    pt.track_at = (uintptr_t)pt.track;
    pt.adds = ~0ull;
    pthread_atfork(pytrack_prepare, pytrack_parent, pytrack_child);
    pt_walk();
}
