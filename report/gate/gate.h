/*
 * gate.h - the door of report/gate/, the CI gate: `heapsnap gate SNAP...`
 * decides whether a CI job fails, from leak and growth rules, and writes its
 * verdict as text, JSON, JUnit, SARIF or GitHub annotations.  Inside:
 *   gate.c       the command: load, group by process, evaluate, write
 *   rules.c      its rules (command line and .heapsnap.toml)
 *   gateleaks.c  the leak rule, over lossrec_new's loss records
 *   verdict.c    checks and findings, and their one-line messages
 *   out.c junit.c sarif.c ghanno.c emit.c   the output formats
 * The gate reads report/ (snapshots, frames, stats, trend, loss records,
 * suppressions, JSON); nothing in report/ but main.c calls in here.
 */
#ifndef REPORT_GATE_GATE_H
#define REPORT_GATE_GATE_H

#include <stddef.h>

/* `heapsnap gate ARGS`: 0 pass, 1 (or --exitcode) a rule failed, 2 trouble
 * with one line in err. */
int cmd_gate(int argc, char **argv, char *err, size_t errlen);

#endif
