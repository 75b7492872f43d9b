/*
 * latestart.h - the door of shim/attach: what runs in a process the shim was
 * loaded into late, by `heapsnap attach` (ptrace, then dlopen; the CLI's
 * inj_load).  got.c rewrites the modules' GOT entries of the malloc
 * family to the hooks and puts them back; attach.c is the entry point the
 * CLI calls and the control socket that `heapsnap detach` (and later the
 * live view) talks to.  Prefixes: got_, att_.
 */
#ifndef HEAPSNAP_ATTACH_H
#define HEAPSNAP_ATTACH_H

#include "root.h"

/* ---- got.c ---- */
int got_init(void);       /* the shim's own functions found: 0, or -1 */
unsigned got_hook(void);  /* every module's entries rewritten: how many in all */
void got_poll(void);      /* ... and those of modules loaded since */
void got_unhook(void);    /* every entry that holds ours put back */
void got_counts(unsigned *modules, unsigned *entries);

/* ---- attach.c ---- */
/* The entry point `heapsnap attach` makes the target call once dlopen has
 * loaded the shim: conf holds "HEAPSNAP_NAME=VALUE" lines.  0, or a
 * negative ATT_E* code the CLI names. */
enum {
    ATT_E_NOT_LATE = -1,  /* the shim was there from the start (heapsnap run) */
    ATT_E_BUSY = -2,      /* attached already */
    ATT_E_SECURE = -3,    /* secure execution: nothing is recorded */
    ATT_E_SELF = -4,      /* the shim's own functions not found */
    ATT_E_NO_GOT = -5,    /* no module reaches the malloc family through a GOT */
    ATT_E_SOCKET = -6,    /* the control socket could not be made */
    ATT_E_THREAD = -7,    /* the control thread could not start */
    ATT_E_LATE = -8,      /* heapsnap__serve: the shim was loaded late (no socket of ours) */
    ATT_E_IDLE = -9,      /* heapsnap__serve: the shim records nothing (stopped, or off) */
};
HS_EXPORT int heapsnap__attach(const char *conf);
/* The same, called by the process itself after its own dlopen of this
 * library (the Python package's pytest plugin): no control socket (the
 * control thread only polls for new modules), warnings to fd 2, and
 * HEAPSNAP_PAUSED=1 honoured (recording stopped until heapsnap_start).
 * ATT_E_SOCKET never comes. */
HS_EXPORT int heapsnap__load(const char *conf);
/* A preloaded shim (heapsnap run, LD_PRELOAD) without its control socket
 * makes it now, with its thread, as HEAPSNAP_LIVE makes them at start-up:
 * `heapsnap live` calls it through the injector (the library is loaded
 * already).  conf is unused.  0 (served already counts), or ATT_E_LATE,
 * ATT_E_SECURE, ATT_E_IDLE, ATT_E_BUSY, ATT_E_SOCKET, ATT_E_THREAD. */
HS_EXPORT int heapsnap__serve(const char *conf);

#endif
