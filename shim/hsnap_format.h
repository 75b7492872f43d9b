/*
 * hsnap_format.h - the .hsnap snapshot file format: the one contract between
 * shim/ (which writes it) and report/ (which reads it).
 *
 * Everything is little-endian, packed, with no padding between items.  Raw
 * instruction pointers and the module map are stored; symbolization happens
 * later, in the CLI.
 *
 * Derived sections: RETAINERS, PYOWNED and PYRETAIN are what the shim
 * computed from the others (BLOCKS, PYTYPES).  The shim writes them
 * consistent with those (a retained size never below its block's own); a
 * reader that finds one inconsistent leaves that section out with one
 * warning and reads the rest.  Every other section (LEAKS too: a gate's
 * verdict rests on it) is refused whole when damaged.
 *
 *   file     := header section* end
 *   header   := magic[8] "HSNAP\0\r\n"          catches text-mode mangling
 *               u32 version                      HSNAP_VERSION; readers refuse newer
 *               u32 header_size                  sizeof(struct hsnap_header) = 24
 *               u64 file_size                    total bytes incl. header and end
 *   section  := u32 type                         HSNAP_SEC_*, | HSNAP_SEC_ZSTD when the
 *                                                payload is stored compressed
 *                                                (version 3); unknown types are
 *                                                skipped
 *               u32 crc32                        zlib crc32 of the payload bytes
 *                                                as stored (compressed or not):
 *                                                checked before decompression
 *               u64 length                       payload bytes that follow
 *               payload[length]
 *   stored payload of a type | HSNAP_SEC_ZSTD (version 3):
 *               struct hsnap_zhead               raw_len: the payload's length
 *                                                uncompressed; head_len (<= 64)
 *               head[head_len]                   the payload's first bytes, as
 *                                                they are (a count known only
 *                                                after the rest was compressed)
 *               frame                            one zstd frame (RFC 8878),
 *                                                with or without a content
 *                                                checksum (the shim leaves it
 *                                                out: crc32 covers the bytes
 *                                                stored, and the decoder's
 *                                                size checks the rest): the
 *                                                payload's other raw_len -
 *                                                head_len bytes; its content
 *                                                size, when the frame says it,
 *                                                is that; it ends at the
 *                                                section's end.  What follows
 *                                                in this grammar is always of
 *                                                the payload uncompressed.
 *               With HSNAP_ZHEAD_PLANES in the zhead's flags (version 4)
 *               the frame's content is the payload after the head in
 *               planes (hsnap_planes.h): a run of records of one size is
 *               stored byte plane by byte plane (every record's byte 0,
 *               then every record's byte 1, ...), chunk by chunk:
 *   planes   := chunk*, chunk := u32 stride (1..HSNAP_PLANES_STRIDE_MAX),
 *               u32 count (1..HSNAP_PLANES_COUNT_MAX),
 *               bytes[stride * count]: byte j of record i at j * count + i;
 *               the payload is the chunks' records in order.  Fields of
 *               like records change little from one to the next (an
 *               address's high bytes, a type, a flag), so their planes
 *               compress 3 to 5 times better than the records do.
 *               With HSNAP_ZHEAD_PACKED instead (version 6; the shim
 *               packed BLOCKS so there) the frame's content is records of struct
 *               hsnap_block after the head in
 *               packed chunks (hsnap_packed.h): each record as varints of
 *               what changed since the one before (the address's
 *               difference, the size, the trace's, the epoch, the rest
 *               only when not zero); the payload is the chunks' records
 *               in order (BLOCKS' runs: above).  With
 *               HSNAP_ZHEAD_FORMED instead (version 7; the shim's) the
 *               chunks are formed (hsnap_packed.h): a form byte says once
 *               what the chunk's records share (addresses' alignment, one
 *               epoch, no leak check's fields), and each record holds the
 *               rest.  More than one of the three flags is refused.
 *   end      := section with type HSNAP_SEC_END and length 0: a file without it
 *               is truncated.
 *
 * Each known section appears at most once, in the order below.  META, MODULES,
 * TRACES and STATS are required.  Counts come first in every payload; a reader
 * checks count * item_size against the section length before touching an item.
 *
 *   META      := struct hsnap_meta, then str cmdline, str exe
 *                str := u32 len, bytes[len] (no NUL; cmdline args joined by ' ')
 *   MODULES   := u32 count, module[count]
 *                module := u64 bias        load bias (runtime = file vaddr + bias)
 *                          u64 lo, u64 hi  runtime [lo,hi) covered by its PT_LOADs
 *                          u16 path_len, u16 build_id_len, u32 flags
 *                          path[path_len] build_id[build_id_len]
 *                Module 0 is the main executable.  Modules unloaded (dlclose)
 *                before the snapshot follow the loaded ones, newest first,
 *                with HSNAP_MODULE_UNLOADED; ranges may then overlap, and the
 *                first module that holds an address is the one it is in (a
 *                loaded module, else the latest unloaded).
 *   TRACES    := u32 count, trace[count]           trace id = index, 0-based
 *                trace := u16 depth, u16 flags (HSNAP_TRACE_*), u16 shared,
 *                         u16 reserved (0)
 *                         u64 ip[depth - shared]   innermost first; return
 *                                                  addresses as captured (the
 *                                                  reader subtracts 1 for lookup
 *                                                  from every frame but frame 0)
 *                The trace's outermost shared frames are those of the trace
 *                before (its last shared ips), and are not stored again:
 *                shared <= depth, and <= the depth of the trace before (0
 *                for trace 0).  shared is 0 in files before version 5 (a
 *                u32 reserved, 0, there); a reader of those ignores it.
 *   STATS     := u32 count, struct hsnap_stat[count]   one per trace, same index
 *   BLOCKS    := u64 count, struct hsnap_block[count]  live blocks, sorted by addr;
 *                packed (format 6 on) in runs, each sorted, that a reader
 *                sorts when no section names blocks by index (LEAKS,
 *                RETAINERS, HOLDERS: the model writes them in order)
 *   TIMELINE  := u32 count, struct hsnap_point[count]  heap size over time
 *   LEAKS     := struct hsnap_leaks_head
 *                struct hsnap_leak_total[nclass]     by enum hsnap_class, 0-based
 *                struct hsnap_leak_record[nrecords]  ordered by root address
 *                u32 member[nmembers]                BLOCKS indices; each cycle
 *                                                    record's members, in cycle
 *                                                    order, at members_off
 *                Written by the reference model; needs BLOCKS (records name
 *                blocks by index).  The section length is exactly
 *                40 + 16*nclass + 56*nrecords + 4*nmembers.  A reader checks
 *                root < block count, cls in {DIRECT, CYCLE},
 *                members_off + nmembers_of_record <= nmembers, each member
 *                < block count, and reads min(nclass, what it knows) totals.
 *                One record per leak root: a direct leak, or a leaked cycle no
 *                other leaked block points into.  Every direct, indirect and
 *                cycle block is owned by exactly one record (the lowest-
 *                address root that reaches it), so own + indirect over all
 *                records = the DIRECT + INDIRECT + CYCLE totals.
 *   RETAINERS := u32 count, u32 reserved (0), struct hsnap_retainer[count]
 *                "Who keeps this memory alive", per allocation site: one
 *                item per (target trace, source) pair found while the model
 *                marked live memory, sorted by (target_trace, source_kind,
 *                source_trace), no duplicates.  The source is a block's
 *                allocation trace (source_kind HSNAP_RET_BLOCK) or a kind of
 *                root (HSNAP_RET_DATA .. HSNAP_RET_USER; source_trace 0).
 *                refs counts every reference (start or interior) from that
 *                source to a block of the target site that was reachable or
 *                possibly lost.  blocks/bytes count the target site's
 *                REACHABLE blocks whose first retainer (the reference the
 *                marking followed to reach it) was this source: over one
 *                target trace they sum to its REACHABLE blocks and bytes,
 *                less its IGNORED blocks (which are roots themselves).
 *                Written only with LEAKS.  A reader checks the length is
 *                exactly 8 + 40*count, each trace < TRACES count, and
 *                source_kind <= HSNAP_RET_USER.  Derived (below).
 *   HOLDERS   := struct hsnap_holders_head        (type 29, within version 5)
 *                struct hsnap_hold[nblocks]        one per BLOCKS index, 8 bytes
 *                u64 root_at[nroot]                root words' addresses
 *                struct hsnap_hold_in[ninterior]   interior offsets, by block
 *                struct hsnap_hold_range[nranges]  the root ranges scanned
 *                struct hsnap_hold_tls[ntls]       modules' static TLS
 *                "Who holds this block", one block at a time: for a
 *                reachable, possibly lost or runtime block, the word that
 *                the model followed to it: in block `from`, aux bytes into
 *                it, or (from HSNAP_HOLD_ROOT) in a root range at
 *                root_at[aux] (the range holding it: a thread's with its
 *                tid, comm and thread pointer).  A possibly lost block's is
 *                the first reference the model met (interior, or from a
 *                possibly lost block); where it points into the block
 *                rather than at its start, hsnap_hold_in says how far
 *                (ascending block order, each block once).  A cycle or
 *                indirect block's from is its loss record's root block (the
 *                cycle's lowest member, the direct block it hangs under),
 *                aux 0; a direct or ignored block's is HSNAP_HOLD_NONE.  A
 *                TLS item says that the module loaded at bias has its static
 *                TLS block (size bytes, whose STT_TLS symbols' values are
 *                offsets into it) at tp - off in every thread.  8 bytes a
 *                block, so the check's fork stays small.  Written only with
 *                LEAKS (an older reader skips it: no block-by-block --why).
 *                A reader checks the length is exactly 24 + 8*nblocks +
 *                8*nroot + 8*ninterior + 48*nranges + 24*ntls, nblocks =
 *                BLOCKS' count, each from < nblocks or a mark (ROOT: aux <
 *                nroot), interior blocks ascending and < nblocks, and kind
 *                in HSNAP_RET_DATA .. HSNAP_RET_MAPPED.
 *   SUPPRESSIONS := bytes[length]   (type 15) the text the program's
 *                __lsan_default_suppressions() returned (LeakSanitizer's
 *                "leak:PATTERN" lines), no NUL; written only with LEAKS, and
 *                only when the program defines it and it returned a
 *                non-empty string.  `leaks` and `gate` apply it.
 *   PEAK      := struct hsnap_peak, struct hsnap_peak_item[count]   (version 2)
 *                What each trace held at the traced high-water mark, as
 *                captured by the shim (peak_live): the items are the
 *                traces with live blocks then, sorted by trace id, each
 *                once, trace < TRACES count; their blocks and bytes add up
 *                to the head's.  The capture is a state whose total is
 *                within step_ppm millionths (or floor bytes, whichever is
 *                more) of meta.peak_bytes below it, 0 = every new peak;
 *                with several threads see peak.c on exactness.  Absent
 *                when HEAPSNAP_PEAK=off.  A reader checks the length is
 *                exactly 40 + 24*count.
 *   TEMPS     := u32 count, u32 reserved (0), u64 temps[count]   (version 2)
 *                Temporary allocations per trace, same index as STATS
 *                (count = the STATS count): blocks freed by the very
 *                next allocation event (malloc, free, realloc...) of the
 *                thread that allocated them (heaptrack's rule, per
 *                thread).  A realloc frees its old block, then
 *                allocates; a sampled snapshot counts
 *                sampled blocks only, weighted like STATS' counts.  Each
 *                value is at most the trace's total_count.
 *
 *   (format 2) SITELINE := struct hsnap_siteline_head, point[count]
 *                point := struct hsnap_siteline_point,
 *                         struct hsnap_siteline_site[nsites]
 *                Memory over time, sampled by the shim's helper thread
 *                (sl_record): at each point the traced live bytes
 *                (heap), the process's resident set (rss, from
 *                /proc/self/statm; 0 = could not be read), and the live
 *                bytes of the point's nsites largest traces, biggest first
 *                (a slot with trace HSNAP_SITELINE_NONE and 0 bytes when
 *                fewer traces hold memory); other = heap less those.
 *                Points are in time order (t_ns since meta.start_ns, as
 *                TIMELINE's); the buffer is bounded: when full, every
 *                other point is dropped (the highest heap point always
 *                stays) and the spacing doubles (step_ns: the spacing now;
 *                points are skipped while their sums are not paid for,
 *                HEAPSNAP_SITELINE_COST).  The last point is the
 *                snapshot's own, at its time.
 *                Absent when HEAPSNAP_SITELINE=0.  A reader checks the
 *                length is exactly 32 + count*(32 + 16*nsites),
 *                1 <= nsites <= 64, each trace < TRACES count or NONE,
 *                and t_ns never decreasing.
 *
 *   FAILED    := u32 count, u32 reserved (0), struct hsnap_failed[count]
 *                (type 16) Allocations that returned NULL (malloc, calloc,
 *                realloc, reallocarray, posix_memalign's ENOMEM, the aligned
 *                family; C++ new reaches them through libstdc++), per
 *                allocation site: one item per trace that failed at least
 *                once, sorted by trace id, each once, trace < TRACES count,
 *                count >= 1.  max_size is the largest size asked there, in
 *                bytes; HSNAP_FAILED_OVERFLOW when n * size of a calloc or
 *                reallocarray did not fit in 64 bits.  Counts are never
 *                scaled: a sampled snapshot records every failure.  The
 *                traces' STATS do not count failures.  Absent when nothing
 *                failed (and in files older than this section: readers take
 *                no section as no failures).  A reader checks the length is
 *                exactly 8 + 24*count.
 *
 *   UNLOADED  := u32 count, u32 until[count]
 *                (type 17) For each module flagged HSNAP_MODULE_UNLOADED,
 *                in MODULES' order: the count of traces made before it
 *                left (trace ids below it may hold its addresses).  An
 *                address of trace t is in the loaded module that holds it,
 *                unless an unloaded one holding it has until > t: then in
 *                the one of those with the least until (it was there when
 *                t was made); else the first unloaded that holds it.
 *                Absent when no module was unloaded; a reader checks count
 *                equals the unloaded modules and the length is 4 + 4*count.
 *   STATE     := u64 bound, u64 used, u32 flags (HSTATE_FULL_*), u32 0
 *                The state file the process kept while it ran
 *                (hsnap_state.h, HEAPSNAP_STATE): its bound and the most
 *                of it in use, in bytes.  Absent without one; a reader
 *                checks the length is exactly 24.
 *   MAPLINE   := u32 count, u32 0, u64 mapped[count]
 *                (type 19) For each SITELINE point, same index (count =
 *                its count): the live bytes of the mmap kind's traces
 *                (HSNAP_TRACE_MMAP) in the point's heap; the malloc kind's
 *                are heap less them.  Written with SITELINE when a trace
 *                is of the mmap kind; absent otherwise (every point's heap
 *                is then malloc's).  A reader checks the length is exactly
 *                8 + 8*count and mapped[i] <= heap[i].
 *
 *   MAPPED    := struct hsnap_mapped, struct hsnap_mapped_item[count]
 *                (type 26) The program's address space beside its
 *                allocations.  reserved_bytes in reserved_ranges ranges:
 *                anonymous memory it mapped PROT_NONE (the CUDA driver,
 *                jemalloc, Go, the JVM reserve so) and has not given access
 *                to since (mprotect, mmap MAP_FIXED); never in
 *                current_bytes, peak_bytes, STATS, PEAK or SITELINE (a
 *                piece given access is a range of the mmap kind, charged
 *                to the call that gave it).  Then one item per trace of the
 *                mmap kind with live ranges, sorted by trace id, each once,
 *                trace < TRACES count: the bytes of its ranges resident at
 *                the snapshot (mincore, read before the leak check: at
 *                most its live bytes unless another thread unmapped since);
 *                resident_bytes is their sum.  Written when the program
 *                mapped or reserved anything, not on the fatal path; absent
 *                in older files (nothing reserved, residency unknown).  A
 *                reader checks the length is exactly 32 + 16*count.
 *
 *   THREADS   := struct hsnap_threads_head, struct hsnap_thread[count],
 *                u16 thread[ntraces]
 *                (type 27) The threads that allocated: each trace is one
 *                thread's (the shim keeps a stack apart per thread), and
 *                thread[t] is the index of trace t's thread, or
 *                HSNAP_THREAD_NONE (a pseudo-trace of every thread's: the
 *                <unsampled>).  Records are sorted by index, each once;
 *                index 0 (HSNAP_THREAD_OTHERS) stands for the threads past
 *                the shim's table, sharing it.  ntraces is at most the
 *                TRACES count (a state file's document names the traces
 *                it knew; later ones read NONE); every thread[t] is NONE
 *                or some record's index.
 *                name: the thread's comm (pthread_setname_np), or in a
 *                Python process threading's name for it (Thread._name,
 *                cut to 15 bytes at a character's end), NUL padded, read
 *                at the snapshot for a running thread; for an ended one,
 *                the Python name a snapshot last read, else comm at its
 *                end.  Absent in older files (no
 *                thread known).  A reader checks record_size is 32, the
 *                length is exactly 16 + 32*count + 2*ntraces, indexes
 *                increasing.
 *
 *   INHERITED := struct hsnap_inherited   (type 30, within version 6)
 *                A fork child's heap from before the fork, summed apart
 *                (HEAPSNAP_INHERITED=summary): the blocks born before the
 *                fork (birth epoch below fork_epoch) that are still live
 *                in the child, blocks of them, bytes in all.  They are in
 *                none of BLOCKS, STATS, meta.current_bytes and
 *                meta.live_blocks, which hold the child's own blocks only
 *                (born, or reallocated, since the fork); an inherited
 *                block the child freed is in neither.  meta.peak_bytes,
 *                PEAK, SITELINE and TIMELINE stay the process's (the
 *                inherited heap in); meta.total_frees counts them as
 *                freed, as it counts held frees (allocs - frees = live
 *                blocks).  ppid is meta.ppid.  Written by a fork child's
 *                snapshots without a leak check (the check reads every
 *                block: its snapshot holds them all, as before); absent
 *                otherwise.  A reader checks the length is exactly 40
 *                and bytes, blocks within the sums' bound.
 *
 *   PYTYPES, PYOWNED, PYRETAIN, PYGCFREED (types 20 to 23), PYCODE (type
 *                12, version 2) and the words that name a Python frame in
 *                a trace (HSNAP_PY_TAG): hsnap_pyformat.h, the Python part.
 *
 * Versions: 1 had no PEAK, SITELINE, TEMPS, PYCODE and SUPPRESSIONS; 2 had no
 * compressed sections (HSNAP_SEC_ZSTD); 3 had no planes (HSNAP_ZHEAD_PLANES:
 * BLOCKS, PYTYPES and PYRETAIN are stored so from 4); 4 had no shared frames
 * in TRACES (the shim writes them from 5); 5 had no packed BLOCKS
 * (HSNAP_ZHEAD_PACKED: the shim's streamed BLOCKS from 6); 6 had no formed
 * packed chunks (HSNAP_ZHEAD_FORMED: the shim's BLOCKS from 7); readers
 * load 1 to 7.  The shim
 * compresses every section but META and END unless HEAPSNAP_COMPRESS=0, the
 * snapshot is small by estimate (under 2048 live blocks' worth, counting
 * its stacks: then it writes format 2) or the payload is under a few
 * hundred bytes.  FAILED came within version 2 (an older
 * reader skips it), and so did HSNAP_TRACE_MMAP and meta.file_maps (an
 * older reader shows mmap-kind sites as malloc ones), and so did UNLOADED, STATE
 * and MAPLINE (an older reader takes the latest unloaded module at an address),
 * and so did MAPPED (an older reader skips it: no reserved total), and
 * THREADS (an older reader skips it: no thread key).  INHERITED came within
 * version 6 (an older reader skips it: a fork child shows its own blocks,
 * and no line for what it inherited).
 * PYTYPES came within version 3 (an older reader skips it: no types), and
 * so did PYOWNED (an older reader skips it: no top --owner), PYRETAIN
 * (no retained sizes) and PYGCFREED (no top --collected).
 */
