/*
 * lsanapi.c - a program written for LeakSanitizer, built normally: it
 * declares LSan's interface weak (as programs that may run without LSan
 * do) and defines LSan's two hooks, unexported (found in .symtab).  One
 * mode per function; blocks are named by size, allocated in noinline
 * helpers and the dead stack scrubbed, so no stale copy is a root.
 * Prints what the calls return; tests/shim/leak/test_lsan_api.sh checks the
 * lines and the snapshots.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define WEAK __attribute__((weak))

WEAK void __lsan_do_leak_check(void);
WEAK int __lsan_do_recoverable_leak_check(void);
WEAK void __lsan_ignore_object(const void *p);
WEAK void __lsan_disable(void);
WEAK void __lsan_enable(void);
WEAK void __lsan_register_root_region(const void *p, size_t size);
WEAK void __lsan_unregister_root_region(const void *p, size_t size);

static int g_off;        /* what __lsan_is_turned_off answers */
void *volatile g_keep;   /* a root */
void **g_region;         /* an mmap'd region: a root only when registered */

/* LeakSanitizer's hooks, defined by the program (not exported). */
int __lsan_is_turned_off(void)
{
    return g_off;
}

const char *__lsan_default_suppressions(void)
{
    return "# the program's own\nleak:lsan_supp_leaker\n";
}

NOINLINE static void *alloc(size_t n)
{
    void *p = malloc(n);
    memset(p, 0, n);
    return p;
}

NOINLINE static void leak(size_t n)
{
    alloc(n);
}

NOINLINE static void scrub(void)
{
    volatile char pad[32768];
    memset((char *)pad, 0, sizeof pad);
}

NOINLINE void lsan_supp_leaker(void)
{
    leak(666);
}

/* 0, then 1337 leaked, then 23 more (the root dropped): 1, 1 */
static void mode_recover(void)
{
    g_keep = alloc(23);
    scrub();
    printf("recover %d", __lsan_do_recoverable_leak_check());
    leak(1337);
    scrub();
    printf(" %d", __lsan_do_recoverable_leak_check());
    g_keep = NULL;
    scrub();
    printf(" %d\n", __lsan_do_recoverable_leak_check());
}

/* 666 leaked before the check; 777 after it, which no check sees */
static void mode_check(void)
{
    leak(666);
    scrub();
    __lsan_do_leak_check();
    __lsan_do_leak_check(); /* a no-op */
    leak(777);
    printf("check done\n");
}

NOINLINE static void ignored(void)
{
    void **p = alloc(sizeof(void *) * 2);
    p[0] = alloc(666);             /* reachable through the ignored block */
    __lsan_ignore_object(p);
    char *q = alloc(4000);
    __lsan_ignore_object(q + 100); /* a pointer into the block */
    __lsan_ignore_object(&g_off);  /* no block there: ignored */
    leak(1337);
}

NOINLINE static void *thread_leak(void *arg)
{
    leak(444); /* this thread is not disabled */
    return NULL;
}

NOINLINE static void disabled(void)
{
    pthread_t t;
    __lsan_disable();
    __lsan_disable();
    leak(111);
    __lsan_enable();
    void **p = alloc(sizeof(void *)); /* still disabled */
    __lsan_enable();
    p[0] = alloc(222);                /* reachable through it */
    pthread_create(&t, NULL, thread_leak, NULL);
    pthread_join(t, NULL);
    leak(333);
    __lsan_enable();                  /* unmatched: warned, ignored */
}

NOINLINE static void *same_site(void)
{
    return alloc(555);
}

/* One stack three times, the second disabled: that block only is ignored */
NOINLINE static void same(void)
{
    for (int i = 0; i < 3; i++) {
        if (i == 1)
            __lsan_disable();
        same_site();
        if (i == 1)
            __lsan_enable();
    }
}

NOINLINE static void roots(int unregister)
{
    size_t page = (size_t)getpagesize();
    g_region = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect((char *)g_region + page, page, PROT_NONE); /* never read */
    __lsan_register_root_region(g_region, 2 * page);
    g_region[0] = alloc(1337);
    printf("roots %d", __lsan_do_recoverable_leak_check());
    __lsan_unregister_root_region(g_region, page); /* not that size: warned, kept */
    printf(" %d", __lsan_do_recoverable_leak_check());
    if (unregister) {
        __lsan_unregister_root_region(g_region, 2 * page);
        printf(" %d", __lsan_do_recoverable_leak_check());
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!__lsan_do_leak_check) {
        puts("no lsan interface");
        return 0;
    }
    if (!strcmp(mode, "recover"))
        mode_recover();
    else if (!strcmp(mode, "check"))
        mode_check();
    else if (!strcmp(mode, "ignore"))
        ignored();
    else if (!strcmp(mode, "disable"))
        disabled();
    else if (!strcmp(mode, "same"))
        same();
    else if (!strcmp(mode, "roots"))
        roots(1);
    else if (!strcmp(mode, "roots-kept"))
        roots(0);
    else if (!strcmp(mode, "off")) {
        leak(555);
        g_off = 1; /* asked at the check, as LSan does: set late on purpose */
        printf("off %d\n", __lsan_do_recoverable_leak_check());
        __lsan_do_leak_check(); /* turned off: no snapshot, and no "checked" */
    } else if (!strcmp(mode, "supp")) {
        lsan_supp_leaker();
        leak(1337);
    }
    scrub();
    return 0;
}
