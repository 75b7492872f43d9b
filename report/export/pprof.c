/*
 * pprof.c - the state of the snapshots as a pprof profile: profile.proto
 * (report/export/profile.proto) packed by protobuf-c, gzip-compressed, as every
 * pprof reader expects on disk (go tool pprof, Pyroscope, Parca).
 *
 *   sample_type  alloc_objects/count alloc_space/bytes inuse_objects/count
 *                inuse_space/bytes (prof_values[], in enum order; Go's heap
 *                profiles use the same four), default inuse_space
 *   sample       one per stack: its locations leaf first, its four values
 *   location     one per return address and the frames it expands to: the
 *                inlined functions as Line entries, innermost first, the
 *                real function last (pprof's order); address = the ip
 *   function     one per (name, file)
 *   mapping      one per module (path and load address), build ID in hex;
 *                the main executable first
 * Locations start at the allocation site, like every export (prof.h), and
 * carry their symbols: the file needs no binary to be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hashfn.h" /* first: its hash for uthash, before any other header brings uthash */
#include "cli.h"
#include "export.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__ValueType pb_valuetype;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;

/* An interned key (a string, a function, a location, a mapping) -> its
 * index in the matching array (ids are index + 1). */
struct pp_key {
    char *key;
    size_t index;
    UT_hash_handle hh;
};

/* A location already made, by the frames it was made of: a stack's frames
 * are records shared by every trace (frames.h), so the same leaf and
 * chain meet again at every stack through that return address, and the
 * location's key (its text) is made once for them all. */
#define PP_MEMO_CHAIN 8
struct pp_lmemo {
    const struct frame *fr[PP_MEMO_CHAIN]; /* fr[0], the key; then its inlined chain */
    int n;
    uint64_t id;
    UT_hash_handle hh;
};

struct pp {
    const struct prof *p;
    struct pp_lmemo *lmemo; /* by fr[0] */
    int nv;              /* values per sample (export_opts.nvalues) */
    struct pp_key *strings, *functions, *locations, *mappings;
    char **str;
    size_t nstr, capstr;
    pb_function *fn;
    size_t nfn, capfn;
    pb_location *loc;
    size_t nloc, caploc;
    pb_mapping *map;
    size_t nmap, capmap;
    pb_sample *smp;
    size_t nsmp;
    uint64_t *locids;    /* every sample's location ids, one array */
    size_t nlocids, caplocids;
    int64_t *values;     /* PROF_NVALUES per sample */
    int oom;
};

/* The index of key in *set, or -1 when it is new (then *set holds it with
 * index `next`).  -2 when out of memory. */
static long pp_intern(struct pp_key **set, const char *key, size_t next)
{
    struct pp_key *k;
    HASH_FIND_STR(*set, key, k);
    if (k)
        return (long)k->index;
    if (!(k = calloc(1, sizeof(*k))) || !(k->key = strdup(key))) {
        free(k);
        return -2;
    }
    k->index = next;
    HASH_ADD_KEYPTR(hh, *set, k->key, strlen(k->key), k);
    return -1;
}

static int64_t pp_str(struct pp *x, const char *s)
{
    long i = pp_intern(&x->strings, s, x->nstr);
    if (i >= 0)
        return i;
    if (i == -2 || grow_array((void **)&x->str, &x->capstr, x->nstr + 1, sizeof(*x->str)) < 0 ||
        !(x->str[x->nstr] = strdup(s))) {
        x->oom = 1;
        return 0;
    }
    return (int64_t)x->nstr++;
}

static uint64_t pp_function(struct pp *x, const struct frame *f)
{
    char key[4400];
    snprintf(key, sizeof(key), "%s\x1f%s", f->func, f->file);
    long i = pp_intern(&x->functions, key, x->nfn);
    if (i >= 0)
        return (uint64_t)i + 1;
    if (i == -2 || grow_array((void **)&x->fn, &x->capfn, x->nfn + 1, sizeof(*x->fn)) < 0) {
        x->oom = 1;
        return 0;
    }
    pb_function *fn = &x->fn[x->nfn];
    perftools__profiles__function__init(fn);
    fn->id = x->nfn + 1;
    fn->name = pp_str(x, f->func);
    /* A Python name ("<module>", "build.<locals>.<listcomp>") has no system
     * name: pprof readers demangle a function whose system name is its
     * name, and take <...> for C++ template arguments to strip. */
    fn->system_name = f->pymodule ? 0 : fn->name;
    fn->filename = frames_has_file(f) ? pp_str(x, f->file) : 0;
    return ++x->nfn;
}

