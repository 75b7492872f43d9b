#!/usr/bin/env bash
# scripts/sizes.sh - the sizes of the sources, as a report and never a
# gate: the largest files, the longest opening comments, and the files
# whose exported functions carry more than one prefix (a door of two
# nouns: "peak_" and "temps_" in one file).  A file is split or joined by
# what it owns, never to get under a number, so this names no figure to
# aim at; it says where to look.  `make check` prints it first.
# Usage: scripts/sizes.sh [N]   (the N largest of each, default 5)
# Run from the repository's root; the sources are what git tracks in shim/
# and report/ (C, C++, assembly, the HTML page's script and style).
set -u
n=${1:-5}
case "$n" in '' | *[!0-9]*) echo "usage: scripts/sizes.sh [N]" >&2; exit 2 ;; esac
srcs=$(git ls-files 'shim/*.c' 'shim/*.h' 'shim/*.cc' 'report/*.c' 'report/*.h' \
       'report/*.cc' 'report/*.S' 'report/*.js' 'report/*.css') || exit 2
[ -n "$srcs" ] || { echo "sizes: no sources (run from the repository's root)" >&2; exit 2; }

# "LINES PATH" for each file, and "OPENING PATH": the opening comment's
# length (a /* */ block, or a run of // lines; 0 when the file opens with code).
files=$(for f in $srcs; do echo "$(wc -l <"$f") $f"; done | sort -k1,1nr -k2)
openings=$(for f in $srcs; do
  awk -v f="$f" 'NR == 1 && /^\/\// { slashes = 1 }
    slashes && !/^\/\// { print NR - 1, f; exit }
    NR == 1 && !/^\/\*/ && !slashes { print 0, f; exit }
    !slashes && /\*\// { print NR, f; exit }' "$f"
done | sort -k1,1nr -k2)
top() { echo "$1" | head -n "$n" | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " } END { print "" }'; }

# "PATH: a_(N) b_(M)" for each C file that defines functions outside it
# (not static) under two prefixes or more, two of each at least; cmd_ (a
# command's entry) and a leading "_" are no noun.
nouns=$(for f in $srcs; do
  case "$f" in *.c) ;; *) continue ;; esac
  awk -v f="$f" '/^[a-z_].*[ *][a-z][a-z0-9]*_[a-z0-9_]*\(/ && !/;[ \t]*$/ &&
      !/^(return|else|if|for|while|static|typedef)/ {
    s = $0; sub(/\(.*/, "", s); k = split(s, w, /[ *]+/); split(w[k], p, "_")
    if (p[1] != "" && p[1] != "cmd") c[p[1]]++ }
    END { m = 0; out = ""; for (x in c) if (c[x] >= 2) { m++; out = out " " x "_(" c[x] ")" }
          if (m >= 2) print f ":" out }' "$f"
done)

echo "sizes (a report, not a gate: a file is split or joined by what it owns):"
echo "    largest files (lines): $(top "$files")"
echo "    longest openings (lines): $(top "$openings")"
if [ -n "$nouns" ]; then
  echo "    doors of more than one prefix: $(echo "$nouns" | wc -l)"
  echo "$nouns" | sed 's/^/        /'
else echo "    doors of more than one prefix: none"; fi
