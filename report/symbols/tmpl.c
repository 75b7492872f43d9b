/*
 * tmpl.c - template arguments out of demangled C++ names, for
 * --shorten-templates (tmpl.h states the result).
 *
 * One pass over the name with a depth count: text at depth 0 is copied,
 * an opening '<' at depth 0 writes "<>", text at depth > 0 is dropped.  A
 * '<' opens an argument list only right after a name (an identifier
 * character) or an operator's symbol ("operator< <int>", "operator()<auto>");
 * inside an argument list, parentheses hide '<' and '>' (an expression
 * "(1>2)", a function type "void (int)").  The symbols after the word
 * "operator" are copied as they are, so operator<< and operator-> never
 * open or close anything.  A name whose brackets do not balance is left
 * alone: a wrong shortening would be worse than a long name.
 */
#include <ctype.h>
#include <string.h>

#include "tmpl.h"

static int is_ident(char c) { return isalnum((unsigned char)c) || c == '_' || c == '$'; }

/* Operator symbols that hold '<', '>' or '(', longest first. */
static const char *const op_symbols[] = {"<=>", "<<=", ">>=", "->*", "<<", ">>", "<=", ">=",
                                         "->", "()", "[]", "<", ">"};

/* At name + i: the length of "operator" and its bracket symbol when one
 * starts here ("operator<<" -> 10), else 0. */
static size_t operator_len(const char *name, size_t i)
{
    if (strncmp(name + i, "operator", 8) != 0 || (i > 0 && is_ident(name[i - 1])))
        return 0;
    const char *p = name + i + 8;
    for (size_t k = 0; k < sizeof(op_symbols) / sizeof(op_symbols[0]); k++)
        if (strncmp(p, op_symbols[k], strlen(op_symbols[k])) == 0)
            return 8 + strlen(op_symbols[k]);
    return 0;
}

/* Appends c to out at *at, keeping room for the NUL; -1 when full. */
static int put(char *out, size_t n, size_t *at, char c)
{
    if (*at + 1 >= n)
        return -1;
    out[(*at)++] = c;
    return 0;
}

int tmpl_shorten(const char *name, char *out, size_t n)
{
    size_t at = 0, i = 0;
    int depth = 0, parens = 0, opens = 0, after_name = 0;
    if (!n || name[0] == '<')
        return 0;
    while (name[i]) {
        size_t op = operator_len(name, i);
        if (op) { /* copied whole, and a name: a '<' after it opens a list */
            for (size_t k = 0; k < op; k++)
                if (depth == 0 && put(out, n, &at, name[i + k]) < 0)
                    return 0;
            i += op;
            after_name = 1;
            continue;
        }
        char c = name[i++];
        if (c == '<' && after_name && parens == 0) {
            if (depth++ == 0 && (put(out, n, &at, '<') < 0 || put(out, n, &at, '>') < 0))
                return 0;
            opens++;
            after_name = 0;
            continue;
        }
        if (c == '>' && depth > 0 && parens == 0) {
            depth--;
            after_name = 1; /* "vector<int><..." never occurs; "::" or "(" follows */
            continue;
        }
        if (depth > 0 && (c == '(' || c == ')'))
            parens += c == '(' ? 1 : -1;
        if (parens < 0)
            return 0;
        if (depth == 0 && put(out, n, &at, c) < 0)
            return 0;
        if (c != ' ')
            after_name = is_ident(c);
    }
    if (depth != 0 || parens != 0 || opens == 0 || name[at] == 0)
        return 0; /* unbalanced, or nothing was dropped */
    out[at] = 0;
    return 1;
}
