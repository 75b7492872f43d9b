#!/usr/bin/env bash
# scripts/sizes.sh - the sizes of the sources, as a report and never a
# gate: the largest files, the longest opening comments, and how many are
# past what the house rules aim at (CONTRIBUTING.md: files of 150-700
# lines, an opening of about 15 lines).  A file is split when it holds two
# nouns, never to get under a number; this says where to look.  `make
# check` prints it first.
# Usage: scripts/sizes.sh [N]   (the N largest of each, default 5)
# Run from the repository's root; the sources are what git tracks in shim/
# and report/ (C, C++, assembly, the HTML page's script and style).
set -u
n=${1:-5}
case "$n" in '' | *[!0-9]*) echo "usage: scripts/sizes.sh [N]" >&2; exit 2 ;; esac
FILE_AIM=700
OPENING_AIM=15
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
over() { echo "$1" | awk -v aim="$2" '$1 > aim' | wc -l; }

echo "sizes (a report, not a gate; the aim is files of 150-$FILE_AIM lines, openings of about $OPENING_AIM):"
echo "    largest files (lines): $(top "$files")"
echo "    longest openings (lines): $(top "$openings")"
echo "    $(echo "$files" | wc -l) files: $(over "$files" $FILE_AIM) over $FILE_AIM lines," \
     "$(over "$openings" $OPENING_AIM) openings over $OPENING_AIM lines"
