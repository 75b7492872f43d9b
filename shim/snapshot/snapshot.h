/*
 * snapshot.h - the door of shim/snapshot, the writer: a snapshot taken,
 * named and put where it goes (snapshot.c, snapname.c, snapdest.c), its
 * sections (the side file, zstd frames, TRACES and STATS, blocks in
 * address order, modules, the site line) and the in-process dump; and
 * what snapshot.c shares with
 * the root's leak check runs (leakrun.c): the slots of the sections, the
 * live sums per trace, the snapshot lock as a run takes it, what the last
 * run left.  Below it: base/, record/, unwind/, python/.  What it needs
 * from above is handed down once (snap_set_host).  Prefixes: snap_,
 * name_, dest_, side_, zsec_, bsort_, bstream_, mod_, dlc_, sl_
 * (siteline.c), dump_, rchan_ (runchan.c), inh_ (snapinherit.c).  Locks (order in root.h): snap
 * (1), siteline (8).
 */
#ifndef HEAPSNAP_SNAPSHOT_H
#define HEAPSNAP_SNAPSHOT_H

#include <sys/types.h>

#include "base.h"
#include "hsnap_format.h"
#include "record.h"

/* ---- dlclose.c: modules that were unloaded ---- */
/* Appends the records of unloaded modules to MODULES, newest first; how many. */
struct sbuf;
uint32_t dlc_put_modules(struct sbuf *b, struct sbuf *eras);

/* ---- sidefile.c: the side file beside a snapshot ---- */
/* BLOCKS (and, from the leak check's fork, LEAKS and RETAINERS) are made
 * in a side file, an unnamed scratch file beside the snapshot
 * (name_open_side), as they come: never held whole in memory.  A section
 * there is framed by side_sec_begin/end (its header rewritten with the
 * length and checksum once they are known) or written whole; the side
 * file holds framed sections back to back from offset 0.  The snapshot
 * itself is written at the end, its sections in the format's order, the
 * side file's copied in by the kernel (copy_file_range). */
struct side_file {
    int fd;       /* -1: none (no file, or no BLOCKS) */
    int err;      /* errno of the first failure */
    int level;    /* zstd level of its sections (HEAPSNAP_COMPRESS); 0: raw */
    int z;        /* the open section is compressed */
    off_t at;     /* the open section's header */
    uint64_t len; /* its payload so far, as stored */
    uint64_t raw; /* ... and uncompressed (side_out's bytes) */
    uint64_t hint; /* side_sec_begin without a size: about how many (0: unknown) */
    uint32_t crc; /* the stored payload's crc32 */
    uint32_t pl_stride; /* the open section is in planes (hsnap_planes.h): its run's
                           record size; 0: not */
    uint8_t *pl;        /* the run's chunk being gathered (SIDE_PLANES_BYTES) */
    size_t pl_n;        /* its bytes so far */
    uint8_t *pt;        /* 8 planes of a chunk, made (side_planes_chunk's), or a
                           packed chunk (side_packed_chunk's) */
    int packed;         /* the open section's records are packed (hsnap_packed.h) */
};
#define SIDE_PLANES_STRIDE 64u /* the largest record side_planes takes */
#define SIDE_ZMIN 256u /* payloads of fewer bytes known in advance stay raw */

/* The side file's sections: [at, at + len) framed, by type (below
 * SIDE_TYPES). */
#define SIDE_TYPES 64u
struct side_index {
    off_t at[SIDE_TYPES];
    uint64_t len[SIDE_TYPES];
};

void side_fail(struct side_file *f);
/* The file and what its open section holds let go (closed, unmapped): the
 * snapshot goes on without a side file (fd -1), its level kept. */
void side_abandon(struct side_file *f);
void side_out(struct side_file *f, const void *p, size_t n);
void side_sec_begin(struct side_file *f, size_t room, uint64_t size);
void side_sec_begin_planes(struct side_file *f, size_t room, uint64_t size, uint32_t stride);
void side_planes(struct side_file *f, uint32_t stride); /* a new run of records */
/* As side_sec_begin, its payload's records (struct hsnap_block) packed
 * (hsnap_packed.h) when it is compressed; side_out then takes whole
 * records only. */
