/*
 * pygarbage.c - the Python objects only the collector frees, as `leaks`
 * prints them: per allocation site and type, how many and their bytes,
 * whether the type has a finalizer (__del__, tp_finalize: the collector
 * runs it, in no order, before freeing the cycle), and a cycle through
 * one of them by type and attribute, followed along the links the shim
 * kept (PYTYPES: one a garbage object, round the shortest cycle through
 * one object of each site and type: pyg_cycle_links), from the one of the
 * group on the shortest.
 * What the interpreter's own Python code made (pygarbage_interp: its
 * standard library's, importlib's) is listed apart, under its own head:
 * not the program's, and no gate fails on it (pycheck_check).  A class's
 * __dict__ counts at its class's site (pygarbage_charges): born in the
 * same call, whatever line its free-list block had before 3.13; so does
 * a dict, list, tuple or float in a cycle the interpreter's code made.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fmt.h"
#include "frames.h"
#include "pygarbage.h"
#include "pypath.h"
#include "snap.h"

#define PYG_PATH_MAX 12 /* steps of a cycle's path shown */

struct pyg_group {
    uint32_t trace, type;
    uint64_t count, bytes;
    uint64_t first; /* a block of it: the one of the lowest rank */
    int len;        /* first's pyg_rank */
};

#define PYG_NO_CYCLE (2 * PYG_PATH_MAX + 2)

/* The links from block b round to b again (PYTYPES keeps one a garbage
 * object, pyg_cycle_links': a cycle through one object of each group), or
 * PYG_PATH_MAX + 1: none within PYG_PATH_MAX. */
static int pyg_closed(const struct snap *s, uint64_t b)
{
    uint64_t at = b;
    for (int n = 1; n <= PYG_PATH_MAX; n++) {
        if (s->py.block_next[at].label & HSNAP_PYLINK_HELD)
            break;
        at = s->py.block_next[at].block;
        if (at == UINT64_MAX)
            break;
        if (at == b)
            return n;
    }
    return PYG_PATH_MAX + 1;
}

/* How good a start block b is for its group's path: a cycle through it
 * of n links (n), or held by one through n holders (PYG_PATH_MAX + 1 +
 * n), or neither (PYG_NO_CYCLE). */
static int pyg_rank(const struct snap *s, uint64_t b)
{
    int n = pyg_closed(s, b);
    if (n <= PYG_PATH_MAX)
        return n;
    uint64_t at = b;
    for (n = 0; n < PYG_PATH_MAX && at != UINT64_MAX &&
                (s->py.block_next[at].label & HSNAP_PYLINK_HELD); n++)
        at = s->py.block_next[at].block;
    return n && at != UINT64_MAX && pyg_closed(s, at) <= PYG_PATH_MAX ? PYG_PATH_MAX + 1 + n
                                                                     : PYG_NO_CYCLE;
}

static int pyg_cmp(const void *pa, const void *pb)
{
    const struct pyg_group *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->trace != b->trace)
        return a->trace < b->trace ? -1 : 1;
    return (a->type > b->type) - (a->type < b->type);
}

static int pyg_by_site(const void *pa, const void *pb)
{
    const struct pyg_group *a = pa, *b = pb;
    if (a->trace != b->trace)
        return a->trace < b->trace ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    return (a->first > b->first) - (a->first < b->first);
}

int pygarbage_interp(const struct snap *s, uint32_t ti)
{
    const struct frames_trace *t = frames_get(s, ti);
    char lib[4200];
    const char *slash = strrchr(s->exe, '/');
    if (!t || !t->npy)
        return 0;
    const char *file = t->py[0]->file;
    if (!strncmp(file, "<frozen ", 8))
        return 1;
    if (!slash || slash - s->exe > 4000)
        return 0;
    int n = (int)(slash - s->exe);
    while (n > 0 && s->exe[n - 1] == '/')
        n--;
    while (n > 0 && s->exe[n - 1] != '/') /* PREFIX/bin: PREFIX */
        n--;
    snprintf(lib, sizeof lib, "%.*slib/python%u.%u/", n, s->exe, s->py_version >> 24,
             (s->py_version >> 16) & 0xff);
    size_t k = strlen(lib);
    return !strncmp(file, lib, k) && !strstr(file + k, "site-packages/") &&
           !strstr(file + k, "dist-packages/");
}

/* Whether link r (a class's first reference, or one holding from) is a
 * class's __dict__: the shim names only a class's by the class. */
