/*
 * tmpl.h - shortening C++ template arguments in demangled names
 * (tmpl_shorten), heaptrack's --shorten-templates:
 *   std::vector<std::pair<int, std::string>, std::allocator<...> >::push_back
 *     -> std::vector<>::push_back
 */
#ifndef REPORT_TMPL_H
#define REPORT_TMPL_H

#include <stddef.h>

/* Writes name with the text of every outermost template argument list
 * removed ("<...>" becomes "<>", in the parameter list too) into out (n
 * bytes).  The '<' and '>' of operator names (operator<, operator<<=,
 * operator->, operator<=>...) are kept, as are lambdas ({lambda(int)#1}),
 * "(anonymous namespace)" and ABI tags.  Returns 1 when out holds a shorter
 * name, 0 when name has nothing to shorten, cannot be read as a C++ name
 * (unbalanced brackets, a placeholder such as "<unknown>") or does not fit
 * in out: the caller then keeps name. */
int tmpl_shorten(const char *name, char *out, size_t n);

#endif
