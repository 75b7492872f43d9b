/*
 * pyroots.c - the roots of the Python objects' graph named as a Python
 * developer names them, read from the interpreter at a snapshot: each
 * module's globals ("module app, global CACHE"), the modules themselves
 * ("sys.modules['app']"), and each thread's running frames' fast locals
 * ("frame app.py:40 in main, local rows"), the other modules' writable
 * data ("static data of M.so (SYMBOL)": a C extension's statics), the
 * interpreter's ("the interpreter's own state"), last the threads' C
 * stacks ("C stack of thread TID at 0xPC", their live parts: pycstack.c).  The interpreter's own dicts
 * and frames are read wherever they are: the sys.modules dict and
 * __main__'s globals predate the wrap (no block of ours), a frame's locals
 * (3.11 on) live on the thread's data stack.  A reference from a place
 * that is no object of the graph is counted as found (exact); from one
 * that is (a module's dict made after the wrap, a generator's frame), the
 * graph has it already and the root only names it.
 *   The other threads run meanwhile: every read is a copy through
 * process_vm_readv (peek.h), the walks are bounded, and whatever cannot
 * be read is left out (the object then shows held from outside).  Only
 * pyg_build calls pyg_roots_collect, under the snapshot lock.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "base/procmaps.h"
#include "pagemap.h"
#include "hsnap_pyline.h"
#include "pyreads.h"
#include "pyframes.h"
#include "pygraph.h"
#include "leak.h"
#include "peek.h"

#define PYR_ENTRIES_MAX (1u << 20) /* entries of a dict looked at */
#define PYR_CHUNK 64u              /* entries read at a time */
#define PYR_THREADS 1024u          /* threads walked */
#define PYR_FRAMES 4096u           /* frames of a thread walked */
#define PYR_LOCALS 512u            /* fast locals of a frame named */
#define PYR_TEXT 512u              /* bytes of a root's description */
#define PYR_DATA_MAX (64u << 20)   /* bytes of a writable segment looked at */
#define PYR_ITEMS 65536u           /* items of an untraced global list named */
#define PYR_BUDGET (4u << 20)      /* bytes of those items' descriptions */
#define PYR_PAGE 4096u             /* a scanned range is read a page at a time */

static struct {
    const struct pylay_obj_layout *ol;
    uint8_t lt[1u << 16]; /* a code object's line table */
    uintptr_t slot[PYR_LOCALS];
    char text[PYR_TEXT], name[256], mod[256];
    uint32_t budget; /* bytes of descriptions left for untraced containers' items */
    struct pagemap pm; /* open while the roots are read */
} r;

static int pyroot_peek(void *dst, uintptr_t src, size_t n)
{
    return src >= 4096 && pyrd_pg_peek(dst, src, n);
}

static uintptr_t pyroot_word(uintptr_t at)
{
    uintptr_t v = 0;
    return pyroot_peek(&v, at, sizeof v) ? v : 0;
}

/* Where the entries of the keys object at keys are: their start, size,
 * the key's place in one, how many; 0 when it does not read as one. */
static int pyroot_keys(uintptr_t keys, uintptr_t *at, size_t *esz, size_t *kat, uint64_t *n)
{
    uint8_t k[40];
    if (!pyroot_peek(k, keys, sizeof k))
        return 0;
    uint64_t size, nent;
    if (r.ol->keys == PY_KEYS_310) { /* dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries */
        memcpy(&size, k + 8, 8);
        memcpy(&nent, k + 32, 8);
        if (size > (1u << 26))
            return 0;
        unsigned ib = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffu ? 4 : 8;
        *at = keys + 40 + size * ib, *esz = 24, *kat = 8;
    } else { /* dk_log2_index_bytes, dk_kind; dk_nentries */
        memcpy(&nent, k + 24, 8);
        *at = keys + 32 + ((uint64_t)1 << (k[9] & 31));
        *esz = k[10] ? 16 : 24, *kat = k[10] ? 0 : 8;
    }
    *n = nent;
    return nent <= PYR_ENTRIES_MAX;
}

