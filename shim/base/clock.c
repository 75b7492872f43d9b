/*
 * clock.c - the shim's clocks: wall and monotonic time, and the moment
 * recording started (life_init sets it once, before any thread of
 * the shim runs; it is read without a lock after that).
 */
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

static struct {
    uint64_t start_ns;   /* CLOCK_REALTIME at start-up */
    uint64_t start_mono; /* CLOCK_MONOTONIC at start-up */
    int (*vdso)(clockid_t, struct timespec *); /* the vDSO's clock_gettime, or NULL */
} clk;

/* The vDSO's __vdso_clock_gettime, found in its dynamic symbols, or NULL.
 * The shim reads the clocks through it rather than through libc's
 * clock_gettime: that wrapper is alone in its 64 KiB of libc's text in
 * most programs, and its page would be resident with the whole window
 * (docs/performance.md, "Peak RSS"). */
static void *clock_vdso_sym(void)
{
    const ElfW(Ehdr) *e = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);
    if (!e || memcmp(e->e_ident, ELFMAG, SELFMAG) != 0)
        return NULL;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)e + e->e_phoff);
    const ElfW(Dyn) *dyn = NULL;
    uintptr_t bias = 0;
    int have_load = 0;
    for (unsigned i = 0; i < e->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !have_load) {
            bias = (uintptr_t)e + ph[i].p_offset - ph[i].p_vaddr;
            have_load = 1;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (const ElfW(Dyn) *)((const char *)e + ph[i].p_offset);
        }
    }
    if (!have_load || !dyn)
        return NULL;
    const ElfW(Sym) *sym = NULL;
    const char *str = NULL;
    const uint32_t *hash = NULL;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        if (dyn->d_tag == DT_SYMTAB)
            sym = (const ElfW(Sym) *)(bias + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_STRTAB)
            str = (const char *)(bias + dyn->d_un.d_ptr);
        else if (dyn->d_tag == DT_HASH)
            hash = (const uint32_t *)(bias + dyn->d_un.d_ptr);
    }
    if (!sym || !str || !hash)
        return NULL;
    for (uint32_t i = 0; i < hash[1]; i++) /* nchain: the number of symbols */
        if (ELF64_ST_TYPE(sym[i].st_info) == STT_FUNC && sym[i].st_shndx != SHN_UNDEF &&
            strcmp(str + sym[i].st_name, "__vdso_clock_gettime") == 0)
            return (void *)(bias + sym[i].st_value);
    return NULL;
}

/* Clock id's time in ns: through the vDSO, else the system call; 0 when
 * the clock cannot be read. */
static uint64_t life_clock(clockid_t id)
{
    struct timespec ts;
    int (*v)(clockid_t, struct timespec *) = clk.vdso;
    if ((v ? v(id, &ts) : (int)syscall(SYS_clock_gettime, id, &ts)) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clock_cpu_ns(clockid_t id)
{
    return life_clock(id);
}

uint64_t clock_now_ns(void)
{
    return life_clock(CLOCK_REALTIME);
}

uint64_t clock_mono_ns(void)
{
    return life_clock(CLOCK_MONOTONIC);
}

uint64_t clock_uptime_ns(uint64_t mono)
{
    return mono > clk.start_mono ? mono - clk.start_mono : 0;
}

uint64_t clock_start_ns(void)
{
    return clk.start_ns;
}

void clock_start(void)
{
    if (!clk.vdso)
        clk.vdso = (int (*)(clockid_t, struct timespec *))clock_vdso_sym();
    clk.start_ns = clock_now_ns();
    clk.start_mono = clock_mono_ns();
}

/* Recording started late: the shim was loaded into a running process by
 * heapsnap attach, so the start time above is the attach's. */
static int clk_late;

void clock_mark_late(void)
{
    clk_late = 1;
}

int clock_is_late(void)
{
    return clk_late;
}