/* --- mappings --------------------------------------------------------------- */

static void hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = 0;
}

static uint64_t pp_add_mapping(struct pp *x, const struct snap_module *m)
{
    char key[4200], id[2 * 255 + 1];
    snprintf(key, sizeof(key), "%s\x1f%llx", m->path, (unsigned long long)m->lo);
    long i = pp_intern(&x->mappings, key, x->nmap);
    if (i >= 0)
        return (uint64_t)i + 1;
    if (i == -2 || grow_array((void **)&x->map, &x->capmap, x->nmap + 1, sizeof(*x->map)) < 0) {
        x->oom = 1;
        return 0;
    }
    pb_mapping *mp = &x->map[x->nmap];
    perftools__profiles__mapping__init(mp);
    mp->id = x->nmap + 1;
    mp->memory_start = m->lo;
    mp->memory_limit = m->hi;
    mp->file_offset = 0; /* lo is the first PT_LOAD, which maps the file's start */
    mp->filename = pp_str(x, m->path);
    hex(id, m->build_id, m->build_id_len < 255 ? m->build_id_len : 255);
    mp->build_id = pp_str(x, id);
    mp->has_functions = 1;
    return ++x->nmap;
}

/* The mapping of frame f: the module named f->path that holds f->ip in
 * one of the snapshots (the ip comes from one of them); 0 outside all. */
static uint64_t pp_mapping(struct pp *x, const struct frame *f)
{
    if (!f->ip || !f->path[0])
        return 0;
    for (size_t i = 0; i < x->p->nin; i++) {
        const struct snap_module *m = snap_module_at(x->p->in[i].s, f->ip);
        if (m && strcmp(m->path, f->path) == 0)
            return pp_add_mapping(x, m);
    }
    return 0;
}

/* --- locations and samples -------------------------------------------------- */

static uint64_t pp_location_made(struct pp *x, const struct frame *const *fr, int n);

/* The location of frames fr[0..n) (one ip: the inlined ones, then the
 * function they were inlined into), from the memo when these frames made
 * one. */
static uint64_t pp_location(struct pp *x, const struct frame *const *fr, int n)
{
    struct pp_lmemo *m;
    HASH_FIND_PTR(x->lmemo, &fr[0], m);
    if (m && m->n == n && !memcmp(m->fr, fr, (size_t)n * sizeof *fr))
        return m->id;
    uint64_t id = pp_location_made(x, fr, n);
    if (!id || m || n > PP_MEMO_CHAIN || !(m = calloc(1, sizeof *m)))
        return id; /* another chain behind one leaf (never seen) goes the long way */
    memcpy(m->fr, fr, (size_t)n * sizeof *fr);
    m->n = n;
    m->id = id;
    HASH_ADD_PTR(x->lmemo, fr[0], m);
    return id;
}

/* The location of fr[0..n), by its text: made, or found made from other
 * frame records of the same text (another snapshot's). */
static uint64_t pp_location_made(struct pp *x, const struct frame *const *fr, int n)
{
    char key[8192];
    size_t at = (size_t)snprintf(key, sizeof(key), "%llx", (unsigned long long)fr[0]->ip);
    for (int i = 0; i < n && at < sizeof(key); i++)
        at += (size_t)snprintf(key + at, sizeof(key) - at, "\x1e%s\x1f%s\x1f%d", fr[i]->func,
                               fr[i]->file, fr[i]->line);
    long k = pp_intern(&x->locations, key, x->nloc);
    if (k >= 0)
        return (uint64_t)k + 1;
    pb_line *lines = calloc((size_t)n, sizeof(*lines));
    pb_line **lp = calloc((size_t)n, sizeof(*lp));
    if (k == -2 || !lines || !lp ||
        grow_array((void **)&x->loc, &x->caploc, x->nloc + 1, sizeof(*x->loc)) < 0) {
        free(lines);
        free(lp);
        x->oom = 1;
        return 0;
    }
    pb_location *l = &x->loc[x->nloc];
    perftools__profiles__location__init(l);
    l->id = x->nloc + 1;
    l->address = fr[0]->ip;
    l->mapping_id = pp_mapping(x, fr[0]);
    for (int i = 0; i < n; i++) {
        perftools__profiles__line__init(&lines[i]);
        lines[i].function_id = pp_function(x, fr[i]);
        lines[i].line = fr[i]->line;
        lp[i] = &lines[i];
        if (l->mapping_id && frames_has_file(fr[i])) {
            x->map[l->mapping_id - 1].has_filenames = 1;
            x->map[l->mapping_id - 1].has_line_numbers = 1;
        }
        if (l->mapping_id && fr[i]->inlined)
            x->map[l->mapping_id - 1].has_inline_frames = 1;
    }
    l->n_line = (size_t)n;
    l->line = lp;
    return ++x->nloc;
}

