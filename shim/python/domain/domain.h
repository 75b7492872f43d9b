/*
 * domain.h - the door of shim/python/domain/: CPython found in the
 * process, and its MEM and OBJ allocator domains wrapped, so that each
 * object pymalloc hands out is a block charged where the program asked
 * for it (tracemalloc's way).  It stands on the hooks' recording (their
 * adopt, fail and countdown), the record room's books, the leak room's
 * roots and the Python rooms below; the hooks reach dom_poll only through
 * their host struct (hook_host), and what it needs of the process's life
 * (the exit snapshot, a thread's recording paused) comes in struct
 * dom_host at dom_init.  The root and shim/attach call it.  Prefix: dom_.
 */
#ifndef HEAPSNAP_DOMAIN_H
#define HEAPSNAP_DOMAIN_H

#include <stdint.h>

/* What the wrapping needs of the process's life, set by the root. */
struct dom_host {
    void (*exit_snapshot)(void); /* the exit snapshot now (life_exit_early) */
    int (*pause)(int off);       /* this thread's recording off (1) or back (0); was it on */
};

/* hook_py_waiting (hooks.h): nonzero while CPython was found but its
 * domains are not wrapped yet; set and cleared here. */
/* Nonzero once Python code allocated since this process was forked. */
extern int dom_ran;

/* From the constructor (guard set): find CPython's symbols; reads
 * HEAPSNAP_PYTHON.  Costs nothing more in a process without CPython.
 * host: copied. */
void dom_init(const struct dom_host *host);

/* From a recording hook (guard set), while hook_py_waiting: wraps the domains
 * when the interpreter is initialized and this thread holds the GIL. */
void dom_poll(void);
int dom_detach(void);   /* shim/attach: the domains unwrapped under the GIL (pending call) */
void dom_close(void);   /* ... at once, the GIL held: Python's exit snapshot is written */
void dom_reattach(void); /* ... and wrapped again at the next attach */
void dom_kick(void);     /* ... the wrap asked of the interpreter (a pending call) */

/* The leak check (world stopped): the live block at p (size bytes) is an
 * object CPython keeps for good (3.12 on: an immortal str, which an
 * interned string becomes and finalization forgets without freeing). */
int dom_immortal(uintptr_t p, uint64_t size);
/* The leak check (world stopped): the words of CPython's dead lists and
 * dicts on its free lists that still point at what they freed, each
 * [lo, hi) to fn (pyw_seed_stale): no references. */
void dom_stale_words(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

#endif