uintptr_t pyg_roots_keys_entry(uintptr_t keys, uint64_t i, uintptr_t *value)
{
    uintptr_t at, e[3] = {0};
    size_t esz, kat;
    uint64_t n;
    if (!r.ol && pylay_lay)
        r.ol = pylay_obj_layout_find(pylay_lay->version);
    if (!r.ol || !pyroot_keys(keys, &at, &esz, &kat, &n) || i >= n ||
        !pyroot_peek(e, at + i * esz, esz))
        return 0;
    if (value)
        *value = e[kat / 8 + 1];
    return e[kat / 8];
}

/* Calls fn(ctx, key, value) for each entry of the dict at d (combined or
 * split); the count of entries, or -1 when d reads as no dict. */
static int64_t pyroot_dict_each(uintptr_t d, void (*fn)(void *, uintptr_t, uintptr_t), void *ctx)
{
    uintptr_t dict[6], at, e[PYR_CHUNK * 3], v[PYR_CHUNK];
    size_t esz, kat;
    uint64_t n, seen = 0;
    if (!pyroot_peek(dict, d, sizeof dict) || dict[1] != pylay_sym.dict_type ||
        !pyroot_keys(dict[4], &at, &esz, &kat, &n))
        return -1;
    /* ma_values: a split dict's, named by the keys' entries (3.13: past a header) */
    uintptr_t values = dict[5] ? dict[5] + (pylay_lay->version >= 0x030d0000u ? 8 : 0) : 0;
    for (uint64_t i = 0; i < n; i += PYR_CHUNK) {
        size_t m = n - i < PYR_CHUNK ? (size_t)(n - i) : PYR_CHUNK;
        if (!pyroot_peek(e, at + i * esz, m * esz) || (values && !pyroot_peek(v, values + 8 * i, 8 * m)))
            break;
        for (size_t j = 0; j < m; j++) {
            uintptr_t key = e[(j * esz + kat) / 8], val = values ? v[j] : e[(j * esz + kat) / 8 + 1];
            if (key && val) {
                fn(ctx, key, val);
                seen++;
            }
        }
    }
    return (int64_t)seen;
}

/* The text of the str at s, or "?" (a key that is no str). */
static uint32_t pyroot_str(uintptr_t s, char *out, uint32_t cap)
{
    uint32_t n = pyfr_str_peek(s, out, cap);
    if (!n) {
        out[0] = '?';
        n = 1;
    }
    return n;
}

struct pyroot_mod {
    const char *name;
    uint32_t len;
    int exact;
};

/* An item of a container no object of the graph holds, the text before
 * it r.text[0, head): "module M, global K (dict) -> ['k']". */
static void pyroot_item(void *ctx, uintptr_t key, uintptr_t value)
{
    const int *head = ctx;
    uint32_t o = pyg_object_at(value); /* untracked ones too (a str) */
    char k[100];
    if (o == PYG_NONE || r.budget < PYR_TEXT)
        return;
    uint32_t kn = pyroot_str(key, k, sizeof k);
    int n = snprintf(r.text + *head, sizeof r.text - (size_t)*head, " -> ['%.*s']", (int)kn, k);
    if (n > 0 && *head + n < (int)sizeof r.text) {
        pyg_root(o, HSNAP_PYROOT_GLOBAL, r.text, (uint32_t)(*head + n), 1);
        r.budget -= (uint32_t)(*head + n);
    }
}

/* A global's list or dict that is no object of the graph (made before the
 * wrap: a free list's): its items are roots one step further, while the
 * names' budget lasts (PYR_ITEMS a container).  t: its type. */
