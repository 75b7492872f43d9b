/*
 * code.c - code objects, copied into the shim's memory the first time a
 * trace names them: a trace keeps (code id, instruction offset) words, the
 * offset the first instruction of the frame's line (struct pyfr_lines, made
 * here from the copied table), and the file name, qualified name, first
 * line and line table the CLI needs for a line number go into PYCODE.  A
 * code object may die and another be born at its address: each entry
 * keeps a check of the object's identity (the addresses of its name, file
 * and line-table objects, its first line, code size and line table's size
 * and first bytes), and an address whose check differs gets a new id (the
 * old one stays for the traces that name it).  Ids index `recs`; an open-addressed index by address finds them.
 * One lock for all: the allocating threads (with the GIL, they seldom
 * meet) and the snapshot writer.
 * Each thread keeps its recent answers (address -> id) in a small cache
 * that takes no lock: an answer holds while no code object has died and
 * no address has got a newer id since (pyfr_code_gen counts both; a death
 * is seen by py_free of the OBJ domain, before the memory can go
 * to another object), so a hit is the id the index would give.
 */
#include <string.h>

#include "hsnap_pyline.h"
#include "pyreads.h"
#include "pyframes.h"

#define PY_STR_MAX 1024u /* bytes kept of a file or qualified name */

struct pyfr_code {
    uintptr_t addr;     /* the code object's address when copied */
    uint64_t check;     /* its identity (pyfr_code_check) */
    const struct pyfr_lines *lines; /* its line runs (pyfr_lines_make; NULL: none) */
    int32_t firstline;
    uint32_t fn_len, qn_len, lt_len;
    char data[];        /* filename, qualname, linetable */
};

static struct {
    lock_t lock;
    struct pyfr_code **recs; /* by id */
    uint32_t n, cap;
    uint32_t *index;       /* id + 1 by address hash; 0 = empty */
    uint32_t slots;        /* power of two */
    uint32_t *scratch;     /* pyfr_lines_make's, kept for the next code */
    size_t scratch_len;    /* its bytes */
} code;

/* This thread's answers (pyframes.h): PY_CODE_CACHE, from the arena at its
 * first lookup; NULL: none (yet, or ended with the thread, or no memory). */
__thread struct pyfr_code_hit *pyfr_code_hits;
static __thread int pyfr_code_hits_off;
_Atomic uint32_t pyfr_code_gen; /* code objects died and addresses given a newer id */

/* The first 8 bytes of a line table of len bytes (fewer: zeros after). */
static inline uint64_t pyfr_first8(const char *data, uintptr_t len)
{
    uint64_t v = 0;
    if (HS_LIKELY(len >= 8))
        __builtin_memcpy(&v, data, 8); /* one load */
    else
        __builtin_memcpy(&v, data, len);
    return v;
}

/* What a code object's identity is made of (pyfr_code_check hashes it). */
struct pyfr_ident {
    uintptr_t fn, qn, lt;  /* its file name, qualified name and line table objects */
    uintptr_t size, len;   /* its code size, its line table's size */
    uint64_t first;        /* the line table's first bytes */
    uint32_t line;         /* its first line */
};

static inline void pyfr_code_ident(const char *co, struct pyfr_ident *d)
{
    const struct pylay_layout *l = pylay_lay;
    const char *lt = (const char *)pylay_ptr(co, l->co_linetable);
    d->fn = pylay_ptr(co, l->co_filename);
    d->qn = pylay_ptr(co, l->co_qualname);
    d->lt = (uintptr_t)lt;
    d->line = *(const uint32_t *)(co + l->co_firstlineno);
    d->size = pylay_ptr(co, l->co_size);
    d->len = d->first = 0;
    if (lt) {
        d->len = pylay_ptr(lt, l->bytes_size);
        d->first = pyfr_first8(lt + l->bytes_data, d->len);
    }
}

static uint64_t pyfr_mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull + (h >> 29);
}

static uint64_t pyfr_code_check(const struct pyfr_ident *d)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = pyfr_mix(h, d->fn);
    h = pyfr_mix(h, d->qn);
    h = pyfr_mix(h, d->lt);
    h = pyfr_mix(h, d->line);
    h = pyfr_mix(h, d->size);
    if (d->lt)
        h = pyfr_mix(pyfr_mix(h, d->len), d->first);
    return h;
}

