/*
 * tasks.c - the process's threads as the kernel sees them, for the stop:
 * a thread's stack bounds (glibc's, or for the main thread the mapping
 * that holds it, from /proc/self/maps), the mapping around an address,
 * and the tasks of /proc/self/task (each tid; whether one is exiting).
 * Raw reads (procmaps.c, getdents64): no stdio, no allocation, except
 * task_bounds off the main thread (pthread_getattr_np).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "leakinner.h"
#include "procmaps.h"

/* The main thread's stack, read here instead of from glibc's
 * pthread_getattr_np.  Its top is the end of the stack's mapping, which
 * holds argv[], envp[] and the auxiliary vector above __libc_stack_end:
 * glibc ends the stack at the page after __libc_stack_end, and a program
 * that stores heap pointers in argv[] (setproctitle: redis, nginx) had the
 * ones past that page read as leaks (test_leak_roots's
 * main_stack_argv_array_is_a_root; redis's test one run in 30 or so).  Its
 * bottom is glibc's: RLIMIT_STACK below that page, or the end of the
 * mapping below, whichever is nearer.  Also, on the main thread glibc
 * parses /proc/self/maps with stdio and sscanf, whose code pages and FILE
 * buffer cost the host ~300 KiB of resident memory for this one call (a
 * 5 MB program's peak RSS moved by 3%).  Raw reads, no allocation. */
extern void *__libc_stack_end;

struct task_main {
    uintptr_t at, below, lo, hi; /* at: __libc_stack_end; below: the previous mapping's end */
};

static void task_main_line(const struct procmaps_line *l, void *arg)
{
    struct task_main *m = arg;
    if (m->hi)
        return;
    if (m->at >= l->lo && m->at < l->hi) {
        struct rlimit rl;
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t end = (m->at & ~(page - 1)) + page, size;
        if (getrlimit(RLIMIT_STACK, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
            size = end - m->below;
        else
            size = rl.rlim_cur < end - m->below ? rl.rlim_cur : end - m->below;
        m->hi = l->hi;
        m->lo = end - size;
        return;
    }
    m->below = l->hi;
}

static int task_main_bounds(uintptr_t *lo, uintptr_t *hi)
{
    char buf[4096];
    struct task_main m = {(uintptr_t)__libc_stack_end, 0, 0, 0};
    uintptr_t sp = (uintptr_t)&m;
    /* Not the initial thread's stack (a thread of a fork's child from a
     * thread that was not the parent's main one, say): glibc's own way. */
    if (!m.at || syscall(SYS_gettid) != getpid() ||
        procmaps_each(buf, sizeof buf, task_main_line, &m) != 0 || !m.hi || sp < m.lo ||
        sp >= m.hi)
        return -1;
    *lo = m.lo;
    *hi = m.hi;
    return 0;
}

/* This thread's stack from pthread_getattr_np (which may allocate: call
 * with guard_on set, never while the world is stopped), or on the main
 * thread from task_main_bounds. */
void task_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0;
    *lo = *hi = 0;
    if (task_main_bounds(lo, hi) == 0)
        return;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        *lo = (uintptr_t)addr;
        *hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&a);
}

/* The lowest address of the mapping holding addr, from /proc/self/maps
 * (the main thread's stack grows on demand: its rlimit bound is not
 * mapped).  Raw reads, no allocation; 0 when not found. */
struct task_find {
    uintptr_t addr, lo, hi;
};

static void task_mapping_line(const struct procmaps_line *l, void *arg)
{
    struct task_find *f = arg;
    if (f->addr >= l->lo && f->addr < l->hi)
        f->lo = l->lo, f->hi = l->hi;
}

uintptr_t task_mapping_lo(uintptr_t addr)
{
    char buf[4096];
    struct task_find f = {addr, 0, 0};
    procmaps_each(buf, sizeof buf, task_mapping_line, &f);
    return f.lo;
}

/* The end of the mapping holding addr; 0 when not found. */
uintptr_t task_mapping_hi(uintptr_t addr)
{
    char buf[4096];
    struct task_find f = {addr, 0, 0};
    procmaps_each(buf, sizeof buf, task_mapping_line, &f);
    return f.hi;
}

/* Whether task tid is gone or exiting (state Z or X in its stat line): it
 * will never answer a stop, and holds no program frame any more. */
int task_dead(pid_t tid)
{
    char path[64], buf[512];
    static const char pre[] = "/proc/self/task/";
    size_t n = sizeof pre - 1;
    memcpy(path, pre, n);
    char digits[16];
    int k = 0;
    for (unsigned v = (unsigned)tid; v || !k; v /= 10)
        digits[k++] = (char)('0' + v % 10);
    while (k)
        path[n++] = digits[--k];
    memcpy(path + n, "/stat", 6);
    int saved = errno, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errno = saved;
        return 1;
    }
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    errno = saved;
    if (got <= 0)
        return 1;
    buf[got] = 0;
    char *paren = strrchr(buf, ')'); /* the name may hold ')' */
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

struct task_dirent { /* getdents64's record */
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};


/* fn(tid, arg) for each task of /proc/self/task; -1 when it cannot be read. */
int task_each(void (*fn)(pid_t tid, void *arg), void *arg)
{
    char buf[4096];
    int saved = errno, fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long at = 0; at < n;) {
            const struct task_dirent *e = (const struct task_dirent *)(buf + at);
            at += e->reclen;
            pid_t tid = 0;
            for (const char *c = e->name; *c >= '0' && *c <= '9'; c++)
                tid = tid * 10 + (*c - '0');
            if (tid > 0)
                fn(tid, arg);
        }
    }
    close(fd);
    errno = saved;
    return 0;
}