static int pyg_class_dict(const struct snap_pyref *r)
{
    return (r->label & ~HSNAP_PYLINK_HELD) == HSNAP_PYLABEL_DICT && r->name &&
           r->block != UINT64_MAX;
}

/* Whether type t is one CPython keeps free lists of before 3.13 (dict,
 * list, tuple, float): an object's block may then have been handed out
 * again with no call the shim sees, so its trace may be an earlier
 * life's.  From 3.13 on a birth moves the trace (pyreborn.c). */
static int pyg_reused_type(const struct snap *s, uint32_t t)
{
    static const char *const kinds[] = {"dict", "list", "tuple", "float"};
    if (s->py_version >= 0x030d0000u || t >= s->py.ntypes)
        return 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (!strcmp(s->py.types[t].name, kinds[k]))
            return 1;
    return 0;
}

/* What pygarbage_charges' free-list pass looks up: by type, whether it
 * is a free list's (pyg_reused_type), and by trace, pygarbage_interp's
 * answer once worked out (0 not yet, 1 no, 2 yes). */
struct pyg_memo {
    uint8_t *reused;
    uint8_t *interp;
};

static int pyg_reused(const struct snap *s, const struct pyg_memo *mm, uint64_t i)
{
    uint32_t t = s->py.block_type[i];
    return t < s->py.ntypes && mm->reused[t];
}

/* pygarbage_interp of trace t, worked out once a trace. */
static int pyg_interp(const struct snap *s, struct pyg_memo *mm, uint32_t t)
{
    if (t >= s->ntraces)
        return pygarbage_interp(s, t);
    if (!mm->interp[t])
        mm->interp[t] = (uint8_t)(1 + (pygarbage_interp(s, t) != 0));
    return mm->interp[t] == 2;
}

/* Free-list object i charged at its cycle's maker m's site, where m's
 * charge holds (no free list's object, or one charged already) and is of
 * the interpreter's own code, and i's line is not. */
static void pyg_maker(const struct snap *s, uint32_t *c, struct pyg_memo *mm, uint64_t i,
                      uint64_t m)
{
    if (pyg_reused(s, mm, i) && (!pyg_reused(s, mm, m) || c[m] != s->blocks[m].trace) &&
        pyg_interp(s, mm, c[m]) && !pyg_interp(s, mm, c[i]))
        c[i] = c[m];
}

uint32_t *pygarbage_charges(const struct snap *s)
{
    uint32_t *c = big_malloc((s->nblocks ? s->nblocks : 1) * sizeof *c);
    if (!c)
        return NULL;
    for (uint64_t i = 0; i < s->nblocks; i++)
        c[i] = s->blocks[i].trace;
    if (!s->py.block_next)
        return c;
    for (uint64_t i = 0; i < s->nblocks; i++) {
        const struct snap_pyref *r = &s->py.block_next[i];
        if (!(s->py.block_flags[i] & HSNAP_PYOBJ_GARBAGE) || !pyg_class_dict(r) ||
            r->block >= s->nblocks)
            continue;
        if (r->label & HSNAP_PYLINK_HELD) /* i is the dict, held by its class */
            c[i] = s->blocks[r->block].trace;
        else if (s->py.block_flags[r->block] & HSNAP_PYOBJ_GARBAGE) /* i the class */
            c[r->block] = s->blocks[i].trace;
    }
    /* A free list's object in a cycle the interpreter's own code made
     * counts there too, where its block's line is the program's: its
     * block may be a first life's (Debian's 3.11 with matplotlib's
     * namespace .pth: a class's closure tuple at _distutils_hack's line).
     * The cycle's maker is a garbage object of another type that holds it
     * (a function its closure tuple) or, else, the first that the cycle's
     * kept links lead it to (a class its __mro__).  A program's own cycles
     * keep their lines: a list an __init__ makes is not its object's. */
    struct pyg_memo mm = {calloc(s->py.ntypes ? s->py.ntypes : 1, 1),
                          calloc(s->ntraces ? s->ntraces : 1, 1)};
    if (!mm.reused || !mm.interp) {
        free(mm.reused);
        free(mm.interp);
        free(c);
        return NULL; /* out of memory, as the charges' own array */
    }
    for (uint32_t t = 0; t < s->py.ntypes; t++)
        mm.reused[t] = (uint8_t)pyg_reused_type(s, t);
    for (uint64_t j = 0; j < s->nblocks; j++) {
        const struct snap_pyref *r = &s->py.block_next[j];
        if (!(s->py.block_flags[j] & HSNAP_PYOBJ_GARBAGE) || r->block >= s->nblocks)
            continue;
        uint64_t held = (r->label & HSNAP_PYLINK_HELD) ? j : r->block;
        uint64_t by = (r->label & HSNAP_PYLINK_HELD) ? r->block : j;
        if ((s->py.block_flags[held] & HSNAP_PYOBJ_GARBAGE) &&
            (s->py.block_flags[by] & HSNAP_PYOBJ_GARBAGE) && c[held] == s->blocks[held].trace)
            pyg_maker(s, c, &mm, held, by);
    }
    for (uint64_t i = 0; i < s->nblocks; i++) {
        if (!(s->py.block_flags[i] & HSNAP_PYOBJ_GARBAGE) || c[i] != s->blocks[i].trace ||
            !pyg_reused(s, &mm, i))
            continue;
        uint64_t at = i;
        for (int n = 0; n < PYG_PATH_MAX; n++) {
            at = s->py.block_next[at].block;
            if (at >= s->nblocks || at == i || !(s->py.block_flags[at] & HSNAP_PYOBJ_GARBAGE))
                break;
            if (!pyg_reused(s, &mm, at) || c[at] != s->blocks[at].trace) { /* settled */
                pyg_maker(s, c, &mm, i, at);
                break;
            }
        }
    }
    free(mm.reused);
    free(mm.interp);
    return c;
}