void side_sec_begin_packed(struct side_file *f, size_t room, uint64_t size);
void side_sec_end(struct side_file *f, uint32_t type, const void *head, size_t room);
void side_sec_whole(struct side_file *f, uint32_t type, const void *p, size_t n);
/* A struct sec_sink's parts over a side file (arg): begin a section in
 * planes (its bytes as they are until a run says otherwise), a run, the
 * bytes; its end is the section type's (side_sec_end). */
void side_sink_planes(void *f, uint64_t bytes);
void side_sink_run(void *f, uint32_t stride);
void side_sink_put(void *f, const void *p, size_t n);
/* snappytypes.c: PYTYPES, PYOWNED and PYRETAIN into the side file (b and
 * owned: the buffers the first two are made in); 1 when PYTYPES was made. */
int snap_pytypes(struct side_file *side, struct sbuf *b, struct sbuf *owned);
/* snappytypes.c: while a leak check's fork runs (lchk_forked), the live
 * blocks typed for PYTYPES as they are now; after its answer (answered:
 * it came, snap_run.written filled), that pass kept only when its blocks
 * were BLOCKS' own, else given up (snap_pytypes types them again). */
void snap_pytypes_early(void);
void snap_pytypes_early_keep(int answered);
/* snappytypes.c: a Python process's snapshot of blocks live blocks, more
 * than HEAPSNAP_PYTHON_OBJECTS: PYCAPPED into b, and a warning (once). */
void snap_pycapped(struct sbuf *b, uint64_t blocks);
/* snapmapped.c: MAPPED (the reserved address space, each mmap-kind trace's
 * resident bytes) for traces [0, n) into b; 0, or -1 (out of memory). */
int snap_mapped(struct sbuf *b, uint32_t n);
/* snapthreads.c: THREADS' head and records (the threads that allocated,
 * running threads' names read again when fresh) into b, for traces [0,
 * n); 0, or -1 (out of memory).  snap_put_threads writes the section from
 * them, each trace's thread read then.  0 or -1. */
int snap_threads(struct sbuf *b, uint32_t n, int fresh);
int snap_put_threads(struct side_file *f, const struct sbuf *b);
int side_index(int fd, struct side_index *sd);
int side_copy(int fd, int side, off_t at, uint64_t len);

/* ---- zsec.c: a section's payload compressed (zstd) ---- */
#define ZSEC_UNKNOWN UINT64_MAX /* zsec_begin: the size is not known in advance */
int zsec_level(void);                   /* HEAPSNAP_COMPRESS: 0 = raw */
int zsec_begin(int level, uint64_t size, uint64_t hint); /* a new frame: 0, or -1 (raw) */
int zsec_feed(const void *p, size_t n, int end, int (*sink)(void *, const void *, size_t),
              void *arg);
void zsec_release(void);                /* the context back to the kernel */

/* ---- blocksort.c ---- */
void bsort_blocks(struct hsnap_block *a, uint64_t n); /* by address; snapshot lock held */
void bsort_addrs(uint64_t *a, uint64_t n);            /* the same, bare addresses */
void bsort_u32(uint32_t *a, uint64_t n);              /* ... and their lower halves */
#define BSORT_SPREAD 4096u /* bsort_spread's most blocks, and its buckets */
void bsort_spread(const struct hsnap_block *a, struct hsnap_block *out, uint32_t n);

/* ---- blockstream.c: BLOCKS in address order, 4 bytes a live block ---- */
typedef void (*bstream_fn)(const struct hsnap_block *b, void *arg);
/* Every live block (as pend_foreach sees them: left gets the held ones) to
 * fn, by address; 0, or -1 out of memory (fn saw none).  Not for the
 * fatal path: the lookups take the stripes' locks. */
int bstream_blocks(bstream_fn fn, void *arg, struct pend_left *left);
/* The same in runs, each in address order (a run's blocks sorted in a
 * buffer of BSTREAM_RUN, handed on whole from inside the walk, one stripe
 * held: fn must not call into the table); 0, or -1 out of memory (fn saw
 * none). */
typedef void (*bstream_run_fn)(const struct hsnap_block *a, uint32_t n, void *arg);
int bstream_runs(bstream_run_fn fn, void *arg, struct pend_left *left);

/* ---- snapinherit.c: a fork child's inherited heap, summed apart ---- */
uint32_t inh_fork_epoch(void); /* the fork child's handler: a new birth epoch, or 0 */
void inh_begin(int leaks, uint32_t fork_epoch); /* a snapshot's start (snapshot lock) */
void inh_recount(void);          /* a walk's counting pass starts again */
/* Whether the walks leave e out of BLOCKS and STATS (born before this fork
 * child's fork, no leak check); counted into INHERITED when tally is set. */
