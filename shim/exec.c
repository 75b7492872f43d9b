/*
 * exec.c - the exec family, interposed for two things: with
 * HEAPSNAP_EXEC_SNAPSHOT=1 the image that is about to be replaced writes a
 * snapshot first (reason exec; life_before_exec says when), and the state
 * file goes (an exec that fails gets it back: life_after_exec).  Otherwise
 * each is a call of the next definition and nothing more: exec discards
 * the image, and the program it becomes writes the pid's snapshot.
 *
 * glibc's execv, execvp, execl... reach the kernel through its internal
 * __execve, past an interposed execve, so each public name is wrapped;
 * execv and execvp are execve and execvpe with environ, as glibc has them.
 * The next definitions are looked up at start-up, never in the exec call:
 * a vfork child that execs shares its parent's memory and must not take
 * the loader's lock.  The variadic ones gather their arguments on the
 * stack, as glibc's do.  A launcher's helper execs without the shim in
 * LD_PRELOAD, and a launcher's own exec tells the image it becomes
 * (launch_exec_env): the array is rebuilt on the stack.
 *   posix_spawn and posix_spawnp, interposed for one thing: the parent
 * tells `heapsnap run` the child's pid (life_made), as fork does; glibc's
 * child execs by its internal __execve, past the hooks above.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "root.h"

static struct {
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    int (*spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                 const posix_spawnattr_t *, char *const[], char *const[]);
    int (*spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                  const posix_spawnattr_t *, char *const[], char *const[]);
} next;

__attribute__((constructor(103))) static void exec_init(void)
{
    int saved = guard_enter();
    loader_enter();
    next.execve = dlsym(RTLD_NEXT, "execve");
    next.execvpe = dlsym(RTLD_NEXT, "execvpe");
    next.fexecve = dlsym(RTLD_NEXT, "fexecve");
    next.execveat = dlsym(RTLD_NEXT, "execveat");
    next.spawn = dlsym(RTLD_NEXT, "posix_spawn");
    next.spawnp = dlsym(RTLD_NEXT, "posix_spawnp");
    launch_exec_init();
    loader_leave();
    guard_leave(saved);
}

/* The call when start-up has not found it (a constructor of another
 * library that execs before ours ran). */
static int exec_missing(void)
{
    errno = ENOSYS;
    return -1;
}

HS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    struct launch_env e;
    life_before_exec(path);
    int r = next.execve ? next.execve(path, argv, launch_exec_env(envp, &e)) : exec_missing();
    life_after_exec();
    return r;
}

HS_EXPORT int execv(const char *path, char *const argv[])
{
    struct launch_env e;
    life_before_exec(path);
    int r = next.execve ? next.execve(path, argv, launch_exec_env(environ, &e)) : exec_missing();
    life_after_exec();
    return r;
}

/* The file an exec by name will start when the name has a slash (glibc
 * searches PATH only for a name without one), else NULL: unknown. */
static const char *exec_named(const char *file)
{
    return file && strchr(file, '/') ? file : NULL;
}

HS_EXPORT int execvp(const char *file, char *const argv[])
{
    struct launch_env e;
    life_before_exec(exec_named(file));
    int r = next.execvpe ? next.execvpe(file, argv, launch_exec_env(environ, &e)) : exec_missing();
    life_after_exec();
    return r;
}

HS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    struct launch_env e;
    life_before_exec(exec_named(file));
    int r = next.execvpe ? next.execvpe(file, argv, launch_exec_env(envp, &e)) : exec_missing();
    life_after_exec();
    return r;
}

HS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct launch_env e;
    life_before_exec(NULL);
    int r = next.fexecve ? next.fexecve(fd, argv, launch_exec_env(envp, &e)) : exec_missing();
    life_after_exec();
    return r;
}

HS_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                       int flags)
{
    struct launch_env e;
    life_before_exec(!flags && (path[0] == '/' || dirfd == AT_FDCWD) ? path : NULL);
    int r = next.execveat ? next.execveat(dirfd, path, argv, launch_exec_env(envp, &e), flags)
                          : exec_missing();
    life_after_exec();
    return r;
}

/* The arguments from arg0 up to the NULL: how many (1 for a NULL arg0). */
static size_t exec_count(const char *arg0, va_list ap)
{
    size_t n = 1;
    if (arg0)
        while (va_arg(ap, const char *))
            n++;
    return n;
}

/* argv from arg0 and ap into v (room for the count, NULL included); the
 * pointer after the NULL (execle's envp) when want_env. */
static char **exec_gather(char **v, const char *arg0, va_list ap, int want_env)
{
    size_t i = 0;
    v[0] = (char *)arg0;
    while (v[i])
        v[++i] = va_arg(ap, char *);
    return want_env ? va_arg(ap, char **) : NULL;
}

HS_EXPORT int execl(const char *path, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    size_t n = exec_count(arg0, ap);
    va_end(ap);
    char *v[n + 1];
    va_start(ap, arg0);
    exec_gather(v, arg0, ap, 0);
    va_end(ap);
    return execv(path, v);
}

HS_EXPORT int execlp(const char *file, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    size_t n = exec_count(arg0, ap);
    va_end(ap);
    char *v[n + 1];
    va_start(ap, arg0);
    exec_gather(v, arg0, ap, 0);
    va_end(ap);
    return execvp(file, v);
}

HS_EXPORT int execle(const char *path, const char *arg0, ...)
{
    va_list ap;
    va_start(ap, arg0);
    size_t n = exec_count(arg0, ap);
    va_end(ap);
    char *v[n + 1];
    va_start(ap, arg0);
    char **envp = exec_gather(v, arg0, ap, 1);
    va_end(ap);
    return execve(path, v, envp);
}

/* The next posix_spawn's answer r for child got: run told its pid, *pid
 * set (NULL: not asked for), as the caller's own call would. */
static int exec_spawned(int r, pid_t got, pid_t *pid)
{
    if (r == 0) {
        life_made(got);
        if (pid)
            *pid = got;
    }
    return r;
}

HS_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    pid_t got = 0;
    int r = next.spawn ? next.spawn(&got, path, fa, attr, argv, envp) : ENOSYS;
    return exec_spawned(r, got, pid); /* got read after the call has set it */
}

HS_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    pid_t got = 0;
    int r = next.spawnp ? next.spawnp(&got, file, fa, attr, argv, envp) : ENOSYS;
    return exec_spawned(r, got, pid);
}
