/*
 * manifest.h - the list of snapshot files the shim told `heapsnap run`
 * of while it waited: on run's socket (HEAPSNAP_MANIFEST_FD: written or
 * failed, from any process it started, whatever user that became), or
 * appended to the manifest file (HEAPSNAP_MANIFEST).
 */
#ifndef REPORT_MANIFEST_H
#define REPORT_MANIFEST_H

#include <stddef.h>
#include <sys/types.h>

struct mf_entry {
    char *path;        /* as the shim wrote it */
    unsigned times;    /* how many times it was written */
    pid_t pid;         /* the process that first wrote it, as the kernel names
                          the sender; 0: told through the file */
};

struct mf_fail {       /* a snapshot a process could not write */
    char *path;
    int err;           /* its errno */
    pid_t pid;         /* the process, as the kernel names the sender */
    uid_t uid;
};

struct mf_kin {        /* a process a process of the run made */
    pid_t pid;
    unsigned long long told; /* when run heard of it, in clock ticks since boot
                                (as /proc/PID/stat's start time): a process of
                                that pid started later is another */
};

#define MF_LAUNCHERS 8 /* launchers' pids kept; more are not named */
struct mf_launcher {   /* a process whose image was a launcher's (socket only:
                          HSNAP_RUNMSG_LAUNCHER_MAGIC), its last told */
    pid_t pid;
    char what[256];    /* the script it ran, or "env" */
};

struct mf_state {      /* a process's state file (shim/hsnap_state.h) */
    char *path;
    pid_t pid;         /* the process, as the kernel names the sender */
};

struct manifest {
    struct mf_entry *e; /* distinct paths, in the order first written */
    size_t n, cap;
    struct mf_fail *f;  /* failures, in the order told */
    size_t nf, fcap;
    struct mf_state *s; /* distinct state files, in the order first told */
    size_t ns, scap;
    size_t nstopped;    /* processes that ended with recording stopped (socket only) */
    pid_t stopped;      /* the first of them */
    char *last;         /* the latest snapshot a process said was its exit's (socket
                           only; NULL: none), its pid, and how many were said */
    pid_t last_pid;
    size_t nlast;
    struct mf_kin *kin; /* processes a process of the run made (socket only:
                           HSNAP_RUNMSG_KIN_MAGIC), those found ended taken
                           out as the list grows */
    size_t nkin, kcap;
    struct mf_launcher launcher[MF_LAUNCHERS];
    size_t nlauncher;
};

/* Reads the manifest file at path into m (m zeroed by the caller, or
 * holding what mf_recv got: the file's paths are added).  Returns 0, or -1
 * with "PATH: reason" in err (out of memory, the file too large). */
int mf_read(const char *path, struct manifest *m, char *err, size_t errlen);

/* Takes every message waiting on run's socket fd (SO_PASSCRED set, non-
 * blocking reads) into m.  Returns 0 when none is left (or the socket is
 * closed by every sender: 1), -1 when out of memory. */
int mf_recv(int fd, struct manifest *m);

void mf_free(struct manifest *m);

struct timespec;
/* The boot clock's ticks (as /proc/PID/stat counts a process's start) at
 * the realtime at (NULL: now), for telling a process from another given
 * its pid later; ~0 when the clocks cannot say. */
unsigned long long mf_boot_ticks(const struct timespec *at);

/* The manifest file's template, DIR/heapsnap-manifest.<run's pid>.XXXXXX,
 * into out for mkstemp: the pid tells `heapsnap clean` that the run a
 * SIGKILL ended left it.  0, or -1 (too long). */
int mf_name(char *out, size_t cap, const char *dir, pid_t run);

/* The run's pid in a manifest file's base name made by mf_name; 0 when
 * name is not one. */
pid_t mf_name_pid(const char *name);

#endif
