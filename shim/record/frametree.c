/*
 * frametree.c - the tree of frames interned stacks are kept in, as
 * heaptrack and memray keep theirs: a node is one frame (ip) and its
 * parent, so the outer frames most stacks share are stored once; a stack
 * is named by its innermost node and its depth.  Nodes are made outermost
 * first, each (parent, ip) once, found again through an open-addressed
 * index of node ids (exact: the frame and the parent decide).  Each thread
 * keeps the outer frames of the last stack it found or made, with their
 * nodes: the next stack's lookup (ftree_found) and walk in (ftree_walk_in)
 * follow the tree only for the frames it does not share.  A node made
 * right after its parent is found beside it (ftree_next_of), so the index
 * holds only the others (ftree_indexed): a walk's first new node, when
 * its parent is older; the rest of a walk's new frames, each under the
 * one before, are in no index (at most one node a new stack: about a
 * third of import torch's nodes, half of a smaller program's).
 *   Locks: nodes never change once made and their chunks never move, so a
 * stack is read back (ftree_copy, ftree_same, ftree_found) without a lock; making nodes
 * (ftree_walk_in) and tagging one are guarded by the caller's lock,
 * traces.c's intern lock for every caller (fork's handlers hold it).  Node
 * 0 is the root, the empty stack, never in the index.  Node chunks are
 * whole mappings that never move (FTREE_LAZY says which are resident at
 * once).
 */
#include "record.h"

#define FTREE_NODE_BITS 13
#define FTREE_CHUNK (1u << FTREE_NODE_BITS) /* nodes per chunk (128 KiB) */
#define FTREE_CHUNKS 8192u                   /* so at most 64M nodes */
#define FTREE_INDEX_BITS 10                  /* the index's first size: 1024 slots */
#define FTREE_PATH 128u                      /* outer frames of its last walk a thread keeps */
#define FTREE_REHASH_AHEAD 16u               /* nodes a rehash fetches their slots ahead */
/* An index past this many bytes, and every node chunk after the first, is
 * mapped resident at once (arena_map_full): a rehash writes all of an
 * index's pages and nodes fill a chunk in order, so one call fills what
 * was a fault a page (a Python start-up's tree: thousands of them).  The
 * first chunk stays lazy: most programs use a few of its pages. */
#define FTREE_LAZY (64u * 1024u)

struct ftree_node {
    uintptr_t ip;    /* this frame */
    uint32_t parent; /* the node one frame further out (0: outermost) */
    uint32_t tag;    /* the caller's (trace_intern: the id + 1 of the trace it ends) */
};

/* An index slot: a node id, and above it FTREE_TAG_BITS more of its hash,
 * so that a probe reads the node (most often a cache miss: the tree is
 * MiBs) only when they match.  0 = empty. */
#define FTREE_ID_BITS 26 /* FTREE_CHUNKS x FTREE_CHUNK nodes */
#define FTREE_ID_MASK ((1u << FTREE_ID_BITS) - 1)
#define FTREE_TAG_BITS (32 - FTREE_ID_BITS)
_Static_assert((uint64_t)FTREE_CHUNKS * FTREE_CHUNK <= (1ull << FTREE_ID_BITS),
               "node ids fit below an index slot's tag");

static struct {
    struct ftree_node *chunk[FTREE_CHUNKS]; /* node id -> node */
    uint32_t nodes;                         /* made, the root included */
    uint32_t indexed;                       /* of them, those ftree_indexed says */
    uint32_t *index;                        /* tag | node id by hash of (parent, ip) */
    uint32_t index_bits;                    /* log2 of its slots */
} ftree;

/* The outer frames of a thread's last walk with their nodes: frame k from
 * the outermost is rip[FTREE_PATH - 1 - k] (innermost first, as a stack's
 * ip[], so that the two compare from their ends: ftree_tail_same), its
 * node node[k].  Node ids stay valid for good, so no lock guards them. */
struct ftree_path {
    unsigned depth; /* frames kept */
    uintptr_t rip[FTREE_PATH];
    uint32_t node[FTREE_PATH];
};
static __thread struct ftree_path ftree_path;

/* Node n, which exists (it was reached from a stack's name or the index). */
static inline struct ftree_node *ftree_at(uint32_t n)
{
    return &ftree.chunk[n >> FTREE_NODE_BITS][n & (FTREE_CHUNK - 1)];
}

/* The hash of (parent, ip): its top bits are the index slot where the
 * search starts (ftree_slot), bits 31-36 the tag (ftree_tag_of): apart,
 * as the index has at most 2^27 slots (3/4 full: ftree_index_room). */
