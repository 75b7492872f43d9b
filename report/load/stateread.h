/*
 * stateread.h - a state file (shim/hsnap_state.h) read as a cut-short snapshot
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
    uint64_t behind_ns;    /* the last heartbeat less its document's time when the document
                              was behind it (hsnap_state_head.doc_fresh 0), else 0 */
    char service[40];      /* HEAPSNAP_SERVICE, printable ASCII and NUL-ended ("": none) */
    uint32_t unwritten_err; /* HSTATE_UNWRITTEN: the exit snapshot's errno (0: ENOMEM) */
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
/* state_load allocating at most cap bytes for the read (its budget: the
 * file's allowance, or cap when less): a state past it is refused with the
 * reason, not read (serve's agent, bounded whatever the process). */
int state_load_within(const char *path, uint64_t cap, struct snap *out, struct state_info *info,
                      char *err, size_t errlen);

/* state_load, and on stderr a note: whose state, cut short when, what it
 * misses.  0, or -1 with "PATH: reason" in err (as snap_load). */
int state_load_noted(const char *path, struct snap *out, char *err, size_t errlen);

/* --- the pieces state_load is made of, which statesums.c shares ------- */

struct hsnap_state_head;

/* The header's regions inside a file of size bytes and apart, and a
 * document published: 0, or -1 with the reason in err. */
int state_head_check(const struct hsnap_state_head *h, uint64_t size, char *err, size_t errlen);

struct stat;

/* The header read from fd (fstat: sb) into *h and checked as
 * state_head_check does, and b sized by the bytes the file uses: the
 * first step of both readers.  0, or -1 with the reason in err. */
int state_header_check(int fd, const struct stat *sb, struct hsnap_state_head *h,
                       struct snap_budget *b, char *err, size_t errlen);

/* The published document of a checked header, charged to b, read and its
 * crc32 checked, into *out (malloc'd, freed by the caller even on
 * failure).  0, or -1 with the reason in err. */
int state_doc_read(int fd, const struct hsnap_state_head *h, struct snap_budget *b,
                   uint8_t **out, char *err, size_t errlen);

/* The cells' live sums (count in 1/65536 units, bytes) per trace into
 * acc[0..n), added; what sites past n hold into *later.  0, or -1 when a
 * chunk cannot be read. */
int state_cells_read(int fd, const struct hsnap_state_head *h, int64_t (*acc)[2], uint32_t n,
                     uint64_t *later);

/* A trace's live blocks and bytes from its cells' sums (a torn or
 * negative sum holds nothing). */
void state_live(const int64_t acc[2], uint64_t *count, uint64_t *bytes);

/* *info from a checked header. */
void state_info_fill(const struct hsnap_state_head *h, struct state_info *info);

/* --- statesums.c: a state's live figures without its stacks ------------- */

/* What a state file says now that a live view (heapsnap serve's /metrics)
 * needs when it knows the file's sites already: the header, the cells'
 * live sums, and its document's META and FAILED when the document is not
 * the one the caller last saw. */
struct state_sums {
    uint32_t ntraces;       /* the traces the state holds (its stacks) */
    uint64_t doc_id;        /* the published document's identity */
    int doc_read;           /* meta and failed were read (the document is new) */
    struct hsnap_meta meta; /* its META as the shim wrote it (not patched) */
    uint64_t failed;        /* its FAILED counts, summed */
    int has_mapped;         /* its MAPPED was there (older shims' have none) */
    struct hsnap_mapped mapped; /* ... its head: the reserved address space */
    uint64_t (*live)[2];    /* per trace: live blocks, bytes (malloc'd) */
    uint64_t blocks, bytes; /* their sums */
    struct state_info info;
};

/* The state file open at fd read as above; META, FAILED and MAPPED's head only when the
 * published document's identity differs from doc_seen (0: none seen).  0,
 * or -1 with the reason in err (sums->live released).  The header and the
 * document are checked as state_load checks them. */
int state_sums_read(int fd, uint64_t doc_seen, struct state_sums *sums, char *err, size_t errlen);

/* Releases sums->live. */
void state_sums_free(struct state_sums *sums);

#endif