static void pyroot_container(uintptr_t c, uintptr_t t, int head)
{
    uintptr_t w[2];
    if (t == pylay_sym.dict_type) {
        head += snprintf(r.text + head, sizeof r.text - (size_t)head, " (dict)");
        pyroot_dict_each(c, pyroot_item, &head);
        return;
    }
    if (t != pylay_sym.list_type || !pyroot_peek(w, c + 16, sizeof w) || w[0] > PYR_ITEMS)
        return;
    head += snprintf(r.text + head, sizeof r.text - (size_t)head, " (list)");
    for (uint64_t i = 0; i < w[0] && r.budget >= PYR_TEXT; i += 64) {
        uintptr_t v[64];
        size_t m = w[0] - i < 64 ? (size_t)(w[0] - i) : 64;
        if (!pyroot_peek(v, w[1] + 8 * i, 8 * m))
            return;
        for (size_t j = 0; j < m; j++) {
            uint32_t o = pyg_object_at(v[j]);
            int n = snprintf(r.text + head, sizeof r.text - (size_t)head, " -> [%llu]",
                             (unsigned long long)(i + j));
            if (o != PYG_NONE && n > 0 && head + n < (int)sizeof r.text) {
                pyg_root(o, HSNAP_PYROOT_GLOBAL, r.text, (uint32_t)(head + n), 1);
                r.budget -= (uint32_t)(head + n);
            }
        }
    }
}

/* The type of a list or dict at v that no object of the graph holds (a
 * free list's, made before the wrap): its items are roots one step further,
 * as a global's or a local's own would be.  0 for anything else. */
static uintptr_t pyroot_loose(uintptr_t v)
{
    if (v < 4096 || pyg_object_holding(v) != PYG_NONE)
        return 0;
    uintptr_t t = pyroot_word(v + 8);
    return t == pylay_sym.dict_type || t == pylay_sym.list_type ? t : 0;
}

/* A global of a module whose dict is no object of the graph.  Its name is
 * read and formatted only where it names something: a fork child's
 * modules are all inherited (no object of its graph), and formatting each
 * of their globals' names was most of its exit snapshot's roots. */
static void pyroot_global(void *ctx, uintptr_t key, uintptr_t value)
{
    const struct pyroot_mod *m = ctx;
    uint32_t o = pyg_object_at(value);
    uintptr_t t = o == PYG_NONE ? pyroot_loose(value) : 0;
    if (o == PYG_NONE && !t)
        return;
    char k[200];
    uint32_t kn = pyroot_str(key, k, sizeof k);
    int n = snprintf(r.text, sizeof r.text, "module %.*s, global %.*s", (int)m->len, m->name,
                     (int)kn, k);
    if (n <= 0 || n >= (int)sizeof r.text - 64)
        return;
    if (o != PYG_NONE)
        pyg_root(o, HSNAP_PYROOT_GLOBAL, r.text, (uint32_t)n, m->exact);
    else
        pyroot_container(value, t, n);
}

/* A module of sys.modules (key its name): the module, its globals. */
static void pyroot_module(void *ctx, uintptr_t key, uintptr_t mod)
{
    const int *modules_in_graph = ctx;
    char name[200];
    uint32_t n = pyroot_str(key, name, sizeof name);
    uint32_t mo = pyg_tracked_at(mod);
    int len = snprintf(r.text, sizeof r.text, "sys.modules['%.*s']", (int)n, name);
    if (mo != PYG_NONE)
        pyg_root(mo, HSNAP_PYROOT_SYSMOD, r.text, (uint32_t)len, !*modules_in_graph);
    uintptr_t d = pyroot_word(mod + 16); /* PyModuleObject's md_dict */
    if (!d || pyroot_word(d + 8) != pylay_sym.dict_type)
        return;
    uint32_t dobj = pyg_tracked_at(d);
    if (dobj != PYG_NONE) { /* the dict's own edges name the globals */
        len = snprintf(r.text, sizeof r.text, "module %.*s", (int)n, name);
        pyg_root(dobj, HSNAP_PYROOT_MODULE, r.text, (uint32_t)len, mo == PYG_NONE);
        return;
    }
    struct pyroot_mod m = {name, n, 1};
    pyroot_dict_each(d, pyroot_global, &m);
}

