/*
 * snap.h - an in-memory, validated .hsnap snapshot (see shim/hsnap_format.h).
 *
 * snap_load() checks every length, count, offset, checksum and id before it
 * fills a struct snap, so the rest of the CLI may index anything in it without
 * further checks: trace ids in stats/blocks are < ntraces, module ranges have
 * lo <= hi, strings are NUL-terminated copies.  Fixed-size arrays (stats,
 * blocks, points) point into the file buffer the snap owns; they are packed
 * structs, so the compiler emits unaligned-safe accesses.
 */
#ifndef REPORT_SNAP_H
#define REPORT_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hsnap_format.h"
#include "hsnap_pyformat.h"
#include "pycode.h"
#include "pytypes.h"

struct snap_module {
    uint64_t bias;             /* load bias: runtime = file vaddr + bias */
    uint64_t lo, hi;           /* runtime range [lo, hi) */
    char *path;                /* NUL-terminated copy */
    uint8_t *build_id;         /* raw bytes (build_id_len of them) */
    uint16_t build_id_len;
    uint32_t flags;            /* HSNAP_MODULE_UNLOADED: dlclose'd before the snapshot */
    uint32_t until;            /* unloaded: traces made before it left (0: not known) */
};

struct snap_trace {
    uint16_t depth;            /* number of ips */
    uint16_t flags;            /* HSNAP_TRACE_* */
    uint16_t pyat;             /* with node: pynode's frame, counted from the innermost */
    const uint64_t *ips;       /* innermost first; into snap.ipbuf, or into
                                  the file's TRACES; NULL: see node */
    uint32_t node;             /* a compressed TRACES' (snap_traces_stream):
                                  its innermost ip in snap.nodes (0: none) */
    uint32_t pynode;           /* with node: its innermost Python frame's node
                                  (0: none), so that a Python stack's site is
                                  found without a walk of its native frames */
};

/* A node of a compressed TRACES' tree: an ip and the node of the frame
 * that called it (0: the outermost). */
struct snap_node {
    uint32_t parent;
    uint32_t ipx;              /* index into snap.iptab */
};

#define SNAP_NCLASS (HSNAP_CLASS_RUNTIME + 1) /* classes this reader knows */

/* The LEAKS section, validated by lset_decode (all zero without it). */
struct snap_leaks {
    int present;                         /* the section was there */
    struct hsnap_leaks_head head;        /* copied out */
    struct hsnap_leak_total total[SNAP_NCLASS]; /* by enum hsnap_class */
    const struct hsnap_leak_record *records; /* head.nrecords, into buf */
    const uint8_t *members;              /* head.nmembers u32s, into buf
                                            (unaligned: use lset_member) */
};

/* The SITELINE section (format 2), validated by siteline_decode (all
 * zero without it). */
struct snap_siteline {
    int present;                         /* the section was there */
    struct hsnap_siteline_head head;     /* copied out */
    const uint8_t *points;               /* head.count points, into buf:
                                            use siteline_point/_sites */
    const uint8_t *mapped;               /* MAPLINE: head.count u64s, into
                                            buf, or NULL: use siteline_mapped */
};

#define SNAP_MAX_SECTIONS 31 /* slots for known types, indexed by type */

/* What one input file may still make the CLI hold (snap_budget_take). */
struct snap_budget {
    uint64_t bound;            /* the file's whole allowance */
    uint64_t left;             /* what is not charged yet */
    uint64_t packed;           /* what packed BLOCKS may take past it (snap_budget_take_packed) */
    uint32_t skip;             /* sections not read (bit 1 << type): checksummed,
                                  neither inflated nor parsed (snap_load_skip) */
    int capped;                /* bound is the reader's limit (state_load_within) */
};

/* A section's size in the file and uncompressed (equal when stored raw). */
struct snap_secsize {
    uint64_t stored, raw;
};

