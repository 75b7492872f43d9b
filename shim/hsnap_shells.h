/*
 * hsnap_shells.h - command shells, known by their file names: the
 * contract between the shim's launcher test (shim/base/launcher.c: a shell
 * running a script that execs is a launcher) and `heapsnap run`'s hand-off
 * of its name (follow_hand_name: a shell that forked its one
 * command hands that command -o's name), so that both know one list.
 */
#ifndef HSNAP_SHELLS_H
#define HSNAP_SHELLS_H

#include <string.h>

/* 1 when base (a file name, without its directory) is a shell's. */
static inline int hsnap_is_shell(const char *base)
{
    static const char *const shells[] = {"sh",   "dash", "bash",    "zsh",  "ksh",
                                         "ksh93", "mksh", "ash",     "yash", "posh",
                                         "busybox", "fish", "tcsh", "csh",  NULL};
    for (const char *const *s = shells; *s; s++)
        if (!strcmp(base, *s))
            return 1;
    return 0;
}

#endif
