// unwind_cxx.cc - a C++ library built WITHOUT frame pointers for
// test_unwind_equiv.sh: it throws and catches, so its functions carry
// landing pads, cold split parts and remember/restore_state CFI; it
// allocates in the throw (__cxa_allocate_exception: kept alive through an
// exception_ptr), in the handler and in ordinary code around them.
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

static std::vector<std::string *> cxx_kept;
static std::vector<std::exception_ptr> cxx_errors;

NOINLINE static void cxx_fail(int i)
{
    if (i % 3 == 0)
        throw std::runtime_error("cxx_fail " + std::to_string(i) + " with a long enough message");
    cxx_kept.push_back(new std::string(64 + (size_t)i, 'x'));
}

NOINLINE static int cxx_guarded(int i)
{
    try {
        cxx_fail(i);
        return 0;
    } catch (const std::exception &e) {
        cxx_kept.push_back(new std::string(e.what()));
        cxx_errors.push_back(std::current_exception());
        return 1;
    }
}

extern "C" NOINLINE int cxx_run(int rounds)
{
    int caught = 0;
    for (int i = 0; i < rounds; i++)
        caught += cxx_guarded(i);
    return caught;
}
