/*
 * retainers.h - "who keeps this memory alive": the RETAINERS section per
 * allocation site, for `leaks --why SITE` and `top --retainers`.
 */
#ifndef REPORT_RETAINERS_H
#define REPORT_RETAINERS_H

#include <stdio.h>

#include "snap.h"

/* Prints, for the allocation sites matching site (a "file.c:12" as shown,
 * "basename.c:12", or a function name; NULL = every site with retained
 * memory, the limit largest when limit > 0), which sites and kinds of root
 * hold references to their memory, summed over snaps[0..n) (a snapshot
 * with the Python graph but no RETAINERS is passed over; one with neither
 * is an error, and so is none with RETAINERS).  Returns 0,
 * or -1 with err filled ("PATH: no retainer data ...", "no allocation site
 * matches ...", out of memory). */
int retainers_print(const struct snap *snaps, char **paths, int n,
              const char *site, long limit, FILE *out, char *err, size_t errlen);

/* leaks --why SITE --format json: the same targets as retainers_print (no
 * limit) as a JSON array of {"site", "bytes", "blocks", "kept_by": [{
 * "blocks_from" (a site) or "root" (a kind of root), "refs",
 * "first_to_reach_blocks", "first_to_reach_bytes"}]}.  0, or -1 with err
 * (nothing written then). */
struct json;
int retainers_json(const struct snap *snaps, char **paths, int n, const char *site,
                   struct json *j, char *err, size_t errlen);

#endif
