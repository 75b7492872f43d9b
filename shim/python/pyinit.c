/*
 * pyinit.c - what a C extension's initialisation keeps without a pointer.
 * A Cython module makes its constants (the code object of each def, the
 * tuples of names and of arguments) in its exec slot and assigns each to
 * a static variable; a static that the module's code never reads again is
 * removed by the C compiler (written, never read: dead), the call that
 * made the object stays, and the object lives on with its count of 1 and
 * no word anywhere in memory pointing to it.  Debian's pandas 1.5.3 on
 * 3.11 leaves about 800 such blocks (pandas/_libs/lib's disassembly: the
 * result of PyTuple_Pack is tested for NULL and passed on, never stored).
 * They are the extension's for good, like an immortal object: the leak
 * check classes them the runtime's (collect_mark_init), a root.
 *   The rule is narrow: the block holds a live object (a reference count
 * of 1 or more), no pointer reaches it, and its allocation stack, innermost
 * first, goes from code that is not the interpreter's to PyModule_ExecDef
 * (a multi-phase module's exec slot) with no Python frame between.  A
 * single-phase module (PyInit_ does all) is not recognised: the function
 * that calls it is not exported.
 */
#include <string.h>

#include "inner.h"
#include "peek.h"
#include "python.h"

/* ip (a return address) lies in the interpreter's own text. */
static int pyi_interp(uintptr_t ip)
{
    ip -= 1;
    return ip - py_sym.interp_lo[0] < py_sym.interp_hi[0] - py_sym.interp_lo[0] ||
           ip - py_sym.interp_lo[1] < py_sym.interp_hi[1] - py_sym.interp_lo[1];
}

int py_init_trace(const uintptr_t *ip, unsigned n)
{
    int other = 0;
    if (!py_on || py_sym.init_lo == py_sym.init_hi)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        if (HSNAP_IS_PYFRAME(ip[i]))
            return 0; /* Python code made it: the extension only called it */
        if (ip[i] - 1 - py_sym.init_lo < py_sym.init_hi - py_sym.init_lo)
            return other;
        if (!pyi_interp(ip[i]))
            other = 1; /* the extension's own code */
    }
    return 0;
}

int py_init_object(uintptr_t addr, uint64_t size)
{
    if (!py_on || !py_lay || !py_sym.type_type)
        return 0;
    /* the object at the block's start, past a PyGC_Head, or past a class
     * instance's pre-header as well */
    for (uint64_t off = 0; off <= 32 && off + 16 <= size; off += 16) {
        uintptr_t w[2], tt = 0;
        if (!peek(w, addr + off, sizeof w) || w[1] < 4096 || (w[1] & 7) ||
            !peek(&tt, w[1] + py_lay->ob_type, sizeof tt) || tt != py_sym.type_type)
            continue;
        /* a live count: from 3.12 on, its low 32 bits (above: flags) */
        int64_t rc = py_lay->version >= 0x030c0000u ? (int32_t)w[0] : (int64_t)w[0];
        return rc >= 1 && rc < ((int64_t)1 << 31);
    }
    return 0;
}
