/*
 * got.c - after an attach, the process's modules reach the hooks through
 * their GOT entries (heaptrack's inject approach): each module's
 * JUMP_SLOT and GLOB_DAT relocations against the malloc family (and
 * dlopen) are found from its PT_DYNAMIC, and the entry they filled is
 * rewritten to the shim's function, its old value kept; got_unhook puts
 * every kept value back.  The shim itself, the loader and the vDSO are
 * left alone; the walk over a module's entries (and the write into a
 * RELRO page) is gotw_module's.  Everything runs under got.lock: the attach, a dlopen's new
 * modules (got_dlopen, or the control thread's poll), and the detach.
 *
 * dlopen: glibc takes the caller's module from the return address (its
 * RUNPATH, $ORIGIN), so the wrapper can look at the new modules afterwards
 * only for a path that does not depend on the caller (one with a '/' and
 * no '$'); any other call is a tail call, and got_poll (the control
 * thread, and got_dlopen) finds those modules by the loader's count.
 * dlsym: a name of the malloc family that finds the real allocator's
 * function gets the hook's (ctypes' `CDLL(None).malloc` calls it by its
 * address, through no GOT); any other lookup is a tail call.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "latestart.h"

#define GOT_CHUNK 256u

struct got_slot {
    void **at;  /* the entry */
    void *orig; /* what it held */
    void *ours; /* what we wrote */
};

struct got_chunk {
    struct got_chunk *next;
    unsigned n;
    struct got_slot s[GOT_CHUNK];
};

/* The names rewritten, and the shim's function for each (got_init). */
static const char *const got_names[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "malloc_usable_size", "dlopen", "dlsym",
};
#define GOT_NNAMES (sizeof got_names / sizeof *got_names)
#define GOT_DLOPEN (GOT_NNAMES - 2)
#define GOT_DLSYM (GOT_NNAMES - 1)

static struct {
    lock_t lock;
    void *ours[GOT_NNAMES];
    void *(*real_dlopen)(const char *, int);
    void *(*real_dlsym)(void *, const char *);
    void *real[GOT_DLOPEN]; /* the malloc family's next definitions (got_dlsym) */
    uintptr_t self_base;  /* this library's load address: never rewritten */
    struct got_chunk *slots;
    unsigned long long adds; /* the loader's count of loads when last walked */
    int hooked;           /* between got_hook and got_unhook */
    unsigned modules;     /* modules with an entry rewritten */
    unsigned entries;
} got;

static void *got_dlopen(const char *file, int mode);
static void *got_dlsym(void *handle, const char *name);

/* The loader's text: the hooks forward its calls at once. */
static int got_loader(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    if (!info->dlpi_name || (!strstr(info->dlpi_name, "/ld-linux") &&
                             !strstr(info->dlpi_name, "/ld64.so")))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X)) {
            hook_loader_lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            hook_loader_hi = hook_loader_lo + info->dlpi_phdr[i].p_memsz;
        }
    return 1;
}

/* The shim's own definitions: its handle's lookup finds them first (a
 * reference to malloc from inside the shim would bind to the process's). */
int got_init(void)
{
    loader_iterate_phdr(got_loader, NULL);
    Dl_info me;
    if (!dladdr((void *)got_init, &me) || !me.dli_fname)
        return -1;
    got.self_base = (uintptr_t)me.dli_fbase;
    void *self = dlopen(me.dli_fname, RTLD_NOLOAD | RTLD_NOW);
    if (!self)
        return -1;
    for (unsigned i = 0; i < GOT_DLOPEN; i++) {
        if (!(got.ours[i] = dlsym(self, got_names[i])))
            return -1;
        got.real[i] = hook_real_sym(got_names[i]);
    }
    got.ours[GOT_DLOPEN] = (void *)got_dlopen;
    got.ours[GOT_DLSYM] = (void *)got_dlsym;
    got.real_dlopen = (void *(*)(const char *, int))hook_real_sym("dlopen");
    got.real_dlsym = (void *(*)(void *, const char *))hook_real_sym("dlsym");
    return got.real_dlopen && got.real_dlsym ? 0 : -1;
}

static struct got_slot *got_find(void **at)
{
    for (struct got_chunk *c = got.slots; c; c = c->next)
        for (unsigned i = 0; i < c->n; i++)
            if (c->s[i].at == at)
                return &c->s[i];
    return NULL;
}

