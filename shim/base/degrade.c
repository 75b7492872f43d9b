/*
 * degrade.c - the shim's one way out of trouble (out of its own memory,
 * a table that cannot grow): warn once and stop recording, and let the
 * program finish as it would without the shim.  What stopping means is
 * the hooks' business: life.c's start-up names it (degrade_on_stop), so
 * that the lowest room need not call the highest.
 */
#include "base.h"

static struct {
    atomic_int degraded;  /* recording stopped */
    void (*stop)(void);   /* set once at start-up, before any thread */
} dgr;

void degrade_on_stop(void (*stop)(void))
{
    dgr.stop = stop;
}

void degrade_now(const char *why)
{
    if (atomic_exchange(&dgr.degraded, 1) == 0) {
        if (dgr.stop)
            dgr.stop();
        opt_warn(why, "; recording stopped", "");
    }
}

int degrade_is_on(void)
{
    return atomic_load(&dgr.degraded);
}
