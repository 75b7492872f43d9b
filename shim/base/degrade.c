/*
 * degrade.c - the shim's one way out of trouble (out of its own memory,
 * a table that cannot grow): warn once and stop recording, and let the
 * program finish as it would without the shim.  What stopping means is
 * the hooks' business: life.c's start-up names it (life_on_degrade), so
 * that the lowest room need not call the highest.
 */
#include "shim.h"

static struct {
    atomic_int degraded;  /* recording stopped */
    void (*stop)(void);   /* set once at start-up, before any thread */
} dgr;

void life_on_degrade(void (*stop)(void))
{
    dgr.stop = stop;
}

void life_degrade(const char *why)
{
    if (atomic_exchange(&dgr.degraded, 1) == 0) {
        if (dgr.stop)
            dgr.stop();
        opt_warn(why, "; recording stopped", "");
    }
}

int life_degraded(void)
{
    return atomic_load(&dgr.degraded);
}