static struct got_slot *got_new_slot(void)
{
    if (!got.slots || got.slots->n == GOT_CHUNK) {
        struct got_chunk *c = arena_alloc(sizeof *c);
        if (!c)
            return NULL;
        c->next = got.slots;
        got.slots = c;
    }
    return &got.slots->s[got.slots->n++];
}

struct got_walk {
    int unhook;  /* 1: put back, 0: rewrite */
    int touched; /* an entry of this module was written */
    int pending; /* a module another thread's dlopen has not finished */
};

/* One entry of a module against names[k]: rewritten, or put back. */
static void got_entry(void **at, unsigned k, const struct gotw_mod *m, void *arg)
{
    struct got_walk *w = arg;
    struct got_slot *s = got_find(at);
    void *now = __atomic_load_n(at, __ATOMIC_ACQUIRE);
    if (w->unhook) {
        if (s && now == s->ours && gotw_write(at, s->orig, m) == 0)
            w->touched = 1;
        return;
    }
    if (now == got.ours[k])
        return; /* done already */
    if (!s && !(s = got_new_slot()))
        return;
    s->at = at;
    s->orig = now;
    s->ours = got.ours[k];
    if (gotw_write(at, s->ours, m) == 0) {
        got.entries++;
        w->touched = 1;
    }
}

static int got_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct got_walk *w = arg;
    (void)size;
    got.adds = info->dlpi_adds;
    if (info->dlpi_addr == got.self_base)
        return 0;
    w->touched = 0;
    w->pending |= gotw_module(info, got_names, GOT_NNAMES, got_entry, w);
    if (w->touched && !w->unhook)
        got.modules++;
    return 0;
}

/* A module left unfinished keeps got.adds short of the loader's count:
 * the next got_poll walks again and finds it relocated. */
static void got_walk_all(int unhook)
{
    struct got_walk w = {unhook, 0, 0};
    loader_iterate_phdr(got_module, &w);
    if (w.pending)
        __atomic_store_n(&got.adds, 0, __ATOMIC_RELAXED);
}

/* Every loaded module's entries to the hooks; how many were rewritten. */
unsigned got_hook(void)
{
    int saved = guard_enter();
    lock_take(&got.lock);
    got.hooked = 1;
    got_walk_all(0);
    unsigned n = got.entries;
    lock_drop(&got.lock);
    guard_leave(saved);
    return n;
}

/* Modules loaded since the last walk get their entries rewritten. */
void got_poll(void)
{
    int saved = guard_enter();
    unsigned long long adds = gotw_adds();
    if (adds != __atomic_load_n(&got.adds, __ATOMIC_RELAXED)) {
        lock_take(&got.lock);
        if (got.hooked)
            got_walk_all(0);
        lock_drop(&got.lock);
    }
    guard_leave(saved);
}

/* Every entry put back (a module unloaded since is not touched: only
 * entries of modules still loaded that still hold ours). */
void got_unhook(void)
{
    int saved = guard_enter();
    lock_take(&got.lock);
    got.hooked = 0;
    got_walk_all(1);
    lock_drop(&got.lock);
    guard_leave(saved);
}

void got_counts(unsigned *modules, unsigned *entries)
{
    *modules = got.modules;
    *entries = got.entries;
}

/* The dlopen the process's modules reach while attached. */
static void *got_dlopen(const char *file, int mode)
{
    if (!file || !strchr(file, '/') || strchr(file, '$'))
        return got.real_dlopen(file, mode); /* a tail call: the caller stays the caller */
    void *h = got.real_dlopen(file, mode);
    if (h && __atomic_load_n(&got.hooked, __ATOMIC_RELAXED))
        got_poll();
    return h;
}

/* The dlsym the process's modules reach while attached.  A lookup of the
 * malloc family is made from here (the caller's scope is then the
 * shim's: the global scope, where the real allocator is found alike), so
 * that the real function found can be swapped for the hook; a function
 * found elsewhere (another allocator) is left as it is. */
static void *got_dlsym(void *handle, const char *name)
{
    unsigned k = GOT_DLOPEN;
    if (handle != RTLD_NEXT && name)
        for (k = 0; k < GOT_DLOPEN && strcmp(name, got_names[k]); k++)
            ;
    if (k == GOT_DLOPEN)
        return got.real_dlsym(handle, name); /* a tail call: the caller stays the caller */
    void *f = got.real_dlsym(handle, name);
    return f && f == got.real[k] && __atomic_load_n(&got.hooked, __ATOMIC_RELAXED) ? got.ours[k]
                                                                                   : f;
}
