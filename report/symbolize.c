/*
 * symbolize.c - raw ips to function / file / line, offline, with libdwfl.
 *
 * Every module of the snapshot's map is reported to libdwfl at its recorded
 * load bias (dwfl_report_elf with add_p_vaddr, so bias == the recorded one for
 * ET_DYN; ET_EXEC ignores it, as it should).  Debug info is found the
 * standard way (.gnu_debuglink, /usr/lib/debug/.build-id/...).  For one ip:
 *   1. DWARF: the CU DIE, the scope chain of the innermost DIE at the address;
 *      each DW_TAG_inlined_subroutine becomes its own frame, whose caller's
 *      position is the inline's DW_AT_call_file / DW_AT_call_line;
 *   2. no DWARF: the symbol table name, file "??", line 0;
 *   3. nothing (file missing, address outside every module): "module+0xoff"
 *      or "0xip".
 * Every recorded ip is a return address (the shim drops its own frames), so
 * ip - 1 is looked up: that lands inside the call instruction's line.
 * Problems with a module are warned about once on stderr and never fail.
 * Names (functions, files, module basenames) are escaped here, once, for
 * every output (report/escape.c): debug info and module paths are input.
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "escape.h"
#include "input.h"
#include "sym.h"

/* libstdc++'s demangler; weak so that objects linked without -lstdc++ (unit
 * tests) still link, and simply do not demangle. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status)
    __attribute__((weak));

#define SYM_MAX_INLINE 32 /* inline frames kept per ip */

struct sym_mod {
    Dwfl_Module *dm;       /* NULL when the file could not be reported */
    char *base;            /* basename of the path, escaped (report/escape.c) */
    char why[160];         /* why dm is NULL */
    int checked;           /* build-id / debug info looked at */
};

struct sym_entry {
    uint64_t ip;
    int n;
    struct sym_frame *frames;
    UT_hash_handle hh;
};

struct symbolizer {
    const struct snap *snap;
    Dwfl *dwfl;
    struct sym_mod *mods;     /* parallel to snap->modules */
    struct sym_entry *cache;  /* uthash by ip */
};

/* Paths already warned about, so that diff (two symbolizers over the same
 * files) warns once per file for the whole run. */
static struct {
    char *paths[256];
    int n;
} sym_warned;

/* Returns 1 the first time path is seen (and remembers it), else 0. */
static int sym_first_warning(const char *path)
{
    for (int i = 0; i < sym_warned.n; i++)
        if (strcmp(sym_warned.paths[i], path) == 0)
            return 0;
    if (sym_warned.n < 256)
        sym_warned.paths[sym_warned.n++] = strdup(path);
    return 1;
}

static const Dwfl_Callbacks sym_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static void sym_report(struct symbolizer *z)
{
    const struct snap *s = z->snap;
    dwfl_report_begin(z->dwfl);
    for (uint32_t i = 0; i < s->nmodules; i++) {
        struct sym_mod *m = &z->mods[i];
        const struct snap_module *sm = &s->modules[i];
        m->base = esc_text_dup(base_name(sm->path));
        if (sm->path[0] != '/') {
            snprintf(m->why, sizeof(m->why), "not a file");
            continue;
        }
        /* Opened here, not by libdwfl, so that a FIFO or a device named by
         * a crafted snapshot is refused instead of blocking the CLI. */
        struct stat st;
        int fd = in_open(sm->path, &st, m->why, sizeof(m->why));
        if (fd < 0)
            continue;
        m->dm = dwfl_report_elf(z->dwfl, sm->path, sm->path, fd, sm->bias, true);
        if (!m->dm) { /* libdwfl keeps fd only when it succeeds */
            snprintf(m->why, sizeof(m->why), "%s", dwfl_errmsg(-1));
            close(fd);
        }
    }
    dwfl_report_end(z->dwfl, NULL, NULL);
}

struct symbolizer *sym_new(const struct snap *s)
{
    struct symbolizer *z = calloc(1, sizeof(*z));
    if (!z)
        return NULL;
    z->snap = s;
    z->mods = calloc(s->nmodules ? s->nmodules : 1, sizeof(*z->mods));
    z->dwfl = dwfl_begin(&sym_callbacks);
    if (!z->mods || !z->dwfl) {
        sym_free(z);
        return NULL;
    }
    sym_report(z);
    return z;
}

void sym_free(struct symbolizer *z)
{
    struct sym_entry *e, *tmp;
    if (!z)
        return;
    HASH_ITER(hh, z->cache, e, tmp) {
        HASH_DEL(z->cache, e);
        for (int i = 0; i < e->n; i++) {
            free((char *)e->frames[i].func);
            free((char *)e->frames[i].file);
        }
        free(e->frames);
        free(e);
    }
    if (z->dwfl)
        dwfl_end(z->dwfl);
    for (uint32_t i = 0; z->mods && i < z->snap->nmodules; i++)
        free(z->mods[i].base);
    free(z->mods);
    free(z);
}

/* Warns once per module about a missing file, a build-id mismatch or missing
 * debug info; the first lookup in a module triggers it. */
