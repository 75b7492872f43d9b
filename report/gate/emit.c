/*
 * emit.c - escaping for the gate's non-JSON output formats (JSON and SARIF
 * go through json_*, the one JSON writer).  The JUnit and GitHub
 * writers print their structure with fprintf; the one thing they must get
 * exactly right is how a string (a path, a function name, a message) is
 * quoted, so that lives here once: XML attribute/text bodies, and GitHub
 * workflow-command data and properties (the runner's toolkit escapes %, CR
 * and LF in data, and also ':' and ',' in properties).  Both replace bytes
 * that are not UTF-8 with U+FFFD, and XML the characters XML 1.0 forbids.
 */
#include <stdio.h>

#include "escape.h"
#include "formats.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/* XML 1.0 allows tab, LF, CR and the code points from U+0020 on, except
 * the surrogates (never well-formed UTF-8 anyway) and U+FFFE, U+FFFF. */
static int xml_allowed(uint32_t cp)
{
    return cp == '\t' || cp == '\n' || cp == '\r' || (cp >= 0x20 && cp != 0xfffe && cp != 0xffff);
}

void emit_xml_str(FILE *out, const char *str)
{
    const unsigned char *p = (const unsigned char *)str;
    while (*p) {
        uint32_t cp;
        int n = esc_utf8_len(p, &cp);
        switch (n ? cp : 0xfffd) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            if (n && xml_allowed(cp))
                fwrite(p, 1, (size_t)n, out);
            else
                fputs(REPLACEMENT, out);
        }
        p += n ? n : 1;
    }
}

/* Workflow-command escapes; the other control characters are shown as
 * "\xNN" and bytes that are not UTF-8 as U+FFFD, as in text output. */
static void gh_escape(FILE *out, const char *str, int prop)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        uint32_t cp;
        int n = esc_utf8_len(s, &cp);
        if (!n) {
            fputs(REPLACEMENT, out);
            s++;
            continue;
        }
        switch (cp) {
        case '%': fputs("%25", out); break;
        case '\r': fputs("%0D", out); break;
        case '\n': fputs("%0A", out); break;
        case ':': fputs(prop ? "%3A" : ":", out); break;
        case ',': fputs(prop ? "%2C" : ",", out); break;
        default:
            if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                for (int i = 0; i < n; i++)
                    fprintf(out, "\\x%02x", s[i]);
            else
                fwrite(s, 1, (size_t)n, out);
        }
        s += n;
    }
}

void emit_gh_data(FILE *out, const char *s) { gh_escape(out, s, 0); }
void emit_gh_prop(FILE *out, const char *s) { gh_escape(out, s, 1); }
