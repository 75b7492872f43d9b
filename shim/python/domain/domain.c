/*
 * domain.c - CPython found in the process, and its MEM and OBJ allocator
 * domains wrapped, as tracemalloc wraps them: pymalloc stays on, and each
 * object it hands out is a block of ours, charged where the program asked
 * for it.  The RAW domain is malloc itself and already reaches the hooks.
 *   Counting once: a wrapper calls the original with guard_on set, so
 * what pymalloc takes from malloc underneath passes untracked, and a block
 * it frees or resizes there, taken off the books just before, goes straight
 * to the real free or realloc (defer_offbook; a small one's resize is a
 * copy, hook_realloc_defers).  Objects made before the wrap are not blocks,
 * unless they were malloc'd (RAW blocks, off the books at their free) or
 * lie dead on a free list at the wrap (pyw_preseed books them).
 * docs/design.md, "Python processes".
 *   When: the symbols are looked up once, in the constructor
 * (dlsym(RTLD_DEFAULT)), when the executable is python* or a libpython* is
 * loaded; the wrap (PyMem_SetAllocator needs the GIL) is made by the first
 * recorded allocation after Py_IsInitialized() on the thread holding the
 * GIL.  A version with no layout (pylay_layout_find) is left alone.
 */
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <pthread.h>
#include <string.h>

#include "base.h"
#include "domain.h"
#include "hooks.h"
#include "hsnap_format.h"
#include "leak.h"
#include "pyexit.h"
#include "pyframes.h"
#include "pylayout.h"
#include "python.h"
#include "pywrap.h"
#include "record.h"
#include "snapshot.h"
#include "unwind.h"

/* CPython's domains (stable since 3.4); struct pyfr_alloc: python.h. */
enum { PY_DOMAIN_RAW = 0, PY_DOMAIN_MEM = 1, PY_DOMAIN_OBJ = 2 };
struct py_arena_alloc { /* PyObjectArenaAllocator */
    void *ctx;
    void *(*alloc)(void *ctx, size_t n);
    void (*free)(void *ctx, void *p, size_t n);
};

static struct {
    int (*is_initialized)(void);
    void (*get_allocator)(int domain, struct pyfr_alloc *a);
    void (*set_allocator)(int domain, struct pyfr_alloc *a);
    struct pyfr_alloc orig[3]; /* by domain: what the wrappers call */
    uint8_t raw[3];          /* by domain: its allocator is RAW's own (py_is_raw) */
    struct py_arena_alloc arena; /* pymalloc's arena allocator, wrapped */
} dom;

/* pymalloc's arenas, wherever they come from (malloc in some builds), are
 * never blocks: the objects in them are.  Wrapped in the constructor,
 * before the interpreter makes its first arena.  Each arena is a root of
 * the leak check (heapsnap_register_root's list): the objects made before
 * the domains were wrapped live there and are not blocks, and what they
 * point to is alive; so is what any object points to (Python's own
 * leaks are its gc's business; a C extension's malloc that nothing
 * references is still a direct leak). */
/* pymalloc's pools (3.10-3.13, 64-bit): struct pool_header, 48 bytes
 * before the first block, holds szidx at 36 (blocks of (szidx + 1) << 4
 * bytes, 32 classes) and maxnextoffset at 44 (the pool's size less a
 * block).  The table keeps an arena's objects by place (tbl_pool_insert). */
static const struct tbl_pool_geom py_pools = {
    .first = 48, .class_at = 36, .last_at = 44, .class_shift = 4, .classes = 32};

static void *py_arena_alloc(void *ctx, size_t n)
{
    (void)ctx;
    int saved = guard_enter();
    void *p = dom.arena.alloc(dom.arena.ctx, n);
    if (p) {
        if (roots_register(p, n) != 0) /* its own lock: never a state document's wait */
            opt_warn("too many pymalloc arenas to scan as roots: the leak check may "
                     "report Python objects' referents", "", "");
        tbl_pool_add((uintptr_t)p, n, &py_pools);
    }
    guard_leave(saved);
    return p;
}

static void py_arena_free(void *ctx, void *p, size_t n)
{
    (void)ctx;
    int saved = guard_enter();
    tbl_pool_drop((uintptr_t)p, n);
    roots_unregister(p, n);
    dom.arena.free(dom.arena.ctx, p, n);
    guard_leave(saved);
}

static void py_wrap_arenas(void)
{
    void (*get)(struct py_arena_alloc *) = dlsym(RTLD_DEFAULT, "PyObject_GetArenaAllocator");
    void (*set)(struct py_arena_alloc *) = dlsym(RTLD_DEFAULT, "PyObject_SetArenaAllocator");
    if (!get || !set || dom.is_initialized())
        return; /* an interpreter already running: its arenas may be blocks */
    struct py_arena_alloc ours = {NULL, py_arena_alloc, py_arena_free};
    get(&dom.arena);
    set(&ours);
}

