/*
 * peek.h - reading the process's own memory where a mapping may have gone
 * since /proc/self/maps listed it (a thread the stop could not hold, the
 * shim's own helper): a copy through process_vm_readv, which fails where a
 * load would fault.  For probes of a few KiB on the leak check's slow path.
 */
#ifndef HEAPSNAP_PEEK_H
#define HEAPSNAP_PEEK_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Copies n bytes at src to dst: 1 when all were readable, 0 when not.
 * Where the system call is refused (a seccomp filter), a plain copy, as
 * before this existed. */
static inline int peek(void *dst, uintptr_t src, size_t n)
{
    struct iovec to = {dst, n}, from = {(void *)src, n};
    int saved = errno;
    long r = syscall(SYS_process_vm_readv, (long)getpid(), &to, 1L, &from, 1L, 0L);
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
