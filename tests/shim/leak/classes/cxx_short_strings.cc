/*
 * cxx_short_strings.cc - C++ objects holding short std::strings: each
 * string's pointer aims at its own inline buffer, so every such object
 * points into itself.  That makes no cycle (a cycle has two blocks or
 * more): a leaked `new Person` is a direct leak, and the element buffer of
 * a leaked `new std::vector<Person>` is indirect, as memcheck and
 * LeakSanitizer say.  One person also holds a long bio, whose heap buffer
 * (61 bytes) is indirect.
 *
 * Expected:
 *   direct:   64 bytes in 1 blocks at cxx_short_strings.cc:37 (the person)
 *             24 bytes in 1 blocks at cxx_short_strings.cc:40 (the vector)
 *   indirect: 61 bytes in 1 blocks (the bio, cxx_short_strings.cc:38)
 *             256 bytes in 1 blocks (4 persons, cxx_short_strings.cc:41)
 *   record:   direct 64 + 61 indirect; direct 24 + 256 indirect
 *   cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <string>
#include <vector>

#include "leakfix.h"

struct Person {
    std::string name; /* 32 bytes each, up to 15 characters inline */
    std::string bio;
};
static void *volatile sink;

static LF_NOINLINE void fill(Person *p, const char *name, size_t biolen)
{
    p->name.assign(name);
    p->bio.assign(biolen, 'b');
}

static LF_NOINLINE void build()
{
    auto *p = new Person;
    p->bio.reserve(60);
    fill(p, "ann", 60);
    auto *v = new std::vector<Person>;
    v->reserve(4);
    for (const char *n : {"bob", "cy", "dee", "eve"}) {
        v->emplace_back();
        fill(&v->back(), n, 9);
    }
    sink = p;
    sink = v;
    sink = nullptr;
    p = nullptr;
    v = nullptr;
}

int main()
{
    build();
    lf_scrub();
    return 0;
}
