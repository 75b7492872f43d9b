/*
 * statefile.h - the state room's inner header: the calls between state.c
 * (the file, its cells, the heartbeat and documents, the file across the
 * process's life; the one owner of the module state, st) and
 * statestacks.c (the traces' stacks), which keeps its own state and
 * reaches st in no way: the header comes to it as an argument.
 * Lock: none of its own (state_init's file says who writes what).
 */
#ifndef HEAPSNAP_STATEFILE_H
#define HEAPSNAP_STATEFILE_H

#include <sys/types.h>

#include "hsnap_state.h"
#include "base.h"
#include "record.h"
#include "snapshot.h"
#include "state.h"

#define STATE_STEP (16u * 1024u)    /* nodes, traces and documents grow by this */

/* state.c, for statestacks.c */
void state_full(uint32_t flag, const char *what); /* a part is full: flag it, warn once */
int state_reserve(uint64_t off, uint64_t len); /* the file's blocks allocated: 0, or -1 */
void *state_at(uint64_t off, uint64_t len); /* the helper's bytes there, mapped; NULL */
int state_write(uint64_t off, const void *p, size_t len); /* pwrite there: 0, or -1 */
void state_let_go(void);          /* the pages state_at gave out leave the resident set */
/* statestacks.c, for state.c */
/* traces [h->stacks_n, n)'s stacks written: 0, or -1 (full) */
int state_stacks(struct hsnap_state_head *h, uint32_t n);
uint64_t state_stacks_room(void); /* bytes of its regions allocated so far */
void state_stacks_restart(void);  /* a new file: none of them allocated */

#endif
