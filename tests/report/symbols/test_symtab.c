// link: report/symbols/symtab.c report/base/grow.c report/base/bigmem.c
/*
 * test_symtab.c - symtab_name gives what dwfl_module_addrinfo gives, at
 * every address probed: each symbol's start, the bytes around it and its
 * end, each section's bounds, and a sweep of the module, on this test's
 * own binary (with symbols made below to be hard: a weak and a global
 * alias of one function, a sizeless label inside a function and one after
 * it, a symbol nested in a larger one, one of size zero at a function's
 * start), on libc and on Debian's Python when it is installed: the
 * answers symtab_plain finds alone and those it leaves to libdwfl.  Twice:
 * the second pass answers from the intervals the first one filled.
 */
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symtab.h"
#include "unit.h"

__asm__(".text\n"
        ".globl hs_symtab_outer\n.type hs_symtab_outer,@function\n"
        "hs_symtab_outer:\n"
        ".weak hs_symtab_weak\n.type hs_symtab_weak,@function\n"
        "hs_symtab_weak:\n"
        ".globl hs_symtab_alias\n.type hs_symtab_alias,@function\n"
        "hs_symtab_alias:\n"
        "hs_symtab_zero:\n"
        "  nop; nop; nop; nop\n"
        "hs_symtab_label:\n"
        "  nop; nop; nop; nop\n"
        ".globl hs_symtab_inner\n.type hs_symtab_inner,@function\n"
        "hs_symtab_inner:\n"
        "  nop; nop; nop; nop\n"
        ".size hs_symtab_inner, 4\n"
        "  nop; nop; nop; nop\n"
        ".size hs_symtab_outer, 20\n"
        ".size hs_symtab_weak, 8\n"
        ".size hs_symtab_alias, 20\n"
        ".size hs_symtab_zero, 0\n"
        "hs_symtab_after:\n"
        "  nop; nop; ret\n");

static const Dwfl_Callbacks cb = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

#define MAXPROBES 24000 /* libdwfl's own look-ups cost 0.1 ms each in libc */

struct probe {
    unsigned long n, bad;
    char why[256];
};

static const char *direct(Dwfl_Module *dm, uint64_t a)
{
    GElf_Off off;
    GElf_Sym es;
    return dwfl_module_addrinfo(dm, a, &off, &es, NULL, NULL, NULL);
}

static uint64_t *at;
static const char **want;
static size_t nat;

static void add(uint64_t a)
{
    if (nat < MAXPROBES)
        at[nat++] = a;
}

/* The probes of module path (each symbol's start and end and the bytes
 * around them, a few thousand symbols at most; each section's bounds; a
 * sweep of the module), libdwfl's answers, then symtab_name's, twice;
 * the symbols it has into *nsym. */
static int check(const char *path, struct probe *p, int *nsym)
{
    Dwfl *d = dwfl_begin(&cb);
    memset(p, 0, sizeof(*p));
    if (!d || (!at && (!(at = malloc(MAXPROBES * sizeof(*at))) ||
                       !(want = malloc(MAXPROBES * sizeof(*want))))))
        return -1;
    dwfl_report_begin(d);
    Dwfl_Module *dm = dwfl_report_elf(d, "m", path, -1, 0, true);
    dwfl_report_end(d, NULL, NULL);
    if (!dm || (*nsym = dwfl_module_getsymtab(dm)) <= 0) {
        dwfl_end(d);
        return -1;
    }
    Dwarf_Addr lo, hi, bias;
    dwfl_module_info(dm, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
    nat = 0;
    int every = *nsym / 2500 + 1;
    for (int i = 0; i < *nsym; i += every) {
        GElf_Sym s;
        GElf_Addr a, b;
        GElf_Word shndx;
        Elf *elf;
        if (!dwfl_module_getsym_info(dm, i, &s, &a, &shndx, &elf, &b))
            continue;
        uint64_t e = a + s.st_size;
        add(a - 1), add(a), add(a + 1), add(a + s.st_size / 2), add(e - 1), add(e), add(e + 1);
    }
    Elf *e = dwfl_module_getelf(dm, &bias);
    Elf_Scn *scn = NULL;
    while (e && (scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        uint64_t s0 = sh.sh_addr + bias, s1 = s0 + sh.sh_size;
        add(s0 - 1), add(s0), add(s0 + 1), add(s1 - 1), add(s1), add(s1 + 1);
    }
    uint64_t step = (hi - lo) / 4000 + 1;
    for (uint64_t a = lo > 64 ? lo - 64 : 0; a < hi + 64; a += step)
        add(a);
    for (size_t i = 0; i < nat; i++)
        want[i] = direct(dm, at[i]);
    struct symtab *st = NULL;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nat; i++) {
            const char *got = symtab_name(&st, dm, at[i]);
            p->n++;
            if ((want[i] == NULL) != (got == NULL) || (got && strcmp(want[i], got) != 0)) {
                if (!p->bad++)
                    snprintf(p->why, sizeof(p->why), "%#llx: %s, libdwfl says %s",
                             (unsigned long long)at[i], got ? got : "(none)",
                             want[i] ? want[i] : "(none)");
            }
        }
    symtab_free(st);
    dwfl_end(d);
    return 0;
}

/* The path of the mapped file whose name has part, into out. */
static int mapped(const char *part, char *out, size_t len)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[4096];
    int found = 0;
    while (f && !found && fgets(line, sizeof(line), f)) {
        char *path = strchr(line, '/');
        if (!path || !strstr(path, part))
            continue;
        path[strcspn(path, "\n")] = '\0';
        snprintf(out, len, "%s", path);
        found = 1;
    }
    if (f)
        fclose(f);
    return found;
}

