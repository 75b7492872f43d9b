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
 *
 * tracemalloc-binary (tmbin_write) is what Snapshot.load reads now: each
 * distinct frame once, the stacks as numbers into them, and each live
 * block as its stack's number and its size (tracemalloc's one trace a
 * block), so the reader takes its arrays whole (Python's array.frombytes)
 * and parses a frame's text once.  Little-endian (x86-64, aarch64: the
 * reader's own order):
 *
 *   "HSTMB2\n\0", u32 nframes, u32 nstacks, u64 nrefs, u64 nblocks,
 *   i64 bytes[nstacks], i64 blocks[nstacks], u32 depth[nstacks],
 *   u32 frame[nrefs] (each stack's frames innermost first, in turn),
 *   u32 stack[nblocks], u64 size[nblocks] (the latest snapshot of each
 *   process, its BLOCKS section; nblocks 0 without one: the reader keeps a
 *   trace per stack, its sums),
 *   then nframes texts, each MODULE US FILE US LINE US FUNCTION NUL.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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

/* The live stacks of p (the ones tmtraces_write writes). */
static int live(const struct prof_stack *st)
{
    return st->v[PROF_INUSE_SPACE] > 0 || st->v[PROF_INUSE_OBJECTS] > 0;
}

static void put_frame(FILE *out, const struct frame *f)
{
    put_field(out, f->module);
    fputc('\x1f', out);
    put_field(out, frames_has_file(f) ? f->file : "");
    fprintf(out, "\x1f%d\x1f", f->line > 0 ? f->line : 0);
    put_field(out, f->func);
    fputc('\0', out);
}

/* The live blocks of the inputs that count (the latest snapshot of each
 * process), each as the number of its stack among the ones written (at:
 * by identity, that number + 1, or 0 for a stack not written) and its
 * size, into *stack and *size (malloc'd; NULL when none).  0, or -1 when
 * out of memory. */
static int tmbin_blocks(const struct prof *p, const uint32_t *at, size_t nat,
                        uint32_t **stack, uint64_t **size, uint64_t *n)
{
    uint64_t total = 0;
    *stack = NULL;
    *size = NULL;
    *n = 0;
    for (size_t i = 0; i < p->nin; i++)
        if (p->in[i].latest)
            total += p->in[i].s->nblocks;
    if (!total)
        return 0;
    if (total > SIZE_MAX / sizeof(uint64_t) || !(*stack = malloc(total * sizeof(**stack))) ||
        !(*size = malloc(total * sizeof(**size))))
        return -1;
    for (size_t i = 0; i < p->nin; i++) {
        const struct snap *s = p->in[i].s;
        if (!p->in[i].latest)
            continue;
        for (uint64_t b = 0; b < s->nblocks; b++) {
            uint32_t ti = s->blocks[b].trace;
            if (!snap_kind_kept(prof_get_kind(), s, ti))
                continue;
            const struct frames_trace *t = frames_get(s, ti);
            if (!t)
                return -1;
            if (t->shown >= nat || !at[t->shown])
                continue;
            (*stack)[*n] = at[t->shown] - 1;
            (*size)[(*n)++] = s->blocks[b].size;
        }
    }
    return 0;
}

int tmbin_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                size_t errlen)
{
    struct prof_ftab ft = {0};
    uint32_t n = 0, *ref = NULL, *byshown = NULL, *bstack = NULL;
    uint64_t nref = 0, nblocks = 0, *bsize = NULL;
    int64_t *v = NULL;
    size_t cap = 0;
    (void)o;
    for (size_t i = 0; i < p->nstacks; i++)
        if (live(&p->stacks[i])) {
            n++;
            nref += (uint64_t)prof_depth(&p->stacks[i]);
        }
    if (nref > UINT32_MAX || !(v = malloc(((size_t)n * 2 + 1) * sizeof(*v))) ||
        grow_array((void **)&ref, &cap, (size_t)nref + (size_t)n + 1, sizeof(*ref)) < 0)
        goto oom;
    uint32_t *depth = ref + nref, k = 0;
    uint64_t at = 0;
    size_t nat = 0;
    for (size_t i = 0; i < p->nstacks; i++)
        if (live(&p->stacks[i]) && p->stacks[i].t->shown >= nat)
            nat = (size_t)p->stacks[i].t->shown + 1;
    if (!(byshown = calloc(nat ? nat : 1, sizeof(*byshown))))
        goto oom;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct prof_stack *st = &p->stacks[i];
        if (!live(st))
            continue;
        byshown[st->t->shown] = k + 1;
        v[k] = st->v[PROF_INUSE_SPACE];
        v[n + k] = st->v[PROF_INUSE_OBJECTS];
        depth[k++] = (uint32_t)prof_depth(st);
        for (int d = prof_depth(st) - 1; d >= 0; d--) {
            long x = prof_ftab_index(&ft, prof_frame(st, d));
            if (x < 0)
                goto oom;
            ref[at++] = (uint32_t)x;
        }
    }
    if (tmbin_blocks(p, byshown, nat, &bstack, &bsize, &nblocks) < 0)
        goto oom;
    uint32_t head[2] = {(uint32_t)ft.n, n};
    fwrite("HSTMB2\n", 1, 8, out);
    fwrite(head, sizeof(head), 1, out);
    fwrite(&nref, sizeof(nref), 1, out);
    fwrite(&nblocks, sizeof(nblocks), 1, out);
    fwrite(v, sizeof(*v), (size_t)n * 2, out);
    fwrite(depth, sizeof(*depth), n, out);
    fwrite(ref, sizeof(*ref), (size_t)nref, out);
    fwrite(bstack, sizeof(*bstack), (size_t)nblocks, out);
    fwrite(bsize, sizeof(*bsize), (size_t)nblocks, out);
    for (size_t i = 0; i < ft.n; i++)
        put_frame(out, ft.frames[i]);
    free(v);
    free(ref);
    free(byshown);
    free(bstack);
    free(bsize);
    prof_ftab_free(&ft);
    if (ferror(out)) {
        snprintf(err, errlen, "cannot write");
        return -1;
    }
    return 0;
oom:
    free(v);
    free(ref);
    free(byshown);
    free(bstack);
    free(bsize);
    prof_ftab_free(&ft);
    snprintf(err, errlen, "out of memory");
    return -1;
}
