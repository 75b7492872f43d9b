/*
 * formats.h - the gate's output formats: text and JSON (out.c), JUnit
 * (junit.c), SARIF (sarif.c) and GitHub annotations (ghanno.c).  Each reads
 * a finished verdict and never evaluates anything.  JSON and SARIF are
 * written with json_*, JUnit and GitHub with the escapes of emit.c.
 */
#ifndef REPORT_GATE_FORMATS_H
#define REPORT_GATE_FORMATS_H

#include <stdio.h>

#include "rules.h"
#include "verdict.h"

/* sarif.c: where a finding points: the first frame of its stack whose file
 * lies under --source-root (default the cwd).  Fills uri with the path
 * relative to the root and returns the frame's index; -1 when no frame is
 * under the root (uri is then the site frame's file as it is). */
int sarif_site_uri(const struct gate_rules *r, const struct stat_entry *e, char *uri,
                  size_t n);

/* sarif.c: path relative to --source-root into buf, or NULL when file is not
 * below the root. */
const char *sarif_relpath(const struct gate_rules *r, const char *file, char *buf, size_t n);

/* emit.c: escapes for JUnit and GitHub (JSON and SARIF use json_*). */
void emit_xml_str(FILE *out, const char *s);
/* GitHub workflow commands: data escapes %, CR, LF; properties also : and , */
void emit_gh_data(FILE *out, const char *s);
void emit_gh_prop(FILE *out, const char *s);

/* The writers (0, or -1 on an output error). */
int out_text(FILE *out, const struct verdict *g, const struct gate_rules *r);
int out_json(FILE *out, const struct verdict *g, const struct gate_rules *r);
int junit_write(FILE *out, const struct verdict *g, const struct gate_rules *r);
int sarif_write(FILE *out, const struct verdict *g, const struct gate_rules *r);
int ghanno_write(FILE *out, const struct verdict *g, const struct gate_rules *r);

#endif