/* ---------------- the wrappers ---------------- */

/* A block sampled mode does not sample (the countdown c, read before the
 * call, passed its size n) came back from the original allocator, called
 * with the guard set: what the careful path below comes to, without it -
 * the countdown moved by n, nothing recorded, a failure counted at its
 * site (failed: its size) with the countdown as it was.  Leaves the guard. */
static inline void *py_unsampled(void *p, uint64_t c, size_t n, uint64_t failed,
                                 const struct unwind_origin *org)
{
    hook_countdown = (int64_t)(p ? c - n : c);
    if (!p)
        hook_fail(failed, org);
    guard_leave(0);
    return p;
}

static void *py_malloc(void *ctx, size_t n)
{
    const struct pyfr_alloc *o = ctx;
    struct unwind_origin org;
    UNWIND_ORIGIN(org);
    if (guard_on || !hook_is_active())
        return o->malloc(o->ctx, n);
    if (HS_UNLIKELY(!dom_ran))
        dom_ran = 1;
    if (HS_UNLIKELY(pyfr_tm_on())) /* called by tracemalloc's hook: learn it (pyfr_tm_see) */
        pyfr_tm_see(org.ra);
    uint64_t c = (uint64_t)hook_countdown;
    if (c > n) { /* sampled mode, not sampled: py_unsampled */
        guard_enter();
        return py_unsampled(o->malloc(o->ctx, n), c, n, n, &org);
    }
    guard_enter();
    int64_t cd = hook_countdown_get();
    void *p = o->malloc(o->ctx, n);
    hook_countdown_set(cd);
    if (p)
        hook_adopt(p, n, &org), pyw_fresh = (uintptr_t)p; /* its object's birth: pyw_reborn_arm */
    else
        hook_fail(n, &org); /* MemoryError's site (FAILED) */
    hook_leave();
    return p;
}

static void *py_calloc(void *ctx, size_t n, size_t m)
{
    const struct pyfr_alloc *o = ctx;
    struct unwind_origin org;
    UNWIND_ORIGIN(org);
    if (guard_on || !hook_is_active())
        return o->calloc(o->ctx, n, m);
    if (HS_UNLIKELY(pyfr_tm_on()))
        pyfr_tm_see(org.ra);
    size_t all;
    uint64_t c = (uint64_t)hook_countdown;
    if (c > n * m) { /* sampled mode, not sampled: py_unsampled */
        guard_enter();
        return py_unsampled(o->calloc(o->ctx, n, m), c, n * m,
                            __builtin_mul_overflow(n, m, &all) ? HSNAP_FAILED_OVERFLOW : all,
                            &org);
    }
    guard_enter();
    int64_t cd = hook_countdown_get();
    void *p = o->calloc(o->ctx, n, m);
    hook_countdown_set(cd);
    size_t total;
    if (p)
        hook_adopt(p, n * m, &org), pyw_fresh = (uintptr_t)p;
    else
        hook_fail(__builtin_mul_overflow(n, m, &total) ? HSNAP_FAILED_OVERFLOW : total, &org);
    hook_leave();
    return p;
}

/* The old block leaves the books first; back in if the call fails. */
static void *py_realloc(void *ctx, void *p, size_t n)
{
    const struct pyfr_alloc *o = ctx;
    struct unwind_origin org;
    UNWIND_ORIGIN(org);
    if (p && o == &dom.orig[PY_DOMAIN_OBJ])
        pyfr_code_maybe_dies(p, 0); /* a code object is never resized, but if one moved */
    if (guard_on)
        return o->realloc(o->ctx, p, n);
    if (HS_UNLIKELY(pyfr_tm_on()))
        pyfr_tm_see(org.ra);
    /* sampled mode, not sampled, or this thread's recording off (pause_thread):
     * the new block passes unrecorded, as py_malloc's would (a list that
     * take_snapshot's objects grew was a block of the program's) */
    uint64_t c = (uint64_t)hook_countdown;
    struct tbl_entry old;
    guard_enter();
    int looked = p && tbl_maybe((uintptr_t)p);
    int had = looked && pend_take_any((uintptr_t)p, &old, 1);
    if (looked)
        hook_booked();
    int64_t cd = hook_countdown_get();
    /* off the books now, either way: the allocator's own realloc, which
     * grows in place or by mremap, not the guard's copy (defer_realloc),
     * for a block past a tcache's sizes (hook_realloc_defers) */
    defer_offbook = (uintptr_t)p;
    void *q = o->realloc(o->ctx, p, n);
    defer_offbook = 0;
    hook_countdown_set(cd);
    if (q) {
        if (had)
            trace_discharge_block(&old);
        if (hook_is_active() && c > n)
            hook_countdown = (int64_t)(c - n);
        else if (hook_is_active())
            hook_adopt(q, n, &org), pyw_fresh = (uintptr_t)q; /* a resize is told as a birth */
    } else {
        if (had)
            tbl_insert(old.ptr, old.size, old.trace, old.epoch, NULL);
        if (hook_is_active())
            hook_fail(n, &org);
    }
    hook_leave();
    return q;
}

