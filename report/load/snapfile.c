/*
 * snapfile.c - a snapshot by its path (snap_load): a .hsnap file, read
 * header first and checked against the file's real size, so that a huge
 * or sparse file that is not a snapshot costs one small read; or a state
 * file (state_is), which the state reader turns into a cut-short snapshot
 * with a note.  Above both readers, so that neither calls the other back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "input.h"
#include "snap.h"
#include "stateread.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Reads the file at fd (size bytes) into buf from offset off. */
static int read_at(int fd, uint8_t *buf, size_t off, size_t size, char *err, size_t errlen)
{
    while (off < size) {
        ssize_t r = pread(fd, buf + off, size - off, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return fail(err, errlen, "%s", r < 0 ? strerror(errno) : "file shrank while read");
        off += (size_t)r;
    }
    return 0;
}

/* Reads a snapshot file: its header first, checked against the file's real
 * size (so a huge or sparse file that is not a snapshot, or whose header
 * disagrees with its size, costs one small read), then the rest. */
static uint8_t *read_file(const char *path, size_t *lenp, int *is_state, char *err,
                          size_t errlen)
{
    struct stat st;
    uint8_t head[sizeof(struct hsnap_header)], *buf = NULL;
    int fd = in_open(path, &st, err, errlen);
    if (fd < 0)
        return NULL;
    size_t len = (size_t)st.st_size, hlen = len < sizeof(head) ? len : sizeof(head);
    if ((uint64_t)st.st_size > SIZE_MAX / 2) {
        fail(err, errlen, "too large (%lld bytes)", (long long)st.st_size);
    } else if (read_at(fd, head, 0, hlen, err, errlen) == 0 && state_is(head, hlen)) {
        *is_state = 1;
    } else if (snap_check_header(head, hlen, len, err, errlen) >= 0) {
        if (!(buf = big_malloc(len ? len : 1)))
            fail(err, errlen, "out of memory (%zu bytes)", len);
        else if (memcpy(buf, head, hlen), read_at(fd, buf, hlen, len, err, errlen) < 0) {
            free(buf);
            buf = NULL;
        }
        *lenp = len;
    }
    close(fd);
    return buf;
}

int snap_load_skip(const char *path, struct snap *out, uint32_t skip, char *err,
                   size_t errlen)
{
    char why[256];
    size_t len = 0;
    int is_state = 0;
    memset(out, 0, sizeof(*out));
    uint8_t *buf = read_file(path, &len, &is_state, why, sizeof(why));
    if (is_state)
        return state_load_noted(path, out, err, errlen);
    struct snap_budget b;
    snap_budget_init(&b, len);
    b.skip = skip;
    if (!buf || snap_load_owned(buf, len, &b, out, why, sizeof(why)) < 0)
        return fail(err, errlen, "%s: %s", path, why);
    for (const char *l = out->dropped; l && *l;) { /* a line each */
        size_t n = strcspn(l, "\n");
        fprintf(stderr, "heapsnap: warning: %s: %.*s; that section is left out, the rest read\n",
                path, (int)n, l);
        l += n + (l[n] == '\n');
    }
    return 0;
}

int snap_load(const char *path, struct snap *out, char *err, size_t errlen)
{
    return snap_load_skip(path, out, 0, err, errlen);
}
