/*
 * lsan.c - LeakSanitizer's interface (<sanitizer/lsan_interface.h>), so
 * that a program written for LSan runs under heapsnap unchanged:
 *
 *   __lsan_do_leak_check            the check once, a snapshot with LEAKS
 *                                   (reason "lsan"), and none at exit
 *   __lsan_do_recoverable_leak_check the same, any number of times: 1 on leaks
 *   __lsan_ignore_object            heapsnap_ignore
 *   __lsan_disable / __lsan_enable  per thread, nesting: blocks between are
 *                                   ignored (HSNAP_TRACE_DISABLED twins)
 *   __lsan_(un)register_root_region heapsnap_(un)register_root
 *
 * The program's __lsan_is_turned_off() and __lsan_default_suppressions()
 * (into SUPPRESSIONS) are found among exported functions, then in the
 * executable's .symtab (elfsym.c, no dlsym).  Where LSan aborts or exits
 * with its exitcode, the shim warns or carries on: the verdict is the gate's.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "root.h"

#define LSAN_SUPP_MAX (64u * 1024u) /* bytes of __lsan_default_suppressions kept */

/* lsan_disabled (hs_hot) */

/* __lsan_default_suppressions' text, as read once (arena_keep: never freed). */
struct lsan_supp {
    size_t len;
    char text[];
};

/* No lock: a look-up is idempotent, so threads that race each do it and
 * store the same answer (a lock held across the look-up and a file mapping
 * could be inherited held by a fork's child). */
static struct {
    atomic_int resolved;
    _Atomic uintptr_t turned_off; /* int (*)(void): __lsan_is_turned_off, or 0 */
    _Atomic uintptr_t supp_fn;    /* const char *(*)(void): __lsan_default_suppressions */
    struct lsan_supp *_Atomic supp; /* NULL: not read yet */
    atomic_int checked;           /* __lsan_do_leak_check ran: no check at exit */
    atomic_int warned_enable, warned_unregister, warned_register;
} lsan;

static struct lsan_supp lsan_no_supp; /* read, and there was none */

/* The program's two hooks, looked up once (elfsym_find: without dlsym, whose
 * failure allocates). */
static void lsan_resolve(void)
{
    static const char *const names[2] = {"__lsan_is_turned_off", "__lsan_default_suppressions"};
    void *f[2];
    if (atomic_load_explicit(&lsan.resolved, memory_order_acquire))
        return;
    int saved = guard_enter();
    elfsym_find(names, f, 2);
    atomic_store(&lsan.turned_off, (uintptr_t)f[0]);
    atomic_store(&lsan.supp_fn, (uintptr_t)f[1]);
    atomic_store_explicit(&lsan.resolved, 1, memory_order_release);
    guard_leave(saved);
}

/* __lsan_is_turned_off(): the program's answer (never under a shim lock:
 * it is the program's code). */
static int lsan_turned_off(void)
{
    lsan_resolve();
    int (*fn)(void) = (int (*)(void))atomic_load(&lsan.turned_off);
    return fn && fn() != 0;
}

unsigned lsan_exit_check(int wanted)
{
    if (atomic_load(&lsan.checked))
        return HSNAP_META_LSAN_CHECKED;
    return wanted && lsan_turned_off() ? HSNAP_META_LSAN_OFF : 0;
}

/* Reads __lsan_default_suppressions() once, into the arena (LSan reads it
 * at its first check too: the program's globals are set up by then). */
void lsan_read_suppressions(void)
{
    if (atomic_load_explicit(&lsan.supp, memory_order_acquire))
        return;
    lsan_resolve();
    const char *(*fn)(void) = (const char *(*)(void))atomic_load(&lsan.supp_fn);
    const char *s = fn ? fn() : NULL;
    size_t n = s ? strnlen(s, LSAN_SUPP_MAX) : 0;
    struct lsan_supp *c = &lsan_no_supp, *none = NULL;
    int saved = guard_enter();
    if (n && (c = arena_keep(sizeof *c + n + 1))) {
        memcpy(c->text, s, n);
        c->len = n;
    }
    if (!c)
        c = &lsan_no_supp;
    atomic_compare_exchange_strong(&lsan.supp, &none, c); /* a racer's copy stays kept */
    guard_leave(saved);
}

