/*
 * live.h - what `heapsnap run --live` takes from `heapsnap live`: the view
 * of a process run started.
 */
#ifndef REPORT_LIVE_H
#define REPORT_LIVE_H

#include <sys/types.h>

/* The view of pid, once its control socket answers; drain(arg) when extra
 * is readable (not 0: extra is done with).  0 when it closed or pid ended,
 * 2 with err. */
int live_watch(pid_t pid, int extra, int (*drain)(void *), void *arg, char *err, size_t errlen);

#endif