/* The site of trace t as `top` names it ("app.py:12"), into buf. */
static void pyg_site(const struct snap *s, uint32_t trace, char *buf, size_t n)
{
    const struct frames_trace *t = frames_get(s, trace);
    char where[300];
    if (!t) {
        snprintf(buf, n, "?");
        return;
    }
    snprintf(buf, n, "%s:%d", frames_where(t->fr[t->site], where, sizeof where),
             t->fr[t->site]->line);
}

/* The groups g[0, m) of one (trace, type) merged by (site, type): traces
 * of one Python line differ by their native frames.  The new m. */
static uint64_t pyg_by_key(const struct snap *s, struct pyg_group *g, uint64_t m)
{
    char a[400], b[400];
    uint64_t k = 0;
    for (uint64_t i = 0; i < m; i++) {
        uint64_t j;
        pyg_site(s, g[i].trace, a, sizeof a);
        for (j = 0; j < k; j++) {
            if (g[j].type != g[i].type)
                continue;
            pyg_site(s, g[j].trace, b, sizeof b);
            if (!strcmp(a, b))
                break;
        }
        if (j < k) {
            g[j].count += g[i].count;
            g[j].bytes += g[i].bytes;
            if (g[i].len < g[j].len)
                g[j].first = g[i].first, g[j].len = g[i].len;
        } else {
            g[k++] = g[i];
        }
    }
    return k;
}

/* The short name of a type ("Node" of "__main__.Node"). */
static const char *pyg_short(const char *t)
{
    const char *dot = strrchr(t, '.');
    return dot ? dot + 1 : t;
}

/* One step of a cycle's path: how an object of type holder holds the
 * next one (r's label) after the holder's name, into buf: "dict['k']",
 * "list[3]", a tuple's "tuple[i]", an attribute's or a member's
 * "Node.next" (the type's short name, as pypath_of's paths; a class's
 * field by the class's own, "Node.__mro__"), its
 * "Node.__dict__", or the bare type. */
static const char *pyg_how(const char *holder, const struct snap_pyref *r, char *buf, size_t n)
{
    if (r->label == HSNAP_PYLABEL_KEY && r->name)
        snprintf(buf, n, r->repr ? "%s[%.*s]" : "%s['%.*s']", holder, (int)r->name_len, r->name);
    else if (r->label == HSNAP_PYLABEL_KEY) /* a key that is no str: id()'s int */
        snprintf(buf, n, "%s[...]", holder);
    else if (r->label == HSNAP_PYLABEL_INDEX)
        snprintf(buf, n, "%s[%u]", holder, r->value);
    else if (r->label == HSNAP_PYLABEL_FIELD && !strcmp(holder, "tuple") && r->value >= 24)
        snprintf(buf, n, "%s[%u]", holder, (r->value - 24) / 8);
    else if (r->label == HSNAP_PYLABEL_FIELD && r->name && memchr(r->name, '.', r->name_len))
        snprintf(buf, n, "%.*s", (int)r->name_len, r->name); /* a class's: "Node.__mro__" */
    else if ((r->label == HSNAP_PYLABEL_ATTR || r->label == HSNAP_PYLABEL_FIELD) && r->name)
        snprintf(buf, n, "%s.%.*s", pyg_short(holder), (int)r->name_len, r->name);
    else if (r->label == HSNAP_PYLABEL_DICT && r->name) /* a class's, by its name */
        snprintf(buf, n, "%.*s.__dict__", (int)r->name_len, r->name);
    else if (r->label == HSNAP_PYLABEL_DICT)
        snprintf(buf, n, "%s.__dict__", pyg_short(holder));
    else
        snprintf(buf, n, "%s", holder);
    return buf;
}