int inh_skip(const struct tbl_entry *e, int tally);
uint64_t inh_blocks(void); /* this snapshot's inherited blocks left out */
uint64_t inh_bytes(void);  /* ... and their bytes */
void inh_put(struct sbuf *b); /* INHERITED, when the snapshot summed them */

/* ---- snapname.c: where a snapshot goes ---- */
#define NAME_MAX_PATH 4096
size_t name_exe(char *buf, size_t cap); /* /proc/self/exe's target, no NUL */
void name_choose(char *out, const char *path, unsigned reason, uint32_t seq);
int name_open_tmp(char *t, const char *path); /* t (NAME_MAX_PATH + 32): its name; fd or -1 */
unsigned name_mode(void);                     /* HEAPSNAP_MODE's permission bits */
void name_manifest(const char *path, int err, int last); /* run told: written (0) or
                                                         * failed; last: the exit's */
/* rec (its NUL included) appended to HEAPSNAP_MANIFEST's file m: no link
 * followed, SIGXFSZ held; 0, or -1 (errno; ELOOP, EPERM: refused, said once) */
int name_manifest_append(const char *m, const char *rec, size_t n);
/* shim/attach: told of each snapshot too (its absolute path), when set */
extern void (*name_notify)(const char *path, int err);
int name_commit(const char *t, char *path);   /* t -> path (may become path.<pid>); 0/-1 */
int name_has_pid(void);                       /* the name chosen last came from a %p pattern */
int name_open_side(const char *path);         /* an unnamed scratch file beside path; fd or -1 */
void name_after_fork_child(void);

/* ---- snapdest.c: a name that is not a file to replace ---- */
enum { DEST_RENAME, DEST_STREAM, DEST_STREAM_LINK };
/* What path leads to: DEST_RENAME (nothing, a regular file, a directory:
 * a temporary renamed over it), DEST_STREAM (a device, FIFO or socket
 * owned by this user or root: written in place), DEST_STREAM_LINK (a
 * symlink, of such an owner, to one), or -1 with *why (why may be NULL):
 * a symlink to anything else, or another user's node. */
int dest_kind(const char *path, const char **why);
/* A scratch file for a snapshot that goes to a stream: unnamed in /tmp,
 * else in memory (memfd).  The fd, or -1 with errno. */
int dest_scratch(void);
/* src, from its start, written into path's node (kind from dest_kind);
 * never blocks for long, raises no SIGPIPE.  0, or -1 with errno and, when
 * errno alone would not say it, *why. */
int dest_write(const char *path, int kind, int src, const char **why);

/* ---- modules.c ---- */
struct dl_phdr_info;
void mod_span(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi, const char **id,
              size_t *id_len);            /* *hi 0: no PT_LOAD */
void mod_section(struct sbuf *b, struct sbuf *gone); /* MODULES, UNLOADED */

/* ---- snapshot.c ---- */
/* Names, writes and counts one snapshot (NULL path: HEAPSNAP_OUTPUT);
 * 0, or -1 after one warning.  fatal: bounded lock attempts, never hang;
 * its value is the fatal signal's number (kept in meta.flags) or 1. */
int snap_take(unsigned reason, const char *path, int fatal);
/* The errno of the last snap_take's failure (ENOMEM: a step of it found no
 * memory), 0 after a success.  Under the caller's serialisation: the
 * exit's. */
int snap_fail_err(void);
uint32_t snap_epoch(void);
uint32_t snap_epoch_advance(void); /* the new epoch */
/* snapshot/dump.c: heapsnap_dump and heapsnap_dump_free (heapsnap.h). */
struct heapsnap_dump;
struct heapsnap_dump *dump_take(int what, unsigned since, const void *block, unsigned code_from);
void dump_free(struct heapsnap_dump *d);
void snap_lock(void);
void snap_unlock(void);
void snap_after_fork_child(void);

/* ---- runchan.c: the socket of `heapsnap run` ---- */
int rchan_tell(const char *path, int err); /* 0: run was told */
int rchan_tell_state(const char *path);    /* ... of this process's state file */
int rchan_tell_stopped(void);              /* ... that it ends stopped: no exit snapshot */
int rchan_tell_last(const char *path);     /* ... that path, told, is its exit snapshot */
void rchan_tell_kin(pid_t pid);            /* ... that it made process pid */
void rchan_tell_launcher(const char *what); /* ... that it is a launcher (launch_own_image) */
int rchan_fd_number(void);                 /* the channel's descriptor, or -1 */

