/*
 * peek.h - reading the process's own memory where a mapping may have gone
 * since /proc/self/maps listed it (a thread the stop could not hold, the
 * shim's own helper): a copy through process_vm_readv, which fails where a
 * load would fault.  For probes of a few KiB on the leak check's slow path.
 *   In a frozen copy of the process (the leak check's fork: one thread,
 * no mapping can go) the ranges peek_freeze listed are read by plain
 * loads (peek_safe): the system call pinned a page for each read, a third of
 * the check's time in a big Python program.
 *   While the check's fork lives, the parent's pages are shared with it,
 * and a page process_vm_readv pins for a read is first copied for the
 * parent (the kernel unshares an anonymous page pinned while a fork maps
 * it: a copy and a TLB shootdown a page).  Between peek_mem_on and
 * peek_mem_off the copies are preads of /proc/self/mem instead, whose
 * reads do not pin.
 */
#ifndef HEAPSNAP_PEEK_H
#define HEAPSNAP_PEEK_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* The frozen copy's safe ranges (peek_freeze): sorted, merged; n 0 when
 * the process is not frozen. */
struct peek_range {
    uintptr_t lo, hi;
};
extern struct peek_frozen {
    struct peek_range *r;
    size_t n, cap;
} peek_fz;

/* In the leak check's fork, before its reads (the one thread left, every
 * mapping it has for good): the private anonymous and file mappings that
 * are readable become peek_safe's (not a shared one another process may
 * truncate, nor the kernel's [vvar], nor a device's), kept in r (room for
 * cap ranges, the caller's, until peek_thaw; more than cap: none).  No
 * malloc, no stdio. */
void peek_freeze(struct peek_range *r, size_t cap);
/* [lo, hi) no longer safe: a mapping the frozen copy may still unmap
 * itself (the shim's own, its scratch), which a safe range would
 * otherwise span, merged with the host's beside it.  No room to split a
 * range: none trusted. */
void peek_forget(uintptr_t lo, uintptr_t hi);
void peek_thaw(void);

/* /proc/self/mem's descriptor + 1 between peek_mem_on and peek_mem_off
 * (0: process_vm_readv).  peek_mem_on opens it where it can; one caller at
 * a time (the snapshot lock). */
extern int peek_mem_fd1;
void peek_mem_on(void);
void peek_mem_off(void);

/* The k ranges of from copied into to's (each to[i] as long as from[i]),
 * in order, stopping at the first that cannot be read whole: the bytes
 * copied, or -1 with errno as the copy left it (ENOSYS or EPERM: the
 * system call refused).  peek_readv_as: pid is getpid()'s, kept by a
 * caller that reads many times in one pass (no fork of its thread
 * between: glibc asks the kernel each time, a system call of its own). */
static inline long peek_readv_as(long pid, const struct iovec *to, const struct iovec *from,
                                 unsigned long k)
{
    if (!peek_mem_fd1)
        return syscall(SYS_process_vm_readv, pid, to, (long)k, from, (long)k, 0L);
    long got = 0;
    for (unsigned long i = 0; i < k; i++) {
        ssize_t r = pread(peek_mem_fd1 - 1, to[i].iov_base, from[i].iov_len,
                          (off_t)(uintptr_t)from[i].iov_base);
        if (r < 0 && !got)
            return errno == ENOSYS || errno == EPERM ? (errno = EIO, -1) : -1;
        got += r > 0 ? r : 0;
        if (r != (ssize_t)from[i].iov_len)
            break;
    }
    return got;
}

static inline long peek_readv(const struct iovec *to, const struct iovec *from, unsigned long k)
{
    return peek_readv_as(peek_mem_fd1 ? 0 : (long)getpid(), to, from, k);
}

/* Whether the n bytes at p may be read by a plain load: the process is
 * frozen and they lie in one safe range. */
static inline int peek_safe(uintptr_t p, size_t n)
{
    size_t l = 0, r = peek_fz.n;
    if (!r || p + n < p)
        return 0;
    while (r - l > 1) {
        size_t m = l + (r - l) / 2;
        if (peek_fz.r[m].lo <= p)
            l = m;
        else
            r = m;
    }
    return p >= peek_fz.r[l].lo && p + n <= peek_fz.r[l].hi;
}

/* Copies n bytes at src to dst: 1 when all were readable, 0 when not.
 * Where the system call is refused (a seccomp filter), a plain copy, as
 * before this existed. */
static inline int peek(void *dst, uintptr_t src, size_t n)
{
    if (peek_safe(src, n)) {
        memcpy(dst, (const void *)src, n);
        return 1;
    }
    struct iovec to = {dst, n}, from = {(void *)src, n};
    int saved = errno;
    long r = peek_readv(&to, &from, 1);
    int err = errno;
    errno = saved;
    if (r == (long)n)
        return 1;
    if (r < 0 && (err == ENOSYS || err == EPERM)) {
        memcpy(dst, (const void *)src, n);
        return 1;
    }
    return 0;
}

#endif