/* This test's own binary's path into self. */
static int self_path(char *self, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", self, len - 1);
    if (n <= 0)
        return 0;
    self[n] = '\0';
    return 1;
}

TEST_BEGIN(symtab_agrees_with_libdwfl_on_its_own_binary)
{
    struct probe p;
    int nsym = 0;
    char self[4096];
    expect_true(self_path(self, sizeof(self)), "no /proc/self/exe");
    expect_true(check(self, &p, &nsym) == 0, "%s: no symbol table", self);
    expect_true(p.bad == 0, "%lu of %lu probes differ; first %s", p.bad, p.n, p.why);
    expect_true(p.n > 2000 && nsym > 50, "only %lu probes of %d symbols", p.n, nsym);
}
TEST_END

TEST_BEGIN(symtab_names_the_hard_symbols_as_libdwfl_does)
{
    char self[4096];
    expect_true(self_path(self, sizeof(self)), "no /proc/self/exe");
    /* every byte of the made symbols, and two on each side */
    Dwfl *d = dwfl_begin(&cb);
    dwfl_report_begin(d);
    Dwfl_Module *dm = dwfl_report_elf(d, "m", self, -1, 0, true);
    dwfl_report_end(d, NULL, NULL);
    int nsym = dm ? dwfl_module_getsymtab(dm) : -1;
    expect_true(nsym > 0, "cannot report %s", self);
    GElf_Addr start = 0;
    for (int i = 0; i < nsym; i++) {
        GElf_Sym s;
        GElf_Addr a, b;
        GElf_Word shndx;
        Elf *elf;
        const char *name = dwfl_module_getsym_info(dm, i, &s, &a, &shndx, &elf, &b);
        if (name && !strcmp(name, "hs_symtab_outer"))
            start = a;
    }
    expect_true(start != 0, "hs_symtab_outer is not in the symbol table");
    struct symtab *st = NULL;
    int names = 0;
    const char *last = NULL;
    for (int pass = 0; pass < 2; pass++)
        for (GElf_Addr a = start - 2; a < start + 32; a++) {
            const char *want = direct(dm, a), *got = symtab_name(&st, dm, a);
            expect_true((!want && !got) || (want && got && !strcmp(want, got)),
                        "%#llx: %s, libdwfl says %s", (unsigned long long)a,
                        got ? got : "(none)", want ? want : "(none)");
            names += want && (!last || strcmp(want, last));
            last = want;
        }
    expect_true(names >= 4, "only %d changes of name over the made symbols", names);
    symtab_free(st);
    dwfl_end(d);
}
TEST_END

TEST_BEGIN(symtab_agrees_with_libdwfl_on_libc_and_python)
{
    const char *libs[] = {"libc.so.6", NULL};
    const char *files[] = {"/usr/bin/python3.11", "/usr/bin/python3"};
    char path[4096];
    int checked = 0;
    for (int i = 0; libs[i]; i++) {
        struct probe p;
        int nsym = 0;
        expect_true(mapped(libs[i], path, sizeof(path)), "%s is not mapped", libs[i]);
        expect_true(check(path, &p, &nsym) == 0, "%s: no symbol table", path);
        expect_true(p.bad == 0, "%s: %lu of %lu probes differ; first %s", path, p.bad, p.n, p.why);
        checked++;
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct probe p;
        int nsym = 0;
        if (access(files[i], R_OK) != 0 || check(files[i], &p, &nsym) != 0)
            continue;
        expect_true(p.bad == 0, "%s: %lu of %lu probes differ; first %s", files[i], p.bad, p.n,
                    p.why);
        checked++;
        break;
    }
    expect_true(checked >= 1, "no module checked");
}
TEST_END

int main(void)
{
    elf_version(EV_CURRENT);
    symtab_agrees_with_libdwfl_on_its_own_binary();
    symtab_names_the_hard_symbols_as_libdwfl_does();
    symtab_agrees_with_libdwfl_on_libc_and_python();
    return 0;
}
