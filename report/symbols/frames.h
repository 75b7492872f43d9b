/*
 * frames.h - the one frame model of the CLI: a snapshot's traces expanded
 * into stacks of frames (inlined functions are frames of their own),
 * innermost first, with their allocation site, for every command.  Each
 * distinct frame is stored and symbolized once (framerec.h), and traces
 * that read alike share one stack (frames.c).  heapsnap's own frames
 * (libheapsnap*) are dropped.
 * The ALLOCATION SITE is the first frame that is not an allocator wrapper
 * (a frame in the shim, libc, libstdc++ or libgcc_s, or from a C++ standard
 * library header (".../include/c++/..."), or an allocation function: malloc,
 * operator new, strdup and their kin, the common libraries' front ends,
 * --alloc-fn; where no DWARF names a file, the standard library's
 * allocating templates by name: std::vector<...>::_M_realloc_insert...);
 * if every frame is one, the outermost.  In a PYTHON STACK (one
 * with a Python frame) it is the innermost Python frame, whatever C lies
 * under it (--native: the first past the wrappers and the interpreter), and
 * the interpreter's frames are left out (--interpreter-frames keeps them).
 * A trace without frames is one placeholder frame whose function, file and
 * module read "<unknown>" ("<unsampled>" for the sampler's trace): a name,
 * never a field that merely went unresolved ("??").
 */
#ifndef REPORT_FRAMES_H
#define REPORT_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

struct frame {
    uint64_t ip;          /* the recorded return address (0: a placeholder) */
    const char *func;     /* function, "module+0xoff", or a placeholder */
    const char *file;     /* source file as shown (relative below the cwd), "??" */
    const char *dwarf_file; /* source file as recorded in DWARF, "??" */
    int line;             /* 0 when unknown */
    const char *module;   /* module basename, "<unknown>" outside every module */
    const char *path;     /* module path as recorded, "" outside every module */
    int inlined;          /* inlined into the next frame */
    const char *pymodule; /* a Python frame's module ("json.decoder"), else NULL */
    uint32_t ident;       /* equal idents: equal file, line, function and module;
                             FRAMES_NO_IDENT for a frame made outside the records */
};

/* The ident of a frame no record holds (pyfold's synthetic groups): it
 * stands for nothing, and no memo keyed by idents may take it. */
#define FRAMES_NO_IDENT UINT32_MAX

/* A stack: pointers to frames each stored once for the command
 * (report/symbols/framerec.h), shared by every trace that expands to it. */
struct frames_trace {
    int n, site;          /* fr[site] is the allocation site; n >= 1 */
    int first;            /* fr[first] is the innermost frame a stack shows: the
                             first that is not a wrapper (<= site; == site but in
                             a Python stack, where C may lie under the site) */
    int nwrap;            /* fr[0..nwrap) are allocator wrappers before the site */
    const struct frame *const *fr; /* innermost first */
    int npy;              /* Python frames in the stack, listed in py */
    const struct frame *const *py; /* innermost first; NULL when npy == 0 */
    uint32_t shown;       /* equal shown, equal stacks from fr[first] outward
                             (file, line, function, module of each frame) */
    const uint32_t *ids;  /* the idents of fr[first..n), shared by the stacks
                             of one shown part */
    const char *site_name; /* "file.c:12", or the function without a file */
};

/* Trace ti of s expanded, or NULL when out of memory.  s must have been
 * loaded by snap_load (its serial keys the cache); the result lives until
 * frames_fini, whatever happens to s. */
const struct frames_trace *frames_get(const struct snap *s, uint32_t ti);

/* Whether trace ti of s has a Python frame's word (a Python stack, whose
 * site is a Python line), without symbolizing it: 1, 0, or -1 when out
 * of memory. */
int frames_has_python(const struct snap *s, uint32_t ti);

/* The stack's identity from fr[first] outward as one string (the identity
 * of a loss record and of a gate finding): built on first ask, it lives
 * until frames_fini; NULL when out of memory. */
const char *frames_id(const struct frames_trace *t);

/* strcmp of the two stacks' identities, without building them. */
int frames_id_cmp(const struct frames_trace *a, const struct frames_trace *b);

/* The allocation site among fr[0..n) (n >= 1, innermost first): the index
 * of the first frame that is not an allocator wrapper, else n - 1; in
 * *nwrap how many frames up to it are wrappers (libc's start-up frames
 * beyond it are callers, not wrappers). */
int frames_site(const struct frame *const *fr, int n, int *nwrap);

#define FRAMES_MAX_ALLOC_FNS 64

/* --alloc-fn PAT (massif's name): functions matching the fnmatch PAT (over
 * the function's name, with or without its C++ parameter list) are
 * allocator wrappers too; -1 with err when there are too many.
 * --no-default-alloc-fns: the common libraries' wrappers (glib's g_malloc,
 * OpenSSL's CRYPTO_malloc, redis's zmalloc, nginx's ngx_alloc, xmalloc...)
 * are not wrappers; malloc, operator new and their kin always are.
 * Both are set before the command's first frames_get. */
