# tests/report/test_unix.sh - heapsnap behaves as a Unix tool (issue 19): --version,
# `help COMMAND`, and `make install` puts man pages (made from the --help
# texts) and a bash completion script where man and bash-completion look;
# `make uninstall` takes them back.
# tier: full (make install into a scratch prefix and man pages for every command)
"$HEAPSNAP" --version >"$T/v.out" 2>&1; rc=$?
[ $rc = 0 ] && grep -qE '^heapsnap [0-9]+\.[0-9]+\.[0-9]+ ' "$T/v.out" && t_pass version_prints || t_fail version_prints "exit $rc: $(cat "$T/v.out")"
"$HEAPSNAP" help gate >"$T/hg.out" 2>&1; rc=$?
"$HEAPSNAP" gate --help >"$T/gh.out" 2>&1
[ $rc = 0 ] && [ -s "$T/hg.out" ] && cmp -s "$T/hg.out" "$T/gh.out" && t_pass help_command_is_command_help \
  || t_fail help_command_is_command_help "exit $rc: $(head -c 200 "$T/hg.out")"
"$HEAPSNAP" help nosuch >/dev/null 2>"$T/hn.err"; rc=$?
[ $rc = 2 ] && grep -q "unknown command 'nosuch'" "$T/hn.err" && t_pass help_unknown_command_exit_2 || t_fail help_unknown_command_exit_2 "exit $rc: $(cat "$T/hn.err")"

# A mistyped command: the nearest one by edit distance, when one is near.
"$HEAPSNAP" tpo >/dev/null 2>"$T/tpo.err"; rc=$?
"$HEAPSNAP" timline >/dev/null 2>"$T/timline.err"; rc2=$?
"$HEAPSNAP" frobnicate >/dev/null 2>"$T/frob.err"; rc3=$?
if [ $rc = 2 ] && [ $rc2 = 2 ] && [ $rc3 = 2 ] &&
   grep -qx "heapsnap: unknown command 'tpo': did you mean 'top'? (see heapsnap --help)" "$T/tpo.err" &&
   grep -q "did you mean 'timeline'?" "$T/timline.err" && ! grep -q 'did you mean' "$T/frob.err"; then
  t_pass unknown_command_did_you_mean
else t_fail unknown_command_did_you_mean "exit $rc/$rc2/$rc3: $(cat "$T/tpo.err" "$T/timline.err" "$T/frob.err" | tr '\n' '|')"; fi

# A mistyped option: the nearest long option of that command, when one is near
# (getopt_long's own prefixes, "--lea" for --leaks, still work).
"$HEAPSNAP" top --peek x >/dev/null 2>"$T/peek.err"; rc=$?
"$HEAPSNAP" diff --kye function a b >/dev/null 2>"$T/kye.err"; rc2=$?
"$HEAPSNAP" leaks --frobnicate x >/dev/null 2>"$T/ofrob.err"; rc3=$?
"$HEAPSNAP" run --leeks=1 -- true >/dev/null 2>"$T/leeks.err"; rc4=$?
if [ $rc = 2 ] && [ $rc2 = 2 ] && [ $rc3 = 2 ] && [ $rc4 = 2 ] &&
   grep -qx "heapsnap: top: unknown option '--peek': did you mean '--peak'? (see heapsnap top --help)" "$T/peek.err" &&
   grep -q "diff: unknown option '--kye': did you mean '--key'?" "$T/kye.err" &&
   grep -q "run: unknown option '--leeks=1': did you mean '--leaks'?" "$T/leeks.err" &&
   ! grep -q 'did you mean' "$T/ofrob.err"; then
  t_pass unknown_option_did_you_mean
else t_fail unknown_option_did_you_mean "exit $rc/$rc2/$rc3/$rc4: $(cat "$T/peek.err" "$T/kye.err" "$T/ofrob.err" "$T/leeks.err" | tr '\n' '|')"; fi

# Every command: -h is --help (exit 0, the same text, on stdout), and no help
# text shows a printf escape ("%%") or an unfilled conversion (but
# HEAPSNAP_OUTPUT's own "%%", which run --help documents).
bad_h="" bad_pct=""
for c in $("$HEAPSNAP" --help | sed -n 's/^  \([a-z]*\)  .*/\1/p'); do
  "$HEAPSNAP" "$c" --help >"$T/long.out" 2>&1
  if ! "$HEAPSNAP" "$c" -h >"$T/short.out" 2>"$T/short.err" || ! cmp -s "$T/short.out" "$T/long.out" ||
     [ -s "$T/short.err" ] || ! head -1 "$T/short.out" | grep -q "^usage: heapsnap $c "; then
    bad_h="$bad_h $c"
  fi
  grep -v "%% a '%'" "$T/long.out" | grep -qE '%%|%[-0-9.]*[sduzl]' && bad_pct="$bad_pct $c"
done
[ -z "$bad_h" ] && t_pass short_h_is_help_for_every_command || t_fail short_h_is_help_for_every_command "not for:$bad_h"
[ -z "$bad_pct" ] && t_pass help_texts_have_no_printf_escapes || t_fail help_texts_have_no_printf_escapes "in:$bad_pct"

# --- make install: man pages for heapsnap and each command, and the completion ---
if ! command -v help2man >/dev/null; then
  t_fail install_man_pages "help2man is not installed (scripts/install-deps.sh build)"
