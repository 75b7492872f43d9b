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
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"

/* A frame's name as a line shows it (';' made ':'), once per ident: a
 * big snapshot's lines repeat the same frames (774,243 stacks of ~20
 * frames from a few hundred idents), and formatting each frame with a
 * snprintf and a putc a character was a third of an export. */
struct fname {
    char *s;      /* NULL: not made yet */
    size_t len;
};

/* f's name with ';' made ':' (malloc'd), or NULL when out of memory. */
static char *frame_text(const struct frame *f, char *buf, size_t n, size_t *len)
{
    char *t = strdup(export_frame_name(f, buf, n));
    if (!t)
        return NULL;
    for (char *c = t; *c; c++)
        if (*c == ';')
            *c = ':';
    *len = strlen(t);
    return t;
}

static void put_frame(FILE *out, const struct frame *f, struct fname **memo, size_t *cap,
                      char *buf, size_t n)
{
    size_t len, old = *cap;
    uint32_t k = f->ident;
    if (k != FRAMES_NO_IDENT &&
        grow_array((void **)memo, cap, (size_t)k + 1, sizeof(**memo)) == 0) {
        memset(*memo + old, 0, (*cap - old) * sizeof(**memo));
        struct fname *m = &(*memo)[k];
        if (!m->s)
            m->s = frame_text(f, buf, n, &m->len);
        if (m->s) {
            fwrite(m->s, 1, m->len, out);
            return;
        }
    }
    char *t = frame_text(f, buf, n, &len);
    if (t)
        fwrite(t, 1, len, out);
    else /* out of memory: a character at a time, as it is */
        for (const char *c = export_frame_name(f, buf, n); *c; c++)
            fputc(*c == ';' ? ':' : *c, out);
    free(t);
}

int folded_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                 size_t errlen)
{
    char buf[4400];
    struct fname *memo = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct prof_stack *st = &p->stacks[i];
        if (st->v[o->value] == 0)
            continue;
        for (int d = 0; d < prof_depth(st); d++) {
            if (d)
                fputc(';', out);
            put_frame(out, prof_frame(st, d), &memo, &cap, buf, sizeof(buf));
        }
        fprintf(out, " %" PRId64 "\n", st->v[o->value]);
    }
    for (size_t i = 0; i < cap; i++)
        free(memo[i].s);
    free(memo);
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
