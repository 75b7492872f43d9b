/*
 * statenote.c - the note a command prints when it reads a state file as
 * a snapshot (state_load_noted): whose state it is, as of when, and what
 * it misses.  A state file is what a killed process left, unless its
 * writer still runs: `top x.hsnap.PID.state` beside a running process is
 * a view as of its last update (every 250 ms), not a death.  The writer
 * still runs when the pid maps that very file (device and inode in
 * /proc/PID/maps, as the shim keeps it mapped until its end): a pid used
 * again by another process maps no such file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "hsnap_state.h"
#include "stateread.h"

/* 1 when pid maps the file st describes (its writer still runs), 0 when
 * not or unknown (no such pid, its maps not ours to read). */
static int state_writer_runs(unsigned pid, const struct stat *st)
{
    char name[64], line[4096];
    int found = 0;
    snprintf(name, sizeof name, "/proc/%u/maps", pid);
    FILE *f = fopen(name, "re");
    if (!f)
        return 0;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned maj, mi;
        unsigned long long inode;
        if (sscanf(line, "%*x-%*x %*4s %*x %x:%x %llu", &maj, &mi, &inode) == 3)
            found = makedev(maj, mi) == st->st_dev && (ino_t)inode == st->st_ino;
        while (!strchr(line, '\n') && fgets(line, sizeof line, f))
            ; /* the rest of a long line */
    }
    fclose(f);
    return found;
}

/* What became of the exit snapshot of a state file left HSTATE_UNWRITTEN
 * (err: its errno, 0 in files from before it was kept, when no memory was
 * the one cause): "found no memory", or "could not be written" with why
 * in *detail.  A file's err is its writer's word: an unknown one is named
 * by its number. */
static const char *state_unwritten_how(uint32_t err, const char **detail, char *buf, size_t len)
{
    *detail = NULL;
    if (err == 0 || err == ENOMEM)
        return "found no memory";
    if (err == EACCES || err == EPERM) {
        *detail = "permission denied: its user could not write the output directory, as when "
                  "a worker becomes nobody";
    } else if (!(*detail = err < 4096 ? strerrordesc_np((int)err) : NULL)) {
        snprintf(buf, len, "error %u", err);
        *detail = buf;
    }
    return "could not be written";
}

int state_load_noted(const char *path, struct snap *out, char *err, size_t errlen)
{
    char why[256], when[64] = "?", errbuf[96];
    struct state_info si;
    struct tm tm;
    struct stat st;
    if (state_load(path, out, &si, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    out->state_size = si.size, out->state_used = si.used, out->state_flags = si.flags;
    out->state_behind_ns = si.behind_ns;
    out->state_live = stat(path, &st) == 0 && state_writer_runs(si.pid, &st);
    time_t t = (time_t)(si.beat_ns / 1000000000u);
    if (localtime_r(&t, &tm)) /* the last heartbeat */
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    const char *full = state_full_why(si.flags);
    if (out->state_live)
        fprintf(stderr, "heapsnap: note: %s is the state of pid %u, which still runs "
                        "(last update %s): no block list, no leak check%s%s%s; its snapshot "
                        "comes at its exit\n",
                path, si.pid, when, full ? "; " : "", full ? full : "",
                full ? ", some sites are missing" : "");
    else if (si.flags & HSTATE_UNWRITTEN) {
        const char *detail, *how = state_unwritten_how(si.unwritten_err, &detail, errbuf,
                                                       sizeof(errbuf));
        fprintf(stderr, "heapsnap: note: %s is the state pid %u left when its exit snapshot "
                        "%s (last update %s): %s%sno block list, no leak check%s%s%s\n",
                path, si.pid, how, when, detail ? detail : "", detail ? "; " : "",
                full ? "; " : "", full ? full : "", full ? ", some sites are missing" : "");
    } else
        fprintf(stderr, "heapsnap: note: %s is the state pid %u left when it was killed "
                        "(last update %s): cut short, no block list, no leak check%s%s%s\n",
                path, si.pid, when, full ? "; " : "", full ? full : "",
                full ? ", some sites are missing" : "");
    if (si.later_bytes)
        fprintf(stderr, "heapsnap: note: %llu live bytes at sites first seen after the last "
                "update are not shown (no stack yet)\n", (unsigned long long)si.later_bytes);
    return 0;
}