/* A dead object's memory stays in its arena, which the leak check scans
 * as a root: a small object (one that pymalloc keeps) is zeroed first, so
 * that its stale pointers keep nothing alive. */
#define PY_SMALL 512u

/* The free of a domain whose allocator is RAW's own (py_is_raw: malloc
 * underneath, no arena, no GIL needed): the block is a malloc block, and
 * its free goes the way of one (hook_free_tracked): this
 * thread's fresh block out at once, or held, so that its table slot loads
 * while the next frees run (pend_hold), the real free following its
 * removal from the books.  A code object's death is told first, while the
 * object is intact. */
static HS_NOINLINE void py_free_raw(const struct pyfr_alloc *o, void *p, int obj)
{
    struct tbl_entry e;
    guard_enter();
    int gc = obj && pyw_gcf_busy(); /* the collector's: taken off the books now, counted */
    if (obj)
        pyfr_code_maybe_dies(p, 0);
    if (gc ? pend_take_any((uintptr_t)p, &e, 1) : pend_fresh_on && pend_take((uintptr_t)p, &e)) {
        if (gc)
            pyw_gcf_freed(p, e.size, e.trace);
        trace_discharge_block(&e);
        defer_offbook = (uintptr_t)p;
        o->free(o->ctx, p);
        defer_offbook = 0;
    } else if ((p = pend_hold(p))) {
        pend_release(p);
    }
    hook_leave_free();
}

static void py_free(void *ctx, void *p)
{
    const struct pyfr_alloc *o = ctx;
    int obj = o == &dom.orig[PY_DOMAIN_OBJ]; /* a code object's death: before its memory goes */
    if (!p || guard_on || !tbl_maybe((uintptr_t)p)) {
        if (p && obj)
            pyfr_code_maybe_dies(p, 0);
        return o->free(o->ctx, p);
    }
    if (dom.raw[o - dom.orig])
        return py_free_raw(o, p, obj);
    struct tbl_entry e;
    guard_enter();
    int booked = pend_take_any((uintptr_t)p, &e, 1);
    if (obj)
        pyfr_code_maybe_dies(p, booked ? e.size : 0);
    if (booked) { /* objects made before the wrap: not foreign */
        if (obj && pyw_gcf_busy())
            pyw_gcf_freed(p, e.size, e.trace);
        trace_discharge_block(&e);
        if (e.size <= PY_SMALL && !o->ctx) /* pymalloc's; never debug hooks' data */
            memset(p, 0, e.size);
    }
    defer_offbook = (uintptr_t)p; /* off the books now, either way */
    o->free(o->ctx, p);
    defer_offbook = 0;
    hook_leave_free();
}

/* 3.12 on, an immortal object's refcount, as a 32-bit int, is negative
 * (_Py_IsImmortal); only str objects are taken (a MEM block is no object). */
int dom_immortal(uintptr_t p, uint64_t size)
{
    int32_t rc;
    if (!pyfr_on || pylay_lay->version < 0x030c0000u || size < 16 || !pylay_sym.str_type)
        return 0;
    memcpy(&rc, (const void *)p, sizeof rc);
    return rc < 0 && pylay_ptr((const char *)p, pylay_lay->ob_type) == pylay_sym.str_type;
}

void dom_stale_words(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    if (pyfr_on && pylay_lay)
        pyw_seed_stale(fn, arg);
}

/* ---------------- a fork's child ---------------- */

/* Python code allocated in this process since it was forked (or started):
 * a worker (multiprocessing's, which leaves through os._exit) writes its
 * exit snapshot at _exit too (life_exit_early, HEAPSNAP_CHILDREN=exit); a child
 * that only execs, or runs C alone, does not. */
int dom_ran;

static void py_forked(void)
{
    dom_ran = 0;
}

/* ---------------- finding CPython ---------------- */

static void *py_dlsym(const char *name)
{
    return dlsym(RTLD_DEFAULT, name);
}

/* HEAPSNAP_PYTHON: "auto", "off", or "X.Y", a version to claim (tests:
 * a claim other than the real version only ever makes it unknown, so the
 * knob can never put one version's layout on another). */
static uint32_t py_claimed(uint32_t real)
{
    const char *v = opt_str(OPT_PYTHON);
    unsigned maj = 0, min = 0;
    const char *s = v;
    while (*s >= '0' && *s <= '9')
        maj = maj * 10 + (unsigned)(*s++ - '0');
    if (*s != '.' || s == v)
        return real;
    for (s++; *s >= '0' && *s <= '9'; s++)
        min = min * 10 + (unsigned)(*s - '0');
    return (maj & 0xff) << 24 | (min & 0xff) << 16;
}

static int py_basename_is(const char *path, const char *prefix)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, prefix, strlen(prefix)) == 0;
}

