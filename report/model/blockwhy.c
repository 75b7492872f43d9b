/*
 * blockwhy.c - "who holds this block", one native block at a time, from
 * HOLDERS: leaks --why SITE's native part below the per-site retainers.
 * Each block of the site says what its class rests on:
 *
 *   reachable 100 B at 0x5600...: from g_items in libitems.so
 *   reachable 32 B at 0x5600...: from 0x5600... (lib.c:5), 1 block below g_items in libitems.so
 *   reachable 64 B at 0x7f00...: from the stack of thread 4242 (worker)
 *   possibly lost 64 B at 0x5600...: +24 into it, from g_ring in app
 *   direct leak 16 B at 0x5600...: nothing points to it
 *   leaked cycle 16 B at 0x5600...: one of 3 blocks: 0x... (a.c:3), 0x... (a.c:3), ...
 *   indirect leak 16 B at 0x5600...: under the direct leak 0x5600... (a.c:9)
 *
 * A root is named as a developer names it: a global by its symbol and
 * module (.symtab, or .dynsym when stripped: sym_data), a thread's stack,
 * registers or TLS by tid and comm, a thread-local variable by name (the
 * module's static TLS block placed below the thread pointer).  The walk
 * up from a block follows each block's own holder (the marking's path),
 * so it always ends at a root, bounded by the block count.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "blockwhy.h"
#include "frames.h"
#include "json.h"
#include "lset.h"
#include "sym.h"

#define BWHY_SHOWN 8     /* blocks shown per class and site */
#define BWHY_MEMBERS 8   /* a cycle's members named */

static const char *bwhy_base(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* Whether a trace's site answers to want (retainers_print's rule). */
static int bwhy_site_is(const struct frames_trace *t, const char *want)
{
    char buf[4200];
    const struct frame *f = t->fr[t->site];
    if (!strcmp(t->site_name, want) || !strcmp(f->func, want))
        return 1;
    snprintf(buf, sizeof(buf), "%s:%d", bwhy_base(f->file), f->line);
    return !strcmp(buf, want);
}

static const char *bwhy_site(const struct snap *s, uint64_t b)
{
    const struct frames_trace *t = frames_get(s, s->blocks[b].trace);
    return t ? t->site_name : "?";
}

/* The loaded module holding addr (else the latest unloaded), or -1. */
static int bwhy_module(const struct snap *s, uint64_t addr)
{
    int k = -1;
    for (uint32_t i = 0; i < s->nmodules; i++)
        if (addr >= s->modules[i].lo && addr < s->modules[i].hi) {
            k = (int)i;
            if (!(s->modules[i].flags & HSNAP_MODULE_UNLOADED))
                break;
        }
    return k;
}

static const struct snap_module *bwhy_module_at_bias(const struct snap *s, uint64_t bias)
{
    for (uint32_t i = 0; i < s->nmodules; i++)
        if (s->modules[i].bias == bias && !(s->modules[i].flags & HSNAP_MODULE_UNLOADED))
            return &s->modules[i];
    return NULL;
}

/* "thread 4242 (worker)" into buf. */
static void bwhy_thread(const struct hsnap_hold_range *r, char *buf, size_t n)
{
    char name[17];
    memcpy(name, r->name, 16);
    name[16] = 0;
    if (!r->tid)
        snprintf(buf, n, "a thread");
    else if (name[0])
        snprintf(buf, n, "thread %u (%s)", r->tid, name);
    else
        snprintf(buf, n, "thread %u", r->tid);
}

