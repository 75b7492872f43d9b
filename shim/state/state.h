/*
 * state.h - the door of the state room (shim/state/): the state file
 * (hsnap_state.h), what the reports need kept where the kernel keeps it
 * when the process is killed.  state.c makes the file, hands out its
 * cells, writes the helper's heartbeat and documents and follows the
 * file through fork, exec, a change of ids and a clean end; statestacks.c
 * writes the traces' stacks in it.  It stands on the snapshot, python,
 * record and base rooms' doors; what it needs of the process above it
 * (whether this is the process that writes, the helper thread) comes
 * through struct state_host, set at start-up.  Prefix: state_.
 */
#ifndef HEAPSNAP_STATE_H
#define HEAPSNAP_STATE_H

#include <stdint.h>
#include <sys/types.h>

struct sbuf;

/* What the state file asks of the root (state_set_host). */
struct state_host {
    /* Not a vfork child, nor a clone child that no fork handler reached:
     * the process that owns the file. */
    int (*own_process)(void);
    /* Around a move of the file's pieces: the helper thread stopped and
     * joined (1: it was running), then started again; and woken now. */
    int (*helper_pause)(void);
    void (*helper_resume)(void);
    void (*helper_wake)(void);
};

/* Start-up, before recording: the host first (kept for good), then the file. */
void state_set_host(const struct state_host *host);
void state_init(void);
int state_on(void);
const char *state_path(void);     /* NULL: none */
void *state_cells(unsigned line, unsigned chunk); /* zeroed cells in the file, or NULL */
void state_cells_drop(const void *c); /* ... not kept by the caller */
uint64_t state_due(void);         /* the helper's next heartbeat; 0: none */
void state_beat(void);            /* the helper: heartbeat, and a document */
void state_done(void);            /* a clean end: the file goes */
int state_stacks_owed(void);      /* new sites' stacks wait: wake the helper (once a beat) */
void state_unwritten(int err);    /* an end whose snapshot failed with err: it stays */
void state_reattach(void);        /* an attach after a detach: the file again */
int state_late(int again);        /* live asks a session without one: 0 once it has it */
int state_yield(void);            /* a full disk at the end: the helper's blocks back; 0 or -1 */
void state_exec(const char *path); /* the image is about to be replaced */
int state_exec_failed(void);       /* ... and was not: 1, the helper must be woken */
void state_after_fork_child(void);
int state_owner(uid_t uid);       /* the file given to uid (a change of ids): 0, or -1 */
uint64_t state_used(void);        /* bytes of the file in use */
void state_put(struct sbuf *b);   /* the snapshot's STATE section */

#endif
