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

#include "cli.h"
#include "lossprint.h"
#include "supp.h"

static const char *const kind_verbs[LOSSREC_NKINDS] = {
    "are definitely lost", "are indirectly lost", "are lost in a cycle", "are possibly lost",
    "are still reachable"};

/* A frame's line, "    at 0x401136: make_list (list.c:12)\n", formatted once
 * per distinct frame and form (at or by, [wrapper] or not) for one
 * lossprint_sites: `leaks -n 0` prints every record's stack, and records
 * share their frames (a program's 100,000 stacks are a few hundred
 * frames), so the lines are copies, not printf's work.  Keyed by the
 * frame's pointer (frames_get shares them); HEAPSNAP_DEBUG=lossprint counts
 * lines and texts made (test_leaks_frame_text).  Out of memory, a line is
 * formatted directly: the same bytes. */
struct lp_line {
    char *s;                   /* the line, newline included; NULL: not made */
    size_t len;
};

static struct {
    const struct frame **key;  /* open addressing; NULL: empty */
    struct lp_line (*line)[4]; /* by slot, then form: by * 2 + wrapper */
    size_t cap, n;             /* a power of two, or 0: no memo; frames in it */
    unsigned long long lines;  /* frame lines printed */
    unsigned long long made;   /* lines formatted */
    int on;                    /* inside lossprint_sites: frames stay put */
} lp;

/* f's line in form by (word "by", else "at") and wrapper into buf of
 * len, as snprintf returns. */
static int frame_line(const struct frame *f, int by, int wrapper, char *buf, size_t len)
{
    const char *word = by ? "by" : "at", *mark = wrapper ? " [wrapper]" : "";
    if (HSNAP_IS_PYFRAME(f->ip)) /* a Python frame has no address */
        return frames_has_file(f)
                   ? snprintf(buf, len, "    %s %s (%s:%d)%s\n", word, f->func, f->file,
                              f->line, mark)
                   : snprintf(buf, len, "    %s %s (in %s)%s\n", word, f->func, f->module, mark);
    unsigned long long ip = (unsigned long long)f->ip;
    return frames_has_file(f)
               ? snprintf(buf, len, "    %s 0x%llx: %s (%s:%d)%s\n", word, ip, f->func, f->file,
                          f->line, mark)
               : snprintf(buf, len, "    %s 0x%llx: %s (in %s)%s\n", word, ip, f->func,
                          f->module, mark);
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
        for (int k = 0; k < 4; k++)
            free(lp.line[i][k].s);
    free(lp.key);
    free(lp.line);
    lp.key = NULL;
    lp.line = NULL;
    lp.cap = lp.n = 0;
}

/* Doubles the memo; -1 (the memo as it was) when out of memory. */
static int memo_grow(void)
{
    size_t old = lp.cap, cap = old ? old * 2 : 1024;
    const struct frame **okey = lp.key;
    struct lp_line (*oline)[4] = lp.line;
    const struct frame **key = big_calloc(cap, sizeof *key);
    struct lp_line (*line)[4] = big_calloc(cap, sizeof *line);
    if (!key || !line) {
        free(key);
        free(line);
        return -1;
    }
    lp.key = key;
    lp.line = line;
    lp.cap = cap;
    for (size_t i = 0; i < old; i++)
        if (okey[i]) {
            size_t j = memo_slot(okey[i]);
            lp.key[j] = okey[i];
            memcpy(lp.line[j], oline[i], sizeof oline[i]);
        }
    free(okey);
    free(oline);
    return 0;
}

/* f's line in form (by, wrapper) from the memo, made when new; NULL when
 * out of memory. */
static const struct lp_line *memo_line(const struct frame *f, int by, int wrapper)
{
    if (!lp.on || ((lp.n + 1) * 2 > lp.cap && memo_grow() < 0))
        return NULL;
    size_t i = memo_slot(f);
    struct lp_line *l = &lp.line[i][by * 2 + wrapper];
    if (lp.key[i] && l->s)
        return l;
    int len = frame_line(f, by, wrapper, NULL, 0);
    char *t = len < 0 ? NULL : malloc((size_t)len + 1);
    if (!t)
        return NULL;
    frame_line(f, by, wrapper, t, (size_t)len + 1);
    if (!lp.key[i]) {
        lp.key[i] = f;
        lp.n++;
    }
    l->s = t;
    l->len = (size_t)len;
    lp.made++;
    return l;
}

static void print_frame(const struct frame *f, int wrapper, int by, FILE *out)
{
    const struct lp_line *l = memo_line(f, by != 0, wrapper != 0);
    lp.lines++;
    if (l) {
        fwrite(l->s, 1, l->len, out);
        return;
    }
    lp.made++;
    const char *word = by ? "by" : "at";
    if (HSNAP_IS_PYFRAME(f->ip))
        fprintf(out, "    %s %s", word, f->func);
    else
        fprintf(out, "    %s 0x%llx: %s", word, (unsigned long long)f->ip, f->func);
    if (frames_has_file(f))
        fprintf(out, " (%s:%d)", f->file, f->line);
    else
        fprintf(out, " (in %s)", f->module);
    fprintf(out, "%s\n", wrapper ? " [wrapper]" : "");
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
        print_frame(r->frames[i], i < r->trace->nwrap, i > r->first, out);
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
