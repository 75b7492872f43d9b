/*
 * html.h - the HTML report's page (report/html/htmldoc.c), one self-contained
 * file with its script and style sheet inline.
 */
#ifndef REPORT_HTML_H
#define REPORT_HTML_H

#include <stdio.h>

#include "prof.h"

#define HTML_ROWS 200  /* top, diff and loss record rows by default */

/* Writes the page of p to out, each table at most rows long, a Python
 * process's stacks unfolded at load when all_frames (heapsnapFold); 0, or -1 with
 * a one-line reason in err ("out of memory", "cannot write"). */
int html_page(FILE *out, const struct prof *p, long rows, int all_frames, char *err,
              size_t errlen);

#endif