else
  make --no-print-directory install DESTDIR="$T/inst" PREFIX=/usr BUILD="$BUILD" >"$T/inst.log" 2>&1 || t_fail install_runs "$(tail -c 300 "$T/inst.log")"
  m=$T/inst/usr/share/man/man1
  want="heapsnap.1 $("$HEAPSNAP" --help | sed -n 's/^  \([a-z]*\)  .*/heapsnap-\1.1/p' | tr '\n' ' ')"
  missing=""; for f in $want; do [ -s "$m/$f" ] || missing="$missing $f"; done
  if [ -n "$missing" ] || [ "$(echo $want | wc -w)" -lt 9 ]; then
    t_fail install_man_pages "missing:$missing (want $want; made: $(ls "$m" 2>&1 | tr '\n' ' ' | head -c 300))"
  elif ! grep -q -- '\\-\\-max\\-leaked\\-bytes' "$m/heapsnap-gate.1"; then
    t_fail install_man_pages "heapsnap-gate.1 does not describe --max-leaked-bytes"
  else t_pass install_man_pages; fi
  # man renders them (man-db is not in a minimal Debian: install-deps.sh test)
  if ! command -v man >/dev/null; then
    t_fail man_pages_render "man is not installed (scripts/install-deps.sh test installs man-db)"
  elif man -l "$m/heapsnap-gate.1" 2>"$T/man.err" | grep -q -- '--max-leaked-bytes'; then
    t_pass man_pages_render
  else t_fail man_pages_render "man -l heapsnap-gate.1: $(head -c 200 "$T/man.err")"; fi
  # every page has a SYNOPSIS: its command's usage line
  nosyn=""
  for f in $want; do
    c=${f#heapsnap}; c=${c#-}; c=${c%.1}
    u=$("$HEAPSNAP" $c --help | sed -n 's/^usage: heapsnap //p' | sed 's/   (.*//; s/-/\\-/g')
    awk '/^\.SH /{s = ($2 == "SYNOPSIS")} s' "$m/$f" | tr '\n' ' ' | grep -qF -- ".B heapsnap${c:+ $c} ${u#"$c "}" \
      || nosyn="$nosyn $f"
  done
  [ -z "$nosyn" ] && t_pass man_pages_have_synopsis || t_fail man_pages_have_synopsis "no SYNOPSIS (or not the usage line) in:$nosyn"
  c=$T/inst/usr/share/bash-completion/completions/heapsnap
  if [ -s "$c" ] && got=$(bash -c '. "$1"; COMP_WORDS=("$2" gate --max-l); COMP_CWORD=2; _heapsnap "$2"; echo "${COMPREPLY[*]}"' _ "$c" "$HEAPSNAP") \
     && [ "$got" = "--max-leaked-blocks --max-leaked-bytes" ] \
     && cmds=$(bash -c '. "$1"; COMP_WORDS=("$2" tr); COMP_CWORD=1; _heapsnap "$2"; echo "${COMPREPLY[*]}"' _ "$c" "$HEAPSNAP") \
     && [ "$cmds" = trend ]
  then t_pass install_bash_completion; else t_fail install_bash_completion "got '${got:-}' '${cmds:-}'"; fi
  # the values of --key, --format and the like, as the program lists them
  comp() { bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _heapsnap "$1"; echo "${COMPREPLY[*]}"' _ "$c" "$HEAPSNAP" "$@"; }
  bad=""
  check() { local want=$1 got; shift; got=$(comp "$@" 2>&1); [ "$got" = "$want" ] || bad="$bad [$* -> '$got', want '$want']"; }
  check "lineno filename function module traceback type thread" top --key ""
  check "filename function" diff -k f
  check "text json" top --format ""
  check "text json junit sarif github" gate --format ""
  check "pprof folded speedscope massif tracemalloc tracemalloc-binary" export --format ""
  check "tracemalloc-binary" export --format tracemalloc-
  check "all malloc mmap" export --kind ""
  check "direct,indirect" gate --fail-on direct,ind
  check "leaked-refs" gate --python-fail-on leaked
  check "speedscope" export -f sp
  check "inuse_space inuse_objects" export --value inuse
  check "direct,cycle" leaks --kinds direct,c
  check "auto fp libunwind" run --unwind ""
  check "function" trend --key = fu
  [ -s "$c" ] && [ -z "$bad" ] && t_pass bash_completion_option_values || t_fail bash_completion_option_values "$bad"
  # an option whose argument runs into its description reads as one word soup:
  # "--suppressions FILE LeakSanitizer leak: lines ..." on one line
  if man -l "$m/heapsnap-leaks.1" 2>/dev/null | col -b | grep -qx '  *--suppressions FILE' &&
     ! man -l "$m/heapsnap-top.1" 2>/dev/null | col -b | grep -q -- '--alloc-fn PAT allocation'; then
    t_pass man_option_apart_from_description
  else t_fail man_option_apart_from_description "$(man -l "$m/heapsnap-leaks.1" 2>/dev/null | col -b | grep -- '--suppressions' | head -2)"; fi
  # no option's description starts with another option ("--all-frames   --include/--exclude
  # look at ..." read as two options run together), on any page
  runon=""
  for f in $want; do
    runon="$runon$(man -l "$m/$f" 2>/dev/null | col -b | grep -E '^ +(-[a-zA-Z], )?--[a-z][-a-z]*( [A-Z][A-Z_:|]*)? +-' | sed "s|^ *|$f: |" | head -2)"
  done
  [ -z "$runon" ] && t_pass man_no_option_runs_into_another || t_fail man_no_option_runs_into_another "$runon"
  # make uninstall takes back every file install put there
  make --no-print-directory uninstall DESTDIR="$T/inst" PREFIX=/usr BUILD="$BUILD" >"$T/uninst.log" 2>&1
  left=$(find "$T/inst" -type f | head -5)
  if [ -z "$left" ] && [ ! -e "$T/inst/usr/lib/heapsnap" ] && [ -d "$T/inst/usr/share/man/man1" ]; then
    t_pass uninstall_removes_what_install_put
  else t_fail uninstall_removes_what_install_put "left: $left $(tail -c 200 "$T/uninst.log")"; fi
fi
