/*
 * pyfreewatch.c - before 3.13, an object a CPython free list hands out
 * again, charged where it is born again, as tracemalloc charges it
 * (py_fw_).  3.10-3.12 have no reference tracer to tell a birth
 * (pyreborn.c takes 3.13's): tracemalloc is called from _Py_NewReference
 * itself, which we may not patch.  So the free lists are watched instead:
 * each recorded allocation through a wrapped domain, once its block is on
 * the books (GIL held, guard clear), compares the main
 * interpreter's free lists of tuples (20 sizes, linked through
 * ob_item[0]), floats (linked through ob_type), lists and dicts (slot
 * arrays) with a shadow of each (its count and entries from the bottom).
 * A free list is a stack: only its top moves, so the common case is one
 * compare of the heads (the tuples' 20 in one memcmp) and of the two
 * arrays' counts and tops.  Where one moved, the entries the shadow held
 * above the part that stayed left the list; one that is alive now (its
 * count above 0, its type still its list's: a dead one keeps a count of
 * 0 on 3.10-3.12) was born again since the last look, and goes to the
 * host's hook (hookrecord.c's hook_reborn_near), which moves its block
 * to the trace just recorded for the allocation being hooked (no second
 * walk; the walk where that block is not on the books).  A temporary a
 * call borrows (an args tuple, a float) takes the slow path at about
 * every other allocation: docs/python.md's cost, scripts/bench/pydepth.py.
 *   The bound: a reuse is charged at the next Python-domain allocation,
 * not at the reuse itself: to that allocation's line (in a loop, the same
 * line; after a function that only reused objects returned, its caller's).
 * An object born again and dead again between two looks keeps its older
 * line (tracemalloc moves a dead one too); a free list popped and pushed
 * so that an entry lies where the shadow's did stops the compare there.
 * Only the main interpreter's lists are watched, only from its threads.
 * 3.10's frames, async generators' values and contexts are not watched.
 */
#include <dlfcn.h>
#include <string.h>

#include "base.h"
#include "pylayout.h"
#include "pyreads.h"
#include "pywrap.h"
#include "record.h"
#include "peek.h"

#define PFW_TUPLES 20u   /* PyTuple_MAXSAVESIZE */
#define PFW_FLOAT 20u    /* the lists' order: tuples by index, floats, lists, dicts */
#define PFW_LIST 21u
#define PFW_DICT 22u
#define PFW_LISTS 23u
#define PFW_TS_INTERP 16 /* offsetof(PyThreadState, interp), 3.10-3.12 */


/* One free list: where the interpreter keeps it, what its objects are. */
struct pfw_list {
    uint32_t count;   /* offsetof(PyInterpreterState, ...numfree): an int */
    int32_t slots;    /* an array's slots from the count; 0: linked */
    uint32_t head;    /* linked: its head's offset */
    uint16_t link;    /* linked: the next's place in a dead object */
    uint16_t pre;     /* the block starts this far before the object */
    uint32_t room;    /* most entries kept */
    uintptr_t type;   /* its objects' type */
    int64_t size;     /* a tuple's ob_size; -1: not a tuple */
    uintptr_t *sh;    /* the shadow: entries from the bottom, sh[0, n) */
};

/* All state of the watch, written under the GIL only. */
static struct {
    int on;                      /* 0: not armed yet; 1: watching; -1: never */
    const char *interp;          /* the main interpreter */
    uint32_t heads;              /* the tuples' heads: 20 words */
    uintptr_t top[PFW_LISTS];    /* each list's top as last seen (0: empty) */
    int32_t n[PFW_LISTS];        /* each list's count as last seen */
    struct pfw_list l[PFW_LISTS];
} fw;

/* The entry under e on a linked list (its link), 0 where it reads as no
 * dead object of the list. */
static uintptr_t pfw_next(const struct pfw_list *L, uintptr_t e)
{
    if (e < 4096 || (e & 7) || py_ptr((const char *)e, 0) != 0 ||
        (L->size >= 0 && (int64_t)py_ptr((const char *)e, 16) != L->size))
        return 0;
    return py_ptr((const char *)e, L->link);
}

/* An entry the shadow held, gone from its place: the host told of its
 * block when its object lives again (booked, count above 0, its type). */
