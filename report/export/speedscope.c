/*
 * speedscope.c - the state of the snapshots in speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json): one "sampled"
 * profile per value of prof_values[], the one --value names first (the
 * one speedscope opens), each sample a stack from the outermost frame to
 * the allocation site with the value as its weight; stacks whose value is
 * 0 are left out of that profile.  Frames are listed once, in "shared",
 * with their file and line.  Units: "bytes", or "none" for counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "json.h"

static void ss_profile(struct json *j, const struct prof *p, int v, const uint32_t *ids,
                       const size_t *off)
{
    int64_t total = 0;
    json_obj_begin(j);
    json_kstr(j, "type", "sampled");
    json_kstr(j, "name", prof_values[v].title);
    json_kstr(j, "unit", strcmp(prof_values[v].unit, "bytes") == 0 ? "bytes" : "none");
    json_ki64(j, "startValue", 0);
    json_key(j, "samples");
    json_arr_begin(j);
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct prof_stack *st = &p->stacks[i];
        if (st->v[v] == 0)
            continue;
        json_arr_begin(j);
        for (size_t k = off[i]; k < off[i + 1]; k++)
            json_i64(j, ids[k]);
        json_arr_end(j);
        total = st->v[v] > INT64_MAX - total ? INT64_MAX : total + st->v[v];
    }
    json_arr_end(j);
    json_key(j, "weights");
    json_arr_begin(j);
    for (size_t i = 0; i < p->nstacks; i++)
        if (p->stacks[i].v[v] != 0)
            json_i64(j, p->stacks[i].v[v]);
    json_arr_end(j);
    json_ki64(j, "endValue", total);
    json_obj_end(j);
}

static void ss_frames(struct json *j, const struct prof_ftab *ft)
{
    json_key(j, "shared");
    json_obj_begin(j);
    json_key(j, "frames");
    json_arr_begin(j);
    for (size_t i = 0; i < ft->n; i++) {
        const struct frame *f = ft->frames[i];
        json_obj_begin(j);
        json_kstr(j, "name", f->func);
        if (frames_has_file(f)) {
            json_kstr(j, "file", f->file);
            json_ki64(j, "line", f->line);
        }
        json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
}

int speedscope_write(const struct prof *p, const struct export_opts *o, FILE *out,
                     char *err, size_t errlen)
{
    struct json j;
    struct prof_ftab ft = {0};
    uint32_t *ids;
    size_t *off;
    if (prof_ftab_number(&ft, p->stacks, p->nstacks, &ids, &off) < 0) {
        prof_ftab_free(&ft);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    json_init_compact(&j, out, 0);
    json_obj_begin(&j);
    json_kstr(&j, "$schema", "https://www.speedscope.app/file-format-schema.json");
    json_kstr(&j, "exporter", "heapsnap");
    json_kstr(&j, "name", p->nin ? p->in[0].path : "heapsnap");
    json_ki64(&j, "activeProfileIndex", 0);
    json_key(&j, "profiles");
    json_arr_begin(&j);
    ss_profile(&j, p, o->value, ids, off);
    for (int v = 0; v < PROF_NVALUES; v++)
        if (v != o->value)
            ss_profile(&j, p, v, ids, off);
    json_arr_end(&j);
    ss_frames(&j, &ft);
    json_obj_end(&j);
    json_finish(&j);
    prof_ftab_free(&ft);
    free(ids);
    free(off);
    if (ferror(out)) {
        snprintf(err, errlen, "cannot write");
        return -1;
    }
    return 0;
}
