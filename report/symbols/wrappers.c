/*
 * wrappers.c - the allocator's machinery and the allocation functions, by
 * module, source directory and function name (wrappers.h); the command's
 * --alloc-fn and --no-default-alloc-fns choices.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wrappers.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The allocator's machinery, always: the shim, the C and C++ runtimes, and
 * the C++ standard library's headers (libstdc++'s /usr/include/c++/12/...,
 * libc++'s .../include/c++/v1/...), whose templates (new_allocator.h,
 * stl_vector.h, basic_string.h, shared_ptr_base.h...) are inlined into or
 * instantiated in the user's own code: a std::vector's block belongs to the
 * line that made the vector, as operator new's does.  Rust's standard
 * library is the same case: its generics (RawVec, Box::new, Rc::new, Vec's
 * growth, String) are instantiated in the user's crate, with their DWARF
 * files under the library's sources, /rustc/<commit>/library/ as rustc's
 * releases remap them, /usr/src/rustc-<version>/library/ as Debian's do
 * (its prebuilt std says "library/std/src/..."); hashbrown (HashMap's
 * table) is vendored beside it. */
static const char *const machinery_modules[] = {"libheapsnap.so", "libc.so", "libstdc++.so",
                                                "libgcc_s.so", "libc++.so", "libc++abi.so"};
static const char *const machinery_dirs[] = {"/include/c++/", "/libstdc++-v3/include/",
                                             "/libcxx/include/"};
static const char *const rust_roots[] = {"/rustc/", "/usr/src/rustc-", "library/"};
static const char *const rust_crates[] = {"library/alloc/src/", "library/core/src/",
                                          "library/std/src/", "/hashbrown-"};

/* Whether file is a source of Rust's standard library (or its vendored
 * hashbrown): under a toolchain's root, in one of its crates. */
static int is_rust_std(const char *file)
{
    int root = 0;
    for (size_t i = 0; !root && i < NELEM(rust_roots); i++)
        root = strncmp(file, rust_roots[i], strlen(rust_roots[i])) == 0;
    for (size_t i = 0; root && i < NELEM(rust_crates); i++)
        if (strstr(file, rust_crates[i]))
            return 1;
    return 0;
}