/* The UTF-8 text of a compact str object into out (cap bytes); length. */
uint32_t pyfr_str(const char *s, char *out, uint32_t cap)
{
    const struct pylay_layout *l = pylay_lay;
    if (!s)
        return 0;
    uint32_t state = *(const uint32_t *)(s + l->str_state);
    unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    uintptr_t len = pylay_ptr(s, l->str_length);
    if (!compact || (kind != 1 && kind != 2 && kind != 4))
        return 0;
    const char *d = s + (ascii ? l->str_ascii_data : l->str_compact_data);
    uint32_t k = 0;
    for (uintptr_t i = 0; i < len; i++) {
        uint32_t c = kind == 1 ? ((const uint8_t *)d)[i]
                     : kind == 2 ? ((const uint16_t *)d)[i] : ((const uint32_t *)d)[i];
        unsigned need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (k + need > cap)
            break;
        if (need == 1) {
            out[k++] = (char)c;
            continue;
        }
        static const uint8_t lead[5] = {0, 0, 0xc0, 0xe0, 0xf0};
        for (unsigned j = need - 1; j > 0; j--, c >>= 6) /* continuation bytes, last first */
            out[k + j] = (char)(0x80 | (c & 0x3f));
        out[k] = (char)(lead[need] | c);
        k += need;
    }
    return k;
}

/* A new record for co, or NULL. */
static struct pyfr_code *pyfr_code_copy(const char *co, uint64_t check)
{
    const struct pylay_layout *l = pylay_lay;
    const char *lt = (const char *)pylay_ptr(co, l->co_linetable);
    uintptr_t lt_len = lt ? pylay_ptr(lt, l->bytes_size) : 0;
    if (lt_len > (1u << 20))
        lt_len = 0;
    char fn[PY_STR_MAX], qn[PY_STR_MAX];
    uint32_t fn_len = pyfr_str((const char *)pylay_ptr(co, l->co_filename), fn, sizeof fn);
    uint32_t qn_len = pyfr_str((const char *)pylay_ptr(co, l->co_qualname), qn, sizeof qn);
    struct pyfr_code *c = arena_keep(sizeof *c + fn_len + qn_len + lt_len);
    if (!c)
        return NULL;
    c->addr = (uintptr_t)co;
    c->check = check;
    c->firstline = *(const int32_t *)(co + l->co_firstlineno);
    c->fn_len = fn_len;
    c->qn_len = qn_len;
    c->lt_len = (uint32_t)lt_len;
    memcpy(c->data, fn, fn_len);
    memcpy(c->data + fn_len, qn, qn_len);
    if (lt_len)
        memcpy(c->data + fn_len + qn_len, lt + l->bytes_data, lt_len);
    return c;
}

/* A run ending at end (code units) of line line appended to end[]/line[]
 * (*n of them), or the last one lengthened when it has the same line. */
static void py_run_put(uint32_t *end, int32_t *line, uint32_t *n, int64_t at, int32_t ln)
{
    uint32_t e = at > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)at;
    if (*n && line[*n - 1] == ln) {
        end[*n - 1] = e;
        return;
    }
    end[*n] = e;
    line[(*n)++] = ln;
}

/* The runs of a line table as the CLI's reading finds them (hsnap_pyline.h:
 * the same walks), into end[]/line[] (room for len + 1); how many. */
static uint32_t py_runs(const uint8_t *lt, uint32_t len, int32_t line, uint32_t *end,
                        int32_t *lines)
{
    uint32_t n = 0, i = 0;
    int64_t at = 0;
    if (pylay_sym.version < 0x030b0000u) { /* 3.10: byte pairs, ends in bytes */
        for (; i + 1 < len; i += 2) {
            int8_t delta = (int8_t)lt[i + 1];
            if (delta != -128)
                line += delta;
            if (lt[i]) {
                at += lt[i];
                py_run_put(end, lines, &n, (at + 1) / 2, delta == -128 ? -1 : line);
            }
        }
        return n;
    }
    while (i < len) {
        int noline;
        at += hsnap_py_location_entry(lt, len, &i, &line, &noline);
        py_run_put(end, lines, &n, at, noline ? -1 : line);
    }
    return n;
}

