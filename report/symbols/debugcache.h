/*
 * debugcache.h - debug files kept with their sections decompressed
 * (report/symbols/debugcache.c), so that a module's DWARF opens without
 * inflating it again on every report; the directory they are kept in.
 * Prefix dcache_.
 */
#ifndef REPORT_DEBUGCACHE_H
#define REPORT_DEBUGCACHE_H

#include <stddef.h>

/* The decompressed copy of the debug file of the module with build ID
 * id (n bytes), where the cache is on (HEAPSNAP_DEBUG_CACHE): its
 * descriptor, *name set to its path (malloc'd; the old one freed).  Made
 * now from the file at the standard build-ID path when that one's
 * sections are compressed.  -1 when there is none: the module's debug
 * file is then looked for as before. */
int dcache_find(const void *id, int n, char **name);

/* After the debug file at path was found for the module with build ID
 * id (n bytes) some other way (a .gnu_debuglink): its copy made, where its
 * sections are compressed, for the next report to find (dcache_find). */
void dcache_fill(const char *path, const void *id, int n);

/* The cache's directory into out (n bytes), made first if missing; 0, or
 * -1 when the cache is off or cannot be made.  Other answers a report
 * keeps for the next one live there too (dbgsym.c's). */
int dcache_where(char *out, size_t n);

#endif
