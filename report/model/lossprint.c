/*
 * lossprint.c - loss records as text, site by site, for `heapsnap leaks`
 * and the summary `heapsnap run --leaks` ends with.  A record is memcheck's
 * sentence and its stack:
 *
 *   48 (16 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss record 1 of 5
 *       at 0x401136: make_list (list.c:12)
 *       by 0x4011a0: main (list.c:30)
 *
 * frames innermost first, from the first of the program's own: the
 * allocator's frames before it (operator new, strdup, the C++ standard
 * library's templates: eight of them under a push_back) fold into it, and
 * --all-frames lists them, marked "[wrapper]".  The sentence stays memcheck's, which
 * scripts grep; every line of ours says direct, indirect, cycle, possibly
 * lost (lossrec_kind_words).  A site of several records is one line,
 * "3 records, 144 bytes in 3 blocks at list.c:12 (2 direct, 1 cycle)",
 * then its largest record, or all of them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lossprint.h"
#include "supp.h"

static const char *const kind_verbs[LOSSREC_NKINDS] = {
    "are definitely lost", "are indirectly lost", "are lost in a cycle", "are possibly lost",
    "are still reachable"};

/* A frame's text after its "at" or "by", " 0x401136: make_list (list.c:12)",
 * formatted once per distinct frame for one lossprint_sites: `leaks -n 0`
 * prints every record's stack, and records share their frames (a program's
 * 100,000 stacks are a few hundred frames), so the lines are copies, not
 * printf's work.  Keyed by the frame's pointer (frames_get shares them);
 * HEAPSNAP_DEBUG=lossprint counts lines and texts made
 * (test_leaks_frame_text).  Out of memory, a line is formatted
 * directly: the same bytes. */
static struct {
    const struct frame **key;  /* open addressing; NULL: empty */
    char **text;               /* by slot */
    size_t cap, n;             /* a power of two, or 0: no memo; frames in it */
    unsigned long long lines;  /* frame lines printed */
    unsigned long long made;   /* texts formatted */
    int on;                    /* inside lossprint_sites: frames stay put */
} lp;

/* f's text (without the word, the [wrapper] mark or the newline) into
 * buf of len, as snprintf returns. */
static int frame_text(const struct frame *f, char *buf, size_t len)
{
    if (HSNAP_IS_PYFRAME(f->ip)) /* a Python frame has no address */
        return frames_has_file(f) ? snprintf(buf, len, " %s (%s:%d)", f->func, f->file, f->line)
                                  : snprintf(buf, len, " %s (in %s)", f->func, f->module);
    unsigned long long ip = (unsigned long long)f->ip;
    return frames_has_file(f)
               ? snprintf(buf, len, " 0x%llx: %s (%s:%d)", ip, f->func, f->file, f->line)
               : snprintf(buf, len, " 0x%llx: %s (in %s)", ip, f->func, f->module);
}

static size_t memo_slot(const struct frame *f)
{
    uint64_t h = (uint64_t)(uintptr_t)f * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)(h >> 20) & (lp.cap - 1);
    while (lp.key[i] && lp.key[i] != f)
        i = (i + 1) & (lp.cap - 1);
    return i;
}

static void memo_fini(void)
{
    for (size_t i = 0; i < lp.cap; i++)
        free(lp.text[i]);
    free(lp.key);
    free(lp.text);
    lp.key = NULL;
    lp.text = NULL;
    lp.cap = lp.n = 0;
}

/* Doubles the memo; -1 (the memo as it was) when out of memory. */
static int memo_grow(void)
{
    size_t old = lp.cap, cap = old ? old * 2 : 1024;
    const struct frame **okey = lp.key;
    char **otext = lp.text;
    const struct frame **key = calloc(cap, sizeof *key);
    char **text = calloc(cap, sizeof *text);
    if (!key || !text) {
        free(key);
        free(text);
        return -1;
    }
    lp.key = key;
    lp.text = text;
    lp.cap = cap;
    for (size_t i = 0; i < old; i++)
        if (okey[i]) {
            size_t j = memo_slot(okey[i]);
            lp.key[j] = okey[i];
            lp.text[j] = otext[i];
        }
    free(okey);
    free(otext);
    return 0;
}

