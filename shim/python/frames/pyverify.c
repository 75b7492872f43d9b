/*
 * pyverify.c - the layout checked against the running interpreter before
 * the shim trusts it.  The frame walk of every allocation (recent.c) is
 * plain loads through the layout's offsets, a hot path that cannot afford
 * a check a load; a layout misread there (a point release that moved a
 * field, an embedder's own build) would kill the host at its first
 * Python allocation.  So once, under the GIL, before the allocator
 * domains are wrapped (dom_poll), the calling thread's frames are walked
 * with peek: each frame's code must be a code object (its type
 * PyCode_Type) whose file name is a str, each C stack entry frame an
 * owner the model knows.  A thread with no Python frame yet has nothing
 * to check and passes; one frame that does not read as the layout says
 * fails the whole layout, and the process gets native frames only, with
 * one note (PYUNREAD's UNVERIFIED).  test_pyverify
 * runs it on synthetic frames.
 */
#include <stdint.h>

#include "pyframes.h"
#include "peek.h"

#define PYV_FRAMES 32u /* frames checked at most */

static int pyv_word(uintptr_t at, uintptr_t *out)
{
    return at >= 4096 && peek(out, at, sizeof *out);
}

/* Frame fr's code reads as a code object whose file name is a str. */
static int pyv_code_ok(const struct pylay_layout *l, uintptr_t fr)
{
    uintptr_t co, type, file, ftype;
    if (!pyv_word(fr + l->fr_code, &co))
        return 0;
    co &= ~PY_CODE_TAGS;
    return pyv_word(co + l->ob_type, &type) && type == pylay_sym.code_type &&
           pyv_word(co + l->co_filename, &file) && pyv_word(file + l->ob_type, &ftype) &&
           (!pylay_sym.str_type || ftype == pylay_sym.str_type);
}

int pyfr_layout_verify(const char *ts)
{
    const struct pylay_layout *l = pylay_lay;
    uintptr_t at = (uintptr_t)ts, fr;
    if (!l || !ts)
        return -1;
    if (l->ts_cframe && !pyv_word(at + l->ts_cframe, &at))
        return -1;
    if (!at) /* no C frame record: nothing runs */
        return 0;
    if (!pyv_word(at + l->cf_current, &fr))
        return -1;
    for (unsigned n = 0; fr && n < PYV_FRAMES; n++) {
        uint8_t owner = 0;
        if (l->frames == PY_FRAMES_OWNER && !peek(&owner, fr + l->fr_entry, 1))
            return -1;
        if (l->frames == PY_FRAMES_OWNER && owner > 4)
            return -1; /* thread, generator, frame object, interpreter, C stack */
        if ((l->frames != PY_FRAMES_OWNER || owner != l->cstack) && !pyv_code_ok(l, fr))
            return -1;
        if (!pyv_word(fr + l->fr_previous, &fr) && fr)
            return -1;
    }
    return 0;
}
