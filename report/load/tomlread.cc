/*
 * tomlread.cc - the rules file through toml++ (Debian's libtomlplusplus), so
 * that anything TOML allows (100_000, 0x10, literal and multi-line strings,
 * dotted keys, inline comments) means what TOML says, and anything it does
 * not is an error with its line.  Nothing of C++ crosses the door: the
 * values go back to rules.c as text, through a C callback, and an exception
 * (a syntax error, out of memory) becomes the one-line error the CLI prints.
 * Only the root table and [gate] hold rules; values are scalars or arrays of
 * scalars, one callback per element.  Built as a library of its own,
 * libheapsnap-toml.so, which tomlload.c opens when a rules file is read:
 * C++ (libstdc++, toml++) is then no part of any other command's start.
 */
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "tomlread.h"

namespace {

int fail(char *err, size_t errlen, const char *path, int line, const std::string &why)
{
    snprintf(err, errlen, "%s:%d: %s", path, line, why.c_str());
    return -1;
}

/* The text of scalar n, or false when n is not a scalar a rule can take. */
bool scalar_text(const toml::node &n, std::string &out)
{
    char buf[64];
    if (auto s = n.as_string()) {
        out = s->get();
    } else if (auto i = n.as_integer()) {
        snprintf(buf, sizeof(buf), "%lld", (long long)i->get());
        out = buf;
    } else if (auto f = n.as_floating_point()) {
        snprintf(buf, sizeof(buf), "%g", f->get());
        out = buf;
    } else if (auto b = n.as_boolean()) {
        out = b->get() ? "true" : "false";
    } else {
        return false;
    }
    return true;
}

int one_value(const std::string &key, const toml::node &n, const char *path, tomlread_fn fn,
              void *ctx, char *err, size_t errlen)
{
    int line = (int)n.source().begin.line;
    std::string text;
    if (auto arr = n.as_array()) {
        for (const toml::node &el : *arr)
            if (one_value(key, el, path, fn, ctx, err, errlen) < 0)
                return -1;
        return 0;
    }
    if (!scalar_text(n, text))
        return fail(err, errlen, path, line, "bad value for " + key +
                    ": a string, a number, true/false or an array of them");
    if (text.find('\0') != std::string::npos)
        return fail(err, errlen, path, line, "bad value for " + key + ": a NUL character");
    return fn(ctx, key.c_str(), text.c_str(), line, err, errlen);
}

/* A table's keys in the order the file gives them (toml::table is sorted
 * by key), so that a later rule wins as it does on the command line. */
struct entry {
    const toml::key *k;
    const toml::node *v;
};

bool before(const entry &a, const entry &b)
{
    const auto &p = a.k->source().begin, &q = b.k->source().begin;
    return p.line != q.line ? p.line < q.line : p.column < q.column;
}

int table(const toml::table &t, bool root, const char *path, tomlread_fn fn, void *ctx,
          char *err, size_t errlen)
{
    std::vector<entry> es;
    for (auto &&[k, v] : t)
        es.push_back({&k, &v});
    std::sort(es.begin(), es.end(), before);
    for (const entry &e : es) {
        std::string key(e.k->str());
        if (root && key == "gate" && e.v->is_table()) {
            if (table(*e.v->as_table(), false, path, fn, ctx, err, errlen) < 0)
                return -1;
            continue;
        }
        if (e.v->is_table())
            return fail(err, errlen, path, (int)e.k->source().begin.line,
                        key + ": not a rule (only [gate] holds a table of rules)");
        if (one_value(key, *e.v, path, fn, ctx, err, errlen) < 0)
            return -1;
    }
    return 0;
}

} // namespace

extern "C" int tomlread_parse(const char *path, const char *text, size_t len, tomlread_fn fn,
                              void *ctx, char *err, size_t errlen)
{
    try {
        toml::table t = toml::parse(std::string_view(text, len), std::string_view(path));
        return table(t, true, path, fn, ctx, err, errlen);
    } catch (const toml::parse_error &e) {
        std::string why(e.description());
        return fail(err, errlen, path, (int)e.source().begin.line, "not valid TOML: " + why);
    } catch (const std::bad_alloc &) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
}
