/*
 * sym.c - raw ips to function / file / line, offline, with libdwfl.
 *
 * Each module file gets its own Dwfl, reported at load address 0
 * (dwfl_report_elf with add_p_vaddr), so its addresses are file addresses
 * whatever the process's bias (a merged snapshot's too).  Debug info is
 * found the standard way (.gnu_debuglink, /usr/lib/debug/.build-id/...),
 * a compressed one read from its decompressed copy (debugcache.h).
 * For one address:
 *   1. DWARF: the scope chain at the address; each inlined subroutine is a
 *      frame, its caller's position its DW_AT_call_file / DW_AT_call_line;
 *   2. no DWARF: the symbol table's name, file "??", line 0;
 *   3. nothing (no file, outside every module): "module+0xoff" or "0xip".
 * Without .debug_aranges (clang), the CU is found in the module's own table
 * of CU ranges, built once.  A module's problems are warned about once,
 * never fatal; missing debug information is one note for the run (dbgsym.h).  Names are escaped here, once, for every output (escape.c).
 */
#include <dwarf.h>
#include <errno.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#include "cli.h"
#include "cuindex.h"
#include "dbgsym.h"
#include "debugcache.h"
#include "demangle.h"
#include "escape.h"
#include "input.h"
#include "sym.h"
#include "symtab.h"

#define SYM_MAX_INLINE 32 /* inline frames kept per ip */

/* One CU address range [lo, hi), for modules without (complete) aranges. */
struct sym_curange {
    Dwarf_Addr lo, hi;
    Dwarf_Die cu;
};

struct sym_mod {
    char *path;            /* as recorded (owned) */
    uint8_t *build_id;     /* owned copy, build_id_len bytes */
    uint16_t build_id_len;
    char *base;            /* basename of path, escaped (esc_text) */
    char *shown;           /* path, escaped, for messages */
    Dwfl *dwfl;            /* this file alone, at load address 0 */
    Dwfl_Module *dm;       /* NULL when the file could not be reported */
    char why[160];         /* why dm is NULL */
    int reported;          /* dwfl set up (on the first lookup) */
    int checked;           /* build-id / debug info looked at */
    struct sym_curange *cur; /* CU ranges sorted by lo (built on first need) */
    size_t ncur;
    int cur_built;
    struct cux_mod cux;    /* scope chains, per CU read (cuindex.h) */
    struct symtab *symtab; /* symbol-table names by interval (symtab.h) */
};

/* The cache key: (module, file address); pad zeroed so the bytes hash. */
struct sym_key {
    int32_t mod;
    uint32_t pad;
    uint64_t off;
};

struct sym_entry {
    struct sym_key key;
    int n;
    struct sym_frame *frames;
    UT_hash_handle hh;
};

/* The command's one registry.  Invariants: mods[i] is a distinct (path,
 * build-id); every cached frame's strings are owned by its entry. */
static struct {
    struct sym_mod *mods;
    size_t nmods, capmods;
    struct sym_entry *cache;  /* uthash by key */
    char *warned[256];        /* paths already warned about */
    int nwarned;
    int hinted;               /* sym_sysroot_hint given */
} sym;

/* Returns 1 the first time path is seen (and remembers it), else 0. */
static int sym_first_warning(const char *path)
{
    for (int i = 0; i < sym.nwarned; i++)
        if (strcmp(sym.warned[i], path) == 0)
            return 0;
    if (sym.nwarned < 256)
        sym.warned[sym.nwarned++] = strdup(path);
    return 1;
}

/* What the first warning of a module missing or not the file the run
 * had adds while no HEAPSNAP_SYSROOT names where the run's files are (a
 * snapshot made in a container or a chroot, read outside it: a Debian
 * root's libc is not this machine's): once, then "". */
static const char *sym_sysroot_hint(void)
{
    const char *roots = getenv("HEAPSNAP_SYSROOT");
    if ((roots && *roots) || sym.hinted)
        return "";
    sym.hinted = 1;
    return " (a run in a container or a chroot? HEAPSNAP_SYSROOT=ITS_ROOT reads its files)";
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* Whether a separate debug file of file_name (named debuglink, else its
 * name and ".debug") is in a place libdwfl's search by name looks: beside
 * it, in its .debug/, under /usr/lib/debug/ by its directory or alone;
 * for the file's path as given and resolved (a symlink's target). */