static void pfw_gone(const struct pfw_list *L, uintptr_t o, uintptr_t fresh,
                     const struct unwind_origin *org, py_fw_host host)
{
    struct tbl_entry e;
    uintptr_t b = o - L->pre;
    if (o < 4096 || (o & 7) || b == fresh || !tbl_maybe(b))
        return;
    int saved = guard_enter();
    int booked = tbl_find(b, &e) || pend_find_fresh(b, &e); /* its memory is still ours */
    guard_leave(saved);
    if (!booked || (int64_t)py_ptr((const char *)o, 0) <= 0 ||
        py_ptr((const char *)o, 8) != L->type ||
        (L->size >= 0 && (int64_t)py_ptr((const char *)o, 16) != L->size))
        return;
    if (host)
        host(b, fresh, org);
}

/* List k compared with its shadow: the entries that left it told (host
 * NULL: none, the shadow only filled), the shadow made the list. */
static void pfw_diff(unsigned k, uintptr_t fresh, const struct unwind_origin *org,
                     py_fw_host host)
{
    struct pfw_list *L = &fw.l[k];
    const uintptr_t *slots = (const uintptr_t *)(fw.interp + L->count + L->slots);
    int32_t n, old = fw.n[k];
    memcpy(&n, fw.interp + L->count, sizeof n);
    if (n < 0 || n > (int32_t)L->room)
        n = 0; /* reads as no list: nothing kept */
    uintptr_t top;
    if (L->slots)
        top = n ? slots[n - 1] : 0;
    else
        memcpy(&top, fw.interp + L->head, sizeof top);
    for (int32_t i = n; i < old; i++)
        pfw_gone(L, L->sh[i], fresh, org, host);
    uintptr_t e = top;
    for (int32_t i = n - 1; i >= 0; i--) {
        if (i < old && L->sh[i] == e)
            break; /* the part below stayed */
        if (i < old)
            pfw_gone(L, L->sh[i], fresh, org, host);
        L->sh[i] = e;
        if (i && !(e = L->slots ? slots[i - 1] : pfw_next(L, e))) {
            n = 0; /* a chain shorter than its count: the shadow empty */
            break;
        }
    }
    fw.n[k] = n;
    fw.top[k] = top;
}

/* Whether list k reads as its layout says, read with peek (once, at the
 * arm: a row that misreads costs the watch, never the host): a count
 * within its room, and its first PFW_CHECK entries dead objects of it. */
#define PFW_CHECK 16
static int pfw_check(unsigned k)
{
    const struct pfw_list *L = &fw.l[k];
    int32_t n;
    uintptr_t e = 0, w[3];
    if (!L->room) /* 3.10's tuples of size 0: the empty tuple, not a list */
        return 1;
    if (!peek(&n, (uintptr_t)fw.interp + L->count, sizeof n) || n < 0 || n > (int32_t)L->room)
        return 0;
    for (int32_t i = n - 1; i >= 0 && i >= n - PFW_CHECK; i--) {
        uintptr_t at = L->slots ? (uintptr_t)fw.interp + L->count + L->slots + 8u * (uint32_t)i
                                : (i == n - 1 ? (uintptr_t)fw.interp + L->head : e + L->link);
        if (!peek(&e, at, sizeof e) || e < 4096 || (e & 7) || !peek(w, e, sizeof w) ||
            w[0] != 0 || (L->link != 8 && w[1] != L->type) || /* a float's type: its link */
            (L->size >= 0 && (int64_t)w[2] != L->size))
            return 0;
    }
    return 1;
}