/* __main__ first (its globals are the program's own), then the others. */
static void pyroot_main_first(void *ctx, uintptr_t key, uintptr_t mod)
{
    char name[16];
    int *pass = ctx;
    int is_main = pyfr_str_peek(key, name, sizeof name) == 8 && !memcmp(name, "__main__", 8);
    if (is_main == (pass[0] == 0))
        pyroot_module(pass + 1, key, mod);
}

static void pyroot_modules(void *interp)
{
    uintptr_t mods = pyroot_word((uintptr_t)interp + r.ol->interp_modules);
    if (!mods)
        return;
    int ctx[2] = {0, pyg_tracked_at(mods) != PYG_NONE};
    if (ctx[1])
        pyg_root(pyg_tracked_at(mods), HSNAP_PYROOT_SYSMODULES, "sys.modules", 11, 0);
    for (ctx[0] = 0; ctx[0] < 2; ctx[0]++)
        pyroot_dict_each(mods, pyroot_main_first, ctx);
}

/* The length of the tuple of str at t and its item i's text into out. */
static uint64_t pyroot_tuple(uintptr_t t, uint64_t i, char *out, uint32_t cap, uint32_t *n)
{
    uint64_t len = pyroot_word(t + 16);
    *n = 0;
    if (t && i < len && len < (1u << 20))
        *n = pyfr_str_peek(pyroot_word(t + r.ol->tuple_items + 8 * i), out, cap);
    return len < (1u << 20) ? len : 0;
}

/* The name of fast local i of code object co into r.name; its length. */
static uint32_t pyroot_local_name(uintptr_t co, uint64_t i)
{
    uint32_t n = 0;
    uintptr_t names[3] = {pyroot_word(co + r.ol->co_names),
                          r.ol->co_cellvars ? pyroot_word(co + r.ol->co_cellvars) : 0,
                          r.ol->co_freevars ? pyroot_word(co + r.ol->co_freevars) : 0};
    int32_t nlocals = 0;
    if (r.ol->co_cellvars && !pyroot_peek(&nlocals, co + r.ol->co_nnames, sizeof nlocals))
        return 0;
    for (int k = 0; k < 3 && names[k]; k++) { /* 3.10: varnames (nlocals), cells, frees */
        uint64_t len = pyroot_tuple(names[k], i, r.name, sizeof r.name, &n);
        if (k == 0 && r.ol->co_cellvars)
            len = (uint64_t)nlocals;
        if (i < len)
            return n;
        i -= len;
    }
    return 0;
}

/* How many fast locals a frame of co has (3.10: locals, cells, frees). */
static uint64_t pyroot_nlocals(uintptr_t co)
{
    int32_t n = 0;
    uint32_t x;
    if (!pyroot_peek(&n, co + r.ol->co_nnames, sizeof n) || n < 0)
        return 0;
    uint64_t all = (uint64_t)n;
    if (r.ol->co_cellvars)
        all += pyroot_tuple(pyroot_word(co + r.ol->co_cellvars), 0, r.name, 1, &x) +
               pyroot_tuple(pyroot_word(co + r.ol->co_freevars), 0, r.name, 1, &x);
    return all < PYR_LOCALS ? all : PYR_LOCALS;
}

/* "frame FILE:LINE in QUALNAME" of the frame at fr running co, into
 * r.text; its length. */
