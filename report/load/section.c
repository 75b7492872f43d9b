/*
 * section.c - a snapshot section's name, and the one-line error that names
 * it ("section LEAKS: record 3: ..."): what every decoder of a section
 * (snap.c, lset.c, peak.c) shares, below all of them.
 */
#include <stdarg.h>
#include <stdio.h>

#include "snap.h"

int snap_section_fail(char *err, size_t errlen, const char *section, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "section %s: %s", section, why);
    return -1;
}

const char *snap_section_name(uint32_t type)
{
    static const char *names[] = {NULL,    "META",  "MODULES",  "TRACES",
                                  "STATS", "BLOCKS", "TIMELINE", "LEAKS",
                                  "RETAINERS", "PEAK", "SITELINE", "TEMPS", "PYCODE", NULL, NULL,
                                  "SUPPRESSIONS", "FAILED", "UNLOADED", "STATE", "MAPLINE",
                                  "PYTYPES"};
    static char other[32];
    if (type < sizeof(names) / sizeof(names[0]) && names[type])
        return names[type];
    if (type == HSNAP_SEC_END)
        return "END";
    snprintf(other, sizeof(other), "type %u", type);
    return other;
}
