/*
 * statorder.c - the order stats' groups are printed in (stats_sort,
 * stats_top): tracemalloc's Statistic and StatisticDiff sort keys, and
 * top --sort's and --failed's, each a qsort_r comparison of two groups.
 */
#include <stdint.h>
#include <string.h>

#include "stats.h"

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

/* tracemalloc compares Tracebacks oldest frame first, frames by
 * (filename, lineno); function names only break remaining ties. */
static int cmp_key(enum stats_key key, const struct stat_entry *a, const struct stat_entry *b)
{
    char wa[KEY_PART_MAX], wb[KEY_PART_MAX];
    int i = a->nframes - 1, j = b->nframes - 1, c, la, lb;
    if (key == KEY_THREAD && a->thread && b->thread)
        return strcmp(a->thread, b->thread);
    if (a->type && b->type && (c = strcmp(a->type, b->type)) != 0 && key == KEY_TYPE)
        return c;
    for (; i >= 0 && j >= 0; i--, j--) {
        const char *na = stats_key_part(key, a->frames[i], wa, sizeof(wa), &la);
        const char *nb = stats_key_part(key, b->frames[j], wb, sizeof(wb), &lb);
        if ((c = strcmp(na, nb)) != 0)
            return c;
        if ((c = cmp_i64(la, lb)) != 0)
            return c;
    }
    if (i >= 0 || j >= 0)
        return i >= 0 ? 1 : -1;
    for (i = 0; i < a->nframes; i++)
        if ((c = strcmp(a->frames[i]->func, b->frames[i]->func)) != 0)
            return c;
    return a->type && b->type ? strcmp(a->type, b->type) : 0;
}

/* Descending (size, count, key): Statistic._sort_key, reverse=True; a
 * mapping nothing touched (stats_untouched) after every other group, and
 * a partly touched one by its resident bytes (stats_rank_size). */
static int cmp_stat(const void *pa, const void *pb, void *key)
{
    const struct stat_entry *a = *(void *const *)pa, *b = *(void *const *)pb;
    int c = stats_untouched(a) - stats_untouched(b); /* untouched mappings last */
    if (!c) c = cmp_i64(stats_rank_size(b), stats_rank_size(a));
    if (!c) c = cmp_i64(b->size, a->size);
    if (!c) c = cmp_i64(b->count, a->count);
    return c ? c : cmp_key(*(enum stats_key *)key, b, a);
}

/* Descending (allocations, allocated, key) or (allocated, allocations, key). */
static int cmp_alloc(const void *pa, const void *pb, void *opts)
{
    const struct stats_opts *o = opts;
    const struct stat_entry *a = *(void *const *)pa, *b = *(void *const *)pb;
    int bycount = o->sort == SORT_ALLOCATIONS;
    int c = bycount ? cmp_i64(b->alloc_count, a->alloc_count)
                    : cmp_i64(b->alloc_size, a->alloc_size);
    if (!c)
        c = bycount ? cmp_i64(b->alloc_size, a->alloc_size)
                    : cmp_i64(b->alloc_count, a->alloc_count);
    return c ? c : cmp_key(o->key, b, a);
}

/* --failed: descending (failed calls, largest size, key). */
static int cmp_failed(const void *pa, const void *pb, void *key)
{
    const struct stat_entry *a = *(void *const *)pa, *b = *(void *const *)pb;
    int c = cmp_i64(b->count, a->count);
    if (!c) c = cmp_i64(b->size, a->size);
    return c ? c : cmp_key(*(enum stats_key *)key, b, a);
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

/* Descending (|size_diff|, size, |count_diff|, count, key). */
static int cmp_diff(const void *pa, const void *pb, void *key)
{
    const struct stat_entry *a = *(void *const *)pa, *b = *(void *const *)pb;
    int c = cmp_i64(abs64(b->size_diff), abs64(a->size_diff));
    if (!c) c = cmp_i64(b->size, a->size);
    if (!c) c = cmp_i64(abs64(b->count_diff), abs64(a->count_diff));
    if (!c) c = cmp_i64(b->count, a->count);
    return c ? c : cmp_key(*(enum stats_key *)key, b, a);
}

stats_order_fn stats_order(struct stats_opts *o, int diff, void **arg)
{
    *arg = &o->key;
    if (o->failed || (o->collected && !diff)) /* by count (calls, objects), then size */
        return cmp_failed;
    if (!diff && o->sort != SORT_LIVE) {
        *arg = o;
        return cmp_alloc;
    }
    return diff ? cmp_diff : cmp_stat;
}
