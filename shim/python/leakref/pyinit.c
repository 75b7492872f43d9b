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
 * check classes them the runtime's (collect_mark_init), a root, and the
 * leaked references hear that class (pyl_count).
 *   The rule is narrow: the block holds a live object (a reference count
 * of 1 or more), no pointer reaches its start, and its allocation stack
 * was made while an extension initialised (pyl_init_made: by the
 * importer's Python frames, so single-phase PyInit_ modules as well as
 * exec slots, and a native frame of the extension's under them, which
 * HEAPSNAP_PYTHON_NATIVE=caller does not keep: there the interpreter's
 * own allocations under those frames count too).
 */
#include <string.h>

#include "pyframes.h"
#include "pyheap.h"
#include "pyleakref.h"
#include "peek.h"
#include "python.h"

/* ip (a return address) lies in the interpreter's own text. */
static int pyi_interp(uintptr_t ip)
{
    ip -= 1;
    return ip - pylay_sym.interp_lo[0] < pylay_sym.interp_hi[0] - pylay_sym.interp_lo[0] ||
           ip - pylay_sym.interp_lo[1] < pylay_sym.interp_hi[1] - pylay_sym.interp_lo[1];
}

/* ---------------- made while an extension initialised ----------------
 * By the importer's Python frames rather than the interpreter's symbols,
 * so that a single-phase module is recognised too (PyInit_ runs under
 * _imp.create_dynamic, whose C function is not exported): the trace's
 * innermost Python frame is importlib's _call_with_frames_removed, the
 * next one out ExtensionFileLoader.create_module (PyInit_) or
 * .exec_module (the exec slot; on 3.10, whose codes have no qualname,
 * create_module and exec_module of that file: its other loaders' run
 * Python code, whose frames would come first), and some native frame
 * inward of them is not the interpreter's (the extension's own code).
 * The codes' ids are looked up by name before a check stops the world
 * (pyl_init_prepare: the code table's lock), read without a lock after. */

#define PYI_IDS 8u /* ids of one name kept (3.10: a few loaders' methods) */

static struct {
    uint32_t id[3][PYI_IDS]; /* _call_with_frames_removed, create_module, exec_module */
    uint32_t n[3];
} pyi;

void pyl_init_prepare(void)
{
    static const char *const fn[3] = {"<frozen importlib._bootstrap>",
                                      "<frozen importlib._bootstrap_external>",
                                      "<frozen importlib._bootstrap_external>"};
    static const char *const qn[3] = {"_call_with_frames_removed",
                                      "ExtensionFileLoader.create_module",
                                      "ExtensionFileLoader.exec_module"};
    for (int k = 0; k < 3; k++) {
        pyi.n[k] = pyfr_on ? pyfr_code_named(fn[k], qn[k], pyi.id[k], PYI_IDS) : 0;
        const char *dot = strchr(qn[k], '.');
        if (pyfr_on && !pyi.n[k] && dot) /* 3.10 has no co_qualname: the name */
            pyi.n[k] = pyfr_code_named(fn[k], dot + 1, pyi.id[k], PYI_IDS);
    }
}

