/*
 * progress.c - progress on stderr for the commands that can run long (trend
 * over a series of big snapshots, top over a make -j's hundreds): without
 * it a user at a terminal cannot tell a slow command from a hung one.  The
 * line is drawn with \r and cleared at the end, and only on a terminal, so a
 * log or a pipe never sees it.  The commands call progress_step where their
 * work advances (symbolizing a snapshot); nothing else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "progress.h"

#define PROGRESS_AFTER_NS 1000000000ull /* quiet for the first second */
#define PROGRESS_EVERY_NS 100000000ull  /* at most ten lines a second */

static struct {
    int mode;                 /* -1 never, 0 auto, 1 always */
    uint64_t start, last;     /* CLOCK_MONOTONIC ns */
    int shown;                /* a line is on the terminal */
    const char *what;         /* the step being counted */
    unsigned count;
} pg = {.mode = -1};          /* never, until progress_start */

static uint64_t progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void progress_start(void)
{
    const char *m = getenv("HEAPSNAP_PROGRESS");
    pg.mode = !m || !strcmp(m, "auto") ? 0 : !strcmp(m, "always") ? 1 : -1;
    if (pg.mode == 0 && !isatty(2))
        pg.mode = -1;
    pg.start = progress_now();
}

void progress_step(const char *what, const char *name)
{
    char buf[200];
    if (pg.what != what)
        pg.count = 0;
    pg.what = what;
    pg.count++;
    if (pg.mode < 0)
        return;
    uint64_t now = progress_now();
    if (pg.mode == 0 && (now - pg.start < PROGRESS_AFTER_NS || now - pg.last < PROGRESS_EVERY_NS))
        return;
    pg.last = now;
    pg.shown = 1;
    /* always: one plain line each, for logs and tests */
    fprintf(stderr, "%sheapsnap: %s %s (%u)...%s", pg.mode ? "" : "\r", what,
            esc_text(name, buf, sizeof(buf)), pg.count, pg.mode ? "\n" : "\033[K");
    fflush(stderr);
}

void progress_end(void)
{
    if (pg.shown && pg.mode == 0)
        fputs("\r\033[K", stderr);
    pg.shown = 0;
}
