/*
 * snapsave.c - writes a struct snap back out as a .hsnap file (the grammar in
 * shim/hsnap_format.h), for commands that produce snapshots themselves:
 * `heapsnap merge`.  The shim has its own writer that never allocates through
 * the host's malloc; this one runs in the CLI, so it builds the file in one
 * heap buffer and writes it atomically (temporary file, then rename), so a
 * reader never sees half a file.
 *
 *   header | META | MODULES | TRACES | STATS | [BLOCKS] | [TIMELINE] | [LEAKS]
 *          | [RETAINERS] | END
 *
 * BLOCKS is written when s->has_blocks, TIMELINE when s->npoints, LEAKS when
 * s->leaks_len (its payload is copied as given: the caller builds it), and
 * RETAINERS when s->has_retainers and LEAKS is written (the format keeps
 * RETAINERS only beside LEAKS; the caller sorts and dedups the items).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "snapsave.h"

struct obuf {
    uint8_t *p;
    size_t len, cap;
    int oom;
};

static void ob_put(struct obuf *b, const void *d, size_t n)
{
    if (b->oom || !n)
        return;
    if (grow_array((void **)&b->p, &b->cap, b->len + n, 1) < 0) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void ob_u16(struct obuf *b, uint16_t v) { ob_put(b, &v, 2); }
static void ob_u32(struct obuf *b, uint32_t v) { ob_put(b, &v, 4); }
static void ob_u64(struct obuf *b, uint64_t v) { ob_put(b, &v, 8); }

/* Opens a section: returns the offset of its header, filled by sec_end. */
static size_t sec_begin(struct obuf *b, uint32_t type)
{
    struct hsnap_section h = {.type = type};
    size_t at = b->len;
    ob_put(b, &h, sizeof(h));
    return at;
}

static void sec_end(struct obuf *b, size_t at)
{
    if (b->oom)
        return;
    struct hsnap_section h;
    size_t start = at + sizeof(h);
    memcpy(&h, b->p + at, sizeof(h));
    h.length = b->len - start;
    h.crc32 = (uint32_t)crc32(0L, b->p + start, (uInt)h.length);
    memcpy(b->p + at, &h, sizeof(h));
}

static void put_str(struct obuf *b, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0;
    ob_u32(b, n);
    ob_put(b, s, n);
}

static void put_meta(struct obuf *b, const struct snap *s)
{
    size_t at = sec_begin(b, HSNAP_SEC_META);
    ob_put(b, &s->meta, sizeof(s->meta));
    put_str(b, s->cmdline);
    put_str(b, s->exe);
    sec_end(b, at);
}

static void put_modules(struct obuf *b, const struct snap *s)
{
    size_t at = sec_begin(b, HSNAP_SEC_MODULES);
    ob_u32(b, s->nmodules);
    for (uint32_t i = 0; i < s->nmodules; i++) {
        const struct snap_module *m = &s->modules[i];
        uint16_t plen = (uint16_t)strlen(m->path);
        ob_u64(b, m->bias);
        ob_u64(b, m->lo);
        ob_u64(b, m->hi);
        ob_u16(b, plen);
        ob_u16(b, m->build_id_len);
        ob_u32(b, 0);
        ob_put(b, m->path, plen);
        ob_put(b, m->build_id, m->build_id_len);
    }
    sec_end(b, at);
}

static void put_traces(struct obuf *b, const struct snap *s)
{
    size_t at = sec_begin(b, HSNAP_SEC_TRACES);
    ob_u32(b, s->ntraces);
    for (uint32_t i = 0; i < s->ntraces; i++) {
        const struct snap_trace *t = &s->traces[i];
        ob_u16(b, t->depth);
        ob_u16(b, t->flags);
        ob_u32(b, 0);
        ob_put(b, t->ips, (size_t)t->depth * 8);
    }
    sec_end(b, at);
}

static void put_array(struct obuf *b, uint32_t type, int count64, uint64_t n,
                      const void *items, size_t item)
{
    size_t at = sec_begin(b, type);
    if (count64)
        ob_u64(b, n);
    else
        ob_u32(b, (uint32_t)n);
    ob_put(b, items, (size_t)n * item);
    sec_end(b, at);
}

static void put_retainers(struct obuf *b, const struct snap *s)
{
    size_t at = sec_begin(b, HSNAP_SEC_RETAINERS);
    ob_u32(b, s->nretainers);
    ob_u32(b, 0);
    ob_put(b, s->retainers, (size_t)s->nretainers * sizeof(*s->retainers));
    sec_end(b, at);
}

static int save_file(const char *path, const struct obuf *b, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int ok = fwrite(b->p, 1, b->len, f) == b->len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int snap_save(const char *path, const struct snap *s, char *err, size_t errlen)
{
    struct obuf b = {0};
    struct hsnap_header h = {.version = HSNAP_VERSION, .header_size = sizeof(h)};
    memcpy(h.magic, HSNAP_MAGIC, HSNAP_MAGIC_LEN);
    ob_put(&b, &h, sizeof(h));
    put_meta(&b, s);
    put_modules(&b, s);
    put_traces(&b, s);
    put_array(&b, HSNAP_SEC_STATS, 0, s->ntraces, s->stats, sizeof(*s->stats));
    if (s->has_blocks)
        put_array(&b, HSNAP_SEC_BLOCKS, 1, s->nblocks, s->blocks, sizeof(*s->blocks));
    if (s->npoints)
        put_array(&b, HSNAP_SEC_TIMELINE, 0, s->npoints, s->points, sizeof(*s->points));
    if (s->leaks_len) {
        size_t at = sec_begin(&b, HSNAP_SEC_LEAKS);
        ob_put(&b, s->leaks, s->leaks_len);
        sec_end(&b, at);
        if (s->has_retainers)
            put_retainers(&b, s);
    }
    sec_end(&b, sec_begin(&b, HSNAP_SEC_END));
    if (b.oom) {
        free(b.p);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    h.file_size = b.len;
    memcpy(b.p, &h, sizeof(h));
    int rc = save_file(path, &b, err, errlen);
    free(b.p);
    return rc;
}