/* The lists' places, the shadows made (GIL held, the domains wrapped). */
static HS_NOINLINE void pfw_arm(void)
{
    struct py_gc_layout gl;
    uint32_t fl = py_float_numfree_at(py_sym.version);
    fw.on = -1;
    if (py_sym.version >= 0x030d0000u || !fl || !py_lay || !py_sym.interp_main ||
        !py_sym.gil_holder || !py_sym.list_type || !py_sym.dict_type || !py_sym.tuple_type ||
        py_gc_layout_find(py_sym.version, NULL, &gl) != 0 || gl.linked)
        return;
    int saved = guard_enter(); /* a dlsym may allocate */
    uintptr_t float_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyFloat_Type");
    guard_leave(saved);
    const char *ts = py_sym.gil_holder();
    if (!(fw.interp = py_sym.interp_main()) || !float_type || !ts)
        return;
    if ((const char *)py_ptr(ts, PFW_TS_INTERP) != fw.interp) {
        fw.on = 0; /* another interpreter's thread: armed by the main one's */
        return;
    }
    size_t words = PFW_TUPLES * 2000u + 100u + 80u + 80u;
    uintptr_t *sh = arena_alloc(words * sizeof *sh);
    if (!sh)
        return;
    fw.heads = gl.tuple_numfree - PFW_TUPLES * 8u;
    for (unsigned i = 0; i < PFW_TUPLES; i++, sh += 2000)
        fw.l[i] = (struct pfw_list){gl.tuple_numfree + 4u * i, 0, fw.heads + 8u * i, 24,
                                    PY_GC_HEAD, i + gl.tuple_base ? 2000u : 0u,
                                    py_sym.tuple_type, (int64_t)(i + gl.tuple_base), sh};
    fw.l[PFW_FLOAT] = (struct pfw_list){fl, 0, fl + 8u, 8, 0, 100, float_type, -1, sh};
    int32_t dicts = (py_sym.version & 0xffff0000u) == 0x030c0000u ? -1280 : -640;
    fw.l[PFW_LIST] = (struct pfw_list){gl.list_numfree, -640, 0, 0, PY_GC_HEAD, 80,
                                       py_sym.list_type, -1, sh + 100};
    fw.l[PFW_DICT] = (struct pfw_list){gl.dict_numfree, dicts, 0, 0, PY_GC_HEAD, 80,
                                       py_sym.dict_type, -1, sh + 180};
    for (unsigned k = 0; k < PFW_LISTS; k++)
        if (!pfw_check(k)) {
            arena_free(fw.l[0].sh, words * sizeof *sh);
            return;
        }
    for (unsigned k = 0; k < PFW_LISTS; k++)
        pfw_diff(k, 0, NULL, NULL);
    fw.on = 1;
}

/* An array's count and top as the shadow has them. */
static inline int pfw_same(unsigned k)
{
    const struct pfw_list *L = &fw.l[k];
    const uintptr_t *slots = (const uintptr_t *)(fw.interp + L->count + L->slots);
    int32_t n;
    memcpy(&n, fw.interp + L->count, sizeof n);
    return n == fw.n[k] && (n > 0 ? slots[n - 1] : 0) == fw.top[k];
}

/* A linked list's head as the shadow has it (a push or a pop moves it). */
static inline int pfw_same_head(unsigned k)
{
    uintptr_t h;
    memcpy(&h, fw.interp + fw.l[k].head, sizeof h);
    return h == fw.top[k];
}

/* Something moved: each list that did compared, from the main
 * interpreter's threads only (another's GIL does not hold its lists
 * still). */
static HS_NOINLINE void pfw_slow(uintptr_t fresh, const struct unwind_origin *org,
                                 py_fw_host host)
{
    const char *ts = py_sym.gil_holder();
    if (!ts || (const char *)py_ptr(ts, PFW_TS_INTERP) != fw.interp)
        return;
    const uintptr_t *heads = (const uintptr_t *)(fw.interp + fw.heads);
    for (unsigned k = 0; k < PFW_TUPLES; k++)
        if (heads[k] != fw.top[k])
            pfw_diff(k, fresh, org, host);
    for (unsigned k = PFW_FLOAT; k < PFW_LISTS; k++)
        if (k == PFW_FLOAT ? !pfw_same_head(k) : !pfw_same(k))
            pfw_diff(k, fresh, org, host);
}

/* The hot path, after each recorded allocation through a wrapped domain
 * (GIL held, guard clear): the tuples' heads, the floats' and the two
 * arrays' tops against the shadow's. */
void py_fw_poll(uintptr_t fresh, const struct unwind_origin *org, py_fw_host host)
{
    if (HS_UNLIKELY(fw.on <= 0)) {
        if (!fw.on)
            pfw_arm();
        return;
    }
    if (memcmp(fw.interp + fw.heads, fw.top, PFW_TUPLES * 8u) || !pfw_same_head(PFW_FLOAT) ||
        !pfw_same(PFW_LIST) || !pfw_same(PFW_DICT))
        pfw_slow(fresh, org, host);
}
