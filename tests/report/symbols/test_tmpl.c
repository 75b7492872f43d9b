// link: report/symbols/tmpl.c
/*
 * test_tmpl.c - tmpl_shorten (--shorten-templates) on tricky demangled
 * names: nested argument lists, operator<, operator<<, operator<=>,
 * operator->, operator() of a generic lambda, lambdas, (anonymous
 * namespace), function types and expressions inside arguments, ABI tags,
 * and names it must leave alone (none to shorten, unbalanced, placeholders,
 * too long for the buffer).
 */
#include <stdio.h>
#include <string.h>

#include "tmpl.h"
#include "unit.h"

/* The shortened name, or "=" when tmpl_shorten kept the name. */
static const char *shorten(const char *name)
{
    static char buf[512];
    return tmpl_shorten(name, buf, sizeof(buf)) ? buf : "=";
}

TEST_BEGIN(tmpl_nested_arguments)
    expect_str_eq(shorten("std::vector<std::pair<int, std::__cxx11::basic_string<char, "
                          "std::char_traits<char>, std::allocator<char> > >, "
                          "std::allocator<std::pair<int, std::__cxx11::basic_string<char, "
                          "std::char_traits<char>, std::allocator<char> > > > >::push_back("
                          "std::pair<int, std::__cxx11::basic_string<char, "
                          "std::char_traits<char>, std::allocator<char> > > const&)"),
                  "std::vector<>::push_back(std::pair<> const&)");
    expect_str_eq(shorten("std::vector<std::pair<int, std::string>, std::allocator<std::pair<"
                          "int, std::string>>>::push_back"),
                  "std::vector<>::push_back");
    expect_str_eq(shorten("void std::_Construct<Node>(Node*)"), "void std::_Construct<>(Node*)");
    expect_str_eq(shorten("std::map<int, long, std::less<int>, std::allocator<std::pair<int const, "
                          "long> > >::operator[](int const&)"),
                  "std::map<>::operator[](int const&)");
TEST_END

TEST_BEGIN(tmpl_operators_keep_their_brackets)
    expect_str_eq(shorten("bool std::operator< <int, std::allocator<int> >(std::vector<int, "
                          "std::allocator<int> > const&, std::vector<int, std::allocator<int> > "
                          "const&)"),
                  "bool std::operator< <>(std::vector<> const&, std::vector<> const&)");
    expect_str_eq(shorten("std::basic_ostream<char, std::char_traits<char> >& std::operator<< "
                          "<std::char_traits<char> >(std::basic_ostream<char, "
                          "std::char_traits<char> >&, char const*)"),
                  "std::basic_ostream<>& std::operator<< <>(std::basic_ostream<>&, char const*)");
    expect_str_eq(shorten("std::unique_ptr<Node, std::default_delete<Node> >::operator->() const"),
                  "std::unique_ptr<>::operator->() const");
    expect_str_eq(shorten("std::__shared_ptr<Node, (__gnu_cxx::_Lock_policy)2>::operator->*"),
                  "std::__shared_ptr<>::operator->*");
    expect_str_eq(shorten("auto Ver<3>::operator<=>(Ver<3> const&) const"),
                  "auto Ver<>::operator<=>(Ver<> const&) const");
    expect_str_eq(shorten("Bits<8>::operator>>=(int)"), "Bits<>::operator>>=(int)");
    expect_str_eq(shorten("Bits<8>::operator<<=(int)"), "Bits<>::operator<<=(int)");
    expect_str_eq(shorten("Cmp<int>::operator>(Cmp<int> const&)"),
                  "Cmp<>::operator>(Cmp<> const&)");
    /* operator< alone: nothing to shorten */
    expect_str_eq(shorten("operator<(Point const&, Point const&)"), "=");
    /* "operator" inside a longer word is a name like any other */
    expect_str_eq(shorten("my_operator<int>(int)"), "my_operator<>(int)");
TEST_END

TEST_BEGIN(tmpl_lambdas_and_anonymous_namespaces)
    expect_str_eq(shorten("main::{lambda(int)#1}::operator()(int) const"), "=");
    expect_str_eq(shorten("std::function<void (int)>::function<main::{lambda(int)#1}, void>("
                          "main::{lambda(int)#1})"),
                  "std::function<>::function<>(main::{lambda(int)#1})");
    expect_str_eq(shorten("auto main::{lambda(auto:1)#2}::operator()<std::vector<int> >("
                          "std::vector<int>) const"),
                  "auto main::{lambda(auto:1)#2}::operator()<>(std::vector<>) const");
    expect_str_eq(shorten("(anonymous namespace)::Pool<Node, 64ul>::grab()"),
                  "(anonymous namespace)::Pool<>::grab()");
    expect_str_eq(shorten("void (anonymous namespace)::run<(anonymous namespace)::Job>(int)"),
                  "void (anonymous namespace)::run<>(int)");
TEST_END

TEST_BEGIN(tmpl_parentheses_inside_arguments)
    expect_str_eq(shorten("std::function<bool (std::vector<int> const&)>::operator()("
                          "std::vector<int> const&) const"),
                  "std::function<>::operator()(std::vector<> const&) const");
    expect_str_eq(shorten("Fixed<((8)>(2))>::get()"), "Fixed<>::get()");
    expect_str_eq(shorten("Arr<decltype (((Node*)0)->pad)>::size()"), "Arr<>::size()");
    expect_str_eq(shorten("std::__cxx11::basic_string<char, std::char_traits<char>, "
                          "std::allocator<char> >::basic_string[abi:cxx11](char const*)"),
                  "std::__cxx11::basic_string<>::basic_string[abi:cxx11](char const*)");
TEST_END

TEST_BEGIN(tmpl_leaves_alone)
    expect_str_eq(shorten("main"), "=");
    expect_str_eq(shorten("make_cycle()"), "=");
    expect_str_eq(shorten("<unknown>"), "=");
    expect_str_eq(shorten("<unsampled>"), "=");
    expect_str_eq(shorten("app+0x1136"), "=");
    expect_str_eq(shorten("std::vector<>::push_back"), "=");
    expect_str_eq(shorten("broken<int"), "=");
    expect_str_eq(shorten("broken<int>>::x"), "broken<>>::x"); /* a stray '>' is text */
    expect_str_eq(shorten("f<(int>(int)"), "=");
    char small[8];
    expect_true(tmpl_shorten("std::vector<int>::push_back", small, sizeof(small)) == 0,
                "a name that does not fit is kept");
TEST_END

/* A Boost-sized name (about 20 KiB) shortens whole, given room for it. */
TEST_BEGIN(tmpl_long_names)
    static char name[40000], out[40000];
    size_t at = 0;
    at += (size_t)snprintf(name + at, sizeof(name) - at, "ns::Deep");
    for (int i = 0; i < 3000; i++)
        at += (size_t)snprintf(name + at, sizeof(name) - at, "<T%d", i);
    for (int i = 0; i < 3000; i++)
        name[at++] = '>';
    at += (size_t)snprintf(name + at, sizeof(name) - at, "::grow(unsigned long)");
    expect_true(at > 16384, "the name is %zu bytes", at);
    expect_true(tmpl_shorten(name, out, strlen(name) + 1) == 1, "shortened");
    expect_str_eq(out, "ns::Deep<>::grow(unsigned long)");
TEST_END

int main(void)
{
    tmpl_nested_arguments();
    tmpl_operators_keep_their_brackets();
    tmpl_lambdas_and_anonymous_namespaces();
    tmpl_parentheses_inside_arguments();
    tmpl_leaves_alone();
    tmpl_long_names();
    return 0;
}
