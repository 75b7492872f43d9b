/*
 * cxx_vector.cc - a leaked `new std::vector<long>` with 8 elements: the
 * vector object (3 pointers, 24 bytes) is the direct leak, its element
 * buffer (8 x 8 = 64 bytes) is indirect.  A second vector, held by a global,
 * is still reachable with its buffer.
 *
 * Expected:
 *   direct:          24 bytes in 1 blocks at cxx_vector.cc:26
 *   indirect:        64 bytes in 1 blocks (reserve, charged to cxx_vector.cc:27)
 *   record:          direct at cxx_vector.cc:26, 24 bytes + 64 indirect
 *   still reachable: 24 + 16 x 4 = 88 bytes in 2 blocks (+ runtime)
 *   cycle, possibly lost, suppressed: 0
 */
#include <vector>

#include "leakfix.h"

std::vector<int> *g_kept;
static void *volatile sink;

static LF_NOINLINE void build()
{
    g_kept = new std::vector<int>;
    g_kept->reserve(16);
    g_kept->push_back(1);
    auto *v = new std::vector<long>;
    v->reserve(8);
    for (long i = 0; i < 8; i++) v->push_back(i);
    sink = v;
    sink = nullptr;
    v = nullptr;
}

int main()
{
    build();
    lf_scrub();
    return 0;
}
