#include "cli.h"
#include <stdio.h>
int cmd_gate(int argc, char **argv, char *err, size_t errlen) { snprintf(err, errlen, "gate: todo"); return 2; }
