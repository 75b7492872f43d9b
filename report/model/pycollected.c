/*
 * pycollected.c - top --collected (pygcfreed.h): PYGCFREED's items charged
 * to their traces' groups, and the totals beside what the interpreter
 * counts itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fmt.h"
#include "json.h"
#include "prof.h"
#include "pycollected.h"
#include "stats.h"

void gcfreed_totals(const struct snap *snaps, int n, struct gcfreed_totals *t)
{
    *t = (struct gcfreed_totals){0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        const struct snap *s = &snaps[i];
        for (uint32_t k = 0; k < s->ngcfreed; k++) {
            t->objects += s->gcfreed[k].objects;
            t->bytes += s->gcfreed[k].bytes;
        }
        t->dropped += s->gc_dropped;
        if (!s->has_gcfreed || s->gc_collected == UINT64_MAX || t->collected == UINT64_MAX)
            t->collected = UINT64_MAX;
        else
            t->collected += s->gc_collected;
    }
}

int gcfreed_add(struct stats *st, const struct snap *s)
{
    struct hsnap_stat *v = big_calloc(s->ntraces ? s->ntraces : 1, sizeof(*v));
    if (!v)
        return -1;
    for (uint32_t i = 0; i < s->ngcfreed; i++) {
        v[s->gcfreed[i].trace].live_count = s->gcfreed[i].objects;
        v[s->gcfreed[i].trace].live_bytes = s->gcfreed[i].bytes;
    }
    int rc = stats_add_values(st, s, v);
    free(v);
    return rc;
}

void gcfreed_print_total(const struct snap *snaps, int n, const char *head, FILE *out)
{
    struct gcfreed_totals t;
    char sz[64];
    gcfreed_totals(snaps, n, &t);
    fmt_size(sz, sizeof(sz), (double)t.bytes, 0);
    fprintf(out, "%s %llu objects (%s) freed by the cycle collector at traced sites", head,
            (unsigned long long)t.objects, sz);
    if (t.dropped)
        fprintf(out, ", %llu at no site", (unsigned long long)t.dropped);
    if (t.collected != UINT64_MAX)
        fprintf(out, "; the interpreter counts %llu collected (gc.get_stats())",
                (unsigned long long)t.collected);
    fprintf(out, "\n");
}

void gcfreed_json(struct json *j, const struct snap *snaps, int n)
{
    struct gcfreed_totals t;
    gcfreed_totals(snaps, n, &t);
    json_key(j, "collector");
    json_obj_begin(j);
    json_ku64(j, "objects", t.objects);
    json_ku64(j, "bytes", t.bytes);
    json_ku64(j, "dropped", t.dropped);
    json_key(j, "interpreter_collected");
    if (t.collected == UINT64_MAX)
        json_null(j);
    else
        json_u64(j, t.collected);
    json_obj_end(j);
}

int gcfreed_html(struct json *j, const struct prof *p, const int *want, long rows, int kind,
                 char *err, size_t errlen)
{
    struct stats_opts so;
    int all = 1;
    memset(&so, 0, sizeof(so));
    so.key = KEY_LINENO;
    so.collected = 1;
    so.kind = kind;
    for (size_t i = 0; i < p->nin; i++)
        all = all && (!want[i] || p->in[i].s->has_gcfreed);
    json_key(j, "top_collected");
    if (!all) {
        json_null(j);
        return 0;
    }
    struct stats *st = stats_new(&so);
    size_t n = 0;
    struct stat_entry **v = NULL;
    for (size_t i = 0; st && i < p->nin; i++)
        if (want[i] && stats_add_snap(st, p->in[i].s, p->in[i].path, err, errlen) < 0) {
            stats_free(st);
            return -1;
        }
    if (!st || !(v = stats_sort(st, 0, &n))) {
        stats_free(st);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char key[4200];
    json_arr_begin(j);
    for (size_t i = 0; i < n && (rows == 0 || (long)i < rows); i++) {
        stats_key(so.key, v[i], key, sizeof(key));
        json_obj_begin(j);
        json_kstr(j, "site", key);
        json_ki64(j, "count", v[i]->count);
        json_ki64(j, "size", v[i]->size);
        json_obj_end(j);
    }
    json_arr_end(j);
    stats_free(st);
    return 0;
}