static int py_find_libpython(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (info->dlpi_name && py_basename_is(info->dlpi_name, "libpython")) {
        *(int *)arg = 1;
        return 1;
    }
    return 0;
}

/* A python executable, or a libpython among the modules: only then is
 * CPython looked up, since a failing dlsym leaves glibc's error state
 * behind (a malloc'd block that a program's later dl* calls would turn
 * into blocks of its own: one more reachable block in every program). */
static int py_present(void)
{
    char exe[NAME_MAX_PATH + 1];
    size_t n = name_exe(exe, NAME_MAX_PATH);
    exe[n] = 0;
    if (py_basename_is(exe, "python"))
        return 1;
    int found = 0;
    loader_iterate_phdr(py_find_libpython, &found);
    return found;
}

/* The span of a module's executable segments into pylay_sym.interp_*[i]
 * (i 0: its writable ones into pylay_sym.data_*, the interpreter's state). */
static void py_text_span(const struct dl_phdr_info *info, int i)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (unsigned j = 0, k = 0; j < info->dlpi_phnum; j++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[j];
        if (i == 0 && ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && k < 4) {
            pylay_sym.data_lo[k] = info->dlpi_addr + ph->p_vaddr;
            pylay_sym.data_hi[k++] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        }
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        lo = a < lo ? a : lo;
        hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
    }
    if (lo < hi)
        pylay_sym.interp_lo[i] = lo, pylay_sym.interp_hi[i] = hi;
}

/* The interpreter's modules (pyfr_trim): the one whose text holds the
 * evaluation loop, and the executable when it is a python* apart from it. */
static int py_find_interp(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    int exe = !info->dlpi_name || !info->dlpi_name[0];
    for (unsigned j = 0; j < info->dlpi_phnum; j++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[j];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && pylay_sym.eval_lo - a < ph->p_memsz) {
            py_text_span(info, 0);
            return 0;
        }
    }
    if (exe) {
        char path[NAME_MAX_PATH + 1];
        size_t n = name_exe(path, NAME_MAX_PATH);
        path[n] = 0;
        if (py_basename_is(path, "python"))
            py_text_span(info, 1);
    }
    return 0;
}

#define PY_EVAL_SPLIT_MIN 4096u /* py_find_eval_split's smallest part */

/* The jump (jmp or jcc rel32) at p, at address at: its target, or 0. */
static uintptr_t py_jump_target(const uint8_t *p, uintptr_t at)
{
    int32_t rel;
    if (p[0] == 0xe9) {
        __builtin_memcpy(&rel, p + 1, 4);
        return at + 5 + (uintptr_t)(intptr_t)rel;
    }
    if (p[0] == 0x0f && (p[1] & 0xf0) == 0x80) {
        __builtin_memcpy(&rel, p + 2, 4);
        return at + 6 + (uintptr_t)(intptr_t)rel;
    }
    return 0;
}

/* Whether the code [lo, hi) has a jump into [to_lo, to_hi). */
static int py_jumps_into(uintptr_t lo, uintptr_t hi, uintptr_t to_lo, uintptr_t to_hi)
{
    for (uintptr_t at = lo; at + 6 <= hi; at++) {
        uintptr_t t = py_jump_target((const uint8_t *)at, at);
        if (t && t - to_lo < to_hi - to_lo)
            return 1;
    }
    return 0;
}

/* The loop of the evaluation function [lo, hi) when the compiler split it
 * off into a part of its own (GCC's function partitioning: Debian's 3.14
 * keeps 1 KiB at _PyEval_EvalFrameDefault and its 84 KiB loop elsewhere,
 * reached by a jump, so that every evaluation frame's return address lies
 * there): the largest function, by its .eh_frame FDE, that starts exactly
 * where a jump (jmp or jcc rel32) of the function's own bytes leads out of
 * it.  A byte scan, so a target must be an FDE's first byte, the part at
 * least PY_EVAL_SPLIT_MIN, and it must jump back into the function (a
 * part split off returns to it; a function tail-called does not): a stray
 * match or a tail call names no part. */
static void py_find_eval_split(uintptr_t lo, uintptr_t hi)
{
    uintptr_t best_lo = 0, best_hi = 0;
    for (uintptr_t at = lo; at + 6 <= hi; at++) {
        uintptr_t t = py_jump_target((const uint8_t *)at, at), flo, fhi;
        if (!t || t - lo < hi - lo || t == best_lo ||
            t - pylay_sym.interp_lo[0] >= pylay_sym.interp_hi[0] - pylay_sym.interp_lo[0] ||
            unwind_func_range(t, &flo, &fhi) != 0 || flo != t || fhi - flo < PY_EVAL_SPLIT_MIN ||
            fhi - flo <= best_hi - best_lo || !py_jumps_into(flo, fhi, lo, hi))
            continue;
        best_lo = flo, best_hi = fhi;
    }
    pylay_sym.eval2_lo = best_lo, pylay_sym.eval2_hi = best_hi;
    if (best_lo)
        opt_debug("python: the evaluation loop's part split off its function found", "", "");
}

