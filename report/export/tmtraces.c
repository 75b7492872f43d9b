/*
 * tmtraces.c - the live stacks as tracemalloc's Snapshot.load reads them
 * (the Python package, heapsnap.Snapshot.load): one line per stack with
 * live blocks, in prof's order,
 *
 *   BYTES TAB BLOCKS TAB FRAME TAB FRAME ...
 *
 * the frames innermost first (tracemalloc's order: the allocation site,
 * past the allocator wrappers, then its callers), each MODULE US FILE US
 * LINE US FUNCTION (US: the unit separator, 0x1f; FILE empty without one;
 * MODULE "<python>" for a Python frame; under --python-only a Python
 * stack lists its Python frames alone, frames_python_frames_only).  A tab or unit separator in a
 * name becomes a space.  Plain lines rather than top's JSON: the reader
 * splits them at C speed, where parsing the pretty JSON of a real heap
 * (350 MB for 46,000 stacks) took most of Snapshot.load's time.
 */
#include <inttypes.h>
#include <string.h>

#include "export.h"
#include "frames.h"

static void put_field(FILE *out, const char *s)
{
    for (const char *c = s ? s : ""; *c;) {
        size_t n = strcspn(c, "\t\x1f");
        fwrite(c, 1, n, out);
        if (!c[n])
            break;
        fputc(' ', out);
        c += n + 1;
    }
}

int tmtraces_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                   size_t errlen)
{
    (void)o;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct prof_stack *st = &p->stacks[i];
        if (st->v[PROF_INUSE_SPACE] <= 0 && st->v[PROF_INUSE_OBJECTS] <= 0)
            continue;
        fprintf(out, "%" PRId64 "\t%" PRId64, st->v[PROF_INUSE_SPACE], st->v[PROF_INUSE_OBJECTS]);
        for (int d = prof_depth(st) - 1; d >= 0; d--) {
            const struct frame *f = prof_frame(st, d);
            fputc('\t', out);
            put_field(out, f->module);
            fputc('\x1f', out);
            put_field(out, frames_has_file(f) ? f->file : "");
            fprintf(out, "\x1f%d\x1f", f->line > 0 ? f->line : 0);
            put_field(out, f->func);
        }
        fputc('\n', out);
    }
    if (ferror(out)) {
        snprintf(err, errlen, "cannot write");
        return -1;
    }
    return 0;
}
