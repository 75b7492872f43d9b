/*
 * frames.c - expands traces into frames once per command, finds their
 * allocation site, and filters them (see frames.h for the rules).
 *
 * An expansion is interned by its key: the trace's flags and, per ip, the
 * module file (sym_module's index) and the file address (ip - bias), or the
 * raw ip outside every module.  The same stack in two processes, at two
 * load addresses, is one key; a snapshot's own table (indexed by its load
 * serial) then maps each trace id to its expansion in one step.  Frames are
 * copied into the expansion with their strings pointing into the
 * symbolizer's cache, which lives as long: an expansion outlives the
 * snapshot it came from.  The ip kept is the first process's.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cli.h"
#include "fmt.h"
#include "frames.h"
#include "sym.h"
#include "tmpl.h"

/* One snapshot's view: its modules in the registry, its traces' expansions. */
struct frames_snap {
    int *mods;                            /* nmodules registry indices */
    const struct frames_trace **traces;   /* ntraces, filled on first use */
};

/* A shortened function name (--shorten-templates), owned, once per name. */
struct frames_name {
    char *name;
    UT_hash_handle hh;
};

struct frames_entry {
    struct frames_trace t;
    uint8_t *key;
    size_t keylen;
    UT_hash_handle hh;
};

/* The command's expansions.  snaps[serial - 1] belongs to the snapshot of
 * that load serial; every frames_entry owns its frames, id and site name. */
static struct {
    struct frames_snap *snaps;
    size_t capsnaps;
    struct frames_entry *all;      /* uthash by key */
    uint8_t *key;                  /* scratch: the key being built */
    size_t capkey;
    struct frame *fr;              /* scratch: the frames being gathered */
    size_t capfr;
    int shorten;                   /* --shorten-templates */
    struct frames_name *names;     /* uthash by name: the shortened names */
} fx;

#define KEY_IP 12 /* bytes per ip in a key: i32 module, u64 address */

/* --- allocator wrappers and the site ------------------------------------ */

/* The allocator's machinery, always: the shim, the C and C++ runtimes, and
 * the C++ standard library's headers (libstdc++'s /usr/include/c++/12/...,
 * libc++'s .../include/c++/v1/...), whose templates (new_allocator.h,
 * stl_vector.h, basic_string.h, shared_ptr_base.h...) are inlined into or
 * instantiated in the user's own code: a std::vector's block belongs to the
 * line that made the vector, as operator new's does. */
static const char *const machinery_modules[] = {"libheapsnap.so", "libc.so", "libstdc++.so",
                                                "libgcc_s.so", "libc++.so", "libc++abi.so"};
