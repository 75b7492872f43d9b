/*
 * liveview.h - the door of the live view's room (report/liveview/): the
 * screen of `heapsnap live`, a process's state file read each second,
 * grouped, sorted and drawn with ncurses (lview_).  The command (cmd_live,
 * live_watch) owns the session - the socket, attach and detach - and the
 * loop; this room owns what is shown and the keys that change it, and
 * knows no command: a key that asks something of the session comes back
 * as LVIEW_SNAPSHOT or LVIEW_QUIT.  A room of its own because it is the
 * CLI's one terminal interface (curses), as export/ and html/ are its
 * other outputs.
 */
#ifndef REPORT_LIVEVIEW_H
#define REPORT_LIVEVIEW_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct lview;

/* What a key asks of the session. */
enum { LVIEW_NONE, LVIEW_SNAPSHOT, LVIEW_QUIT };

/* A view of process pid (named comm) whose state file is at path (e.g.
 * "/proc/self/fd/N"); quit_label is what q does ("quit", "quit and
 * detach").  Loads the file once (the baseline of the growth column): the
 * view, or NULL with the reason in err. */
struct lview *lview_new(pid_t pid, const char *comm, const char *path, const char *quit_label,
                        char *err, size_t errlen);
void lview_free(struct lview *v);

/* The terminal taken (curses) and given back. 0, or -1 with err. */
int lview_open(char *err, size_t errlen);
void lview_close(void);

/* The state read again and regrouped; a file that cannot be read keeps the
 * last view and says why on the status line. */
void lview_refresh(struct lview *v);

/* The file at the view's path is another now (the process exec'd and
 * passed its new state file): read afresh, the growth from here, the
 * process now named comm.  0, or -1 (the status line says why). */
int lview_restart(struct lview *v, const char *comm);

/* The screen redrawn in full (whatever the program wrote over it). */
void lview_draw(struct lview *v);

/* The view as text on out, for --batch (no terminal): the head's figures,
 * the column names and the first `rows` sites (the screen's lines, without
 * the keys' line), the status line when set, and an empty line. */
void lview_print(struct lview *v, FILE *out, size_t rows);

/* The next key pressed, or -1 when none is waiting. */
int lview_getkey(void);

/* A key pressed: the key, sort or thread changed here (regrouped), or
 * LVIEW_SNAPSHOT / LVIEW_QUIT for the session. */
int lview_key(struct lview *v, int ch);

/* The status line (the last thing that happened). */
void lview_say(struct lview *v, const char *msg);

#endif
