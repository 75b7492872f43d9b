/*
 * manifest.h - the list of snapshot files the shim appended to while
 * `heapsnap run` waited (HEAPSNAP_MANIFEST), read back by report/manifest.c.
 */
#ifndef REPORT_MANIFEST_H
#define REPORT_MANIFEST_H

#include <stddef.h>

struct mf_entry {
    char *path;        /* as the shim wrote it */
    unsigned times;    /* how many times it was written */
};

struct manifest {
    struct mf_entry *e; /* distinct paths, in the order first written */
    size_t n, cap;
};

/* Reads the manifest at path into m (zeroed first).  Returns 0, or -1 with
 * "PATH: reason" in err (out of memory, the file too large). */
int mf_read(const char *path, struct manifest *m, char *err, size_t errlen);

void mf_free(struct manifest *m);

#endif
