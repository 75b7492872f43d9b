/*
 * modules.c - the loaded modules as snapshots see them: a module's span
 * (its PT_LOAD segments) and GNU build ID, read from its program headers
 * in memory (mod_span: the MODULES section, dlc_put_modules' record of a
 * module about to go, elfsym_find's symbol lookups), and the MODULES section
 * itself, the live modules in the loader's order (the main executable by
 * its real path) and then those dlclose.c kept.  A library the loader
 * knows by a relative path (dlopen("./lib.so")) is named by the absolute
 * path of the file it was mapped from (/proc/self/maps: the kernel's,
 * whatever the working directory was at the load or is now).
 */
#include <link.h>
#include <string.h>
#include <sys/auxv.h>

#include "procmaps.h"
#include "snapshot.h"

struct mod_find {
    uintptr_t addr;
    char *out;
    size_t cap, len;
};

static void mod_find_line(const struct procmaps_line *l, void *arg)
{
    struct mod_find *f = arg;
    if (f->len || f->addr < l->lo || f->addr >= l->hi)
        return;
    const char *s = memchr(l->text, '/', l->len); /* the path is the first '/' on */
    if (!s)
        return;
    size_t n = (size_t)(l->text + l->len - s);
    if (n < f->cap) {
        memcpy(f->out, s, n);
        f->out[n] = 0;
        f->len = n;
    }
}

/* name as the loader has it, or, when it is relative, the absolute path of
 * the file mapped at addr (into out); *len its length.  The vDSO (its ELF
 * header at addr, "linux-vdso.so.1") is no file: its name as it is,
 * without a read of /proc/self/maps at every snapshot. */
static const char *mod_path(const char *name, uintptr_t addr, char *out, size_t cap, size_t *len)
{
    static char buf[4096]; /* under the snapshot lock */
    struct mod_find f = {addr, out, cap, 0};
    *len = strlen(name);
    if (!*len || name[0] == '/' || addr == (uintptr_t)getauxval(AT_SYSINFO_EHDR) ||
        procmaps_each(buf, sizeof buf, mod_find_line, &f) != 0 || !f.len)
        return name;
    *len = f.len;
    return out;
}

/* The GNU build-id from a loaded PT_NOTE segment, bounds-checked. */
static size_t mod_build_id(const char *note, size_t len, const char **id)
{
    size_t off = 0;
    while (off + 12 <= len) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, note + off, 4);
        memcpy(&descsz, note + off + 4, 4);
        memcpy(&type, note + off + 8, 4);
        size_t name_off = off + 12, desc_off = name_off + ((namesz + 3) & ~3u);
        size_t next = desc_off + ((descsz + 3) & ~3u);
        if (next > len || next <= off)
            return 0;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(note + name_off, "GNU", 4)) {
            *id = note + desc_off;
            return descsz;
        }
        off = next;
    }
    return 0;
}

struct mod_walk {
    struct sbuf *b;
    uint32_t count;
};

/* A loaded module's PT_LOAD span [*lo, *hi) (*hi 0: none) and build ID. */
void mod_span(const struct dl_phdr_info *info, uint64_t *lo, uint64_t *hi,
                      const char **id, size_t *id_len)
{
    *lo = UINT64_MAX;
    *hi = 0;
    *id = NULL;
    *id_len = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            *lo = start < *lo ? start : *lo;
            *hi = start + ph->p_memsz > *hi ? start + ph->p_memsz : *hi;
        } else if (ph->p_type == PT_NOTE && !*id_len) {
            *id_len = mod_build_id((const char *)(uintptr_t)start, ph->p_memsz, id);
        }
    }
}

static int mod_put(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct mod_walk *sm = arg;
    uint64_t lo, hi;
    const char *id;
    size_t id_len;
    mod_span(info, &lo, &hi, &id, &id_len);
    if (hi == 0)
        return 0;
    char exe[NAME_MAX_PATH];
    size_t path_len;
    const char *path = mod_path(info->dlpi_name ? info->dlpi_name : "", lo, exe, sizeof exe,
                                &path_len);
    if (sm->count == 0) { /* the main executable: its real path */
        path_len = name_exe(exe, sizeof exe);
        path = exe;
    }
    uint16_t lens[4] = {(uint16_t)(path_len > 0xffff ? 0xffff : path_len),
                        (uint16_t)(id_len > 0xffff ? 0 : id_len), 0, 0};
    sbuf_u64(sm->b, info->dlpi_addr);
    sbuf_u64(sm->b, lo);
    sbuf_u64(sm->b, hi);
    sbuf_put(sm->b, lens, sizeof lens);
    sbuf_put(sm->b, path, lens[0]);
    sbuf_put(sm->b, id, lens[1]);
    sm->count++;
    return 0;
}

void mod_section(struct sbuf *b, struct sbuf *gone)
{
    struct mod_walk sm = {b, 0};
    sbuf_u32(b, 0);
    sbuf_u32(gone, 0);
    loader_iterate_phdr(mod_put, &sm);
    uint32_t n = dlc_put_modules(b, gone); /* after the live ones: those win a lookup */
    sm.count += n;
    if (!b->err)
        memcpy(b->p, &sm.count, sizeof sm.count);
    if (!gone->err)
        memcpy(gone->p, &n, sizeof n);
    if (n == 0)
        gone->len = 0; /* no section */
}