/* The location ids of stack st, leaf first, appended to x->locids. */
static void pp_stack(struct pp *x, const struct prof_stack *st, size_t *count)
{
    const struct frames_trace *t = st->t;
    *count = 0;
    for (int i = t->site; i < t->n && !x->oom;) {
        int j = i;
        while (j < t->n - 1 && t->fr[j]->inlined)
            j++;
        uint64_t id = pp_location(x, t->fr + i, j - i + 1);
        if (grow_array((void **)&x->locids, &x->caplocids, x->nlocids + 1,
                       sizeof(*x->locids)) < 0) {
            x->oom = 1;
            return;
        }
        x->locids[x->nlocids++] = id;
        ++*count;
        i = j + 1;
    }
}

static void pp_samples(struct pp *x)
{
    const struct prof *p = x->p;
    size_t *counts = big_calloc(p->nstacks + 1, sizeof(*counts));
    x->smp = calloc(p->nstacks + 1, sizeof(*x->smp));
    x->values = calloc((p->nstacks + 1) * PROF_NVALUES, sizeof(*x->values));
    if (!counts || !x->smp || !x->values) {
        free(counts);
        x->oom = 1;
        return;
    }
    if (p->nin && p->in[0].s->nmodules) /* mapping[0] is the main binary */
        pp_add_mapping(x, &p->in[0].s->modules[0]);
    for (size_t i = 0; i < p->nstacks && !x->oom; i++)
        pp_stack(x, &p->stacks[i], &counts[i]);
    size_t at = 0; /* locids moved while growing: point into it only now */
    for (size_t i = 0; i < p->nstacks && !x->oom; i++) {
        pb_sample *s = &x->smp[x->nsmp++];
        perftools__profiles__sample__init(s);
        s->n_location_id = counts[i];
        s->location_id = x->locids + at;
        at += counts[i];
        s->n_value = (size_t)x->nv;
        s->value = x->values + i * PROF_NVALUES;
        memcpy(s->value, p->stacks[i].v, sizeof(p->stacks[i].v));
    }
    free(counts);
}

/* --- the profile ------------------------------------------------------------- */

static void pp_header(struct pp *x, const struct export_opts *o, pb_profile *pf,
                      pb_valuetype *vt, pb_valuetype **vtp, pb_valuetype *period,
                      int64_t *comment)
{
    const struct prof *p = x->p;
    uint64_t last = 0;
    pp_str(x, ""); /* string_table[0] */
    for (int i = 0; i < x->nv; i++) {
        perftools__profiles__value_type__init(&vt[i]);
        vt[i].type = pp_str(x, prof_values[i].name);
        vt[i].unit = pp_str(x, prof_values[i].unit);
        vtp[i] = &vt[i];
    }
    pf->n_sample_type = (size_t)x->nv;
    pf->sample_type = vtp;
    if (!o->default_type || o->default_type[0])
        pf->default_sample_type =
            pp_str(x, o->default_type ? o->default_type : prof_values[PROF_INUSE_SPACE].name);
    perftools__profiles__value_type__init(period);
    period->type = pp_str(x, "space");
    period->unit = pp_str(x, "bytes");
    pf->period_type = period;
    for (size_t i = 0; i < p->nin; i++) {
        if (p->in[i].s->meta.time_ns > last)
            last = p->in[i].s->meta.time_ns;
        if (p->in[i].s->meta.sample_interval > (uint64_t)pf->period)
            pf->period = (int64_t)p->in[i].s->meta.sample_interval;
    }
    pf->time_nanos = (int64_t)last;
    pf->duration_nanos = last > p->t0_ns ? (int64_t)(last - p->t0_ns) : 0;
    char text[200];
    snprintf(text, sizeof(text), "heapsnap: %zu snapshot%s of %d process%s", p->nin,
             p->nin == 1 ? "" : "s", p->nprocs, p->nprocs == 1 ? "" : "es");
    *comment = pp_str(x, text);
    pf->n_comment = 1;
    pf->comment = comment;
}

