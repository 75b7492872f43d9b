/*
 * inject.h - the door of the injector room (report/inject/): what the
 * commands attach, detach and live (and run --live, through live) use to
 * reach a process that is already running, and nothing of theirs.
 *
 * Four nouns, one file each: a process's modules (rsym_: paths, biases, a
 * function's address, GOT relocations), a call made in it through ptrace
 * on a borrowed thread (inj_), the code that thread runs (inj_tramp_), and
 * the CLI's side of the control socket the shim then serves (ctl_).  The
 * room knows no command line and no command: references run one way,
 * commands -> inject, and an answer a command needs comes back as a
 * return value and an err line.
 */
#ifndef HEAPSNAP_INJECT_H
#define HEAPSNAP_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- rsym_: a running process's modules, from /proc/PID/maps ---- */
#define RSYM_MAX 512
struct rsym_module {
    char path[512];    /* as the process mapped it */
    uint64_t bias;     /* load address minus link address */
    uint64_t xlo, xhi; /* the executable range (first to last r-x mapping) */
};
struct rsym_map {
    unsigned n;
    struct rsym_module m[RSYM_MAX];
};
int rsym_read(pid_t pid, struct rsym_map *map);  /* 0, or -1 with errno */
/* The module whose file name (basename) starts with prefix, or NULL. */
const struct rsym_module *rsym_find(const struct rsym_map *map, const char *prefix);
/* A defined function's address in the process: 0 when absent. */
uint64_t rsym_lookup(pid_t pid, const struct rsym_module *m, const char *name);
/* 1 when the ELF file has a GOT relocation (JUMP_SLOT, GLOB_DAT) against
 * one of names; 0 when not; -1 when it cannot be read. */
int rsym_has_reloc(pid_t pid, const char *path, const char *const *names, unsigned n);
/* 1 when the ELF file has a PT_INTERP (dynamically linked); 0, -1. */
int rsym_dynamic(const char *path);
/* Where n bytes of code may go in module m: the unused tail of the last
 * page of its executable segment (mapped, run by nobody), 64-aligned; 0
 * when there is not room. */
uint64_t rsym_code_tail(pid_t pid, const struct rsym_module *m, size_t n);

/* ---- inj_: a call made in the process on a borrowed thread ---- */
/* A process other than this one that traces a thread of pid (an attach
 * borrows any thread), or 0. */
long inj_other_tracer(pid_t pid);
struct inj;
struct inj_ranges {
    unsigned n;
    uint64_t lo[16], hi[16];
};
/* Borrows a thread of pid that is at a safe point (a call may start
 * there): 0; -2 ptrace refused (err says why: another tracer, or no
 * permission); -1 other trouble. */
int inj_open(struct inj **out, pid_t pid, const struct inj_ranges *unsafe,
             const struct inj_ranges *loader, char *err, size_t errlen);
/* What inj_load makes the borrowed thread do: handle = dlopen(path, mode);
 * if it failed, dlerror(); else entry (or dlsym(handle, sym) when entry is
 * 0, and nothing more when dlsym is 0 too) called with conf. */
struct inj_load {
    uint64_t dlopen, dlerror, dlsym, entry;   /* addresses in the process */
    const char *path, *sym, *conf;
    int mode;
    uint64_t handle, ret;    /* out: dlopen's answer, entry's */
    int called;              /* out: entry was called */
    char dlerr[512];         /* out: dlerror's text when handle is 0 */
};
/* Runs l on the borrowed thread, on memory it maps for the call (never
 * below its stack pointer), and puts the thread back where it was found.
 * Whatever happens to this process meanwhile (killed, timed out), the
 * thread finishes the call or undoes it by itself and goes back there.
 * 0 (l's out fields set); -3 the process ended; -4 the call did not end
 * within timeout_ms (it goes on in the process, unwatched); -1 other
 * trouble (err). */
int inj_load(struct inj *j, struct rsym_map *map, struct inj_load *l, unsigned timeout_ms,
             char *err, size_t errlen);
int inj_close(struct inj *j); /* registers back, thread let go: 0, or -1 */
pid_t inj_tid(const struct inj *j);
int inj_in_syscall(const struct inj *j, long *nr);

/* ---- inj_tramp_: the code the borrowed thread runs ---- */
enum { INJ_T_SYS, INJ_T_CALL, INJ_T_RET, INJ_T_DATA };
struct user_regs_struct;
size_t inj_tramp_size(void);
size_t inj_tramp_off(int which);   /* an entry point's or the data's offset */
/* The blob into out (inj_tramp_size bytes), its way back set to r (and to
 * the signal mask *mask, when mask). */
void inj_tramp_build(unsigned char *out, const struct user_regs_struct *r, const uint64_t *mask);

/* ---- ctl_: the CLI's side of a process's control socket ---- */
/* The control socket of pid (effective uid euid) into out: PID.sock in
 * /tmp/heapsnap-EUID when that directory is euid's alone (else, once, a
 * line on stderr says why it is not trusted), or in the private
 * /tmp/heapsnap-EUID.XXXXXX the process's shim made instead.  Sockets of
 * processes that ended are removed on the way.  out is "" when there is
 * no trusted place at all. */
void ctl_path(pid_t pid, long euid, char *out, size_t n);

/* A connection to path, whose listener must be process pid (SO_PEERCRED):
 * its descriptor; -1 (errno) when nothing listens there; -2 when another
 * process does (err says which: a socket someone planted). */
int ctl_connect(const char *path, pid_t pid, char *err, size_t errlen);

/* Sends req ("detach\n", "cancel\n", "snapshot\n") to pid's socket and
 * prints the answer's "wrote PATH" lines on stderr (escaped, as every
 * byte from the socket); 0 when it ended with "ok", 2 (err) otherwise. */
int ctl_request(const char *path, const char *req, pid_t pid, char *err, size_t errlen);

/* Whether pid's control thread serves its socket yet: a "status" asked
 * and its answer's first bytes waited for, up to ms.  0 when they came,
 * -1 otherwise (nothing said: the attach stands either way).  The thread
 * asks CPython for its allocator wrap before it serves (dom_kick), so an
 * attach that returns after this leaves no pymalloc object to come first. */
int ctl_served(const char *path, pid_t pid, int ms);

#endif
