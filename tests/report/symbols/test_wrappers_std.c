// link: report/symbols/wrappers.c
/*
 * test_wrappers_std.c - the C++ standard library's allocating templates
 * are allocator wrappers by their demangled name alone where no DWARF
 * places them (wrap_is_wrapper): libstdc++'s and libc++'s (std::__1::)
 * allocators, containers, smart pointers and std::function's copy of its
 * callable, a template function's return type before its name; never the
 * program's own frames named alike (a template of its own instantiated
 * with std types, a function returning a std type, its lambdas, a
 * namespace of its own called user::vector), never the library's frames
 * that call the program's code (std::function's operator(), _M_invoke,
 * std::thread's _M_run, std::sort), and never a std name in a file of the
 * program's own.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "wrappers.h"

static int judged(const char *func, const char *file)
{
    struct frame f;
    memset(&f, 0, sizeof(f));
    f.ip = 0x1000;
    f.func = func;
    f.file = f.dwarf_file = file ? file : "??";
    f.module = "prog";
    f.path = "/bin/prog";
    return wrap_is_wrapper(&f);
}

static const char *const folded[] = {
    "std::__new_allocator<long>::allocate(unsigned long, void const*)",
    "__gnu_cxx::new_allocator<int>::allocate(unsigned long, void const*)",
    "std::allocator_traits<std::allocator<long> >::allocate(std::allocator<long>&, unsigned long)",
    "std::_Vector_base<long, std::allocator<long> >::_M_allocate(unsigned long)",
    "void std::vector<long, std::allocator<long> >::_M_realloc_insert<long>(__gnu_cxx::"
    "__normal_iterator<long*, std::vector<long, std::allocator<long> > >, long&&)",
    "long& std::vector<long, std::allocator<long> >::emplace_back<long>(long&&)",
    "std::vector<long, std::allocator<long> >::push_back(long const&)",
    "std::vector<int, std::allocator<int> >::_M_default_append(unsigned long)",
    "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::"
    "_M_create(unsigned long&, unsigned long)",
    "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::"
    "_M_mutate(unsigned long, unsigned long, char const*, unsigned long) [clone .isra.0]",
    "std::_Rb_tree<int, std::pair<int const, long>, std::_Select1st<std::pair<int const, "
    "long> >, std::less<int>, std::allocator<std::pair<int const, long> > >::_M_get_node()",
    "std::__detail::_Hash_node<std::pair<int const, long>, false>* std::__detail::"
    "_Hashtable_alloc<std::allocator<std::__detail::_Hash_node<std::pair<int const, long>, "
    "false> > >::_M_allocate_buckets(unsigned long)",
    "std::_Deque_base<int, std::allocator<int> >::_M_allocate_map(unsigned long)",
    "std::__shared_count<(__gnu_cxx::_Lock_policy)2>::__shared_count<Node, std::allocator<void>>"
    "(Node*&, std::_Sp_alloc_shared_tag<std::allocator<void> >)",
    "std::shared_ptr<std::enable_if<!std::is_array<Node>::value, Node>::type> "
    "std::make_shared<Node>()",
    "std::_Sp_counted_ptr_inplace<Node, std::allocator<void>, (__gnu_cxx::_Lock_policy)2>::"
    "_Sp_counted_ptr_inplace<>(std::allocator<void>)",
    "std::_MakeUniq<Node>::__single_object std::make_unique<Node>()",
    "void std::_Function_base::_Base_manager<main::{lambda()#1}>::_M_init_functor<main::"
    "{lambda()#1}>(std::_Any_data&, main::{lambda()#1}&&)",
    "std::function<void ()>::function<main::{lambda()#1}, void>(main::{lambda()#1})",
    /* libc++ */
    "std::__1::allocator<long>::allocate(unsigned long)",
    "std::__1::vector<long, std::__1::allocator<long> >::__push_back_slow_path<long>(long&&)",
    "std::__1::__split_buffer<long, std::__1::allocator<long>&>::__split_buffer(unsigned long, "
    "unsigned long, std::__1::allocator<long>&)",
    "std::__1::basic_string<char, std::__1::char_traits<char>, std::__1::allocator<char> >::"
    "__init(char const*, unsigned long)",
    "std::__1::__tree<int, std::__1::less<int>, std::__1::allocator<int> >::__construct_node<int"
    " const&>(int const&)",
    "std::__1::__hash_table<int, std::__1::hash<int>, std::__1::equal_to<int>, std::__1::"
    "allocator<int> >::__rehash(unsigned long)",
    "std::__1::shared_ptr<Node> std::__1::make_shared<Node>()",
    "void* std::__1::__libcpp_operator_new<unsigned long>(unsigned long)",
};

static const char *const kept[] = {
    "Bag<std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > >::"
    "put(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)",
    "std::vector<int, std::allocator<int> > make_vec<int>()",
    "std::shared_ptr<Node> make_node()",
    "user::vector<int>::push_back(int)",
    "user::_M_allocate(unsigned long)",
    "_M_allocate(unsigned long)",
    "stdvector_grow(unsigned long)",
    "mystd::vector<int>::push_back(int)",
    "main::{lambda(long)#1}::operator()(long) const",
    "callables()::{lambda()#2}::operator()() const",
    "std::function<void ()>::operator()() const",
    "std::_Function_handler<void (), main::{lambda()#1}>::_M_invoke(std::_Any_data const&)",
    "std::thread::_State_impl<std::thread::_Invoker<std::tuple<main::{lambda()#1}> > >::_M_run()",
    "void std::sort<__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >"
    " >(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, "
    "__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >)",
    "main::{lambda(long)#1} std::for_each<long*, main::{lambda(long)#1}>(long*, long*, "
    "main::{lambda(long)#1})",
    "std::__1::function<void ()>::operator()() const",
};

TEST_BEGIN(std_allocating_templates_fold_by_name)
    for (size_t i = 0; i < sizeof(folded) / sizeof(folded[0]); i++)
        expect_true(judged(folded[i], NULL), "not a wrapper: %s", folded[i]);
TEST_END

TEST_BEGIN(program_frames_named_like_std_stay)
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        expect_true(!judged(kept[i], NULL), "a wrapper: %s", kept[i]);
TEST_END

TEST_BEGIN(std_name_in_program_file_stays)
    /* DWARF says whose code it is: a name alone never folds it */
    expect_true(!judged("std::vector<int, std::allocator<int> >::push_back(int const&)",
                        "src/compat/vector.cc"), "a program's file folded");
    expect_true(judged("std::vector<int, std::allocator<int> >::push_back(int const&)",
                       "/usr/include/c++/12/bits/stl_vector.h"), "the header not folded");
TEST_END

int main(void)
{
    std_allocating_templates_fold_by_name();
    program_frames_named_like_std_stay();
    std_name_in_program_file_stays();
    wrap_fini();
    return 0;
}