/* The path of a cycle from block b: "A -> B -> back" (to b), "A -> B ->
 * C -> back to #2" (a cycle b hangs off), or "A -> B" (b only held by one
 * the links do not follow further).  An instance whose __dict__ holds
 * the next (3.10: the dict is an object of its own) reads as one step,
 * "Node.next", as its attribute does from 3.11 on. */
static void pyg_path(const struct snap *s, uint64_t b, FILE *out)
{
    uint64_t seen[PYG_PATH_MAX];
    int n = 0, shown = 0, step[PYG_PATH_MAX]; /* seen[k] is shown step step[k] */
    for (uint64_t at = b; at != UINT64_MAX && n < PYG_PATH_MAX; at = s->py.block_next[at].block) {
        for (int k = 0; k < n; k++)
            if (seen[k] == at) {
                fprintf(out, step[k] ? " -> back to #%d" : " -> back", step[k] + 1);
                return;
            }
        char how[160];
        const struct snap_pyref *r = &s->py.block_next[at];
        const char *name = s->py.types[s->py.block_type[at]].name;
        if (r->label & HSNAP_PYLINK_HELD) { /* held by garbage it leads to */
            fprintf(out, "%s%s", n ? " -> " : "", name);
            return;
        }
        uint64_t d = r->block;
        int dseen = 0;
        for (int k = 0; k < n && d != UINT64_MAX; k++)
            dseen |= seen[k] == d;
        if (r->label == HSNAP_PYLABEL_DICT && d != UINT64_MAX && d != at && !dseen &&
            n + 1 < PYG_PATH_MAX && s->py.block_next[d].label == HSNAP_PYLABEL_KEY &&
            s->py.block_next[d].name) {
            const struct snap_pyref *k = &s->py.block_next[d];
            if (r->name) /* a class's own __dict__: its name */
                fprintf(out, "%s%.*s.%.*s", n ? " -> " : "", (int)r->name_len, r->name,
                        (int)k->name_len, k->name);
            else
                fprintf(out, "%s%s.%.*s", n ? " -> " : "", pyg_short(name),
                        (int)k->name_len, k->name);
            step[n] = step[n + 1] = shown++;
            seen[n++] = at;
            seen[n++] = d;
            at = d;
            continue;
        }
        fprintf(out, "%s%s", n ? " -> " : "", pyg_how(name, r, how, sizeof how));
        step[n] = shown++;
        seen[n++] = at;
    }
    if (n >= PYG_PATH_MAX)
        fprintf(out, " -> ...");
}

/* Block b on no cycle the links keep, held by one (pyg_rank): "held by
 * the cycle A -> B -> back, through A.f -> dict['k'] -> T" (its holders
 * from the cycle's object down to b, b's type T last). */
static void pyg_held_by(const struct snap *s, uint64_t b, FILE *out)
{
    uint64_t chain[PYG_PATH_MAX + 1];
    int k = 0;
    for (uint64_t at = b; k <= PYG_PATH_MAX; at = s->py.block_next[at].block) {
        chain[k++] = at;
        if (!(s->py.block_next[at].label & HSNAP_PYLINK_HELD))
            break;
    }
    fprintf(out, "held by the cycle ");
    pyg_path(s, chain[k - 1], out);
    fprintf(out, ", through ");
    for (int j = k - 1; j > 0; j--) {
        char how[160];
        const char *name = s->py.types[s->py.block_type[chain[j]]].name;
        struct snap_pyref r = s->py.block_next[chain[j - 1]], kr;
        r.label &= ~HSNAP_PYLINK_HELD;
        if (r.label == HSNAP_PYLABEL_DICT && j > 1 &&
            (kr = s->py.block_next[chain[j - 2]]).label ==
                (HSNAP_PYLABEL_KEY | HSNAP_PYLINK_HELD) && kr.name) {
            /* an object and its __dict__, one step, as pyg_path's: a
             * class's own by its name ("Point.__repr__"), 3.10's
             * instance's by its type's ("Node.data") */
            if (r.name)
                fprintf(out, "%.*s.%.*s -> ", (int)r.name_len, r.name, (int)kr.name_len,
                        kr.name);
            else
                fprintf(out, "%s.%.*s -> ", pyg_short(name), (int)kr.name_len, kr.name);
            j--;
            continue;
        }
        fprintf(out, "%s -> ", pyg_how(name, &r, how, sizeof how));
    }
    fprintf(out, "%s", s->py.types[s->py.block_type[b]].name);
}