/* Python frame word w is code k's. */
static int pyi_is(uintptr_t w, int k)
{
    uint32_t id = (uint32_t)((w & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT);
    for (uint32_t i = 0; i < pyi.n[k]; i++)
        if (pyi.id[k][i] == id)
            return 1;
    return 0;
}

int pyl_init_made(const uintptr_t *ip, unsigned n)
{
    int other = 0;
    unsigned i = 0;
    while (i < n && !HSNAP_IS_PYFRAME(ip[i]))
        other |= !pyi_interp(ip[i++]);
    /* HEAPSNAP_PYTHON_NATIVE=caller keeps the allocator's caller alone
     * (pyfr_caller): which code called the interpreter is not known, and
     * what it made under an extension's initialisation counts as the
     * extension's (its PyTuple_Pack, PyCode_NewEmpty...) */
    other |= pyfr_caller_mode && i == 1;
    if (!other || i == n || !pyi_is(ip[i], 0))
        return 0;
    while (++i < n && !HSNAP_IS_PYFRAME(ip[i]))
        ; /* 3.10: the call's native frames between */
    return i < n && (pyi_is(ip[i], 1) || pyi_is(ip[i], 2));
}

/* pyl_init_made reads a trace up to its second Python frame: a shorter
 * window without one answers nothing yet. */
int pyl_init_trace(const uintptr_t *ip, unsigned n, int more)
{
    unsigned py = 0;
    if (!pyfr_on)
        return 0;
    for (unsigned i = 0; more && i < n && py < 2; i++)
        py += HSNAP_IS_PYFRAME(ip[i]) != 0;
    if (more && py < 2)
        return -1;
    return pyl_init_made(ip, n);
}

int pyl_init_object(uintptr_t addr, uint64_t size)
{
    if (!pyfr_on || !pylay_lay || !pylay_sym.type_type)
        return 0;
    /* the object at the block's start, past a PyGC_Head, or past a class
     * instance's pre-header as well */
    for (uint64_t off = 0; off <= 32 && off + 16 <= size; off += 16) {
        uintptr_t w[2], tt = 0;
        if (!peek(w, addr + off, sizeof w) || w[1] < 4096 || (w[1] & 7) ||
            !peek(&tt, w[1] + pylay_lay->ob_type, sizeof tt) || tt != pylay_sym.type_type)
            continue;
        /* a live count: from 3.12 on, its low 32 bits (above: flags) */
        int64_t rc = pylay_lay->version >= 0x030c0000u ? (int32_t)w[0] : (int64_t)w[0];
        return rc >= 1 && rc < ((int64_t)1 << 31);
    }
    return 0;
}

/* ---------------- what the interpreter recycled ----------------
 * PyTuple_Pack takes a tuple from the interpreter's free list when it has
 * one: that block keeps its first life's trace (a Python line), so the
 * stack does not tell.  A direct (or possible) tuple with a live count is such a
 * constant when it is the names argument (co_varnames) of a code object
 * an extension's initialisation made (3.11 on the code keeps a copy,
 * co_localsplusnames, whose first co_nlocals items are the same objects),
 * or when every item of it is an object such an initialisation made. */

#define PYI_ITEMS 64u       /* a tuple's items compared */
#define PYI_SET (1u << 14)  /* names signatures kept (a power of two) */

static uint64_t pyi_sig(const uintptr_t *it, uint64_t n)
{
    uint64_t h = n * 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < n; i++) {
        h ^= it[i] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdull;
    }
    return h | 1;
}

/* Signature sig in the open-addressed set (add: 1 puts it there). */
static int pyi_set(uint64_t *set, uint64_t sig, int add)
{
    uint64_t s = sig & (PYI_SET - 1);
    while (set[s] && set[s] != sig)
        s = (s + 1) & (PYI_SET - 1);
    if (add)
        set[s] = sig;
    return set[s] == sig;
}

/* Where a code object's names lie (pyi_code_sig's reads): the least a
 * block holding one is. */
static size_t pyi_code_end(const struct pylay_obj_layout *ol)
{
    return (ol->co_names > ol->co_nnames ? ol->co_names : ol->co_nnames) + 8u;
}

/* Whether the block at a starts with a code object (its type word). */
static int pyi_code_at(uintptr_t a)
{
    uintptr_t w[2];
    return peek(w, a, sizeof w) && w[1] == pylay_sym.code_type;
}

/* The block of b[0, n) (sorted) that holds address a, or n. */
static uint64_t pyi_block(const struct hsnap_block *b, uint64_t n, uintptr_t a)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (b[mid].addr <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && a - b[lo - 1].addr < b[lo - 1].size ? lo - 1 : n;
}

/* The names signature of code object co into *sig: 1, or 0 (none).  Two
 * reads: the code's head, the names tuple's head and items. */
