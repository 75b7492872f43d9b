/*
 * fchain.h - frame chains: a stack's frames interned from its outermost
 * frame in, each chain one frame and the chain of its callers, so that
 * the traces of a snapshot's tree (format 5: outer frames stored once)
 * share what their nodes share and a trace's frames are gathered once per
 * node, not once per trace (frames.c).  Chain 0 is the empty one.
 */
#ifndef REPORT_FCHAIN_H
#define REPORT_FCHAIN_H

#include <stdint.h>

#include "frames.h"

struct fchain {
    const struct frame *f;      /* its innermost frame (NULL in chain 0) */
    const struct frames_trace *stack; /* frames_get's stack of exactly these
                                   frames, once made (NULL: not yet) */
    uint32_t parent;            /* the chain of the frames past f */
    uint32_t len;               /* frames in the chain */
    uint32_t npy;               /* of them, Python frames */
    uint32_t bits;              /* the OR of its frames' bits (judge_frame's verdicts) */
};

/* The chain of f then parent's frames (py: f is a Python frame; bits:
 * f's, ORed into the chain's): the one made right after parent when it
 * has f, else a new one (chains of equal frames may be two: fchain.c);
 * its id (>= 1), or -1 when out of memory.  parent must be 0 or an id
 * fchain_push returned. */
int64_t fchain_push(const struct frame *f, int py, uint32_t bits, uint32_t parent);

/* Chain id (0 or an id fchain_push returned); valid until the next push. */
struct fchain *fchain_at(uint32_t id);

/* Chain id's frames, innermost first, into out (room for its len). */
void fchain_frames(uint32_t id, const struct frame **out);

/* Releases every chain. */
void fchain_fini(void);

#endif
