/*
 * identrank.c - the ranking of identrank.h: the idents noted, their texts
 * sorted once (memcmp's order, a text before those it begins), and for
 * each rank the run of ranks after it whose texts it begins.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "identrank.h"

int identrank_note(struct identrank *r, uint32_t ident)
{
    size_t old = r->capof;
    if (grow_array((void **)&r->of, &r->capof, (size_t)ident + 1, sizeof(*r->of)) < 0)
        return -1;
    memset(r->of + old, 0, (r->capof - old) * sizeof(*r->of));
    if (!r->of[ident]) {
        r->of[ident] = 1;
        r->n++;
    }
    return 0;
}

struct idtext {
    const char *s;
    size_t len;
    uint32_t ident;
};

static int idtext_cmp(const void *a, const void *b)
{
    const struct idtext *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

int identrank_make(struct identrank *r, const char *(*text)(uint32_t ident))
{
    struct idtext *tx = malloc((r->n ? r->n : 1) * sizeof(*tx));
    free(r->ext);
    r->ext = malloc((r->n ? r->n : 1) * sizeof(*r->ext));
    if (!tx || !r->ext) {
        free(tx);
        return -1;
    }
    size_t k = 0;
    for (size_t id = 0; id < r->capof; id++)
        if (r->of[id]) {
            tx[k].s = text((uint32_t)id);
            tx[k].len = strlen(tx[k].s);
            tx[k++].ident = (uint32_t)id;
        }
    qsort(tx, k, sizeof(*tx), idtext_cmp);
    for (size_t i = 0; i < k; i++)
        r->of[tx[i].ident] = (uint32_t)i + 1;
    for (size_t i = k; i-- > 0;) { /* the texts it begins follow it, nested */
        size_t j = i + 1;
        r->ext[i] = (uint32_t)i;
        while (j < k && tx[j].len > tx[i].len && !memcmp(tx[j].s, tx[i].s, tx[i].len)) {
            r->ext[i] = r->ext[j];
            j = (size_t)r->ext[j] + 1;
        }
    }
    free(tx);
    r->made = 1;
    return 0;
}

void identrank_free(struct identrank *r)
{
    free(r->of);
    free(r->ext);
    memset(r, 0, sizeof(*r));
}
