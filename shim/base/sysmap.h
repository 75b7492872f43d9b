/*
 * sysmap.h - the shim's own mmap, munmap, mremap, mprotect and madvise, as
 * system calls
 * (and the thread's signal mask: pthread_sigmask is a hook too, signals.c).
 * The exported mmap family is maphooks.c's door for the program's mappings;
 * the shim's own memory (arena, replies, copies, mapped ELF files) must
 * never pass through it, so every room maps with these and no room calls
 * up into the hooks.  Same contract as the libc calls: MAP_FAILED and errno.
 * Also sys_rename: libc's rename and renameat2 share 64 KiB of its text
 * that programs seldom run, resident with its window once run.
 */
#ifndef HEAPSNAP_SYSMAP_H
#define HEAPSNAP_SYSMAP_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static inline int sys_munmap(void *addr, size_t len)
{
    return (int)syscall(SYS_munmap, addr, len);
}

static inline void *sys_mremap(void *old, size_t old_len, size_t new_len, int flags,
                               void *new_addr)
{
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}

static inline int sys_madvise(void *addr, size_t len, int advice)
{
    return (int)syscall(SYS_madvise, addr, len, advice);
}

static inline int sys_mprotect(void *addr, size_t len, int prot)
{
    return (int)syscall(SYS_mprotect, addr, len, prot);
}

/* rt_sigprocmask, which reads and writes the kernel's 8-byte set (the rest
 * of a sigset_t is left as it was): 0, or -1 with errno. */
static inline int sys_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    return (int)syscall(SYS_rt_sigprocmask, how, set, old, (size_t)(_NSIG / 8));
}

/* renameat2(AT_FDCWD, from, AT_FDCWD, to, flags) as the system call; a
 * kernel without it: rename, for flags 0.  0, or -1 with errno. */
static inline int sys_rename(const char *from, const char *to, unsigned flags)
{
    long r = syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
    if (r != 0 && errno == ENOSYS && !flags)
        return rename(from, to);
    return r ? -1 : 0;
}

#endif
