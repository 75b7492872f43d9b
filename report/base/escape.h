/*
 * escape.h - making untrusted names safe to print (esc_text, esc_text_dup): the
 * one UTF-8 decoder the output formats share, and the text escape that
 * every name from a snapshot or its debug info goes through.
 */
#ifndef REPORT_ESCAPE_H
#define REPORT_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the well-formed UTF-8 sequence at s, with its code point
 * in *cp; 0 when s does not start one: a stray continuation byte, an
 * overlong form, a UTF-16 surrogate (CESU-8's "\xed\xa0\x80"), a code point
 * past U+10FFFF, or a sequence cut short (by the NUL that ends s). */
int esc_utf8_len(const unsigned char *s, uint32_t *cp);

/* s made printable: C0 and C1 control characters and DEL become "\n",
 * "\t", "\r" or "\xNN" (one per byte), bytes that are not well-formed UTF-8
 * become "\xNN", the bidirectional controls and U+2028/U+2029 "\uXXXX";
 * everything else, valid UTF-8 included, is kept.  So a name can never
 * start a line of output, move the cursor, reorder the text around it or
 * inject a terminal sequence.  esc_text_dup returns a malloc'd copy (NULL when out of
 * memory); esc_text writes into buf (cut to n bytes) and returns buf. */
char *esc_text_dup(const char *s);
const char *esc_text(const char *s, char *buf, size_t n);

/* esc_text of s[0, len), NULs in it escaped too ("\x00"), into out (n bytes,
 * NUL included; cut between escapes); quote: a backslash and a single quote
 * escaped as well ("\\", "\'"), so that the text reads as Python's repr of
 * the str inside single quotes.  The full length, as snprintf returns. */
size_t esc_text_n(const char *s, size_t len, int quote, char *out, size_t n);

/* 1 when esc_text would change s. */
int esc_text_needed(const char *s);

#endif
