/*
 * got.c - after an attach, the process's modules reach the hooks through
 * their GOT entries (heaptrack's inject approach): each module's
 * JUMP_SLOT and GLOB_DAT relocations against the malloc family (and
 * dlopen) are found from its PT_DYNAMIC, and the entry they filled is
 * rewritten to the shim's function, its old value kept; got_unhook puts
 * every kept value back.  The shim itself, the loader and the vDSO are
 * left alone.  An entry in a RELRO page is written between two mprotect
 * calls.  Everything runs under got.lock: the attach, a dlopen's new
 * modules (got_dlopen, or the control thread's poll), and the detach.
 *
 * dlopen: glibc takes the caller's module from the return address (its
 * RUNPATH, $ORIGIN), so the wrapper can look at the new modules afterwards
 * only for a path that does not depend on the caller (one with a '/' and
 * no '$'); any other call is a tail call, and got_poll (the control
 * thread, and got_dlopen) finds those modules by the loader's count.
 */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attach.h"

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
    "memalign", "valloc", "pvalloc", "malloc_usable_size", "dlopen",
};
#define GOT_NNAMES (sizeof got_names / sizeof *got_names)
#define GOT_DLOPEN (GOT_NNAMES - 1)

static struct {
    lock_t lock;
    void *ours[GOT_NNAMES];
    void *(*real_dlopen)(const char *, int);
    uintptr_t self_base;  /* this library's load address: never rewritten */
    struct got_chunk *slots;
    unsigned long long adds; /* the loader's count of loads when last walked */
    int hooked;           /* between got_hook and got_unhook */
    unsigned modules;     /* modules with an entry rewritten */
    unsigned entries;
} got;

static void *got_dlopen(const char *file, int mode);

/* The loader's text: hooks.c forwards its calls at once. */
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
    for (unsigned i = 0; i < GOT_DLOPEN; i++)
        if (!(got.ours[i] = dlsym(self, got_names[i])))
            return -1;
    got.ours[GOT_DLOPEN] = (void *)got_dlopen;
    got.real_dlopen = (void *(*)(const char *, int))hook_real_sym("dlopen");
    return got.real_dlopen ? 0 : -1;
}

static int got_name_index(const char *name)
{
    for (unsigned i = 0; i < GOT_NNAMES; i++)
        if (!strcmp(name, got_names[i]))
            return (int)i;
    return -1;
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

/* The RELRO range of a module, page-rounded ([0, 0) when none). */
static void got_relro(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
    size_t page = (size_t)getpagesize();
    *lo = *hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            uintptr_t a = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            *lo = a & ~(page - 1);
            *hi = (a + info->dlpi_phdr[i].p_memsz) & ~(page - 1); /* the linker pads it */
        }
}

/* Writes v into *at, opening a RELRO page for the write; 0 or -1. */
static int got_write(void **at, void *v, uintptr_t rlo, uintptr_t rhi)
{
    uintptr_t a = (uintptr_t)at, page = (uintptr_t)getpagesize();
    int ro = a >= rlo && a < rhi;
    void *pg = (void *)(a & ~(page - 1));
    if (ro && mprotect(pg, page, PROT_READ | PROT_WRITE) != 0)
        return -1;
    __atomic_store_n(at, v, __ATOMIC_RELEASE);
    if (ro)
        mprotect(pg, page, PROT_READ);
    return 0;
}

/* A dynamic entry's address: the loader relocates most in place, not all. */
static uintptr_t got_dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
    return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

struct got_walk {
    int unhook; /* 1: put back, 0: rewrite */
};

/* One relocation table of a module: each entry against a name of ours. */
static void got_rela(const struct dl_phdr_info *info, const ElfW(Rela) *r, size_t n,
                     const ElfW(Sym) *sym, const char *str, int unhook, uintptr_t rlo,
                     uintptr_t rhi, int *touched)
{
    for (size_t i = 0; i < n; i++) {
        unsigned type = ELF64_R_TYPE(r[i].r_info), si = ELF64_R_SYM(r[i].r_info);
        if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) || !si)
            continue;
        int k = got_name_index(str + sym[si].st_name);
        if (k < 0)
            continue;
        void **at = (void **)(info->dlpi_addr + r[i].r_offset);
        struct got_slot *s = got_find(at);
        void *now = __atomic_load_n(at, __ATOMIC_ACQUIRE);
        if (unhook) {
            if (s && now == s->ours && got_write(at, s->orig, rlo, rhi) == 0)
                *touched = 1;
            continue;
        }
        if (now == got.ours[k])
            continue; /* done already */
        if (!s && !(s = got_new_slot()))
            continue;
        s->at = at;
        s->orig = now;
        s->ours = got.ours[k];
        if (got_write(at, s->ours, rlo, rhi) == 0) {
            got.entries++;
            *touched = 1;
        }
    }
}

static int got_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    const struct got_walk *w = arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    const ElfW(Dyn) *dyn = NULL;
    (void)size;
    got.adds = info->dlpi_adds;
    if (info->dlpi_addr == got.self_base || strstr(name, "linux-vdso") ||
        strstr(name, "/ld-linux") || strstr(name, "/ld64.so"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn)
        return 0;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    const ElfW(Rela) *jmp = NULL, *rela = NULL;
    size_t njmp = 0, nrela = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: sym = (const ElfW(Sym) *)got_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_STRTAB: str = (const char *)got_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_JMPREL: jmp = (const ElfW(Rela) *)got_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: njmp = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        case DT_RELA: rela = (const ElfW(Rela) *)got_dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_RELASZ: nrela = dyn->d_un.d_val / sizeof(ElfW(Rela)); break;
        default: break;
        }
    }
    if (!sym || !str)
        return 0;
    uintptr_t rlo, rhi;
    int touched = 0;
    got_relro(info, &rlo, &rhi);
    if (jmp)
        got_rela(info, jmp, njmp, sym, str, w->unhook, rlo, rhi, &touched);
    if (rela)
        got_rela(info, rela, nrela, sym, str, w->unhook, rlo, rhi, &touched);
    if (touched && !w->unhook)
        got.modules++;
    return 0;
}

static void got_walk_all(int unhook)
{
    struct got_walk w = {unhook};
    loader_iterate_phdr(got_module, &w);
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

static int got_count(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    *(unsigned long long *)arg = info->dlpi_adds;
    return 1;
}

/* Modules loaded since the last walk get their entries rewritten. */
void got_poll(void)
{
    unsigned long long adds = 0;
    int saved = guard_enter();
    loader_iterate_phdr(got_count, &adds);
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
