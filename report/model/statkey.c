/*
 * statkey.c - the text a key gives a frame and a group (stats.h): a
 * frame's file, "[module]" without one, "func (module)" for a lineless
 * frame under --key lineno; its function or module under those keys; a
 * group's as `top` prints it ("file:line", with its type).  What stats.c
 * groups by, and statorder.c sorts by.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

void stats_thread_label(const struct hsnap_thread *t, char *buf, size_t n)
{
    if (!t)
        snprintf(buf, n, "[no thread]");
    else if (t->flags & HSNAP_THREAD_OTHERS)
        snprintf(buf, n, "[other threads]");
    else
        snprintf(buf, n, "%s%s[tid %d%s]", t->name, t->name[0] ? " " : "", t->tid,
                 t->flags & HSNAP_THREAD_MAIN ? ", main" : "");
}

int stats_thread_kept(const char *what, const struct hsnap_thread *t)
{
    if (!t)
        return 0;
    if (what[0] && strspn(what, "0123456789") == strlen(what))
        return !(t->flags & HSNAP_THREAD_OTHERS) && t->tid == atol(what);
    return fnmatch(what, t->name, 0) == 0;
}

/* Whether frame f has no line but a function name, so that --key lineno
 * names it "func (module)": a program without debug information then reads
 * as its functions, not as one row per library ("[libsqlite3.so.0]:0"). */
int stats_key_by_function(enum stats_key key, const struct frame *f)
{
    return (key == KEY_LINENO || key == KEY_TRACEBACK) && !frames_has_file(f) &&
           f->module[0] != '<' && !f->pymodule && frames_has_symbol(f);
}

/* Whether frame f has neither line nor name but an address in its module
 * ("git+0x17ddcc": a program stripped of its symbols, a module gone from
 * disk), so that --key lineno (and traceback) names it so, one row per call
 * site as a line would be, not one row per module ("[git]:0", every site of
 * git's). */
static int stats_key_by_address(enum stats_key key, const struct frame *f)
{
    return (key == KEY_LINENO || key == KEY_TRACEBACK) && !frames_has_file(f) &&
           f->module[0] != '<' && !f->pymodule && !frames_has_symbol(f) &&
           strncmp(f->func, "0x", 2) != 0; /* not a bare address: module+0x... */
}

const char *stats_key_part(enum stats_key key, const struct frame *f, char *buf, size_t n,
                           int *line)
{
    *line = key == KEY_LINENO || key == KEY_TRACEBACK ? f->line : 0;
    if (stats_key_by_function(key, f)) {
        *line = -1;
        snprintf(buf, n, "%s (%s)", f->func, f->module);
        return buf;
    }
    if (stats_key_by_address(key, f)) {
        *line = -1;
        return f->func;
    }
    switch (key) {
    case KEY_FUNCTION: return f->func;
    case KEY_MODULE: return f->pymodule ? f->pymodule : f->module;
    default: return frames_where(f, buf, n);
    }
}

void stats_key(enum stats_key key, const struct stat_entry *e, char *buf, size_t n)
{
    char where[KEY_PART_MAX];
    int line;
    if (key == KEY_THREAD) {
        snprintf(buf, n, "%s", e->thread ? e->thread : "[no thread]");
        return;
    }
    if (key == KEY_TYPE || !e->nframes) {
        snprintf(buf, n, "%s", e->type ? e->type : STATS_NO_OBJECT);
        return;
    }
    const char *name = stats_key_part(key, e->frames[e->head], where, sizeof(where), &line);
    size_t k = (size_t)(key == KEY_FUNCTION || key == KEY_MODULE || line < 0
                            ? snprintf(buf, n, "%s", name)
                            : snprintf(buf, n, "%s:%d", name, line));
    if (e->type && k < n)
        snprintf(buf + k, n - k, " (%s)", e->type);
}
