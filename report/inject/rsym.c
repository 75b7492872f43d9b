/*
 * rsym.c - a running process's modules, as `heapsnap attach` needs them:
 * their paths, load biases and executable ranges from /proc/PID/maps, a
 * function's address from the file's symbol tables (libelf), and whether
 * a file reaches the malloc family through its GOT.  Files are opened
 * through /proc/PID/root, so a process in another mount namespace (a
 * container) is read as it sees its files.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject.h"

static Elf *rsym_open(pid_t pid, const char *path, int *fd)
{
    char full[1024];
    if (pid > 0)
        snprintf(full, sizeof full, "/proc/%d/root%s", (int)pid, path);
    else
        snprintf(full, sizeof full, "%s", path);
    elf_version(EV_CURRENT);
    /* The target's maps name a file in its own root as this process sees
     * it: inside a container (another mount namespace) the path of its
     * root, through /proc/PID/root; under a chroot in this namespace the
     * path from here already (/srv/root/usr/bin/python3), which
     * /proc/PID/root would prefix twice. */
    if ((*fd = open(full, O_RDONLY | O_CLOEXEC)) < 0 &&
        (pid <= 0 || (*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0))
        return NULL;
    Elf *e = elf_begin(*fd, ELF_C_READ, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF) {
        if (e)
            elf_end(e);
        close(*fd);
        return NULL;
    }
    return e;
}

static void rsym_close(Elf *e, int fd)
{
    elf_end(e);
    close(fd);
}

/* The lowest PT_LOAD's page-aligned vaddr: bias = mapping start - it. */
static uint64_t rsym_first_load(pid_t pid, const char *path)
{
    int fd;
    Elf *e = rsym_open(pid, path, &fd);
    size_t n;
    uint64_t lo = 0;
    if (!e)
        return 0;
    if (elf_getphdrnum(e, &n) == 0)
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
                lo = ph.p_vaddr & ~(uint64_t)4095;
                break;
            }
        }
    rsym_close(e, fd);
    return lo;
}

int rsym_read(pid_t pid, struct rsym_map *map)
{
    char path[64], line[1200];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    map->n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        char perms[8], file[1024] = "";
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %1023[^\n]", &lo, &hi, perms, &off, file) < 4)
            continue;
        char *p = file;
        while (*p == ' ')
            p++;
        if (*p != '/' && strncmp(p, "[vdso]", 6))
            continue;
        struct rsym_module *m = NULL;
        for (unsigned i = 0; i < map->n && !m; i++)
            if (!strcmp(map->m[i].path, p))
                m = &map->m[i];
        if (!m) {
            if (map->n == RSYM_MAX)
                continue;
            m = &map->m[map->n++];
            memset(m, 0, sizeof *m);
            snprintf(m->path, sizeof m->path, "%s", p);
            m->bias = *p == '/' && off == 0 ? lo - rsym_first_load(pid, p) : lo;
        }
        if (perms[2] == 'x') {
            if (!m->xlo || lo < m->xlo)
                m->xlo = lo;
            if (hi > m->xhi)
                m->xhi = hi;
        }
    }
    fclose(f);
    return 0;
}

const struct rsym_module *rsym_find(const struct rsym_map *map, const char *prefix)
{
    for (unsigned i = 0; i < map->n; i++) {
        const char *base = strrchr(map->m[i].path, '/');
        base = base ? base + 1 : map->m[i].path;
        if (!strncmp(base, prefix, strlen(prefix)))
            return &map->m[i];
    }
    return NULL;
}

uint64_t rsym_lookup(pid_t pid, const struct rsym_module *m, const char *name)
{
    int fd;
    Elf *e = rsym_open(pid, m->path, &fd);
    Elf_Scn *s = NULL;
    uint64_t addr = 0;
    if (!e)
        return 0;
    while (!addr && (s = elf_nextscn(e, s))) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(s, &sh) || (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB) ||
            !sh.sh_entsize || !(d = elf_getdata(s, NULL)))
            continue;
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym sym;
            const char *nm;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value ||
                GELF_ST_TYPE(sym.st_info) != STT_FUNC)
                continue;
            if ((nm = elf_strptr(e, sh.sh_link, sym.st_name)) && !strcmp(nm, name)) {
                addr = m->bias + sym.st_value;
                break;
            }
        }
    }
    rsym_close(e, fd);
    return addr;
}

int rsym_has_reloc(pid_t pid, const char *path, const char *const *names, unsigned n)
{
    int fd, found = 0;
    Elf *e = rsym_open(pid, path, &fd);
    Elf_Scn *s = NULL;
    if (!e)
        return -1;
    while (!found && (s = elf_nextscn(e, s))) {
        GElf_Shdr sh, ssh;
        Elf_Data *d, *sd;
        Elf_Scn *sym_scn;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize ||
            !(d = elf_getdata(s, NULL)) || !(sym_scn = elf_getscn(e, sh.sh_link)) ||
            !gelf_getshdr(sym_scn, &ssh) || !(sd = elf_getdata(sym_scn, NULL)))
            continue;
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize && !found; i++) {
            GElf_Rela r;
            GElf_Sym sym;
            const char *nm;
            unsigned type;
            if (!gelf_getrela(d, (int)i, &r))
                continue;
            type = (unsigned)GELF_R_TYPE(r.r_info);
            if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) ||
                !gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &sym) ||
                !(nm = elf_strptr(e, ssh.sh_link, sym.st_name)))
                continue;
            for (unsigned k = 0; k < n && !found; k++)
                found = !strcmp(nm, names[k]);
        }
    }
    rsym_close(e, fd);
    return found;
}

int rsym_dynamic(const char *path)
{
    int fd, dyn = 0;
    Elf *e = rsym_open(0, path, &fd);
    size_t n;
    if (!e)
        return -1;
    if (elf_getphdrnum(e, &n) == 0)
        for (size_t i = 0; i < n; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
                dyn = 1;
        }
    rsym_close(e, fd);
    return dyn;
}

uint64_t rsym_code_tail(pid_t pid, const struct rsym_module *m, size_t n)
{
    int fd;
    size_t k;
    uint64_t best = 0;
    Elf *e = m->path[0] == '/' && m->xhi ? rsym_open(pid, m->path, &fd) : NULL;
    if (!e)
        return 0;
    if (elf_getphdrnum(e, &k) == 0)
        for (size_t i = 0; i < k && !best; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
                continue;
            uint64_t end = m->bias + ph.p_vaddr + ph.p_memsz, at = (end + 63) & ~(uint64_t)63,
                     page = (end + 4095) & ~(uint64_t)4095;
            if (end > m->xlo && page <= m->xhi && at + n <= page)
                best = at;
        }
    rsym_close(e, fd);
    return best;
}
