/*
 * series.c - the one counting rule for several snapshots (series.h): which
 * snapshot stands for each process, and the line that says so.  A series
 * of one process is a history, not a sum: adding its snapshots would count
 * every block once per snapshot that saw it alive (a process that never
 * held more than 13 MiB read as 46 MiB over ten snapshots).  The processes
 * of a tree are distinct heaps and add up.  Peaks: the traced peak only
 * grows between resets, so the snapshot with the highest one holds the
 * process's peak capture.
 */
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int series_same_proc(const struct snap *a, const struct snap *b)
{
    return a->meta.pid == b->meta.pid && a->meta.start_ns == b->meta.start_ns;
}

int series_later(const struct snap *a, const struct snap *b)
{
    if (a->meta.time_ns != b->meta.time_ns)
        return a->meta.time_ns > b->meta.time_ns;
    return a->meta.seq > b->meta.seq;
}

/* Whether a stands for its process before b: by peak (with a capture),
 * then by time; at equal times the one given last. */
static int better(const struct snap *a, int ia, const struct snap *b, int ib, int peak)
{
    if (peak && a->has_peak != b->has_peak)
        return a->has_peak;
    if (peak && a->meta.peak_bytes != b->meta.peak_bytes)
        return a->meta.peak_bytes > b->meta.peak_bytes;
    if (series_later(a, b) || series_later(b, a))
        return series_later(a, b);
    return ia > ib;
}

int series_pick(struct series *sr, const struct snap *snaps, int n,
                const unsigned char *sel, int peak)
{
    memset(sr, 0, sizeof(*sr));
    sr->n = n;
    sr->peak = peak;
    sr->proc = calloc(n ? n : 1, sizeof(*sr->proc));
    sr->use = calloc(n ? n : 1, 1);
    if (!sr->proc || !sr->use)
        return -1;
    for (int i = 0; i < n; i++) {
        sr->proc[i] = -1;
        if (sel && !sel[i])
            continue;
        sr->nsel++;
        for (int j = 0; j < i && sr->proc[i] < 0; j++)
            if (sr->proc[j] >= 0 && series_same_proc(&snaps[i], &snaps[j]))
                sr->proc[i] = sr->proc[j];
        if (sr->proc[i] < 0)
            sr->proc[i] = sr->nprocs++;
    }
    for (int i = 0; i < n; i++) {
        if (sr->proc[i] < 0)
            continue;
        int best = 1;
        for (int j = 0; j < n && best; j++)
            if (j != i && sr->proc[j] == sr->proc[i] &&
                better(&snaps[j], j, &snaps[i], i, peak))
                best = 0;
        sr->use[i] = (unsigned char)best;
        sr->nused += best;
    }
    return 0;
}

int series_used(const struct series *sr, int p)
{
    for (int i = 0; i < sr->n; i++)
        if (sr->use[i] && sr->proc[i] == p)
            return i;
    return -1;
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

const char *series_note(const struct series *sr, const struct snap *snaps,
                        char *const *paths, char *buf, size_t len)
{
    const char *which = sr->peak ? "the one at its highest peak" : "the latest";
    buf[0] = '\0';
    if (len == 0 || sr->nsel <= 1)
        return buf;
    if (sr->nprocs == 1) {
        int i = series_used(sr, 0);
        char when[32] = "";
        time_t t = (time_t)(snaps[i].meta.time_ns / 1000000000u);
        struct tm tm;
        if (localtime_r(&t, &tm))
            strftime(when, sizeof(when), "%H:%M:%S", &tm);
        snprintf(buf, len, "%d snapshots of pid %u (%s): %s, %s (%s)", sr->nsel,
                 snaps[i].meta.pid, base_of(snaps[i].exe), which, when, paths[i]);
    } else if (sr->nsel == sr->nprocs) {
        snprintf(buf, len, "%d processes, summed", sr->nprocs);
    } else {
        snprintf(buf, len, "%d snapshots of %d processes: %s of each, summed", sr->nsel,
                 sr->nprocs, sr->peak ? "the highest peak" : "the latest");
    }
    return buf;
}

const char *series_rule(const struct series *sr)
{
    return sr->peak ? "peak" : "latest";
}

void series_free(struct series *sr)
{
    free(sr->proc);
    free(sr->use);
    memset(sr, 0, sizeof(*sr));
}
