/*
 * iptab.c - a compressed TRACES section read as it inflates, its ips stored
 * once: each distinct ip (return address or Python frame word) is one
 * entry of snap.iptab, and the traces are a tree of them from the
 * outermost frame in (snap.nodes: parent, ip), each trace its innermost
 * node (snap_trace.node), so the section is never whole in memory and the
 * callers that a hundred thousand traces share are stored once.  The
 * checks and their messages are parse_traces's (snap.c), made as the
 * bytes come; the first failure is kept and reported when the loader
 * reaches TRACES, so that errors come in the usual order.  What the tree
 * and the traces take is charged to the file's budget (section.c) as they
 * grow, so a payload of many empty traces or distinct ips is refused at
 * the bound instead of filling memory.
 *
 * Traces that follow each other mostly share their outer frames (the
 * shim numbers them as it meets them), so each is compared with the one
 * before from its outermost frame in: a frame equal to the previous
 * trace's at the same height takes its ip index and node from it, and
 * only the rest is hashed.
 *
 * A node made right after its parent is found beside it (child's first
 * test).  The first frame a trace does not share so is looked up in a
 * memo of the (parent, ip) pairs met last (kid_memo: direct-mapped, the
 * size of a core's L2 cache), not in a table of every node: on a big
 * snapshot that table missed the cache once a trace, most often to find
 * the node new, and was the biggest part of `run`'s summary
 * (docs/performance-hotpath.md, the row of iptab.c's kid_memo).  A pair
 * the memo has forgotten is made again, so a node may stand twice for
 * the same frames: every trace still reads back as written (a trace's
 * words are its nodes' ips; no reader takes a node for a stack's
 * identity, only as the key of a memo), and the tree is at most one node
 * a stored ip, charged to the file's budget.  Its other new frames, each
 * under the one before, are made without a look-up.
 *
 * Each trace's innermost Python frame is named as its nodes are made
 * (snap_trace.pynode, from the trace before's for the frames it shares),
 * so that a Python stack's site is found without a walk of the native
 * frames under it: an extension's constructors ran 60-100 deep.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "snap.h"

enum { AT_COUNT, AT_HEAD, AT_IP, AT_END };

/* A node the memo remembers, under its (parent, ip index). */
struct kid_memo {
    uint32_t parent, ipx, node, pad;
};
/* The memo's slots at most: 512 KiB, within a core's L2 cache (more made
 * a big snapshot's load slower for few nodes saved: the same row). */
#define KID_MEMO_BITS 15

/* A frame of the trace before: its ip, the ip's index, its node, and the
 * innermost Python frame at its height or below (pynode 0: none; pyh its
 * height), so that a trace's snap_trace.pynode costs a test a new frame. */
struct prev_frame {
    uint64_t ip;
    uint32_t ipx, node;
    uint32_t pynode, pyh;
};

/* The reader's state between chunks. */
struct iptab {
    struct snap *s;
    uint64_t raw;          /* the payload's declared length */
    uint8_t part[8];       /* a field split across chunks */
    int npart;
    int at;                /* AT_*: what the next field is */
    uint32_t n, cur;       /* traces declared, the one being read */
    uint16_t left;         /* its ips still to come */
    uint16_t shared;       /* its outermost frames the trace before's (format 5) */
    uint64_t used;         /* payload bytes taken */
    uint32_t *cur_ipx;     /* the trace being read: its ips' indices */
    size_t ncur, capcur;
    struct prev_frame *prev; /* the trace before, by height from its outermost */
    size_t nprev, capprev;
    uint32_t fresh;        /* the last node made before this trace */
    struct kid_memo *memo; /* by kid_slot of (parent, ip); node 0: empty */
    unsigned memo_bits;
    size_t capnodes;
    uint64_t stray;        /* bytes after the last trace */
    uint32_t *slots;       /* open addressing: index + 1 into s->iptab, 0 free */
    size_t capslots, nips, capips;
    int failed;
    char why[256];
};

static void fail(struct iptab *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct iptab *x, const char *fmt, ...)
{
    va_list ap;
    if (x->failed)
        return;
    x->failed = 1;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof(x->why), fmt, ap);
    va_end(ap);
}

