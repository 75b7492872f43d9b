#!/usr/bin/env bash
# scripts/subjects.sh - commit subjects a reader can scan: at most 72
# characters (CONTRIBUTING.md, "The house rules"), the figures and reasons
# in the body.  Checks every commit after BASE, the commit this check came
# with, so that the older history (half of it over 72) is left as it is
# rather than rewritten; `make check` runs it.  --message FILE checks one
# commit message, as the commit-msg hook (scripts/commit-msg) does.
# Usage: scripts/subjects.sh [BASE]       the commits of BASE..HEAD
#        scripts/subjects.sh --message FILE
# Exits 0 when every subject fits, 1 naming those that do not, 2 when it
# cannot tell (not a git checkout, BASE not in this clone's history: a
# shallow clone).
set -u
MAX=72
BASE_DEFAULT=68a5cfb759b11fa21ba3c7cd3928a20e8b4a3477
export LC_ALL=C.UTF-8 # ${#s} counts characters, not bytes

# too_long SUBJECT: whether it is over MAX characters.
too_long() { [ "${#1}" -gt "$MAX" ]; }

if [ "${1:-}" = --message ]; then
  [ -r "${2:-}" ] || { echo "subjects: cannot read the message file '${2:-}'" >&2; exit 2; }
  # The subject is the first line that is not a comment (git strips those).
  subject=$(grep -v '^#' "$2" | sed -n '/[^[:space:]]/{p;q}')
  if too_long "$subject"; then
    echo "commit subject of ${#subject} characters, at most $MAX: say what changed" \
         "and put the figures and reasons in the body:" >&2
    echo "  $subject" >&2
    exit 1
  fi
  exit 0
fi

base=${1:-$BASE_DEFAULT}
git rev-parse --git-dir >/dev/null 2>&1 || { echo "subjects: not a git checkout" >&2; exit 2; }
if ! git cat-file -e "$base^{commit}" 2>/dev/null || ! git merge-base --is-ancestor "$base" HEAD; then
  echo "subjects: $base is not in this clone's history (a shallow clone?): cannot tell" >&2
  exit 2
fi
bad=0 n=0
while IFS= read -r line; do
  n=$((n + 1))
  subject=${line#* }
  if too_long "$subject"; then
    bad=$((bad + 1))
    echo "${line%% *}: ${#subject} characters: $subject"
  fi
done < <(git log --format='%h %s' "$base..HEAD")
echo "subjects: $n commits after ${base:0:12}, $bad over $MAX characters"
[ "$bad" -eq 0 ]
