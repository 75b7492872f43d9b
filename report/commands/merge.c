/*
 * merge.c - `heapsnap merge SNAP... -o ALL.hsnap`: the snapshots of many
 * processes (a test suite, a fork tree) combined into one file that every
 * command reads like any other snapshot (docs/design.md, "Merged
 * snapshots", says how each section combines).
 *
 * One module per distinct (path, build-id), at a synthetic non-overlapping
 * range from MERGE_BASE up; every ip relocated, ip' = ip - bias + bias',
 * which keeps the file address the symbolizer looks up; traces re-interned
 * by their relocated ips and their STATS summed.  An ip outside every
 * module (JIT code) is kept as is.  BLOCKS, LEAKS and RETAINERS are kept
 * only when every input has them (block addresses tagged with the input's
 * index in bits 48..63, so a merged file with blocks is not merged again).
 * THREADS only under --threads: each input's threads apart, a trace per
 * (stack, thread) as the shim keeps them, which costs a copy of a stack per
 * process that ran it.  HOLDERS is dropped: its root words and ranges are
 * addresses in each process's own space, found by address (blockwhy), so
 * the inputs' would collide.  TIMELINE and SITELINE are dropped; PYCODE is
 * deduplicated; PYTYPES is kept with the blocks (pytypes_merge).  This file
 * owns the driver, the modules, the traces and the Python code objects;
 * the sections carried item by item through a trace map are the load
 * room's (merge_blocks, merge_leaks, merge_threads, merge_sites_add).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "cli.h"
#include "commands.h"
#include "mergesect.h"
#include "snapsave.h"

#define MERGE_BASE 0x100000000000ull /* 16 TiB: above typical PIE/heap, below libs */
#define MERGE_ALIGN (2ull << 20)
#define MERGE_MAX_INPUTS 65535

static void merge_usage(void)
{
    printf("usage: heapsnap merge SNAP... -o OUT.hsnap\n"
           "Combines the snapshots of many processes into one: live bytes and counts\n"
           "are summed per call stack (after symbolization, whatever each process's\n"
           "load addresses were).  Blocks and leak data are kept when every input has\n"
           "them; who holds each block (leaks --why's chains) is not.  The output loads\n"
           "with every command.\n"
           "  -o, --output FILE  the merged snapshot, written atomically; \"-\": stdout\n"
           "                     (not a terminal); a device or FIFO is written in place\n"
           "  -t, --threads      keep each process's threads apart (top --key thread,\n"
           "                     --thread): a trace per stack and thread, so the file holds\n"
           "                     a stack once per process that ran it; every input must\n"
           "                     name its threads.  Without it the threads are dropped.\n");
}

/* --- modules ----------------------------------------------------------- */

static int same_module(const struct snap_module *a, const struct snap_module *b)
{
    return strcmp(a->path, b->path) == 0 && a->build_id_len == b->build_id_len &&
           memcmp(a->build_id, b->build_id, a->build_id_len) == 0;
}

/* The merged index of module m, adding it (at a fresh range) if new. */
static int merge_module(struct merge *mg, const struct snap_module *m)
{
    for (uint32_t i = 0; i < mg->out.nmodules; i++)
        if (same_module(&mg->mods[i], m)) {
            uint64_t hi = m->hi - m->bias + mg->mods[i].bias;
            if (hi > mg->mods[i].hi)
                mg->mods[i].hi = hi; /* same file; keep the widest extent */
            return (int)i;
        }
    if (grow_array((void **)&mg->mods, &mg->capmods, (size_t)mg->out.nmodules + 1,
                   sizeof(*mg->mods)) < 0)
        return -1;
    struct snap_module *n = &mg->mods[mg->out.nmodules];
    uint64_t page_off = m->lo & (MERGE_ALIGN - 1);
    n->lo = mg->cursor + page_off;
    n->hi = n->lo + (m->hi - m->lo);
    n->bias = m->bias + (n->lo - m->lo);
    n->build_id_len = m->build_id_len;
    n->flags = m->flags;
    n->path = strdup(m->path);
    n->build_id = malloc(m->build_id_len ? m->build_id_len : 1);
    if (!n->path || !n->build_id)
        return -1;
    memcpy(n->build_id, m->build_id, m->build_id_len);
    mg->cursor += ((n->hi - mg->cursor + MERGE_ALIGN - 1) & ~(MERGE_ALIGN - 1)) + MERGE_ALIGN;
    return (int)mg->out.nmodules++;
}

