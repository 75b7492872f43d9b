/*
 * statestacks.c - the traces' stacks in the state file: each new trace's
 * record (leaf node, depth, flags) in the traces region and its frames'
 * nodes, outermost first, in the stacks region, so that a report read
 * after a kill names every site a document counts (state.c's heartbeat
 * writes them before its document: state_stacks).  The regions' room is
 * allocated ahead in steps before it is written (state_room), as the
 * rest of the file's.  The records go in with pwrite, gathered while they
 * follow each other (state_wbuf), not through the mapping: a shared file
 * page's first write fault costs several times its share of a pwrite (a
 * Python start-up writes MiBs of nodes), and no page enters the program's
 * resident set.  Which nodes are in the file is kept
 * beside it (sw.set: a bit a node, state_set_has), so the walk up reads no page.
 *   Lock: none; the helper's alone, as state.c says.
 */
#include <errno.h>
#include <string.h>

#include "statefile.h"

#define STATE_WBUF (32u * 1024u) /* a region's bytes gathered for one pwrite */
#define STATE_GAP (4u * 1024u)   /* nodes' bytes written between two of a trace's (state_node_put) */

/* Bytes for [off, off + len) of the file, still to be written. */
struct state_wbuf {
    uint64_t off;
    uint32_t len;
    uint8_t b[STATE_WBUF];
};

/* The stacks' writer's state, its own: state_mod, the state file's module state, is not
 * reached from here (the header comes as state_stacks's argument). */
static struct {
    struct state_wbuf nodes, traces;
    uint64_t *set;  /* bit x: node x is in the file (arena memory) */
    size_t capset;  /* its bytes */
    struct hsnap_state_head *h; /* the file's header, during state_stacks */
    uint64_t stacks_room; /* bytes of the nodes allocated so far */
    uint64_t traces_room; /* ... of the traces */
} sw;

/* w's bytes into the file; 0, or -1. */
static int state_wbuf_flush(struct state_wbuf *w)
{
    int r = w->len ? state_write(w->off, w->b, w->len) : 0;
    w->len = 0;
    return r;
}

/* len bytes at off, through w: gathered while they follow what it holds.
 * 0, or -1. */
static int state_wbuf_put(struct state_wbuf *w, uint64_t off, const void *p, uint32_t len)
{
    if (w->len && (off != w->off + w->len || w->len + len > STATE_WBUF) &&
        state_wbuf_flush(w) != 0)
        return -1;
    if (!w->len)
        w->off = off;
    memcpy(w->b + w->len, p, len);
    w->len += len;
    return 0;
}

/* Node x's record through sw.nodes.  A short gap after what it holds is
 * filled with the gap's own nodes rather than cut into another pwrite:
 * the nodes a trace writes follow each other but for the frames only
 * other stacks share (a Python start-up's new stacks: thousands of
 * pwrites of a few records each).  Those fillers are true records, but
 * not marked in the file (sw.set), so their parents need not be
 * there: a trace that reaches one writes it and its parents again.
 * 0, or -1. */
static int state_node_put(uint32_t x, uintptr_t ip, uint32_t parent)
{
    struct state_wbuf *w = &sw.nodes;
    uint64_t off = sw.h->stacks_off + (uint64_t)x * 16, end = w->off + w->len;
    if (w->len && off > end && off - end <= STATE_GAP && off - w->off + 16 <= STATE_WBUF)
        for (uint32_t g = (uint32_t)((end - sw.h->stacks_off) / 16); g < x; g++) {
            struct hsnap_state_node nd = {0, 0, 1};
            nd.ip = ftree_frame(g, &nd.parent);
            memcpy(w->b + w->len, &nd, 16);
            w->len += 16;
        }
    struct hsnap_state_node nd = {ip, parent, 1};
    return state_wbuf_put(w, off, &nd, 16);
}

/* Whether node x is in the file: 1, 0, or -1 when the set cannot grow. */
static int state_set_has(uint32_t x)
{
    size_t need = ((size_t)x / 64 + 1) * 8;
    if (need > sw.capset) {
        size_t cap = sw.capset ? sw.capset : 4096;
        while (cap < need)
            cap *= 2;
        uint64_t *v = arena_alloc(cap);
        if (!v)
            return -1;
        if (sw.set) {
            memcpy(v, sw.set, sw.capset);
            arena_free(sw.set, sw.capset);
        }
        sw.set = v;
        sw.capset = cap;
    }
    return (int)(sw.set[x / 64] >> (x % 64) & 1);
}