static void sym_check_module(struct symbolizer *z, int idx)
{
    struct sym_mod *m = &z->mods[idx];
    const struct snap_module *sm = &z->snap->modules[idx];
    char path[600];
    if (m->checked)
        return;
    m->checked = 1;
    if (!sym_first_warning(sm->path))
        return;
    esc_text(sm->path, path, sizeof(path));
    if (!m->dm) {
        if (sm->path[0] == '/')
            fprintf(stderr, "heapsnap: warning: %s: %s; frames shown as module+offset\n",
                    path, m->why);
        return;
    }
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(m->dm, &bits, &vaddr);
    if (sm->build_id_len && n > 0 &&
        (n != sm->build_id_len || memcmp(bits, sm->build_id, n) != 0))
        fprintf(stderr, "heapsnap: warning: %s: build-id differs from the recorded one "
                        "(file changed since the run?); symbols may be wrong\n", path);
    Dwarf_Addr bias;
    if (!dwfl_module_getdwarf(m->dm, &bias))
        fprintf(stderr, "heapsnap: warning: %s: no debug info; using the symbol table\n",
                path);
}

/* The name as printed: demangled, then escaped (report/escape.c). */
static char *sym_demangle(const char *name)
{
    if (name && name[0] == '_' && name[1] == 'Z' && __cxa_demangle) {
        int status = -1;
        char *d = __cxa_demangle(name, NULL, NULL, &status);
        if (d && status == 0 && esc_text_needed(d)) {
            char *e = esc_text_dup(d);
            free(d);
            return e;
        }
        if (d && status == 0)
            return d;
        free(d);
    }
    return esc_text_dup(name ? name : "??");
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

static void frame_set(struct sym_frame *f, const char *func, const char *file, int line,
                      int inlined)
{
    f->func = sym_demangle(func);
    f->file = esc_text_dup(file ? file : "??");
    f->line = line;
    f->inlined = inlined;
}

/* Fills frames from DWARF; returns how many (0: no DWARF here). */
static int sym_dwarf(Dwfl_Module *dm, Dwarf_Addr addr, struct sym_frame *out, int max)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(dm, addr, &bias);
    if (!cu)
        return 0;
    Dwarf_Die *scopes = NULL, inner;
    int ns = dwarf_getscopes(cu, addr - bias, &scopes);
    if (ns <= 0) {
        free(scopes);
        return 0;
    }
    inner = scopes[0]; /* then the chain through abstract origins: */
    free(scopes);
    scopes = NULL;
    ns = dwarf_getscopes_die(&inner, &scopes);
    Dwarf_Files *files = NULL;
    dwarf_getsrcfiles(cu, &files, NULL);
    const char *file = NULL;
    int line = 0, n = 0;
    Dwfl_Line *dl = dwfl_module_getsrc(dm, addr);
    if (dl)
        file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
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
static void sym_fallback(struct symbolizer *z, int idx, uint64_t ip, struct sym_frame *f)
{
    char buf[512];
    const char *name = NULL;
    if (idx >= 0 && z->mods[idx].dm) {
        GElf_Off off;
        GElf_Sym sym;
        name = dwfl_module_addrinfo(z->mods[idx].dm, ip, &off, &sym, NULL, NULL, NULL);
    }
    if (!name && idx >= 0) {
        snprintf(buf, sizeof(buf), "%s+%#llx", z->mods[idx].base ? z->mods[idx].base : "??",
                 (unsigned long long)(ip - z->snap->modules[idx].bias));
        name = buf;
    } else if (!name) {
        snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)ip);
        name = buf;
    }
    frame_set(f, name, NULL, 0, 0);
}

static struct sym_entry *sym_resolve(struct symbolizer *z, uint64_t ip)
{
    struct sym_frame frames[SYM_MAX_INLINE];
    const struct snap_module *sm = snap_module_at(z->snap, ip);
    int idx = sm ? (int)(sm - z->snap->modules) : -1, n = 0;
    uint64_t addr = ip ? ip - 1 : 0;
    memset(frames, 0, sizeof(frames));
    if (idx >= 0) {
        sym_check_module(z, idx);
        if (z->mods[idx].dm)
            n = sym_dwarf(z->mods[idx].dm, addr, frames, SYM_MAX_INLINE);
    }
    if (n == 0)
        sym_fallback(z, idx, addr, &frames[n++]);
    struct sym_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->frames = malloc(n * sizeof(*frames)))) {
        free(e);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        frames[i].mod = idx;
        frames[i].module = idx >= 0 && z->mods[idx].base ? z->mods[idx].base : "??";
    }
    memcpy(e->frames, frames, n * sizeof(*frames));
    e->n = n;
    e->ip = ip;
    return e;
}

int sym_lookup(struct symbolizer *z, uint64_t ip, const struct sym_frame **out)
{
    static const struct sym_frame oom = {"??", "??", 0, -1, "??", 0};
    struct sym_entry *e;
    HASH_FIND(hh, z->cache, &ip, sizeof(ip), e);
    if (!e) {
        e = sym_resolve(z, ip);
        if (!e) {
            *out = &oom;
            return 1;
        }
        HASH_ADD(hh, z->cache, ip, sizeof(e->ip), e);
    }
    *out = e->frames;
    return e->n;
}

int sym_same_map(const struct symbolizer *z, const struct snap *s)
{
    const struct snap *t = z->snap;
    if (t->nmodules != s->nmodules)
        return 0;
    for (uint32_t i = 0; i < s->nmodules; i++) {
        const struct snap_module *a = &t->modules[i], *b = &s->modules[i];
        if (a->bias != b->bias || a->lo != b->lo || a->hi != b->hi ||
            strcmp(a->path, b->path) != 0)
            return 0;
    }
    return 1;
}