static int sym_debuglink_there(const char *file_name, const char *debuglink)
{
    char real[PATH_MAX], name[PATH_MAX], path[PATH_MAX * 2 + 32];
    const char *files[2] = {file_name, realpath(file_name, real) ? real : NULL};
    for (int f = 0; f < 2 && files[f]; f++) {
        const char *slash = strrchr(files[f], '/');
        int dir = slash ? (int)(slash - files[f]) : 0;
        snprintf(name, sizeof(name), "%s%s", debuglink ? debuglink : base_name(files[f]),
                 debuglink ? "" : ".debug");
        const char *const fmts[] = {"%.*s/%s", "%.*s/.debug/%s", "/usr/lib/debug%.*s/%s"};
        for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
            snprintf(path, sizeof(path), fmts[i], dir, files[f], name);
            if (access(path, R_OK) == 0)
                return 1;
        }
        snprintf(path, sizeof(path), "/usr/lib/debug/%s", name);
        if (access(path, R_OK) == 0)
            return 1;
    }
    return 0;
}

/* libdwfl's standard search for a module's debug information ends, when
 * nothing is found, by asking debuginfod, and libdw (0.188) dlopens its
 * client for that even when no server is set: libcurl and some 30
 * libraries in the CLI for any program without debug information
 * (Debian's, or one built without -g).  Without
 * DEBUGINFOD_URLS, the search therefore runs only where a file can be
 * found here: by build ID, or under a name the search tries. */
static int sym_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                              Dwarf_Addr base, const char *file_name, const char *debuglink,
                              GElf_Word crc, char **debuginfo_file_name)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    const unsigned char *id;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &id, &vaddr), fd;
    /* a decompressed copy first: libdwfl keeps the file its own search
     * opened, whatever descriptor a callback then returns */
    if (n > 0 && (fd = dcache_find(id, n, debuginfo_file_name)) >= 0)
        return fd;
    if (!urls || !*urls) {
        fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink, crc,
                                          debuginfo_file_name);
        if (fd >= 0 || !file_name || !sym_debuglink_there(file_name, debuglink))
            return fd;
    }
    fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink, crc,
                                      debuginfo_file_name);
    if (fd >= 0 && n > 0 && debuginfo_file_name)
        dcache_fill(*debuginfo_file_name, id, n); /* for the next report */
    return fd;
}

static const Dwfl_Callbacks sym_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = sym_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

static int sym_same_file(const struct sym_mod *a, const struct snap_module *m)
{
    return a->build_id_len == m->build_id_len && strcmp(a->path, m->path) == 0 &&
           memcmp(a->build_id, m->build_id, m->build_id_len) == 0;
}

int sym_module(const struct snap_module *m)
{
    for (size_t i = 0; i < sym.nmods; i++)
        if (sym_same_file(&sym.mods[i], m))
            return (int)i;
    if (grow_array((void **)&sym.mods, &sym.capmods, sym.nmods + 1, sizeof(*sym.mods)) < 0)
        return -1;
    struct sym_mod *n = &sym.mods[sym.nmods];
    memset(n, 0, sizeof(*n));
    n->path = strdup(m->path);
    n->build_id = malloc(m->build_id_len ? m->build_id_len : 1);
    if (!n->path || !n->build_id) {
        free(n->path);
        free(n->build_id);
        return -1;
    }
    memcpy(n->build_id, m->build_id, m->build_id_len);
    n->build_id_len = m->build_id_len;
    n->base = esc_text_dup(base_name(n->path));
    n->shown = esc_text_dup(n->path);
    if (!n->base || !n->shown) {
        free(n->path);
        free(n->build_id);
        free(n->base);
        free(n->shown);
        return -1;
    }
    return (int)sym.nmods++;
}

const char *sym_module_path(int mod) { return sym.mods[mod].path; }
const char *sym_module_base(int mod) { return sym.mods[mod].base; }

/* Whether the ELF file at path has the module's recorded build-id (1), a
 * different one or none (0); a module recorded without one matches. */
