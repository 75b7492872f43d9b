/*
 * pyexit.h - the door of shim/python/exit/: the exit snapshot of a Python
 * program, taken when CPython's finalization begins (an atexit callback
 * registered under the GIL by a pending call), while its modules still
 * hold the program's data.  The domain room finds CPython's functions
 * for it (pyexit_find) and arms it once the domains are wrapped, handing
 * on what it needs of the root in struct pyexit_host.  Prefix: pyexit_.
 */
#ifndef HEAPSNAP_PYEXIT_H
#define HEAPSNAP_PYEXIT_H

/* What the exit snapshot needs of the process's life, set by the root. */
struct pyexit_host {
    void (*snapshot)(void);   /* the exit snapshot, written now; exit() writes none */
    int (*pause)(int on);     /* the thread's recording off (1) or back (0); was it on */
    void (*seed_again)(void); /* the free lists' dead objects booked as start-up's */
};

/* CPython's functions, found by lookup (dom_init's). */
void pyexit_find(void *(*lookup)(const char *));
/* dom_poll, the domains just wrapped (GIL held, guard set): the atexit
 * registration asked for, once; host copied. */
void pyexit_arm(const struct pyexit_host *host);

#endif
