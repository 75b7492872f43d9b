/*
 * framerec.c - the command's frame records and their idents (framerec.h).
 *
 * Three tables, each by its key in a uthash: native records by (registry
 * module, file address), Python records by (file, qualified name, line),
 * idents by their text.  A record's strings point into the symbolizer's
 * cache (sym.c) or into the Python key, which live as long as the record.
 * A native record keeps the ip of the first trace that named it, a Python
 * one the first word: the same frame in two processes is one record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashfn.h"

#include "cli.h"
#include "decimal.h"
#include "fmt.h"
#include "framerec.h"
#include "sym.h"

#define PY_MODULE "<python>" /* the module of a Python frame */

struct native_key {
    int32_t mod;
    uint32_t pad;         /* zeroed, so that the bytes hash */
    uint64_t off;
};

struct native_entry {
    struct native_key key;
    int n;
    struct frec **recs;   /* n records, innermost inlined first */
    UT_hash_handle hh;
};

struct py_entry {
    char *key;            /* file \0 qualname \0 line, keylen bytes */
    size_t keylen;
    char *pymodule;
    struct frec *rec;
    UT_hash_handle hh;
};

struct ident_entry {
    char *text;           /* "file\x1fline\x1ffunc\x1fmodule\x1e" */
    char *site;           /* "file.c:12" or the function */
    uint32_t num;
    UT_hash_handle hh;
};

/* The command's records.  Invariant: idents[k]->num == k. */
static struct {
    struct native_entry *natives;
    struct py_entry *pys;
    struct ident_entry *byid;
    struct ident_entry **idents;
    size_t nidents, capidents;
} fr;

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int frec_native(int mod, uint64_t off, uint64_t ip, struct frec *const **out)
{
    struct native_key k = {mod, 0, off};
    struct native_entry *e;
    const struct sym_frame *sf;
    HASH_FIND(hh, fr.natives, &k, sizeof(k), e);
    if (e) {
        *out = e->recs;
        return e->n;
    }
    int n = sym_lookup(mod, off, &sf);
    if (!(e = calloc(1, sizeof(*e))) || !(e->recs = calloc((size_t)n, sizeof(*e->recs)))) {
        free(e);
        return -1;
    }
    e->key = k;
    for (int j = 0; j < n; j++) {
        if (!(e->recs[j] = calloc(1, sizeof(**e->recs)))) {
            while (j-- > 0)
                free(e->recs[j]);
            free(e->recs);
            free(e);
            return -1;
        }
        e->recs[j]->f = (struct frame){ip, sf[j].func, fmt_path(sf[j].file), sf[j].file,
                                       sf[j].line, mod >= 0 ? sym_module_base(mod) : "<unknown>",
                                       mod >= 0 ? sym_module_path(mod) : "", sf[j].inlined,
                                       NULL, 0};
    }
    e->n = n;
    HASH_ADD(hh, fr.natives, key, sizeof(e->key), e);
    *out = e->recs;
    return n;
}

/* len bytes of p into buf (n bytes), cut as snprintf cuts, NUL-ended. */
static void put_str(char *buf, size_t n, const char *p, size_t len)
{
    len = len < n - 1 ? len : n - 1;
    memcpy(buf, p, len);
    buf[len] = 0;
}

/* The module a Python file is, as Python names it, into buf: the path
 * below site-packages (dist-packages) or the standard library's
 * lib/pythonX.Y, dotted, without ".py" and a last "__init__"; a frozen
 * module's name ("<frozen abc>": "abc"); otherwise the file's name without
 * ".py" (a script: "app"); "<string>" and the like as they are. */
void frec_py_module(const char *file, char *buf, size_t n)
{
    static const char *const roots[] = {"/site-packages/", "/dist-packages/"};
    const char *p = NULL, *q;
    size_t len = strlen(file);
    if (strncmp(file, "<frozen ", 8) == 0 && len > 9) {
        put_str(buf, n, file + 8, len - 9);
        return;
    }
    if (file[0] == '<') {
        put_str(buf, n, file, len);
        return;
    }
    for (size_t i = 0; i < NELEM(roots); i++)
        if ((q = strstr(file, roots[i])) && (!p || q > p))
            p = q + strlen(roots[i]);
    for (q = file; !p && (q = strstr(q, "/lib/python")); q++) {
        const char *v = q + 11;
        while (*v && *v != '/')
            v++;
        if (*v == '/' && !strchr(v + 1, '<'))
            p = v + 1;
    }
    if (!p)
        p = (q = strrchr(file, '/')) ? q + 1 : file;
    len = strlen(p);
    if (len > 3 && strcmp(p + len - 3, ".py") == 0)
        len -= 3;
    if (len > 9 && strncmp(p + len - 9, "/__init__", 9) == 0)
        len -= 9;
    put_str(buf, n, p, len);
    for (char *c = buf; *c; c++)
        if (*c == '/')
            *c = '.';
}

static void py_entry_free(struct py_entry *e)
{
    if (!e)
        return;
    free(e->key);
    free(e->pymodule);
    free(e->rec);
    free(e);
}