/* A thread-local variable at addr of the thread whose range r is. */
static int bwhy_tls_var(const struct snap *s, const struct hsnap_hold_range *r, uint64_t addr,
                        char *buf, size_t n)
{
    for (uint32_t i = 0; r->tp && i < s->nhold_tls; i++) {
        const struct hsnap_hold_tls *t = &s->hold_tls[i];
        uint64_t blk = r->tp - t->off, delta;
        if (t->off > r->tp || addr < blk || addr - blk >= t->size)
            continue;
        const struct snap_module *m = bwhy_module_at_bias(s, t->bias);
        int mod = m ? sym_module(m) : -1;
        const char *name = mod >= 0 ? sym_data(mod, addr - blk, 1, &delta) : NULL;
        if (!name)
            return 0;
        char th[64], plus[32] = "";
        bwhy_thread(r, th, sizeof th);
        if (delta)
            snprintf(plus, sizeof plus, "+%" PRIu64, delta);
        snprintf(buf, n, "%s%s (thread-local) in %s, of %s", name, plus, sym_module_base(mod), th);
        return 1;
    }
    return 0;
}

/* A global at addr: "g_items in libitems.so", else the module's data. */
static void bwhy_global(const struct snap *s, uint64_t addr, char *buf, size_t n)
{
    int k = bwhy_module(s, addr), mod = k >= 0 ? sym_module(&s->modules[k]) : -1;
    uint64_t delta;
    const char *name = mod >= 0 ? sym_data(mod, addr - s->modules[k].bias, 0, &delta) : NULL;
    if (name && delta)
        snprintf(buf, n, "%s+%" PRIu64 " in %s", name, delta, sym_module_base(mod));
    else if (name)
        snprintf(buf, n, "%s in %s", name, sym_module_base(mod));
    else if (mod >= 0)
        snprintf(buf, n, "the data of %s (+%#" PRIx64 ")", sym_module_base(mod),
                 addr - s->modules[k].bias);
    else
        snprintf(buf, n, "module data at %#" PRIx64, addr);
}

/* The root word at addr, named. */
static void bwhy_root(const struct snap *s, uint64_t addr, char *buf, size_t n)
{
    const struct hsnap_hold_range *r = NULL;
    char th[64];
    for (uint32_t i = 0; i < s->nhold_ranges && !r; i++)
        if (addr >= s->hold_ranges[i].lo && addr < s->hold_ranges[i].hi)
            r = &s->hold_ranges[i];
    if (!r) {
        snprintf(buf, n, "a root at %#" PRIx64, addr);
        return;
    }
    bwhy_thread(r, th, sizeof th);
    switch (r->kind) {
    case HSNAP_RET_DATA:
        bwhy_global(s, addr, buf, n);
        break;
    case HSNAP_RET_STACK:
        if (r->tid)
            snprintf(buf, n, "the stack of %s", th);
        else
            snprintf(buf, n, "an ended thread's return value");
        break;
    case HSNAP_RET_REGS:
        snprintf(buf, n, "a register of %s", th);
        break;
    case HSNAP_RET_TLS:
        if (!bwhy_tls_var(s, r, addr, buf, n))
            snprintf(buf, n, "thread-local storage of %s", th);
        break;
    case HSNAP_RET_USER: /* a Python process's pymalloc arenas are such ranges too */
        snprintf(buf, n, s->py_version ? "a pymalloc arena's word outside its live objects, "
                                         "or a range given to heapsnap_register_root()"
                                       : "a range given to heapsnap_register_root()");
        break;
    default:
        snprintf(buf, n, "memory the program mapped (%#" PRIx64 ")", addr);
    }
}

/* The root word's address of a root-held item. */
static uint64_t bwhy_at(const struct snap *s, const struct hsnap_hold *h)
{
    return s->hold_at[h->aux];
}

/* How far into block b its holder's word points (0: its start). */
static uint32_t bwhy_off(const struct snap *s, uint64_t b)
{
    uint32_t l = 0, r = s->nhold_in;
    while (l < r) {
        uint32_t m = l + (r - l) / 2;
        if (s->hold_in[m].block < b)
            l = m + 1;
        else
            r = m;
    }
    return l < s->nhold_in && s->hold_in[l].block == b ? s->hold_in[l].off : 0;
}

/* The root at the top of b's holders: its name into buf, the blocks
 * between into *depth. */
