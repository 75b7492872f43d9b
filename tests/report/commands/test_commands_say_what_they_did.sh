# tests/report/commands/test_commands_say_what_they_did.sh - the commands that write
# or remove files name what they did on stderr, as `run` names its snapshots: `html`
# the page it wrote (not for -o -, whose reader has it), `clean` how many
# temporaries it removed in each directory, or that there were none.
. tests/fixtures/lib.sh
FX_TEST=said fx_ready sites || return 0
fx_profile "$T/s.%p.hsnap" "$FX/sites"
set -- "$T"/s.*.hsnap
if "$HEAPSNAP" html -o "$T/r.html" "$1" >"$T/h.out" 2>"$T/h.err" &&
   grep -Eqx "heapsnap: wrote $T/r.html \([0-9.]+ KiB; open it in a browser\)" "$T/h.err" && [ ! -s "$T/h.out" ]; then
  t_pass html_names_the_page_it_wrote
else t_fail html_names_the_page_it_wrote "stderr: $(cat "$T/h.err")"; fi
if "$HEAPSNAP" html -o - "$1" >"$T/h2.out" 2>"$T/h2.err" && [ ! -s "$T/h2.err" ] && grep -q '<html' "$T/h2.out"; then
  t_pass html_to_stdout_says_nothing
else t_fail html_to_stdout_says_nothing "stderr: $(cat "$T/h2.err")"; fi

mkdir -p "$T/c"
printf 'abcd' >"$T/c/.x.hsnap.tmp.a1b2c3"
printf 'ef' >"$T/c/.y.hsnap.tmp.d4e5f6"
touch -d '2 hours ago' "$T/c/.x.hsnap.tmp.a1b2c3" "$T/c/.y.hsnap.tmp.d4e5f6"
"$HEAPSNAP" clean --dry-run "$T/c" >/dev/null 2>"$T/c0.err"
"$HEAPSNAP" clean "$T/c" >"$T/c1.out" 2>"$T/c1.err"; rc=$?
"$HEAPSNAP" clean "$T/c" >"$T/c2.out" 2>"$T/c2.err"; rc2=$?
if [ $rc = 0 ] && [ $rc2 = 0 ] &&
   grep -qx "heapsnap: clean: $T/c: found 2 temporary files (6 bytes); --dry-run removed nothing" "$T/c0.err" &&
   grep -qx "heapsnap: clean: $T/c: removed 2 temporary files (6 bytes)" "$T/c1.err" &&
   [ "$(grep -c '^removed ' "$T/c1.out")" = 2 ] && [ ! -s "$T/c2.out" ] &&
   grep -qx "heapsnap: clean: $T/c: no temporary file older than 60 s to remove" "$T/c2.err"; then
  t_pass clean_says_what_it_removed
else t_fail clean_says_what_it_removed "exit $rc/$rc2: $(cat "$T/c0.err" "$T/c1.err" "$T/c2.err" | tr '\n' '|')"; fi