struct snap {
    uint32_t version;          /* the file's format version (1, 2, 3) */
    struct hsnap_meta meta;    /* copied out of the META section */
    char *cmdline;             /* NUL-terminated copies */
    char *exe;
    uint32_t nmodules;
    struct snap_module *modules;
    uint32_t *mod_by_lo;       /* module indices by range, where no two ranges meet
                                  and none was unloaded (snap_module_at's search);
                                  NULL: modules are searched in turn */
    uint32_t ntraces;
    struct snap_trace *traces;
    uint64_t *ipbuf;           /* all traces' ips, aligned (NULL: they are
                                  in the file, or in iptab) */
    uint64_t *iptab;           /* a compressed TRACES' distinct ips, or NULL */
    struct snap_node *nodes;   /* its tree: nodes[1..nnodes] */
    uint32_t nnodes;
    int pynodes;               /* the traces' pynode and pyat are the tree's
                                  (snap_traces_stream): else the walk finds them */
    char *traces_err;          /* why that TRACES is bad: the loader reports
                                  it in turn */
    const struct hsnap_stat *stats;    /* ntraces of them, into buf */
    uint64_t nblocks;
    const struct hsnap_block *blocks;  /* sorted by addr, into buf; may be NULL */
    uint32_t npoints;
    const struct hsnap_point *points;  /* timeline, into buf; may be NULL */
    const uint8_t *leaks;      /* LEAKS payload as stored (for rewriting) */
    uint64_t leaks_len;
    struct snap_leaks lk;      /* LEAKS decoded and validated */
    const struct hsnap_retainer *retainers; /* RETAINERS items, into buf */
    uint32_t nretainers;
    int has_retainers;         /* a RETAINERS section was present */
    const struct hsnap_hold *hold;     /* HOLDERS: one per block, into buf; NULL: none */
    const uint64_t *hold_at;           /* its root words' addresses */
    const struct hsnap_hold_in *hold_in; /* its interior offsets, by block */
    uint32_t nhold_in;
    const struct hsnap_hold_range *hold_ranges; /* its root ranges */
    uint32_t nhold_ranges;
    const struct hsnap_hold_tls *hold_tls;      /* its modules' static TLS */
    uint32_t nhold_tls;
    void *hold_buf;                    /* HOLDERS copied, 8-aligned (owned) */
    int has_blocks;            /* a BLOCKS section was present */
    char *supp_text;           /* SUPPRESSIONS: the program's
                                  __lsan_default_suppressions(), NUL-terminated
                                  copy; NULL when absent */
    int has_peak;              /* a PEAK section was present (peak_decode) */
    int peak_dropped;          /* it was, and was dropped as damaged (snap_derived) */
    struct hsnap_peak peak;    /* its head, copied out */
    struct hsnap_stat *peak_stats; /* ntraces: live sums at the peak, totals 0 */
    uint32_t peak_items_last;  /* peak_decode's scratch while decoding */
    uint64_t *temps;           /* TEMPS: ntraces temporary counts, or NULL */
    int at_peak;               /* the command reads its peak (PATH@peak) */
    struct snap_siteline sl;   /* SITELINE: memory over time per site */
    struct snap_pycode *pycodes; /* PYCODE (pycode_decode), NULL without it */
    uint32_t npycodes;
    struct pycode_lines *pylines; /* npycodes: each code's line runs, built at
                                  its first lookup (pycode_line_of); NULL
                                  where pycodes was filled elsewhere */
    uint32_t py_version;       /* Py_Version of the interpreter that wrote them */
    struct snap_pyobjs py;     /* PYTYPES (pytypes_decode): the objects' types */
    int has_mapped;            /* MAPPED was there: reserved total, residency known */
    struct hsnap_mapped mapped; /* its head (reserved address space, resident sum) */
    uint64_t *resident;        /* ntraces: mmap-kind traces' resident bytes, or NULL */
    int has_threads;           /* THREADS was there: each trace's thread known */
    uint32_t nthreads;         /* its records, */
    struct hsnap_thread *threads; /* by index, names printable */
    uint16_t *trace_thread;    /* ntraces: a record's place in threads, or HSNAP_THREAD_NONE */
    int has_inherited;         /* INHERITED was there: a fork child, its parent's */
    struct hsnap_inherited inherited; /* heap summed apart (not in BLOCKS, STATS) */
    struct hsnap_pyunread pyunread; /* PYUNREAD: a CPython not read (why 0: none
                                  such, or the shim read it) */
    const struct hsnap_failed *failed; /* FAILED items by trace, into buf; NULL
                                  without the section (nothing failed) */
    uint32_t nfailed;
    int has_gcfreed;           /* PYGCFREED was there: the collector was watched */
    const struct hsnap_pygcfreed *gcfreed; /* its items by trace, into buf */
    uint32_t ngcfreed;
    uint64_t gc_collected;     /* the interpreter's own count (UINT64_MAX: unknown) */
    uint64_t gc_dropped;       /* objects the collector freed at no item */
    uint64_t state_size;       /* read from a state file (state_load): its
                                  bound and bytes in use; 0: a snapshot file */
    uint64_t state_used;
    uint32_t state_flags;      /* its HSTATE_FULL_* */
    int state_live;            /* its writer still runs (state_load_noted): the
                                  state as of its last update, not a death */
    uint64_t state_behind_ns;  /* its document's totals are this much older than
                                  its last update (allocations moved after it); 0: current */
    uint64_t state_bound, state_max; /* STATE: the state file it kept, bound and most used */
    char *dropped;             /* the derived sections dropped (snap_derived):
                                  "section NAME: why", a line each; NULL: none */
    uint64_t serial;           /* distinct per load in this process (1, 2, ...):
                                  what caches of a snapshot's derived data key on */
    uint8_t *buf;              /* the whole file, owned */
    size_t len;
    uint8_t *unpacked[SNAP_MAX_SECTIONS]; /* compressed sections' payloads,
                                             decompressed, owned */
    void *zeros;               /* a skipped STATS' zeros: mapped, so that the
                                  pages nobody reads are never touched */
    size_t zeros_len;
    struct snap_secsize sizes[SNAP_MAX_SECTIONS]; /* known sections', by type */
    struct snap_budget budget; /* what the load may still allocate */
};