static int pyroot_frame_text(uintptr_t fr, uintptr_t co)
{
    const struct pylay_layout *l = pylay_lay;
    char file[300], qual[200];
    uint32_t fn = pyfr_str_peek(pyroot_word(co + l->co_filename), file, sizeof file);
    uint32_t qn = pyfr_str_peek(pyroot_word(co + l->co_qualname), qual, sizeof qual);
    int32_t first = 0;
    int64_t lasti = -1;
    uintptr_t lt = pyroot_word(co + l->co_linetable);
    uint64_t ltn = pyroot_word(lt + l->bytes_size);
    if (ltn > sizeof r.lt || !pyroot_peek(r.lt, lt + l->bytes_data, ltn))
        ltn = 0;
    pyroot_peek(&first, co + l->co_firstlineno, sizeof first);
    if (l->frames == PY_FRAMES_OBJECT) {
        int32_t f = -1;
        pyroot_peek(&f, fr + l->fr_instr, sizeof f);
        lasti = f;
    } else {
        lasti = ((int64_t)pyroot_word(fr + l->fr_instr) - (int64_t)(co + l->co_code)) / 2;
    }
    int line = ltn ? hsnap_py_line(pylay_sym.version, r.lt, (uint32_t)ltn, first, lasti) : first;
    return snprintf(r.text, sizeof r.text, "frame %.*s:%d in %.*s", (int)fn, file, line,
                    (int)qn, qual);
}

/* The fast locals of the frame at fr (its code co) as roots. */
static void pyroot_frame(uintptr_t fr, uintptr_t co)
{
    uint64_t n = pyroot_nlocals(co);
    if (!n || !pyroot_peek(r.slot, fr + r.ol->fr_localsplus, n * 8))
        return;
    int head = -1;
    /* a frame inside an object of the graph (3.10's frame object, a
     * generator's frame) has its locals as edges already */
    int exact = pyg_object_holding(fr) == PYG_NONE;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t o = pyg_tracked_at(r.slot[i]);
        uintptr_t t = o == PYG_NONE ? pyroot_loose(r.slot[i]) : 0;
        if (o == PYG_NONE && !t)
            continue;
        if (head < 0 && (head = pyroot_frame_text(fr, co)) >= (int)sizeof r.text - 64)
            return;
        uint32_t nn = pyroot_local_name(co, i);
        int len = snprintf(r.text + head, sizeof r.text - (size_t)head, ", local %.*s",
                           (int)(nn ? nn : 1), nn ? r.name : "?");
        if (len > 0 && head + len < (int)sizeof r.text - 64) {
            if (t)
                pyroot_container(r.slot[i], t, head + len);
            else
                pyg_root(o, HSNAP_PYROOT_LOCAL, r.text, (uint32_t)(head + len), exact);
        }
        r.text[head] = 0;
    }
}

/* Each frame of the thread whose state is ts, innermost first. */
static void pyroot_thread(uintptr_t ts)
{
    const struct pylay_layout *l = pylay_lay;
    uintptr_t fr = l->ts_cframe ? pyroot_word(pyroot_word(ts + l->ts_cframe) + l->cf_current)
                                : pyroot_word(ts + l->cf_current);
    for (unsigned k = 0; fr && k < PYR_FRAMES; k++, fr = pyroot_word(fr + l->fr_previous)) {
        uint8_t owner = 0;
        if (l->frames == PY_FRAMES_OWNER && pyroot_peek(&owner, fr + l->fr_entry, 1) &&
            owner == l->cstack)
            continue; /* the C stack's own frame: no locals of the program */
        uintptr_t co = pyroot_word(fr + l->fr_code) & ~PY_CODE_TAGS;
        if (co && pyroot_word(co + l->ob_type) == pylay_sym.code_type)
            pyroot_frame(fr, co);
    }
}

/* Names the root of an object whose start is the word at at of a scanned
 * range: *text and its length. */
typedef uint32_t (*pyroot_namer)(uintptr_t at, const char **text, void *ctx);

/* Whether the page at p was never written in this process (pagemap.h):
 * it reads as zeros (a never-touched .bss page, a stack's unused depth)
 * or as its file's bytes, fixed when it was linked: it holds no reference
 * the program made, and reading it would only fault it in
 * (python_exit_roots_skip_unwritten_pages).  The entries are read afresh
 * for each range (pyroot_scan_range empties the window), toward its other
 * end, the page at far.  0 when pagemap cannot tell. */
static int pyroot_page_unwritten(uintptr_t p, uintptr_t far)
{
    return pagemap_written(&r.pm, p, far) == 0;
}

