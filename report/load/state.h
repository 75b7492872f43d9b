/*
 * state.h - a state file (shim/hsnap_state.h) read as a cut-short snapshot
 * (state_load).
 */
#ifndef REPORT_STATE_H
#define REPORT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

struct state_info {
    uint32_t pid;          /* the process that kept it */
    uint64_t beat_ns;      /* its last heartbeat (CLOCK_REALTIME) */
    uint64_t beats;
    uint32_t state, flags; /* HSTATE_RUNNING / _EXITED; HSTATE_FULL_* */
    uint64_t size, used;   /* the bound and the bytes in use */
    uint64_t later_bytes;  /* live bytes of sites born after the last document */
    uint64_t start_ns;     /* when the process started (CLOCK_REALTIME) */
    char service[40];      /* HEAPSNAP_SERVICE, printable ASCII and NUL-ended ("": none) */
};

/* Why a state file whose HSTATE_FULL_* flags are flags misses sites ("the
 * disk was full"), or NULL when it misses none. */
const char *state_full_why(uint32_t flags);

/* Whether the first len bytes of a file are a state file's. */
int state_is(const void *head, size_t len);

/* Reads and validates the state file at path into *out (as snap_load), and
 * what the snapshot alone does not say into *info.  0, or -1 with the
 * reason alone in err. */
int state_load(const char *path, struct snap *out, struct state_info *info, char *err,
               size_t errlen);

/* state_load, and on stderr a note: whose state, cut short when, what it
 * misses.  0, or -1 with "PATH: reason" in err (as snap_load). */
int state_load_noted(const char *path, struct snap *out, char *err, size_t errlen);

#endif