int frec_python(const char *file, const char *qualname, int line, uint64_t word,
                struct frec *const **out)
{
    size_t fl = strlen(file), ql = strlen(qualname), len = fl + ql + 2 + sizeof line;
    char *key = malloc(len), mod[1024];
    struct py_entry *e;
    if (!key)
        return -1;
    memcpy(key, file, fl + 1);
    memcpy(key + fl + 1, qualname, ql + 1);
    memcpy(key + fl + ql + 2, &line, sizeof line);
    HASH_FIND(hh, fr.pys, key, len, e);
    if (e) {
        free(key);
        *out = &e->rec;
        return 0;
    }
    frec_py_module(file, mod, sizeof(mod));
    if (!(e = calloc(1, sizeof(*e)))) {
        free(key);
        return -1;
    }
    e->key = key;
    e->keylen = len;
    if (!(e->pymodule = strdup(mod)) || !(e->rec = calloc(1, sizeof(*e->rec)))) {
        py_entry_free(e);
        return -1;
    }
    const char *f = key, *q = key + fl + 1;
    e->rec->f = (struct frame){word, q, fmt_path(f), f, line > 0 ? line : 0, PY_MODULE, "",
                               0, e->pymodule, 0};
    HASH_ADD_KEYPTR(hh, fr.pys, e->key, e->keylen, e);
    *out = &e->rec;
    return 0;
}

/* Appends n bytes of p at o; past them. */
static char *put(char *o, const char *p, size_t n)
{
    memcpy(o, p, n);
    return o + n;
}

/* Puts n bytes of p at buf + at, as many as leave room for a NUL in a
 * buffer of cap bytes; the new end. */
static size_t put_cut(char *buf, size_t at, size_t cap, const char *p, size_t n)
{
    n = n < cap - 1 - at ? n : cap - 1 - at;
    memcpy(buf + at, p, n);
    return at + n;
}

/* "%s\x1f%d\x1f%s\x1f%s\x1e" of file, line, func and module, put together
 * by hand: snprintf's parsing was most of judging a new frame. */
int frec_ident(struct frec *r)
{
    const struct frame *f = &r->f;
    size_t lfile = strlen(f->file), lfunc = strlen(f->func), lmod = strlen(f->module);
    char *text = malloc(lfile + lfunc + lmod + 16), num[DECIMAL_MAX], *o = text;
    struct ident_entry *e;
    if (!text)
        return -1;
    uint32_t u = f->line < 0 ? 0u - (uint32_t)f->line : (uint32_t)f->line;
    const char *d = decimal_put(num + sizeof num, u, f->line < 0);
    size_t ld = (size_t)(num + sizeof num - d); /* at most 11: "-2147483648" */
    o = put(o, f->file, lfile);
    *o++ = '\x1f';
    o = put(o, d, ld);
    *o++ = '\x1f';
    o = put(o, f->func, lfunc);
    *o++ = '\x1f';
    o = put(o, f->module, lmod);
    *o++ = '\x1e';
    *o = 0;
    HASH_FIND_STR(fr.byid, text, e);
    if (e) {
        free(text);
        r->f.ident = e->num;
        return 0;
    }
    char site[4200]; /* "%s:%d" of file and line, else the function; cut as snprintf */
    size_t at = 0;
    if (frames_has_file(f)) {
        at = put_cut(site, at, sizeof site, f->file, lfile);
        at = put_cut(site, at, sizeof site, ":", 1);
        at = put_cut(site, at, sizeof site, d, ld);
    } else {
        at = put_cut(site, at, sizeof site, f->func, lfunc);
    }
    site[at] = 0;
    if (grow_array((void **)&fr.idents, &fr.capidents, fr.nidents + 1, sizeof(*fr.idents)) < 0 ||
        !(e = calloc(1, sizeof(*e))) || !(e->site = strdup(site))) {
        free(e);
        free(text);
        return -1;
    }
    e->text = text;
    e->num = (uint32_t)fr.nidents;
    fr.idents[fr.nidents++] = e;
    HASH_ADD_KEYPTR(hh, fr.byid, e->text, (size_t)(o - text), e);
    r->f.ident = e->num;
    return 0;
}

const char *frec_ident_text(uint32_t ident) { return fr.idents[ident]->text; }

const char *frec_site_name(uint32_t ident) { return fr.idents[ident]->site; }

void frec_fini(void)
{
    struct native_entry *n, *ntmp;
    HASH_ITER(hh, fr.natives, n, ntmp) {
        HASH_DEL(fr.natives, n);
        for (int j = 0; j < n->n; j++)
            free(n->recs[j]);
        free(n->recs);
        free(n);
    }
    struct py_entry *p, *ptmp;
    HASH_ITER(hh, fr.pys, p, ptmp) {
        HASH_DEL(fr.pys, p);
        py_entry_free(p);
    }
    struct ident_entry *e, *etmp;
    HASH_ITER(hh, fr.byid, e, etmp) {
        HASH_DEL(fr.byid, e);
        free(e->text);
        free(e->site);
        free(e);
    }
    free(fr.idents);
    memset(&fr, 0, sizeof(fr));
}