/* Each aligned word of [lo, hi) (at most PYR_DATA_MAX bytes of it) that
 * is a tracked object's start is a root of kind, named by name; read a
 * page at a time, but for pages never written (pyroot_page_unwritten),
 * what cannot be read left out.  Named only: a word there may be stale
 * (a dead frame's slot, a freed object's static). */
static void pyroot_scan_range(uintptr_t lo, uintptr_t hi, unsigned kind, pyroot_namer name,
                              void *ctx)
{
    uintptr_t buf[PYG_WORDS];
    uint32_t at[PYG_WORDS], obj[PYG_WORDS];
    _Static_assert(sizeof buf >= PYR_PAGE, "a page's words fit the buffer");
    lo = (lo + 7) & ~(uintptr_t)7, hi &= ~(uintptr_t)7;
    if (hi <= lo)
        return;
    if (hi - lo > PYR_DATA_MAX)
        hi = lo + PYR_DATA_MAX;
    r.pm.n = 0;
    /* a stack outermost first: the frame furthest out that holds an
     * object names it (its owner; deeper ones were handed it, or keep a
     * stale copy in a slot not yet written), a data range upward */
    int down = kind == HSNAP_PYROOT_CSTACK;
    for (uintptr_t k = 0; k < hi - lo;) {
        uintptr_t from, to;
        if (down) {
            to = hi - k;
            from = (to - 1) & ~(uintptr_t)(PYR_PAGE - 1);
            from = from < lo ? lo : from;
        } else {
            from = lo + k;
            to = (from | (PYR_PAGE - 1)) + 1;
            to = to > hi ? hi : to;
        }
        k += to - from;
        size_t n = to - from;
        if (pyroot_page_unwritten(from, down ? lo : hi - 1) || !pyroot_peek(buf, from, n))
            continue;
        size_t m = pyg_tracked_all(buf, n / 8, at, obj);
        for (size_t i = 0; i < m; i++) {
            size_t j = down ? m - 1 - i : i;
            const char *text;
            uint32_t len = name(from + 8 * at[j], &text, ctx);
            pyg_root(obj[j], kind, text, len, 0);
        }
    }
}

/* A range's one name: ctx is its text, r.text (the length in *len). */
struct pyroot_fixed {
    const char *text;
    uint32_t len;
};

static uint32_t pyroot_fixed_name(uintptr_t at, const char **text, void *ctx)
{
    const struct pyroot_fixed *f = ctx;
    (void)at;
    *text = f->text;
    return f->len;
}

/* The interpreter's own state: its module's writable segments
 * (_PyRuntime, the static types, signal handlers), but the main
 * interpreter's spans that hold no reference (3.11 on it is static data;
 * pylay_borrowed_spans): a free list's slots hold free objects, and past
 * numfree stale addresses of objects since freed, whose memory a dead
 * cycle may now occupy; 3.13's function version cache is borrowed. */
static void pyroot_interp_data(uintptr_t interp)
{
    static const char text[] = "the interpreter's own state";
    struct pyroot_fixed f = {text, sizeof text - 1};
    uint32_t slo[PY_SPANS], shi[PY_SPANS];
    unsigned ns = pylay_borrowed_spans(pylay_lay->version, slo, shi);
    for (int k = 0; k < 4; k++) {
        uintptr_t lo = pylay_sym.data_lo[k], hi = pylay_sym.data_hi[k];
        if (interp < lo || interp >= hi) {
            pyroot_scan_range(lo, hi, HSNAP_PYROOT_INTERP, pyroot_fixed_name, &f);
            continue;
        }
        for (unsigned j = 0; j < ns && interp + shi[j] <= hi; j++) {
            pyroot_scan_range(lo, interp + slo[j], HSNAP_PYROOT_INTERP, pyroot_fixed_name, &f);
            lo = interp + shi[j];
        }
        pyroot_scan_range(lo, hi, HSNAP_PYROOT_INTERP, pyroot_fixed_name, &f);
    }
}

