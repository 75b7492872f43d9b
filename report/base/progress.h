/*
 * progress.h - one line of progress on stderr for a command that runs long
 * (progress_start, progress_end).
 */
#ifndef REPORT_PROGRESS_H
#define REPORT_PROGRESS_H

/* Starts the clock (main, before the command).  HEAPSNAP_PROGRESS=always
 * shows progress at once whatever stderr is, never hides it; the default
 * (auto) shows it when stderr is a terminal and the command has run for a
 * second. */
void progress_start(void);

/* "heapsnap: WHAT NAME (N)..." on stderr, rewritten in place, at most ten
 * times a second; N counts the calls with the same what. */
void progress_step(const char *what, const char *name);

/* Clears the line if one was shown (main, after the command). */
void progress_end(void);

#endif