/* delta[j]: what to add to an ip of s's module j. */
static int merge_modules(struct merge *mg, const struct snap *s, uint64_t *delta)
{
    for (uint32_t j = 0; j < s->nmodules; j++) {
        int m = merge_module(mg, &s->modules[j]);
        if (m < 0)
            return -1;
        delta[j] = mg->mods[m].bias - s->modules[j].bias;
    }
    return 0;
}

/* --- traces ------------------------------------------------------------ */

/* Room for one more trace in tv, stats and tt, grown side by side; the
 * stats gained start at zero (stat_add sums into them). */
static int trace_grow(struct merge *mg)
{
    size_t need = (size_t)mg->out.ntraces + 1, old = mg->capstats;
    if (grow_array((void **)&mg->tv, &mg->captv, need, sizeof(*mg->tv)) < 0 ||
        grow_array((void **)&mg->stats, &mg->capstats, need, sizeof(*mg->stats)) < 0 ||
        grow_array((void **)&mg->tt, &mg->captt, need, sizeof(*mg->tt)) < 0)
        return -1;
    memset(mg->stats + old, 0, (mg->capstats - old) * sizeof(*mg->stats));
    return 0;
}

/* Interns the relocated trace in key (u16 depth, u16 flags, u16 merged
 * thread place or HSNAP_THREAD_NONE, u16 0, the ips: a stack of two
 * threads stays two traces, as the shim keeps them); returns its merged id
 * or -1. */
static long trace_intern(struct merge *mg, uint8_t *key, size_t keylen)
{
    struct mtrace *t;
    HASH_FIND(hh, mg->traces, key, keylen, t);
    if (t) {
        free(key);
        return t->id;
    }
    if (trace_grow(mg) < 0)
        return -1;
    if (!(t = calloc(1, sizeof(*t))))
        return -1;
    t->key = key;
    t->keylen = keylen;
    t->id = mg->out.ntraces++;
    struct snap_trace *tv = &mg->tv[t->id];
    memcpy(&tv->depth, key, 2);
    memcpy(&tv->flags, key + 2, 2);
    memcpy(&mg->tt[t->id], key + 4, 2);
    tv->ips = (const uint64_t *)(key + 8);
    HASH_ADD_KEYPTR(hh, mg->traces, t->key, t->keylen, t);
    return t->id;
}

/* Input code c as a merged code id, or -1 (out of memory).  The output
 * holds location tables (3.11 on): a 3.10 table is rewritten as one. */
static long merge_code(struct merge *mg, const struct snap *s, const struct snap_pycode *c)
{
    size_t fl = strlen(c->file) + 1, ql = strlen(c->qualname) + 1;
    const uint8_t *lt = c->linetable;
    uint32_t lt_len = c->lt_len;
    uint8_t *conv = NULL;
    if (s->py_version < 0x030b0000u && lt_len) {
        if (!(conv = pycode_to_location(lt, lt_len, c->firstline, &lt_len)))
            return -1;
        lt = conv;
    }
    size_t keylen = fl + ql + 4 + lt_len;
    uint8_t *key = malloc(keylen);
    struct mcode *m;
    if (!key) {
        free(conv);
        return -1;
    }
    memcpy(key, c->file, fl);
    memcpy(key + fl, c->qualname, ql);
    memcpy(key + fl + ql, &c->firstline, 4);
    if (lt_len)
        memcpy(key + fl + ql + 4, lt, lt_len);
    free(conv);
    HASH_FIND(hh, mg->codes, key, keylen, m);
    if (m) {
        free(key);
        return m->id;
    }
    if (grow_array((void **)&mg->out.pycodes, &mg->capcodes, (size_t)mg->out.npycodes + 1,
                   sizeof(*mg->out.pycodes)) < 0 || !(m = calloc(1, sizeof(*m)))) {
        free(key);
        return -1;
    }
    struct snap_pycode *o = &mg->out.pycodes[mg->out.npycodes];
    *o = *c; /* file, qualname and line table point into the key */
    o->file = (char *)key;
    o->qualname = (char *)key + fl;
    o->linetable = key + fl + ql + 4;
    o->lt_len = lt_len;
    m->key = key;
    m->keylen = keylen;
    m->id = mg->out.npycodes++;
    uint32_t v = s->py_version < 0x030b0000u ? 0x030b0000u : s->py_version;
    if (v > mg->out.py_version)
        mg->out.py_version = v;
    HASH_ADD_KEYPTR(hh, mg->codes, m->key, m->keylen, m);
    return m->id;
}