#ifndef HSNAP_FORMAT_H
#define HSNAP_FORMAT_H

#include <stdint.h>

#define HSNAP_MAGIC "HSNAP\0\r\n"
#define HSNAP_MAGIC_LEN 8
#define HSNAP_VERSION 7u /* readers take 1 to 7 */

enum hsnap_section_type {
    HSNAP_SEC_META = 1,
    HSNAP_SEC_MODULES = 2,
    HSNAP_SEC_TRACES = 3,
    HSNAP_SEC_STATS = 4,
    HSNAP_SEC_BLOCKS = 5,
    HSNAP_SEC_TIMELINE = 6,
    HSNAP_SEC_LEAKS = 7,
    HSNAP_SEC_RETAINERS = 8,
    HSNAP_SEC_PEAK = 9,
    HSNAP_SEC_SITELINE = 10,
    HSNAP_SEC_TEMPS = 11,
    HSNAP_SEC_PYCODE = 12, /* Python code objects (hsnap_pyformat.h) */
    HSNAP_SEC_SUPPRESSIONS = 15,
    HSNAP_SEC_FAILED = 16, /* failed allocations per site */
    HSNAP_SEC_UNLOADED = 17, /* when the unloaded modules left */
    HSNAP_SEC_STATE = 18,  /* the state file's bound and use */
    HSNAP_SEC_MAPLINE = 19, /* the mmap kind's bytes at each SITELINE point */
    HSNAP_SEC_PYTYPES = 20, /* Python objects' types */
    HSNAP_SEC_PYOWNED = 21, /* native blocks Python objects own */
    HSNAP_SEC_PYRETAIN = 22, /* the heap's dominator tree: retained sizes */
    HSNAP_SEC_PYGCFREED = 23, /* objects the cycle collector freed, per site */
    HSNAP_SEC_PYCAPPED = 24, /* no PYTYPES: more live blocks than the cap (hsnap_pycapped) */
    HSNAP_SEC_PYUNREAD = 25, /* a CPython the shim did not read (hsnap_pyunread) */
    HSNAP_SEC_MAPPED = 26, /* address space reserved; mapped ranges' residency */
    HSNAP_SEC_THREADS = 27, /* the threads that allocated, each trace's */
    HSNAP_SEC_HOLDERS = 29, /* the reference that holds each block (leak check) */
    HSNAP_SEC_INHERITED = 30, /* a fork child's heap from before the fork, summed */
    HSNAP_SEC_END = 0xffff,
};
/* INHERITED's payload: what a fork child still holds of its parent's heap. */
struct hsnap_inherited {
    uint32_t ppid;        /* the parent, as the snapshot was taken (meta.ppid) */
    uint32_t fork_epoch;  /* blocks born in an epoch below it are inherited */
    uint64_t blocks;      /* inherited blocks still live */
    uint64_t bytes;       /* their requested bytes */
    uint64_t reserved[2]; /* 0 */
};