/* _PyEval_EvalFrameDefault's text range, from its dynamic symbol, and the
 * interpreter's modules. */
static int py_find_eval(void)
{
    void *f = py_dlsym("_PyEval_EvalFrameDefault");
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!f || !dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || !sym->st_size)
        return -1;
    pylay_sym.eval_lo = (uintptr_t)f;
    pylay_sym.eval_hi = (uintptr_t)f + sym->st_size;
    loader_iterate_phdr(py_find_interp, NULL);
    if (pylay_sym.interp_lo[0] == pylay_sym.interp_lo[1]) /* a static build: one module */
        pylay_sym.interp_lo[1] = pylay_sym.interp_hi[1] = 0;
    py_find_eval_split(pylay_sym.eval_lo, pylay_sym.eval_hi);
    return 0;
}

/* The interpreter's major.minor (Py_Version's form): Py_Version from 3.11
 * on, the text of Py_GetVersion() before ("3.10.13 (main, ..."); 0 when
 * neither says. */
static uint32_t py_version_of(void)
{
    const unsigned long *version = py_dlsym("Py_Version");
    if (version)
        return (uint32_t)*version;
    const char *(*get)(void) = (const char *(*)(void))py_dlsym("Py_GetVersion");
    const char *s = get ? get() : NULL;
    unsigned maj = 0, min = 0;
    if (!s || *s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++)
        maj = maj * 10 + (unsigned)(*s - '0');
    if (*s++ != '.')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++)
        min = min * 10 + (unsigned)(*s - '0');
    return (maj & 0xff) << 24 | (min & 0xff) << 16;
}

/* The layout of the interpreter of version v (the real one, or a claim):
 * from 3.13 on its own _Py_DebugOffsets, before that its pylay_layouts row;
 * NULL with one note when there is none. */
static const struct pylay_layout *py_layout_of(uint32_t v, uint32_t real)
{
    static struct pylay_layout pub;
    static char name[16];
    const char *why = " is not one heapsnap knows: native frames only";
    uint32_t code = HSNAP_PYUNREAD_UNKNOWN;
    const struct pylay_layout *row = pylay_layout_find(v);
    if ((v & 0xffff0000u) != (real & 0xffff0000u)) {
        row = NULL;
        code = HSNAP_PYUNREAD_CLAIMED;
    } else if (v >= 0x030d0000u) {
        if (pylay_layout_published(py_dlsym("_PyRuntime"), v, &pub, &why, &code) == 0) {
            size_t k = opt_fmt_u64(name, v >> 24);
            name[k++] = '.';
            k += opt_fmt_u64(name + k, (v >> 16) & 0xff);
            name[k] = 0;
            pub.name = name;
            size_t at = offsetof(struct pylay_layout, frames);
            opt_debug("python: layout from _Py_DebugOffsets, ",
                      !row ? "a version with no row"
                      : !memcmp((const char *)row + at, (const char *)&pub + at, sizeof pub - at)
                          ? "the same as the row"
                          : "not the row's (the interpreter's own taken)", "");
            return &pub;
        }
        row = NULL;
    } else if (v && v < 0x030a0000u) {
        why = " is older than 3.10: native frames only";
        code = HSNAP_PYUNREAD_OLD;
    }
    if (!row) /* one note, and the same words in every snapshot (PYUNREAD) */
        opt_warn(pylay_unread_set(v ? v : real, code, v ? why : ": native frames only"), "", "");
    return row;
}

/* The root's exit snapshot (life_exit_early), which the exit room's
 * atexit callback writes (pyexit_host), and its pause_thread: handed in,
 * so that the domains call nothing of the process's life. */
static struct dom_host dom_host;

