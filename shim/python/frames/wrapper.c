/*
 * wrapper.c - the modules whose code allocates on its caller's behalf,
 * told by address: the C runtime (libc's strdup, fopen, opendir,
 * getaddrinfo...) and GLib's allocation layer (g_malloc, g_slice,
 * g_strdup, its lists and tables).  HEAPSNAP_PYTHON_NATIVE=caller keeps
 * one native frame under a Python stack, the allocator's caller; where
 * that caller lies in one of these, the frame names no code of the
 * program's, and what names the caller's caller could not match: libnl's
 * suppression (__trans_list_add under strdup) and the leak check's
 * GObject rule (gobject.c: the first frame outside libglib).  stack.c
 * then follows such a caller outward to the first frame outside them
 * (pyfr_caller_wrapped).
 *   Not the C++ runtime, though its operator new is the same kind of
 * caller: `import torch` makes most of its 2.3M allocations with new
 * under one Python line, and following them made 478k traces where 418k
 * do, 50.4 MiB of the shim's own memory where 44.6 do, and 7% more wall
 * time (docs/performance-python.md), the price the mode is there to
 * avoid.  A C++ block under Python code reads `operator new` then, and
 * `trim` keeps its callers.
 *
 * The module of an address comes from the loader's _dl_find_object
 * (glibc 2.35 on): lock-free and async-signal-safe, made for unwinders,
 * so a hook may ask it with the loader busy on another thread.  Without
 * it (an older glibc) no caller is followed: the one frame, as before.
 * The thread's last answer is kept by the module's range: callers come
 * from a few modules.  libc and GLib are seldom unloaded; a range
 * unloaded and reused by another module could answer wrongly until the
 * thread asks outside it, which costs a frame's walk or one left out,
 * never a wrong frame (the frames kept are the walk's).
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "pyframes.h"

#ifdef DLFO_STRUCT_HAS_EH_DBASE /* <dlfcn.h> of glibc 2.35 on */
typedef int (*pyfr_dlfo_fn)(void *pc, struct dl_find_object *r);
static pyfr_dlfo_fn pyfr_dlfo;

static __thread struct {
    uintptr_t lo, hi; /* the last module asked about: [lo, hi) */
    int wrap;
} pyfr_wrap_last;

/* The runtimes' sonames, by prefix of the module's file name. */
static int pyfr_wrap_name(const char *path)
{
    static const char *const names[] = {"libc.so.", "libglib-2.0.so."};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strncmp(base, names[i], strlen(names[i])))
            return 1;
    return 0;
}

void pyfr_wrap_setup(void)
{
    pyfr_dlfo = (pyfr_dlfo_fn)dlsym(RTLD_DEFAULT, "_dl_find_object");
}

int pyfr_wrapped(uintptr_t ra)
{
    uintptr_t ip = ra - 1; /* the call, not what follows it */
    if (ip - pyfr_wrap_last.lo < pyfr_wrap_last.hi - pyfr_wrap_last.lo)
        return pyfr_wrap_last.wrap;
    struct dl_find_object o;
    if (!pyfr_dlfo || pyfr_dlfo((void *)ip, &o) != 0)
        return 0;
    const struct link_map *m = o.dlfo_link_map;
    int wrap = m && m->l_name && pyfr_wrap_name(m->l_name);
    pyfr_wrap_last.lo = (uintptr_t)o.dlfo_map_start;
    pyfr_wrap_last.hi = (uintptr_t)o.dlfo_map_end;
    pyfr_wrap_last.wrap = wrap;
    return wrap;
}
#else
void pyfr_wrap_setup(void)
{
}

int pyfr_wrapped(uintptr_t ra)
{
    (void)ra;
    return 0;
}
#endif
