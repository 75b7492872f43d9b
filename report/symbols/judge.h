/*
 * judge.h - the verdicts on a frame record, made once per record: an
 * allocator wrapper, the interpreter's machinery or the C runtime, a
 * Python frame, tracemalloc's own (wrappers.h's rules); and from them a
 * stack's allocation site and a Python stack's frames (frames.c's).
 */
#ifndef REPORT_JUDGE_H
#define REPORT_JUDGE_H

#include <stdint.h>

#include "framerec.h"

enum {
    V_KNOWN = 1,          /* judged */
    V_WRAPPER = 2,        /* wrap_is_wrapper */
    V_PYMACH = 4,         /* wrap_is_py_machinery */
    V_RUNTIME = 8,        /* wrap_is_py_runtime */
    V_PYTHON = 16,        /* a Python frame */
    V_TMOWN = 32,         /* wrap_is_tracemalloc_own */
};

/* Judges r by its full name (nothing when judged before), then shortens
 * that (--shorten-templates) and numbers its identity; -1 when out of
 * memory. */
int judge_frame(struct frec *r);

/* The verdicts on f, a judged record's frame. */
static inline uint32_t judge_bits(const struct frame *f)
{
    return ((const struct frec *)f)->bits;
}

/* The site among judged frames fr[0..n) by their verdicts, as
 * frames_site's, the interpreter's machinery a wrapper too in a Python
 * stack; the wrappers up to it in *nwrap. */
int judge_site(const struct frame *const *fr, int n, int *nwrap);

/* judge_site's site of a native stack (no Python frame) of which fr[0..n)
 * are the innermost frames, when the frames further out cannot change it;
 * -1 while they can (all wrappers so far, or nameless frames of one
 * module up to fr[n - 1], which a wrapper further out would make its
 * helpers).  *last: the outermost frame its name needs (a nameless site
 * is keyed by its nearest named caller in its module: stats' key_head),
 * which must be known too.  next: the module of the frame after
 * fr[n - 1], when known before it is symbolized (NULL: not known). */
int judge_site_known(const struct frame *const *fr, int n, const char *next, int *last);

/* Leaves the interpreter's machinery out of a Python stack fr[0..n), and
 * the C runtime's frames beyond the native site (the stack's first frame
 * past the wrappers); the frames left. */
int judge_py_trim(const struct frame **fr, int n);

/* Releases the shortened names. */
void judge_fini(void);

#endif
