/*
 * inject.h - calls into a running process through ptrace (inject.c) and
 * what is known of its modules (rsym.c): the CLI side of `heapsnap attach`.
 */
#ifndef HEAPSNAP_INJECT_H
#define HEAPSNAP_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- rsym.c: a running process's modules, from /proc/PID/maps ---- */
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

/* ---- inject.c ---- */
struct inj;
struct inj_ranges {
    unsigned n;
    uint64_t lo[16], hi[16];
};
/* Borrows a thread of pid that is at a safe point (a call may start
 * there): 0; -2 ptrace refused (EPERM, err says); -1 other trouble. */
int inj_open(struct inj **out, pid_t pid, const struct inj_ranges *unsafe,
             const struct inj_ranges *loader, char *err, size_t errlen);
int inj_write(struct inj *j, uint64_t addr, const void *p, size_t n);
int inj_read(struct inj *j, uint64_t addr, void *p, size_t n); /* bytes read, or -1 */
uint64_t inj_scratch(struct inj *j, size_t n); /* where n bytes of arguments may go */
/* fn(args...) on the borrowed thread, its stack below `below`: 0 with
 * *ret; -3 the process ended; -1 other trouble (err). */
int inj_call(struct inj *j, uint64_t fn, const uint64_t *args, unsigned nargs, uint64_t below,
             uint64_t *ret, unsigned timeout_ms, char *err, size_t errlen);
int inj_close(struct inj *j); /* registers back, thread let go: 0, or -1 */
pid_t inj_tid(const struct inj *j);
int inj_in_syscall(const struct inj *j, long *nr);

#endif
