// link: report/symbols/demangle.c
/*
 * test_demangle.c - demangle_name on names rustc 1.63 wrote into
 * tests/fixtures/rs_leaks.rs's binary in both schemes (legacy: no hash,
 * $LT$/$GT$/$u20$ decoded; v0: no disambiguators, generic arguments kept),
 * on a C++ name (libstdc++'s demangler), and on names it leaves alone.
 */
#include <stdlib.h>
#include <string.h>

#include "demangle.h"
#include "unit.h"

/* The demangled name, or "=" when demangle_name left it alone. */
static const char *dm(const char *name)
{
    static char buf[512];
    char *d = demangle_name(name);
    if (!d)
        return "=";
    strncpy(buf, d, sizeof(buf) - 1);
    free(d);
    return buf;
}

TEST_BEGIN(demangle_rust_legacy_without_hash)
    expect_str_eq(dm("_ZN8rs_leaks10make_cycle17hca73a42ab117659aE"), "rs_leaks::make_cycle");
    expect_str_eq(dm("_ZN63_$LT$alloc..alloc..Global$u20$as$u20$core..alloc..Allocator$GT$"
                     "8allocate17hddd08be0707a0227E"),
                  "<alloc::alloc::Global as core::alloc::Allocator>::allocate");
TEST_END

TEST_BEGIN(demangle_rust_v0)
    expect_str_eq(dm("_RNvCslre9eUYVERC_8rs_leaks10make_cycle"), "rs_leaks::make_cycle");
    expect_str_eq(dm("_RNvMs5_NtCsihNoVIYWwLU_5alloc2rcINtB5_2RcNtCslre9eUYVERC_8rs_leaks4NodeE"
                     "3newBF_"),
                  "<alloc::rc::Rc<rs_leaks::Node>>::new");
    expect_str_eq(dm("_RNvMs0_NtCsihNoVIYWwLU_5alloc7raw_vecINtB5_6RawVecmE14grow_amortized"
                     "Cslre9eUYVERC_8rs_leaks"),
                  "<alloc::raw_vec::RawVec<u32>>::grow_amortized");
TEST_END

TEST_BEGIN(demangle_cxx_and_plain)
    /* C++ by libstdc++, when it can be opened (it is, where the tests build) */
    expect_str_eq(dm("_ZNSt6vectorIiSaIiEE9push_backERKi"),
                  "std::vector<int, std::allocator<int> >::push_back(int const&)");
    /* a C++ name: rust_demangle refuses it at its last segment */
    expect_str_eq(dm("_ZN2ns4funcEv"), "ns::func()");
    expect_str_eq(dm("main"), "=");
    expect_str_eq(dm("_R"), "=");
    expect_str_eq(dm("_Zgarbage"), "=");
    expect_true(demangle_name(NULL) == NULL, "NULL is left alone");
TEST_END

int main(void)
{
    demangle_rust_legacy_without_hash();
    demangle_rust_v0();
    demangle_cxx_and_plain();
    return 0;
}
