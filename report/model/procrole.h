/*
 * procrole.h - what a process of a run was for: the function a
 * multiprocessing worker (a Pool's, a ProcessPoolExecutor's, a PyTorch
 * DataLoader's) was started to run, read from its own traces.
 */
#ifndef REPORT_PROCROLE_H
#define REPORT_PROCROLE_H

#include <stddef.h>

struct snap;

/* The dotted name of the function that multiprocessing's BaseProcess.run
 * called in s's process ("multiprocessing.pool.worker",
 * "torch.utils.data._utils.worker._worker_loop") into out (n bytes): 1,
 * or 0 (no trace passes through run: not a worker, or no Python) with
 * out empty. */
int procrole_of(const struct snap *s, char *out, size_t n);

#endif