static int sym_build_id_is(const struct sym_mod *m, const char *path)
{
    if (!m->build_id_len)
        return 1;
    struct stat st;
    char why[64];
    int fd = in_open(path, &st, why, sizeof why), same = 0;
    if (fd < 0)
        return 0;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *id;
    ssize_t n = e ? dwelf_elf_gnu_build_id(e, &id) : -1;
    same = n == m->build_id_len && memcmp(id, m->build_id, (size_t)n) == 0;
    if (e)
        elf_end(e);
    close(fd);
    return same;
}

/* The file to read for the module, into full (n bytes): its path, or under
 * HEAPSNAP_SYSROOT (perf's --symfs, gdb's sysroot), a colon-separated list
 * of trees ("/" for this machine's own), the first tree whose file of that
 * path has the recorded build-id, else the first where it exists: a
 * snapshot taken in a container or a chroot reads outside it, beside
 * snapshots of this machine's processes.  -1 when the name is too long. */
static int sym_module_file(const struct sym_mod *m, char *full, size_t n)
{
    const char *roots = getenv("HEAPSNAP_SYSROOT"), *r, *end;
    int found = 0;
    snprintf(full, n, "%s", m->path);
    if (!roots || !*roots)
        return 0;
    for (r = roots; *r; r = *end ? end + 1 : end) {
        char cand[4096];
        end = strchr(r, ':');
        if (!end)
            end = r + strlen(r);
        size_t len = (size_t)(end - r);
        while (len && r[len - 1] == '/')
            len--; /* "/" is the empty prefix */
        if ((size_t)snprintf(cand, sizeof cand, "%.*s%s", (int)len, r, m->path) >= sizeof cand)
            return -1;
        if (access(cand, R_OK) != 0)
            continue;
        if (sym_build_id_is(m, cand)) {
            snprintf(full, n, "%s", cand);
            return 0;
        }
        if (!found++)
            snprintf(full, n, "%s", cand);
    }
    return 0;
}

/* Opens the module's file in a Dwfl of its own, once. */
static void sym_report(struct sym_mod *m)
{
    m->reported = 1;
    if (m->path[0] != '/') {
        snprintf(m->why, sizeof(m->why), "not a file");
        return;
    }
    if (!(m->dwfl = dwfl_begin(&sym_callbacks))) {
        snprintf(m->why, sizeof(m->why), "%s", dwfl_errmsg(-1));
        return;
    }
    /* Opened here, not by libdwfl, so that a FIFO or a device named by a
     * crafted snapshot is refused instead of blocking the CLI. */
    struct stat st;
    char full[4096];
    if (sym_module_file(m, full, sizeof full) != 0) {
        snprintf(m->why, sizeof(m->why), "path too long under HEAPSNAP_SYSROOT");
        return;
    }
    int fd = in_open(full, &st, m->why, sizeof(m->why));
    if (fd < 0)
        return;
    dwfl_report_begin(m->dwfl);
    m->dm = dwfl_report_elf(m->dwfl, m->path, full, fd, 0, true);
    if (!m->dm) { /* libdwfl keeps fd only when it succeeds */
        snprintf(m->why, sizeof(m->why), "%s", dwfl_errmsg(-1));
        close(fd);
    }
    dwfl_report_end(m->dwfl, NULL, NULL);
}

/* HEAPSNAP_DEBUG=symbols: what each module's DWARF cost, one line per module
 * whose units were read, on stderr (the test of cux_scopes' laziness);
 * symbols-check: each address asked of libdw's walk too, and the chains
 * that differ counted (the test of its answers). */
static void sym_debug_report(void)
{
    const char *d = getenv("HEAPSNAP_DEBUG");
    if (!d || !strstr(d, "symbols"))
        return;
    for (size_t i = 0; i < sym.nmods; i++) {
        struct sym_mod *m = &sym.mods[i];
        Dwarf_Addr bias;
        Dwarf *dw = m->dm ? dwfl_module_getdwarf(m->dm, &bias) : NULL;
        if (!dw || !(m->cux.fast + m->cux.slow))
            continue;
        fprintf(stderr, "heapsnap: debug: symbols: %s: %u of %u units read, %u whole, "
                        "%lu DIEs; %lu addresses, %lu by libdw's walk", m->base,
                m->cux.indexed, cux_count_units(dw), m->cux.walked, m->cux.dies,
                m->cux.fast + m->cux.slow, m->cux.slow);
        if (m->cux.check)
            fprintf(stderr, "; %lu differ from libdw's", m->cux.differ);
        fputc('\n', stderr);
    }
}

