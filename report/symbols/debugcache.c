/*
 * debugcache.c - debug files kept with their DWARF sections decompressed
 * (debugcache.h).  Debian's -dbgsym packages (and libc6-dbg) ship their
 * .debug_* sections compressed (SHF_COMPRESSED), and libdw inflates every
 * one of them when it opens the file, whichever few addresses a report
 * asks: on every `run` summary, `top` or `leaks` that meets a frame of
 * such a module, a cost many times the rest of a short run's report, and
 * more for each -dbgsym package the note told the user to install.  The
 * copy is made once, by libelf (elf_compress to none, then elf_update),
 * named by the file's build ID in the cache directory, and opened instead
 * of the original from then on, as debuginfod's client keeps what it
 * fetched.  The directory is HEAPSNAP_DEBUG_CACHE, else
 * $XDG_CACHE_HOME/heapsnap/debug, else ~/.cache/heapsnap/debug; "0" or
 * empty turns the cache off; the note's kept answers live there too
 * (dcache_where, dbgsym.c).  A copy is written to a temporary file and
 * renamed into place (a reader never sees half of one), is used only if
 * its build ID is the original's and nothing in it is compressed, and
 * the directory is held to HEAPSNAP_DEBUG_CACHE_MAX MiB (DCACHE_MAX_MIB by
 * default), the copies used least lately removed first; no copy is made
 * of a file that would take more than half of that.  Every failure (no
 * home, a read-only or full disk, a damaged copy) leaves the original in
 * use, silently.  Prefix dcache_.
 */
#include "debugcache.h"

#include <dirent.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DCACHE_MAX_MIB 1024u        /* MiB of copies the directory holds, by default */
#define DCACHE_ID_MAX 64             /* build-ID bytes */
#define DCACHE_ENTRIES 4096          /* copies looked at when making room */

/* The bytes of copies the cache holds (dcache_room). */
static uint64_t dcache_max(void)
{
    const char *env = getenv("HEAPSNAP_DEBUG_CACHE_MAX");
    char *end;
    unsigned long long mib = env && *env ? strtoull(env, &end, 10) : DCACHE_MAX_MIB;
    if (!env || !*env || *end || mib == 0 || mib > (1ull << 30))
        mib = DCACHE_MAX_MIB; /* a bad value: the default */
    return (uint64_t)mib << 20;
}

/* The cache's directory into out; 0, or -1 when it is off or has no place. */
static int dcache_dir(char *out, size_t n)
{
    const char *env = getenv("HEAPSNAP_DEBUG_CACHE"), *base;
    int w;
    if (env)
        w = !*env || !strcmp(env, "0") ? -1 : snprintf(out, n, "%s", env);
    else if ((base = getenv("XDG_CACHE_HOME")) && base[0] == '/')
        w = snprintf(out, n, "%s/heapsnap/debug", base);
    else if ((base = getenv("HOME")) && base[0] == '/')
        w = snprintf(out, n, "%s/.cache/heapsnap/debug", base);
    else
        w = -1;
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* Whether e has a compressed section; *size: the file's size with every
 * section decompressed (its size now plus what inflating adds). */
static int dcache_compressed(Elf *e, uint64_t now, uint64_t *size)
{
    Elf_Scn *s = NULL;
    int any = 0;
    *size = now;
    while ((s = elf_nextscn(e, s)) != NULL) {
        GElf_Shdr sh;
        GElf_Chdr ch;
        if (!gelf_getshdr(s, &sh) || !(sh.sh_flags & SHF_COMPRESSED))
            continue;
        any = 1;
        if (gelf_getchdr(s, &ch) && ch.ch_size > sh.sh_size)
            *size += ch.ch_size - sh.sh_size;
    }
    return any;
}

/* Whether the file at fd is a copy of the file with build ID id (n
 * bytes): that ID, and no section compressed. */
static int dcache_valid(int fd, const void *id, size_t n)
{
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *got;
    uint64_t size;
    int ok = e && elf_kind(e) == ELF_K_ELF && dwelf_elf_gnu_build_id(e, &got) == (ssize_t)n &&
             !memcmp(got, id, n) && !dcache_compressed(e, 0, &size);
    if (e)
        elf_end(e);
    return ok;
}

/* Each directory of path made (mode 0700) where missing; 0, or -1. */
static int dcache_mkdirs(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *c = p + 1;; c++) {
        if (*c != '/' && *c)
            continue;
        char was = *c;
        *c = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
        if (!was)
            return 0;
        *c = was;
    }
}

