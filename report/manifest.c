/*
 * manifest.c - reading the manifest: every snapshot path the shim wrote
 * during `heapsnap run`, one record per snapshot, appended by each process
 * in one write.  A path may hold any byte but NUL, a newline included
 * (`%e` expands to the program's name), so a newline cannot be trusted to
 * end a record:
 *   - records ending in NUL ("PATH\0") are exact; when the manifest holds
 *     any NUL, it is read that way;
 *   - records ending in a newline ("PATH\n", what the shim writes today)
 *     are read line by line, and a line that names no file is joined with
 *     the lines after it (up to MF_MAX_JOIN) while that names a file, so
 *     "dir/a\nb.hsnap" is one path when that file exists, and the pieces of
 *     a forged name are never gated in place of the file that was written.
 * A path written twice (two processes, or snapshots, that share a name
 * without %p) is kept once, with its count, for run to warn about.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "input.h"
#include "manifest.h"

#define MF_MAX_JOIN 16 /* lines one path may span */

static int mf_add(struct manifest *m, const char *p, size_t len)
{
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->e[i].path) == len && !memcmp(m->e[i].path, p, len)) {
            m->e[i].times++;
            return 0;
        }
    if (grow_array((void **)&m->e, &m->cap, m->n + 1, sizeof(*m->e)) < 0 ||
        !(m->e[m->n].path = strndup(p, len)))
        return -1;
    m->e[m->n++].times = 1;
    return 0;
}

static int mf_is_file(const char *p, size_t len)
{
    struct stat st;
    char *s = strndup(p, len);
    int ok = s && stat(s, &st) == 0 && S_ISREG(st.st_mode);
    free(s);
    return ok;
}

/* The record starting at p (text ends at end) in newline mode: its length;
 * *next is where the following record starts. */
static size_t mf_line_record(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    if (!mf_is_file(p, (size_t)(stop - p))) {
        const char *q = stop;
        for (int k = 0; k < MF_MAX_JOIN && q < end; k++) {
            const char *nl2 = memchr(q + 1, '\n', (size_t)(end - q - 1));
            q = nl2 ? nl2 : end;
            if (mf_is_file(p, (size_t)(q - p))) {
                stop = q;
                break;
            }
        }
    }
    *next = stop < end ? stop + 1 : end;
    return (size_t)(stop - p);
}

int mf_read(const char *path, struct manifest *m, char *err, size_t errlen)
{
    size_t len;
    memset(m, 0, sizeof(*m));
    char *text = in_read_text(path, IN_MAX_MANIFEST, &len, err, errlen);
    if (!text)
        return -1;
    const char *end = text + len, *next;
    int nul = memchr(text, 0, len) != NULL, rc = 0;
    for (const char *p = text; p < end && rc == 0; p = next) {
        size_t n;
        if (nul) {
            n = strnlen(p, (size_t)(end - p));
            next = p + n + 1;
        } else {
            n = mf_line_record(p, end, &next);
        }
        if (n)
            rc = mf_add(m, p, n);
    }
    free(text);
    if (rc < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        mf_free(m);
    }
    return rc;
}

void mf_free(struct manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].path);
    free(m->e);
    memset(m, 0, sizeof(*m));
}
