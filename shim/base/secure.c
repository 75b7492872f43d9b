/*
 * secure.c - secure execution (AT_SECURE: a setuid, setgid or
 * file-capability exec): the environment is the unprivileged caller's, so
 * the shim records nothing and writes nothing (creds.c says why).  Every
 * room that would write asks here; the answer is read once from the
 * auxiliary vector.  A launcher's processes under `heapsnap run`
 * (launch_inactive) are answered the same: inactive, silent.
 */
#include <sys/auxv.h>
#include <unistd.h>

#include "base.h"

static atomic_int cred_secure_state; /* 0 unknown, 1 no, 2 yes */

int cred_secure(void)
{
    int s = atomic_load_explicit(&cred_secure_state, memory_order_relaxed);
    if (HS_UNLIKELY(!s)) {
        s = getauxval(AT_SECURE) ? 2 : 1;
        if (s == 1 && !environ)
            return 0; /* too early to read the launcher's variable: asked again later */
        if (s == 1 && launch_inactive())
            s = 2;
        atomic_store(&cred_secure_state, s);
    }
    return s == 2;
}
