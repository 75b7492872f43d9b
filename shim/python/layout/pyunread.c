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

static struct hsnap_pyunread pylay_unread;
static char pylay_unread_line[192]; /* "CPython 3.14" and what: the note said */

const char *pylay_unread_set(uint32_t version, uint32_t why, const char *what)
{
    size_t k = 0, w = strlen(what);
    pylay_unread.version = version & 0xffff0000u;
    pylay_unread.why = why;
    memcpy(pylay_unread_line, "CPython", 7), k = 7;
    if (version) {
        pylay_unread_line[k++] = ' ';
        k += opt_fmt_u64(pylay_unread_line + k, version >> 24);
        pylay_unread_line[k++] = '.';
        k += opt_fmt_u64(pylay_unread_line + k, (version >> 16) & 0xff);
    } else {
        memcpy(pylay_unread_line + k, " of a version it does not say", 29), k += 29;
    }
    if (w > sizeof pylay_unread_line - 1 - k)
        w = sizeof pylay_unread_line - 1 - k;
    memcpy(pylay_unread_line + k, what, w);
    pylay_unread_line[k + w] = 0;
    return pylay_unread_line;
}

const char *pylay_unread_text(void)
{
    return pylay_unread.why && pylay_unread.why != HSNAP_PYUNREAD_OBJECTS ? pylay_unread_line : NULL;
}

void pylay_unread_clear(void)
{
    memset(&pylay_unread, 0, sizeof pylay_unread);
}

int pylay_unread_get(struct hsnap_pyunread *out)
{
    if (!pylay_unread.why)
        return 0;
    *out = pylay_unread;
    return 1;
}

void pylay_unread_put(struct sbuf *b)
{
    if (pylay_unread.why)
        sbuf_put(b, &pylay_unread, sizeof pylay_unread);
}
