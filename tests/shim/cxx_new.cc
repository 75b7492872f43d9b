// cxx_new.cc - new, new[] and delete reach the hooks through libstdc++
// (tests/shim/test_hooks.sh: make_foos 7 x 48 B, make_array 400 B).
#include <cstdio>
struct Foo { char pad[48]; };
static Foo *keep[7];
__attribute__((noinline)) void make_foos() { for (int i = 0; i < 7; i++) keep[i] = new Foo; }
__attribute__((noinline)) int *make_array() { return new int[100]; }
int main() { make_foos(); int *a = make_array(); int *b = new int(3); delete b; std::printf("%d\n", a[0] * 0 + 1); return 0; }
