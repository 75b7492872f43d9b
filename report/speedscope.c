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
#include <string.h>

#include "export.h"
#include "json.h"

static int ss_profile(struct json *j, const struct prof *p, int v, struct prof_ftab *ft)
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
        for (int d = 0; d < prof_depth(st); d++) {
            long k = prof_ftab_index(ft, prof_frame(st, d));
            if (k < 0)
                return -1;
            json_i64(j, k);
        }
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
    return 0;
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
    int rc = 0;
    json_init_compact(&j, out, 0);
    json_obj_begin(&j);
    json_kstr(&j, "$schema", "https://www.speedscope.app/file-format-schema.json");
    json_kstr(&j, "exporter", "heapsnap");
    json_kstr(&j, "name", p->nin ? p->in[0].path : "heapsnap");
    json_ki64(&j, "activeProfileIndex", 0);
    json_key(&j, "profiles");
    json_arr_begin(&j);
    rc = ss_profile(&j, p, o->value, &ft);
    for (int v = 0; rc == 0 && v < PROF_NVALUES; v++)
        if (v != o->value)
            rc = ss_profile(&j, p, v, &ft);
    json_arr_end(&j);
    if (rc == 0)
        ss_frames(&j, &ft);
    json_obj_end(&j);
    json_finish(&j);
    prof_ftab_free(&ft);
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    else if (ferror(out) && (rc = -1) < 0)
        snprintf(err, errlen, "cannot write");
    return rc;
}
