#!/usr/bin/env bash
# scripts/audit-deps.sh - lists the external commands that the scripts and tests
# call, each with the Debian package that provides it and what installs that
# package: a level of scripts/install-deps.sh, or a minimal Debian itself
# (debootstrap --variant=minbase: the Essential and Priority: required packages,
# and apt).  A command that neither installs is MISSING: add its package to the
# level of install-deps.sh that needs it, or give the caller a fallback.
#
# It over-approximates: a word of a shell script (comments dropped), the first
# word of a Python string that opens a list, a call's arguments or a value
# (["make", ...], which("heaptrack"), py = "/usr/bin/python3"), or a C string
# that is one word, is a command if it names a program on this machine's PATH
# and is not a shell builtin.  So run it where `scripts/install-deps.sh all` has
# run, and list in IGNORE the words that are only words.  A package counts as
# installed by a level when the level's packages depend on it (apt-cache depends):
# "via" names the one listed.  scripts/check-minimal.sh is the real test: `make
# check` in a minimal root.
#
# Usage: scripts/audit-deps.sh [-v] [FILE...]  (default: scripts/ tests/ Makefile)
#   -v  also list the commands that a minimal Debian provides
# Exit: 0 every command is installed by something, 1 some are MISSING, 2 trouble.
set -u
cd "$(dirname "$0")/.." || exit 2

# Words that name a program here but are never run as one by the tree:
# heapsnap's subcommands (top), and English in messages and shell strings.
IGNORE="top file free less more write wall who w init zip col column strip strings size
        script passwd clear reset last tc ld link join split dir groups sum yes tempfile
        python as opt"
IGNORE=" $(echo $IGNORE) "

verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find scripts tests -type f \( -name '*.sh' -o -name '*.py' -o -name '*.c' \
                         -o -name '*.cc' \) | sort; echo Makefile)
fi

# words FILE: the candidate command words of FILE, one a line.
words() {
  case "$1" in
    *.c|*.cc|*.h) grep -ohE '"[A-Za-z0-9_./+-]+"' "$1" | tr -d '"' ;;
    *.py) python3 - "$1" <<'PY' ;;
import ast, io, sys, tokenize
prev = None
for t in tokenize.generate_tokens(io.open(sys.argv[1]).readline):
    if t.type == tokenize.STRING and prev in ("[", "(", "=") and not t.string.startswith(('"""', "f")):
        words = str(ast.literal_eval(t.string)).split()
        print(words[0] if words else "")
    if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
        prev = t.string
PY
    *) sed -E 's/(^|[[:space:]])#.*$//' "$1" ;;
  esac | grep -oE '^(/usr)?/s?bin/[A-Za-z0-9_.+-]+|[A-Za-z_][A-Za-z0-9_.+-]*'
}

# The packages each level of install-deps.sh installs, with what they depend on:
# closure_LEVEL holds " package:listed-package ...".
eval "$(grep -E '^[a-z]+_pkgs=' scripts/install-deps.sh)" || exit 2
LEVELS="build test bench npm minimal"
npm_pkgs=${npm_pkgs:-nodejs npm}
for l in $LEVELS; do
  c=" "
  for p in $(eval echo "\$${l}_pkgs"); do
    for d in $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
                 --no-replaces --no-enhances "$p" 2>/dev/null | grep -E '^[a-z0-9]' | sort -u); do
      case "$c" in *" $d:"*) ;; *) c="$c$d:$p " ;; esac
    done
  done
  eval "closure_$l=\$c"
done

# level PACKAGE: "LEVEL" or "LEVEL (via LISTED)" for the first level that
# installs PACKAGE, or "".
level() {
  local l c via
  [ -n "$1" ] || return
  for l in $LEVELS; do
    c=" $(eval echo "\$closure_$l") "
    case "$c" in *" $1:"*) via=${c#*" $1:"}; via=${via%% *}
      [ "$via" = "$1" ] && echo "$l" || echo "$l (via $via)"; return ;; esac
  done
}

# package WORD: the Debian package that owns the program WORD runs (usrmerge
# and alternatives resolved; /usr/bin's when PATH finds one of no package first).
package() {
  local p
  for p in "$(type -P "$1")" /usr/bin/"${1##*/}" /bin/"${1##*/}"; do
    [ -e "$p" ] || continue
    for p in "$(readlink -f "$p")" "$p" "${p#/usr}"; do
      dpkg -S "$p" 2>/dev/null | grep -v '^diversion by' | head -1 | cut -d: -f1 | cut -d, -f1 |
        grep . && return
    done
  done
}

declare -A used
for f in "${files[@]}"; do
  while read -r w; do used[$w]="${used[$w]:-} $f"; done < <(words "$f" | sort -u)
done

missing=0
for w in $(printf '%s\n' "${!used[@]}" | sort); do
  case "$IGNORE" in *" $w "*) continue ;; esac
  [ "$(type -t "$w")" = file ] || continue
  pkg=$(package "$w"); lv=$(level "$pkg")
  prio=$(dpkg-query -W -f='${Priority}/${Essential}' "$pkg" 2>/dev/null)
  if [ "${prio%/*}" = required ] || [ "$pkg" = apt ]; then
    [ "$verbose" = 1 ] || continue; by="minimal Debian"
  elif [ -n "$lv" ]; then by="install-deps.sh $lv"
  elif [ -z "$pkg" ]; then by="MISSING (no package)"; missing=1
  else by="MISSING (priority ${prio%/*})"; missing=1; fi
  set -- ${used[$w]}
  printf '%-14s %-26s %-36s %s\n' "$w" "${pkg:-?}" "$by" "$*" | cut -c1-150
done
exit $missing
