// link: report/symbols/dbgsym.c report/symbols/debugcache.c
/*
 * test_dbgsym_program.c - the debug-information note's walk of Debian's
 * dependencies starts at the program's package too (dbg_program): a
 * library whose package Debian's policy does not name (here libfoo.so.3,
 * in libbar3, as libcrypto.so.3 is in libssl3) is found among the
 * packages the program's depends on, with no `dpkg-query -S`, the read
 * of every package's file list; without the program it takes -S.  The
 * owners a note found are kept (HEAPSNAP_DEBUG_CACHE): the same modules'
 * next note asks dpkg-query nothing while none of their files (nor the
 * program's) was replaced, and asks again once one was.  A dpkg-query of
 * the test's own on PATH answers and logs each ask.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbgsym.h"
#include "unit.h"

#define LIB "/usr/lib/x86_64-linux-gnu/libfoo.so.3"

static char dir[64], logp[96], errp[96], prog[96];

/* A file's text into buf (n bytes at most, NUL-ended). */
static void slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, n - 1, f) : 0;
    buf[k] = '\0';
    if (f)
        fclose(f);
}

/* dbg_note with stderr to errp, the stub's log emptied first. */
static void note(void)
{
    fclose(fopen(logp, "w"));
    fflush(stderr);
    int save = dup(2), fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    dbg_note();
    fflush(stderr);
    dup2(save, 2);
    close(save);
}

static int setup(void)
{
    char stub[128], os[128];
    snprintf(dir, sizeof dir, "/tmp/hsdbgprogXXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(logp, sizeof logp, "%s/log", dir);
    snprintf(errp, sizeof errp, "%s/err", dir);
    snprintf(stub, sizeof stub, "%s/dpkg-query", dir);
    snprintf(os, sizeof os, "%s/os-release", dir);
    FILE *f = fopen(stub, "w");
    if (!f)
        return -1;
    fprintf(f, "#!/bin/sh\necho \"$*\" >>%s\nop=$1; shift\ncase \"$op\" in\n"
               "-L) sep=; for p in \"$@\"; do [ -n \"$sep\" ] && echo; sep=1\n"
               "      case \"$p\" in\n"
               "      prog) printf '/usr/bin/prog\\n' ;;\n"
               "      libbar3) printf '%s\\n' ;;\n"
               "      esac; done ;;\n"
               "-W) printf 'prog\\t, libc6 (>= 2.34), libbar3 (>= 3)\\nlibbar3\\tlibc6\\n' ;;\n"
               "-S) for p in \"$@\"; do echo \"libbar3:amd64: $p\"; done ;;\n"
               "esac\n",
            logp, LIB);
    fclose(f);
    chmod(stub, 0755);
    if (!(f = fopen(os, "w")))
        return -1;
    fprintf(f, "ID=debian\n");
    fclose(f);
    setenv("HEAPSNAP_OS_RELEASE", os, 1);
    setenv("HEAPSNAP_DEBUG_CACHE", "0", 1); /* asked afresh until the kept answers' case */
    snprintf(prog, sizeof prog, "%s/prog", dir);
    if (!(f = fopen(prog, "w")))
        return -1;
    fclose(f);
    char path[4096];
    snprintf(path, sizeof path, "%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    return 0;
}

TEST_BEGIN(dbgsym_library_found_without_program_by_search)
    char err[4096], log[4096];
    dbg_missing(LIB, "libfoo.so.3");
    note();
    slurp(errp, err, sizeof err);
    slurp(logp, log, sizeof log);
    expect_true(strstr(err, "apt install libbar3-dbgsym (Debian") != NULL, "the note: %s", err);
    expect_true(strstr(log, "-S " LIB) != NULL, "-S asked: %s", log);
TEST_END

TEST_BEGIN(dbgsym_library_found_through_program_without_search)
    char err[4096], log[4096];
    dbg_program("/usr/bin/prog");
    dbg_missing(LIB, "libfoo.so.3");
    note();
    slurp(errp, err, sizeof err);
    slurp(logp, log, sizeof log);
    expect_true(strstr(err, "apt install libbar3-dbgsym (Debian") != NULL, "the note: %s", err);
    expect_true(strstr(log, "-S") == NULL, "no -S: %s", log);
    expect_true(!strncmp(log, "-L libfoo3 prog\n", 16), "the program's guess asked first: %s", log);
    expect_true(strstr(log, "-L libc6 libbar3\n") != NULL, "its dependencies: %s", log);
TEST_END

/* A module that exists (the kept answers' key is its file's identity):
 * /usr/bin/env, which the stub's -S gives to libbar3; the program, a file
 * of the test's own, is replaced in the third note. */
TEST_BEGIN(dbgsym_owners_kept_while_files_unchanged)
    char err[4096], log[4096], cache[96];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("HEAPSNAP_DEBUG_CACHE", cache, 1);
    dbg_program(prog);
    dbg_missing("/usr/bin/env", "env");
    note();
    slurp(errp, err, sizeof err);
    slurp(logp, log, sizeof log);
    expect_true(strstr(err, "apt install libbar3-dbgsym (Debian") != NULL, "the note: %s", err);
    expect_true(strstr(log, "-S") != NULL, "asked the first time: %s", log);
    dbg_missing("/usr/bin/env", "env");
    note();
    slurp(errp, err, sizeof err);
    slurp(logp, log, sizeof log);
    expect_true(strstr(err, "apt install libbar3-dbgsym (Debian") != NULL, "kept: %s", err);
    expect_true(log[0] == '\0', "nothing asked: %s", log);
    struct timespec t[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    utimensat(AT_FDCWD, prog, t, 0); /* an upgrade replaced it */
    dbg_missing("/usr/bin/env", "env");
    note();
    slurp(errp, err, sizeof err);
    slurp(logp, log, sizeof log);
    expect_true(strstr(err, "apt install libbar3-dbgsym (Debian") != NULL, "again: %s", err);
    expect_true(strstr(log, "-S") != NULL, "asked again: %s", log);
    setenv("HEAPSNAP_DEBUG_CACHE", "0", 1);
TEST_END

int main(void)
{
    if (setup() != 0) {
        printf("FAIL dbgsym_program_setup: %s\n", dir);
        return 0;
    }
    dbgsym_library_found_without_program_by_search();
    dbgsym_library_found_through_program_without_search();
    dbgsym_owners_kept_while_files_unchanged();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("FAIL dbgsym_program_cleanup: %s\n", dir);
    return 0;
}