int frames_alloc_fn_add(const char *pat, char *err, size_t errlen);
void frames_no_default_alloc_fns(void);

/* --shorten-templates (heaptrack's): every frame's function is shown
 * without its template arguments (tmpl_shorten: "std::vector<>::push_back"),
 * in every command and in the stacks' identities, so that a template's
 * instantiations group as one.  Allocator wrappers are still recognised by
 * the full name.  Set before the command's first frames_get. */
void frames_shorten_templates(void);

/* --native: in a Python stack the site is the innermost frame past the
 * wrappers and the interpreter's machinery (a C extension's line), not the
 * innermost Python line.  --interpreter-frames: a Python stack keeps the
 * interpreter's frames.  Both are set before the command's first
 * frames_get. */
void frames_native_site(void);
void frames_interpreter_frames(void);
/* A Python stack is its Python frames alone, for the whole command: its
 * native words are never symbolized (export --format tracemalloc
 * --python-only, which Snapshot.load reads; tracemalloc's traces hold
 * Python frames only).  A stack without a Python frame is unchanged. */
void frames_python_frames_only(void);
/* As frames_python_frames_only, and a stack is its site's frame alone
 * (its site, first and shown part): what the lineno key of its site needs
 * and no more (run's summary).  A Python stack's site is its innermost
 * Python line; a native stack's words are symbolized from the innermost
 * out to the site only, so the C runtime's frames beyond it (libc's
 * compressed DWARF, tens of MB once read) are not.  None of it under
 * --native or --interpreter-frames, which ask for the frames it leaves
 * out. */
void frames_site_only(void);
/* frames_site_only for snapshot s alone, set before its first frames_get
 * (serve's metrics read a process's sites alone, its pprof profile the
 * whole stacks of another read).  Nothing under --native or
 * --interpreter-frames. */
void frames_site_only_of(const struct snap *s);
/* Ends frames_site_only_of for s: its traces are expanded whole again
 * from the next frames_get on (the stacks made of their sites alone stay
 * interned), so that one load serves a line that names a site and then
 * what matches whole stacks (run's summary under --leaks: the peak's line,
 * then the suppressions). */
void frames_whole_of(const struct snap *s);

/* The help lines of both options, for every command that takes them. */
#define FRAMES_ALLOC_FN_HELP                                                          \
    "      --alloc-fn PAT\n"                                                           \
    "                     allocation functions of your own: a function whose name\n"  \
    "                     matches the fnmatch PAT is a wrapper like malloc, and its\n" \
    "                     caller is the allocation site (repeatable)\n"                \
    "      --no-default-alloc-fns  the common libraries' wrappers (glib's g_malloc,\n" \
    "                     OpenSSL's CRYPTO_malloc, redis's zmalloc, nginx's\n"         \
    "                     ngx_alloc, xmalloc...) are sites like any function\n"    \
    "      --native       in a Python process, the site is the innermost native\n"   \
    "                     line (a C extension's), not the innermost Python line\n"   \
    "      --interpreter-frames  Python stacks keep the interpreter's own frames\n"  \
    "                     (libpython, the python executable, ctypes, libffi, libc)\n"

/* 1 when f has a source file. */
int frames_has_file(const struct frame *f);

/* Whether f's function is a name from debug info or the symbol table, not
 * the "module+0xoff" or "0xip" that stands in for none. */
int frames_has_symbol(const struct frame *f);

/* Where f is, as keys show it: its file, or "[module]" without one (so
 * such frames still group by module instead of into one "??"), or
 * "<unknown>" outside every module, as every command shows it; buf holds
 * the bracketed name. */
const char *frames_where(const struct frame *f, char *buf, size_t n);

#define FRAMES_MAX_FILTERS 64

/* --include / --exclude: fnmatch patterns over a frame's file (as shown or
 * recorded), function, module basename or path, like tracemalloc's Filter.
 * A trace is kept if some include matches (or there is none) and no exclude
 * does; only the allocation site is looked at unless all_frames. */
struct frames_filter {
    int all_frames;
    int ninclude, nexclude;
    const char *include[FRAMES_MAX_FILTERS];
    const char *exclude[FRAMES_MAX_FILTERS];
};

/* Adds a pattern; -1 with "too many filters" in err. */
int frames_filter_add(struct frames_filter *fl, int exclude, const char *pat, char *err,
                      size_t errlen);
int frames_kept(const struct frames_filter *fl, const struct frames_trace *t);

/* Releases what s's expansion keeps per snapshot (its words' table, its
 * traces' index), before s is freed: the stacks it made live on.  A
 * program that loads without end (heapsnap serve) calls it for each. */
void frames_forget(const struct snap *s);

/* Releases every expansion, the --alloc-fn choices, and the symbolizer's state. */
void frames_fini(void);
/* How many times frames_fini has run: what a caller numbers by frame (the
 * traceback key's tokens, stats.c) holds within one era. */
unsigned frames_era(void);

#endif