/* PYCAPPED's payload: the Python objects were not read, the snapshot having
 * blocks live blocks, more than HEAPSNAP_PYTHON_OBJECTS (cap). */
struct hsnap_pycapped {
    uint64_t blocks, cap;
};

/* PYUNREAD's payload: the process runs a CPython whose frames and objects
 * the shim does not read (native frames only; with why OBJECTS, whose
 * frames it reads but not its objects), of version (Py_Version's
 * major.minor, 0x030e0000 for 3.14; 0: it did not say), and why.  A
 * reader checks the length is 8 and why is one of these. */
struct hsnap_pyunread {
    uint32_t version, why;
};
enum hsnap_pyunread_why {
    HSNAP_PYUNREAD_UNKNOWN = 1,       /* a version heapsnap has no layout for */
    HSNAP_PYUNREAD_OLD = 2,           /* older than 3.10 */
    HSNAP_PYUNREAD_NO_OFFSETS = 3,    /* 3.13 on, without _Py_DebugOffsets */
    HSNAP_PYUNREAD_OTHER_VERSION = 4, /* its _Py_DebugOffsets name another version */
    HSNAP_PYUNREAD_SHAPE = 5,         /* _Py_DebugOffsets of a shape not read (a newer version) */
    HSNAP_PYUNREAD_FREE_THREADED = 6, /* a free-threaded build (3.13t on) */
    HSNAP_PYUNREAD_RANGE = 7,         /* its _Py_DebugOffsets out of range */
    HSNAP_PYUNREAD_SYMBOLS = 8,       /* symbols the shim needs are missing */
    HSNAP_PYUNREAD_CLAIMED = 9,       /* HEAPSNAP_PYTHON claimed another version */
    HSNAP_PYUNREAD_OBJECTS = 10,      /* frames read, objects not: no object layout yet */
    HSNAP_PYUNREAD_UNVERIFIED = 11,   /* its frames did not read as the layout says */
    HSNAP_PYUNREAD_WHY_MAX = 11
};