/* code.scratch of len bytes at least (code lock held), or NULL. */
static uint32_t *py_scratch(size_t len)
{
    if (code.scratch_len < len) {
        size_t n = 4096;
        while (n < len)
            n *= 2;
        uint32_t *m = arena_alloc(n);
        if (!m)
            return NULL;
        arena_free(code.scratch, code.scratch_len);
        code.scratch = m, code.scratch_len = n;
    }
    return code.scratch;
}

/* c's runs (py_runs) in code.scratch: their ends returned, their lines in
 * *line, *n of them; NULL when c has no table or no memory.  Code lock held. */
static uint32_t *py_runs_of(const struct pyfr_code *c, int32_t **line, uint32_t *n)
{
    const uint8_t *lt = (const uint8_t *)c->data + c->fn_len + c->qn_len;
    size_t cap = (size_t)c->lt_len + 1; /* an entry or pair takes a byte at least */
    uint32_t *end = c->lt_len ? py_scratch(cap * 8) : NULL;
    if (!end)
        return NULL;
    *line = (int32_t *)(end + cap);
    *n = py_runs(lt, c->lt_len, c->firstline, end, *line);
    return end;
}

/* c's line runs (struct pyfr_lines), each with the first offset of its line,
 * or NULL (no table, no memory).  Made once a code, under the code lock:
 * its table read once, then each run's line looked up in an index of the
 * lines met (seen: run + 1 of a line's first run). */
static const struct pyfr_lines *pyfr_lines_make(const struct pyfr_code *c)
{
    int32_t *line;
    uint32_t n, slots = 16;
    uint32_t *end = py_runs_of(c, &line, &n);
    if (!end)
        return NULL;
    while (slots < 2 * n)
        slots *= 2;
    uint32_t *seen = arena_alloc(slots * sizeof *seen);
    struct pyfr_lines *ln = n && seen ? arena_keep(sizeof *ln + 2 * (size_t)n * sizeof(uint32_t))
                                    : NULL;
    if (ln) {
        ln->n = n;
        memcpy(ln->run, end, n * sizeof *end);
        for (uint32_t r = 0; r < n; r++) {
            uint32_t s = ((uint32_t)line[r] * 0x9e3779b1u) >> 8 & (slots - 1);
            while (seen[s] && line[seen[s] - 1] != line[r])
                s = (s + 1) & (slots - 1);
            if (!seen[s])
                seen[s] = r + 1;
            ln->run[n + r] = seen[s] == 1 ? 0 : end[seen[s] - 2];
        }
    }
    arena_free(seen, slots * sizeof *seen);
    return ln;
}

static inline uint32_t pyfr_slot(uintptr_t addr, uint32_t slots)
{
    return (uint32_t)((addr * 0x9e3779b97f4a7c15ull) >> 40) & (slots - 1);
}

/* Index and records grown for one more id: 0, or -1. */
static int pyfr_code_grow(void)
{
    if (code.n + 1 > code.cap) {
        struct pyfr_code **r = pyrd_array_double(code.recs, code.n, &code.cap, sizeof *r, 1024);
        if (!r)
            return -1;
        code.recs = r;
    }
    if ((code.n + 1) * 2 <= code.slots)
        return 0;
    uint32_t slots = code.slots ? code.slots * 2 : 2048;
    uint32_t *ix = arena_alloc(slots * sizeof *ix);
    if (!ix)
        return -1;
    for (uint32_t id = 0; id < code.n; id++) { /* the newest id of an address wins */
        uint32_t s = pyfr_slot(code.recs[id]->addr, slots);
        while (ix[s] && code.recs[ix[s] - 1]->addr != code.recs[id]->addr)
            s = (s + 1) & (slots - 1);
        ix[s] = id + 1;
    }
    if (code.index)
        arena_free(code.index, code.slots * sizeof *code.index);
    code.index = ix, code.slots = slots;
    return 0;
}

void pyfr_code_lock(void)
{
    lock_take(&code.lock);
}

void pyfr_code_unlock(void)
{
    lock_drop(&code.lock);
}

