/*
 * pyretained.c - `top --retained`: per group (site, type, or both, as top
 * groups), the memory its blocks retain, from the dominator tree the shim
 * wrote (PYRETAIN): the bytes that would be freed if the group's blocks
 * went.  A group's retained bytes are those of the set of its blocks, as
 * Eclipse MAT and Chrome's heap snapshots count a class's: the sum of the
 * retained sizes of its blocks that no other block of the group
 * dominates (a linked list's nodes from one line are counted once, not
 * once per node).  One depth first walk of the tree per snapshot, each
 * group's count of open blocks on the walk's path saying whether a block
 * is the group's outermost.  Printed biggest first, beside the live size:
 *
 *   app.py:12: retained=50.0 MiB, size=232 B, count=1
 *
 * or as the "heapsnap-top-retained" JSON document (docs/json.md).
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cli.h"
#include "fmt.h"
#include "jsondoc.h"
#include "pyretained.h"

struct pyr_row {
    struct stat_entry *e;
    uint64_t retained, size, count;
    uint64_t leakrefs; /* objects with leaked references (PYRETAIN_LEAKREF) */
    uint32_t open;   /* blocks of the group on the walk's path */
};

struct pyr_idx {     /* a group's row, by its entry */
    struct stat_entry *e;
    uint32_t row;
    UT_hash_handle hh;
};

struct pyr_state {
    struct pyr_row *row;
    uint32_t nrow, caprow;
    struct pyr_idx *byent;
};

/* The row of group e (made when new); UINT32_MAX when out of memory. */
static uint32_t pyr_row_of(struct pyr_state *p, struct stat_entry *e)
{
    struct pyr_idx *x;
    HASH_FIND_PTR(p->byent, &e, x);
    if (x)
        return x->row;
    if (p->nrow == p->caprow) {
        uint32_t cap = p->caprow ? p->caprow * 2 : 64;
        struct pyr_row *r = big_realloc(p->row, cap * sizeof *r);
        if (!r)
            return UINT32_MAX;
        p->row = r, p->caprow = cap;
    }
    if (!(x = malloc(sizeof *x)))
        return UINT32_MAX;
    x->e = e, x->row = p->nrow;
    p->row[p->nrow++] = (struct pyr_row){e, 0, 0, 0, 0, 0};
    HASH_ADD_PTR(p->byent, e, x);
    return x->row;
}

/* Each block's row (UINT32_MAX: its trace filtered out) into key. */
static int pyr_keys(struct pyr_state *p, struct stats *st, const struct stats_opts *o,
                    const struct snap *s, uint32_t *key)
{
    int typed = o->key == KEY_TYPE || o->by_type;
    struct { uint32_t type, row; } *cache =
        big_malloc((s->ntraces ? s->ntraces : 1) * sizeof *cache);
    if (!cache)
        return -1;
    for (uint32_t t = 0; t < s->ntraces; t++)
        cache[t].type = PYTYPE_NONE - 1; /* nothing yet */
    for (uint64_t i = 0; i < s->nblocks; i++) {
        uint32_t t = s->blocks[i].trace, ty = s->py.block_type[i];
        if (t >= s->ntraces) {
            key[i] = UINT32_MAX;
            continue;
        }
        if (cache[t].type != (typed ? ty : 0)) { /* a trace's blocks share a type, mostly */
            const char *name = !typed ? NULL : ty == PYTYPE_NONE ? STATS_NO_OBJECT
                                                                : s->py.types[ty].name;
            struct stat_entry *e = stats_group_of(st, s, t, name);
            cache[t].type = typed ? ty : 0;
            cache[t].row = e ? pyr_row_of(p, e) : UINT32_MAX;
            if (e && cache[t].row == UINT32_MAX) {
                free(cache);
                return -1;
            }
        }
        key[i] = cache[t].row;
    }
    free(cache);
    return 0;
}

/* The walk of s's dominator tree, summing into the rows. */
static int pyr_walk(struct pyr_state *p, const struct snap *s, const uint32_t *key)
{
    uint64_t n = s->nblocks, *first = big_calloc(n + 2, sizeof *first);
    uint64_t *kid = malloc((n ? n : 1) * sizeof *kid), *stack = malloc((2 * n + 1) * sizeof *stack);
    if (!first || !kid || !stack) {
        free(first), free(kid), free(stack);
        return -1;
    }
    const uint64_t *idom = s->py.block_idom, root = n; /* the roots' parent: n */
    for (uint64_t i = 0; i < n; i++)
        first[(idom[i] < n ? idom[i] : root) + 1]++;
    for (uint64_t i = 0; i <= n; i++)
        first[i + 1] += first[i];
    for (uint64_t i = 0; i < n; i++) /* children by parent, in address order */
        kid[first[idom[i] < n ? idom[i] : root]++] = i;
    for (uint64_t i = n + 1; i > 0; i--)
        first[i] = first[i - 1];
    first[0] = 0;
    uint64_t top = 0;
    for (uint64_t k = first[root]; k < first[root + 1]; k++)
        stack[top++] = kid[k];
    while (top) { /* an entry with the top bit set: leaving that block */
        uint64_t v = stack[--top];
        if (v >> 63) {
            uint32_t r = key[v & ~(1ull << 63)];
            if (r != UINT32_MAX)
                p->row[r].open--;
            continue;
        }
        uint32_t r = key[v];
        if (r != UINT32_MAX) {
            struct pyr_row *w = &p->row[r];
            if (!w->open++)
                w->retained += s->py.block_retained[v];
            w->size += s->blocks[v].size;
            w->count++;
            w->leakrefs += s->py.block_refcnt && s->py.block_refcnt[v];
        }
        stack[top++] = v | 1ull << 63;
        for (uint64_t k = first[v]; k < first[v + 1]; k++)
            stack[top++] = kid[k];
    }
    free(first), free(kid), free(stack);
    return 0;
}

