# tests/report/test_errors.sh - every kind of trouble gives exit 2, nothing on
# stdout, and exactly one line on stderr starting "heapsnap: ".
# Inputs: small valid snapshots from tests/fuzz/mkcorpus.c, and damaged copies.

# t_trouble NAME WANT_SUBSTRING CMD...
t_trouble() { t_trouble_rc 2 "$@"; }
# t_trouble_rc STATUS NAME WANT CMD...: the same with another exit status
t_trouble_rc() {
  local status=$1 name=$2 want=$3; shift 3
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  local lines; lines=$(wc -l <"$T/err")
  if [ "$rc" -ne "$status" ]; then t_fail "$name" "exit $rc, want $status: $(head -c 200 "$T/err")"
  elif [ -s "$T/out" ]; then t_fail "$name" "stdout not empty: $(head -c 200 "$T/out")"
  elif [ "$lines" -ne 1 ]; then t_fail "$name" "$lines lines on stderr: $(head -c 300 "$T/err" | tr '\n' '|')"
  elif ! grep -q '^heapsnap: ' "$T/err"; then t_fail "$name" "no 'heapsnap: ' prefix: $(cat "$T/err")"
  elif ! grep -qF -- "$want" "$T/err"; then t_fail "$name" "stderr lacks '$want': $(cat "$T/err")"
  else t_pass "$name"; fi
}

if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail mkcorpus_builds "$(head -c 300 "$T/cc.err")"
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
good=$T/c/blocks.hsnap
: >"$T/empty.hsnap"
head -c 100 "$good" >"$T/trunc.hsnap"
size=$(stat -c %s "$good")
head -c $((size - 16)) "$good" >"$T/noend.hsnap"
cp "$good" "$T/flip.hsnap"
printf '\x55' | dd of="$T/flip.hsnap" bs=1 seek=$((size - 24)) conv=notrunc 2>/dev/null
cp "$good" "$T/v8.hsnap"
printf '\x08' | dd of="$T/v8.hsnap" bs=1 seek=8 conv=notrunc 2>/dev/null

t_check valid_snapshot_loads "$HEAPSNAP" info "$good"
t_trouble missing_file "/nonexistent/x.hsnap: No such file or directory" "$HEAPSNAP" top /nonexistent/x.hsnap
t_trouble empty_file "empty.hsnap: empty file" "$HEAPSNAP" top "$T/empty.hsnap"
t_trouble directory "is a directory" "$HEAPSNAP" info "$T"
t_trouble foreign_file "/bin/true: not a heapsnap snapshot (bad magic)" "$HEAPSNAP" top /bin/true
t_trouble truncated_file "trunc.hsnap: truncated" "$HEAPSNAP" top "$T/trunc.hsnap"
t_trouble truncated_before_end "noend.hsnap: truncated" "$HEAPSNAP" info "$T/noend.hsnap"
t_trouble flipped_byte "checksum mismatch" "$HEAPSNAP" top "$T/flip.hsnap"
t_trouble future_version "unsupported format version 8 (this heapsnap reads 7)" "$HEAPSNAP" info "$T/v8.hsnap"
t_trouble diff_damaged_new "flip.hsnap: section" "$HEAPSNAP" diff "$good" "$T/flip.hsnap"
t_trouble diff_one_operand "diff: want two snapshots" "$HEAPSNAP" diff "$good"
t_trouble top_no_operand "top: no snapshot given" "$HEAPSNAP" top
t_trouble unknown_option "top: unknown option '--bogus'" "$HEAPSNAP" top --bogus "$good"
t_trouble unknown_short_option "unknown option '-q'" "$HEAPSNAP" info -q "$good"
t_trouble option_needs_value "option '--key' needs a value" "$HEAPSNAP" top "$good" --key
t_trouble bad_key "bad value for --key: 'colour' (lineno, filename, function, module, traceback, type, thread, lineno,type, filename,type, function,type, module,type)" "$HEAPSNAP" top --key colour "$good"
# a derived section that disagrees with the rest is not trouble: it is left
# out with one warning line each, and every command reads the rest (exit 0)
# (--retained, with no PYRETAIN left, says so: exit 2, a third line)
for how in "info 0 info" "top 0 top --key type" "merge 0 merge -o $T/m.hsnap" \
           "retained 2 top --retained"; do
  set -- $how
  name=derived_sections_dropped_with_one_warning_each_$1 want=$2; shift 2
  "$HEAPSNAP" "$@" "$T/c/pyretain_below_own.hsnap" >"$T/out" 2>"$T/err"; rc=$?
  [ "$want" = 2 ] && echo >>"$T/out" && sed -i '3{/--retained: its PYRETAIN was left out (the warning above says why)$/d}' "$T/err"
  if [ "$rc" = "$want" ] && [ "$(wc -l <"$T/err")" = 2 ] && { [ -s "$T/out" ] || [ -s "$T/m.hsnap" ]; } &&
     grep -q '^heapsnap: warning: .*pyretain_below_own.hsnap: section PYRETAIN: entry 0: retains 50 bytes, less than its own 100; that section is left out, the rest read$' "$T/err" &&
     grep -q '^heapsnap: warning: .*: section PYOWNED: item 0: owner 1 of 1' "$T/err"
  then t_pass "$name"
  else t_fail "$name" "exit $rc: $(head -c 400 "$T/err" | tr '\n' '|') out: $(head -c 200 "$T/out")"; fi
done
t_trouble owner_needs_python_objects "--owner needs a snapshot of a Python process" \
  "$HEAPSNAP" top --owner "$good"
t_trouble bad_count "bad value for -n: '-3' (a count from 0 to 2147483647)" "$HEAPSNAP" top -n -3 "$good"
t_trouble cumulative_traceback "--cumulative cannot be used with --key traceback" \
  "$HEAPSNAP" top --cumulative --key traceback "$good"
t_trouble unknown_command "unknown command 'frobnicate'" "$HEAPSNAP" frobnicate
t_trouble no_command "no command given" "$HEAPSNAP"
# A command that cannot start: a shell's status (127 not found, 126 not
# executable), as `sh -c CMD` gives.
t_trouble_rc 127 run_missing_command_127 "run: no-such-command-hs: command not found" \
  "$HEAPSNAP" run -- no-such-command-hs --flag
t_trouble_rc 127 run_missing_path_127 "run: ./no-such-command-hs: No such file or directory" \
  "$HEAPSNAP" run -- ./no-such-command-hs
t_trouble run_no_command "run: no command given" "$HEAPSNAP" run
t_trouble_rc 126 run_not_executable_126 "run: /etc/passwd: Permission denied" "$HEAPSNAP" run /etc/passwd
t_trouble_rc 126 run_directory_126 "run: /tmp: is a directory" "$HEAPSNAP" run /tmp
printf 'echo no\n' >"$T/noexec"; chmod 644 "$T/noexec"
t_trouble_rc 126 run_not_executable_in_path_126 "run: $T/noexec: Permission denied" \
  env PATH="$T:$PATH" "$HEAPSNAP" run noexec
printf '#!/no/such/interpreter\n' >"$T/badinterp"; chmod 755 "$T/badinterp"
t_trouble_rc 127 run_missing_interpreter_127 "run: $T/badinterp: No such file or directory" \
  "$HEAPSNAP" run "$T/badinterp"
