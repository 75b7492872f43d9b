/*
 * statestacks.c - the traces' stacks in the state file: each new trace's
 * record (leaf node, depth, flags) in the traces region and its frames'
 * nodes, outermost first, in the stacks region, so that a report read
 * after a kill names every site a document counts (state.c's heartbeat
 * writes them before its document: state_stacks).  The regions' room is
 * allocated ahead in steps before it is touched (state_room), as the
 * rest of the file's.
 *   Lock: none; the helper's alone, as state.c says.
 */
#include <errno.h>

#include "statefile.h"

/* The bytes of nodes and records written between two state_let_go: a beat
 * that writes more (a Python start-up's first: MiBs of nodes) lets them
 * go as it goes, so they never sit in the program's RSS at once. */
#define STATE_LET_GO (256u * 1024u)

static uint64_t state_written; /* since the last state_let_go of state_stacks */

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
    struct hsnap_state_head *h = st.h;
    struct hsnap_state_node *nd[TRACE_DEPTH_MAX];
    uint32_t leaf, path[TRACE_DEPTH_MAX], x;
    unsigned flags, depth = trace_node(id, &leaf, &flags), k = 0;
    if (depth > TRACE_DEPTH_MAX)
        depth = TRACE_DEPTH_MAX;
    if (state_room(h->traces_off, h->traces_cap, &st.traces_room, ((uint64_t)id + 1) * 8) != 0 ||
        state_room(h->stacks_off, h->stacks_cap, &st.stacks_room, ((uint64_t)leaf + 1) * 16) != 0)
        return -1;
    for (x = leaf; k < depth && x; k++) { /* a parent's id is below its child's */
        if (!(nd[k] = state_at(h->stacks_off + (uint64_t)x * 16, 16)))
            return -1;
        if (nd[k]->set)
            break;
        path[k] = x;
        (void)ftree_frame(x, &x);
    }
    state_written += 8 + (uint64_t)k * sizeof **nd;
    while (k--) {
        uint32_t parent;
        uintptr_t ip = ftree_frame(path[k], &parent);
        *nd[k] = (struct hsnap_state_node){ip, parent, 1};
    }
    struct hsnap_state_trace *t = state_at(h->traces_off + (uint64_t)id * 8, 8);
    if (!t)
        return -1;
    *t = (struct hsnap_state_trace){leaf, (uint16_t)depth, (uint16_t)flags};
    if (((uint64_t)leaf + 1) * 16 > h->stacks_len)
        h->stacks_len = ((uint64_t)leaf + 1) * 16;
    return 0;
}

/* The stacks of traces [stacks_n, n) written; 0, or -1 (full: the
 * documents stop, so that none counts a trace without its stack). */
int state_stacks(uint32_t n)
{
    uint32_t id = st.h->stacks_n;
    while (id < n && state_trace(id) == 0) {
        id++;
        if (state_written >= STATE_LET_GO) {
            state_let_go();
            state_written = 0;
        }
    }
    __atomic_store_n(&st.h->stacks_n, id, __ATOMIC_RELEASE);
    if (id == n)
        return 0;
    state_full(HSTATE_FULL_DOC, "new sites' stacks");
    return -1;
}
