/*
 * target.c - what `heapsnap run` is asked to start, checked before it starts:
 * the command found as execvp would find it (with a shell's status when it
 * cannot start), a program the shim could not enter refused with the reason,
 * and the shim's own libraries found next to heapsnap or where `make install`
 * put them.  Prefix run_, as the command this serves.
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "runner.h"

/* 0 an executable regular file; RUN_NOT_EXECUTABLE something else that is
 * there (a directory, a file without x), its reason in *why;
 * RUN_NOT_FOUND nothing. */
static int run_exec_file(const char *path, const char **why)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return RUN_NOT_FOUND;
    *why = S_ISDIR(st.st_mode) ? "is a directory" : "Permission denied";
    return S_ISREG(st.st_mode) && access(path, X_OK) == 0 ? 0 : RUN_NOT_EXECUTABLE;
}

/* execvp's search, done up front so a command that cannot start is
 * reported plainly, with a shell's status: 0 and the path in buf, or
 * RUN_NOT_FOUND / RUN_NOT_EXECUTABLE with the reason in err (a file in
 * PATH that is not executable, when no later one is, as a shell says). */
int run_find_command(const char *cmd, char *buf, char *err, size_t errlen)
{
    const char *why = "";
    int rc = RUN_NOT_FOUND;
    if (strchr(cmd, '/')) {
        snprintf(buf, PATH_MAX, "%s", cmd);
        rc = run_exec_file(cmd, &why);
    } else {
        const char *path = getenv("PATH"), *p;
        char first[PATH_MAX] = "";
        for (p = path ? path : "/usr/local/bin:/usr/bin:/bin";; p++) {
            const char *end = strchr(p, ':');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            int r = snprintf(buf, PATH_MAX, "%.*s/%s", (int)n, n ? p : ".", cmd) < PATH_MAX
                         ? run_exec_file(buf, &why)
                         : RUN_NOT_FOUND;
            if (r == 0)
                return 0;
            if (r == RUN_NOT_EXECUTABLE && !first[0] && strcmp(why, "is a directory"))
                snprintf(first, sizeof(first), "%s", buf);
            if (!end)
                break;
            p = end;
        }
        if (first[0]) {
            snprintf(buf, PATH_MAX, "%s", first);
            rc = RUN_NOT_EXECUTABLE;
            why = "Permission denied";
        }
    }
    if (rc == RUN_NOT_FOUND)
        snprintf(err, errlen, "run: %s: %s", cmd,
                 strchr(cmd, '/') ? "No such file or directory" : "command not found");
    else if (rc == RUN_NOT_EXECUTABLE)
        snprintf(err, errlen, "run: %s: %s", buf, why);
    return rc;
}

/* A program the shim cannot enter: setuid/setgid (the loader ignores
 * LD_PRELOAD) or an ELF without PT_INTERP (statically linked: no loader).
 * Scripts are fine (their interpreter is checked when it runs: not here).
 * Returns 0, or -1 with the reason in err. */
int run_check_target(const char *path, char *err, size_t errlen)
{
    struct stat st;
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    int fd = open(path, O_RDONLY | O_CLOEXEC), interp = 0;
    if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID))) {
        snprintf(err, errlen, "run: %s is setuid/setgid: the loader ignores LD_PRELOAD for it, "
                 "so it cannot be profiled", path);
        goto fail;
    }
    if (fd < 0 || read(fd, &eh, sizeof(eh)) != (ssize_t)sizeof(eh) ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
        if (fd >= 0)
            close(fd);
        return 0; /* a script, or not an ELF we can judge */
    }
    for (int i = 0; i < eh.e_phnum && !interp; i++)
        if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) ==
                (ssize_t)sizeof(ph) && ph.p_type == PT_INTERP)
            interp = 1;
    if (interp) {
        close(fd);
        return 0;
    }
    snprintf(err, errlen, "run: %s is statically linked: the shim cannot be preloaded into it, "
             "so it cannot be profiled", path);
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

int run_find_shim(char *out, size_t n)
{
    return run_find_lib("libheapsnap.so", out, n);
}

int run_find_lib(const char *name, char *out, size_t n)
{
    return cli_find_lib(name, out, n);
}