static const char *const machinery_dirs[] = {"/include/c++/"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int is_machinery(const struct frame *f)
{
    for (size_t i = 0; i < NELEM(machinery_modules); i++)
        if (strncmp(f->module, machinery_modules[i], strlen(machinery_modules[i])) == 0)
            return 1;
    for (size_t i = 0; i < NELEM(machinery_dirs); i++)
        if (strstr(f->dwarf_file, machinery_dirs[i]))
            return 1;
    return 0;
}

/* Allocation functions by name (fnmatch patterns over the function name).
 * The C library's and the C++ runtime's are always wrappers; the common
 * libraries' front ends to malloc are too, unless --no-default-alloc-fns. */
struct alloc_fn {
    const char *pat;
    int library;          /* 1: a library's wrapper, dropped by --no-default-alloc-fns */
};

static const struct alloc_fn builtin_alloc_fns[] = {
    /* the C library and the C++ runtime */
    {"malloc", 0}, {"calloc", 0}, {"realloc", 0}, {"reallocarray", 0}, {"free", 0},
    {"posix_memalign", 0}, {"aligned_alloc", 0}, {"memalign", 0}, {"valloc", 0},
    {"pvalloc", 0}, {"__libc_malloc", 0}, {"__libc_calloc", 0}, {"__libc_realloc", 0},
    {"__libc_memalign", 0}, {"strdup", 0}, {"strndup", 0}, {"__strdup", 0},
    {"__strndup", 0}, {"wcsdup", 0}, {"operator new*", 0}, {"_Znwm*", 0}, {"_Znam*", 0},
    {"_Znwj*", 0}, {"_Znaj*", 0},
    /* libiberty and gnulib */
    {"xmalloc", 1}, {"xcalloc", 1}, {"xrealloc", 1}, {"xstrdup", 1}, {"xstrndup", 1},
    {"xmemdup", 1}, {"xzalloc", 1},
    /* glib (g_new, g_new0, g_renew are macros over g_malloc_n & co) */
    {"g_malloc*", 1}, {"g_try_malloc*", 1}, {"g_realloc*", 1}, {"g_try_realloc*", 1},
    {"g_strdup*", 1}, {"g_strndup", 1}, {"g_memdup*", 1}, {"g_slice_alloc*", 1},
    /* OpenSSL */
    {"CRYPTO_malloc", 1}, {"CRYPTO_zalloc", 1}, {"CRYPTO_realloc", 1},
    {"CRYPTO_clear_realloc", 1}, {"CRYPTO_strdup", 1}, {"CRYPTO_strndup", 1},
    {"CRYPTO_memdup", 1}, {"CRYPTO_secure_malloc", 1}, {"CRYPTO_secure_zalloc", 1},
    /* redis (zmalloc_usable, zcalloc_num, ztrymalloc_usable_internal...; zlib's
     * internal zcalloc matches too, and is one) */
    {"zmalloc*", 1}, {"zcalloc*", 1}, {"zrealloc*", 1}, {"ztrymalloc*", 1},
    {"ztrycalloc*", 1}, {"ztryrealloc*", 1}, {"zstrdup", 1},
    /* nginx */
    {"ngx_alloc", 1}, {"ngx_calloc", 1}, {"ngx_memalign", 1},
};

/* The command's choices (--alloc-fn, --no-default-alloc-fns), fixed before
 * the first expansion: a verdict is part of every cached expansion. */
static struct {
    int no_defaults;
    int n;
    char *pat[FRAMES_MAX_ALLOC_FNS]; /* owned */
} alloc_cfg;

int frames_alloc_fn_add(const char *pat, char *err, size_t errlen)
{
    if (alloc_cfg.n == FRAMES_MAX_ALLOC_FNS) {
        snprintf(err, errlen, "too many --alloc-fn patterns (at most %d): %s",
                 FRAMES_MAX_ALLOC_FNS, pat);
        return -1;
    }
    char *copy = strdup(pat); /* the rules file's text does not outlive its parsing */
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    alloc_cfg.pat[alloc_cfg.n++] = copy;
    return 0;
}

void frames_no_default_alloc_fns(void) { alloc_cfg.no_defaults = 1; }

void frames_shorten_templates(void) { fx.shorten = 1; }


/* The length of func without its parameter list ("ns::get(unsigned long)
 * const" -> "ns::get"), so that a pattern names a C++ function as a C one. */
static size_t name_len(const char *func)
{
    size_t len = strlen(func);
    if (len > 6 && strcmp(func + len - 6, " const") == 0)
        len -= 6;
    if (len == 0 || func[len - 1] != ')')
        return strlen(func);
    for (int depth = 0; len-- > 0;) {
        depth += func[len] == ')' ? 1 : func[len] == '(' ? -1 : 0;
        if (depth == 0)
            return len ? len : strlen(func);
    }
    return strlen(func);
}

static int name_matches(const char *pat, const char *func, const char *name)
{
    return fnmatch(pat, func, 0) == 0 || (name && fnmatch(pat, name, 0) == 0);
}

static int is_alloc_fn(const char *func)
{
    char buf[512];
    const char *name = NULL;
    size_t len = name_len(func);
    if (func[len] && len < sizeof(buf)) {
        memcpy(buf, func, len);
        buf[len] = 0;
        name = buf;
    }
    for (size_t i = 0; i < NELEM(builtin_alloc_fns); i++)
        if ((!builtin_alloc_fns[i].library || !alloc_cfg.no_defaults) &&
            name_matches(builtin_alloc_fns[i].pat, func, name))
            return 1;
    for (int i = 0; i < alloc_cfg.n; i++)
        if (name_matches(alloc_cfg.pat[i], func, name))
            return 1;
    return 0;
}

static int is_wrapper(const struct frame *f)
{
    return is_machinery(f) || is_alloc_fn(f->func);
}

/* --- Python frames ------------------------------------------------------- */

#define PY_MODULE "<python>" /* the module of a Python frame */

/* In a stack with Python frames, the interpreter's own code (libpython, the
 * python executable, ctypes and libffi) is machinery too: a bytearray's
 * block belongs to its Python line, a libc malloc made through ctypes to
 * the line that called it; a C extension's own code is a native site
 * (--native), and the innermost Python line the site.  Machinery frames
 * are left out of a Python stack (with the C runtime's beyond the native
 * site: thread and process start), unless --interpreter-frames. */
static const char *const py_machinery[] = {"libpython", "python", "_ctypes", "libffi"};
static const char *const py_runtime[] = {"libc.so", "ld-linux"};

static struct {
    int native;           /* --native */
    int interp;           /* --interpreter-frames */
} py_cfg;

void frames_native_site(void) { py_cfg.native = 1; }
void frames_interpreter_frames(void) { py_cfg.interp = 1; }

static int module_in(const struct frame *f, const char *const *mods, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(f->module, mods[i], strlen(mods[i])) == 0)
            return 1;
    return 0;
}

