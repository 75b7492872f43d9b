/*
 * runtime.c - the C and C++ runtimes' own blocks: HSNAP_CLASS_RUNTIME, a
 * class of their own, held (a root, as an ignored block) and never counted
 * as the program's, without calling anything of the host's.
 *
 * memcheck gets there by calling glibc's and libstdc++'s __libc_freeres /
 * __gnu_cxx::__freeres before its check, which frees them; a guest in the
 * process cannot (the host's runtime would be changed under it), so the
 * blocks are named instead, three ways:
 *   - the dynamic loader's bookkeeping (link maps, DTVs, dlerror's
 *     buffers): the innermost frame lies in ld.so;
 *   - what the runtimes' own initialisers keep (libstdc++'s emergency
 *     exception pool, 72,704 B with GCC 12): every frame of the stack lies
 *     in a runtime module (libc, libm, libstdc++, libgcc_s, ld.so...), so
 *     no code of the program asked for it;
 *   - the standard streams' buffers (stdin, stdout, stderr's _IO_buf_base,
 *     unless the program gave its own with setvbuf);
 *   - and, by the model, whatever the runtimes' own data (their writable
 *     segments: MODEL_ROOT_RUNTIME) reaches that the program's roots do
 *     not: libc's locale and gettext caches, NSS's, atexit's lists.
 * A stream the program opened (fopen, popen, open_memstream...) is the
 * program's, though only libc's list of open files (_IO_list_all) holds
 * it: rt_mark makes those FILEs a root of the program's.
 * Modules are recognised by name in roots' module walk, before the stop.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "leakinner.h"

#define RT_MODULES 16u  /* runtime modules' ranges kept */
#define RT_USER_BUF 0x1 /* glibc's _IO_USER_BUF: the program's own buffer (setvbuf) */
#define RT_FILES 512u   /* the program's open streams made a root (a page) */

static const char *const rt_names[] = {"libc.so.", "libm.so.", "libstdc++.so.", "libgcc_s.so.",
                                       "libpthread.so.", "libdl.so.", "librt.so.", "ld-linux"};

static struct {
    struct { uintptr_t lo, hi; } mod[RT_MODULES]; /* the runtime modules' PT_LOADs */
    size_t nmod;
    FILE **list_all;     /* libc's _IO_list_all, or NULL */
    int looked_up;
    uintptr_t *files;    /* RT_FILES: the program's open streams (mapped) */
} rt;

/* Before the module walk, in roots_begin (loader lock held, guard set:
 * dlsym may allocate). */
void rt_reset(void)
{
    rt.nmod = 0;
    if (!rt.looked_up++)
        rt.list_all = (FILE **)dlsym(RTLD_DEFAULT, "_IO_list_all");
}

/* One loaded module (roots' dl_iterate_phdr walk): a runtime's noted;
 * whether it is one. */
int rt_note(const struct dl_phdr_info *info)
{
    const char *base = strrchr(info->dlpi_name, '/');
    base = base ? base + 1 : info->dlpi_name;
    size_t k = 0;
    while (k < sizeof rt_names / sizeof *rt_names && strncmp(base, rt_names[k], strlen(rt_names[k])))
        k++;
    if (k == sizeof rt_names / sizeof *rt_names)
        return 0;
    for (int i = 0; i < info->dlpi_phnum && rt.nmod < RT_MODULES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            rt.mod[rt.nmod].lo = lo;
            rt.mod[rt.nmod++].hi = lo + ph->p_memsz;
        }
    }
    return 1;
}

static int rt_in(uintptr_t ip)
{
    for (size_t i = 0; i < rt.nmod; i++)
        if (ip >= rt.mod[i].lo && ip < rt.mod[i].hi)
            return 1;
    return 0;
}

/* Whether the stack ip[0, n) (innermost first) is the runtime's own: its
 * innermost frame in ld.so, or every frame in a runtime module. */
static int rt_trace(const uintptr_t *ip, unsigned n)
{
    if (n == 0)
        return 0;
    if (roots_in_loader(ip[0]))
        return 1;
    if (n > TRACE_PICK_DEPTH) /* only so many frames copied: the rest is not known */
        return 0;
    for (unsigned i = 0; i < n; i++)
        if (!rt_in(ip[i]))
            return 0;
    return 1;
}

/* rt_trace on the frames shown: one outside a runtime module answers;
 * all inside, more are asked for while the stack has them. */
int rt_pick(const uintptr_t *ip, unsigned n, unsigned depth, unsigned flags, void *arg)
{
    if (n == 0 || roots_in_loader(ip[0]) || depth > TRACE_PICK_DEPTH)
        return rt_trace(ip, depth);
    for (unsigned i = 0; i < n; i++)
        if (!rt_in(ip[i]))
            return 0;
    return n < depth ? TRACE_PICK_MORE : rt_trace(ip, depth);
}

/* The block of b[0, n) (sorted) that starts at p, or n. */
static uint64_t rt_find(const struct hsnap_block *b, uint64_t n, uintptr_t p)
{
    uint64_t l = 0, r = n;
    while (l < r) {
        uint64_t m = l + (r - l) / 2;
        if (b[m].addr < p)
            l = m + 1;
        else
            r = m;
    }
    return l < n && b[l].addr == p ? l : n;
}

/* The standard streams' buffers (world stopped: plain reads of libc's FILEs). */
static void rt_mark_streams(struct hsnap_block *b, uint64_t n)
{
#ifdef __GLIBC__
    FILE *const f[3] = {stdin, stdout, stderr};
    for (int i = 0; i < 3; i++) {
        if (!f[i] || (f[i]->_flags & RT_USER_BUF) || !f[i]->_IO_buf_base)
            continue;
        uint64_t j = rt_find(b, n, (uintptr_t)f[i]->_IO_buf_base);
        if (j < n && !MODEL_HELD(b[j].cls))
            b[j].cls = HSNAP_CLASS_RUNTIME;
    }
#else
    (void)b;
    (void)n;
#endif
}

/* The streams the program opened (every FILE on libc's list but the
 * standard three, which live in libc's data) made a root of the
 * program's: roots_add. */
static void rt_root_files(void)
{
#ifdef __GLIBC__
    if (!rt.list_all || (!rt.files && !(rt.files = collect_host->map(RT_FILES * sizeof *rt.files))))
        return;
    size_t k = 0;
    for (FILE *f = *rt.list_all; f && k < RT_FILES; f = f->_chain)
        if (f != stdin && f != stdout && f != stderr)
            rt.files[k++] = (uintptr_t)f;
    roots_add((uintptr_t)rt.files, (uintptr_t)(rt.files + k), MODEL_ROOT_USER, 0);
#endif
}

/* With the world stopped, after roots_begin: marks b[0, n)'s runtime
 * blocks HSNAP_CLASS_RUNTIME (those already held keep their class; s: the
 * traces rt_pick picked, asked with TRACE_PICK_DEPTH frames) and roots the
 * program's open streams. */
void rt_mark(struct hsnap_block *b, uint64_t n, const struct trace_pick *s)
{
    for (uint64_t i = 0; s->nt && i < n; i++)
        if (trace_picked(s, b[i].trace) && !MODEL_HELD(b[i].cls))
            b[i].cls = HSNAP_CLASS_RUNTIME;
    rt_mark_streams(b, n);
    rt_root_files();
}