static void bwhy_top(const struct snap *s, uint64_t b, char *buf, size_t n, uint64_t *depth)
{
    *depth = 0;
    while (s->hold[b].from < s->nblocks && *depth <= s->nblocks) {
        b = s->hold[b].from;
        ++*depth;
    }
    if (s->hold[b].from == HSNAP_HOLD_ROOT)
        bwhy_root(s, bwhy_at(s, &s->hold[b]), buf, n);
    else
        snprintf(buf, n, "a block held on purpose (ignored or the runtime's)");
}

/* "from g_items in libX.so" or "from 0x... (site), N blocks below ROOT". */
static void bwhy_from(const struct snap *s, uint64_t b, FILE *out)
{
    const struct hsnap_hold *h = &s->hold[b];
    char root[512];
    uint64_t depth;
    uint32_t off = bwhy_off(s, b);
    if (off)
        fprintf(out, "+%u into it, ", off);
    if (h->from == HSNAP_HOLD_ROOT) {
        bwhy_root(s, bwhy_at(s, h), root, sizeof root);
        fprintf(out, "from %s\n", root);
        return;
    }
    bwhy_top(s, h->from, root, sizeof root, &depth);
    fprintf(out, "from %#" PRIx64 " (%s), %" PRIu64 " block%s below %s\n",
            s->blocks[h->from].addr, bwhy_site(s, h->from), depth + 1, depth ? "s" : "", root);
}

/* The cycle record whose root is root into *r; 0 when none. */
static int bwhy_record(const struct snap *s, uint64_t root, struct hsnap_leak_record *r)
{
    for (uint32_t i = 0; i < s->lk.head.nrecords; i++) {
        memcpy(r, &s->lk.records[i], sizeof *r);
        if (r->root == root && r->cls == HSNAP_CLASS_CYCLE)
            return 1;
    }
    return 0;
}

static void bwhy_cycle(const struct snap *s, uint64_t b, FILE *out)
{
    uint64_t root = s->hold[b].from < s->nblocks ? s->hold[b].from : b;
    struct hsnap_leak_record rec, *r = &rec;
    int found = bwhy_record(s, root, r);
    if (!found && root != b) { /* a cycle another leak points into */
        fprintf(out, "in a cycle under the %s %#" PRIx64 " (%s)\n",
                s->blocks[root].cls == HSNAP_CLASS_CYCLE ? "leaked cycle at" : "direct leak",
                s->blocks[root].addr, bwhy_site(s, root));
        return;
    }
    if (!found) {
        fprintf(out, "one of a leaked cycle\n");
        return;
    }
    fprintf(out, "one of %u blocks:", r->nmembers);
    for (uint32_t i = 0; i < r->nmembers && i < BWHY_MEMBERS; i++) {
        uint32_t m = lset_member(s, r->members_off + i);
        fprintf(out, "%s %#" PRIx64 " (%s)", i ? "," : "", s->blocks[m].addr, bwhy_site(s, m));
    }
    fprintf(out, "%s\n", r->nmembers > BWHY_MEMBERS ? ", ..." : "");
}

static const char *const bwhy_class_names[] = {
    [HSNAP_CLASS_REACHABLE] = "reachable", [HSNAP_CLASS_POSSIBLE] = "possibly lost",
    [HSNAP_CLASS_DIRECT] = "direct leak",  [HSNAP_CLASS_INDIRECT] = "indirect leak",
    [HSNAP_CLASS_CYCLE] = "leaked cycle",
};