static int is_py_machinery(const struct frame *f)
{
    return module_in(f, py_machinery, NELEM(py_machinery));
}

static int is_wrapper_in(const struct frame *f, int py)
{
    return is_wrapper(f) || (py && is_py_machinery(f));
}

/* The module a Python file is, as Python names it, into buf: the path
 * below site-packages (dist-packages) or the standard library's
 * lib/pythonX.Y, dotted, without ".py" and a last "__init__"; a frozen
 * module's name ("<frozen abc>": "abc"); otherwise the file's name without
 * ".py" (a script: "app"); "<string>" and the like as they are. */
static void py_module_name(const char *file, char *buf, size_t n)
{
    static const char *const roots[] = {"/site-packages/", "/dist-packages/"};
    const char *p = NULL, *q;
    size_t len = strlen(file);
    if (strncmp(file, "<frozen ", 8) == 0 && len > 9) {
        snprintf(buf, n, "%.*s", (int)(len - 9), file + 8);
        return;
    }
    if (file[0] == '<') {
        snprintf(buf, n, "%s", file);
        return;
    }
    for (size_t i = 0; i < NELEM(roots); i++)
        if ((q = strstr(file, roots[i])) && (!p || q > p))
            p = q + strlen(roots[i]);
    for (q = file; !p && (q = strstr(q, "/lib/python")); q++) {
        const char *v = q + 11;
        while (*v && *v != '/')
            v++;
        if (*v == '/' && !strchr(v + 1, '<'))
            p = v + 1;
    }
    if (!p)
        p = (q = strrchr(file, '/')) ? q + 1 : file;
    len = strlen(p);
    if (len > 3 && strcmp(p + len - 3, ".py") == 0)
        len -= 3;
    if (len > 9 && strncmp(p + len - 9, "/__init__", 9) == 0)
        len -= 9;
    snprintf(buf, n, "%.*s", (int)len, p);
    for (char *c = buf; *c; c++)
        if (*c == '/')
            *c = '.';
}

/* (file, qualified name, line) of the Python frames met by this command,
 * interned: their index is a trace key's address, so that the same Python
 * stack in two processes (whose code ids differ) is one key. */
struct py_name {
    char *key; /* file \0 qualname \0 line, keylen bytes */
    size_t keylen;
    const char *file, *qualname;
    char *pymodule; /* py_module_name of file */
    int line;
    uint64_t index;
    UT_hash_handle hh;
};
static struct {
    struct py_name *byname;
    struct py_name **all;
    size_t n, cap;
} pyn;

