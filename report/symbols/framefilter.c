/*
 * framefilter.c - what a frame shows (a file, a symbol, where it is) and
 * the --include/--exclude filters over stacks (frames.h), apart from the
 * expansion of traces into stacks (frames.c).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "frames.h"

int frames_has_file(const struct frame *f) { return strcmp(f->file, "??") != 0; }

int frames_has_symbol(const struct frame *f)
{
    size_t n = strlen(f->module);
    if (!strncmp(f->func, "0x", 2))
        return 0;
    return !(n && !strncmp(f->func, f->module, n) && !strncmp(f->func + n, "+0x", 3));
}

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
        return frame_matches(t->fr[t->site], pat);
    for (int i = 0; i < t->n; i++)
        if (frame_matches(t->fr[i], pat))
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
