/*
 * pyunread.c - the CPython the shim found and does not read, and why: a
 * version heapsnap has no layout for (too old, too new), a free-threaded
 * build, offsets it cannot verify, symbols missing.  The shim then records
 * native frames only; this record makes that a fact of every snapshot
 * (PYUNREAD, hsnap_pyunread) and of the C API (heapsnap_python_unread), so
 * that `info`, `top --key type` and the Python package say what they saw
 * instead of answering from native frames.  Set once at start-up
 * (dom_init, one thread); read by the snapshot writer and the API.
 */
#include <string.h>

#include "base.h"
#include "hsnap_format.h"
#include "pylayout.h"

static struct hsnap_pyunread py_unread;
static char py_unread_line[192]; /* "CPython 3.14" and what: the note said */

const char *py_unread_set(uint32_t version, uint32_t why, const char *what)
{
    size_t k = 0, w = strlen(what);
    py_unread.version = version & 0xffff0000u;
    py_unread.why = why;
    memcpy(py_unread_line, "CPython", 7), k = 7;
    if (version) {
        py_unread_line[k++] = ' ';
        k += opt_fmt_u64(py_unread_line + k, version >> 24);
        py_unread_line[k++] = '.';
        k += opt_fmt_u64(py_unread_line + k, (version >> 16) & 0xff);
    } else {
        memcpy(py_unread_line + k, " of a version it does not say", 29), k += 29;
    }
    if (w > sizeof py_unread_line - 1 - k)
        w = sizeof py_unread_line - 1 - k;
    memcpy(py_unread_line + k, what, w);
    py_unread_line[k + w] = 0;
    return py_unread_line;
}

const char *py_unread_text(void)
{
    return py_unread.why && py_unread.why != HSNAP_PYUNREAD_OBJECTS ? py_unread_line : NULL;
}

void py_unread_clear(void)
{
    memset(&py_unread, 0, sizeof py_unread);
}

int py_unread_get(struct hsnap_pyunread *out)
{
    if (!py_unread.why)
        return 0;
    *out = py_unread;
    return 1;
}

void py_unread_put(struct sbuf *b)
{
    if (py_unread.why)
        sbuf_put(b, &py_unread, sizeof py_unread);
}