/* Section type flag (version 3): the payload is stored as struct hsnap_zhead,
 * head, zstd frame (grammar above).  END is never compressed. */
#define HSNAP_SEC_ZSTD 0x10000u
#define HSNAP_ZHEAD_MAX 64u /* head_len's bound */

/* Why a snapshot was written (hsnap_meta.reason). */
enum hsnap_reason {
    HSNAP_REASON_EXIT = 1,     /* normal process exit (atexit) */
    HSNAP_REASON_SIGNAL = 2,   /* HEAPSNAP_SIGNAL received */
    HSNAP_REASON_INTERVAL = 3, /* HEAPSNAP_INTERVAL timer */
    HSNAP_REASON_API = 4,      /* heapsnap_take_snapshot() */
    HSNAP_REASON_FATAL = 5,    /* fatal signal, written before re-raising */
    HSNAP_REASON_COLLECT = 6,  /* heapsnap_collect() with a path */
    HSNAP_REASON_LSAN = 7,     /* __lsan_do_leak_check / __lsan_do_recoverable_leak_check */
    HSNAP_REASON_EXEC = 8,     /* the image was about to exec (HEAPSNAP_EXEC_SNAPSHOT) */
    HSNAP_REASON_KILLED = 9,   /* read from a state file (hsnap_state.h): the process
                                  ended without its exit snapshot (a SIGKILL) */
    HSNAP_REASON_DETACH = 10,  /* heapsnap detach (or the end of heapsnap attach) */
};

