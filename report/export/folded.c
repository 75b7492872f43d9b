/*
 * folded.c - folded stacks, Brendan Gregg's input format for flamegraph.pl
 * (also read by inferno and speedscope): one line per stack,
 *
 *   outermost;caller;...;site VALUE
 *
 * with the frames from the outermost caller down to the allocation site,
 * each "function (file:line)" or the function alone without a file, and
 * one value (--value; live bytes by default).  Lines are in prof's order
 * (largest live bytes first); stacks whose value is 0 are left out.  ';'
 * separates frames, so a ';' in a name becomes ':'; names are already
 * escaped (no newline can end a line early: esc_text).
 */
#include <inttypes.h>
#include <string.h>

#include "export.h"

static void put_name(FILE *out, const char *name)
{
    for (const char *c = name; *c; c++)
        fputc(*c == ';' ? ':' : *c, out);
}

int folded_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                 size_t errlen)
{
    char buf[4400];
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct prof_stack *st = &p->stacks[i];
        if (st->v[o->value] == 0)
            continue;
        for (int d = 0; d < prof_depth(st); d++) {
            if (d)
                fputc(';', out);
            put_name(out, export_frame_name(prof_frame(st, d), buf, sizeof(buf)));
        }
        fprintf(out, " %" PRId64 "\n", st->v[o->value]);
    }
    if (ferror(out)) {
        snprintf(err, errlen, "cannot write");
        return -1;
    }
    return 0;
}

const char *export_frame_name(const struct frame *f, char *buf, size_t n)
{
    if (!frames_has_file(f))
        return f->func;
    snprintf(buf, n, "%s (%s:%d)", f->func, f->file, f->line);
    return buf;
}