void dom_init(const struct dom_host *host)
{
    dom_host = *host;
    if (!strcmp(opt_str(OPT_PYTHON), "off"))
        return;
    if (!py_present())
        return;
    dom.is_initialized = (int (*)(void))py_dlsym("Py_IsInitialized");
    if (!dom.is_initialized)
        return; /* no CPython here after all */
    uint32_t real = py_version_of();
    pylay_sym.version = real;
    pylay_lay = py_layout_of(py_claimed(real), real);
    if (!pylay_lay)
        return;
    /* exported up to 3.11 (a failing dlsym leaves a block: py_present);
     * from 3.12 a field of _PyRuntime */
    pyfr_tm_init(real < 0x030c0000u ? py_dlsym("_Py_tracemalloc_config")
                                  : pyfr_tm_runtime_config(real, py_dlsym("_PyRuntime")));
    dom.get_allocator = py_dlsym("PyMem_GetAllocator");
    dom.set_allocator = py_dlsym("PyMem_SetAllocator");
    pylay_sym.this_thread = py_dlsym("PyGILState_GetThisThreadState");
    pylay_sym.gil_holder = py_dlsym(real >= 0x030d0000u ? "PyThreadState_GetUnchecked"
                                                      : "_PyThreadState_UncheckedGet");
    pylay_sym.finalizing = py_dlsym(real >= 0x030d0000u ? "Py_IsFinalizing" : "_Py_IsFinalizing");
    pylay_sym.code_type = (uintptr_t)py_dlsym("PyCode_Type");
    pylay_sym.str_type = (uintptr_t)py_dlsym("PyUnicode_Type");
    pylay_sym.type_type = (uintptr_t)py_dlsym("PyType_Type");
    pylay_sym.list_type = (uintptr_t)py_dlsym("PyList_Type");
    pylay_sym.dict_type = (uintptr_t)py_dlsym("PyDict_Type");
    pylay_sym.set_type = (uintptr_t)py_dlsym("PySet_Type");
    pylay_sym.frozenset_type = (uintptr_t)py_dlsym("PyFrozenSet_Type");
    pylay_sym.weakref_type[0] = (uintptr_t)py_dlsym("_PyWeakref_RefType");
    pylay_sym.weakref_type[1] = (uintptr_t)py_dlsym("_PyWeakref_ProxyType");
    pylay_sym.weakref_type[2] = (uintptr_t)py_dlsym("_PyWeakref_CallableProxyType");
    pylay_sym.cell_type = (uintptr_t)py_dlsym("PyCell_Type");
    pylay_sym.long_type = (uintptr_t)py_dlsym("PyLong_Type");
    pylay_sym.module_type = (uintptr_t)py_dlsym("PyModule_Type");
    pylay_sym.bytes_type = (uintptr_t)py_dlsym("PyBytes_Type");
    pylay_sym.tuple_type = (uintptr_t)py_dlsym("PyTuple_Type");
    pylay_sym.interp_main = py_dlsym("PyInterpreterState_Main");
    pylay_sym.runtime = real >= 0x030d0000u ? py_dlsym("_PyRuntime") : NULL;
    unsigned nfl;
    const struct pylay_fl_type *fl = pylay_fl_types(real, &nfl);
    for (unsigned k = 0; fl && k < nfl; k++)
        pylay_sym.fl_type[k] = (uintptr_t)py_dlsym(fl[k].sym);
    if (!dom.get_allocator || !dom.set_allocator || !pylay_sym.this_thread ||
        !pylay_sym.gil_holder || !pylay_sym.code_type || py_find_eval() != 0) {
        opt_warn(pylay_unread_set(real, HSNAP_PYUNREAD_SYMBOLS,
                               "'s symbols are not all there: native frames only"), "", "");
        pylay_lay = NULL;
        return;
    }
    pyfr_trim = opt_int(OPT_PYTHON_NATIVE) != OPT_PYTHON_NATIVE_ALL; /* caller's walks too */
    pyfr_caller_mode = opt_int(OPT_PYTHON_NATIVE) == OPT_PYTHON_NATIVE_CALLER;
    if (pyfr_caller_mode)
        pyfr_wrap_setup(); /* a wrapper's caller followed: pyfr_caller_wrapped */
    if (pyfr_caller_mode && opt_int(OPT_LEAKS)) /* docs/python.md: the native frames stored */
        opt_warn("HEAPSNAP_PYTHON_NATIVE=caller keeps the allocator's caller alone under "
                 "Python code (past libc's and GLib's own frames): a suppression of yours "
                 "naming native frames further out does not match such a stack (heapsnap's "
                 "built-in CPython ones have twins that do); the leak check reads whole stacks "
                 "with trim, the default", "", "");
    if (!pylay_obj_layout_find(real)) /* frames from _Py_DebugOffsets, objects not yet */
        opt_warn(pylay_unread_set(real, HSNAP_PYUNREAD_OBJECTS,
                               ": Python lines read, its objects not yet (no types, cycles "
                               "or holders)"), "", "");
    else if (real >= 0x030e0000u) { /* the row's fields the interpreter publishes */
        int same = pylay_obj_layout_publish(py_dlsym("_PyRuntime"), real);
        if (same >= 0)
            opt_debug("python: object layout from _Py_DebugOffsets, ",
                      same ? "the same as the row" : "not the row's (the interpreter's own taken)",
                      "");
    }
    pyexit_find(py_dlsym);
    pthread_atfork(NULL, NULL, py_forked);
    py_wrap_arenas();
    hook_py_waiting = 1;
    hs_rare_mark(HS_RARE_DOM, 1);
    opt_debug("python: found CPython ", pylay_lay->name, "");
}

/* The domain's allocator a is the interpreter's own RAW one (PYTHONMALLOC=
 * malloc gives MEM and OBJ the very functions of RAW): malloc and free
 * underneath, callable without the GIL.  Not so under pymalloc, debug
 * hooks or tracemalloc (other functions or a context), nor when RAW is an
 * embedder's allocator (its functions outside the interpreter's text). */
