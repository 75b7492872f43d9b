/*
 * statefile.h - the state room's inner header: the file's module state
 * (st), owned by state.c (the file, its cells, the helper's heartbeat and
 * documents) and moved by statelife.c (the file across the process's
 * life: a fork's child, exec, a clean end); and the calls between the
 * room's files.  statestacks.c (the traces' stacks) keeps its own state
 * and reaches st in no way: the header comes to it as an argument.
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

#define STATE_SEG (256u * 1024u)    /* the helper's regions are mapped in pieces of this */
#define STATE_SEGS 4096u            /* ... so they span 1 GiB at most */
#define STATE_STEP (16u * 1024u)    /* nodes, traces and documents grow by this */

struct state_mod {
    const struct state_host *host; /* the root's (state_set_host) */
    struct hsnap_state_head *h;  /* the header page's mapping; NULL: no state file */
    size_t size;                 /* the file's bytes (the bound) */
    char path[NAME_MAX_PATH + 32];
    dev_t dev;                   /* the file put at path */
    ino_t ino;
    _Atomic uint32_t ncells;     /* chunks handed out */
    uint32_t maxcells;
    void *_Atomic cells[HSTATE_DIR_MAX]; /* chunk i's mapping */
    void *seg[STATE_SEGS];       /* the helper's regions, from traces_off, by STATE_SEG */
    uint32_t nseg;               /* seg[nseg..] never mapped: a fork's child reads no further */
    uint64_t doc_room[2];        /* bytes of each slot allocated so far */
    uint64_t due;                /* monotonic time of the next heartbeat */
    uint64_t doc_pcpu;           /* the process's CPU time at the last document */
    uint64_t used_max;           /* the most bytes of the file allocated at once */
    uint64_t last_allocs;        /* allocations at the last document */
    uint32_t last_traces;        /* traces at the last document */
    uint32_t doc_unfit;          /* traces of a document too big for its slot, or 0 */
    uint32_t last_codes;         /* Python code objects it named */
    uint64_t doc_at, doc_spent;  /* when it was made (monotonic), its CPU time */
    atomic_int warned_full;
    atomic_int done;             /* the file is gone (a clean end): nothing more */
    atomic_int beating;          /* the helper is inside state_beat */
    atomic_int takers;           /* hooks inside state_cells_take */
    atomic_int moving;           /* the helper moves the pieces: no chunk is taken */
    atomic_int unnamed;          /* state_exec took the name; an exec that failed gives it back */
};
extern struct state_mod st;
/* Apart from st so that st has no initialiser and stays in .bss: with one,
 * its pages were .data, read from the file and resident in every process. */
extern int st_fd;     /* the helper's, during a heartbeat only; else -1 */
extern int st_doc_fd; /* the document's memfd, while it is made; else -1 */

/* The process that owns the file (the host's own_process); none before
 * the root named its host. */
static inline int state_own(void)
{
    return st.host && st.host->own_process();
}

/* state.c, for statelife.c */
int state_open_as(int mode);      /* the file again, high; -1: no longer ours */
int state_reserve_fd(int fd, uint64_t off, uint64_t len); /* blocks allocated: 0, or -1 */
void state_full(uint32_t flag, const char *what); /* a part is full: flag it, warn once */
void state_name(char *out);       /* NAME.state beside the output */
int state_create_file(char *t);   /* a new file, named t for now: its descriptor, or -1 */
int state_name_file(const char *t); /* ... given st.path once whole: 0, or -1 */
void state_identity(void);        /* pid, ppid, start time, service into the header */
void state_init_as(long mib);     /* state_init with a bound of mib MiB */
/* state.c, for statestacks.c */
int state_reserve(uint64_t off, uint64_t len); /* the file's blocks allocated: 0, or -1 */
void *state_at(uint64_t off, uint64_t len); /* the helper's bytes there, mapped; NULL */
int state_write(uint64_t off, const void *p, size_t len); /* pwrite there: 0, or -1 */
void state_let_go(void);          /* the pages state_at gave out leave the resident set */
/* statestacks.c, for state.c */
/* traces [h->stacks_n, n)'s stacks written: 0, or -1 (full) */
int state_stacks(struct hsnap_state_head *h, uint32_t n);
uint64_t state_stacks_room(void); /* bytes of its regions allocated so far */
void state_stacks_restart(void);  /* a new file: none of them allocated */
/* statelife.c, for state.c */
void state_rename_back(void);     /* the helper, after a failed exec */

#endif