const char *lsan_suppressions(size_t *len)
{
    struct lsan_supp *c = atomic_load_explicit(&lsan.supp, memory_order_acquire);
    *len = c ? c->len : 0;
    return c && c->len ? c->text : NULL;
}

static void lsan_warn_once(atomic_int *flag, const char *a, const char *b)
{
    if (atomic_exchange(flag, 1) == 0)
        opt_warn(a, b, "");
}

/* ---------------- the interface ---------------- */

/* Turned off, it does not count as the check that replaces the one at
 * exit: that one asks __lsan_is_turned_off() again (and the exit snapshot
 * says it was off, not that an earlier snapshot holds the check). */
HS_EXPORT void __lsan_do_leak_check(void)
{
    COLLECT_ENTRY();
    if (!atomic_load(&lsan.checked) && !lsan_turned_off() &&
        atomic_exchange(&lsan.checked, 1) == 0)
        snap_take(HSNAP_REASON_LSAN, NULL, 0);
    COLLECT_LEAVE();
}

HS_EXPORT int __lsan_do_recoverable_leak_check(void)
{
    COLLECT_ENTRY();
    int64_t r = lsan_turned_off() ? 0 : lchk_check(HSNAP_REASON_LSAN);
    COLLECT_LEAVE();
    return r > 0;
}

HS_EXPORT void __lsan_ignore_object(const void *p)
{
    if (lchk_ignore(p) != 0)
        opt_debug("__lsan_ignore_object: no live traced block there", "", "");
}

HS_EXPORT void __lsan_disable(void)
{
    lsan_disabled++;
}

HS_EXPORT void __lsan_enable(void)
{
    if (lsan_disabled)
        lsan_disabled--;
    else
        lsan_warn_once(&lsan.warned_enable,
                       "__lsan_enable without __lsan_disable on this thread; ignored", "");
}

HS_EXPORT void __lsan_register_root_region(const void *p, size_t size)
{
    int r = size ? roots_register(p, size) : 0;
    if (r != 0)
        lsan_warn_once(&lsan.warned_register, "__lsan_register_root_region: ",
                       "bad range or more than 1024 regions; not registered");
}

HS_EXPORT void __lsan_unregister_root_region(const void *p, size_t size)
{
    int r = size ? roots_unregister(p, size) : 0;
    if (r != 0)
        lsan_warn_once(&lsan.warned_unregister, "__lsan_unregister_root_region: ",
                       "no region registered at that address with that size; ignored");
}

/* A program built with -fsanitize=leak (or =address) carries LSan's own
 * runtime and allocator: a static one in the executable comes before this
 * library (its malloc is the one every call binds to, and the shim sees
 * nothing), a shared one (gcc's liblsan, libasan) after it.  Either way two
 * leak checkers interpose one heap: say so, once.  Found without a failing
 * dlsym (which allocates a message the program might free): the address
 * __lsan_do_leak_check binds to, and the loaded modules' names. */
static int lsan_runtime_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    static const char *const names[] = {"/liblsan.so", "/libasan.so", "/libhwasan.so",
                                        "/libtsan.so"};
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strstr(path, names[i]))
            return *(int *)arg = 1;
    return 0;
}

__attribute__((constructor(102))) static void lsan_init(void)
{
    if (cred_secure())
        return;
    int saved = guard_enter(), other = 0;
    loader_enter();
    void *first = dlsym(RTLD_DEFAULT, "__lsan_do_leak_check"); /* ours at least */
    loader_leave();
    Dl_info a, b;
    if (first && clock_is_late()) /* its unwinder is not started: which library holds it */
        other = dladdr(first, &a) && dladdr((void *)lsan_init, &b) && a.dli_fbase != b.dli_fbase;
    else if (first && !unwind_in_shim((uintptr_t)first))
        other = 1;
    if (!other)
        loader_iterate_phdr(lsan_runtime_cb, &other);
    if (other)
        opt_warn("the program carries LeakSanitizer's own runtime (built with -fsanitize=leak "
                 "or =address): two allocator interposers and two leak checks on one heap, "
                 "whose results are not to be trusted; build it without -fsanitize", "", "");
    guard_leave(saved);
}