static int py_is_raw(const struct pyfr_alloc *a, const struct pyfr_alloc *raw)
{
    uintptr_t f = (uintptr_t)raw->free;
    return !a->ctx && !raw->ctx && a->malloc == raw->malloc && a->calloc == raw->calloc &&
           a->realloc == raw->realloc && a->free == raw->free &&
           f - pylay_sym.interp_lo[0] < pylay_sym.interp_hi[0] - pylay_sym.interp_lo[0];
}

/* tracemalloc's hooks on the domains, as tracemalloc_start() sets them
 * (-X tracemalloc, PYTHONTRACEMALLOC: before the wrap, at start-up): one
 * function for MEM and OBJ, another for RAW (3.15: the same function
 * for all three, tracemalloc taking its own lock, not the GIL), each ctx
 * the domain's own entry of the {mem, raw, obj} allocators the hooks
 * forward to (read at each call), in the interpreter's data.  Then the wrappers go beneath
 * the hooks, in those entries (tracemalloc.stop() sets them back as the
 * domains'): the hooks' own tables are allocated outside our wrappers'
 * guard, as blocks of tracemalloc's site (pyfr_tm_own), and not half of them
 * unseen - an unseen hash-table entry would hide the blocks chained after
 * it from the leak check.  Returns the entries, or NULL: not that shape. */
static struct pyfr_alloc *py_tm_entries(const struct pyfr_alloc d[3])
{
    struct pyfr_alloc *m = d[PY_DOMAIN_MEM].ctx;
    uintptr_t at = (uintptr_t)m, f = (uintptr_t)d[PY_DOMAIN_MEM].malloc;
    int data = 0, text = 0;
    if (!pyfr_tm_on() || !m || d[PY_DOMAIN_RAW].ctx != m + 1 || d[PY_DOMAIN_OBJ].ctx != m + 2 ||
        d[PY_DOMAIN_MEM].malloc != d[PY_DOMAIN_OBJ].malloc ||
        d[PY_DOMAIN_MEM].free != d[PY_DOMAIN_OBJ].free ||
        (pylay_sym.version < 0x030f0000u && d[PY_DOMAIN_RAW].malloc == d[PY_DOMAIN_MEM].malloc))
        return NULL;
    for (int k = 0; k < 4; k++)
        data |= pylay_sym.data_hi[k] - pylay_sym.data_lo[k] >= 3 * sizeof *m &&
                at - pylay_sym.data_lo[k] <= pylay_sym.data_hi[k] - pylay_sym.data_lo[k] - 3 * sizeof *m;
    for (int i = 0; i < 2; i++)
        text |= f - pylay_sym.interp_lo[i] < pylay_sym.interp_hi[i] - pylay_sym.interp_lo[i];
    return data && text ? m : NULL;
}

/* Domain d's wrapper's place, and what is there now (*now): the domain
 * itself (NULL), or beneath tracemalloc's hooks, its entry; *raw: RAW's
 * allocator under the hooks (py_is_raw). */
static struct pyfr_alloc *pyfr_slot(int d, struct pyfr_alloc *now, struct pyfr_alloc *raw)
{
    struct pyfr_alloc all[3];
    for (int i = 0; i < 3; i++)
        dom.get_allocator(i, &all[i]);
    struct pyfr_alloc *tm = py_tm_entries(all), *entry = NULL;
    *raw = all[PY_DOMAIN_RAW];
    *now = all[d];
    if (tm) { /* tracemalloc's order: mem, raw, obj */
        entry = &tm[d == PY_DOMAIN_MEM ? 0 : 2];
        *raw = tm[1];
        *now = *entry;
    }
    return entry;
}

/* pyexit_host's: the free lists' dead objects booked again, as at the wrap. */
static void dom_seed_again(void)
{
    pyw_preseed_again(hook_mode.sample, snap_epoch);
}