/* ---------------- the static data of C extensions ---------------- */

#define PYR_MODS 512u /* modules' writable segments looked at */

static struct {
    uintptr_t lo[PYR_MODS], hi[PYR_MODS];
    const char *name[PYR_MODS]; /* the loader's copy of its path */
    unsigned n;
} rs;

/* Each module's writable segments but the interpreter's and the shim's. */
static int pyroot_module_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    const char *name = info->dlpi_name;
    if (!name || !name[0] || strstr(name, "libheapsnap"))
        return 0; /* the executable (a static build's interpreter), the shim */
    for (int i = 0; i < info->dlpi_phnum && rs.n < PYR_MODS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || lo == pylay_sym.data_lo[0] ||
            lo == pylay_sym.data_lo[1] || lo == pylay_sym.data_lo[2] || lo == pylay_sym.data_lo[3])
            continue;
        rs.lo[rs.n] = lo, rs.hi[rs.n] = lo + ph->p_memsz, rs.name[rs.n++] = name;
    }
    return 0;
}

/* "static data of NAME.so (SYMBOL)" for a word at at of module k: the
 * dynamic symbol when the word lies inside it (a Cython module's statics
 * have none: then the module alone); its length. */
static int pyroot_static_text(unsigned k, uintptr_t at)
{
    const char *base = strrchr(rs.name[k], '/');
    base = base ? base + 1 : rs.name[k];
    int n = snprintf(r.text, sizeof r.text, "static data of %s", base);
    Dl_info di;
    const ElfW(Sym) *sym = NULL;
    if (!pyg_sym_may_hold(rs.lo[k], rs.hi[k], rs.name[k], at)) /* in no symbol: no call */
        return n > 0 && n < (int)sizeof r.text ? n : (int)sizeof r.text - 1;
    loader_enter();
    int found = dladdr1((void *)at, &di, (void **)&sym, RTLD_DL_SYMENT) && sym && di.dli_sname &&
                at - (uintptr_t)di.dli_saddr < sym->st_size;
    if (found && n > 0 && n < (int)sizeof r.text)
        n += snprintf(r.text + n, sizeof r.text - (size_t)n, " (%s)", di.dli_sname);
    loader_leave();
    return n > 0 && n < (int)sizeof r.text ? n : (int)sizeof r.text - 1;
}

static uint32_t pyroot_static_name(uintptr_t at, const char **text, void *ctx)
{
    *text = r.text;
    return (uint32_t)pyroot_static_text(*(const unsigned *)ctx, at);
}

/* The C extensions' (and their libraries') static data: each module's
 * writable segments, named by module and symbol as the interpreter's
 * state is by its name. */
static void pyroot_static_data(void)
{
    rs.n = 0;
    loader_iterate_phdr(pyroot_module_segments, NULL);
    for (unsigned k = 0; k < rs.n; k++)
        pyroot_scan_range(rs.lo[k], rs.hi[k], HSNAP_PYROOT_STATIC, pyroot_static_name, &k);
    pyg_syms_end();
}

void pyg_roots_statics(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    rs.n = 0;
    loader_iterate_phdr(pyroot_module_segments, NULL);
    for (unsigned k = 0; k < rs.n; k++)
        fn(rs.lo[k], rs.hi[k], arg);
}

/* ---------------- the threads' C stacks ---------------- */

static char pyroot_line[4096];

/* A thread's C stack being named: its text's head, its live part's start
 * and its pc (pyg_cstack_live). */
struct pyroot_cstack {
    int head;
    uintptr_t from, pc;
};

/* "C stack of thread TID at 0xPC": PC in the function whose frame holds
 * the word at at (HSNAP_PYROOT_AT; pyg_cstack_frame_pc), the CLI names it. */
