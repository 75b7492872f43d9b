/*
 * snapthreads.c - a snapshot's THREADS section: which thread allocated
 * each trace's blocks (trace_thread: a stack apart per thread) and what
 * those threads were called (athr_get's records: tid, comm, ended or
 * running, main).  Names of running threads are read again here when
 * fresh (not on the fatal path, nor in the state file's frequent
 * documents), so that a name set after a thread's first allocation is
 * the one shown; a Python program's threading names, shown instead of
 * comm, are read by the snapshot before (snap_write: py_thread_names,
 * while the objects' page cache is still its thread's).
 *
 *   THREADS := hsnap_threads_head (16 bytes), hsnap_thread[count] (32
 *              each), u16 thread[ntraces]
 *
 * A trace whose thread's record is not written (given while this ran)
 * reads HSNAP_THREAD_NONE.
 */
#include <string.h>

#include "snapshot.h"

int snap_threads(struct sbuf *b, uint32_t n, int fresh)
{
    uint32_t nt = athr_count(), count = 0;
    struct hsnap_thread rec;
    if (!n || !nt)
        return 0;
    size_t at = b->len;
    struct hsnap_threads_head head = {0, n, sizeof rec, 0};
    sbuf_put(b, &head, sizeof head);
    for (uint32_t i = 0; i < nt; i++)
        if (athr_get(i, &rec, fresh)) {
            sbuf_put(b, &rec, sizeof rec);
            count++;
        }
    if (b->err)
        return -1;
    head.count = count;
    memcpy(b->p + at, &head, sizeof head);
    return 0;
}

/* The section from b's head and records, then each trace's thread read
 * now (a trace's thread never changes), a run at a time: 2 bytes a trace
 * never held whole.  A thread whose record b lacks (given while
 * snap_threads ran) reads HSNAP_THREAD_NONE. */
#define SNAP_THREADS_RUN 2048u
int snap_put_threads(struct side_file *f, const struct sbuf *b)
{
    struct hsnap_threads_head head;
    struct hsnap_thread rec;
    uint64_t put[ATHR_MAX / 64] = {0}; /* the indexes written */
    uint16_t run[SNAP_THREADS_RUN];
    if (b->len < sizeof head)
        return -1;
    memcpy(&head, b->p, sizeof head);
    for (uint32_t i = 0; i < head.count; i++) {
        memcpy(&rec, b->p + sizeof head + (size_t)i * sizeof rec, sizeof rec);
        if (rec.index < ATHR_MAX)
            put[rec.index / 64] |= 1ull << (rec.index % 64);
    }
    side_sec_begin(f, 0, b->len + (uint64_t)head.ntraces * sizeof *run);
    side_out(f, b->p, b->len);
    for (uint32_t id = 0; id < head.ntraces && !f->err;) {
        uint32_t k = head.ntraces - id < SNAP_THREADS_RUN ? head.ntraces - id : SNAP_THREADS_RUN;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t th = trace_thread(id + i);
            run[i] = th < ATHR_MAX && (put[th / 64] >> (th % 64) & 1) ? (uint16_t)th
                                                                     : (uint16_t)HSNAP_THREAD_NONE;
        }
        side_out(f, run, (size_t)k * sizeof *run);
        id += k;
    }
    side_sec_end(f, HSNAP_SEC_THREADS, NULL, 0);
    return f->err ? -1 : 0;
}