/* The table's id for co (check), copying it if new; lock held. */
static uint32_t pyfr_code_find(const char *co, uint64_t check)
{
    uint32_t s = code.slots ? pyfr_slot((uintptr_t)co, code.slots) : 0;
    for (; code.slots && code.index[s]; s = (s + 1) & (code.slots - 1)) {
        struct pyfr_code *c = code.recs[code.index[s] - 1];
        if (c->addr == (uintptr_t)co) {
            if (c->check == check)
                return code.index[s] - 1;
            /* another code object at a freed one's address: a newer id
             * for it, and every thread's cached answers are void */
            atomic_fetch_add_explicit(&pyfr_code_gen, 1, memory_order_relaxed);
            break;
        }
    }
    struct pyfr_code *c = pyfr_code_copy(co, check);
    if (!c || code.n >= HSNAP_PY_CODE_MAX)
        return UINT32_MAX;
    c->lines = pyfr_lines_make(c);
    uint32_t id = UINT32_MAX;
    if (pyfr_code_grow() == 0) {
        id = code.n;
        code.recs[code.n++] = c;
        s = pyfr_slot((uintptr_t)co, code.slots);
        while (code.index[s] && code.recs[code.index[s] - 1]->addr != (uintptr_t)co)
            s = (s + 1) & (code.slots - 1);
        code.index[s] = id + 1;
    }
    return id;
}

HS_NOINLINE uint32_t pyfr_code_id(const char *co, const struct pyfr_lines **ln)
{
    *ln = NULL;
    if (pylay_ptr(co, pylay_lay->ob_type) != pylay_sym.code_type)
        return UINT32_MAX; /* not a code object: nothing of it is read */
    struct pyfr_ident d;
    pyfr_code_ident(co, &d);
    if (HS_UNLIKELY(!pyfr_code_hits) && !pyfr_code_hits_off) {
        pyfr_code_hits = arena_alloc(PY_CODE_CACHE * sizeof *pyfr_code_hits);
        pyfr_code_hits_off = !pyfr_code_hits;
    }
    lock_take(&code.lock);
    uint32_t id = pyfr_code_find(co, pyfr_code_check(&d));
    uint32_t gen = atomic_load_explicit(&pyfr_code_gen, memory_order_relaxed);
    if (id != UINT32_MAX)
        *ln = code.recs[id]->lines;
    lock_drop(&code.lock);
    if (pyfr_code_hits && id != UINT32_MAX)
        *pyfr_code_hit_of(co) = (struct pyfr_code_hit){(uintptr_t)co, id, gen, *ln, {0, 0, 0}};
    return id;
}

void pyfr_code_thread_end(void)
{
    if (pyfr_code_hits)
        arena_free(pyfr_code_hits, PY_CODE_CACHE * sizeof *pyfr_code_hits);
    pyfr_code_hits = NULL;
    pyfr_code_hits_off = 1;
}

/* Code objects copied so far (state_beat_now: a document names the new ones).
 * No lock: a racy read is enough there. */
uint32_t pyfr_code_count(void)
{
    return __atomic_load_n(&code.n, __ATOMIC_RELAXED);
}

static void pyfr_put_recs(struct sbuf *b, struct pyfr_code *const *recs, uint32_t n)
{
    sbuf_u32(b, n);
    sbuf_u32(b, pylay_sym.version);
    for (uint32_t i = 0; i < n; i++) {
        const struct pyfr_code *c = recs[i];
        sbuf_u32(b, (uint32_t)c->firstline);
        sbuf_u32(b, c->fn_len);
        sbuf_u32(b, c->qn_len);
        sbuf_u32(b, c->lt_len);
        sbuf_put(b, c->data, (size_t)c->fn_len + c->qn_len + c->lt_len);
    }
}

/* PYCODE: the records are kept for good and never change once counted
 * (pyfr_code_copy), so only the list of them is copied under the lock,
 * and the records' bytes after it is dropped: the lock also guards
 * native.c's names, which a hook asks at each walk its caches miss, and
 * a state document's copy of every record held those hooks up (the
 * hooks' most frequent wait on torchtrain.py, once the site line's walk
 * and the roots' registration no longer were).  Without the memory for
 * the list, the records go out under the lock. */
void pyfr_put_codes(struct sbuf *b, int fatal)
{
    if (!fatal)
        lock_take(&code.lock);
    else if (!lock_take_bounded(&code.lock, 2000))
        return;
    uint32_t n = code.n;
    size_t len = (size_t)n * sizeof *code.recs;
    struct pyfr_code **recs = n ? arena_map(len) : NULL;
    if (recs)
        memcpy(recs, code.recs, len);
    else if (n)
        pyfr_put_recs(b, code.recs, n);
    lock_drop(&code.lock);
    if (recs) {
        pyfr_put_recs(b, recs, n);
        arena_unmap(recs, len);
    }
}