static int pyi_code_sig(uintptr_t co, const struct pylay_obj_layout *ol, uint64_t *sig)
{
    uintptr_t w[4 + PYI_ITEMS];
    uint8_t head[128];
    int32_t nl = 0;
    uintptr_t names = 0, ty = 0;
    size_t end = pyi_code_end(ol);
    if (end > sizeof head || !peek(head, co, end))
        return 0;
    memcpy(&ty, head + 8, sizeof ty);
    memcpy(&nl, head + ol->co_nnames, sizeof nl);
    memcpy(&names, head + ol->co_names, sizeof names);
    if (ty != pylay_sym.code_type || nl <= 0 || nl > (int32_t)PYI_ITEMS ||
        !peek(w, names, ol->tuple_items + (size_t)nl * 8) || w[1] != pylay_sym.tuple_type ||
        w[2] < (uint64_t)nl)
        return 0;
    *sig = pyi_sig(w + ol->tuple_items / 8, (uint64_t)nl);
    return 1;
}

/* The names signatures of the code objects an extension's initialisation
 * made (marked above, or held by a function), into set; how many.  A
 * block's type word is read before its trace is asked (init: each one a
 * walk of its frames). */
static uint32_t pyi_names(const struct hsnap_block *b, uint64_t n, int (*init)(uint32_t, void *),
                          void *arg, const struct pylay_obj_layout *ol, uint64_t *set)
{
    uint32_t nsig = 0;
    uint64_t sig;
    size_t least = pyi_code_end(ol);
    for (uint64_t i = 0; i < n && nsig < PYI_SET / 2; i++)
        if (b[i].size >= least && pyi_code_at(b[i].addr) && init(b[i].trace, arg) &&
            pyi_code_sig(b[i].addr, ol, &sig)) {
            pyi_set(set, sig, 1);
            nsig++;
        }
    return nsig;
}

uint64_t pyl_init_held(struct hsnap_block *b, uint64_t n, int (*init)(uint32_t, void *),
                       void *arg)
{
    const struct pylay_obj_layout *ol;
    uint64_t marked = 0, *set;
    if (!pyfr_on || !pylay_lay || pylay_lay->version < 0x030b0000u || !pylay_sym.tuple_type ||
        !(ol = pylay_obj_layout_find(pylay_lay->version)) || !(set = arena_map(PYI_SET * 8)))
        return 0;
    uint32_t nsig = pyi_names(b, n, init, arg, ol, set);
    for (uint64_t i = 0; i < n; i++) {
        /* a tuple is a gc object: PyGC_Head (16 bytes), then ob_refcnt,
         * ob_type, ob_size and the items */
        uintptr_t t = b[i].addr + 16, hd[3], it[PYI_ITEMS];
        if ((b[i].cls != HSNAP_CLASS_DIRECT && b[i].cls != HSNAP_CLASS_POSSIBLE) ||
            b[i].size < 16 + sizeof hd + 8 ||
            !peek(hd, t, sizeof hd) || hd[1] != pylay_sym.tuple_type || !hd[2] ||
            hd[2] > PYI_ITEMS || !peek(it, t + sizeof hd, hd[2] * 8) ||
            !pyl_init_object(b[i].addr, b[i].size))
            continue;
        int held = nsig && pyi_set(set, pyi_sig(it, hd[2]), 0);
        for (uint64_t k = 0; !held && k < hd[2]; k++) {
            uint64_t j = pyi_block(b, n, it[k]);
            if (j == n || !init(b[j].trace, arg))
                break;
            held = k + 1 == hd[2];
        }
        if (held) {
            b[i].cls = HSNAP_CLASS_IGNORED;
            marked++;
        }
    }
    arena_unmap(set, PYI_SET * 8);
    return marked;
}

/* ---------------- the same, for the leaked references ----------------
 * Such a names tuple that a stale word reaches (a dead slot of the
 * interpreter's data stack, where the block's first life was a local) is
 * no lost block, so pyl_init_held never sees it; the leaked references'
 * scan, which skips the dead slots, finds its count of 1 with no word.
 * The candidates counted once more than pointed to: a tuple whose items
 * are the names of a code object its maker's stack calls an extension's
 * initialisation's (kept) is excused.  On the graph, in the process (the
 * check may have run in a fork, whose findings are gone). */

