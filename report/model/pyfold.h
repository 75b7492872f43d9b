/*
 * pyfold.h - a Python stack's group with the interpreter's start-up and
 * the import machinery folded away (pyfold.c), for the HTML report's top
 * and diff tables (stats_opts.fold), as its flame graph folds them.
 */
#ifndef REPORT_PYFOLD_H
#define REPORT_PYFOLD_H

#include "frames.h"

/* The group of stack t, whose Python frames are fr[0..rest) (stats'
 * --python-only view), named by fr[*head]: NULL with *head moved past
 * importlib's frames to the innermost program line, or a synthetic frame
 * (one, stored for good) that names it instead: "[import machinery]"
 * when all its Python frames are importlib's, "[interpreter start-up]"
 * for a stack with no Python frame through Py_InitializeFromConfig and
 * its kin or the main entry alone (Py_BytesMain, pymain_run_python). */
const struct frame *const *pyfold_site(const struct frames_trace *t,
                                       const struct frame *const *fr, int rest, int *head);

#endif
