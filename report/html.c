#include "cli.h"
#include <stdio.h>
int cmd_html(int argc, char **argv, char *err, size_t errlen) { snprintf(err, errlen, "todo"); return 2; }