/* Object i's address. */
static uintptr_t pyi_obj(const struct pyh_heap *h, uint64_t i)
{
    return h->blk[pyh_blk_of(h, i)].addr + h->obj[i].off;
}

/* Object i a candidate tuple: its items' signature into *sig. */
static int pyi_cand(const struct pyh_heap *h, uint64_t i, const uint8_t *want,
                    const uint32_t *words, const struct pylay_obj_layout *ol, uint64_t *sig)
{
    uintptr_t hd[3], it[PYI_ITEMS], t = pyi_obj(h, i);
    if (!want[i] || words[i] == UINT32_MAX || (uint64_t)words[i] + 1 != h->obj[i].refcnt ||
        !peek(hd, t, sizeof hd) || hd[1] != pylay_sym.tuple_type || !hd[2] || hd[2] > PYI_ITEMS ||
        !peek(it, t + ol->tuple_items, hd[2] * 8))
        return 0;
    *sig = pyi_sig(it, hd[2]);
    return 1;
}

#define PYI_TYPES 4096u /* type ids remembered, code or not (direct-mapped) */

/* Object i a code object: its type id looked up once (a read each). */
static int pyi_is_code(const struct pyh_heap *h, uint64_t i, uint32_t *types)
{
    uint32_t ty = (uint32_t)h->obj[i].type, *slot = &types[ty % PYI_TYPES];
    uintptr_t tp = 0;
    if (*slot >> 1 != ty + 1) {
        int code = peek(&tp, pyi_obj(h, i) + pylay_lay->ob_type, sizeof tp) && tp == pylay_sym.code_type;
        *slot = (ty + 1) << 1 | (uint32_t)code;
    }
    return *slot & 1;
}

uint64_t pyl_init_names_refs(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want,
                            uint32_t *words, int (*kept)(uint64_t addr), int *full)
{
    const struct pylay_obj_layout *ol;
    uint64_t sig, ncand = 0, marked = 0, *cand, *set;
    size_t len = PYI_SET * 8 * 2 + PYI_TYPES * 4;
    *full = 0;
    if (!pyfr_on || !pylay_lay || pylay_lay->version < 0x030b0000u || !pylay_sym.tuple_type ||
        !pylay_sym.code_type || !(ol = pylay_obj_layout_find(pylay_lay->version)))
        return 0;
    for (uint64_t i = 0; i < nobj; i++)
        ncand += pyi_cand(h, i, want, words, ol, &sig);
    *full = ncand >= PYI_SET / 2;
    if (!ncand || !(cand = arena_map(len)))
        return 0;
    set = cand + PYI_SET;
    uint32_t *types = (uint32_t *)(set + PYI_SET), nsig = 0;
    for (uint64_t i = 0, k = 0; i < nobj && k < PYI_SET / 2; i++)
        if (pyi_cand(h, i, want, words, ol, &sig))
            pyi_set(cand, sig, 1), k++;
    /* the code objects whose names a candidate holds: their makers */
    for (uint64_t i = 0; i < nobj && nsig < PYI_SET / 2; i++)
        if (pyi_is_code(h, i, types) && pyi_code_sig(pyi_obj(h, i), ol, &sig) &&
            pyi_set(cand, sig, 0) && !pyi_set(set, sig, 0) && kept(h->blk[pyh_blk_of(h, i)].addr)) {
            pyi_set(set, sig, 1);
            nsig++;
        }
    *full |= nsig >= PYI_SET / 2;
    for (uint64_t i = 0; nsig && i < nobj; i++)
        if (pyi_cand(h, i, want, words, ol, &sig) && pyi_set(set, sig, 0)) {
            words[i] = UINT32_MAX;
            marked++;
        }
    arena_unmap(cand, len);
    return marked;
}