/* What block b's class rests on, one line. */
static void bwhy_reason(const struct snap *s, uint64_t b, FILE *out)
{
    const struct hsnap_block *k = &s->blocks[b];
    const struct hsnap_hold *h = &s->hold[b];
    if (k->cls == HSNAP_CLASS_DIRECT)
        fprintf(out, "nothing points to it\n");
    else if (k->cls == HSNAP_CLASS_CYCLE)
        bwhy_cycle(s, b, out);
    else if (k->cls == HSNAP_CLASS_INDIRECT && h->from < s->nblocks)
        fprintf(out, "under the %s %#" PRIx64 " (%s)\n",
                s->blocks[h->from].cls == HSNAP_CLASS_CYCLE ? "leaked cycle at" : "direct leak",
                s->blocks[h->from].addr, bwhy_site(s, h->from));
    else if (h->from == HSNAP_HOLD_NONE)
        fprintf(out, "no reference recorded\n");
    else
        bwhy_from(s, b, out);
}

static void bwhy_block(const struct snap *s, uint64_t b, FILE *out)
{
    const struct hsnap_block *k = &s->blocks[b];
    fprintf(out, "   %s %" PRIu64 " B at %#" PRIx64 ": ", bwhy_class_names[k->cls], k->size, k->addr);
    bwhy_reason(s, b, out);
}

static int bwhy_shown_class(uint8_t cls)
{
    return cls == HSNAP_CLASS_REACHABLE || cls == HSNAP_CLASS_POSSIBLE ||
           cls == HSNAP_CLASS_DIRECT || cls == HSNAP_CLASS_INDIRECT || cls == HSNAP_CLASS_CYCLE;
}

/* Whether block b of s is one --why SITE describes. */
static int bwhy_wanted(const struct snap *s, uint64_t b, const char *site)
{
    const struct hsnap_block *k = &s->blocks[b];
    const struct frames_trace *t;
    return bwhy_shown_class(k->cls) && (t = frames_get(s, k->trace)) && bwhy_site_is(t, site);
}

int bwhy_print(const struct snap *snaps, int n, const char *site, FILE *out)
{
    int found = 0;
    for (int i = 0; i < n; i++) {
        const struct snap *s = &snaps[i];
        uint64_t shown[HSNAP_CLASS_CYCLE + 1] = {0}, more = 0;
        int head = 0;
        if (!s->hold || !s->blocks)
            continue;
        for (uint64_t b = 0; b < s->nblocks; b++) {
            const struct hsnap_block *k = &s->blocks[b];
            if (!bwhy_wanted(s, b, site))
                continue;
            found = 1;
            if (shown[k->cls] == BWHY_SHOWN) {
                more++;
                continue;
            }
            if (!head++)
                fprintf(out, "%s: block by block, the reference each rests on:\n", bwhy_site(s, b));
            shown[k->cls]++;
            bwhy_block(s, b, out);
        }
        if (more)
            fprintf(out, "   ... and %" PRIu64 " more blocks\n", more);
        if (head)
            fprintf(out, "\n");
    }
    return found;
}

int bwhy_json(const struct snap *snaps, int n, const char *site, struct json *j)
{
    int found = 0;
    json_arr_begin(j);
    for (int i = 0; i < n; i++) {
        const struct snap *s = &snaps[i];
        uint64_t shown[HSNAP_CLASS_CYCLE + 1] = {0};
        for (uint64_t b = 0; s->hold && s->blocks && b < s->nblocks; b++) {
            const struct hsnap_block *k = &s->blocks[b];
            char *text = NULL;
            size_t len = 0;
            if (!bwhy_wanted(s, b, site))
                continue;
            found = 1;
            if (shown[k->cls]++ >= BWHY_SHOWN)
                continue;
            FILE *m = open_memstream(&text, &len);
            if (!m)
                return -1;
            bwhy_reason(s, b, m);
            if (fclose(m) != 0 || !text) {
                free(text);
                return -1;
            }
            if (len && text[len - 1] == '\n')
                text[len - 1] = 0;
            json_obj_begin(j);
            json_ku64(j, "snapshot", (uint64_t)i);
            json_ku64(j, "address", k->addr);
            json_ku64(j, "size", k->size);
            json_kstr(j, "class", bwhy_class_names[k->cls]);
            json_kstr(j, "held_by", text);
            json_obj_end(j);
            free(text);
        }
    }
    json_arr_end(j);
    return found;
}