/* hsnap_trace.flags */
#define HSNAP_TRACE_TRUNCATED 0x1u /* the stack was deeper than meta.depth */
#define HSNAP_TRACE_UNSAMPLED 0x2u /* the <unsampled> pseudo-site, depth 0 */
/* allocated between __lsan_disable and __lsan_enable: the leak check
 * ignores its blocks (a twin of the trace with the same frames) */
#define HSNAP_TRACE_DISABLED 0x4u
/* the trace's kind is mmap: its live "blocks" are ranges of anonymous
 * memory the program mapped itself (mmap, mremap), not malloc blocks;
 * they are in STATS, PEAK, SITELINE and FAILED, never in BLOCKS (so never
 * in the leak check).  A file without the flag is all malloc kind. */
#define HSNAP_TRACE_MMAP 0x8u
/* allocated by tracemalloc's allocator hooks for themselves (their traces,
 * tracebacks and hash tables), told by the hooks' addresses (pyfr_tm_see): the
 * reader's site is tracemalloc's C, not the Python line it was tracing.
 * Only where the interpreter exports _Py_tracemalloc_config (up to 3.11). */
#define HSNAP_TRACE_TMOWN 0x10u
#define HSNAP_MODULE_UNLOADED 0x1u /* module flags: dlclose'd before the snapshot */

/* hsnap_block.cls: filled by the reference model, else HSNAP_CLASS_UNKNOWN. */
enum hsnap_class {
    HSNAP_CLASS_UNKNOWN = 0,
    HSNAP_CLASS_REACHABLE = 1,
    HSNAP_CLASS_POSSIBLE = 2,
    HSNAP_CLASS_DIRECT = 3,
    HSNAP_CLASS_INDIRECT = 4,
    HSNAP_CLASS_CYCLE = 5,
    HSNAP_CLASS_IGNORED = 6,
    /* the C and C++ runtimes' own (the loader's bookkeeping, the standard
     * streams' buffers, what their initialisers keep: libstdc++'s
     * emergency pool): a root, never the program's (older files: none) */
    HSNAP_CLASS_RUNTIME = 7,
};

#pragma pack(push, 1)

