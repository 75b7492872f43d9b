// link: shim/base/gotwalk.c shim/base/loader.c shim/base/lock.c
/*
 * test_gotwalk.c - gotw_module, the GOT walk that the attach's rewrite
 * (got_hook) and tracemalloc's domains (pyw_track_arm) share: in this test's
 * own executable it finds the entry its calls to getppid go through, and
 * only that one of the names it is given; a value written with gotw_write
 * is what the next call reaches (RELRO or not), and the old value written
 * back restores the call.  A name the module does not import is never
 * handed over, nor is a module without the name.  gotw_adds follows the
 * loader's count of loads across a dlopen.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "unit.h"

static pid_t fake_getppid(void)
{
    return 424242;
}

struct seen {
    void *value;        /* what to write into getppid's entry */
    unsigned n, other;  /* entries handed over: getppid's, any other name's */
    void **at;          /* getppid's entry in this executable */
    void *old;          /* what it held */
    int wrote;
};

static const char *const names[] = {"getppid", "no_such_function_anywhere"};

static void on_entry(void **at, unsigned k, const struct gotw_mod *m, void *arg)
{
    struct seen *s = arg;
    if (k != 0) {
        s->other++;
        return;
    }
    s->n++;
    s->at = at;
    s->old = __atomic_load_n(at, __ATOMIC_ACQUIRE);
    s->wrote = gotw_write(at, s->value, m) == 0;
}

/* This executable alone (the module that holds fake_getppid). */
static int each(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (gotw_holds(info, (uintptr_t)fake_getppid))
        gotw_module(info, names, 2, on_entry, arg);
    return 0;
}

static void on_any(void **at, unsigned k, const struct gotw_mod *m, void *arg)
{
    (void)at, (void)k, (void)m;
    ++*(unsigned *)arg;
}

/* Every module but this executable, for a name none imports. */
static int each_other(struct dl_phdr_info *info, size_t size, void *arg)
{
    static const char *const none[] = {"no_such_function_anywhere"};
    (void)size;
    if (!gotw_holds(info, (uintptr_t)fake_getppid))
        gotw_module(info, none, 1, on_any, arg);
    return 0;
}

TEST_BEGIN(gotwalk_rewrites_the_entry_a_call_goes_through_and_puts_it_back)
    pid_t real = getppid(); /* bound now, whether lazily or not */
    struct seen s = {.value = (void *)fake_getppid};
    dl_iterate_phdr(each, &s);
    expect_eq_u64(s.n, 1);
    expect_eq_u64(s.other, 0);
    expect_true(s.wrote, "gotw_write failed");
    expect_eq_u64(getppid(), 424242);
    struct seen back = {.value = s.old};
    dl_iterate_phdr(each, &back);
    expect_eq_u64(back.n, 1);
    expect_true(back.at == s.at, "another entry the second time");
    expect_true(back.old == (void *)fake_getppid, "the entry did not hold ours");
    expect_true(back.wrote, "gotw_write failed putting it back");
    expect_eq_u64(getppid(), real);
TEST_END

TEST_BEGIN(gotwalk_hands_over_no_name_a_module_does_not_import)
    unsigned n = 0;
    dl_iterate_phdr(each_other, &n);
    expect_eq_u64(n, 0);
TEST_END

TEST_BEGIN(gotwalk_adds_follows_a_dlopen)
    unsigned long long before = gotw_adds();
    int had = dlopen("libanl.so.1", RTLD_NOW | RTLD_NOLOAD) != NULL;
    void *h = dlopen("libanl.so.1", RTLD_NOW);
    expect_true(h != NULL, "dlopen libanl.so.1: %s", dlerror());
    unsigned long long after = gotw_adds();
    if (had)
        expect_eq_u64(after, before);
    else
        expect_true(after > before, "adds %llu then %llu", before, after);
TEST_END

int main(void)
{
    gotwalk_rewrites_the_entry_a_call_goes_through_and_puts_it_back();
    gotwalk_hands_over_no_name_a_module_does_not_import();
    gotwalk_adds_follows_a_dlopen();
    return 0;
}
