// ucheck_cxx.cc - built WITHOUT frame pointers for test_unwind_check.sh:
// C++ exceptions thrown and caught across allocating frames, under
// HEAPSNAP_UNWIND_CHECK=1.  Objects whose destructors allocate are
// unwound by each throw (allocations during the unwinding itself), the
// handlers allocate at the depth the throw left, and the other path
// reaches the same depth right after.  Prints "ok cxx".
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#define NOINLINE __attribute__((noinline))

static std::vector<std::string *> cx_keep;
static volatile unsigned cx_sink;

static void cx_put(std::string *s)
{
    if (cx_keep.size() > 256) {
        delete cx_keep.front();
        cx_keep.erase(cx_keep.begin());
    }
    cx_keep.push_back(s);
}

struct cx_guard {
    int d;
    ~cx_guard() { cx_put(new std::string(40 + d, 'g')); } // allocates while unwinding
};

NOINLINE static void cx_down(int d, int throw_at)
{
    cx_guard g{d};
    cx_put(new std::string(32 + d, 'a'));
    if (d == throw_at)
        throw std::runtime_error(std::string(48, 'e'));
    if (d > 0)
        cx_down(d - 1, throw_at);
    cx_sink += d;
}

NOINLINE static void cx_other(int d)
{
    if (d > 0) {
        cx_other(d - 1);
        cx_sink ^= d;
        return;
    }
    cx_put(new std::string(64, 'o'));
}

NOINLINE static void cx_catch_mid(int d, int throw_at)
{
    try {
        cx_down(d, throw_at);
    } catch (const std::runtime_error &e) {
        cx_put(new std::string(e.what())); // in the handler, at the depth the throw left
        cx_other(d);
    }
    cx_down(d, -1); // the frames the throw unwound, but the outermost, from another call
}

int main()
{
    for (int i = 0; i < 400; i++) {
        int d = 3 + i % 9;
        cx_catch_mid(d, i % (d + 1));
        cx_other(d);
        try {
            cx_down(d + 2, 0);
        } catch (const std::exception &e) {
            cx_put(new std::string(e.what()));
        }
    }
    std::printf("ok cxx\n");
    return 0;
}
