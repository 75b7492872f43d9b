/*
 * demangle.h - a linkage name as people read it: Rust's (both manglings)
 * and C++'s, each by its language's maintained demangler.
 */
#ifndef REPORT_DEMANGLE_H
#define REPORT_DEMANGLE_H

/* The demangled name of a Rust or C++ linkage name, malloc'd; NULL when
 * name is neither, or its demangler is absent or refuses it.  Rust's
 * names read as rustfilt and memcheck print them: a legacy name without
 * its "::h<16 hex>" hash and with its $LT$/$GT$/$u20$ escapes decoded,
 * a v0 name ("_R...") without the crates' disambiguators. */
char *demangle_name(const char *name);

#endif
