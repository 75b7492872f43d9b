/*
 * pyretain.h - PYRETAIN (shim/hsnap_format.h) read and checked: each
 * block's retained bytes and immediate dominator, on the snap's Python
 * objects (struct snap_pyobjs, pytypes.h).
 */
#ifndef REPORT_PYRETAIN_H
#define REPORT_PYRETAIN_H

#include <stddef.h>
#include <stdint.h>

struct snap;

/* Fills s->py.block_retained, block_idom and block_held from the PYRETAIN
 * payload (after BLOCKS and PYTYPES); 0, or -1 with "section PYRETAIN:
 * why" in err. */
int pyretain_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);

#endif
