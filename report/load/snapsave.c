/*
 * snapsave.c - writes a struct snap back out as a .hsnap file (grammar in
 * shim/hsnap_format.h) for `heapsnap merge`, built in one heap buffer; and
 * save_begin / save_commit, which open and complete every file a command
 * writes (export, html, merge, gate -o): "-" is standard output, a device,
 * FIFO or socket is written in place, anything else atomically.
 *   Rules: nothing planted is followed: the temporary is created
 * exclusively (O_TMPFILE, else a random name with O_EXCL|O_NOFOLLOW) in
 * the target's directory, and a symlink at the target is refused unless
 * it leads to a device, FIFO or socket.
 *
 *   header | META | MODULES | TRACES | STATS | [BLOCKS] | [TIMELINE] | [LEAKS]
 *          | [RETAINERS] | [SUPPRESSIONS] | [PYCODE] | [FAILED] | [PYGCFREED]
 *          | [THREADS] | END
 *
 * An optional section is written when the snap has it; RETAINERS and
 * SUPPRESSIONS only beside LEAKS, whose payload the caller builds (and
 * sorts RETAINERS).  Sections but META and END of SAVE_ZMIN bytes or more
 * are compressed (zstd) when that makes them smaller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "cli.h"
#include "snapsave.h"

#define SAVE_ZMIN 256 /* smaller payloads stay as they are */

#define SAVE_RANDOM 12 /* random letters and digits in a temporary's name */

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

/* The payload at start, compressed as the shim stores it (format 3: zhead,
 * one zstd frame with its content size and checksum), when that is
 * smaller; else it stays as it is. */
static void sec_pack(struct obuf *b, size_t start, struct hsnap_section *h)
{
    struct hsnap_zhead zh = {h->length, 0, 0};
    size_t cap = ZSTD_compressBound((size_t)h->length), f = 0;
    uint8_t *z = big_malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (z && cc && !ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)))
        f = ZSTD_compress2(cc, z, cap, b->p + start, (size_t)h->length);
    if (!ZSTD_isError(f) && f && sizeof zh + f < h->length) {
        memcpy(b->p + start, &zh, sizeof zh);
        memcpy(b->p + start + sizeof zh, z, f);
        b->len = start + sizeof zh + f;
        h->length = b->len - start;
        h->type |= HSNAP_SEC_ZSTD;
    }
    ZSTD_freeCCtx(cc);
    free(z);
}

static void sec_end(struct obuf *b, size_t at)
{
    if (b->oom)
        return;
    struct hsnap_section h;
    size_t start = at + sizeof(h);
    memcpy(&h, b->p + at, sizeof(h));
    h.length = b->len - start;
    if (h.type != HSNAP_SEC_META && h.type != HSNAP_SEC_END && h.length >= SAVE_ZMIN)
        sec_pack(b, start, &h);
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
        ob_u32(b, m->flags);
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
        if (t->ips) {
            ob_put(b, t->ips, (size_t)t->depth * 8);
            continue;
        }
        uint32_t node = t->node; /* a compressed TRACES' tree (snap.h) */
        for (int k = 0; k < t->depth; k++, node = s->nodes[node].parent)
            ob_put(b, &s->iptab[s->nodes[node].ipx], 8);
    }
    sec_end(b, at);
}