/* ---- siteline.c: memory over time, per site (SITELINE) ---- */
#define SL_SITES 8u  /* the largest traces kept at each point */
#define SL_MAX 512u  /* points kept (then halved) */
struct sl_point {
    struct hsnap_siteline_point p;
    struct hsnap_siteline_site site[SL_SITES];
    uint64_t mapped; /* of p.heap, the mmap kind's bytes (MAPLINE) */
};
uint64_t sl_step_ns(void);  /* HEAPSNAP_SITELINE; 0 = off */
uint64_t sl_due(void);      /* monotonic time of the next point; 0 = off */
void sl_sample(void);       /* the helper thread takes a point */
void sl_end(int ended);     /* 1: the exit snapshot has begun, no more points */
struct sbuf;
void sl_check(const struct trace_live *live, uint32_t n); /* HEAPSNAP_SITELINE_CHECK */
int sl_put(struct sbuf *b, struct sbuf *ml, const struct trace_live *live, uint32_t nlive,
           uint32_t ntraces, int fatal); /* SITELINE and MAPLINE (empty when off); 0 or -1 */
void sl_reset(void);        /* a new attach: no point kept */
void sl_lock(void);         /* fork */
void sl_unlock(void);
/* For the unit test: */
unsigned sl_halve(struct sl_point *pt, unsigned n);
void sl_record(const struct sl_point *p);
uint64_t sl_top(const struct trace_live *live, uint32_t n, struct hsnap_siteline_site *top,
                unsigned k);

#define SNAP_FATAL_TRIES 2000 /* lock attempts on the fatal path: never hang */

/* The sections in the order they are written (snap_types). */
enum { SEC_META, SEC_MODULES, SEC_TRACES, SEC_STATS, SEC_BLOCKS, SEC_TIMELINE, SEC_LEAKS,
       SEC_RETAINERS, SEC_PEAK, SEC_SITELINE, SEC_TEMPS, SEC_PYCODE /* shim/python */, SEC_SUPP,
       SEC_FAILED, SEC_GONE, SEC_STATE, SEC_MAPLINE, SEC_PYTYPES, SEC_PYOWNED,
       SEC_PYRETAIN, SEC_PYGCFREED, SEC_PYCAPPED, SEC_PYUNREAD, SEC_MAPPED, SEC_THREADS,
       SEC_HOLDERS, SEC_INHERITED, SEC_N };

/* Live sums per trace, derived rather than kept on the hot path: from the
 * blocks as BLOCKS is written when there is one, else from a walk of the
 * table (one stripe locked at a time).  Traces born after the array was
 * sized get zero live sums in this snapshot (BLOCKS grows it). */
struct snap_live {
    struct trace_live *live; /* arena_map'd; NULL when n is 0 */
    uint32_t n;              /* traces it has room for */
    size_t len;              /* its bytes (map's where set), for arena_unmap */
    void *map;               /* the mapping live lies in, or NULL: live's own */
};
/* The array, for n traces (and slack: traces born while the blocks are
 * written); 0 or -1.  snap_live_drop gives it back (made or not). */
int snap_live_init(struct snap_live *lv, uint32_t n);
void snap_live_drop(struct snap_live *lv);

/* ---- snaptraces.c: TRACES and STATS into the file ---- */
/* TRACES of the count in b (len bytes raw: all frames written out); its
 * shared frames stored once when f is compressed.  0 or -1. */
int snap_put_traces(struct side_file *f, const struct sbuf *b);
/* STATS of the count in b, live sums from lv (NULL: none).  0 or -1. */
int snap_put_stats(struct side_file *f, const struct sbuf *b, const struct snap_live *lv);
/* TEMPS' counts of traces [0, n) into b as snap_put_temps takes them (the
 * nonzero ones, or all); 0, or -1 (out of memory). */
int snap_temps(struct sbuf *b, uint32_t n);
/* TEMPS from b (snap_temps').  0 or -1. */
int snap_put_temps(struct side_file *f, const struct sbuf *b);