/* merge_code for code index c of s, asked once an input (cmap[c]: its
 * merged id + 1, 0 until asked): each Python frame of every trace names
 * a code, and merge_code's key is the code's whole line table. */
static long merge_code_of(struct merge *mg, const struct snap *s, uint64_t c, long *cmap)
{
    if (!cmap[c])
        cmap[c] = merge_code(mg, s, &s->pycodes[c]) + 1;
    return cmap[c] - 1;
}

static long merge_trace(struct merge *mg, const struct snap *s, const struct snap_trace *t,
                        const uint64_t *delta, uint16_t thread, long *cmap)
{
    size_t keylen = 8 + (size_t)t->depth * 8;
    uint8_t *key = calloc(1, keylen);
    if (!key)
        return -1;
    memcpy(key, &t->depth, 2);
    memcpy(key + 2, &t->flags, 2);
    memcpy(key + 4, &thread, 2);
    snap_trace_ips(s, t, (uint64_t *)(key + 8)); /* calloc'd: aligned */
    for (int i = 0; i < t->depth; i++) {
        uint64_t ip;
        memcpy(&ip, key + 8 + (size_t)i * 8, 8);
        const struct snap_module *m =
            HSNAP_IS_PYFRAME(ip) ? NULL : snap_module_in(s, (uint32_t)(t - s->traces), ip);
        if (m)
            ip += delta[m - s->modules];
        uint64_t code = (ip & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT;
        if (HSNAP_IS_PYFRAME(ip) && code < s->npycodes) {
            long id = merge_code_of(mg, s, code, cmap);
            if (id < 0) {
                free(key);
                return -1;
            }
            ip = HSNAP_PY_TAG | (uint64_t)id << HSNAP_PY_CODE_SHIFT | (ip & HSNAP_PY_OFF_MASK);
        }
        memcpy(key + 8 + (size_t)i * 8, &ip, 8);
    }
    return trace_intern(mg, key, keylen);
}

static void stat_add(struct hsnap_stat *a, const struct hsnap_stat *b)
{
    a->live_count += b->live_count;
    a->live_bytes += b->live_bytes;
    a->total_count += b->total_count;
    a->total_bytes += b->total_bytes;
}

/* --- meta and driver ----------------------------------------------------- */

static void merge_meta(struct hsnap_meta *o, const struct hsnap_meta *m, int first)
{
    if (first) {
        *o = *m;
        o->pid = o->ppid = 0;
        o->seq = 0;
        return;
    }
    if (m->start_ns < o->start_ns) o->start_ns = m->start_ns;
    if (m->time_ns > o->time_ns) o->time_ns = m->time_ns;
    if (m->depth > o->depth) o->depth = m->depth;
    if (m->epoch > o->epoch) o->epoch = m->epoch;
    o->current_bytes += m->current_bytes;
    o->peak_bytes += m->peak_bytes; /* an upper bound: peaks need not coincide */
    o->live_blocks += m->live_blocks;
    o->total_allocs += m->total_allocs;
    o->total_frees += m->total_frees;
    o->foreign_frees += m->foreign_frees;
    o->shim_bytes += m->shim_bytes;
    o->file_maps += m->file_maps;
    o->flags |= m->flags & HSNAP_META_DEGRADED;
    o->flags &= m->flags | ~(HSNAP_META_HAS_BLOCKS | HSNAP_META_HAS_LEAKS);
}

static int merge_one(struct merge *mg, const struct snap *s, int input)
{
    uint64_t *delta = calloc(s->nmodules + 1, sizeof(*delta));
    uint32_t *tmap = big_calloc(s->ntraces + 1, sizeof(*tmap));
    uint16_t *ttmap = big_malloc((s->ntraces + 1) * sizeof(*ttmap));
    long *cmap = calloc(s->npycodes + 1, sizeof(*cmap));
    int rc = !delta || !tmap || !ttmap || !cmap || merge_modules(mg, s, delta) < 0 ? -1 : 0;
    for (uint32_t t = 0; ttmap && t < s->ntraces; t++)
        ttmap[t] = HSNAP_THREAD_NONE;
    if (rc == 0 && mg->out.has_threads)
        rc = merge_threads(mg, s, ttmap);
    for (uint32_t t = 0; rc == 0 && t < s->ntraces; t++) {
        long id = merge_trace(mg, s, &s->traces[t], delta, ttmap[t], cmap);
        if (id < 0)
            rc = -1;
        else {
            tmap[t] = (uint32_t)id;
            stat_add(&mg->stats[id], &s->stats[t]);
        }
    }
    if (rc == 0 && mg->out.has_blocks)
        rc = merge_blocks(mg, s, (uint64_t)input, tmap);
    if (rc == 0 && mg->out.has_retainers)
        rc = merge_rets(mg, s, tmap);
    if (rc == 0 && s->nfailed)
        rc = merge_sites_add(&mg->fails, s->failed, s->nfailed, sizeof(*s->failed), tmap);
    if (rc == 0 && s->ngcfreed)
        rc = merge_sites_add(&mg->gcf, s->gcfreed, s->ngcfreed, sizeof(*s->gcfreed), tmap);
    free(delta);
    free(tmap);
    free(ttmap);
    free(cmap);
    return rc;
}

static void merge_free(struct merge *mg)
{
    struct mtrace *t, *tmp;
    HASH_ITER(hh, mg->traces, t, tmp) {
        HASH_DEL(mg->traces, t);
        free(t->key);
        free(t);
    }
    struct mcode *c, *ctmp;
    HASH_ITER(hh, mg->codes, c, ctmp) {
        HASH_DEL(mg->codes, c);
        free(c->key);
        free(c);
    }
    free(mg->out.pycodes);
    for (uint32_t i = 0; i < mg->out.nmodules; i++) {
        free(mg->mods[i].path);
        free(mg->mods[i].build_id);
    }
    free(mg->mods);
    free(mg->tv);
    free(mg->stats);
    free(mg->blocks);
    free(mg->leaks);
    free(mg->rets);
    free(mg->fails.items);
    free(mg->gcf.items);
    free(mg->thr);
    free(mg->tt);
    free(mg->out.cmdline);
    free(mg->out.supp_text);
    pytypes_free(&mg->out);
}

/* The programs' own suppressions (SUPPRESSIONS), each distinct text once,
 * one after the other: the merged leak check is judged under all of them.
 * 0, or -1 out of memory. */
static int merge_supps(struct merge *mg, const struct snap *in, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const char *t = in[i].supp_text;
        int seen = 0;
        for (int k = 0; t && k < i && !seen; k++)
            seen = in[k].supp_text && !strcmp(in[k].supp_text, t);
        if (!t || seen)
            continue;
        size_t tl = strlen(t);
        char *p = realloc(mg->out.supp_text, len + tl + 2);
        if (!p)
            return -1;
        memcpy(p + len, t, tl);
        len += tl;
        if (tl && t[tl - 1] != '\n')
            p[len++] = '\n';
        p[len] = 0;
        mg->out.supp_text = p;
    }
    return 0;
}