static void sym_debug_atexit(void)
{
    sym_debug_report();
}

void sym_fini(void)
{
    sym_debug_report();
    struct sym_entry *e, *tmp;
    HASH_ITER(hh, sym.cache, e, tmp) {
        HASH_DEL(sym.cache, e);
        for (int i = 0; i < e->n; i++) {
            free((char *)e->frames[i].func);
            free((char *)e->frames[i].file);
        }
        free(e->frames);
        free(e);
    }
    for (size_t i = 0; i < sym.nmods; i++) {
        if (sym.mods[i].dwfl)
            dwfl_end(sym.mods[i].dwfl);
        free(sym.mods[i].path);
        free(sym.mods[i].build_id);
        free(sym.mods[i].base);
        free(sym.mods[i].shown);
        free(sym.mods[i].cur);
        cux_fini(&sym.mods[i].cux);
        symtab_free(sym.mods[i].symtab);
    }
    for (int i = 0; i < sym.nwarned; i++)
        free(sym.warned[i]);
    free(sym.mods);
    memset(&sym, 0, sizeof(sym));
}

/* Sets the module up on its first lookup and warns once per file about a
 * missing file, a build-id mismatch or missing debug info. */
static void sym_check_module(struct sym_mod *m)
{
    if (m->checked)
        return;
    m->checked = 1;
    static int armed;
    const char *debug = getenv("HEAPSNAP_DEBUG");
    if (!armed++ && debug)
        atexit(sym_debug_atexit);
    m->cux.check = debug && strstr(debug, "symbols-check") != NULL;
    sym_report(m);
    Dwarf_Addr bias;
    if (m->dm && !dwfl_module_getdwarf(m->dm, &bias))
        dbg_missing(m->path, m->shown); /* one note, at exit: of every snapshot read, as a
                                         * discarded one's are forgotten (dbg_forget) */
    if (!sym_first_warning(m->path))
        return;
    if (!m->dm) {
        if (m->path[0] == '/')
            fprintf(stderr, "heapsnap: warning: %s: %s; frames shown as module+offset%s\n",
                    m->shown, m->why,
                    access(m->path, F_OK) != 0 && errno == ENOENT ? sym_sysroot_hint() : "");
        return;
    }
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(m->dm, &bits, &vaddr);
    if (m->build_id_len && n > 0 &&
        (n != m->build_id_len || memcmp(bits, m->build_id, n) != 0))
        fprintf(stderr, "heapsnap: warning: %s: build-id differs from the recorded one "
                        "(file changed since the run?); symbols may be wrong%s\n", m->shown,
                sym_sysroot_hint());
}

/* The name as printed: demangled, then escaped (esc_text). */
static char *sym_demangle(const char *name)
{
    char *d = demangle_name(name);
    if (d && esc_text_needed(d)) {
        char *e = esc_text_dup(d);
        free(d);
        return e;
    }
    return d ? d : esc_text_dup(name ? name : "??");
}

/* The linkage name (mangled, so it demangles with arguments) or the plain
 * name, following DW_AT_abstract_origin / DW_AT_specification. */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
    if (!name)
        name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
    return name;
}

/* An absolute path with its "." and "dir/.." components removed, in place
 * (clang records libstdc++'s headers as "/usr/bin/../lib/gcc/.../../../../
 * include/c++/12/..."): lexically, as the compiler's own paths are meant. */
static void sym_clean_path(char *p)
{
    if (p[0] != '/')
        return;
    char *out = p; /* p[0..out) is the cleaned prefix, starting with '/' */
    for (const char *in = p; *in;) {
        while (*in == '/')
            in++;
        size_t len = strcspn(in, "/");
        if (len == 0 || (len == 1 && in[0] == '.')) {
            in += len;
            continue;
        }
        if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > p && *--out != '/')
                ;
            in += len;
            continue;
        }
        *out++ = '/';
        memmove(out, in, len);
        out += len;
        in += len;
    }
    if (out == p)
        *out++ = '/';
    *out = 0;
}

