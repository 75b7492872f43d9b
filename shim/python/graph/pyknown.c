/*
 * pyknown.c - the fields a type's layout holds that its tp_members do not
 * name (pymember.c names those), named as Python names them, for the
 * graph's links (pylink.c) and for what the graph's walk may tell the
 * retained sizes (pygraph.c): the steps "__traceback__",
 * "f_locals['big']", "result()", "base" of a path.  Each place was read
 * off a running interpreter of every supported version (3.10-3.15,
 * test_python_edges.sh pins the names):
 *   an exception (Py_TPFLAGS_BASE_EXC_SUBCLASS): args at 24, then 3.11 on
 *   __notes__, and __traceback__, __context__, __cause__ (getsets of
 *   PyBaseExceptionObject: 3.10 has no notes, its three 8 bytes earlier);
 *   an asyncio Future or Task (tp_name "_asyncio.Future", "_asyncio.Task",
 *   or a type whose tp_base chain reaches one): its loop at 16, first
 *   callback at 24 and the others' list at 40 (both _callbacks), its
 *   exception at 48, its result at 64;
 *   a frame object (tp_name "frame") that owns its frame: a fast local by
 *   its code's name (3.10: f_localsplus in the object; 3.11 on: the
 *   frame's data inline, where f_frame, the object's fourth word, points);
 *   a traceback (tp_name "traceback"): tb_next at 16 (tb_frame is a member);
 *   a numpy array (tp_name "numpy.ndarray", or derived): base at 48
 *   (PyArrayObject_fields, as pynumpy.c reads it).
 * A type's kind is kept in a small cache by its address (one snapshot's
 * types stay alive while its graph is built).  Every read is a peek:
 * nothing is trusted, a field that does not read as one keeps no name,
 * and a wrong name is only a label, never an edge.  Under the snapshot
 * lock only (pyg_build's).
 */
#include <string.h>

#include "pyreads.h"
#include "pyframes.h"
#include "pygraph.h"

#define PYKN_CACHE 256u                /* types remembered (power of two) */
#define PYKN_DEPTH 8u                  /* tp_base links followed */
#define PYKN_BASE_EXC (1ull << 30)     /* Py_TPFLAGS_BASE_EXC_SUBCLASS */
#define PYKN_ARRAY_BASE 48u            /* PyArrayObject_fields' base */
#define PYKN_FRAME_DATA 24u            /* 3.11 on: PyFrameObject's f_frame */
#define PYKN_TB_NEXT 16u               /* PyTracebackObject's tb_next (a getset) */

static struct {
    uintptr_t addr[PYKN_CACHE];
    uint8_t kind[PYKN_CACHE];
} kn;

void pyg_known_begin(void)
{
    memset(&kn, 0, sizeof kn);
}

/* The kind of the static type at t by its tp_name, up its tp_base chain. */
static unsigned pykn_lookup(uintptr_t t)
{
    static const struct {
        const char *name;
        unsigned kind;
    } known[] = {{"frame", PYKN_FRAME},
                 {"traceback", PYKN_TRACEBACK},
                 {"_asyncio.Future", PYKN_FUTURE},
                 {"_asyncio.Task", PYKN_FUTURE},
                 {"numpy.ndarray", PYKN_ARRAY}};
    for (unsigned d = 0; d < PYKN_DEPTH && t >= 4096; d++) {
        uintptr_t np;
        char s[16];
        if (!pyrd_pg_peek8(&np, t + PY_TP_NAME, sizeof np) || np < 4096 ||
            !pyrd_pg_peek(s, np, sizeof s))
            return PYKN_NONE;
        for (unsigned k = 0; k < sizeof known / sizeof *known; k++)
            if (!strncmp(s, known[k].name, sizeof s) &&
                (d == 0 || (known[k].kind != PYKN_FRAME &&
                            known[k].kind != PYKN_TRACEBACK))) /* no subclasses */
                return known[k].kind;
        if (!pyrd_pg_peek8(&t, t + PY_TP_BASE, sizeof t))
            return PYKN_NONE;
    }
    return PYKN_NONE;
}

unsigned pyg_known_kind(uintptr_t t, uint64_t flags)
{
    if (flags & PYKN_BASE_EXC)
        return PYKN_EXC;
    uint32_t s = (uint32_t)((t * 0x9e3779b97f4a7c15ull) >> 56) & (PYKN_CACHE - 1);
    if (kn.addr[s] != t) {
        kn.addr[s] = t;
        kn.kind[s] = (uint8_t)pykn_lookup(t);
    }
    return kn.kind[s];
}

/* An exception's field at value: its name, or NULL. */
static const char *pykn_exc_field(uint32_t value)
{
    static const char *const names[] = {"__traceback__", "__context__", "__cause__"};
    uint32_t tb = pylay_lay->version >= 0x030b0000u ? 40 : 32;
    if (value == 24)
        return "args";
    if (pylay_lay->version >= 0x030b0000u && value == 32)
        return "__notes__";
    return value >= tb && value < tb + 24 && !(value % 8) ? names[(value - tb) / 8] : NULL;
}