struct dcache_entry {
    char name[2 * DCACHE_ID_MAX + 8];
    uint64_t size;
    int64_t mtime;
};

static int dcache_older(const void *a, const void *b)
{
    const struct dcache_entry *x = a, *y = b;
    return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

/* Copies (and the note's kept answers) removed from dir, the least lately
 * used first, until need more bytes fit under dcache_max. */
static void dcache_room(const char *dir, uint64_t need)
{
    static struct dcache_entry e[DCACHE_ENTRIES];
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;
    uint64_t total = need, max = dcache_max();
    while (d && (de = readdir(d)) != NULL && n < DCACHE_ENTRIES) {
        size_t len = strlen(de->d_name);
        struct stat st;
        int kept = len > 7 && (!strcmp(de->d_name + len - 6, ".debug") ||
                               !strncmp(de->d_name, "owners-", 7)); /* dbgsym.c's too */
        if (!kept || len >= sizeof e[0].name ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        memcpy(e[n].name, de->d_name, len + 1);
        e[n].size = (uint64_t)st.st_size;
        e[n].mtime = (int64_t)st.st_mtime;
        total += e[n++].size;
    }
    qsort(e, n, sizeof e[0], dcache_older);
    for (size_t i = 0; i < n && total > max; i++)
        if (unlinkat(dirfd(d), e[i].name, 0) == 0)
            total -= e[i].size;
    if (d)
        closedir(d);
}

/* The bytes of fd (size of them) into out from the start; 0, or -1. */
static int dcache_copy(int fd, int out, uint64_t size)
{
    char buf[1 << 16];
    for (uint64_t at = 0; at < size;) {
        ssize_t k = pread(fd, buf, sizeof buf, (off_t)at);
        if (k <= 0)
            return -1;
        for (ssize_t w = 0; w < k;) {
            ssize_t m = write(out, buf + w, (size_t)(k - w));
            if (m <= 0)
                return -1;
            w += m;
        }
        at += (uint64_t)k;
    }
    return 0;
}

/* The copy of fd (size bytes now) with its sections decompressed, made at
 * path by way of a temporary file in dir; 0, or -1 (nothing left). */
static int dcache_make(int fd, uint64_t size, const char *dir, const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.tmp.XXXXXX", dir) >= (int)sizeof tmp)
        return -1;
    int out = mkstemp(tmp);
    if (out < 0)
        return -1;
    int ok = dcache_copy(fd, out, size) == 0;
    Elf *e = ok ? elf_begin(out, ELF_C_RDWR, NULL) : NULL;
    Elf_Scn *s = NULL;
    ok = e != NULL;
    while (ok && (s = elf_nextscn(e, s)) != NULL) {
        GElf_Shdr sh;
        if (gelf_getshdr(s, &sh) && (sh.sh_flags & SHF_COMPRESSED) && elf_compress(s, 0, 0) < 0)
            ok = 0;
    }
    if (ok && elf_update(e, ELF_C_WRITE) < 0)
        ok = 0;
    if (e)
        elf_end(e);
    if (close(out) != 0)
        ok = 0;
    if (ok && rename(tmp, path) == 0)
        return 0;
    unlink(tmp);
    return -1;
}

/* The bytes b[0..n) in hex, then ".debug", written at out + k (cap bytes
 * in all); 0, or -1 when they do not fit. */
static int dcache_hex(char *out, size_t k, size_t cap, const unsigned char *b, int n)
{
    static const char digit[] = "0123456789abcdef";
    if (k + 2 * (size_t)n + sizeof ".debug" > cap)
        return -1;
    for (int i = 0; i < n; i++) {
        out[k++] = digit[b[i] >> 4];
        out[k++] = digit[b[i] & 15];
    }
    memcpy(out + k, ".debug", sizeof ".debug");
    return 0;
}

/* The copy's path for build ID id (n bytes) into path (cap bytes), dir
 * its directory; 0, or -1 when the cache is off. */
static int dcache_path(const void *id, int n, char *dir, size_t dcap, char *path, size_t cap)
{
    if (n <= 0 || n > DCACHE_ID_MAX || dcache_dir(dir, dcap) != 0)
        return -1;
    int k = snprintf(path, cap, "%s/", dir);
    return k > 0 ? dcache_hex(path, (size_t)k, cap, id, n) : -1;
}

/* The copy at path, made first from the file at from where that one has
 * build ID id and compressed sections: its descriptor, or -1. */
static int dcache_get(const char *from, const void *id, int n, const char *dir, const char *path)
{
    elf_version(EV_CURRENT);
    int c = open(path, O_RDONLY | O_CLOEXEC);
    if (c >= 0 && dcache_valid(c, id, (size_t)n))
        return c;
    if (c >= 0) { /* damaged: made again */
        close(c);
        unlink(path);
    }
    int fd = from ? open(from, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    Elf *e = fd >= 0 && fstat(fd, &st) == 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
    const void *got;
    uint64_t size;
    int make = e && elf_kind(e) == ELF_K_ELF && dwelf_elf_gnu_build_id(e, &got) == (ssize_t)n &&
               !memcmp(got, id, (size_t)n) && dcache_compressed(e, (uint64_t)st.st_size, &size) &&
               size <= dcache_max() / 2;
    if (e)
        elf_end(e);
    c = -1;
    if (make && dcache_mkdirs(dir) == 0) {
        dcache_room(dir, size);
        if (dcache_make(fd, (uint64_t)st.st_size, dir, path) == 0 &&
            (c = open(path, O_RDONLY | O_CLOEXEC)) >= 0 && !dcache_valid(c, id, (size_t)n)) {
            close(c);
            c = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    return c;
}

int dcache_find(const void *id, int n, char **name)
{
    char dir[PATH_MAX], path[PATH_MAX + 2 * DCACHE_ID_MAX + 8], from[2 * DCACHE_ID_MAX + 64];
    if (dcache_path(id, n, dir, sizeof dir, path, sizeof path) != 0)
        return -1;
    const unsigned char *b = id;
    int k = snprintf(from, sizeof from, "/usr/lib/debug/.build-id/%02x/", b[0]);
    if (k <= 0 || dcache_hex(from, (size_t)k, sizeof from, b + 1, n - 1) != 0)
        return -1;
    int c = dcache_get(from, id, n, dir, path);
    char *copy = c >= 0 ? strdup(path) : NULL;
    if (!copy) {
        if (c >= 0)
            close(c);
        return -1;
    }
    futimens(c, (const struct timespec[2]){{0, UTIME_OMIT}, {0, UTIME_NOW}}); /* used now */
    if (name) {
        free(*name);
        *name = copy;
    } else {
        free(copy);
    }
    return c;
}

void dcache_fill(const char *path, const void *id, int n)
{
    char dir[PATH_MAX], to[PATH_MAX + 2 * DCACHE_ID_MAX + 8];
    if (!path || dcache_path(id, n, dir, sizeof dir, to, sizeof to) != 0)
        return;
    int c = dcache_get(path, id, n, dir, to);
    if (c >= 0)
        close(c);
}

int dcache_where(char *out, size_t n)
{
    return dcache_dir(out, n) == 0 && dcache_mkdirs(out) == 0 ? 0 : -1;
}