static inline uint64_t ftree_hash(uint32_t parent, uintptr_t ip)
{
    return ((uint64_t)ip ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
}

static inline uint32_t ftree_slot(uint64_t h, unsigned bits)
{
    return (uint32_t)(h >> (64 - bits));
}

static inline uint32_t ftree_tag_of(uint64_t h)
{
    return (uint32_t)(h >> 31) << FTREE_ID_BITS; /* the top FTREE_TAG_BITS of 32 */
}

/* Whether node n, made under parent, goes in the index: not when it is
 * the node made right after parent, which ftree_next_of finds. */
static inline int ftree_indexed(uint32_t n, uint32_t parent)
{
    return parent + 1 != n;
}

/* The index doubled (or made, as large as the nodes need: after
 * ftree_index_drop), rehashed from the nodes; 0 or -1.  An index that is a
 * mapping of its own is grown in place and cleared (arena_remap: the
 * kernel moves its pages), since the rehash reads only the nodes: a fresh
 * mapping beside the old one would map half again the largest index at
 * its last doubling. */
static HS_NOINLINE int ftree_index_grow(void)
{
    unsigned bits = ftree.index ? ftree.index_bits + 1 : FTREE_INDEX_BITS;
    while (!ftree.index && (uint64_t)ftree.indexed * 4 > (uint64_t)3 << bits)
        bits++;
    uint32_t slots = 1u << bits, mask = slots - 1;
    size_t old = ftree.index ? ((size_t)1 << ftree.index_bits) * sizeof *ftree.index : 0;
    uint32_t *ix;
    if (old > FTREE_LAZY) {
        if (!(ix = arena_remap(ftree.index, old, slots * sizeof *ix)))
            return -1; /* the old index stays */
        __builtin_memset(ix, 0, old); /* past it, the new pages are zero */
        arena_populate((char *)ix + old, slots * sizeof *ix - old); /* all written below */
        ftree.index = NULL;           /* moved: nothing to free below */
    } else {
        ix = slots * sizeof *ix > FTREE_LAZY ? arena_map_full(slots * sizeof *ix)
                                             : arena_alloc(slots * sizeof *ix);
    }
    if (!ix)
        return -1;
    /* The nodes are read in order, but their slots are all over the new
     * index: each is fetched FTREE_REHASH_AHEAD nodes before it is
     * written, so that the misses overlap instead of coming one a node. */
    uint64_t ahead[FTREE_REHASH_AHEAD];
    uint8_t put[FTREE_REHASH_AHEAD] = {0}; /* ahead[k] is an indexed node's */
    for (uint32_t n = 1; n < ftree.nodes + FTREE_REHASH_AHEAD; n++) {
        uint32_t k = n % FTREE_REHASH_AHEAD;
        if (put[k]) { /* node n - FTREE_REHASH_AHEAD */
            uint64_t h = ahead[k];
            uint32_t s = ftree_slot(h, bits);
            while (ix[s])
                s = (s + 1) & mask;
            ix[s] = ftree_tag_of(h) | (n - FTREE_REHASH_AHEAD);
        }
        put[k] = 0;
        if (n < ftree.nodes) {
            const struct ftree_node *x = ftree_at(n);
            if (ftree_indexed(n, x->parent)) {
                ahead[k] = ftree_hash(x->parent, x->ip);
                put[k] = 1;
                __builtin_prefetch(&ix[ftree_slot(ahead[k], bits)], 1);
            }
        }
    }
    if (ftree.index)
        arena_free(ftree.index, ((size_t)1 << ftree.index_bits) * sizeof *ix);
    ftree.index = ix;
    ftree.index_bits = bits;
    return 0;
}

/* The index grown, if need be, to take `more` nodes staying at most 3/4
 * full (also makes the first); 0 or -1. */
static int ftree_index_room(unsigned more)
{
    while ((uint64_t)(ftree.indexed + more) * 4 > (uint64_t)3 << ftree.index_bits)
        if (ftree_index_grow() != 0)
            return -1;
    return 0;
}

/* The index given back (the exit snapshot's, so that its buffers land in
 * its pages: ftree_index_dropped_and_made_again); the next walk that makes
 * nodes makes it again from the nodes.  Caller's lock held. */
void ftree_index_drop(void)
{
    if (!ftree.index)
        return;
    arena_free(ftree.index, ((size_t)1 << ftree.index_bits) * sizeof *ftree.index);
    ftree.index = NULL;
    ftree.index_bits = 0;
}

/* A new node (parent, ip), in no index yet; its id, or 0 when out of
 * memory. */
static uint32_t ftree_new(uint32_t parent, uintptr_t ip)
{
    uint32_t n = ftree.nodes;
    if (n >> FTREE_NODE_BITS >= FTREE_CHUNKS) {
        degrade_now("too many distinct stack frames");
        return 0;
    }
    struct ftree_node **c = &ftree.chunk[n >> FTREE_NODE_BITS];
    if (!*c && !(*c = arena_map_full(FTREE_CHUNK * sizeof **c)))
        return 0;
    struct ftree_node *x = &(*c)[n & (FTREE_CHUNK - 1)];
    x->ip = ip;
    x->parent = parent;
    ftree.nodes = n + 1;
    return n;
}

/* The node of frame ip called from node parent, made if new (and put in
 * the index at the free slot its search ended on, unless ftree_indexed
 * says it need not be); 0 when out of memory.  Room in the index for one
 * more node.  Not for parent's next node: ftree_next_of first. */
static uint32_t ftree_get(uint32_t parent, uintptr_t ip)
{
    uint32_t mask = (1u << ftree.index_bits) - 1;
    uint64_t h = ftree_hash(parent, ip);
    uint32_t s = ftree_slot(h, ftree.index_bits), tag = ftree_tag_of(h);
    for (uint32_t e; (e = ftree.index[s]) != 0; s = (s + 1) & mask) {
        if ((e & ~FTREE_ID_MASK) != tag)
            continue;
        const struct ftree_node *x = ftree_at(e & FTREE_ID_MASK);
        if (x->ip == ip && x->parent == parent)
            return e & FTREE_ID_MASK;
    }
    uint32_t n = ftree_new(parent, ip);
    if (n && ftree_indexed(n, parent)) {
        ftree.index[s] = tag | n;
        ftree.indexed++;
    }
    return n;
}

/* The node of frame ip called from node parent when it is the node made
 * right after parent, or 0: a stack's nodes made by one walk have
 * consecutive ids, so a later walk down the same frames finds each next
 * one beside the last (the same cache line, most often) without the
 * index, whose probe is a cache miss a frame. */
static inline uint32_t ftree_next_of(uint32_t parent, uintptr_t ip)
{
    uint32_t c = parent + 1;
    if (c >= ftree.nodes)
        return 0;
    const struct ftree_node *x = ftree_at(c);
    return x->parent == parent && x->ip == ip ? c : 0;
}

/* Nodes for ip[depth - 1 - k] inward, each the child of the one before,
 * the first's parent n (made just now): made, none looked for, since a
 * node just made has no child yet, and none put in the index, since each
 * is the next of the one before (ftree_indexed).  The last node, or 0
 * when out of memory (the nodes made so far stay: each is whole). */
static uint32_t ftree_make_chain(uint32_t n, const uintptr_t *ip, unsigned depth, unsigned k,
                                 struct ftree_path *p)
{
    for (; k < depth; k++) {
        uintptr_t f = ip[depth - 1 - k];
        if (!(n = ftree_new(n, f)))
            return 0;
        if (k < FTREE_PATH) {
            p->rip[FTREE_PATH - 1 - k] = f;
            p->node[k] = n;
        }
    }
    return n;
}

/* The root (node 0), made at the first stack; 0 or -1. */
static int ftree_root(void)
{
    if (ftree.nodes)
        return 0;
    if (!(ftree.chunk[0] = arena_map(FTREE_CHUNK * sizeof *ftree.chunk[0])))
        return -1;
    ftree.nodes = 1;
    return 0;
}

/* How many of ip's outer frames (ip[depth - 1] inward) the last walk
 * (path) had too. */
static unsigned ftree_shared(const struct ftree_path *path, const uintptr_t *ip, unsigned depth)
{
    return ftree_tail_same(path->rip + FTREE_PATH, ip + depth,
                           depth < path->depth ? depth : path->depth);
}

/* How many outer frames of ip[0..depth) this thread's last walk shares:
 * ftree_walk_in looks up only the others (and none past the first it
 * makes).  A lookup that finds another stack (ftree_found's miss) leaves
 * them in the path.  No lock: the path is the thread's. */
unsigned ftree_path_shared(const uintptr_t *ip, unsigned depth)
{
    return ftree_shared(&ftree_path, ip, depth);
}

/* The innermost node of the stack ip[0..depth) (innermost first), its
 * nodes found or made from the outermost frame in; 0 with no frames, -1
 * when out of memory.  The outer frames it shares with this thread's last
 * walk (k, as ftree_path_shared said) are not looked up again.  Caller's
 * lock held. */
int64_t ftree_walk_in(const uintptr_t *ip, unsigned depth, unsigned k)
{
    struct ftree_path *p = &ftree_path;
    uint32_t n = k ? p->node[k - 1] : 0;
    int64_t r = -1;
    /* one node a walk in the index at most: the first it makes */
    if (ftree_root() != 0 || ftree_index_room(1) != 0)
        goto out;
    for (uint32_t made = ftree.nodes; k < depth; k++) {
        uint32_t c = ftree_next_of(n, ip[depth - 1 - k]);
        if (!c && !(c = ftree_get(n, ip[depth - 1 - k])))
            goto out;
        n = c;
        if (k < FTREE_PATH) {
            p->rip[FTREE_PATH - 1 - k] = ip[depth - 1 - k];
            p->node[k] = n;
        }
        if (n >= made) { /* new: so are the frames inward of it */
            if (k + 1 < depth && !(n = ftree_make_chain(n, ip, depth, k + 1, p)))
                goto out;
            k = depth;
            break;
        }
    }
    r = n;
out:
    p->depth = k < FTREE_PATH ? k : FTREE_PATH; /* what it holds now */
    return r;
}

/* Node x's (id node) parent, id up.  A walk's new nodes are made one
 * after another (ftree_make_chain), so a node's parent is most often the
 * node just before it, in the same chunk: then the next node's address is
 * this one's less one, taken on the branch's guess without waiting for the
 * load of parent, and the misses of a stretch of such nodes overlap
 * instead of coming one a node. */
static inline const struct ftree_node *ftree_up(const struct ftree_node *x, uint32_t node,
                                                uint32_t up)
{
    if (HS_LIKELY(up + 1 == node && (node & (FTREE_CHUNK - 1)) != 0)) {
        x--;
        __asm__("" : "+r"(x)); /* a branch, not a cmov: x must not wait for up */
        return x;
    }
    return ftree_at(up);
}

/* Whether the depth frames from node outward are ip[0..depth).  No lock. */
int ftree_same(uint32_t node, const uintptr_t *ip, unsigned depth)
{
    const struct ftree_node *x = ftree_at(node);
    for (unsigned i = 0; i < depth; i++) {
        if (x->ip != ip[i])
            return 0;
        uint32_t p = x->parent;
        x = ftree_up(x, node, p);
        node = p;
    }
    return 1;
}

/* ftree_same read against this thread's path: the outer frames the stack
 * shares with the last one found or made (ftree_shared: words the thread
 * wrote, most often in its cache) are not followed in the tree, since a
 * node stands for every frame out to the root: past the inner frames,
 * node's ancestor must be the path's node for the shared ones.  Only the
 * inner frames are read in the tree (a cache miss a node, most often, in
 * a tree of MiBs), and a match leaves them in the path for the next
 * stack; a mismatch cuts the path back to what it shares.  No lock: the
 * path is the thread's and nodes never change. */
int ftree_found(uint32_t node, const uintptr_t *ip, unsigned depth)
{
    struct ftree_path *p = &ftree_path;
    if (HS_UNLIKELY(depth > FTREE_PATH))
        return ftree_same(node, ip, depth); /* past what a path holds */
    unsigned k = ftree_shared(p, ip, depth), inner = depth - k;
    /* Frame i (innermost first) is the path's frame depth - 1 - i from the
     * outermost: its word rip[FTREE_PATH - depth + i], its node below. */
    uintptr_t *rip = &p->rip[FTREE_PATH - depth];
    uint32_t *nd = &p->node[depth - 1];
    const struct ftree_node *x = inner ? ftree_at(node) : NULL;
    for (unsigned i = 0; i < inner; i++, nd--) {
        uintptr_t f = ip[i];
        if (x->ip != f)
            goto differ;
        rip[i] = f;
        *nd = node;
        uint32_t up = x->parent;
        x = ftree_up(x, node, up);
        node = up;
    }
    if (k && node != p->node[k - 1])
        goto differ;
    p->depth = depth;
    return 1;
differ:
    p->depth = k;
    return 0;
}

/* The first max of the depth frames from node outward into ip, innermost
 * first; how many were copied.  No lock. */
unsigned ftree_copy(uint32_t node, unsigned depth, uintptr_t *ip, unsigned max)
{
    unsigned i = 0;
    for (; i < depth && i < max; i++) {
        const struct ftree_node *x = ftree_at(node);
        ip[i] = x->ip;
        node = x->parent;
    }
    return i;
}

/* A node's tag (0 until set) and setting it, for the caller's own use;
 * caller's lock held.  node came from ftree_walk_in. */
uint32_t ftree_tag(uint32_t node)
{
    return ftree_at(node)->tag;
}

void ftree_set_tag(uint32_t node, uint32_t tag)
{
    ftree_at(node)->tag = tag;
}

/* Node n's frame and parent (state_node_put copies the tree); n came from a
 * trace's walk out.  No lock: nodes never change once made. */
uintptr_t ftree_frame(uint32_t n, uint32_t *parent)
{
    const struct ftree_node *x = ftree_at(n);
    *parent = x->parent;
    return x->ip;
}