/* The index of a Python frame word of snapshot s, or UINT64_MAX. */
static uint64_t py_name_of(const struct snap *s, uint64_t w)
{
    static const struct snap_pycode missing = {0, "<unknown>", "<python>", NULL, 0};
    uint64_t code = (w & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT;
    const struct snap_pycode *c = code < s->npycodes ? &s->pycodes[code] : &missing;
    int64_t off = (int64_t)(w & HSNAP_PY_OFF_MASK) - 1;
    int line = c == &missing ? 0 : pycode_line(s->py_version, c->linetable, c->lt_len, c->firstline, off);
    size_t fl = strlen(c->file), ql = strlen(c->qualname), len = fl + ql + 2 + sizeof line;
    char *key = malloc(len);
    struct py_name *e;
    if (!key)
        return UINT64_MAX;
    memcpy(key, c->file, fl + 1);
    memcpy(key + fl + 1, c->qualname, ql + 1);
    memcpy(key + fl + ql + 2, &line, sizeof line);
    HASH_FIND(hh, pyn.byname, key, len, e);
    if (e) {
        free(key);
        return e->index;
    }
    char mod[1024];
    py_module_name(c->file, mod, sizeof(mod));
    if (grow_array((void **)&pyn.all, &pyn.cap, pyn.n + 1, sizeof(*pyn.all)) < 0 ||
        !(e = calloc(1, sizeof(*e))) || !(e->pymodule = strdup(mod))) {
        free(e);
        free(key);
        return UINT64_MAX;
    }
    *e = (struct py_name){key, len, key, key + fl + 1, e->pymodule, line, pyn.n, {0}};
    HASH_ADD_KEYPTR(hh, pyn.byname, e->key, e->keylen, e);
    pyn.all[pyn.n] = e;
    return pyn.n++;
}

static void py_names_free(void)
{
    struct py_name *e, *tmp;
    HASH_ITER(hh, pyn.byname, e, tmp) {
        HASH_DEL(pyn.byname, e);
        free(e->key);
        free(e->pymodule);
        free(e);
    }
    free(pyn.all);
    memset(&pyn, 0, sizeof(pyn));
}

static int is_py_frame(const struct frame *f) { return f->pymodule != NULL; }

/* Leaves the interpreter's machinery out of a Python stack fr[0..n), and
 * the C runtime's frames beyond the native site (the stack's first frame
 * past the wrappers); the frames left. */
static int py_trim(struct frame *fr, int n)
{
    int k = 0, past = 0;
    for (int i = 0; i < n; i++) {
        int drop = is_py_machinery(&fr[i]) ||
                   (past && module_in(&fr[i], py_runtime, NELEM(py_runtime)));
        past = past || (!drop && !is_wrapper(&fr[i]));
        if (!drop)
            fr[k++] = fr[i];
    }
    return k ? k : n; /* all machinery: kept whole (cannot happen: a Python frame stays) */
}

int frames_site(struct frame *fr, int n)
{
    int site = n - 1, py = 0;
    for (int i = 0; i < n && !py; i++)
        py = is_py_frame(&fr[i]);
    for (int i = 0; i < n; i++)
        if (!is_wrapper_in(&fr[i], py)) {
            site = i;
            break;
        }
    for (int i = 0; i < n; i++)
        fr[i].wrapper = i <= site && is_wrapper_in(&fr[i], py);
    return site;
}

/* --- one snapshot -------------------------------------------------------- */

static struct frames_snap *snap_view(const struct snap *s)
{
    size_t old = fx.capsnaps;
    if (s->serial == 0 ||
        grow_array((void **)&fx.snaps, &fx.capsnaps, s->serial, sizeof(*fx.snaps)) < 0)
        return NULL;
    memset(fx.snaps + old, 0, (fx.capsnaps - old) * sizeof(*fx.snaps));
    struct frames_snap *v = &fx.snaps[s->serial - 1];
    if (v->traces)
        return v;
    int ok = (v->mods = calloc(s->nmodules + 1, sizeof(*v->mods))) &&
             (v->traces = calloc(s->ntraces + 1, sizeof(*v->traces)));
    for (uint32_t j = 0; ok && j < s->nmodules; j++)
        ok = (v->mods[j] = sym_module(&s->modules[j])) >= 0;
    if (!ok) {
        free(v->mods);
        free(v->traces);
        memset(v, 0, sizeof(*v));
        return NULL;
    }
    return v;
}

/* The key of trace t into fx.key; its length, or 0 when out of memory. */
static size_t trace_key(const struct snap *s, const struct frames_snap *v,
                        const struct snap_trace *t)
{
    size_t len = 2 + (size_t)t->depth * KEY_IP;
    if (grow_array((void **)&fx.key, &fx.capkey, len, 1) < 0)
        return 0;
    memcpy(fx.key, &t->flags, 2);
    for (int i = 0; i < t->depth; i++) {
        if (HSNAP_IS_PYFRAME(t->ips[i])) { /* module -2: an interned Python name */
            int32_t mod = -2;
            uint64_t k = py_name_of(s, t->ips[i]);
            if (k == UINT64_MAX)
                return 0;
            memcpy(fx.key + 2 + (size_t)i * KEY_IP, &mod, 4);
            memcpy(fx.key + 6 + (size_t)i * KEY_IP, &k, 8);
            continue;
        }
        const struct snap_module *m = snap_module_in(s, (uint32_t)(t - s->traces), t->ips[i]);
        int32_t mod = m ? v->mods[m - s->modules] : -1;
        uint64_t off = m ? t->ips[i] - m->bias : t->ips[i];
        memcpy(fx.key + 2 + (size_t)i * KEY_IP, &mod, 4);
        memcpy(fx.key + 6 + (size_t)i * KEY_IP, &off, 8);
    }
    return len;
}

static int push(int n, const struct frame *f)
{
    if (grow_array((void **)&fx.fr, &fx.capfr, (size_t)n + 1, sizeof(*fx.fr)) < 0)
        return -1;
    fx.fr[n] = *f;
    return n + 1;
}

/* heapsnap's own library: its frames (the thread-start wrapper under every
 * thread's start routine) are never part of the user's stack. */
static int is_self(int mod)
{
    return strncmp(sym_module_base(mod), "libheapsnap", 11) == 0;
}

/* Gathers the frames of trace t (its key built) into fx.fr, without the
 * shim's own; how many, -1. */
static int gather(const struct snap_trace *t)
{
    static const struct frame none[2] = {
        {0, "<unknown>", "<unknown>", "<unknown>", 0, "<unknown>", "", 0, 0, NULL},
        {0, "<unsampled>", "<unsampled>", "<unsampled>", 0, "<unsampled>", "", 0, 0, NULL}};
    int n = 0;
    for (int i = 0; i < t->depth && n >= 0; i++) {
        int32_t mod;
        uint64_t off;
        const struct sym_frame *sf;
        memcpy(&mod, fx.key + 2 + (size_t)i * KEY_IP, 4);
        memcpy(&off, fx.key + 6 + (size_t)i * KEY_IP, 8);
        if (mod >= 0 && is_self(mod))
            continue;
        if (mod == -2) {
            const struct py_name *pn = pyn.all[off];
            struct frame f = {t->ips[i], pn->qualname, fmt_path(pn->file), pn->file,
                              pn->line > 0 ? pn->line : 0, PY_MODULE, "", 0, 0, pn->pymodule};
            n = push(n, &f);
            continue;
        }
        int k = sym_lookup(mod, off, &sf);
        for (int j = 0; j < k && n >= 0; j++) {
            struct frame f = {t->ips[i], sf[j].func, fmt_path(sf[j].file), sf[j].file,
                              sf[j].line, mod >= 0 ? sym_module_base(mod) : "<unknown>",
                              mod >= 0 ? sym_module_path(mod) : "", sf[j].inlined, 0, NULL};
            n = push(n, &f);
        }
    }
    if (n == 0)
        n = push(0, &none[(t->flags & HSNAP_TRACE_UNSAMPLED) != 0]);
    return n;
}

/* The stack from the site outward as one string (the identity of a loss
 * record and of a gate finding). */
static char *stack_id(const struct frame *fr, int site, int n)
{
    size_t len = 1, at = 0;
    for (int i = site; i < n; i++)
        len += strlen(fr[i].file) + strlen(fr[i].func) + strlen(fr[i].module) + 16;
    char *id = malloc(len);
    if (!id)
        return NULL;
    id[0] = 0;
    for (int i = site; i < n; i++)
        at += (size_t)snprintf(id + at, len - at, "%s\x1f%d\x1f%s\x1f%s\x1e", fr[i].file,
                               fr[i].line, fr[i].func, fr[i].module);
    return id;
}

static char *site_name(const struct frame *f)
{
    char buf[4200];
    if (frames_has_file(f))
        snprintf(buf, sizeof(buf), "%s:%d", f->file, f->line);
    else
        snprintf(buf, sizeof(buf), "%s", f->func);
    return strdup(buf);
}

/* func without its template arguments, interned; func itself when there
 * is nothing to shorten; NULL when out of memory.  A short name is never
 * longer than its original, whatever its length. */
static const char *short_name(const char *func)
{
    size_t n = strlen(func) + 1;
    char *buf = malloc(n);
    struct frames_name *nm;
    if (!buf)
        return NULL;
    if (!tmpl_shorten(func, buf, n)) {
        free(buf);
        return func;
    }
    HASH_FIND_STR(fx.names, buf, nm);
    if (nm || !(nm = calloc(1, sizeof(*nm)))) {
        free(buf);
        return nm ? nm->name : NULL;
    }
    nm->name = buf;
    HASH_ADD_KEYPTR(hh, fx.names, nm->name, strlen(nm->name), nm);
    return nm->name;
}

/* --shorten-templates over fr[0..n), once the site is known; -1 when out
 * of memory. */
static int shorten_all(struct frame *fr, int n)
{
    for (int i = 0; fx.shorten && i < n; i++)
        if (!(fr[i].func = short_name(fr[i].func)))
            return -1;
    return 0;
}

static void entry_free(struct frames_entry *e)
{
    free((void *)e->t.fr);
    free((void *)e->t.py);
    free((char *)e->t.id);
    free((char *)e->t.site_name);
    free(e->key);
    free(e);
}

/* The Python frames of fr[0..n) copied into e (npy of them), and the site
 * moved to the innermost unless --native; -1 when out of memory. */
static int py_copy(struct frames_entry *e, const struct frame *fr, int n, int npy)
{
    struct frame *py = malloc((size_t)npy * sizeof(*py));
    if (!py)
        return -1;
    e->t.py = py;
    e->t.npy = 0;
    for (int i = 0; i < n; i++)
        if (is_py_frame(&fr[i])) {
            if (!py_cfg.native && e->t.npy == 0 && i > e->t.site)
                e->t.site = i;
            py[e->t.npy++] = fr[i];
        }
    return 0;
}

/* A new expansion of trace t, whose key is in fx.key[0..len). */
static struct frames_entry *expand(const struct snap_trace *t, size_t len)
{
    struct frames_entry *e = calloc(1, sizeof(*e));
    int n = gather(t);
    if (!e || n < 0)
        goto oom;
    struct frame *fr = malloc((size_t)n * sizeof(*fr));
    e->t.fr = fr;
    e->key = malloc(len);
    if (!fr || !e->key)
        goto oom;
    memcpy(e->key, fx.key, len);
    e->keylen = len;
    int npy = 0;
    for (int i = 0; i < n; i++)
        npy += is_py_frame(&fx.fr[i]);
    if (npy && !py_cfg.interp)
        n = py_trim(fx.fr, n);
    memcpy(fr, fx.fr, (size_t)n * sizeof(*fr));
    e->t.n = n;
    e->t.first = e->t.site = frames_site(fr, n);
    if (shorten_all(fr, n) < 0 || (npy && py_copy(e, fr, n, npy) < 0) ||
        !(e->t.id = stack_id(fr, e->t.first, n)) || !(e->t.site_name = site_name(&fr[e->t.site])))
        goto oom;
    HASH_ADD_KEYPTR(hh, fx.all, e->key, e->keylen, e);
    return e;
oom:
    if (e)
        entry_free(e);
    return NULL;
}

const struct frames_trace *frames_get(const struct snap *s, uint32_t ti)
{
    struct frames_snap *v = snap_view(s);
    struct frames_entry *e;
    if (!v)
        return NULL;
    if (v->traces[ti])
        return v->traces[ti];
    size_t len = trace_key(s, v, &s->traces[ti]);
    if (!len)
        return NULL;
    HASH_FIND(hh, fx.all, fx.key, len, e);
    if (!e && !(e = expand(&s->traces[ti], len)))
        return NULL;
    return v->traces[ti] = &e->t;
}

void frames_fini(void)
{
    struct frames_entry *e, *tmp;
    HASH_ITER(hh, fx.all, e, tmp) {
        HASH_DEL(fx.all, e);
        entry_free(e);
    }
    for (size_t i = 0; i < fx.capsnaps; i++) {
        free(fx.snaps[i].mods);
        free(fx.snaps[i].traces);
    }
    free(fx.snaps);
    free(fx.key);
    free(fx.fr);
    struct frames_name *nm, *ntmp;
    HASH_ITER(hh, fx.names, nm, ntmp) {
        HASH_DEL(fx.names, nm);
        free(nm->name);
        free(nm);
    }
    memset(&fx, 0, sizeof(fx));
    for (int i = 0; i < alloc_cfg.n; i++)
        free(alloc_cfg.pat[i]);
    memset(&alloc_cfg, 0, sizeof(alloc_cfg));
    sym_fini();
    py_names_free();
}

/* --- shown names and filters -------------------------------------------- */

int frames_has_file(const struct frame *f) { return strcmp(f->file, "??") != 0; }

const char *frames_where(const struct frame *f, char *buf, size_t n)
{
    if (frames_has_file(f) || f->module[0] == '<')
        return f->file[0] == '?' ? f->module : f->file;
    snprintf(buf, n, "[%s]", f->module);
    return buf;
}

int frames_filter_add(struct frames_filter *fl, int exclude, const char *pat, char *err,
                      size_t errlen)
{
    int *n = exclude ? &fl->nexclude : &fl->ninclude;
    if (*n >= FRAMES_MAX_FILTERS) {
        snprintf(err, errlen, "too many filters: %s", pat);
        return -1;
    }
    (exclude ? fl->exclude : fl->include)[(*n)++] = pat;
    return 0;
}

static int frame_matches(const struct frame *f, const char *pat)
{
    return !fnmatch(pat, f->dwarf_file, 0) || !fnmatch(pat, f->file, 0) ||
           !fnmatch(pat, f->func, 0) || !fnmatch(pat, f->module, 0) ||
           (f->path[0] && !fnmatch(pat, f->path, 0)) ||
           (f->pymodule && !fnmatch(pat, f->pymodule, 0));
}

static int trace_matches(const struct frames_filter *fl, const struct frames_trace *t,
                         const char *pat)
{
    if (!fl->all_frames)
        return frame_matches(&t->fr[t->site], pat);
    for (int i = 0; i < t->n; i++)
        if (frame_matches(&t->fr[i], pat))
            return 1;
    return 0;
}

int frames_kept(const struct frames_filter *fl, const struct frames_trace *t)
{
    int kept = fl->ninclude == 0;
    for (int i = 0; i < fl->ninclude && !kept; i++)
        kept = trace_matches(fl, t, fl->include[i]);
    for (int i = 0; i < fl->nexclude && kept; i++)
        kept = !trace_matches(fl, t, fl->exclude[i]);
    return kept;
}
