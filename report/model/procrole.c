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
 * the module's dotted path (from site-packages, dist-packages or the
 * standard library's directory on) and the code's qualified name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The module of path in dotted form into out: from the last
 * site-packages/ or dist-packages/, else from the last pythonX.Y/, else
 * the file's base name; ".py" and a package's "__init__" dropped. */
static void role_module(const char *path, char *out, size_t n)
{
    const char *from = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (const char *p = path; (p = strstr(p, "/python")) != NULL; p++) {
        const char *q = p + 7;
        while ((*q >= '0' && *q <= '9') || *q == '.')
            q++;
        if (*q == '/' && q > p + 7)
            from = q + 1;
    }
    static const char *const marks[] = {"site-packages/", "dist-packages/"};
    for (size_t m = 0; m < sizeof marks / sizeof *marks; m++) {
        const char *mark = marks[m], *p = path, *last = NULL;
        while ((p = strstr(p, mark)) != NULL)
            last = p++;
        if (last && last + strlen(mark) > from)
            from = last + strlen(mark);
    }
    size_t k = 0;
    for (; *from && k + 1 < n; from++)
        out[k++] = *from == '/' ? '.' : *from;
    out[k] = 0;
    if (k >= 3 && !strcmp(out + k - 3, ".py"))
        out[k -= 3] = 0;
    if (k >= 9 && !strcmp(out + k - 9, ".__init__"))
        out[k -= 9] = 0;
}

int procrole_of(const struct snap *s, char *out, size_t n)
{
    uint32_t *seen = s->npycodes ? calloc(s->npycodes, sizeof *seen) : NULL;
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
            const struct snap_pycode *c = pycode_of_word(s, ips[i], NULL);
            if (inner != UINT64_MAX && role_is_run(c)) {
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
        role_module(s->pycodes[best].file, mod, sizeof mod);
        snprintf(out, n, "%s.%s", mod, s->pycodes[best].qualname);
    }
    free(ips);
    free(seen);
    return best != UINT32_MAX;
}