/* f's text from the memo, made when new; NULL when out of memory. */
static const char *memo_text(const struct frame *f)
{
    if (!lp.on || ((lp.n + 1) * 2 > lp.cap && memo_grow() < 0))
        return NULL;
    size_t i = memo_slot(f);
    if (lp.key[i])
        return lp.text[i];
    int len = frame_text(f, NULL, 0);
    char *t = len < 0 ? NULL : malloc((size_t)len + 1);
    if (!t)
        return NULL;
    frame_text(f, t, (size_t)len + 1);
    lp.key[i] = f;
    lp.text[i] = t;
    lp.n++;
    lp.made++;
    return t;
}

static void print_frame(const struct frame *f, int wrapper, const char *word, FILE *out)
{
    const char *t = memo_text(f);
    char buf[1024];
    lp.lines++;
    fputs("    ", out);
    fputs(word, out);
    if (t)
        fputs(t, out);
    else if (lp.made++, frame_text(f, buf, sizeof buf) < (int)sizeof buf)
        fputs(buf, out);
    else { /* a name past buf: printf's own way */
        if (HSNAP_IS_PYFRAME(f->ip))
            fprintf(out, " %s", f->func);
        else
            fprintf(out, " 0x%llx: %s", (unsigned long long)f->ip, f->func);
        if (frames_has_file(f))
            fprintf(out, " (%s:%d)", f->file, f->line);
        else
            fprintf(out, " (in %s)", f->module);
    }
    fputs(wrapper ? " [wrapper]\n" : "\n", out);
}

static void print_header(const struct lossrec_record *r, size_t n, FILE *out)
{
    unsigned long long own = r->bytes, ind = r->indirect_bytes;
    if (ind)
        fprintf(out, "%llu (%llu %s, %llu indirect) bytes", own + ind, own,
                r->kind == LOSSREC_CYCLE ? "own" : "direct", ind);
    else
        fprintf(out, "%llu bytes", own);
    fprintf(out, " in %llu blocks %s in loss record %d of %zu\n", (unsigned long long)r->blocks,
            r->owned ? "are indirectly lost in a cycle" : kind_verbs[r->kind], r->index, n);
}

static void print_ring(const struct lossrec_record *r, FILE *out)
{
    fprintf(out, "    cycle of %u blocks: ", r->ring_blocks);
    for (int i = 0; i < r->nring; i++)
        fprintf(out, "%s -> ", r->ring[i]);
    if (r->ring_blocks > (uint32_t)r->nring)
        fprintf(out, "... (%u more) -> ", r->ring_blocks - (uint32_t)r->nring);
    fprintf(out, "back");
    if (r->ncycles > 1)
        fprintf(out, " (1 of %llu cycles)", (unsigned long long)r->ncycles);
    fputc('\n', out);
}

/* A suppression that matches r: "leak:FUNC" (lsan) or a Valgrind block,
 * preceded by a '#' comment naming the record. */
static void print_gen(FILE *out, int valgrind, const struct lossrec_record *r)
{
    static const char *const gen_kinds[LOSSREC_NKINDS] = {"definite", "indirect", "definite",
                                                     "possible", "reachable"};
    const struct frame *site = r->frames[r->site];
    fprintf(out, "# %s, %llu bytes in %llu blocks, allocated at %s\n", lossrec_kind_names[r->kind],
            (unsigned long long)r->bytes, (unsigned long long)r->blocks, r->site_name);
    if (!valgrind) {
        fprintf(out, "leak:%s\n", site->func);
        return;
    }
    fprintf(out, "{\n   heapsnap-%s-%s\n   Memcheck:Leak\n   match-leak-kinds: %s\n",
            lossrec_kind_names[r->kind], site->func, gen_kinds[r->kind]);
    /* fun: even for "module+0xoff" frames (no symbol): Valgrind would write
     * obj:, which matches every frame of the module; this stays precise. */
    for (int i = 0; i < r->nframes && i < SUPP_MAX_PATS; i++)
        fprintf(out, "   fun:%s\n", r->frames[i]->func);
    fprintf(out, "}\n");
}