static int pyr_cmp(const void *a, const void *b)
{
    const struct pyr_row *x = a, *y = b;
    if (x->retained != y->retained)
        return x->retained > y->retained ? -1 : 1;
    return x->size != y->size ? (x->size > y->size ? -1 : 1) : strcmp(x->e->id, y->e->id);
}

static void pyr_text(const struct pyr_state *p, const struct stats_opts *o, FILE *out)
{
    for (uint32_t i = 0; i < p->nrow && (!o->limit || i < o->limit); i++) {
        const struct pyr_row *w = &p->row[i];
        char key[4096], ret[64], size[64];
        stats_key(o->key, w->e, key, sizeof key);
        fmt_size(ret, sizeof ret, (double)w->retained, 0);
        fmt_size(size, sizeof size, (double)w->size, 0);
        fprintf(out, "%s: retained=%s, size=%s, count=%llu\n", key, ret, size,
                (unsigned long long)w->count);
    }
}

static void pyr_json(const struct pyr_state *p, const struct stats_opts *o,
                     const struct snap *snaps, char **paths, int n, FILE *out)
{
    struct json j;
    jdoc_begin(&j, out, "heapsnap-top-retained", 1);
    json_kstr(&j, "key", stats_key_names[o->key]);
    json_key(&j, "snapshots");
    json_arr_begin(&j);
    for (int i = 0; i < n; i++)
        jdoc_snapshot(&j, &snaps[i], paths[i]);
    json_arr_end(&j);
    json_ku64(&j, "groups_total", p->nrow);
    json_key(&j, "groups");
    json_arr_begin(&j);
    for (uint32_t i = 0; i < p->nrow && (!o->limit || i < o->limit); i++) {
        const struct pyr_row *w = &p->row[i];
        char key[4096];
        stats_key(o->key, w->e, key, sizeof key);
        json_obj_begin(&j);
        json_kstr(&j, "key", key);
        json_ku64(&j, "retained_bytes", w->retained);
        json_ku64(&j, "bytes", w->size);
        json_ku64(&j, "blocks", w->count);
        json_ku64(&j, "leaked_reference_objects", w->leakrefs);
        jdoc_key_fields(&j, o->key, w->e);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    jdoc_end(&j);
}

int pyretained_groups(struct stats *st, const struct stats_opts *o, const struct snap *const *snaps,
                      int n, struct pyretained_sum **out, uint32_t *nout)
{
    struct pyr_state p = {0};
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        const struct snap *s = snaps[i];
        if (!s->py.block_retained)
            continue;
        uint32_t *key = big_malloc((s->nblocks ? s->nblocks : 1) * sizeof *key);
        rc = !key || pyr_keys(&p, st, o, s, key) < 0 || pyr_walk(&p, s, key) < 0 ? -1 : 0;
        free(key);
    }
    *out = rc == 0 ? calloc(p.nrow ? p.nrow : 1, sizeof **out) : NULL;
    for (uint32_t i = 0; *out && i < p.nrow; i++)
        (*out)[i] = (struct pyretained_sum){p.row[i].e, p.row[i].retained};
    *nout = *out ? p.nrow : 0;
    struct pyr_idx *x, *tmp;
    HASH_ITER(hh, p.byent, x, tmp) {
        HASH_DEL(p.byent, x);
        free(x);
    }
    free(p.row);
    return *out ? 0 : -1;
}

int pyretained_print(const struct stats_opts *o, const struct snap *snaps, char **paths, int n,
                     FILE *out, char *err, size_t errlen)
{
    struct pyr_state p = {0};
    struct stats *st = stats_new(o);
    int rc = st ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        const struct snap *s = &snaps[i];
        char why[320];
        if (!s->py.block_retained && pytypes_capped_note(s, why, sizeof why)) {
            snprintf(err, errlen, "%s: --retained: %s", paths[i], why);
            rc = -2;
            break;
        }
        if (!s->py.block_retained && s->dropped && strstr(s->dropped, "section PYRETAIN: ")) {
            snprintf(err, errlen, "%s: --retained: its PYRETAIN was left out (the warning "
                     "above says why)", paths[i]);
            rc = -2;
            break;
        }
        if (!s->py.block_retained) {
            snprintf(err, errlen, "%s: --retained needs a snapshot of a Python process with "
                     "its blocks and object graph (CPython 3.10-3.13, HEAPSNAP_BLOCKS=1, at "
                     "most HEAPSNAP_PYTHON_OBJECTS live blocks)", paths[i]);
            rc = -2;
            break;
        }
        uint32_t *key = big_malloc((s->nblocks ? s->nblocks : 1) * sizeof *key);
        rc = !key || pyr_keys(&p, st, o, s, key) < 0 || pyr_walk(&p, s, key) < 0 ? -1 : 0;
        free(key);
    }
    if (rc == 0) {
        qsort(p.row, p.nrow, sizeof *p.row, pyr_cmp);
        if (o->json)
            pyr_json(&p, o, snaps, paths, n, out);
        else
            pyr_text(&p, o, out);
    }
    if (rc == -1)
        snprintf(err, errlen, "out of memory");
    struct pyr_idx *x, *tmp;
    HASH_ITER(hh, p.byent, x, tmp) {
        HASH_DEL(p.byent, x);
        free(x);
    }
    free(p.row);
    stats_free(st);
    return rc < 0 ? -1 : 0;
}
