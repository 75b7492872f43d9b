/*
 * orphan.c - children that no fork handler reached.  clone and clone3
 * without CLONE_VM make a process as fork does, but no atfork handler runs
 * in it: a shim lock another thread of the parent held at that moment is
 * held for good, and a wait for it would never end.
 *
 * A page marked MADV_WIPEONFORK tells such a child from the rest: the
 * kernel hands every new address space a zeroed copy of it, life.c's fork
 * handler writes it back (orph_forked), and a CLONE_VM child (vfork,
 * posix_spawn, a thread) shares the parent's.  Where the kernel has no
 * MADV_WIPEONFORK (before 4.14) nothing is known: such a child still waits.
 * lock_wait asks orph_stalled (handed down as lock_stall_fn once
 * the mark exists) when a wait lasts; in such a child
 * with no other thread, the shim's locks are taken back (orph_init's adopt,
 * the root's).
 * Such a child makes no new walk (orph_stop) and moves no live sum
 * (base_unforked): the state file's cells are its parent's.
 * The page is page-aligned in .bss (hook_fork_page), so in the loader's
 * anonymous mapping of it, never the file's last page (madvise takes only
 * private anonymous memory), and its word is one the hooks' plain test
 * reads directly (hook_plain): their paths test no mark.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "root.h"

static struct {
    volatile int *mark; /* the page's word: 0 in a child no handler reached */
    int adopted;        /* such a child, whose locks were taken back */
    void (*adopt)(void); /* ... by the root (orph_init) */
} orph;

static int orph_stalled(lock_t *l);

void orph_init(void (*adopt)(void))
{
    orph.adopt = adopt;
    if (madvise(hook_fork_page, sizeof hook_fork_page, MADV_WIPEONFORK) == 0 && !orph.mark) {
        orph.mark = (volatile int *)hook_fork_page; /* the word's low half: HS_FORK_MARK's bit */
        base_fork_mark = orph.mark; /* the cells' writer and the loader gate look too */
        lock_on_stall(orph_stalled); /* without the mark it could never tell */
    }
    /* Without the kernel's help, the plain paths go unmarked, as all else. */
    *(volatile uint64_t *)hook_fork_page = HS_FORK_MARK;
}

void orph_forked(void)
{
    if (orph.mark)
        *(volatile uint64_t *)hook_fork_page = HS_FORK_MARK;
}

/* A new address space whose fork handler did not run. */
static int orph_orphaned(void)
{
    return orph.mark && !*orph.mark;
}

int orph_foreign(void)
{
    return orph_orphaned() || orph.adopted;
}

/* Before a new walk (hook_site): in such a child, recording stops and
 * the walk is not made (it would look modules up under the loader's lock,
 * which a thread the child does not have may hold for good), so the child
 * records nothing more, as at a stalled lock.  Not in a fork child whose
 * handler is about to run (another library's child handler allocates
 * first).  1 when stopped. */
int orph_stop(void)
{
    if (!orph_orphaned() || loader_closed())
        return 0;
    hook_set_active(0);
    return 1;
}

/* Threads in this process (/proc/self/stat's 20th field), -1 unknown. */
static int orph_threads(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    for (int i = 0; p && i < 18; i++) /* field k follows the (k-2)th blank after ')' */
        p = strchr(p + 1, ' ');
    return p ? atoi(p + 1) : -1;
}

/* base.h: in a clone child that no fork handler reached and that has no
 * other thread, nobody will release l, nor any other lock of the shim:
 * take them back.  Elsewhere the wait goes on (the holder exists). */
static int orph_stalled(lock_t *l)
{
    if (!orph_orphaned() || orph_threads() != 1)
        return 0;
    if (!orph.adopted) {
        orph.adopted = 1;
        orph.adopt();
    }
    if (l)
        lock_drop(l);
    return 1;
}