/* A Future's field at value (FutureObj's): its name, or NULL. */
static const char *pykn_future_field(uint32_t value)
{
    switch (value) {
    case 16:
        return "get_loop()";
    case 24: /* fut_callback0 */
    case 40: /* fut_callbacks */
        return "_callbacks";
    case 48:
        return "exception()";
    case 64:
        return "result()";
    }
    return NULL;
}

/* The text of item i of the tuple of str at tup into out (cap bytes). */
static uint32_t pykn_tuple_str(uintptr_t tup, uint64_t i, const struct pylay_obj_layout *ol,
                               char *out, uint32_t cap)
{
    uint64_t len;
    uintptr_t s;
    if (!pyrd_pg_peek8(&len, tup + 16, sizeof len) || i >= len || len >= (1u << 20) ||
        !pyrd_pg_peek8(&s, tup + ol->tuple_items + 8 * i, sizeof s))
        return 0;
    return pyfr_str_peek(s, out, cap);
}

/* The name of fast local i of code object co (3.10: co_varnames for the
 * first co_nlocals, then co_cellvars, co_freevars; then
 * co_localsplusnames) into out; its length, 0: none. */
static uint32_t pykn_local_name(uintptr_t co, uint64_t i, const struct pylay_obj_layout *ol,
                                char *out, uint32_t cap)
{
    uintptr_t tup[3] = {0, 0, 0};
    int32_t nlocals = 0;
    if (!pyrd_pg_peek8(&tup[0], co + ol->co_names, 8))
        return 0;
    if (!ol->co_cellvars)
        return pykn_tuple_str(tup[0], i, ol, out, cap);
    if (!pyrd_pg_peek(&nlocals, co + ol->co_nnames, sizeof nlocals) || nlocals < 0 ||
        !pyrd_pg_peek8(&tup[1], co + ol->co_cellvars, 8) ||
        !pyrd_pg_peek8(&tup[2], co + ol->co_freevars, 8))
        return 0;
    if (i < (uint64_t)nlocals)
        return pykn_tuple_str(tup[0], i, ol, out, cap);
    i -= (uint64_t)nlocals;
    for (int k = 1; k < 3; k++) {
        uint64_t len;
        if (!pyrd_pg_peek8(&len, tup[k] + 16, sizeof len) || len >= (1u << 20))
            return 0;
        if (i < len)
            return pykn_tuple_str(tup[k], i, ol, out, cap);
        i -= len;
    }
    return 0;
}

/* A frame object's field at value, obj the object (basic its type's
 * tp_basicsize): "f_locals['NAME']" when it is one of the fast locals of
 * the frame the object owns; *key: what names it (its code and index),
 * for pyg_link's cache. */
static uint32_t pykn_frame_local(uint64_t obj, int64_t basic, uint32_t value, char *out,
                                 uint32_t cap, uint64_t *key)
{
    const struct pylay_obj_layout *ol = pylay_obj_layout_find(pylay_lay->version);
    uintptr_t fd = obj, co;
    char name[96];
    if (!ol || !ol->fr_localsplus || cap < sizeof name + 16)
        return 0;
    if (pylay_lay->frames != PY_FRAMES_OBJECT &&
        (!pyrd_pg_peek8(&fd, obj + PYKN_FRAME_DATA, sizeof fd) || fd < obj ||
         fd >= obj + (uint64_t)basic))
        return 0; /* its frame on the thread's data stack: no locals here */
    uint64_t first = fd + ol->fr_localsplus, at = obj + value;
    if (at < first || !pyrd_pg_peek8(&co, fd + pylay_lay->fr_code, sizeof co))
        return 0;
    co &= ~PY_CODE_TAGS;
    uintptr_t cot;
    if (!pyrd_pg_peek8(&cot, co + pylay_lay->ob_type, sizeof cot) || cot != pylay_sym.code_type)
        return 0;
    uint64_t i = (at - first) / 8;
    uint32_t n = pykn_local_name(co, i, ol, name, sizeof name);
    if (!n)
        return 0;
    memcpy(out, "f_locals['", 10);
    memcpy(out + 10, name, n);
    memcpy(out + 10 + n, "']", 2);
    *key = (co ^ i << 48) | 6;
    return n + 12;
}

uint32_t pyg_known_name(uintptr_t t, uint64_t flags, int64_t basic, uint64_t obj, uint32_t value,
                        char *out, uint32_t cap, uint64_t *key)
{
    const char *s = NULL;
    *key = 0;
    switch (pyg_known_kind(t, flags)) {
    case PYKN_EXC:
        s = pykn_exc_field(value);
        break;
    case PYKN_FUTURE:
        s = pykn_future_field(value);
        break;
    case PYKN_ARRAY:
        s = value == PYKN_ARRAY_BASE ? "base" : NULL;
        break;
    case PYKN_TRACEBACK:
        s = value == PYKN_TB_NEXT ? "tb_next" : NULL;
        break;
    case PYKN_FRAME:
        return pykn_frame_local(obj, basic, value, out, cap, key);
    }
    uint32_t n = s ? (uint32_t)strlen(s) : 0;
    if (!n || n >= cap)
        return 0;
    memcpy(out, s, n);
    return n;
}
