/*
 * reflog.c - the references the views (retainers, holders) are told
 * after the marking from the program's roots (model_ops.on_marked), held
 * back in order until the check knows whether the model runs again.  If
 * it does (collect_mark_init made blocks held), model_rerun repeats that
 * part of the run and the log is dropped: the views then hold exactly
 * what a second whole run would have told them, without one.  If not,
 * the log is told to the views in its order.  On the Python programs the
 * log is short (the held blocks, the runtime's data, the possibly lost);
 * past RLOG_MAX entries, or when no memory can be mapped, the caller tells
 * the views what is held and stops holding back (a rerun is then whole).
 *
 * Mapped memory only (the world may be stopped: no locks, no host malloc).
 */
#include <string.h>

#include "leakinner.h"

#define RLOG_FIRST 4096u       /* entries of the first mapping */
#define RLOG_MAX (1u << 21)    /* entries at most: 48 MiB */

struct rlog_ent {
    uint64_t at;
    uint32_t to, from, kind;
    int32_t first; /* RLOG_OWNED: on_owned(to, from) */
};
#define RLOG_OWNED (-1)

static struct {
    struct rlog_ent *e; /* cap mapped, n used */
    size_t n, cap;
} rlog;

/* Room for one more; 0, or -1. */
static int rlog_room(void)
{
    if (rlog.n < rlog.cap)
        return 0;
    size_t cap = rlog.cap ? rlog.cap * 2 : RLOG_FIRST;
    struct rlog_ent *e = cap <= RLOG_MAX ? collect_host->map(cap * sizeof *e) : NULL;
    if (!e)
        return -1;
    if (rlog.e) {
        memcpy(e, rlog.e, rlog.n * sizeof *e);
        collect_host->unmap(rlog.e, rlog.cap * sizeof *e);
    }
    rlog.e = e;
    rlog.cap = cap;
    return 0;
}

int rlog_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at)
{
    if (rlog_room() != 0)
        return -1;
    rlog.e[rlog.n++] = (struct rlog_ent){at, to, from, kind, first ? 1 : 0};
    return 0;
}

int rlog_owned(uint32_t b, uint32_t root)
{
    if (rlog_room() != 0)
        return -1;
    rlog.e[rlog.n++] = (struct rlog_ent){0, b, root, 0, RLOG_OWNED};
    return 0;
}

void rlog_replay(const struct model_ops *ops)
{
    for (size_t i = 0; i < rlog.n; i++) {
        const struct rlog_ent *x = &rlog.e[i];
        if (x->first == RLOG_OWNED) {
            if (ops->on_owned)
                ops->on_owned(x->to, x->from, ops->ctx);
        } else if (ops->on_ref) {
            ops->on_ref(x->to, x->from, x->kind, x->first, (uintptr_t)x->at, ops->ctx);
        }
    }
    rlog_free();
}

void rlog_free(void)
{
    if (rlog.e)
        collect_host->unmap(rlog.e, rlog.cap * sizeof *rlog.e);
    memset(&rlog, 0, sizeof rlog);
}
