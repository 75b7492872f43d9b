/*
 * jsondoc.c - the parts every JSON document of heapsnap shares (jsondoc.h
 * lists the conventions): the opening with its schema and version, frames,
 * snapshots, and the statistic groups of top and diff.  A command parses
 * --format itself (cli_parse_format) and writes its own fields with the
 * json_* writer in between; the documents are described in docs/json.md.
 */
#include <string.h>

#include "jsondoc.h"

void jdoc_begin(struct json *j, FILE *out, const char *schema, int version)
{
    json_init(j, out);
    json_obj_begin(j);
    json_kstr(j, "schema", schema);
    json_ku64(j, "version", (uint64_t)version);
}

void jdoc_end(struct json *j)
{
    json_obj_end(j);
    json_finish(j);
}

void jdoc_frame_fields(struct json *j, const struct frame *f)
{
    json_kstr(j, "function", f->func);
    json_kstr(j, "file", frames_has_file(f) ? f->file : NULL);
    json_ku64(j, "line", f->line > 0 ? (uint64_t)f->line : 0);
    json_kstr(j, "module", f->module);
}

void jdoc_frames(struct json *j, const char *key, const struct frame *const *fr, int n)
{
    json_key(j, key);
    json_arr_begin(j);
    for (int i = 0; i < n; i++) {
        json_obj_begin(j);
        jdoc_frame_fields(j, fr[i]);
        json_obj_end(j);
    }
    json_arr_end(j);
}

void jdoc_snapshot(struct json *j, const struct snap *s, const char *path)
{
    json_obj_begin(j);
    json_kstr(j, "path", path);
    json_ku64(j, "pid", s->meta.pid);
    json_kstr(j, "exe", s->exe);
    json_ku64(j, "time_ns", s->meta.time_ns);
    json_ku64(j, "sample_interval", s->meta.sample_interval);
    json_obj_end(j);
}

void jdoc_series(struct json *j, const struct series *sr, const char *rule, int counted,
                 int summed, const char *note)
{
    json_key(j, "read");
    json_obj_begin(j);
    json_kstr(j, "rule", rule);
    json_ku64(j, "given", (uint64_t)sr->nsel);
    json_ku64(j, "processes", (uint64_t)sr->nprocs);
    json_ku64(j, "counted", (uint64_t)counted);
    json_kbool(j, "summed", summed);
    json_kstr(j, "note", note);
    json_obj_end(j);
}

void jdoc_key_fields(struct json *j, enum stats_key key, const struct stat_entry *e)
{
    if (e->type || key == KEY_TYPE) /* null: blocks that hold no Python object */
        json_kstr(j, "type", e->type && strcmp(e->type, STATS_NO_OBJECT) ? e->type : NULL);
    if (key == KEY_THREAD) {
        json_key(j, "thread");
        if (e->thr.index == HSNAP_THREAD_NONE) {
            json_null(j);
            return;
        }
        json_obj_begin(j);
        json_ku64(j, "tid", (uint64_t)(e->thr.tid > 0 ? e->thr.tid : 0));
        json_kstr(j, "name", e->thr.name[0] ? e->thr.name : NULL);
        json_kbool(j, "main", (e->thr.flags & HSNAP_THREAD_MAIN) != 0);
        json_kbool(j, "ended", (e->thr.flags & HSNAP_THREAD_ENDED) != 0);
        json_kbool(j, "others", (e->thr.flags & HSNAP_THREAD_OTHERS) != 0);
        json_obj_end(j);
        return;
    }
    if (!e->nframes)
        return;
    const struct frame *f = e->frames[e->head];
    switch (key) {
    case KEY_TYPE:
    case KEY_THREAD: break;
    case KEY_LINENO:
    case KEY_TRACEBACK: jdoc_frames(j, "frames", e->frames, e->nframes); break;
    case KEY_FILENAME:
        json_kstr(j, "file", frames_has_file(f) ? f->file : NULL);
        json_kstr(j, "module", f->module);
        break;
    case KEY_FUNCTION: json_kstr(j, "function", f->func); break;
    case KEY_MODULE: json_kstr(j, "module", f->pymodule ? f->pymodule : f->module); break;
    }
}

int jdoc_groups(struct json *j, struct stats *st, int diff)
{
    const struct stats_opts *o = stats_opts(st);
    size_t n;
    struct stat_entry **v = stats_sort(st, diff, &n);
    char key[4200];
    if (!v)
        return -1;
    json_ku64(j, "groups_total", n);
    if (o->limit > 0 && (size_t)o->limit < n)
        n = (size_t)o->limit;
    json_key(j, "groups");
    json_arr_begin(j);
    for (size_t i = 0; i < n; i++) {
        const struct stat_entry *e = v[i];
        stats_key(o->key, e, key, sizeof(key));
        json_obj_begin(j);
        json_kstr(j, "key", key);
        if (e->mmap)
            json_kstr(j, "kind", "mmap");
        if (o->failed) { /* top --failed: calls that failed, the largest size asked */
            json_ki64(j, "failed", e->count);
            json_key(j, "largest_size");
            if (e->size == INT64_MAX)
                json_null(j); /* n * size overflowed */
            else
                json_i64(j, e->size);
            jdoc_key_fields(j, o->key, e);
            json_obj_end(j);
            continue;
        }
        json_ki64(j, "bytes", e->size);
        if (e->mmap && e->residency == 1) /* MAPPED measured it for all its traces */
            json_ki64(j, "resident_bytes", e->resident);
        json_ki64(j, o->collected ? "collected" : "blocks", e->count);
        if (diff) {
            json_ki64(j, "bytes_diff", e->size_diff);
            json_ki64(j, o->collected ? "collected_diff" : "blocks_diff", e->count_diff);
        } else if (!o->collected) {
            json_ki64(j, "allocated_bytes", e->alloc_size);
            json_ki64(j, "allocated_blocks", e->alloc_count);
        }
        jdoc_key_fields(j, o->key, e);
        json_obj_end(j);
    }
    json_arr_end(j);
    return 0;
}