/* --threads: every input names its threads, and all of them fit one
 * snapshot's u16 indexes; 0, or 2 with err. */
static int merge_threads_check(const struct snap *in, char **paths, int n, char *err,
                               size_t errlen)
{
    uint64_t total = 1;
    for (int i = 0; i < n; i++) {
        if (!in[i].has_threads) {
            snprintf(err, errlen, "merge: --threads: %s names no threads (written before "
                     "heapsnap kept them)", paths[i]);
            return 2;
        }
        total += in[i].nthreads;
    }
    if (total >= HSNAP_THREAD_NONE) {
        snprintf(err, errlen, "merge: --threads: %llu threads, more than one snapshot can name "
                 "(%u)", (unsigned long long)total - 1, HSNAP_THREAD_NONE - 1);
        return 2;
    }
    return 0;
}

static int merge_snaps(const struct snap *in, int n, const char *out, int threads, char *err,
                       size_t errlen)
{
    struct merge mg;
    char cmd[64];
    int rc = 0;
    memset(&mg, 0, sizeof(mg));
    mg.cursor = MERGE_BASE;
    for (int i = 0; i < n; i++)
        merge_meta(&mg.out.meta, &in[i].meta, i == 0);
    mg.out.has_blocks = (mg.out.meta.flags & HSNAP_META_HAS_BLOCKS) != 0;
    for (int i = 0; i < n && mg.out.has_blocks; i++)
        mg.out.has_blocks = in[i].has_blocks;
    if (!mg.out.has_blocks)
        mg.out.meta.flags &= ~(HSNAP_META_HAS_BLOCKS | HSNAP_META_HAS_LEAKS);
    int with_leaks = (mg.out.meta.flags & HSNAP_META_HAS_LEAKS) != 0;
    mg.out.has_retainers = with_leaks;
    for (int i = 0; i < n && mg.out.has_retainers; i++)
        mg.out.has_retainers = in[i].has_retainers;
    if (threads)
        rc = merge_threads_plan(&mg, in, n);
    for (int i = 0; i < n && rc == 0; i++)
        rc = merge_one(&mg, &in[i], i);
    if (rc == 0 && with_leaks && (rc = merge_leaks(&mg, in, n)) > 0) {
        mg.out.meta.flags &= ~HSNAP_META_HAS_LEAKS;
        mg.out.has_retainers = 0;
        rc = 0;
    }
    if (rc == 0 && mg.out.has_retainers)
        merge_retainers(&mg);
    mg.out.blocks = mg.blocks;
    if (rc == 0)
        rc = pytypes_merge(&mg.out, in, n);
    if (rc == 0)
        merge_failed(&mg);
    if (rc == 0)
        merge_gcfreed(&mg, in, n);
    if (rc == 0 && (mg.out.meta.flags & HSNAP_META_HAS_LEAKS))
        rc = merge_supps(&mg, in, n);
    snprintf(cmd, sizeof(cmd), "heapsnap merge (%d snapshots)", n);
    mg.out.cmdline = strdup(cmd);
    mg.out.exe = in[0].exe;
    mg.out.modules = mg.mods;
    mg.out.traces = mg.tv;
    mg.out.stats = mg.stats;
    mg.out.blocks = mg.blocks;
    mg.out.threads = mg.thr;
    mg.out.nthreads = mg.nthr;
    mg.out.trace_thread = mg.tt;
    if (rc < 0 || !mg.out.cmdline) {
        snprintf(err, errlen, "merge: out of memory");
        rc = -1;
    } else {
        rc = snap_save(out, &mg.out, err, errlen);
    }
    merge_free(&mg);
    return rc;
}