static int is_machinery(const struct frame *f)
{
    for (size_t i = 0; i < NELEM(machinery_modules); i++)
        if (strncmp(f->module, machinery_modules[i], strlen(machinery_modules[i])) == 0)
            return 1;
    for (size_t i = 0; i < NELEM(machinery_dirs); i++)
        if (strstr(f->dwarf_file, machinery_dirs[i]))
            return 1;
    return is_rust_std(f->dwarf_file);
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
    /* Rust's runtime, by name where its DWARF is absent (is_rust_std has
     * it otherwise): the allocator's entry points (__rust_alloc, the
     * default __rdl_alloc, the global allocator's __rg_alloc), the alloc
     * crate and impls on its types (RawVec, Box<T>::new, Rc<T>::new,
     * Arc<T>::new, Vec's growth, String, format!, to_owned), and the
     * generic code between them and the user's call (core's iterators
     * that collect, std's and hashbrown's HashMap) */
    {"__rust_*", 0}, {"__rdl_*", 0}, {"__rg_*", 0}, {"alloc::*", 0}, {"<alloc::*", 0},
    {"<* as alloc::*", 0}, {"core::*", 0}, {"<core::*", 0}, {"hashbrown::*", 0},
    {"<hashbrown::*", 0}, {"std::collections::*", 0}, {"<std::collections::*", 0},
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
    /* perl (Newx, Newxz, Renew: its safe system allocator's) */
    {"Perl_safesysmalloc", 1}, {"Perl_safesyscalloc", 1}, {"Perl_safesysrealloc", 1},
    /* SQLite (sqlite3MallocZero, sqlite3DbMallocRawNN, sqlite3DbReallocOrFree...) */
    {"sqlite3Malloc*", 1}, {"sqlite3Realloc*", 1}, {"sqlite3DbMalloc*", 1},
    {"sqlite3DbRealloc*", 1}, {"sqlite3_malloc*", 1}, {"sqlite3_realloc*", 1},
    {"sqlite3DbStrDup", 1}, {"sqlite3DbStrNDup", 1},
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

/* fnmatch(pat, s, 0)'s answer, without fnmatch when the pattern's literal
 * head already differs, or the pattern is a plain name or a name and one
 * trailing '*' (every built-in one): each new frame is judged against all
 * of them, and fnmatch was a large part of `run`'s summary. */
static int pat_matches(const char *pat, const char *s)
{
    char c = pat[0]; /* a literal first character that differs: the usual no */
    if (c != s[0] && c != '*' && c != '?' && c != '[' && c != '\\')
        return 0;
    size_t k = strcspn(pat, "*?[\\");
    if (strncmp(pat, s, k) != 0)
        return 0;
    if (!pat[k])
        return s[k] == 0;
    if (pat[k] == '*' && !pat[k + 1])
        return 1;
    return fnmatch(pat, s, 0) == 0;
}

static int name_matches(const char *pat, const char *func, const char *name)
{
    return pat_matches(pat, func) || (name && pat_matches(pat, name));
}

/* The built-in patterns that begin with c (each begins with a literal
 * character), in the table's order, *n of them: a name is tried against
 * those of its own first character alone, where it was tried against
 * every one (each new frame is, and a Python snapshot's thousands of
 * lines made most of judge_frame's time). */
_Static_assert(NELEM(builtin_alloc_fns) < 256, "a pattern's index in a byte");
static const uint8_t *builtin_first(unsigned char c, size_t *n)
{
    static uint8_t at[257], ix[NELEM(builtin_alloc_fns)], made;
    if (!made) { /* a counting sort by first character */
        size_t count[256] = {0};
        for (size_t i = 0; i < NELEM(builtin_alloc_fns); i++)
            count[(unsigned char)builtin_alloc_fns[i].pat[0]]++;
        for (size_t k = 0; k < 256; k++)
            at[k + 1] = (uint8_t)(at[k] + count[k]);
        uint8_t fill[256];
        memcpy(fill, at, sizeof fill);
        for (size_t i = 0; i < NELEM(builtin_alloc_fns); i++)
            ix[fill[(unsigned char)builtin_alloc_fns[i].pat[0]]++] = (uint8_t)i;
        made = 1;
    }
    *n = (size_t)(at[c + 1] - at[c]);
    return ix + at[c];
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
    /* name, when there is one, begins as func does */
    size_t nfirst;
    const uint8_t *first = builtin_first((unsigned char)func[0], &nfirst);
    for (size_t k = 0; k < nfirst; k++) {
        const struct alloc_fn *a = &builtin_alloc_fns[first[k]];
        if ((!a->library || !alloc_cfg.no_defaults) && name_matches(a->pat, func, name))
            return 1;
    }
    for (int i = 0; i < alloc_cfg.n; i++)
        if (name_matches(alloc_cfg.pat[i], func, name))
            return 1;
    return 0;
}

/* The C++ standard library's allocating templates by name, for the frames
 * no DWARF places in its headers (a program built without -g, whose
 * instantiations of them are its own symbols): fnmatch patterns over the
 * qualified name past "std::" (or "__gnu_cxx::") and an inline namespace
 * (libc++'s "__1::", libstdc++'s "__cxx11::"), both libraries' names
 * alike.  A class names its members, which allocate or construct what they
 * hold (emplace_back constructs a user's type: that constructor, when it
 * allocates, is a frame of its own and the site); never a member that
 * calls the user's code to do the user's work (std::function's
 * operator(), _Function_handler::_M_invoke, std::thread's _M_run), never
 * an algorithm that takes the user's callable (std::sort, for_each). */
static const char *const std_inline_ns[] = {"__1::", "__cxx11::", "__8::", "__cxx1998::"};
static const char *const std_fns[] = {
    /* allocators: libstdc++ (__new_allocator from GCC 12, new_allocator
     * before, in __gnu_cxx), libc++ (__libcpp_allocate & co.) */
    "__new_allocator<*", "new_allocator<*", "allocator<*", "allocator_traits<*",
    "__alloc_traits<*", "__allocated_ptr<*", "__allocate_guarded<*", "__allocation_guard<*",
    "__allocate_at_least<*", "__libcpp_allocate*", "__libcpp_operator_new<*",
    "__pool_alloc<*", "__mt_alloc<*", "malloc_allocator<*", "bitmap_allocator<*",
    /* sequences and strings (libc++'s vector grows through __split_buffer) */
    "vector<*", "_Vector_base<*", "_Bvector_base<*", "__vector_base<*", "__split_buffer<*",
    "basic_string<*", "to_string", "to_wstring", "operator+<*", "deque<*", "_Deque_base<*",
    "__deque_base<*", "list<*", "_List_base<*", "__list_imp<*", "forward_list<*",
    "_Fwd_list_base<*", "__forward_list_base<*",
    /* trees and hash tables, with the nodes' allocators */
    "map<*", "multimap<*", "set<*", "multiset<*", "_Rb_tree<*", "__tree<*",
    "unordered_map<*", "unordered_multimap<*", "unordered_set<*", "unordered_multiset<*",
    "_Hashtable<*", "__hash_table<*", "__detail::_Hashtable_alloc<*", "__detail::_Map_base<*",
    "__detail::_Insert_base<*", "__detail::_Insert<*", "__detail::_AllocNode<*",
    "__detail::_ReuseOrAllocNode<*",
    /* smart pointers and their control blocks */
    "shared_ptr<*", "__shared_ptr<*", "__shared_count<*", "_Sp_counted_ptr_inplace<*",
    "_Sp_counted_ptr<*", "_Sp_counted_deleter<*", "make_shared<*", "allocate_shared<*",
    "__allocate_shared<*", "__make_shared<*", "__shared_ptr_emplace<*",
    "__shared_ptr_pointer<*", "unique_ptr<*", "make_unique<*",
    /* std::function's copy of its callable: made, never called */
    "function<*>::function*", "function<*>::operator=*", "function<*>::swap*",
    "_Function_base::_Base_manager<*", "__function::__value_func<*>::__value_func*",
};

/* func's length without " [clone .isra.0]" suffixes, cv- and
 * ref-qualifiers, and its parameter list. */
static size_t cxx_name_end(const char *func)
{
    static const char *const quals[] = {" const", " volatile", " &&", " &", " noexcept"};
    const char *clone = strstr(func, " [clone ");
    size_t len = clone ? (size_t)(clone - func) : strlen(func);
    for (size_t i = 0; i < NELEM(quals); i++) {
        size_t k = strlen(quals[i]);
        if (len > k && strncmp(func + len - k, quals[i], k) == 0) {
            len -= k;
            i = (size_t)-1; /* "() const &": again from the first */
        }
    }
    if (len == 0 || func[len - 1] != ')')
        return len;
    for (int depth = 0; len-- > 0;) {
        depth += func[len] == ')' ? 1 : func[len] == '(' ? -1 : 0;
        if (depth == 0)
            return len;
    }
    return 0;
}

/* Where func's qualified name begins among its first end bytes: past the
 * return type a template function's demangled name opens with ("long&
 * std::vector<long>::emplace_back<long>", "std::vector<int> make<int>"),
 * whose last space outside brackets ends it; "operator new" and a
 * conversion operator's space are the name's own. */
static size_t cxx_name_start(const char *func, size_t end)
{
    size_t start = 0;
    int depth = 0;
    for (size_t i = 0; i < end; i++) {
        char c = func[i];
        if (depth == 0 && c == 'o' && strncmp(func + i, "operator", 8) == 0 &&
            (i == 0 || func[i - 1] == ':' || func[i - 1] == ' '))
            break; /* the last component: no return type past it */
        if (c == '<' || c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == '>' || c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        else if (c == ' ' && depth == 0)
            start = i + 1;
    }
    return start;
}

/* Whether the qualified name q (NUL-terminated) is one of std_fns. */
static int is_std_name(const char *q)
{
    if (strncmp(q, "std::", 5) == 0)
        q += 5;
    else if (strncmp(q, "__gnu_cxx::", 11) == 0)
        q += 11;
    else
        return 0;
    for (size_t i = 0; i < NELEM(std_inline_ns); i++)
        if (strncmp(q, std_inline_ns[i], strlen(std_inline_ns[i])) == 0) {
            q += strlen(std_inline_ns[i]);
            break;
        }
    for (size_t i = 0; i < NELEM(std_fns); i++)
        if (pat_matches(std_fns[i], q))
            return 1;
    return 0;
}

/* Whether f is one of the standard library's allocating templates by its
 * name alone: only where DWARF does not say whose source it is (a frame
 * with a file of the program's own is the program's, whatever its name). */
static int is_std_fn(const struct frame *f)
{
    char buf[1024], *q = buf;
    if (strcmp(f->dwarf_file, "??") != 0)
        return 0;
    if (f->func[0] != 's' && f->func[0] != '_' && !strchr(f->func, ' '))
        return 0; /* neither std::, __gnu_cxx:: nor a return type before them */
    size_t end = cxx_name_end(f->func), start = cxx_name_start(f->func, end);
    if (end - start >= sizeof(buf) && !(q = malloc(end - start + 1)))
        return 0;
    memcpy(q, f->func + start, end - start);
    q[end - start] = 0;
    int yes = is_std_name(q);
    if (q != buf)
        free(q);
    return yes;
}

int wrap_is_wrapper(const struct frame *f)
{
    return is_machinery(f) || is_alloc_fn(f->func) || is_std_fn(f);
}

/* In a stack with Python frames, the interpreter's own code (libpython, the
 * python executable, ctypes and libffi) is machinery too: a bytearray's
 * block belongs to its Python line, a libc malloc made through ctypes to
 * the line that called it; a C extension's own code is a native site
 * (--native), and the innermost Python line the site.  Machinery frames
 * are left out of a Python stack (with the C runtime's beyond the native
 * site: thread and process start), unless --interpreter-frames. */
static const char *const py_machinery[] = {"libpython", "python", "_ctypes", "libffi"};
static const char *const py_runtime[] = {"libc.so", "ld-linux"};

static int module_in(const struct frame *f, const char *const *mods, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(f->module, mods[i], strlen(mods[i])) == 0)
            return 1;
    return 0;
}

/* tracemalloc's own tables (its traces, tracebacks and their hash tables,
 * made by its C code in Modules/_tracemalloc.c, Python/tracemalloc.c from
 * 3.12) are its own site, not the Python line whose allocation it was
 * recording: their frames are not machinery, but tracemalloc's allocator
 * hooks are (a Python object made through them stays at its line, the
 * hook being the innermost frame of its stack).  By the interpreter's
 * debug information; without it, tm_own stands for them
 * (HSNAP_TRACE_TMOWN). */
static const char *const tm_hooks[] = {
    "tracemalloc_alloc", "tracemalloc_alloc_gil", "tracemalloc_malloc_gil",
    "tracemalloc_calloc_gil", "tracemalloc_realloc", "tracemalloc_realloc_gil",
    "tracemalloc_free", "tracemalloc_raw_alloc", "tracemalloc_raw_malloc",
    "tracemalloc_raw_calloc", "tracemalloc_raw_realloc", "tracemalloc_raw_free"};

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

int wrap_is_tracemalloc_own(const struct frame *f)
{
    if (!ends_with(f->dwarf_file, "_tracemalloc.c") &&
        !ends_with(f->dwarf_file, "Python/tracemalloc.c"))
        return 0;
    for (size_t i = 0; i < NELEM(tm_hooks); i++)
        if (strcmp(f->func, tm_hooks[i]) == 0)
            return 0;
    return 1;
}

int wrap_is_py_machinery(const struct frame *f)
{
    return module_in(f, py_machinery, NELEM(py_machinery)) && !wrap_is_tracemalloc_own(f);
}

int wrap_is_py_runtime(const struct frame *f)
{
    return module_in(f, py_runtime, NELEM(py_runtime));
}

void wrap_fini(void)
{
    for (int i = 0; i < alloc_cfg.n; i++)
        free(alloc_cfg.pat[i]);
    memset(&alloc_cfg, 0, sizeof(alloc_cfg));
}