/* Packs pf, gzips it into out.  -1 when out of memory or writing fails. */
static int pp_emit(const pb_profile *pf, FILE *out, char *err, size_t errlen)
{
    size_t len = perftools__profiles__profile__get_packed_size(pf);
    uint8_t *raw = malloc(len ? len : 1), chunk[65536];
    z_stream z = {0};
    int rc = -1, zr = Z_OK;
    if (!raw || deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8,
                             Z_DEFAULT_STRATEGY) != Z_OK) {
        free(raw);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    perftools__profiles__profile__pack(pf, raw);
    z.next_in = raw;
    z.avail_in = (uInt)len;
    while (zr == Z_OK) {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        zr = deflate(&z, Z_FINISH);
        if (zr != Z_OK && zr != Z_STREAM_END)
            break;
        size_t n = sizeof(chunk) - z.avail_out;
        if (fwrite(chunk, 1, n, out) != n)
            break;
        if (zr == Z_STREAM_END)
            rc = 0;
    }
    deflateEnd(&z);
    free(raw);
    if (rc < 0)
        snprintf(err, errlen, "cannot write the compressed profile");
    return rc;
}

static void pp_free(struct pp *x)
{
    struct pp_key *sets[] = {x->strings, x->functions, x->locations, x->mappings};
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        struct pp_key *k, *tmp;
        HASH_ITER(hh, sets[s], k, tmp) {
            HASH_DEL(sets[s], k);
            free(k->key);
            free(k);
        }
    }
    struct pp_lmemo *m, *mt;
    HASH_ITER(hh, x->lmemo, m, mt) {
        HASH_DEL(x->lmemo, m);
        free(m);
    }
    for (size_t i = 0; i < x->nstr; i++)
        free(x->str[i]);
    for (size_t i = 0; i < x->nloc; i++) {
        free(x->loc[i].line ? x->loc[i].line[0] : NULL);
        free(x->loc[i].line);
    }
    free(x->str);
    free(x->fn);
    free(x->loc);
    free(x->map);
    free(x->smp);
    free(x->locids);
    free(x->values);
}

/* An array of pointers to n items of size elem at base; NULL when out of memory. */
static void **pp_ptrs(void *base, size_t n, size_t elem)
{
    void **v = malloc((n ? n : 1) * sizeof(*v));
    for (size_t i = 0; v && i < n; i++)
        v[i] = (char *)base + i * elem;
    return v;
}

int pprof_write(const struct prof *p, const struct export_opts *o, FILE *out, char *err,
                size_t errlen)
{
    struct pp x = {.p = p, .nv = o->nvalues > 0 && o->nvalues < PROF_NVALUES ? o->nvalues
                                                                             : PROF_NVALUES};
    pb_profile pf = PERFTOOLS__PROFILES__PROFILE__INIT;
    pb_valuetype vt[PROF_NVALUES], *vtp[PROF_NVALUES], period;
    int64_t comment;
    pp_header(&x, o, &pf, vt, vtp, &period, &comment);
    pp_samples(&x);
    pf.sample = (pb_sample **)pp_ptrs(x.smp, x.nsmp, sizeof(*x.smp));
    pf.mapping = (pb_mapping **)pp_ptrs(x.map, x.nmap, sizeof(*x.map));
    pf.location = (pb_location **)pp_ptrs(x.loc, x.nloc, sizeof(*x.loc));
    pf.function = (pb_function **)pp_ptrs(x.fn, x.nfn, sizeof(*x.fn));
    pf.n_sample = x.nsmp;
    pf.n_mapping = x.nmap;
    pf.n_location = x.nloc;
    pf.n_function = x.nfn;
    pf.n_string_table = x.nstr;
    pf.string_table = x.str;
    int rc = -1;
    if (x.oom || !pf.sample || !pf.mapping || !pf.location || !pf.function)
        snprintf(err, errlen, "out of memory");
    else
        rc = pp_emit(&pf, out, err, errlen);
    free(pf.sample);
    free(pf.mapping);
    free(pf.location);
    free(pf.function);
    pp_free(&x);
    return rc;
}