/* The in-process dump (heapsnap_dump): the line of Python frame word w,
 * read from the copied line table as the CLI reads it (hsnap_pyline.h);
 * 0 when its code is unknown.  Code lock held (pyfr_code_lock). */
int pyfr_frame_line(uint64_t w)
{
    uint32_t id = (uint32_t)((w & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT);
    int64_t off = (int64_t)(w & HSNAP_PY_OFF_MASK) - 1;
    if (id >= code.n)
        return 0;
    const struct pyfr_code *c = code.recs[id];
    return hsnap_py_line(pylay_sym.version, (const uint8_t *)c->data + c->fn_len + c->qn_len,
                         c->lt_len, c->firstline, off);
}

#define PY_NAMED_TRIES 2000u /* pyfr_code_named's lock attempts: never hang */

/* The first code unit at line `line` of c: the start of the first of its
 * runs (py_runs_of) with that line; -1: none.  Code lock held. */
static int64_t pyfr_first_at(const struct pyfr_code *c, int line)
{
    int32_t *lines;
    uint32_t n;
    uint32_t *end = py_runs_of(c, &lines, &n);
    for (uint32_t r = 0; end && r < n; r++)
        if (lines[r] == line)
            return r ? end[r - 1] : 0;
    return -1;
}

int pyfr_code_where(uint64_t w, char *file, uint32_t cap, uint32_t *fn_len)
{
    uint32_t id = (uint32_t)((w & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT);
    int line = 0;
    *fn_len = 0;
    if (!lock_take_bounded(&code.lock, PY_NAMED_TRIES))
        return 0;
    if (id < code.n) {
        const struct pyfr_code *c = code.recs[id];
        line = pyfr_frame_line(w);
        *fn_len = c->fn_len < cap ? c->fn_len : cap;
        memcpy(file, c->data, *fn_len);
    }
    lock_drop(&code.lock);
    return line;
}

uint64_t pyfr_code_word_at(const char *file, uint32_t n, int line)
{
    uint64_t best = 0;
    int32_t best_first = INT32_MIN;
    if (line <= 0 || !lock_take_bounded(&code.lock, PY_NAMED_TRIES))
        return 0;
    for (uint32_t i = 0; i < code.n; i++) {
        const struct pyfr_code *c = code.recs[i];
        if (c->fn_len != n || c->firstline > line || c->firstline < best_first ||
            memcmp(c->data, file, n) != 0)
            continue;
        int64_t at = pyfr_first_at(c, line);
        if (at >= 0 && at + 1 <= (int64_t)HSNAP_PY_OFF_MASK)
            best = pyfr_frame_word(i, (uint32_t)(at + 1)), best_first = c->firstline;
    }
    lock_drop(&code.lock);
    return best;
}

uint32_t pyfr_code_named(const char *filename, const char *qualname, uint32_t *ids, uint32_t max)
{
    size_t fn = strlen(filename), qn = strlen(qualname);
    uint32_t k = 0;
    if (!lock_take_bounded(&code.lock, PY_NAMED_TRIES))
        return 0; /* held a long while (by this thread, a signal's snapshot): none */
    for (uint32_t i = 0; i < code.n && k < max; i++) {
        const struct pyfr_code *c = code.recs[i];
        if (c->qn_len == qn && c->fn_len == fn && !memcmp(c->data + fn, qualname, qn) &&
            !memcmp(c->data, filename, fn))
            ids[k++] = i;
    }
    lock_drop(&code.lock);
    return k;
}

/* ... and the names of code ids [from, n): per id u32 filename_len, u32
 * qualname_len, then the two (UTF-8); n is returned.  Code lock held. */
uint32_t pyfr_put_names(struct sbuf *b, uint32_t from)
{
    for (uint32_t i = from; i < code.n; i++) {
        const struct pyfr_code *c = code.recs[i];
        sbuf_u32(b, c->fn_len);
        sbuf_u32(b, c->qn_len);
        sbuf_put(b, c->data, (size_t)c->fn_len + c->qn_len);
    }
    return code.n;
}

/* Py_Version of the interpreter whose frames the traces hold; 0: none. */
uint32_t pyfr_version(void)
{
    return pyfr_on ? pylay_sym.version : 0;
}
