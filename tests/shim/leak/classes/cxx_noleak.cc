/*
 * cxx_noleak.cc - C++ containers created and destroyed: no leak of any
 * class.  This fixture measures the "runtime" baseline of the C++ fixtures
 * (libstdc++ keeps an emergency exception-handling pool reachable).
 *
 * Expected:
 *   direct, indirect, cycle, possibly lost, suppressed: 0
 *   still reachable: runtime only
 */
#include <map>
#include <string>
#include <vector>

#include "leakfix.h"

static LF_NOINLINE void build()
{
    std::vector<long> v(100, 1);
    std::map<int, std::string> m;
    for (int i = 0; i < 10; i++) m[i] = std::string(40, 'x');
    auto *p = new std::vector<int>(7);
    delete p;
}

int main()
{
    build();
    lf_scrub();
    return 0;
}