/* Trace t's ips (t->depth of them), innermost first, into buf. */
static inline void snap_trace_ips(const struct snap *s, const struct snap_trace *t,
                                  uint64_t *buf)
{
    uint32_t node = t->node;
    if (t->ips) {
        memcpy(buf, t->ips, (size_t)t->depth * sizeof(*buf));
        return;
    }
    for (int i = 0; i < t->depth; i++, node = s->nodes[node].parent)
        buf[i] = s->iptab[s->nodes[node].ipx];
}

/* The ip i (< depth) of trace t: snap_trace_ips's buf[i]. */
static inline uint64_t snap_ip(const struct snap *s, const struct snap_trace *t, int i)
{
    uint32_t node = t->node;
    if (t->ips)
        return t->ips[i];
    while (i-- > 0)
        node = s->nodes[node].parent;
    return s->iptab[s->nodes[node].ipx];
}

/* --kind (top, diff, export, html): the sites of one kind of memory, by
 * their trace's HSNAP_TRACE_MMAP (ranges the program mapped itself; a
 * trace without it holds malloc blocks, as every trace of older files). */
enum { SNAP_KIND_ALL, SNAP_KIND_MALLOC, SNAP_KIND_MMAP };
static inline int snap_kind_kept(int kind, const struct snap *s, uint32_t ti)
{
    int mmap = (s->traces[ti].flags & HSNAP_TRACE_MMAP) != 0;
    return kind == SNAP_KIND_ALL || mmap == (kind == SNAP_KIND_MMAP);
}

/* Reads and validates the file at path.  Returns 0 and fills *out, or -1 with
 * "PATH: reason" in err (out is then empty and need not be freed).  A
 * derived section that disagrees with the rest (out->dropped) is left
 * out, said in one warning line each on stderr. */
int snap_load(const char *path, struct snap *out, char *err, size_t errlen);
/* The same without the optional sections in skip (bit 1 << type; the
 * required ones are read whatever it says, but STATS, whose sums then
 * read as zeros): a caller that prints a few lines pays for what it
 * prints.  A state file is read whole. */
int snap_load_skip(const char *path, struct snap *out, uint32_t skip, char *err,
                   size_t errlen);
/* skip's bits: a section's, and the groups the commands leave stored
 * together (each command's mask says which it never reads). */
#define SNAP_SEC(t) (1u << HSNAP_SEC_##t)
#define SNAP_SKIP_LINES (SNAP_SEC(TIMELINE) | SNAP_SEC(SITELINE) | SNAP_SEC(MAPLINE))
#define SNAP_SKIP_CHECK (SNAP_SEC(LEAKS) | SNAP_SEC(RETAINERS) | SNAP_SEC(HOLDERS))
#define SNAP_SKIP_PYOBJ (SNAP_SEC(PYTYPES) | SNAP_SEC(PYOWNED) | SNAP_SEC(PYRETAIN))
/* the counts only an option of their own reads: temporaries, failed
 * allocations, the collector's frees, the state file's bound */
#define SNAP_SKIP_EXTRAS                                                                   \
    (SNAP_SEC(TEMPS) | SNAP_SEC(FAILED) | SNAP_SEC(PYGCFREED) | SNAP_SEC(STATE))
/* STATS left unread too (its sums zeros) when no trace of a compressed
 * TRACES, read before it, is of the mmap kind: run's summary reads STATS
 * for those traces alone (the touched share of mapped ranges).  Not a
 * section's bit: types stay below SNAP_MAX_SECTIONS. */
#define SNAP_SKIP_STATS_UNMAPPED (1u << 31)
_Static_assert(SNAP_MAX_SECTIONS <= 31, "bit 31 is no section's");

/* Same from a buffer (copied).  On failure err holds the reason alone. */
int snap_load_mem(const void *data, size_t len, struct snap *out, char *err,
                  size_t errlen);

/* Same, within what b leaves (a state file's budget, spent in part on
 * making data); NULL: what a file of len bytes may cost. */
int snap_load_mem_within(const void *data, size_t len, const struct snap_budget *b,
                         struct snap *out, char *err, size_t errlen);