/* A byte array, not a string: HSNAP_MAGIC fills it whole, without a NUL. */
#if defined(__GNUC__) && !defined(__clang__)
#define HSNAP_NONSTRING __attribute__((nonstring))
#else
#define HSNAP_NONSTRING
#endif

struct hsnap_header {
    char magic[HSNAP_MAGIC_LEN] HSNAP_NONSTRING;
    uint32_t version;
    uint32_t header_size; /* 24 */
    uint64_t file_size;   /* whole file, so truncation is caught at once */
};

struct hsnap_section {
    uint32_t type;
    uint32_t crc32;  /* of the payload */
    uint64_t length; /* payload bytes */
};

struct hsnap_zhead {
    uint64_t raw_len;  /* payload bytes uncompressed, head included */
    uint32_t head_len; /* payload bytes stored as they are, before the frame */
    uint32_t flags;    /* HSNAP_ZHEAD_* (version 4; 0 before) */
};
#define HSNAP_ZHEAD_PLANES 0x1u /* the frame's content is in planes (version 4) */
#define HSNAP_ZHEAD_PACKED 0x2u /* ... or BLOCKS' records packed (version 6) */
#define HSNAP_ZHEAD_FORMED 0x4u /* ... or packed in formed chunks (version 7) */

struct hsnap_meta {
    uint32_t pid;
    uint32_t ppid;
    uint64_t time_ns;         /* CLOCK_REALTIME when written */
    uint64_t start_ns;        /* CLOCK_REALTIME when the shim started */
    uint32_t reason;          /* enum hsnap_reason */
    uint32_t seq;             /* %n: this process's snapshot sequence number */
    uint32_t depth;           /* HEAPSNAP_DEPTH in effect */
    uint32_t epoch;           /* current birth epoch */
    uint64_t sample_interval; /* HEAPSNAP_SAMPLE bytes, 0 = every allocation */
    uint64_t current_bytes;   /* traced bytes live now */
    uint64_t peak_bytes;      /* highest current_bytes since start / reset */
    uint64_t live_blocks;     /* traced blocks and mapped ranges live now:
                                 STATS' live counts summed (estimates when
                                 sampled), from a walk or from the lines;
                                 BLOCKS counts its own records */
    uint64_t total_allocs;    /* allocations traced since start */
    uint64_t total_frees;     /* frees of traced blocks */
    uint64_t foreign_frees;   /* frees of pointers the shim never saw */
    uint64_t shim_bytes;      /* the shim's own memory (arena mapped) as the
                                 snapshot began: not its own buffers */
    uint32_t flags;           /* HSNAP_META_* */
    uint32_t file_maps;       /* file-backed mappings the program made (mmap
                                 of a file: not heap, not tracked); 0 in
                                 files older than the mmap kind */
};

#define HSNAP_META_DEGRADED 0x1u   /* recording stopped early (out of memory) */
#define HSNAP_META_HAS_BLOCKS 0x2u /* BLOCKS section present */
#define HSNAP_META_HAS_LEAKS 0x4u  /* reference model ran; classes valid */
/* Exit snapshots: no leak check at exit, as LSan's interface says:
 * __lsan_do_leak_check ran it earlier (a snapshot of reason
 * HSNAP_REASON_LSAN holds it), or, HEAPSNAP_LEAKS asking for one,
 * __lsan_is_turned_off() was nonzero. */
#define HSNAP_META_LSAN_CHECKED 0x8u
#define HSNAP_META_LSAN_OFF 0x10u
/* The leak check was asked for but could not run: a thread could not be
 * stopped and no fork of the process could be made (or the fork failed);
 * the shim warned why. */
#define HSNAP_META_LEAKS_SKIPPED 0x20u
/* Cut short: the state a process left when it was killed (hsnap_state.h),
 * as of time_ns (its last heartbeat); no BLOCKS, no leak check. */
#define HSNAP_META_CUT_SHORT 0x40u
/* Recorded from an attach (heapsnap attach) to a process that was already
 * running: start_ns is the attach's time, and the blocks allocated before
 * it are not in the snapshot (their frees count as foreign). */
#define HSNAP_META_ATTACHED 0x80u
/* With HSNAP_META_LEAKS_SKIPPED: the check started but gave no answer, for
 * want of memory (for the live blocks' list, or in its copy of the
 * process) or because that copy ended without one (a fault, a kill); not
 * a thread that could not be stopped.  0 in files written before it was
 * kept: the reason is not known. */
#define HSNAP_META_LEAKS_FAILED 0x100u
/* Reason HSNAP_REASON_FATAL: the signal's number in bits 24-30 (0 in files
 * written before it was kept: the signal is not known). */
#define HSNAP_META_SIG_SHIFT 24
#define HSNAP_META_SIG_MASK 0x7f000000u
#define HSNAP_META_SIG(flags) (((flags) & HSNAP_META_SIG_MASK) >> HSNAP_META_SIG_SHIFT)

struct hsnap_stat {
    uint64_t live_count;
    uint64_t live_bytes;
    uint64_t total_count;
    uint64_t total_bytes;
};

struct hsnap_block {
    uint64_t addr;
    uint64_t size;     /* requested size */
    uint32_t trace;    /* index into TRACES */
    uint32_t epoch;    /* birth epoch */
    uint32_t refcount; /* references found by the model, else 0 */
    uint8_t cls;       /* enum hsnap_class */
    uint8_t flags;     /* HSNAP_BLOCK_*, set by the reference model, else 0 */
    uint16_t reserved;
};

/* hsnap_block.flags: the kinds of reference the reference model found. */
#define HSNAP_BLOCK_START 0x01u    /* >= 1 reference to its first byte */
#define HSNAP_BLOCK_INTERIOR 0x02u /* >= 1 reference into its middle */
#define HSNAP_BLOCK_ROOTREF 0x04u  /* >= 1 reference from a root range */
#define HSNAP_BLOCK_SELF 0x08u     /* it holds a reference to itself */
#define HSNAP_BLOCK_PARTIAL 0x10u  /* part of it could not be read (PROT_NONE,
                                      unmapped): scanned partially */

