/*
 * rtcxx.cc - libstdc++'s emergency exception pool (eh_alloc.cc's pool,
 * allocated by its initialiser before main) is the runtime's, not the
 * program's.  The program keeps nothing and throws one exception.
 * Known answer (heapsnap run --leaks; memcheck agrees, docs/leaks.md):
 *   direct, indirect, cycle, possibly lost, still reachable: 0
 *   runtime: at least the pool (72,704 bytes with GCC 12 on x86-64)
 */
#include <stdexcept>
#include <vector>

int main()
{
    std::vector<int> v(100, 1);
    try {
        throw std::runtime_error("once");
    } catch (const std::exception &) {
    }
    return v[0] == 1 ? 0 : 1;
}
