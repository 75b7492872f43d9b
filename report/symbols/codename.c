/*
 * codename.c - a code address that is no trace's frame named as a frame
 * is (sym.h's registry, framerec.h's records: symbolized once for the
 * command): the C function a Python object's C-stack root lies in.
 */
#include <stdio.h>

#include "codename.h"
#include "framerec.h"
#include "sym.h"

size_t codename_of(const struct snap *s, uint64_t ip, char *out, size_t n)
{
    struct frec *const *r;
    if (!n)
        return 0;
    out[0] = 0;
    const struct snap_module *m = snap_module_at(s, ip);
    int mod = m ? sym_module(m) : -1;
    if ((m && mod < 0) || frec_native(mod, m ? ip - m->bias : ip, ip, &r) < 1)
        return 0;
    const struct frame *f = &r[0]->f; /* the innermost: the line of the call */
    int k = f->line ? snprintf(out, n, "%s (%s:%d)", f->func, f->file, f->line)
                    : snprintf(out, n, "%s (%s)", f->func, f->module);
    return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}
