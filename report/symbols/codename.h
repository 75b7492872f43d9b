/*
 * codename.h - a code address that is no trace's frame named as a frame
 * is: the C function a Python object's C-stack root lies in (PYTYPES'
 * HSNAP_PYROOT_AT), "func (file:line)".
 */
#ifndef REPORT_CODENAME_H
#define REPORT_CODENAME_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* The function holding code address ip of s (a return address: its
 * call's line) as "func (file:line)", or "func (module)" without a line,
 * into out; its length (0: out of memory, out empty). */
size_t codename_of(const struct snap *s, uint64_t ip, char *out, size_t n);

#endif
