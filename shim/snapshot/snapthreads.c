/*
 * snapthreads.c - a snapshot's THREADS section: which thread allocated
 * each trace's blocks (trace_thread: a stack apart per thread) and what
 * those threads were called (athr_get's records: tid, comm, ended or
 * running, main).  Names of running threads are read again here when
 * fresh (not on the fatal path, nor in the state file's frequent
 * documents), so that a name set after a thread's first allocation is
 * the one shown; so are a Python program's threading names
 * (py_thread_names), shown instead of comm.
 *
 *   THREADS := hsnap_threads_head (16 bytes), hsnap_thread[count] (32
 *              each), u16 thread[ntraces]
 *
 * A trace whose thread's record is not written (given while this ran)
 * reads HSNAP_THREAD_NONE.
 */
#include <string.h>

#include "pyobjects.h"
#include "snapshot.h"

int snap_threads(struct sbuf *b, uint32_t n, int fresh)
{
    uint32_t nt = athr_count(), count = 0;
    uint64_t put[ATHR_MAX / 64] = {0}; /* the indexes written */
    struct hsnap_thread rec;
    if (!n || !nt)
        return 0;
    if (fresh)
        py_thread_names();
    size_t at = b->len;
    struct hsnap_threads_head head = {0, n, sizeof rec, 0};
    sbuf_put(b, &head, sizeof head);
    for (uint32_t i = 0; i < nt; i++)
        if (athr_get(i, &rec, fresh)) {
            sbuf_put(b, &rec, sizeof rec);
            put[i / 64] |= 1ull << (i % 64);
            count++;
        }
    sbuf_reserve_all(b, (size_t)n * sizeof(uint16_t)); /* or the puts fail alike */
    for (uint32_t id = 0; id < n; id++) {
        uint32_t th = trace_thread(id);
        uint16_t v = th < nt && (put[th / 64] >> (th % 64) & 1) ? (uint16_t)th
                                                                 : (uint16_t)HSNAP_THREAD_NONE;
        sbuf_put(b, &v, sizeof v);
    }
    if (b->err)
        return -1;
    head.count = count;
    memcpy(b->p + at, &head, sizeof head);
    return 0;
}
