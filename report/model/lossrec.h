/*
 * lossrec.h - loss records: the leaks of one or many snapshots, symbolized
 * and grouped the way Valgrind groups them, ready for `leaks` and `gate`.
 *
 * Kinds (what a record's own blocks are):
 *   direct     a model record whose root is a direct leak, with the bytes it
 *              owns indirectly ("48 (16 direct, 32 indirect) bytes")
 *   cycle      a model record whose root is a leaked cycle no other leak
 *              points into (with its ring), or leaked-cycle blocks another
 *              leak owns ("owned": no ring of their own)
 *   indirect, possible, reachable   the blocks of that class
 * Records with the same kind and symbolized stack from the allocation site
 * out are merged (across snapshots too).  Every leaked or live block of a
 * snapshot with LEAKS is the own block of exactly one record, so the
 * per-kind sums equal the LEAKS totals.  Suppressions and --include /
 * --exclude apply to a record's own blocks (Valgrind's rule: a suppressed
 * direct leak does not hide the indirect blocks it owns).
 */
#ifndef REPORT_LOSSREC_H
#define REPORT_LOSSREC_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "frames.h"
#include "snap.h"

enum lossrec_kind { LOSSREC_DIRECT, LOSSREC_INDIRECT, LOSSREC_CYCLE, LOSSREC_POSSIBLE, LOSSREC_REACHABLE, LOSSREC_NKINDS };

#define LOSSREC_KIND_BIT(k) (1u << (k))
#define LOSSREC_KINDS_DEFAULT (LOSSREC_KIND_BIT(LOSSREC_DIRECT) | LOSSREC_KIND_BIT(LOSSREC_CYCLE))
#define LOSSREC_KINDS_ALL ((1u << LOSSREC_NKINDS) - 1)

/* "direct", "indirect", "cycle", "possible", "reachable" (--kinds, JSON). */
extern const char *const lossrec_kind_names[LOSSREC_NKINDS];

/* "direct", "indirect", "cycle", "possibly lost", "still reachable": the one
 * vocabulary of the text of leaks, gate and run (memcheck's record sentence
 * aside, which scripts grep). */
extern const char *const lossrec_kind_words[LOSSREC_NKINDS];

/* Parses a comma list of kind names (or "all") into a bit set; -1 with the
 * bad name in err. */
int lossrec_parse_kinds(const char *list, unsigned *kinds, char *err, size_t errlen);

#define LOSSREC_RING_SHOWN 8 /* members of a cycle named before "... (N more)" */

struct lossrec_record {
    enum lossrec_kind kind;
    int owned;                 /* cycle blocks owned by another leak */
    uint64_t bytes, blocks;    /* own blocks */
    uint64_t indirect_bytes, indirect_blocks; /* owned besides (direct, cycle) */
    uint32_t ref_min, ref_max; /* refcounts over the own blocks */
    uint64_t ncycles;          /* cycle records merged into this one */
    uint32_t ring_blocks;      /* the first cycle's size (0: no ring) */
    int nring;                 /* its first members' sites, in cycle order */
    const char *ring[LOSSREC_RING_SHOWN]; /* (ring_blocks - nring more not named) */
    const struct frames_trace *trace; /* the stack (frames_get) */
    int nframes, site;         /* frames[site] is the allocation site */
    int first;                 /* frames[first]: the first past the wrappers (frames.h) */
    const struct frame *const *frames; /* innermost first, wrappers included */
    const char *site_name;     /* "file.c:12", or the function without a file */
    int supp;                  /* index of the suppression that matched, -1 */
    int index;                 /* 1-based position among the shown records */
    unsigned char *key;        /* index key: kind, owned, 0, 0, then the frames' idents
                                  from first (u32 each): equal idents, equal
                                  frames_id, at 4 bytes a frame instead of its text */
    size_t keylen;
    uint32_t site_rank;        /* lossrec_group's: site_name's among the shown */
};


struct supp_set;

struct lossrec_opts {
    unsigned kinds;            /* LOSSREC_KIND_BIT set of kinds to show */
    int by_site;               /* group the records by site (lossrec_groups) */
    long limit;                /* show the N largest records, or with by_site
                                  the records of the N largest sites (0 = all) */
    struct frames_filter filter; /* over the site frame (all_frames unused) */
    struct supp_set *supp;     /* may be NULL */
    unsigned supp_kinds;       /* kinds suppressions are matched against
                                  (LOSSREC_KIND_BIT set; 0 = all kinds) */
};

struct lossrec_total {
    uint64_t bytes, blocks;
};

struct lossrec_set;

struct lossrec_set *lossrec_new(const struct lossrec_opts *o);
void lossrec_free(struct lossrec_set *ls);

/* Adds the records of s (which must outlive ls).  -1 with "PATH: reason" in
 * err: "no leak check in this snapshot (...)" when s has no LEAKS. */
int lossrec_add_snap(struct lossrec_set *ls, const struct snap *s, const char *path, char *err,
                size_t errlen);

/* Applies filters and suppressions, sums the kinds, sorts the shown records
 * largest first (total bytes, then blocks) and numbers them from 1, the
 * largest; with by_site, lays them out site by site (lossrec_groups).  -1
 * when out of memory. */
int lossrec_finish(struct lossrec_set *ls);

/* The records of one allocation site (lossrec_record.site_name): its
 * records are lossrec_shown's [first, first + n), the largest first. */
struct lossrec_group {
    const char *site;
    uint64_t bytes;            /* own and indirect, as the records' headers */
    uint64_t blocks;           /* own */
    size_t first, n;
    int largest;               /* index of its largest record */
};

/* After lossrec_finish with by_site: the sites -n kept, the one of most
 * bytes first, *n of them; in *all (may be NULL) how many before -n. */
const struct lossrec_group *lossrec_groups(const struct lossrec_set *ls, size_t *n,
                                           size_t *all);

/* After lossrec_finish: the shown records, in order. */
struct lossrec_record *const *lossrec_shown(const struct lossrec_set *ls, size_t *n);

/* After lossrec_finish: how many records the shown ones are numbered among
 * (all that matched, before -n kept the largest): "loss record 1 of 6". */
size_t lossrec_ranked(const struct lossrec_set *ls);

/* After lossrec_finish: per-kind sums of the kept, unsuppressed records (all
 * kinds, shown or not), and the suppressed sum. */
const struct lossrec_total *lossrec_summary(const struct lossrec_set *ls, struct lossrec_total *suppressed);

/* Threads that could not be stopped, summed over the snapshots. */
uint32_t lossrec_unstopped(const struct lossrec_set *ls);
/* The C and C++ runtimes' own blocks (HSNAP_CLASS_RUNTIME: the loader's,
 * the standard streams' buffers, libstdc++'s emergency pool), summed over
 * the snapshots: never the program's, in no kind's sum nor filter. */
struct lossrec_total lossrec_runtime(const struct lossrec_set *ls);
/* Blocks the leak check could read only in part (a PROT_NONE page in
 * them, a range unmapped): what they point to from there was not seen. */
uint64_t lossrec_partial(const struct lossrec_set *ls);

/* Every record (all kinds, kept or not) for callers that need more than the
 * shown ones (the gate's per-site rules). */
struct lossrec_record *const *lossrec_all(const struct lossrec_set *ls, size_t *n);

/* r's stack identity as text (frames_id, made when first asked: the
 * records of a big heap never need most of theirs); "" when out of memory. */
const char *lossrec_stack_id(const struct lossrec_record *r);

#endif
