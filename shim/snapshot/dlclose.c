/*
 * dlclose.c - the module records of libraries that were unloaded, so that a
 * block allocated in a dlclose'd library still symbolizes (valgrind's
 * --keep-debuginfo=yes).
 *
 * dlclose is interposed.  Before the real call, every loaded module's record
 * (bias, PT_LOAD range, path, build ID) is copied into the shim's arena;
 * after it, the records of modules still loaded are dropped and the rest
 * (the library and any dependency that left with it) are kept, with the
 * count of traces made before they left, up to DLC_MAX.  A library that
 * leaves again from where its latest record is (no other record over that
 * range since) extends that record.  The snapshot writer appends them to
 * MODULES, newest first, flagged HSNAP_MODULE_UNLOADED, and their trace
 * counts to UNLOADED: an address of a trace then names the module that was
 * there when the trace was made, though others came and went at that
 * address since (hsnap_format.h).
 * Publication is lock-free (a claimed slot, then its pointer), so neither a
 * fork nor a fatal signal can find a lock held here.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "snapshot.h"
#include "unwind.h"

#define DLC_MAX 256 /* unloaded module records kept */

struct dlc_mod {
    struct dlc_mod *next;      /* the candidates of one dlclose */
    uint64_t bias, lo, hi;
    uint16_t path_len, id_len;
    size_t size;               /* bytes from arena_alloc */
    int alive;                 /* still loaded after the real dlclose */
    _Atomic uint32_t until;    /* traces made before it left (trace_count) */
    char data[];               /* path[path_len], then build_id[id_len] */
};

static struct {
    int (*real)(void *);
    _Atomic(struct dlc_mod *) gone[DLC_MAX]; /* published records, NULL while filling */
    atomic_uint claimed;                     /* slots handed out */
} dlc;

/* The PT_LOAD range, bias and build ID of one loaded module, as the writer
 * records a live one. */
static struct dlc_mod *dlc_record(struct dl_phdr_info *info)
{
    uint64_t lo, hi;
    const char *id;
    size_t id_len;
    mod_span(info, &lo, &hi, &id, &id_len);
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    size_t path_len = strlen(path);
    if (hi == 0 || path_len == 0 || path_len > 0xffff || id_len > 0xffff)
        return NULL; /* the executable and the vdso never leave */
    size_t size = sizeof(struct dlc_mod) + path_len + id_len;
    struct dlc_mod *m = arena_alloc(size);
    if (!m)
        return NULL;
    *m = (struct dlc_mod){NULL, info->dlpi_addr, lo, hi, (uint16_t)path_len,
                          (uint16_t)id_len, size, 0, 0};
    memcpy(m->data, path, path_len);
    memcpy(m->data + path_len, id, id_len);
    return m;
}

static int dlc_before(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct dlc_mod **list = arg, *m = dlc_record(info);
    if (m) {
        m->next = *list;
        *list = m;
    }
    return 0;
}

static int dlc_after(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    size_t len = strlen(path);
    for (struct dlc_mod *m = arg; m; m = m->next)
        if (m->bias == info->dlpi_addr && m->path_len == len && !memcmp(m->data, path, len))
            m->alive = 1;
    return 0;
}

static int dlc_same(const struct dlc_mod *a, const struct dlc_mod *b)
{
    return a->bias == b->bias && a->lo == b->lo && a->hi == b->hi &&
           a->path_len == b->path_len && a->id_len == b->id_len &&
           !memcmp(a->data, b->data, (size_t)a->path_len + a->id_len);
}

/* Keeps m (a module that left, until traces made) unless the latest
 * record over its range is an equal one, which then lasts until then too;
 * 1 when kept. */
static int dlc_publish(struct dlc_mod *m, uint32_t until)
{
    unsigned n = atomic_load(&dlc.claimed);
    for (unsigned i = n < DLC_MAX ? n : DLC_MAX; i-- > 0;) {
        struct dlc_mod *g = atomic_load(&dlc.gone[i]);
        if (!g || g->hi <= m->lo || g->lo >= m->hi)
            continue;
        if (!dlc_same(g, m))
            break; /* another module was there since */
        atomic_store(&g->until, until);
        return 0;
    }
    unsigned slot = atomic_fetch_add(&dlc.claimed, 1);
    if (slot >= DLC_MAX)
        return 0;
    m->next = NULL;
    atomic_store(&m->until, until);
    atomic_store(&dlc.gone[slot], m);
    return 1;
}

HS_EXPORT int dlclose(void *handle)
{
    int saved = guard_enter(); /* dlsym may allocate */
    if (!dlc.real)
        dlc.real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    struct dlc_mod *list = NULL;
    if (dlc.real && !cred_secure())
        loader_iterate_phdr(dlc_before, &list);
    int r = dlc.real ? dlc.real(handle) : -1;
    if (list)
        loader_iterate_phdr(dlc_after, list);
    if (r == 0)
        unwind_modules_changed(); /* rules cached for its code go now */
    uint32_t until = trace_count();
    for (struct dlc_mod *m = list, *next; m; m = next) {
        next = m->next;
        if (m->alive || !dlc_publish(m, until))
            arena_free(m, m->size);
    }
    guard_leave(saved);
    return r;
}

/* The records, newest first, into MODULES (b) and their trace counts into
 * UNLOADED (eras, which the caller began with a u32 count); how many. */
uint32_t dlc_put_modules(struct sbuf *b, struct sbuf *eras)
{
    unsigned n = atomic_load(&dlc.claimed);
    uint32_t count = 0;
    for (unsigned i = n < DLC_MAX ? n : DLC_MAX; i-- > 0;) {
        const struct dlc_mod *m = atomic_load(&dlc.gone[i]);
        if (!m)
            continue;
        uint16_t lens[4] = {m->path_len, m->id_len, HSNAP_MODULE_UNLOADED, 0};
        sbuf_u64(b, m->bias);
        sbuf_u64(b, m->lo);
        sbuf_u64(b, m->hi);
        sbuf_put(b, lens, sizeof lens);
        sbuf_put(b, m->data, (size_t)m->path_len + m->id_len);
        sbuf_u32(eras, atomic_load(&m->until));
        count++;
    }
    return count;
}