static uint32_t pyroot_cstack_name(uintptr_t at, const char **text, void *ctx)
{
    const struct pyroot_cstack *c = ctx;
    uintptr_t pc = pyg_cstack_frame_pc(at, c->from, c->pc);
    int n = c->head;
    if (pc)
        n += snprintf(r.text + n, sizeof r.text - (size_t)n, HSNAP_PYROOT_AT "%llx",
                      (unsigned long long)pc);
    *text = r.text;
    return n > 0 && n < (int)sizeof r.text ? (uint32_t)n : (uint32_t)c->head;
}

/* A mapping of /proc/self/maps: a thread's C stack (the main thread's
 * [stack], a glibc thread's) has its words that are objects' starts
 * named "C stack of thread TID"; this thread's from its own frame out,
 * another's from its stack pointer when it is blocked in a system call
 * (pyg_cstack_live; below: dead frames, whose stale slots would keep objects
 * alive), else whole.  Named only: a live frame's slot may be stale. */
static void pyroot_stack_map(const struct procmaps_line *m, void *arg)
{
    (void)arg;
    size_t len;
    const char *path = procmaps_path(m, &len), *perm = memchr(m->text, ' ', m->len);
    int tid;
    if (!perm || perm + 4 >= m->text + m->len || !m->readable || perm[2] != 'w' ||
        m->hi - m->lo > PYR_DATA_MAX)
        return;
    if (len == 7 && !memcmp(path, "[stack]", 7))
        tid = getpid();
    else if (len || (tid = stop_stack_tid(m->lo, m->hi)) < 0)
        return;
    struct pyroot_cstack c = {0, m->lo, 0};
    c.head = tid ? snprintf(r.text, sizeof r.text, "C stack of thread %d", tid)
                 : snprintf(r.text, sizeof r.text, "C stack of a thread");
    uintptr_t sp = collect_entry_sp ? collect_entry_sp : (uintptr_t)&c;
    if (sp >= m->lo && sp < m->hi)
        c.from = sp; /* this thread's: below, the shim's frames and dead ones */
    else if (pyg_cstack_live(tid, m->lo, m->hi, &c.from, &c.pc)) {
        size_t nr; /* blocked: its registers, if the leak check's stop kept them */
        const uintptr_t *regs = pyg_cstack_regs(tid, c.from, c.pc, &nr);
        int n = snprintf(r.text + c.head, sizeof r.text - (size_t)c.head, " (a register)");
        struct pyroot_fixed f = {r.text, (uint32_t)(c.head + n)};
        if (regs && n > 0 && c.head + n < (int)sizeof r.text)
            pyroot_scan_range((uintptr_t)regs, (uintptr_t)(regs + nr), HSNAP_PYROOT_CSTACK,
                              pyroot_fixed_name, &f);
        r.text[c.head] = 0;
    }
    pyroot_scan_range(c.from, m->hi, HSNAP_PYROOT_CSTACK, pyroot_cstack_name, &c);
}

static void pyroot_line_each(const char *text, size_t len, void *arg)
{
    procmaps_parse(text, len, pyroot_stack_map, arg);
}

void pyg_roots_collect(void)
{
    if (!pylay_lay || !pylay_sym.interp_main || !(r.ol = pylay_obj_layout_find(pylay_lay->version)))
        return;
    void *interp = pylay_sym.interp_main();
    if (!interp)
        return;
    r.budget = PYR_BUDGET;
    pagemap_open(&r.pm);
    pyroot_modules(interp);
    /* PyThreadState's next is its second word in 3.10-3.13 (python_layout_matches_headers) */
    uintptr_t ts = pyroot_word((uintptr_t)interp + r.ol->interp_threads);
    for (unsigned k = 0; ts && k < PYR_THREADS; k++, ts = pyroot_word(ts + 8))
        pyroot_thread(ts);
    pyroot_static_data();
    pyroot_interp_data((uintptr_t)interp);
    procmaps_lines("/proc/self/maps", pyroot_line, sizeof pyroot_line, pyroot_line_each, NULL);
    pagemap_close(&r.pm);
}
