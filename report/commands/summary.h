/*
 * summary.h - the lines `heapsnap run` ends with (report/commands/summary.c).
 */
#ifndef REPORT_SUMMARY_H
#define REPORT_SUMMARY_H

#include <stdio.h>
#include <sys/types.h>

#include "manifest.h"

/* Prints to out the summary of one process among the snapshots of mf:
 * the one written at named (an absolute path, or NULL) by the process
 * program when there is one, else the one of largest peak, at its latest
 * snapshot.  leaks: --leaks was
 * asked (a LEAK SUMMARY, or why there is none).  Prints nothing when no
 * snapshot of mf can be read. */
void summary_print(const struct manifest *mf, const char *named, pid_t program, int leaks,
                   FILE *out);

/* The exit snapshot at path (a process said it was its last) read ahead,
 * with the peak's line, while the process ends: summary_print takes it
 * when it picks that file, unchanged since, and reads it again else. */
void summary_preload(const char *path, int leaks);

#endif
