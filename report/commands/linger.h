/*
 * linger.h - waiting for the processes of a run that outlive its command
 * (report/commands/linger.c).
 */
#ifndef REPORT_LINGER_H
#define REPORT_LINGER_H

#include <sys/types.h>

#include "manifest.h"

/* Waits for the processes of mf, and of the manifest file (what they told
 * after CMD ended), other than child: a second, and longer (up to
 * LINGER_MAX_MS) while they still use CPU, as one that finalises and
 * writes its snapshot does (a machine under load slows that down); a
 * daemon the command left behind, idle, is not waited for. */
void linger_wait(const char *manifest, const struct manifest *mf, pid_t child);

#endif