/* The groups g[0, m) whose garbage is the interpreter's own (interp 1)
 * or the program's (0), one line each, after their head; nothing when
 * there is none. */
static void pyg_print_part(const struct snap *s, const struct pyg_group *g, uint64_t m,
                           int interp, FILE *out)
{
    uint64_t n = 0, bytes = 0;
    char sz[64];
    for (uint64_t i = 0; i < m; i++)
        if (pygarbage_interp(s, g[i].trace) == interp)
            n += g[i].count, bytes += g[i].bytes;
    if (!n)
        return;
    fmt_size(sz, sizeof sz, (double)bytes, 0);
    if (interp)
        fprintf(out, "%llu Python objects (%s) are garbage the interpreter's own code made "
                "(its standard library's, importlib's): reference cycles gc.collect() frees, "
                "not the program's, and no gate fails on them\n", (unsigned long long)n, sz);
    else
        fprintf(out, "%llu Python objects (%s) are garbage awaiting the collector: reference "
                "cycles no root reaches, which gc.collect() frees\n", (unsigned long long)n, sz);
    for (uint64_t i = 0; i < m; i++) {
        char site[400];
        const struct snap_pytype *ty = &s->py.types[g[i].type];
        if (pygarbage_interp(s, g[i].trace) != interp)
            continue;
        fmt_size(sz, sizeof sz, (double)g[i].bytes, 0);
        pyg_site(s, g[i].trace, site, sizeof site);
        fprintf(out, "  %llu %s (%s) at %s", (unsigned long long)g[i].count, ty->name, sz, site);
        fprintf(out, "%s\n    cycle: ", ty->flags & HSNAP_PYTYPE_FINALIZER
                                            ? ", with a finalizer (__del__)" : "");
        if (g[i].len == PYG_NO_CYCLE)
            fprintf(out, "none of at most %d steps through one of them; they lead to: ",
                    PYG_PATH_MAX);
        if (g[i].len > PYG_PATH_MAX && g[i].len < PYG_NO_CYCLE)
            pyg_held_by(s, g[i].first, out);
        else
            pyg_path(s, g[i].first, out);
        fprintf(out, "\n");
    }
    fprintf(out, "\n");
}

static int pyg_print_snap(const struct snap *s, FILE *out)
{
    struct pyg_group *g = malloc((s->py.garbage ? s->py.garbage : 1) * sizeof *g);
    uint32_t *charge = pygarbage_charges(s);
    uint64_t n = 0;
    if (!g || !charge) {
        free(g);
        free(charge);
        return -1;
    }
    for (uint64_t i = 0; i < s->nblocks; i++)
        if (s->py.block_flags[i] & HSNAP_PYOBJ_GARBAGE)
            g[n++] = (struct pyg_group){charge[i], s->py.block_type[i], 1,
                                        s->blocks[i].size, i, pyg_rank(s, i)};
    free(charge);
    qsort(g, n, sizeof *g, pyg_by_site); /* then each (trace, type) is one run */
    uint64_t m = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (m && g[m - 1].trace == g[i].trace && g[m - 1].type == g[i].type) {
            g[m - 1].count++;
            g[m - 1].bytes += g[i].bytes;
            if (g[i].len < g[m - 1].len)
                g[m - 1].first = g[i].first, g[m - 1].len = g[i].len;
        } else {
            g[m++] = g[i];
        }
    }
    m = pyg_by_key(s, g, m);
    qsort(g, m, sizeof *g, pyg_cmp);
    pyg_print_part(s, g, m, 0, out);
    pyg_print_part(s, g, m, 1, out);
    free(g);
    return 0;
}

int pygarbage_print(const struct snap *snaps, int n, FILE *out)
{
    for (int i = 0; i < n; i++)
        if (snaps[i].py.graph && snaps[i].py.garbage && pyg_print_snap(&snaps[i], out) < 0)
            return -1;
    return 0;
}