void lossprint_record(const struct lossrec_record *r, size_t n, const struct lossprint_opts *o,
                      FILE *out)
{
    print_header(r, n, out);
    for (int i = o->all_frames ? 0 : r->first; i < r->nframes; i++)
        print_frame(r->frames[i], i < r->trace->nwrap, i <= r->first ? "at" : "by", out);
    if (r->ring_blocks)
        print_ring(r, out);
    if (o->refs) {
        if (r->ref_min == r->ref_max)
            fprintf(out, "    refcount: %u\n", r->ref_min);
        else
            fprintf(out, "    refcount: %u..%u\n", r->ref_min, r->ref_max);
    }
    if (o->gen)
        print_gen(out, o->gen == 2, r);
    fputc('\n', out);
}

/* HEAPSNAP_DEBUG=lossprint: the frame lines lossprint_sites printed and
 * the texts it formatted for them, on stderr. */
static void lossprint_debug(void)
{
    const char *d = getenv("HEAPSNAP_DEBUG");
    if (d && strstr(d, "lossprint"))
        fprintf(stderr, "heapsnap: debug: lossprint: %llu frame lines, %llu frame texts "
                        "formatted\n", lp.lines, lp.made);
}

/* "3 records, 144 bytes in 3 blocks at list.c:12 (2 direct, 1 cycle)". */
static void print_group(const struct lossrec_group *g, struct lossrec_record *const *v,
                        FILE *out)
{
    size_t per[LOSSREC_NKINDS] = {0};
    const char *sep = " (";
    for (size_t i = g->first; i < g->first + g->n; i++)
        per[v[i]->kind]++;
    fprintf(out, "%zu records, %llu bytes in %llu blocks at %s", g->n,
            (unsigned long long)g->bytes, (unsigned long long)g->blocks, g->site);
    for (int k = 0; k < LOSSREC_NKINDS; k++)
        if (per[k]) {
            fprintf(out, "%s%zu %s", sep, per[k], lossrec_kind_words[k]);
            sep = ", ";
        }
    fprintf(out, ")\n");
}

void lossprint_sites(const struct lossrec_set *ls, int every, const struct lossprint_opts *o,
                     const char *more, FILE *out)
{
    size_t n, ng, nsites, printed = 0, nrec = lossrec_ranked(ls);
    struct lossrec_record *const *v = lossrec_shown(ls, &n);
    const struct lossrec_group *g = lossrec_groups(ls, &ng, &nsites);
    lp.on = 1;
    lp.lines = lp.made = 0;
    if (nrec)
        fprintf(out, "\n%zu loss records in %zu sites, largest first:\n\n", nrec, nsites);
    for (size_t k = 0; k < ng; k++) {
        size_t all = every ? g[k].n : 1;
        if (g[k].n > 1)
            print_group(&g[k], v, out);
        for (size_t i = g[k].first; i < g[k].first + all; i++)
            lossprint_record(v[i], nrec, o, out);
        printed += all;
    }
    memo_fini();
    lp.on = 0;
    lossprint_debug();
    if (printed >= nrec)
        return;
    if (ng < nsites)
        fprintf(out, "... %zu more records in %zu more sites: %s\n", nrec - printed,
                nsites - ng, more);
    else
        fprintf(out, "... %zu more records at the sites above: %s\n", nrec - printed, more);
}