/* Room in [off, off + cap) up to end bytes, *room of them allocated
 * already (ahead in steps: on a tmpfs an allocated page is charged to the
 * process's cgroup).  0, or -1 (errno 0: the bound, not the disk). */
static int state_room(uint64_t off, uint64_t cap, uint64_t *room, uint64_t end)
{
    if (end <= *room)
        return 0;
    if (end > cap) {
        errno = 0;
        return -1;
    }
    uint64_t want = (end + STATE_STEP - 1) & ~(uint64_t)(STATE_STEP - 1);
    if (want > cap)
        want = cap;
    if (state_reserve(off + *room, want - *room) != 0)
        return -1;
    *room = want;
    return 0;
}

/* Trace id's nodes that are not in the file yet (written outermost first,
 * so a node written has its parents written), then its record.  0, or -1
 * (full). */
static int state_trace(uint32_t id)
{
    struct hsnap_state_head *h = sw.h;
    uint32_t leaf, path[TRACE_DEPTH_MAX], x;
    unsigned flags, depth = trace_node(id, &leaf, &flags), k = 0;
    if (depth > TRACE_DEPTH_MAX)
        depth = TRACE_DEPTH_MAX;
    if (state_room(h->traces_off, h->traces_cap, &sw.traces_room, ((uint64_t)id + 1) * 8) != 0 ||
        state_room(h->stacks_off, h->stacks_cap, &sw.stacks_room, ((uint64_t)leaf + 1) * 16) != 0)
        return -1;
    for (x = leaf; k < depth && x; k++) { /* a parent's id is below its child's */
        int in = state_set_has(x);
        if (in < 0)
            return -1;
        if (in)
            break;
        path[k] = x;
        (void)ftree_frame(x, &x);
    }
    while (k--) {
        uint32_t parent;
        uintptr_t ip = ftree_frame(path[k], &parent);
        if (state_node_put(path[k], ip, parent) != 0)
            return -1;
        sw.set[path[k] / 64] |= 1ull << (path[k] % 64);
    }
    struct hsnap_state_trace t = {leaf, (uint16_t)depth, (uint16_t)flags};
    if (state_wbuf_put(&sw.traces, h->traces_off + (uint64_t)id * 8, &t, 8) != 0)
        return -1;
    if (((uint64_t)leaf + 1) * 16 > h->stacks_len)
        h->stacks_len = ((uint64_t)leaf + 1) * 16;
    return 0;
}

/* The stacks of traces [stacks_n, n) written; 0, or -1 (full: the
 * documents stop, so that none counts a trace without its stack). */
int state_stacks(struct hsnap_state_head *h, uint32_t n)
{
    sw.h = h;
    uint32_t id = sw.h->stacks_n;
    if (!id && sw.set) /* a new file, or one started again: none of its nodes written */
        memset(sw.set, 0, sw.capset);
    sw.nodes.len = sw.traces.len = 0;
    while (id < n && state_trace(id) == 0)
        id++;
    /* what is published is in the file: the traces written whole, the
     * rest of a failed one's nodes harmless (their parents are there) */
    if (state_wbuf_flush(&sw.nodes) != 0 || state_wbuf_flush(&sw.traces) != 0) {
        id = sw.h->stacks_n; /* and every node is written again next time */
        memset(sw.set, 0, sw.capset);
    }
    __atomic_store_n(&sw.h->stacks_n, id, __ATOMIC_RELEASE);
    if (id == n)
        return 0;
    state_full(HSTATE_FULL_DOC, "new sites' stacks");
    return -1;
}

/* The bytes of the regions allocated so far (state_used). */
uint64_t state_stacks_room(void)
{
    return sw.stacks_room + sw.traces_room;
}

/* A new file's regions (state_restart): none of their room allocated. */
void state_stacks_restart(void)
{
    sw.stacks_room = sw.traces_room = 0;
}