static void put_pycodes(struct obuf *b, const struct snap *s)
{
    size_t at = sec_begin(b, HSNAP_SEC_PYCODE);
    ob_u32(b, s->npycodes);
    ob_u32(b, s->py_version);
    for (uint32_t i = 0; i < s->npycodes; i++) {
        const struct snap_pycode *c = &s->pycodes[i];
        uint32_t fl = (uint32_t)strlen(c->file), ql = (uint32_t)strlen(c->qualname);
        ob_u32(b, (uint32_t)c->firstline);
        ob_u32(b, fl);
        ob_u32(b, ql);
        ob_u32(b, c->lt_len);
        ob_put(b, c->file, fl);
        ob_put(b, c->qualname, ql);
        ob_put(b, c->linetable, c->lt_len);
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

/* THREADS: the records, then each trace's thread by its record's index. */
static void put_threads(struct obuf *b, const struct snap *s)
{
    size_t at = sec_begin(b, HSNAP_SEC_THREADS);
    ob_u32(b, s->nthreads);
    ob_u32(b, s->ntraces);
    ob_u32(b, sizeof(struct hsnap_thread));
    ob_u32(b, 0);
    ob_put(b, s->threads, (size_t)s->nthreads * sizeof(*s->threads));
    for (uint32_t t = 0; t < s->ntraces; t++)
        ob_u16(b, s->trace_thread[t] == HSNAP_THREAD_NONE ? HSNAP_THREAD_NONE
                                                          : s->threads[s->trace_thread[t]].index);
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

/* PYTYPES from s->py (a merge's): the objects in block order, the
 * types' names after the refs' names, the links and parents by object. */
static void put_pytypes(struct obuf *b, const struct snap *s)
{
    const struct snap_pyobjs *py = &s->py;
    uint64_t *obj = big_malloc((s->nblocks ? s->nblocks : 1) * sizeof *obj);
    if (!obj) {
        b->oom = 1;
        return;
    }
    struct hsnap_pytypes_head h = {.ntypes = py->ntypes,
                                   .flags = py->graph ? HSNAP_PYTYPES_GRAPH : 0,
                                   .names_len = py->names_len};
    for (uint64_t i = 0; i < s->nblocks; i++) {
        obj[i] = h.nobjects;
        if (py->block_type[i] == PYTYPE_NONE)
            continue;
        h.nobjects++;
        h.nlinks += py->graph && py->block_next[i].block != UINT64_MAX;
        h.nparents += py->graph && py->block_parent[i].block != UINT64_MAX;
    }
    for (uint32_t t = 0; t < py->ntypes; t++)
        h.names_len += strlen(py->types[t].name);
    size_t at = sec_begin(b, HSNAP_SEC_PYTYPES);
    ob_put(b, &h, sizeof h);
    for (uint64_t i = 0; i < s->nblocks; i++) {
        if (py->block_type[i] == PYTYPE_NONE)
            continue;
        struct hsnap_pyobj o = {s->blocks[i].addr, py->block_type[i], py->block_off[i],
                                py->graph ? py->block_flags[i] : 0};
        ob_put(b, &o, sizeof o);
    }
    uint64_t off = py->names_len;
    for (uint32_t t = 0; t < py->ntypes; t++) {
        struct hsnap_pytype ty = {(uint32_t)off, (uint32_t)strlen(py->types[t].name),
                                  py->types[t].flags, 0};
        ob_put(b, &ty, sizeof ty);
        off += ty.name_len;
    }
    ob_put(b, py->names, py->names_len);
    for (uint32_t t = 0; t < py->ntypes; t++)
        ob_put(b, py->types[t].name, strlen(py->types[t].name));
    for (int k = 0; py->graph && k < 2; k++)
        for (uint64_t i = 0; i < s->nblocks; i++) {
            const struct snap_pyref *r = k ? &py->block_parent[i] : &py->block_next[i];
            if (py->block_type[i] == PYTYPE_NONE || r->block == UINT64_MAX)
                continue;
            struct hsnap_pylink l = {
                (uint32_t)(k ? obj[r->block] : obj[i]), (uint32_t)(k ? obj[i] : obj[r->block]),
                r->label, r->value, r->name ? (uint32_t)(r->name - py->names) : 0,
                r->name ? r->name_len : 0};
            ob_put(b, &l, sizeof l);
        }
    sec_end(b, at);
    uint64_t nown = 0;
    for (uint64_t i = 0; py->block_owner && i < s->nblocks; i++)
        nown += py->block_owner[i] != UINT64_MAX;
    if (nown) { /* PYOWNED: by the objects' indices above */
        at = sec_begin(b, HSNAP_SEC_PYOWNED);
        ob_u64(b, nown);
        for (uint64_t i = 0; i < s->nblocks; i++)
            if (py->block_owner[i] != UINT64_MAX) {
                struct hsnap_pyowned w = {s->blocks[i].addr, (uint32_t)obj[py->block_owner[i]], 0};
                ob_put(b, &w, sizeof w);
            }
    }
    free(obj);
    if (nown)
        sec_end(b, at);
}

/* ".BASE.tmp." and 12 random letters and digits, in path's directory. */
static int save_tmp_name(struct save_tmp *t)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char rnd[SAVE_RANDOM];
    char suffix[SAVE_RANDOM + 1];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -1;
    for (int i = 0; i < SAVE_RANDOM; i++)
        suffix[i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
    suffix[SAVE_RANDOM] = 0;
    const char *slash = strrchr(t->path, '/');
    int dlen = slash ? (int)(slash - t->path + 1) : 0;
    int n = snprintf(t->tmp, sizeof(t->tmp), "%.*s.%s.tmp.%s", dlen, t->path,
                     t->path + dlen, suffix);
    return n > 0 && (size_t)n < sizeof(t->tmp) ? 0 : -1;
}

static int save_fail(struct save_tmp *t, char *err, size_t errlen, int e)
{
    snprintf(err, errlen, "%s: %s", t->path, strerror(e));
    return -1;
}

/* A node written in place must be this user's or root's (and so must a
 * symlink to it): another user's FIFO planted at the name would read the
 * output. */
static int save_owned(const struct stat *st)
{
    return st->st_uid == 0 || st->st_uid == geteuid();
}

/* What the name at t->path is now: SAVE_ATOMIC (nothing, a regular file,
 * a directory: rename says why not), SAVE_DIRECT (a device, FIFO or
 * socket, or a symlink to one, of this user or root), or -1 with err (a
 * symlink to anything else, another user's node).  *lnk: it is a
 * symlink. */
static int save_kind(struct save_tmp *t, int *lnk, char *err, size_t errlen)
{
    struct stat ls, st;
    *lnk = 0;
    if (lstat(t->path, &ls) != 0) /* absent, or its directory says why */
        return SAVE_ATOMIC;
    if (S_ISREG(ls.st_mode) || S_ISDIR(ls.st_mode))
        return SAVE_ATOMIC;
    *lnk = S_ISLNK(ls.st_mode);
    int ok = !*lnk || stat(t->path, &st) == 0;
    if (!*lnk)
        st = ls;
    if (ok && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
        ok = 0;
    else if (ok && save_owned(&ls) && save_owned(&st))
        return SAVE_DIRECT;
    if (ok)
        snprintf(err, errlen, "%s: a device, FIFO or socket of another user: not written to",
                 t->path);
    else
        snprintf(err, errlen, "%s: a symbolic link to %s: neither followed nor replaced (name "
                 "the file itself, or - for standard output)", t->path,
                 stat(t->path, &st) != 0 ? "nothing"
                 : S_ISREG(st.st_mode)   ? "a regular file"
                                         : "a directory");
    return -1;
}

/* A device, FIFO or socket at t->path, opened for writing in place: no
 * O_CREAT or O_TRUNC, and O_NOFOLLOW unless lstat saw a symlink to one.
 * What is there when it is open must still be no regular file. */
static int save_direct(struct save_tmp *t, int lnk, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(t->path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (lnk ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        int e = errno;
        if (e == ENXIO && stat(t->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s: a socket: it cannot be opened as a file", t->path);
            return -1;
        }
        return save_fail(t, err, errlen, e);
    }
    if (fstat(fd, &st) != 0 || S_ISREG(st.st_mode) || !save_owned(&st)) {
        close(fd);
        snprintf(err, errlen, "%s: replaced while being opened: not written to", t->path);
        return -1;
    }
    if (!(t->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        return save_fail(t, err, errlen, e);
    }
    return 0;
}

/* A temporary beside t->path, created exclusively. */
static int save_atomic(struct save_tmp *t, unsigned mode, char *err, size_t errlen)
{
    char dir[4096];
    int fd = -1;
    const char *path = t->path, *slash = strrchr(path, '/');
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    if (access("/proc/self/fd", X_OK) == 0) /* linkat needs it to name the file */
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    t->anon = fd >= 0;
    for (int i = 0; fd < 0 && i < 100; i++) {
        if (save_tmp_name(t) < 0)
            return save_fail(t, err, errlen, errno ? errno : ENAMETOOLONG);
        fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            return save_fail(t, err, errlen, errno);
    }
    if (fd < 0)
        return save_fail(t, err, errlen, EEXIST);
    if (!(t->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        save_abort(t);
        return save_fail(t, err, errlen, e);
    }
    return 0;
}

int save_begin(struct save_tmp *t, const char *path, unsigned mode, char *err,
               size_t errlen)
{
    int lnk;
    memset(t, 0, sizeof(*t));
    if (strcmp(path, "-") == 0) {
        t->kind = SAVE_STDOUT;
        t->f = stdout;
        snprintf(t->path, sizeof(t->path), "stdout");
        return 0;
    }
    if (snprintf(t->path, sizeof(t->path), "%s", path) >= (int)sizeof(t->path))
        return save_fail(t, err, errlen, ENAMETOOLONG);
    t->kind = save_kind(t, &lnk, err, errlen);
    if (t->kind < 0)
        return -1;
    return t->kind == SAVE_DIRECT ? save_direct(t, lnk, err, errlen)
                                  : save_atomic(t, mode, err, errlen);
}

/* An O_TMPFILE file gets its temporary name now that it is complete. */
static int save_link(struct save_tmp *t)
{
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fileno(t->f));
    for (int i = 0; i < 100; i++) {
        if (save_tmp_name(t) < 0)
            return -1;
        if (linkat(AT_FDCWD, proc, AT_FDCWD, t->tmp, AT_SYMLINK_FOLLOW) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

/* A stream: flushed, and closed unless it is standard output. */
static int save_stream_end(struct save_tmp *t, char *err, size_t errlen)
{
    int e = fflush(t->f) != 0 || ferror(t->f) ? (errno ? errno : EIO) : 0;
    if (t->kind == SAVE_DIRECT && fclose(t->f) != 0 && !e)
        e = errno;
    t->f = NULL;
    return e ? save_fail(t, err, errlen, e) : 0;
}

int save_commit(struct save_tmp *t, char *err, size_t errlen)
{
    int e = 0;
    if (t->kind != SAVE_ATOMIC)
        return save_stream_end(t, err, errlen);
    if (fflush(t->f) != 0 || ferror(t->f))
        e = errno ? errno : EIO;
    else if (fsync(fileno(t->f)) != 0 && errno != EINVAL)
        e = errno;
    else if (t->anon && save_link(t) < 0)
        e = errno ? errno : EIO;
    else if (t->anon)
        t->anon = 0; /* it has a name now: save_abort unlinks it */
    if (!e && rename(t->tmp, t->path) != 0)
        e = errno;
    if (e) {
        save_abort(t);
        return save_fail(t, err, errlen, e);
    }
    t->tmp[0] = 0;
    e = fclose(t->f) != 0 ? errno : 0;
    t->f = NULL;
    return e ? save_fail(t, err, errlen, e) : 0;
}

void save_abort(struct save_tmp *t)
{
    if (t->kind == SAVE_STDOUT) {
        fflush(t->f);
        t->f = NULL;
        return;
    }
    if (t->f)
        fclose(t->f);
    t->f = NULL;
    if (!t->anon && t->tmp[0])
        unlink(t->tmp);
    t->tmp[0] = 0;
}

int save_is_tmp_name(const char *name)
{
    const char *tail = strstr(name, ".tmp.");
    size_t n;
    if (name[0] != '.' || !tail)
        return 0;
    while (strstr(tail + 1, ".tmp."))
        tail = strstr(tail + 1, ".tmp.");
    n = strlen(tail + 5);
    return tail > name + 1 && n >= 6 &&
           strspn(tail + 5, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

static int save_file(const char *path, const struct obuf *b, char *err, size_t errlen)
{
    struct save_tmp t;
    if (save_begin(&t, path, 0600, err, errlen) < 0)
        return -1;
    if (fwrite(b->p, 1, b->len, t.f) != b->len) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        save_abort(&t);
        return -1;
    }
    return save_commit(&t, err, errlen);
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
    if (s->has_blocks && s->py.block_type && s->py.nobjects)
        put_pytypes(&b, s);
    if (s->npoints)
        put_array(&b, HSNAP_SEC_TIMELINE, 0, s->npoints, s->points, sizeof(*s->points));
    if (s->leaks_len) {
        size_t at = sec_begin(&b, HSNAP_SEC_LEAKS);
        ob_put(&b, s->leaks, s->leaks_len);
        sec_end(&b, at);
        if (s->has_retainers)
            put_retainers(&b, s);
        if (s->supp_text && *s->supp_text) {
            size_t sat = sec_begin(&b, HSNAP_SEC_SUPPRESSIONS);
            ob_put(&b, s->supp_text, strlen(s->supp_text));
            sec_end(&b, sat);
        }
    }
    if (s->npycodes)
        put_pycodes(&b, s);
    if (s->nfailed) { /* u32 count, u32 reserved, the items */
        size_t at = sec_begin(&b, HSNAP_SEC_FAILED);
        ob_u32(&b, s->nfailed);
        ob_u32(&b, 0);
        ob_put(&b, s->failed, (size_t)s->nfailed * sizeof(*s->failed));
        sec_end(&b, at);
    }
    if (s->has_gcfreed) { /* u32 count, u32 reserved, u64 collected, u64 dropped, the items */
        size_t at = sec_begin(&b, HSNAP_SEC_PYGCFREED);
        ob_u32(&b, s->ngcfreed);
        ob_u32(&b, 0);
        ob_u64(&b, s->gc_collected);
        ob_u64(&b, s->gc_dropped);
        ob_put(&b, s->gcfreed, (size_t)s->ngcfreed * sizeof(*s->gcfreed));
        sec_end(&b, at);
    }
    if (s->has_threads)
        put_threads(&b, s);
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
