/*
 * frames.c - expands traces into frames once per snapshot and finds their
 * allocation site (see frames.h).  The interface of the frames module on
 * main, over the symbolizer and stats_is_wrapper; replaced by that module.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"
#include "frames.h"
#include "stats.h"
#include "sym.h"

struct frames_snap {
    const struct snap *s;
    struct symbolizer *z;
    struct frames_trace **traces; /* ntraces, filled on first use */
};

static struct {
    struct frames_snap *snaps;
    size_t n, cap;
} fx;

static struct frames_snap *snap_view(const struct snap *s)
{
    for (size_t i = 0; i < fx.n; i++)
        if (fx.snaps[i].s == s)
            return &fx.snaps[i];
    if (grow_array((void **)&fx.snaps, &fx.cap, fx.n + 1, sizeof(*fx.snaps)) < 0)
        return NULL;
    struct frames_snap *v = &fx.snaps[fx.n];
    v->s = s;
    v->z = sym_new(s);
    v->traces = calloc(s->ntraces + 1, sizeof(*v->traces));
    if (!v->z || !v->traces) {
        sym_free(v->z);
        free(v->traces);
        return NULL;
    }
    fx.n++;
    return v;
}

static char *stack_id(const struct frame *fr, int site, int n)
{
    size_t len = 1, at = 0;
    for (int i = site; i < n; i++)
        len += strlen(fr[i].file) + strlen(fr[i].func) + strlen(fr[i].module) + 16;
    char *id = malloc(len);
    if (!id)
        return NULL;
    id[0] = 0;
    for (int i = site; i < n; i++)
        at += (size_t)snprintf(id + at, len - at, "%s\x1f%d\x1f%s\x1f%s\x1e", fr[i].file,
                               fr[i].line, fr[i].func, fr[i].module);
    return id;
}

static struct frames_trace *expand(struct frames_snap *v, const struct snap_trace *t)
{
    static const struct frame none[2] = {
        {0, "<unknown>", "<unknown>", "<unknown>", 0, "<unknown>", "", 0, 0},
        {0, "<unsampled>", "<unsampled>", "<unsampled>", 0, "<unsampled>", "", 0, 0}};
    struct frames_trace *e = calloc(1, sizeof(*e));
    struct frame *fr = NULL;
    size_t n = 0, cap = 0;
    char buf[4200];
    for (int i = 0; e && i < t->depth; i++) {
        const struct sym_frame *sf;
        int k = sym_lookup(v->z, t->ips[i], &sf);
        if (grow_array((void **)&fr, &cap, n + (size_t)k + 1, sizeof(*fr)) < 0)
            goto oom;
        for (int j = 0; j < k; j++) {
            const char *path = sf[j].mod >= 0 ? v->s->modules[sf[j].mod].path : "";
            struct frame f = {t->ips[i], sf[j].func,
                              strcmp(sf[j].file, "??") ? fmt_path(sf[j].file) : "??",
                              sf[j].file, sf[j].line, sf[j].module, path, sf[j].inlined, 0};
            fr[n++] = f;
        }
    }
    if (!e || (n == 0 && grow_array((void **)&fr, &cap, 1, sizeof(*fr)) < 0))
        goto oom;
    if (n == 0)
        fr[n++] = none[(t->flags & HSNAP_TRACE_UNSAMPLED) != 0];
    e->fr = fr;
    e->n = (int)n;
    e->site = e->n - 1;
    for (int i = 0; i < e->n; i++) {
        struct sym_frame sf = {fr[i].func, fr[i].file, fr[i].line, -1, fr[i].module, 0};
        if (!stats_is_wrapper(&sf)) {
            e->site = i;
            break;
        }
    }
    for (int i = 0; i < e->site; i++)
        fr[i].wrapper = 1;
    if (frames_has_file(&fr[e->site]))
        snprintf(buf, sizeof(buf), "%s:%d", fr[e->site].file, fr[e->site].line);
    else
        snprintf(buf, sizeof(buf), "%s", fr[e->site].func);
    e->site_name = strdup(buf);
    e->id = stack_id(fr, e->site, e->n);
    if (!e->site_name || !e->id)
        goto oom;
    return e;
oom:
    free(fr);
    free(e);
    return NULL;
}

const struct frames_trace *frames_get(const struct snap *s, uint32_t ti)
{
    struct frames_snap *v = snap_view(s);
    if (!v)
        return NULL;
    if (!v->traces[ti])
        v->traces[ti] = expand(v, &s->traces[ti]);
    return v->traces[ti];
}

int frames_has_file(const struct frame *f) { return strcmp(f->file, "??") != 0; }

void frames_fini(void)
{
    for (size_t i = 0; i < fx.n; i++) {
        for (uint32_t j = 0; j < fx.snaps[i].s->ntraces; j++) {
            struct frames_trace *e = fx.snaps[i].traces[j];
            if (!e)
                continue;
            free((void *)e->fr);
            free((char *)e->id);
            free((char *)e->site_name);
            free(e);
        }
        free(fx.snaps[i].traces);
        sym_free(fx.snaps[i].z);
    }
    free(fx.snaps);
    memset(&fx, 0, sizeof(fx));
}