/* The steps of snap_load, for its caller to read the file: buf holds the
 * first have bytes of a file of len bytes (have == len, or at least a
 * header's worth); the header's size, or -1 with the reason in err. */
int snap_check_header(const uint8_t *buf, size_t have, size_t len, char *err,
                      size_t errlen);
/* snap_load_mem_within over buf (malloc'd), which it takes in every case. */
int snap_load_owned(uint8_t *buf, size_t len, const struct snap_budget *b, struct snap *s,
                    char *err, size_t errlen);

/* Releases everything snap_load filled; safe on a zeroed snap. */
void snap_free(struct snap *s);
/* A snapshot recorded from an attach (HSNAP_META_ATTACHED): "attached at
 * TIME; blocks from before are not traced" in buf, 1; else 0. */
int snap_attached_note(const struct snap *s, char *buf, size_t n);

/* The module whose [lo, hi) holds ip, or NULL: the first that does (a
 * loaded one, else the latest unloaded). */
const struct snap_module *snap_module_at(const struct snap *s, uint64_t ip);
/* The module that held ip when trace was made (UNLOADED's rule,
 * hsnap_format.h), or NULL. */
const struct snap_module *snap_module_in(const struct snap *s, uint32_t trace, uint64_t ip);

/* PYGCFREED (pyw_gcf_put's): checked, into s (after TRACES); 0 or -1. */
int pygcfreed_decode(struct snap *s, const uint8_t *data, uint64_t len, char *err,
                     size_t errlen);

/* THREADS (threadsread.c): checked, into s (after TRACES); 0 or -1. */
int snap_threads_decode(struct snap *s, const uint8_t *data, uint64_t len, char *err,
                        size_t errlen);
/* The thread that allocated trace ti's blocks, or NULL (no THREADS, or a
 * trace of no one thread). */
const struct hsnap_thread *snap_thread_of(const struct snap *s, uint32_t ti);
/* The place in s->threads of the record of index, or UINT32_MAX. */
uint32_t snap_thread_record(const struct snap *s, uint32_t index);

/* Name of a section type ("TRACES"), or "type N" in a static buffer. */
const char *snap_section_name(uint32_t type);

/* "section NAME: why" into err, for the loaders of the sections kept in
 * files of their own (lset_decode, peak_decode); returns -1. */
int snap_section_fail(char *err, size_t errlen, const char *section, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The allowance of a file of file_size bytes: max(64 MiB, 256 x its size),
 * with no section skipped. */
void snap_budget_init(struct snap_budget *b, uint64_t file_size);
/* Charges bytes that section (NULL: the file as a whole) declares, before
 * they are inflated or allocated: 0, or -1 with a one-line reason naming
 * the section and the bound in err when they pass what is left.  A NULL b
 * charges nothing. */
int snap_budget_take(struct snap_budget *b, uint64_t bytes, const char *section, char *err,
                     size_t errlen);
/* The same for records packed (hsnap_packed.h): past what is left, up to
 * 8192 x the file's size in all (zstd packs the packed records of equal
 * blocks ~6,800 times: bombs_bound_keeps_a_real_snapshot_of_2_5m_blocks). */
int snap_budget_take_packed(struct snap_budget *b, uint64_t bytes, const char *section,
                            char *err, size_t errlen);

/* A section stored compressed (HSNAP_SEC_ZSTD) of len bytes at data, named
 * name in errors: its zhead's head then the frame's output, raw_len bytes
 * in all, in *out (malloc'd, the caller's to free, even on failure) and
 * *outlen.  raw_len is charged to b first; the frame's output never runs
 * past it.  0, or -1 with "section NAME: why" in err (inflate.c). */
int snap_section_inflate(const uint8_t *data, uint64_t len, const char *name,
                         struct snap_budget *b, uint8_t **out, uint64_t *outlen, char *err,
                         size_t errlen);

/* The same section's payload handed to sink as it inflates (the head, then
 * chunk by chunk), never whole in memory; *outlen its length.  raw_len is
 * charged to b as snap_section_inflate's, so no more is decompressed. */
int snap_section_stream(const uint8_t *data, uint64_t len, const char *name,
                        struct snap_budget *b,
                        void (*sink)(void *ctx, const uint8_t *p, size_t n), void *ctx,
                        uint64_t *outlen, char *err, size_t errlen);

/* A compressed TRACES section read as it inflates into s's traces, iptab
 * and ipidx (iptab.c).  0, with a bad payload's reason in s->traces_err;
 * -1 with err when the section's frame is bad or memory ran out. */
int snap_traces_stream(const uint8_t *data, uint64_t len, struct snap *s, uint64_t *outlen,
                       char *err, size_t errlen);

#endif