/* LEAKS (reserved for the reference model). */
struct hsnap_leaks_head {
    uint32_t nclass;        /* totals that follow: HSNAP_CLASS_RUNTIME + 1 (older: 7) */
    uint32_t nrecords;      /* loss records */
    uint32_t nmembers;      /* u32 cycle member indices after the records */
    uint32_t unstopped;     /* threads that could not be stopped; their whole
                               stack was scanned, but not their registers, so
                               no block is classed lost (IGNORED instead) */
    uint64_t scan_ns;       /* how long the model ran */
    uint64_t scratch_bytes; /* the model's peak scratch memory */
    uint64_t stop_ns;       /* how long the program's threads were
                               held: until the fork that scans a copy, else
                               to the end of the model (0: not recorded) */
};

struct hsnap_leak_total {
    uint64_t bytes;  /* requested bytes of the blocks in this class */
    uint64_t blocks;
};

struct hsnap_leak_record {
    uint32_t root;            /* BLOCKS index: the direct leak, or the
                                 cycle's lowest-address member */
    uint32_t cls;             /* HSNAP_CLASS_DIRECT or HSNAP_CLASS_CYCLE */
    uint32_t members_off;     /* cycle: its first entry in member[] */
    uint32_t nmembers;        /* cycle: its size (= own_blocks); else 0 */
    uint64_t own_bytes;       /* the root block, or all the cycle's members */
    uint64_t own_blocks;
    uint64_t indirect_bytes;  /* leaked blocks it owns besides itself */
    uint64_t indirect_blocks;
    uint32_t ref_min;         /* refcount range over the own blocks */
    uint32_t ref_max;
};

/* hsnap_retainer.source_kind (the root kinds match model.h's). */
enum hsnap_ret_kind {
    HSNAP_RET_BLOCK = 0, /* a live block allocated at source_trace */
    HSNAP_RET_DATA = 1,  /* a module's writable data (data, bss) */
    HSNAP_RET_STACK = 2, /* a thread's stack */
    HSNAP_RET_REGS = 3,  /* a thread's registers */
    HSNAP_RET_TLS = 4,   /* thread-local storage (static TLS, TCB) */
    HSNAP_RET_USER = 5,  /* heapsnap_register_root() ranges */
    HSNAP_RET_MAPPED = 6, /* memory the program mapped (anonymous mmap, shmat) */
};

#define HSNAP_RETAINERS_HEAD 8u /* RETAINERS' u32 count and u32 reserved, before its items */

struct hsnap_retainer {
    uint32_t target_trace; /* TRACES index of the retained blocks' site */
    uint32_t source_kind;  /* enum hsnap_ret_kind */
    uint32_t source_trace; /* HSNAP_RET_BLOCK: the referring blocks' site */
    uint32_t reserved;     /* 0 */
    uint64_t refs;         /* references from this source */
    uint64_t blocks;       /* reachable target blocks first retained by it */
    uint64_t bytes;        /* their requested bytes */
};

/* HOLDERS' head and items. */
struct hsnap_holders_head {
    uint32_t nblocks;   /* = BLOCKS' count */
    uint32_t nroot;     /* root_at words */
    uint32_t ninterior; /* hsnap_hold_in items */
    uint32_t nranges;
    uint32_t ntls;
    uint32_t reserved;  /* 0 */
};

#define HSNAP_HOLD_ROOT 0xfffffffeu /* hsnap_hold.from: a root range's word */
#define HSNAP_HOLD_NONE 0xffffffffu /* hsnap_hold.from: none (direct, ignored) */

struct hsnap_hold {
    uint32_t from; /* BLOCKS index, HSNAP_HOLD_ROOT or HSNAP_HOLD_NONE */
    uint32_t aux;  /* from a block: the word's offset in it (capped at
                      2^32-1); from a root: its root_at index; else 0 */
};

struct hsnap_hold_in {
    uint32_t block; /* BLOCKS index */
    uint32_t off;   /* where its holder's word points into it (> 0) */
};

struct hsnap_hold_range {
    uint64_t lo, hi;  /* [lo, hi) scanned */
    uint64_t tp;      /* a thread's range: its thread pointer, else 0 */
    uint32_t kind;    /* enum hsnap_ret_kind, HSNAP_RET_DATA .. HSNAP_RET_MAPPED */
    uint32_t tid;     /* a thread's range: its kernel tid, else 0 */
    char name[16];    /* a thread's comm, NUL-padded ("" unknown) */
};

struct hsnap_hold_tls {
    uint64_t bias; /* the module's load bias (MODULES) */
    uint64_t off;  /* its static TLS block starts at tp - off */
    uint64_t size; /* the block's bytes (PT_TLS p_memsz) */
};

/* PEAK's head and items. */
struct hsnap_peak {
    uint64_t t_ns;     /* when the capture was taken, ns since meta.start_ns */
    uint64_t bytes;    /* traced bytes live in the capture (= its items') */
    uint64_t blocks;   /* traced blocks live in the capture */
    uint32_t count;    /* items that follow */
    uint32_t flags;    /* HSNAP_PEAK_* */
    uint32_t step_ppm; /* capture step, millionths of the peak (0: exact) */
    uint32_t floor;    /* ... and at least this many bytes */
};

#define HSNAP_PEAK_AT_SNAPSHOT 0x1u /* the snapshot's own state was nearer
                                       the peak than the last capture */

struct hsnap_peak_item {
    uint32_t trace;    /* TRACES index */
    uint32_t reserved; /* 0 */
    uint64_t blocks;   /* its live blocks at the capture */
    uint64_t bytes;    /* their requested bytes */
};