int cmd_merge(int argc, char **argv, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"threads", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *out = NULL;
    int c, n, rc = 0, threads = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:th", longopts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 't')
            threads = 1;
        else if (c == 'h') {
            merge_usage();
            return 0;
        } else
            return cli_bad_option("merge", c, argv, longopts, err, errlen);
    }
    n = argc - optind;
    if (!out || n < 1 || n > MERGE_MAX_INPUTS) {
        snprintf(err, errlen, "merge: want SNAP... -o OUT (1 to %d snapshots)", MERGE_MAX_INPUTS);
        return 2;
    }
    if (!strcmp(out, "-") && isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "merge: a snapshot is binary: not writing it to a terminal "
                 "(use -o FILE or a redirection)");
        return 2;
    }
    struct snap *in = calloc((size_t)n, sizeof(*in));
    if (!in) {
        snprintf(err, errlen, "merge: out of memory");
        return 2;
    }
    for (int i = 0; i < n && rc == 0; i++)
        if (snap_load(argv[optind + i], &in[i], err, errlen) < 0)
            rc = 2;
        else if (n > 1 && merged_blocks(&in[i])) {
            snprintf(err, errlen, "%s: a merged snapshot with blocks cannot be merged again "
                     "(merge the original snapshots)", argv[optind + i]);
            rc = 2;
        }
    if (rc == 0 && threads)
        rc = merge_threads_check(in, argv + optind, n, err, errlen);
    if (rc == 0 && merge_snaps(in, n, out, threads, err, errlen) < 0)
        rc = 2;
    for (int i = 0; i < n; i++)
        snap_free(&in[i]);
    free(in);
    return rc;
}