void dom_poll(void)
{
    if (!dom.is_initialized())
        return;
    void *me = pylay_sym.this_thread();
    if (!me || me != pylay_sym.gil_holder())
        return;
    hook_py_waiting = 0;
    hs_rare_mark(HS_RARE_DOM, 0);
    if (pylay_sym.finalizing && pylay_sym.finalizing())
        return;
    if (pyfr_layout_verify(me) != 0) { /* never a walk through a layout misread */
        opt_warn(pylay_unread_set(pylay_sym.version, HSNAP_PYUNREAD_UNVERIFIED,
                               "'s frames do not read as its layout says: native frames only"),
                 "", "");
        pylay_lay = NULL;
        return;
    }
    static const int domains[] = {PY_DOMAIN_MEM, PY_DOMAIN_OBJ};
    for (int i = 0; i < 2; i++) {
        int d = domains[i];
        struct pyfr_alloc ours = {&dom.orig[d], py_malloc, py_calloc, py_realloc, py_free}, now, raw;
        struct pyfr_alloc *entry = pyfr_slot(d, &now, &raw);
        if (now.malloc == py_malloc) /* still ours: a detach's unwrap never ran */
            continue;
        dom.orig[d] = now;
        dom.raw[d] = (uint8_t)py_is_raw(&now, &raw);
        if (!entry) {
            dom.set_allocator(d, &ours);
            continue;
        }
        *entry = ours; /* under the GIL: no MEM or OBJ call reads it meanwhile */
        if (d == PY_DOMAIN_MEM)
            pyfr_tm_raw_wrap(entry + 1); /* RAW's entry, between MEM's and OBJ's */
        opt_debug("python: a domain wrapped beneath tracemalloc's hooks", "", "");
    }
    pyfr_on = 1;
    if (pyfr_caller_mode) /* hook_stack_caller */
        hs_rare_mark(HS_RARE_PYCALLER, 1);
    pyw_preseed(py_dlsym, hook_mode.sample, snap_epoch); /* the objects made before */
    pyw_gcf_arm();
    pyexit_arm(&(struct pyexit_host){dom_host.exit_snapshot, dom_host.pause, dom_seed_again});
    pyw_track_arm(py_dlsym);
    pyw_reborn_arm(py_dlsym, hook_reborn);
    pyw_tml_arm(py_dlsym, hook_recharge);
    opt_debug("python: allocator domains wrapped", "", "");
}

/* ---------------- attach and detach (shim/attach) ---------------- */

/* The domains back to what they were, run by the interpreter itself under
 * the GIL (Py_AddPendingCall): until it runs, the wrappers forward. */
static int py_unwrap(void *arg)
{
    (void)arg;
    static const int domains[] = {PY_DOMAIN_MEM, PY_DOMAIN_OBJ};
    if (hook_is_active()) /* attached again meanwhile */
        return 0;
    for (int i = 0; i < 2; i++) {
        struct pyfr_alloc now, raw, *entry = pyfr_slot(domains[i], &now, &raw);
        if (now.malloc != py_malloc)
            continue;
        if (entry)
            *entry = dom.orig[domains[i]];
        else
            dom.set_allocator(domains[i], &dom.orig[domains[i]]);
    }
    pyfr_tm_raw_unwrap(dom.get_allocator, dom.set_allocator);
    pyw_reborn_disarm();
    hs_rare_mark(HS_RARE_PYCALLER, 0);
    pyfr_on = 0;
    return 0;
}

/* Python's exit snapshot is written (life_exit_early, an atexit callback,
 * the GIL held): nothing more is recorded, the domains unwrapped at once. */
void dom_close(void)
{
    hook_py_waiting = 0;
    if (pyfr_on)
        py_unwrap(NULL);
}

/* A detach: the unwrap asked of the interpreter (a pending call, which the
 * thread that next holds the GIL runs).  0, or -1: not wrapped. */
int dom_detach(void)
{
    hook_py_waiting = 0;
    hs_rare_mark(HS_RARE_DOM, 0);
    if (!pyfr_on)
        return -1;
    int (*add)(int (*)(void *), void *) =
        (int (*)(int (*)(void *), void *))py_dlsym("Py_AddPendingCall");
    return add && add(py_unwrap, NULL) == 0 ? 0 : -1;
}

/* An attach's wrap, run by the interpreter under the GIL: dom_kick's. */
static int py_wrap_pending(void *arg)
{
    (void)arg;
    if (hook_py_waiting && hook_is_active()) {
        int saved = guard_enter();
        dom_poll();
        guard_leave(saved);
    }
    return 0;
}

/* An attach: the wrap asked of the interpreter as well, as a pending call
 * that the main thread runs at its next check between bytecodes.  Left to
 * the next malloc alone, it came late: pymalloc hands out dicts, keys
 * tables and a list's first items without one (test_attach_python_lines:
 * a loop's first 67 dicts of 200, and their keys tables, were no blocks).
 * Whichever comes first wraps (both under the GIL); a main thread that
 * never runs bytecode again leaves it to the malloc.  From the attach's
 * own thread, never the one the CLI borrowed, which may have been stopped
 * holding the interpreter's pending-call lock. */
void dom_kick(void)
{
    /* not before the interpreter is (an embedder's: its main interpreter,
     * which the call reads, is none yet), nor once it is going */
    if (!hook_py_waiting || !pylay_lay || !dom.is_initialized() ||
        (pylay_sym.finalizing && pylay_sym.finalizing()))
        return;
    int (*add)(int (*)(void *), void *) =
        (int (*)(int (*)(void *), void *))py_dlsym("Py_AddPendingCall");
    if (add)
        add(py_wrap_pending, NULL);
}

/* Attached again: the wrap is done (again) by the next allocation under
 * the GIL, unless the wrappers are still there (their unwrap never ran). */
void dom_reattach(void)
{
    if (pylay_lay && dom.set_allocator && !pyfr_on) {
        hook_py_waiting = 1;
        hs_rare_mark(HS_RARE_DOM, 1);
    }
}