static void frame_set(struct sym_frame *f, const char *func, const char *file, int line,
                      int inlined)
{
    f->func = sym_demangle(func);
    f->file = esc_text_dup(file ? file : "??");
    if (f->file)
        sym_clean_path((char *)f->file);
    f->line = line;
    f->inlined = inlined;
}

static int sym_curange_cmp(const void *a, const void *b)
{
    const struct sym_curange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Adds every address range of one CU to m's table; -1 when out of memory. */
static int sym_add_cu(struct sym_mod *m, Dwarf_Die *cu, size_t *cap)
{
    Dwarf_Addr base, lo, hi;
    ptrdiff_t at = 0;
    while ((at = dwarf_ranges(cu, at, &base, &lo, &hi)) > 0) {
        if (hi <= lo)
            continue;
        if (grow_array((void **)&m->cur, cap, m->ncur + 1, sizeof(*m->cur)) < 0)
            return -1;
        m->cur[m->ncur++] = (struct sym_curange){lo, hi, *cu};
    }
    return 0;
}

/* The table of m's CU ranges, from the units themselves (not .debug_aranges). */
static void sym_build_curanges(struct sym_mod *m, Dwarf *dw)
{
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie;
    uint8_t type;
    size_t cap = 0;
    m->cur_built = 1;
    while (dwarf_get_units(dw, cu, &cu, NULL, &type, &cudie, NULL) == 0) {
        if (type != DW_UT_compile && type != DW_UT_partial && type != DW_UT_skeleton)
            continue;
        if (sym_add_cu(m, &cudie, &cap) < 0)
            break;
    }
    qsort(m->cur, m->ncur, sizeof(*m->cur), sym_curange_cmp);
}

/* The CU containing addr (a module-relative DWARF address) from m's table:
 * the innermost (latest-starting) range that holds it; NULL if none. */
static Dwarf_Die *sym_cu_fallback(struct sym_mod *m, Dwarf_Addr addr, Dwarf_Addr *bias)
{
    Dwarf *dw = dwfl_module_getdwarf(m->dm, bias);
    if (!dw)
        return NULL;
    if (!m->cur_built)
        sym_build_curanges(m, dw);
    addr -= *bias;
    size_t lo = 0, hi = m->ncur; /* first range with .lo > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->cur[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;)
        if (addr < m->cur[i].hi)
            return &m->cur[i].cu;
    return NULL;
}

/* The source line of addr: libdwfl's (through aranges), else the CU's table. */
static const char *sym_line(Dwfl_Module *dm, Dwarf_Die *cu, Dwarf_Addr addr,
                            Dwarf_Addr bias, int *line)
{
    Dwfl_Line *dl = dwfl_module_getsrc(dm, addr);
    if (dl)
        return dwfl_lineinfo(dl, NULL, line, NULL, NULL, NULL);
    Dwarf_Line *l = dwarf_getsrc_die(cu, addr - bias);
    if (!l || dwarf_lineno(l, line) != 0)
        return NULL;
    return dwarf_linesrc(l, NULL, NULL);
}

/* Fills frames from DWARF; returns how many (0: no DWARF here). */
static int sym_dwarf(struct sym_mod *m, Dwarf_Addr addr, struct sym_frame *out, int max)
{
    Dwfl_Module *dm = m->dm;
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(dm, addr, &bias);
    if (!cu)
        cu = sym_cu_fallback(m, addr, &bias);
    if (!cu)
        return 0;
    Dwarf_Die *scopes = NULL;
    int ns = cux_scopes(&m->cux, cu, addr - bias, &scopes);
    if (ns < 0) /* no scope holds addr (GCC nests a lambda's or a local
                   class's functions in their enclosing function's DIE,
                   whose ranges do not hold them): the line table's line
                   under the symbol's name, as addr2line reads it */
        ns = 0;
    Dwarf_Files *files = NULL;
    dwarf_getsrcfiles(cu, &files, NULL);
    const char *file = NULL;
    int line = 0, n = 0;
    file = sym_line(dm, cu, addr, bias, &line);
    for (int i = 0; i < ns && n < max; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine &&
            tag != DW_TAG_entry_point)
            continue;
        frame_set(&out[n++], die_name(&scopes[i]), file, line,
                  tag == DW_TAG_inlined_subroutine);
        if (tag != DW_TAG_inlined_subroutine)
            break;
        Dwarf_Attribute attr;
        Dwarf_Word v = 0;
        file = NULL;
        if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &v) == 0)
            file = dwarf_filesrc(files, v, NULL, NULL);
        line = dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &v) == 0
                   ? (int)v : 0;
    }
    free(scopes);
    if (n && out[n - 1].inlined && n < max) /* chain without its subprogram */
        frame_set(&out[n++], dwfl_module_addrname(dm, addr), file, line, 0);
    if (n == 0 && file) /* a line but no function DIE (assembly) */
        frame_set(&out[n++], dwfl_module_addrname(dm, addr), file, line, 0);
    return n;
}