static size_t slot_of(uint64_t ip, size_t cap)
{
    return (size_t)((ip * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static int grow_slots(struct iptab *x)
{
    size_t cap = x->capslots ? x->capslots * 2 : 4096;
    uint32_t *v = big_calloc(cap, sizeof(*v));
    if (!v)
        return -1;
    for (size_t i = 0; i < x->capslots; i++)
        if (x->slots[i]) {
            size_t k = slot_of(x->s->iptab[x->slots[i] - 1], cap);
            while (v[k])
                k = (k + 1) & (cap - 1);
            v[k] = x->slots[i];
        }
    free(x->slots);
    x->slots = v;
    x->capslots = cap;
    return 0;
}

static __attribute__((noinline)) int charge_slow(struct iptab *x, uint64_t bytes)
{
    char why[sizeof x->why];
    if (snap_budget_take(&x->s->budget, bytes, "TRACES", why, sizeof why) == 0)
        return 0;
    fail(x, "%s", why);
    return -1;
}

/* Charges bytes to the file's budget; -1, failed with the reason, when
 * they pass it. */
static inline int charge(struct iptab *x, uint64_t bytes)
{
    if (bytes <= x->s->budget.left) { /* snap_budget_take's yes, without the call */
        x->s->budget.left -= bytes;
        return 0;
    }
    return charge_slow(x, bytes);
}

/* The index of ip in s->iptab, added when new; -1 when out of memory. */
static int64_t intern(struct iptab *x, uint64_t ip)
{
    if ((x->nips + 1) * 2 > x->capslots && grow_slots(x) < 0)
        return -1;
    size_t k = slot_of(ip, x->capslots);
    for (; x->slots[k]; k = (k + 1) & (x->capslots - 1))
        if (x->s->iptab[x->slots[k] - 1] == ip)
            return x->slots[k] - 1;
    /* an ip and its share of the slots (half full at most) */
    if (charge(x, sizeof(*x->s->iptab) + 2 * sizeof(*x->slots)) < 0)
        return -2;
    if (x->nips >= UINT32_MAX - 1 ||
        (x->nips + 1 > x->capips &&
         grow_array((void **)&x->s->iptab, &x->capips, x->nips + 1, sizeof(*x->s->iptab)) < 0))
        return -1;
    x->s->iptab[x->nips] = ip;
    x->slots[k] = (uint32_t)++x->nips;
    return (int64_t)x->nips - 1;
}

/* The count: the traces, and room for every ip the payload can hold. */
static void take_count(struct iptab *x, uint32_t n)
{
    struct snap *s = x->s;
    if ((uint64_t)n * 8 > x->raw - 4) {
        fail(x, "section TRACES: count %u does not fit in %llu bytes", n,
             (unsigned long long)x->raw);
        return;
    }
    if (charge(x, (uint64_t)n * sizeof(*s->traces)) < 0)
        return;
    x->n = n;
    s->traces = big_calloc(n ? n : 1, sizeof(*s->traces));
    if (!s->traces) {
        fail(x, "out of memory");
        return;
    }
    s->ntraces = n;
    s->pynodes = 1; /* take_trace sets each trace's */
    x->at = n ? AT_HEAD : AT_END;
    /* The memo: two slots a trace, up to KID_MEMO_BITS (a small file's
     * load touches no more than it needs) */
    uint64_t ips = (x->raw - 4 - (uint64_t)n * 8) / 8;
    unsigned bits = 6;
    while (bits < KID_MEMO_BITS && (1ull << bits) < 2ull * n)
        bits++;
    if (charge(x, sizeof(*x->memo) << bits) < 0)
        return;
    if (!(x->memo = calloc((size_t)1 << bits, sizeof(*x->memo)))) {
        fail(x, "out of memory");
        return;
    }
    x->memo_bits = bits;
    /* and the nodes' array (a node per stored ip at most, the root unused):
     * no copy as it grows, and its pages touched only as far as it fills */
    if (ips + 2 <= s->budget.left / sizeof(*s->nodes) &&
        (s->nodes = big_malloc((size_t)(ips + 2) * sizeof(*s->nodes))))
        x->capnodes = (size_t)(ips + 2);
}

static void take_trace(struct iptab *x);

static void take_head(struct iptab *x, const uint8_t *p)
{
    struct snap_trace *t = &x->s->traces[x->cur];
    uint16_t shared = 0;
    memcpy(&t->depth, p, 2);
    memcpy(&t->flags, p + 2, 2);
    if (x->s->version >= 5)
        memcpy(&shared, p + 4, 2);
    x->used += 8;
    if (shared > t->depth || shared > x->nprev) {
        fail(x, "section TRACES: trace %u shares %u frames (depth %u, %zu before)", x->cur,
             shared, t->depth, x->nprev);
        return;
    }
    if ((uint64_t)(t->depth - shared) * 8 > x->raw - x->used) {
        fail(x, "section TRACES: trace %u overruns the section", x->cur);
        return;
    }
    x->shared = shared;
    x->left = (uint16_t)(t->depth - shared);
    x->ncur = 0;
    if (x->left) {
        x->at = AT_IP;
        return;
    }
    if (t->depth) /* every frame the trace before's */
        take_trace(x);
    else
        x->nprev = 0;
    x->at = ++x->cur < x->n ? AT_HEAD : AT_END;
}

/* The memo's slot of (parent, ipx) among 2^bits: the product's top bits
 * (Fibonacci hashing), which every bit of the pair reaches.  Its bits
 * from 24 take their low end from the ip alone (the parent moves only
 * bits 32 and up): the few ips of a deep program's frames would pick
 * those and crowd a few slots. */
static size_t kid_slot(uint32_t parent, uint32_t ipx, unsigned bits)
{
    uint64_t h = (((uint64_t)parent << 32) | ipx) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> (64 - bits));
}

/* The node of ip index ipx under parent (0: the root), added when not
 * found; 0 when out of memory or past the budget (x failed then).  A
 * trace's innermost frame is remembered too: a Python line's word is one
 * trace's innermost and another's caller (the line allocates, then calls
 * a function that does). */
static uint32_t child(struct iptab *x, uint32_t parent, uint32_t ipx)
{
    struct snap *s = x->s;
    /* The node made right after parent, when it is this one (a node is
     * one (parent, ip) for good): the nodes a trace makes have
     * consecutive ids, so a later trace down the same frames finds each
     * next one beside the last (the same cache line, most often). */
    if (parent < s->nnodes && s->nodes[parent + 1].parent == parent &&
        s->nodes[parent + 1].ipx == ipx)
        return parent + 1;
    /* Made in this trace, parent has no other child: the new node is its
     * next, and goes in no memo. */
    struct kid_memo *m = NULL;
    if (parent <= x->fresh) {
        m = &x->memo[kid_slot(parent, ipx, x->memo_bits)];
        if (m->node && m->parent == parent && m->ipx == ipx)
            return m->node;
    }
    if (charge(x, sizeof(*s->nodes)) < 0)
        return 0;
    if (s->nnodes >= UINT32_MAX - 1 ||
        ((size_t)s->nnodes + 2 > x->capnodes &&
         grow_array((void **)&s->nodes, &x->capnodes, (size_t)s->nnodes + 2,
                    sizeof(*s->nodes)) < 0))
        return 0;
    s->nodes[++s->nnodes] = (struct snap_node){parent, ipx};
    if (m)
        *m = (struct kid_memo){parent, ipx, s->nnodes, 0};
    return s->nnodes;
}

/* The trace just read, from its outermost ip in: the nodes it shares with
 * the trace before (its shared frames, then the same ips from the
 * outermost) are that one's.  cur_ipx holds the others, innermost first. */
static void take_trace(struct iptab *x)
{
    size_t h = x->shared, n = (size_t)x->s->traces[x->cur].depth;
    uint32_t node = h ? x->prev[h - 1].node : 0;
    x->fresh = x->s->nnodes;
    if (n + 1 > x->capprev &&
        grow_array((void **)&x->prev, &x->capprev, n + 1, sizeof(*x->prev)) < 0) {
        fail(x, "out of memory");
        return;
    }
    for (; h < n && h < x->nprev && x->prev[h].ipx == x->cur_ipx[n - 1 - h]; h++)
        node = x->prev[h].node;
    uint32_t pynode = h ? x->prev[h - 1].pynode : 0, pyh = h ? x->prev[h - 1].pyh : 0;
    for (; h < n; h++) {
        if (!(node = child(x, node, x->cur_ipx[n - 1 - h]))) {
            fail(x, "out of memory");
            return;
        }
        x->prev[h].ipx = x->cur_ipx[n - 1 - h];
        x->prev[h].ip = x->s->iptab[x->prev[h].ipx];
        x->prev[h].node = node;
        if (HSNAP_IS_PYFRAME(x->prev[h].ip))
            pynode = node, pyh = (uint32_t)h;
        x->prev[h].pynode = pynode;
        x->prev[h].pyh = pyh;
    }
    x->nprev = n;
    struct snap_trace *t = &x->s->traces[x->cur];
    t->node = node;
    t->pynode = pynode;
    t->pyat = pynode ? (uint16_t)(n - 1 - pyh) : 0;
}

/* m ips of the current trace (at most those left), whole in p. */
static void take_ips(struct iptab *x, const uint8_t *p, size_t m)
{
    if (x->ncur + m > x->capcur &&
        grow_array((void **)&x->cur_ipx, &x->capcur, x->ncur + m, sizeof(*x->cur_ipx)) < 0) {
        fail(x, "out of memory");
        return;
    }
    size_t top = (size_t)x->s->traces[x->cur].depth - 1;
    for (size_t i = 0; i < m; i++, p += 8) {
        uint64_t ip;
        memcpy(&ip, p, 8);
        x->used += 8;
        /* its height from the outermost; the trace before's ip there, or new */
        size_t h = top - x->ncur;
        int64_t k = h < x->nprev && x->prev[h].ip == ip ? (int64_t)x->prev[h].ipx : intern(x, ip);
        if (k == -2)
            return;
        if (k < 0) {
            fail(x, "out of memory");
            return;
        }
        x->cur_ipx[x->ncur++] = (uint32_t)k;
        x->left--;
    }
    if (x->left)
        return;
    take_trace(x);
    x->at = ++x->cur < x->n ? AT_HEAD : AT_END;
}

/* The sink of snap_section_stream: the payload's bytes, in order. */
static void feed(void *ctx, const uint8_t *p, size_t len)
{
    struct iptab *x = ctx;
    while (len && !x->failed) {
        if (x->at == AT_END) {
            x->stray += len;
            return;
        }
        if (x->at == AT_IP && !x->npart && len >= 8) { /* the ips whole in this chunk */
            size_t m = len / 8 < x->left ? len / 8 : x->left;
            take_ips(x, p, m);
            p += 8 * m;
            len -= 8 * m;
            continue;
        }
        size_t need = x->at == AT_COUNT ? 4 : 8, take = need - (size_t)x->npart;
        const uint8_t *field = p;
        if (x->npart || len < need) { /* gather the field across chunks */
            take = take < len ? take : len;
            memcpy(x->part + x->npart, p, take);
            x->npart += (int)take;
            p += take;
            len -= take;
            if ((size_t)x->npart < need)
                return;
            field = x->part;
            x->npart = 0;
        } else {
            p += need;
            len -= need;
        }
        if (x->at == AT_COUNT) {
            uint32_t n;
            memcpy(&n, field, 4);
            take_count(x, n);
        } else if (x->at == AT_HEAD) {
            take_head(x, field);
        } else {
            take_ips(x, field, 1);
        }
    }
}

int snap_traces_stream(const uint8_t *data, uint64_t len, struct snap *s, uint64_t *outlen,
                       char *err, size_t errlen)
{
    struct hsnap_zhead zh = {0};
    memcpy(&zh, data, len < sizeof zh ? (size_t)len : sizeof zh);
    struct iptab x = {.s = s, .raw = zh.raw_len};
    if (x.raw < 4)
        fail(&x, "section TRACES: no count");
    int rc = snap_section_stream(data, len, "TRACES", &s->budget, feed, &x, outlen, err, errlen);
    free(x.slots);
    free(x.memo);
    free(x.cur_ipx);
    free(x.prev);
    if (rc < 0)
        return -1;
    if (!x.failed && x.at == AT_COUNT)
        fail(&x, "section TRACES: no count");
    if (!x.failed && x.at != AT_END)
        fail(&x, "section TRACES: trace %u overruns the section", x.cur);
    if (!x.failed && x.stray)
        fail(&x, "section TRACES: %llu stray bytes at the end", (unsigned long long)x.stray);
    if (x.failed && !(s->traces_err = strdup(x.why))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}
