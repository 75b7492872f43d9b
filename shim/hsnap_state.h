/*
 * hsnap_state.h - the state file (docs/design.md, "The state that survives
 * a kill"): the contract between shim/state/state.c, which writes it, and
 * report/load/stateread.c, which reads it (so does a live view, #34).
 * Pointer-free, little-endian, fixed offsets:
 *   [0, 4096)          struct hsnap_state_head
 *   cells              chunk i at cells_off + i * HSTATE_CHUNK: the live
 *                      sums of ids [c * 4096, +4096) on one thread's line,
 *                      dir[i] = (line + 1) << 16 | c (0: nothing); a trace's
 *                      sums are the sum over lines (a line may be negative)
 *   nodes              the frame tree (frametree.c), node i at stacks_off +
 *                      16 i, written once; 0 the root, parents' ids lower
 *   traces             trace i at traces_off + 8 i: its innermost node,
 *                      depth, flags; stacks_n (published last) written
 *   doc 0, doc 1       a .hsnap without BLOCKS and TRACES; doc_slot (one
 *                      store) publishes the slot written last, len and crc;
 *                      traces past its STATS count are read from the
 *                      traces and the cells alone
 * Cells are stored in place by the hooks; the rest by the helper thread.
 */
#ifndef HSNAP_STATE_H
#define HSNAP_STATE_H

#include <stdint.h>

#define HSTATE_MAGIC "HSNAPKS\0"
#define HSTATE_VERSION 2u /* 1 kept whole stacks, shared with the one before */
#define HSTATE_PAGE 4096u                       /* the header's page */
#define HSTATE_IDS 4096u                        /* trace ids per chunk (PEAK_CHUNKS') */
#define HSTATE_CHUNK (HSTATE_IDS * 16u)         /* bytes of a chunk of cells */
#define HSTATE_DIR_MAX 960u                     /* chunks the directory names */
#define HSTATE_NO_DOC 0xffffffffu               /* doc_slot: none written yet */
#define HSTATE_SERVICE 40u                      /* bytes of the service's name, its NUL too */

/* state: what the process was doing when it last wrote the word */
enum { HSTATE_RUNNING = 1, HSTATE_EXITED = 2 };
/* flags */
#define HSTATE_FULL_CELLS 0x1u /* new sites' live sums are no longer kept here */
#define HSTATE_FULL_DOC 0x2u   /* the last document or stacks did not fit: an older one stays */
#define HSTATE_FULL_DISK 0x4u  /* ... because the disk was full (not HEAPSNAP_STATE's bound) */
#define HSTATE_UNWRITTEN 0x10u /* the exit snapshot could not be written (no memory, no
                                  right to write its directory): this file is its
                                  record (the process was not killed) */
#define HSTATE_ERR_SHIFT 16u   /* HSTATE_UNWRITTEN's errno in flags' bits 16-31; 0 for
                                  ENOMEM, the one files before it knew */
#define HSTATE_FULL_REACH 0x8u /* ... because the file was out of reach (removed, not
                                  writable, no address space left to map it) */

#pragma pack(push, 1)

struct hsnap_state_cell {
    int64_t count; /* in 1/65536 units (sampled weights) */
    int64_t bytes;
};

struct hsnap_state_node {
    uint64_t ip;     /* the frame */
    uint32_t parent; /* the node one frame further out (0: the root) */
    uint32_t set;    /* 1 once written */
};

struct hsnap_state_trace {
    uint32_t node;   /* innermost frame's node */
    uint16_t depth;  /* frames out to the root */
    uint16_t flags;  /* HSNAP_TRACE_* */
};

struct hsnap_state_doc {
    uint64_t len;    /* bytes of the document; 0: none */
    uint64_t t_ns;   /* CLOCK_REALTIME when it was made */
    uint32_t crc32;  /* zlib crc32 of its bytes */
    uint32_t reserved;
};

struct hsnap_state_head {
    char magic[8];
    uint32_t version;
    uint32_t header_size;     /* HSTATE_PAGE */
    uint64_t file_size;       /* the bound (HEAPSNAP_STATE) */
    uint32_t pid, ppid;
    uint64_t start_ns;        /* CLOCK_REALTIME at start-up */
    uint64_t beat_ns;         /* CLOCK_REALTIME of the last heartbeat */
    uint64_t beats;           /* heartbeats so far */
    uint32_t state;           /* HSTATE_RUNNING / _EXITED */
    uint32_t flags;           /* HSTATE_FULL_* */
    uint64_t cells_off, cells_len;
    uint64_t doc_off[2];
    uint64_t doc_cap;         /* bytes of each slot */
    struct hsnap_state_doc doc[2];
    uint32_t doc_slot;        /* the published slot, or HSTATE_NO_DOC */
    uint32_t ndir;            /* directory entries handed out */
    uint64_t docs;            /* documents written */
    uint64_t stacks_off, stacks_cap; /* the nodes */
    uint64_t stacks_len;      /* bytes of nodes, up to the highest written */
    uint32_t stacks_n;        /* traces written (published last) */
    uint32_t doc_fresh;       /* 1: the last heartbeat found the published document
                                 holding every allocation, free and trace counted
                                 at its start; 0: behind (or zeros of an older file) */
    uint64_t traces_off, traces_cap;
    uint32_t dir[HSTATE_DIR_MAX];
    char service[HSTATE_SERVICE]; /* HEAPSNAP_SERVICE, NUL-padded; zeros in older files */
};

#pragma pack(pop)

_Static_assert(sizeof(struct hsnap_state_head) <= HSTATE_PAGE, "state header fits its page");
_Static_assert(sizeof(struct hsnap_state_cell) * HSTATE_IDS == HSTATE_CHUNK, "chunk size");
_Static_assert(sizeof(struct hsnap_state_node) == 16 && sizeof(struct hsnap_state_trace) == 8,
               "node and trace records");

#endif
