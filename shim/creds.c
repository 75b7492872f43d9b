/*
 * creds.c - the process's credentials, as they concern the shim.
 *
 * Secure execution (AT_SECURE: a setuid, setgid or file-capability exec,
 * which /etc/ld.so.preload still enters): the environment is the caller's,
 * so the shim obeys none of it: it records, writes, starts and installs
 * nothing (the hooks forward); only HEAPSNAP_VERBOSE is read, to say so.
 *
 * Changes of ids: glibc's set*id wrappers make every thread change its ids
 * and abort when one thread's change fails where the caller's succeeded
 * (capabilities are per thread: setpriv raises its own again, then calls
 * setresgid, which a helper without CAP_SETGID cannot follow).  So each
 * wrapper is interposed, and the helper (life.c) is stopped and joined
 * before the real call, then started again with the new credentials.  The
 * state file follows the effective uid (state_owner): given to the new one
 * before the call (while the caller may still chown), back if it fails, to
 * the uid it ends with after; else a worker that became nobody could
 * neither open its root-owned file again nor remove it at its end.
 */
#include <errno.h>
#include <dlfcn.h>
#include <grp.h>
#include <unistd.h>

#include "root.h"

static struct {
    int (*setuid)(uid_t);
    int (*setgid)(gid_t);
    int (*seteuid)(uid_t);
    int (*setegid)(gid_t);
    int (*setreuid)(uid_t, uid_t);
    int (*setregid)(gid_t, gid_t);
    int (*setresuid)(uid_t, uid_t, uid_t);
    int (*setresgid)(gid_t, gid_t, gid_t);
    int (*setgroups)(size_t, const gid_t *);
    int (*initgroups)(const char *, gid_t);
    atomic_int resolved;
} cred;

/* The next definitions (dlsym allocates: inside the guard).  Done by the
 * constructor, so that a wrapper called from a signal handler (setuid is
 * async-signal-safe) finds them resolved. */
static void cred_resolve(void)
{
    int saved = guard_enter();
    cred.setuid = (int (*)(uid_t))dlsym(RTLD_NEXT, "setuid");
    cred.setgid = (int (*)(gid_t))dlsym(RTLD_NEXT, "setgid");
    cred.seteuid = (int (*)(uid_t))dlsym(RTLD_NEXT, "seteuid");
    cred.setegid = (int (*)(gid_t))dlsym(RTLD_NEXT, "setegid");
    cred.setreuid = (int (*)(uid_t, uid_t))dlsym(RTLD_NEXT, "setreuid");
    cred.setregid = (int (*)(gid_t, gid_t))dlsym(RTLD_NEXT, "setregid");
    cred.setresuid = (int (*)(uid_t, uid_t, uid_t))dlsym(RTLD_NEXT, "setresuid");
    cred.setresgid = (int (*)(gid_t, gid_t, gid_t))dlsym(RTLD_NEXT, "setresgid");
    cred.setgroups = (int (*)(size_t, const gid_t *))dlsym(RTLD_NEXT, "setgroups");
    cred.initgroups = (int (*)(const char *, gid_t))dlsym(RTLD_NEXT, "initgroups");
    atomic_store(&cred.resolved, 1);
    guard_leave(saved);
}

__attribute__((constructor(101))) static void cred_init(void)
{
    cred_secure();
    cred_resolve();
}

/* Before the real call: the helper stopped (1: resume after).  Not
 * from inside the shim (a handler that interrupted a hook may hold a lock
 * the helper waits for): there the call goes as it comes. */
static int cred_enter(void)
{
    if (HS_UNLIKELY(!atomic_load(&cred.resolved)))
        cred_resolve();
    return guard_on ? 0 : helper_pause();
}

/* After it: the helper back, the real call's errno kept. */
static int cred_leave(int paused, int r)
{
    int e = errno;
    if (paused)
        helper_resume();
    errno = e;
    return r;
}

static int cred_missing(void)
{
    errno = ENOSYS;
    return -1;
}

/* Before a call that makes e the effective uid ((uid_t)-1: unchanged):
 * the state file given to e; the uid it had, to give it back if the call
 * fails, or (uid_t)-1. */
static uid_t cred_owner_before(uid_t e)
{
    uid_t now = geteuid();
    if (e == (uid_t)-1 || e == now || state_owner(e) != 0)
        return (uid_t)-1;
    return now;
}

/* After it (r its result): back to the uid before on failure, else to
 * the effective uid it ends with; the real call's errno kept. */
static int cred_owner_after(uid_t before, int r)
{
    int e = errno;
    if (r != 0 && before != (uid_t)-1)
        state_owner(before);
    else if (r == 0)
        state_owner(geteuid());
    errno = e;
    return r;
}

HS_EXPORT int setuid(uid_t u)
{
    int p = cred_enter();
    uid_t was = cred_owner_before(u);
    return cred_leave(p, cred_owner_after(was, cred.setuid ? cred.setuid(u) : cred_missing()));
}

HS_EXPORT int setgid(gid_t g)
{
    int p = cred_enter();
    return cred_leave(p, cred.setgid ? cred.setgid(g) : cred_missing());
}

HS_EXPORT int seteuid(uid_t u)
{
    int p = cred_enter();
    uid_t was = cred_owner_before(u);
    return cred_leave(p, cred_owner_after(was, cred.seteuid ? cred.seteuid(u) : cred_missing()));
}

HS_EXPORT int setegid(gid_t g)
{
    int p = cred_enter();
    return cred_leave(p, cred.setegid ? cred.setegid(g) : cred_missing());
}

HS_EXPORT int setreuid(uid_t r, uid_t e)
{
    int p = cred_enter();
    uid_t was = cred_owner_before(e);
    return cred_leave(p, cred_owner_after(was, cred.setreuid ? cred.setreuid(r, e) : cred_missing()));
}

HS_EXPORT int setregid(gid_t r, gid_t e)
{
    int p = cred_enter();
    return cred_leave(p, cred.setregid ? cred.setregid(r, e) : cred_missing());
}

HS_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
    int p = cred_enter();
    uid_t was = cred_owner_before(e);
    return cred_leave(p, cred_owner_after(was, cred.setresuid ? cred.setresuid(r, e, s)
                                                              : cred_missing()));
}

HS_EXPORT int setresgid(gid_t r, gid_t e, gid_t s)
{
    int p = cred_enter();
    return cred_leave(p, cred.setresgid ? cred.setresgid(r, e, s) : cred_missing());
}

HS_EXPORT int setgroups(size_t n, const gid_t *list)
{
    int p = cred_enter();
    return cred_leave(p, cred.setgroups ? cred.setgroups(n, list) : cred_missing());
}

/* glibc's initgroups calls its own setgroups, past the wrapper above. */
HS_EXPORT int initgroups(const char *user, gid_t g)
{
    int p = cred_enter();
    return cred_leave(p, cred.initgroups ? cred.initgroups(user, g) : cred_missing());
}
