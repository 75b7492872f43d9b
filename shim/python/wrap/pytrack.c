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
#include "python.h"

/* The modules a walk finished, by their place in dl_iterate_phdr's list
 * and their base: the loader appends a dlopen's modules, so the next walk
 * (each extension's dlopen makes one) skips the ones it finds at the same
 * place with the same base, while no module was unloaded meanwhile
 * (dlpi_subs), where it read every relocation of every module again: a
 * process that loads hundreds of libraries (import torch) read libtorch's
 * hundreds of thousands at each of them.  A place that differs ends the
 * skipping: every module from there is walked, and rewriting an entry
 * already ours is no change (pt_entry). */
#define PT_KNOWN 1024u

static struct {
    lock_t walk;             /* the GOT walks */
    int (*track)(unsigned, uintptr_t, size_t);
    int (*untrack)(unsigned, uintptr_t);
    void *(*dlopen)(const char *, int);
    uintptr_t track_at;      /* the interpreter's PyTraceMalloc_Track: its module */
    unsigned long long adds; /* the loader's count at the last walk */
    unsigned long long subs; /* ... and of unloads */
    unsigned nknown;         /* known[0..nknown): finished, the list's first modules */
    uintptr_t known[PT_KNOWN]; /* their dlpi_addr */
} pt;

/* One walk's place in the list (pt_module's argument). */
struct pt_walking {
    unsigned at;             /* the module's place */
    unsigned done;           /* the first `done` modules are finished */
    int skip;                /* the list still matches known[] */
    unsigned long long subs; /* pt.subs when the walk began */
    int pending;             /* a module another thread's dlopen has not finished */
};

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
    struct pt_walking *w = arg;
    unsigned at = w->at++;
    pt.adds = info->dlpi_adds;
    w->skip = w->skip && info->dlpi_subs == w->subs && at < pt.nknown &&
              pt.known[at] == info->dlpi_addr;
    int finished = 1;
    if (!w->skip && !gotw_holds(info, (uintptr_t)pytrack_track)) {
        int interp = gotw_holds(info, pt.track_at);
        finished = !gotw_module(info, pt_names, interp && pt.dlopen ? 3 : 2, pt_entry, NULL);
        w->pending |= !finished;
    }
    if (finished && w->done == at && at < PT_KNOWN) {
        pt.known[at] = info->dlpi_addr;
        w->done = at + 1;
    }
    pt.subs = info->dlpi_subs;
    return 0;
}

/* Every module loaded since the last walk (all of them, the first time). */
static void pt_walk(void)
{
    int saved = guard_enter();
    unsigned long long adds = gotw_adds();
    lock_take(&pt.walk);
    struct pt_walking w = {.skip = 1, .subs = pt.subs};
    if (adds != pt.adds) {
        loader_iterate_phdr(pt_module, &w);
        pt.nknown = w.done;
    }
    if (w.pending)
        pt.adds = ~0ull; /* walked again next time */
    lock_drop(&pt.walk);
    guard_leave(saved);
}

/* The interpreter's dlopen: the extension's entries before its PyInit.
 * While it runs, the stacks of the allocations its constructors make are
 * spliced outward of this frame once (frames/window.c): its CFA bounds
 * them. */
static void *pytrack_dlopen(const char *file, int mode)
{
    const uintptr_t *f = __builtin_frame_address(0);
    uintptr_t win = pyfr_window_enter((uintptr_t)(f + 2));
    void *h = pt.dlopen(file, mode);
    pyfr_window_leave(win);
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
