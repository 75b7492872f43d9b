/*
 * procrole.c - the function a multiprocessing worker runs, named from the
 * worker's snapshot alone.
 *
 * Every worker that multiprocessing starts (fork, forkserver or spawn)
 * runs its target from BaseProcess.run in multiprocessing/process.py:
 * Pool's `worker`, ProcessPoolExecutor's `_process_worker`, a PyTorch
 * DataLoader's `_worker_loop`, or the program's own Process(target=...).
 * A trace of the worker's own allocations holds that frame, and the
 * Python frame just inside it is the target.  Nothing is asked of the
 * shim: the answer is in the traces, so older snapshots have it too.  The
 * target met in the most traces wins (a worker runs one).  The name is
 * the module's, as --key module names it (frec_py_module), and the code's
 * qualified name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framerec.h"
#include "hsnap_pyformat.h"
#include "procrole.h"
#include "snap.h"

#define ROLE_DEPTH_MAX 4096u /* frames of a trace looked at */

/* Whether path names multiprocessing's process.py. */
static int role_is_process_py(const char *path)
{
    const char *tail = "multiprocessing/process.py";
    size_t n = strlen(path), t = strlen(tail);
    return n >= t && !strcmp(path + n - t, tail) && (n == t || path[n - t - 1] == '/');
}

/* Whether c is BaseProcess.run (3.10's codes have no qualified name:
 * "run" in process.py). */
static int role_is_run(const struct snap_pycode *c)
{
    return (!strcmp(c->qualname, "BaseProcess.run") || !strcmp(c->qualname, "run")) &&
           role_is_process_py(c->file);
}

/* Each code of s that is BaseProcess.run, 1 in a calloc'd array by code
 * index; NULL where none is (not a worker: no trace need be read) or
 * out of memory.  Asked once a code, not once a frame: a big process's
 * traces hold millions of Python frames and a few thousand codes. */
static uint8_t *role_runs(const struct snap *s)
{
    uint8_t *run = s->npycodes ? calloc(s->npycodes, 1) : NULL;
    int any = 0;
    for (uint32_t c = 0; run && c < s->npycodes; c++)
        any |= run[c] = (uint8_t)role_is_run(&s->pycodes[c]);
    if (!any) {
        free(run);
        return NULL;
    }
    return run;
}

int procrole_of(const struct snap *s, char *out, size_t n)
{
    uint8_t *run = role_runs(s);
    uint32_t *seen = run ? calloc(s->npycodes, sizeof *seen) : NULL;
    uint64_t *ips = seen ? malloc(ROLE_DEPTH_MAX * sizeof *ips) : NULL;
    uint32_t best = UINT32_MAX;
    if (n)
        out[0] = 0;
    for (uint32_t t = 0; ips && t < s->ntraces; t++) {
        const struct snap_trace *tr = &s->traces[t];
        unsigned d = tr->depth < ROLE_DEPTH_MAX ? tr->depth : ROLE_DEPTH_MAX;
        uint64_t inner = UINT64_MAX; /* the nearest Python frame inside run */
        if (tr->depth > ROLE_DEPTH_MAX)
            continue;
        snap_trace_ips(s, tr, ips);
        for (unsigned i = 0; i < d; i++) {
            if (!HSNAP_IS_PYFRAME(ips[i]))
                continue;
            uint64_t here = pycode_word_code(ips[i]); /* past npycodes: no code, not run */
            if (inner != UINT64_MAX && here < s->npycodes && run[here]) {
                uint64_t code = pycode_word_code(inner);
                if (code < s->npycodes) {
                    seen[code]++;
                    if (best == UINT32_MAX || seen[code] > seen[best])
                        best = (uint32_t)code;
                }
                break;
            }
            inner = ips[i];
        }
    }
    if (best != UINT32_MAX && n) {
        char mod[256];
        frec_py_module(s->pycodes[best].file, mod, sizeof mod);
        snprintf(out, n, "%s.%s", mod, s->pycodes[best].qualname);
    }
    free(ips);
    free(seen);
    free(run);
    return best != UINT32_MAX;
}
