# test_readme.sh - docs/options.md's option list is the shim's option table,
# as `heapsnap run --help` prints it; the README shows the two set-up commands,
# stays a guide (at most 300 lines) and links only pages that exist;
# every docs page opens with its title and a paragraph saying what it owns,
# and every relative link of the README, CONTRIBUTING.md and the docs pages
# names a file that is there (pages split by what they own, never by a line
# count; checked on a tree of known faults too); every docs page the
# sources cite exists.
# When the list differs, scripts/readme-options.sh rewrites docs/options.md's.
"$HEAPSNAP" run --help 2>&1 | sed -n '/^Environment read by the shim/,$p' | tail -n +2 >"$T/help.txt"
sed -n '/<!-- options:begin/,/<!-- options:end/p' docs/options.md | sed '1,2d;$d' | sed '$d' >"$T/readme.txt"
t_golden readme_options_match_help "$T/help.txt" "$T/readme.txt"
if grep -q '^make demo' README.md && grep -q '^make check' README.md; then t_pass readme_setup_commands
else t_fail readme_setup_commands "README lacks make demo / make check"; fi
n=$(wc -l <README.md)
if [ "$n" -le 300 ]; then t_pass readme_is_a_guide
else t_fail readme_is_a_guide "README.md has $n lines (at most 300)"; fi
missing=
for f in $(grep -o '](docs/[a-z-]*\.md)' README.md | sed 's/^](//; s/)$//' | sort -u); do
    [ -f "$f" ] || missing="$missing $f"
done
if [ -z "$missing" ] && grep -q '](docs/' README.md; then t_pass readme_map_links_exist
else t_fail readme_map_links_exist "README links to missing pages:${missing:- (no docs/ links at all)}"; fi
# docs_faults DIR: "opening: PAGE" for each docs page of DIR whose first
# lines are not "# Title", a blank line and a line of prose (not a list,
# table, heading, fence or comment), then "link: PAGE -> TARGET" for each
# relative link of README.md, CONTRIBUTING.md and docs/*.md to a path that
# is not there (an anchor aside; URLs are not checked).
docs_faults() (
  cd "$1" || exit 2
  for f in docs/*.md; do
    awk 'NR == 1 && !/^# [^ ]/ { bad = 1 }
         NR == 2 && !/^$/ { bad = 1 }
         NR == 3 { if (/^$/ || /^[-#*|>`<]/ || /^[0-9]+\. /) bad = 1; exit }
         END { exit (bad || NR < 3) }' "$f" || echo "opening: $f"
  done
  for f in README.md CONTRIBUTING.md docs/*.md; do
    [ -f "$f" ] || continue
    grep -oE '\]\([^) ]+\)' "$f" | sed -E 's/^\]\(//; s/\)$//; s/#.*//' | sort -u |
    while read -r l; do
      case $l in '' | *://* | mailto:*) continue ;; esac
      [ -e "$(dirname "$f")/$l" ] || echo "link: $f -> $l"
    done
  done
)
out=$(docs_faults "$PWD")
if [ -z "$out" ]; then t_pass docs_pages_say_what_they_own_and_links_resolve
else t_fail docs_pages_say_what_they_own_and_links_resolve "$(echo "$out" | head -5 | tr '\n' ' ')"; fi
# The check on a tree of known faults: a page opening with a list, a link
# to a page that is not there from the README and from a page; a good
# page, an anchor and a URL pass.
mkdir -p "$T/dw/docs"
printf '# Good\n\nWhat this page owns.\n\n[bad](bad.md#top), [web](https://example.org/x.md)\n' >"$T/dw/docs/good.md"
printf '# Bad\n\n* a list first\n\n[gone](gone.md), [good](good.md)\n' >"$T/dw/docs/bad.md"
printf '# R\n\n[a](docs/good.md) [b](docs/missing.md)\n' >"$T/dw/README.md"
want='opening: docs/bad.md
link: README.md -> docs/missing.md
link: docs/bad.md -> gone.md'
out=$(docs_faults "$T/dw")
if [ "$out" = "$want" ]; then t_pass docs_check_names_bad_openings_and_links
else t_fail docs_check_names_bad_openings_and_links "$(echo "$out" | tr '\n' ' ')"; fi
# Every page the sources, scripts and tests cite exists (they once cited a
# DESIGN.md the tree did not have).
cited=$(grep -rhoE --exclude=test_readme.sh '(docs/[a-z-]+\.md|\bDESIGN\.md)' shim report scripts $(find tests -mindepth 2 -name '*.sh') $(find tests -name 'test_*.c') tests/unit.h Makefile 2>/dev/null | sort -u)
missing=
for f in $cited; do case $f in docs/*) [ -f "$f" ] || missing="$missing $f";; *) missing="$missing $f";; esac; done
if [ -z "$missing" ]; then t_pass sources_cite_existing_docs
else t_fail sources_cite_existing_docs "cited but absent:$missing"; fi
