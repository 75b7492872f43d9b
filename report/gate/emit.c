/*
 * emit.c - escaping for the gate's non-JSON output formats (JSON and SARIF
 * go through report/json.c, the one JSON writer).  The JUnit and GitHub
 * writers print their structure with fprintf; the one thing they must get
 * exactly right is how a string (a path, a function name, a message) is
 * quoted, so that lives here once: XML attribute/text bodies, and GitHub
 * workflow-command data and properties (the runner's toolkit escapes %, CR
 * and LF in data, and also ':' and ',' in properties).
 */
#include <stdio.h>

#include "formats.h"

void emit_xml_str(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t')
                fputc('?', out); /* not allowed in XML 1.0 */
            else
                fputc(*p, out);
        }
    }
}

static void gh_escape(FILE *out, const char *s, int prop)
{
    for (; *s; s++) {
        switch (*s) {
        case '%': fputs("%25", out); break;
        case '\r': fputs("%0D", out); break;
        case '\n': fputs("%0A", out); break;
        case ':': prop ? fputs("%3A", out) : fputc(':', out); break;
        case ',': prop ? fputs("%2C", out) : fputc(',', out); break;
        default: fputc(*s, out);
        }
    }
}

void emit_gh_data(FILE *out, const char *s) { gh_escape(out, s, 0); }
void emit_gh_prop(FILE *out, const char *s) { gh_escape(out, s, 1); }