/* Fallbacks: symbol table, then module+offset, then the bare address. */
static void sym_fallback(int mod, uint64_t addr, struct sym_frame *f)
{
    char buf[512];
    const char *name = NULL;
    if (mod >= 0 && sym.mods[mod].dm)
        name = symtab_name(&sym.mods[mod].symtab, sym.mods[mod].dm, addr);
    if (!name && mod >= 0) {
        snprintf(buf, sizeof(buf), "%s+%#llx", sym.mods[mod].base, (unsigned long long)addr);
        name = buf;
    } else if (!name) {
        snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)addr);
        name = buf;
    }
    frame_set(f, name, NULL, 0, 0);
}

static struct sym_entry *sym_resolve(const struct sym_key *k)
{
    struct sym_frame frames[SYM_MAX_INLINE];
    uint64_t addr = k->off ? k->off - 1 : 0;
    int n = 0;
    memset(frames, 0, sizeof(frames));
    if (k->mod >= 0) {
        sym_check_module(&sym.mods[k->mod]);
        if (sym.mods[k->mod].dm)
            n = sym_dwarf(&sym.mods[k->mod], addr, frames, SYM_MAX_INLINE);
    }
    if (n == 0)
        sym_fallback(k->mod, addr, &frames[n++]);
    struct sym_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->frames = malloc(n * sizeof(*frames)))) {
        free(e);
        return NULL;
    }
    memcpy(e->frames, frames, n * sizeof(*frames));
    e->n = n;
    e->key = *k;
    return e;
}

const char *sym_data(int mod, uint64_t off, int tls, uint64_t *delta)
{
    if (mod < 0 || (size_t)mod >= sym.nmods)
        return NULL;
    struct sym_mod *m = &sym.mods[mod];
    sym_check_module(m);
    int n = m->dm ? dwfl_module_getsymtab(m->dm) : -1;
    const char *best = NULL;
    uint64_t start = 0;
    for (int i = 1; i < n; i++) {
        GElf_Sym es;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf;
        Dwarf_Addr bias;
        const char *name = dwfl_module_getsym_info(m->dm, i, &es, &addr, &shndx, &elf, &bias);
        int t = GELF_ST_TYPE(es.st_info);
        if (!name || !*name || es.st_shndx == SHN_UNDEF ||
            (tls ? t != STT_TLS : t != STT_OBJECT && t != STT_NOTYPE && t != STT_COMMON))
            continue;
        uint64_t v = tls ? es.st_value : addr;
        if (off < v || (es.st_size ? off - v >= es.st_size : off != v))
            continue;
        if (!best || v > start)
            best = name, start = v;
    }
    *delta = best ? off - start : 0;
    return best;
}

int sym_lookup(int mod, uint64_t off, const struct sym_frame **out)
{
    static const struct sym_frame oom = {"??", "??", 0, 0};
    struct sym_key k;
    struct sym_entry *e;
    memset(&k, 0, sizeof(k));
    k.mod = mod;
    k.off = off;
    HASH_FIND(hh, sym.cache, &k, sizeof(k), e);
    if (!e) {
        e = sym_resolve(&k);
        if (!e) {
            *out = &oom;
            return 1;
        }
        HASH_ADD(hh, sym.cache, key, sizeof(e->key), e);
    }
    *out = e->frames;
    return e->n;
}