/* MAPPED's head and items. */
struct hsnap_mapped {
    uint64_t reserved_bytes;  /* PROT_NONE address space the program holds */
    uint64_t reserved_ranges; /* ... in so many ranges */
    uint64_t resident_bytes;  /* the items' sum */
    uint32_t count;           /* items that follow */
    uint32_t flags;           /* 0 */
};

struct hsnap_mapped_item {
    uint32_t trace;    /* TRACES index, of the mmap kind */
    uint32_t reserved; /* 0 */
    uint64_t resident; /* bytes of its live ranges resident at the snapshot */
};

/* THREADS' head and records. */
struct hsnap_threads_head {
    uint32_t count;       /* records that follow */
    uint32_t ntraces;     /* u16 indexes after them: the TRACES count */
    uint32_t record_size; /* sizeof(struct hsnap_thread) = 32 */
    uint32_t reserved;    /* 0 */
};

#define HSNAP_THREAD_NAME 16      /* the kernel's comm: 15 bytes and a NUL */
#define HSNAP_THREAD_NONE 0xffffu /* thread[t]: a trace of no one thread */
#define HSNAP_THREAD_OTHERS 0x1u  /* flags: index 0, the threads past the table */
#define HSNAP_THREAD_ENDED 0x2u   /* flags: it had ended by the snapshot */
#define HSNAP_THREAD_MAIN 0x4u    /* flags: the process's main thread (tid = pid) */
struct hsnap_thread {
    uint32_t index;                /* what thread[] says */
    int32_t tid;                   /* 0 for HSNAP_THREAD_OTHERS */
    uint32_t flags;                /* HSNAP_THREAD_* */
    uint32_t reserved;             /* 0 */
    char name[HSNAP_THREAD_NAME];  /* comm, NUL padded; may be empty */
};

struct hsnap_point {
    uint64_t t_ns;  /* nanoseconds since start_ns */
    uint64_t bytes; /* traced bytes live at that time */
};

/* ---- SITELINE (format 2): memory over time, per site ---- */
#define HSNAP_SITELINE_NONE 0xffffffffu /* an unused site slot */
#define HSNAP_SITELINE_MAX_SITES 64u

struct hsnap_siteline_head {
    uint32_t count;   /* points */
    uint32_t nsites;  /* site slots in every point */
    uint64_t step_ns; /* spacing of the points now (doubles at each halving) */
    uint64_t walk_ns; /* CPU time of a point's live sums, taken as the last
                         was (the per-site lines or a walk of the live
                         blocks; the lesser of its last two) */
    uint64_t first_step_ns; /* the spacing at the start (HEAPSNAP_SITELINE) */
};

struct hsnap_siteline_point {
    uint64_t t_ns;  /* nanoseconds since meta.start_ns */
    uint64_t heap;  /* traced bytes live (the walk's sum) */
    uint64_t rss;   /* resident set size in bytes; 0 = unknown */
    uint64_t other; /* heap less the sites' bytes below */
};

struct hsnap_siteline_site {
    uint32_t trace;    /* TRACES index, or HSNAP_SITELINE_NONE */
    uint32_t reserved; /* 0 */
    uint64_t bytes;    /* its live bytes at that point */
};

/* FAILED's items. */
#define HSNAP_FAILED_OVERFLOW UINT64_MAX /* max_size: n * size overflowed */
struct hsnap_failed {
    uint32_t trace;    /* TRACES index of the failed calls' stack */
    uint32_t reserved; /* 0 */
    uint64_t count;    /* calls that returned NULL there */
    uint64_t max_size; /* the largest size asked, or HSNAP_FAILED_OVERFLOW */
};

/* Not in the file: a message of the shim to `heapsnap run` on the socket
 * of HEAPSNAP_MANIFEST_FD (rchan_send, mf_recv), one per
 * snapshot, followed by its absolute path (no NUL).  A message that does
 * not start with the magic is ignored. */
#define HSNAP_RUNMSG_MAGIC 0x4d52534eu /* "NSRM" */
/* A message of its own (older runs ignore it): the sender keeps its state
 * file (hsnap_state.h) at the path; err is 0. */
#define HSNAP_RUNMSG_STATE_MAGIC 0x5453534eu /* "NSST" */
/* Another (older runs ignore it): the sender ended with recording stopped
 * (heapsnap_stop, HEAPSNAP_PAUSED), so it wrote no exit snapshot; the
 * path is "stopped", err 0. */
#define HSNAP_RUNMSG_STOPPED_MAGIC 0x5053534eu /* "NSSP" */
/* Another (older runs ignore it), after the path's own message: the path
 * is the sender's exit snapshot, its last; err is 0.  run reads it ahead
 * while the process ends (summary_preload). */
#define HSNAP_RUNMSG_LAST_MAGIC 0x5453414eu /* "NAST" */
/* Another (older runs ignore it): the sender just made a process, whose
 * pid is the path, in decimal: its fork or posix_spawn returned it, or it
 * is a vfork child about to exec.  run waits for such a process when it outlives
 * the command, before that process could tell its state file. */
#define HSNAP_RUNMSG_KIN_MAGIC 0x4e4b534eu /* "NSKN" */
/* Another (older runs ignore it): the sender's image is a launcher
 * (shim/base/launcher.c: env, or a shell running a script that holds
 * `exec CMD`), which stays untraced with what it runs before its exec; the
 * path is the script's (or "env").  A pid that told this and nothing after
 * ended without its exec, or exec'd a program the shim is not in: run says
 * so, where it would say only that no snapshot was written. */
#define HSNAP_RUNMSG_LAUNCHER_MAGIC 0x434c534eu /* "NSLC" */
struct hsnap_runmsg {
    uint32_t magic;
    uint32_t err; /* 0: written; else the errno of the failure */
};

#pragma pack(pop)

#endif