/* What the last run (a snapshot, a check) left behind. */
/* Why an asked-for leak check gave no answer (snap_run.leaks_skipped). */
enum {
    SNAP_SKIP_UNSTOPPED = 1, /* a thread could not be stopped, and no fork could check */
    SNAP_SKIP_FAILED = 2,    /* no memory, or its copy ended without one: LEAKS_FAILED */
};

struct snap_run {
    struct pend_left left; /* held blocks the last walk left out */
    int lines;             /* the live sums are peak_live's lines (a state document) */
    int64_t unreachable;   /* the last leak check's leaked blocks, or -1 */
    int leaks_skipped;     /* asked for, the check did not answer: SNAP_SKIP_* (META) */
    /* PYTYPES: where the streamed BLOCKS (snap_blocks_stream) type the
     * blocks as they pass (py_types_begin, py_types_block), or NULL; and
     * whether they did (py_types_end or py_types_drop is then owed) */
    struct sbuf *pytypes;
    int pytyped;
    /* whether a leak check's fork leaves the typing to be done while it
     * runs (snap_pytypes_early): at exit, where threads seldom move blocks
     * meanwhile (one that does costs the pass: snap_pytypes_early_keep
     * types again); a running program's mostly do, which would waste it */
    int pytypes_early;
    /* BLOCKS' addresses and sizes as written, when the check wrote them
     * (on its fork or in place): the objects' pass takes the live
     * blocks BLOCKS has at the same address with the same size, so that
     * PYTYPES and PYRETAIN speak of the blocks BLOCKS holds (a block
     * freed and made anew at the same address since had another size: a
     * retained size below BLOCKS' own).  Mapped by the check, given back
     * by snap_written_drop. */
    struct snap_written *written;
    uint64_t nwritten;
    size_t written_len;
};
extern struct snap_run snap_run;
/* One block of BLOCKS as written (snap_run.written). */
struct snap_written {
    uint64_t addr, size;
};
/* snap_run.written given back (snapshot.c, at a run's end). */
void snap_written_drop(void);

/* ---- snapshot.c ---- */
void snap_take_lock(void); /* a run's lock, after any snap_lock caller */
void snap_drop_lock(void); /* the run's end: advances the birth epoch */
/* snap_take, with the leaked blocks the check found in *found (may be
 * NULL; -1 without a check). */
int snap_take_found(unsigned reason, const char *path, int fatal, int64_t *found);
/* BLOCKS into the file (f->fd < 0: none), the live sums into *lv, the
 * blocks written into *count; with the leak check (*leaks; on a fork or in
 * place, as HEAPSNAP_LEAK_FORK says for reason), LEAKS and
 * RETAINERS too, or into their sbufs in sec; *leaks cleared when it could
 * not run.  0 or -1. */
int snap_put_blocks(struct side_file *f, struct sbuf *sec, unsigned reason, int fatal,
                    int *leaks, struct snap_live *lv, uint64_t *count);

/* The state file's document (state_beat_now): 0, 1 (busy: not now), -1; stored
 * raw when it takes at most raw_room bytes so. */
int snap_state_doc(int fd, struct snap_live *lv, uint64_t raw_room);

/* What the writer asks of the rooms above it: the leak check (leak/) and
 * the root.  life_init names them once at start-up (snap_set_host), before any
 * snapshot; the writer calls none of them by name. */
struct snap_host {
    int (*own_process)(void);        /* life_own_process */
    int (*leak_wanted)(unsigned reason, int fatal, unsigned *why); /* lchk_wanted */
    int (*leak_forked)(struct side_file *f, struct snap_live *lv, uint64_t *count);
    int (*leak_inplace)(struct side_file *f, struct sbuf *sec, int fatal, int *leaks,
                        struct snap_live *lv, uint64_t *count);
    int (*can_hold)(void);           /* stop_can_hold */
    void (*read_suppressions)(void); /* lsan_read_suppressions */
    const char *(*suppressions)(size_t *len); /* lsan_suppressions */
    void (*state_use)(struct sbuf *b); /* state_put: the STATE section */
    int (*state_yield)(void);          /* state_yield: its blocks back (0), or -1 */
    /* helper_job: fn(arg) on a second thread of the shim's own (1), or, where
     * none can be made, here and done (0); helper_job_wait: its end */
    int (*job)(void (*fn)(void *), void *arg);
    void (*job_wait)(void);
};
void snap_set_host(const struct snap_host *host);
extern const struct snap_host *snap_host; /* snapshot.c's, for snapblocks.c */

#endif
