/*
 * decimal.h - an integer in decimal, by hand: snprintf's parse of its
 * format was most of the CLI's hottest text (a frame record's ident, a
 * JSON document's numbers).
 */
#ifndef REPORT_DECIMAL_H
#define REPORT_DECIMAL_H

#include <stdint.h>

#define DECIMAL_MAX 21 /* "-" and the 20 digits of UINT64_MAX */

/* v's digits, after a '-' when neg, written to end at `end` (exclusive)
 * of a buffer of DECIMAL_MAX bytes or more; where they begin. */
static inline char *decimal_put(char *end, uint64_t v, int neg)
{
    char *p = end;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    if (neg)
        *--p = '-';
    return p;
}

#endif
