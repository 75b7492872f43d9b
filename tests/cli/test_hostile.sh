# tests/cli/test_hostile.sh - the CLI on hostile input: FIFOs, devices and
# sparse giants given as snapshots, rules, suppressions or named as modules
# inside a snapshot; names with control characters and invalid UTF-8 in
# every output format; out-of-range option values; crafted STATS sums.
# Nothing may hang (every command runs under timeout), nothing may reach a
# CI runner's stdout as a workflow command, and every refusal is exit 2
# with one line on stderr.

# h_trouble NAME WANT_SUBSTRING CMD...: exit 2 within 10 s, one stderr line
h_trouble() {
  local name=$1 want=$2; shift 2
  timeout 10 "$@" >"$T/h.out" 2>"$T/h.err" </dev/null; local rc=$?
  local lines; lines=$(wc -l <"$T/h.err")
  if [ "$rc" -eq 124 ]; then t_fail "$name" "still running after 10 s"
  elif [ "$rc" -ne 2 ]; then t_fail "$name" "exit $rc, want 2: $(head -c 200 "$T/h.err")"
  elif [ "$lines" -ne 1 ]; then t_fail "$name" "$lines lines on stderr: $(head -c 300 "$T/h.err" | tr '\n' '|')"
  elif ! grep -qF -- "$want" "$T/h.err"; then t_fail "$name" "stderr lacks '$want': $(cat "$T/h.err")"
  else t_pass "$name"; fi
}

cc_ok=1
${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err" || cc_ok=0
${CC:-gcc} -Ishim tests/cli/craft.c -o "$T/craft" -lz 2>>"$T/cc.err" || cc_ok=0
if [ $cc_ok = 0 ]; then t_fail hostile_tools_build "$(head -c 300 "$T/cc.err")"; return 0 2>/dev/null || exit 0; fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
good=$T/c/blocks.hsnap
mkfifo "$T/fifo"

# --- 1. FIFOs and devices are refused, never waited on ----------------------
h_trouble snapshot_fifo_refused "fifo: not a regular file (a FIFO)" "$HEAPSNAP" info "$T/fifo"
h_trouble snapshot_dev_zero_refused "/dev/zero: not a regular file (a character device)" \
  "$HEAPSNAP" top /dev/zero
h_trouble baseline_fifo_refused "not a regular file (a FIFO)" \
  "$HEAPSNAP" gate --fail-on none --baseline "$T/fifo" --max-growth 5% "$good"
h_trouble rules_fifo_refused "fifo: not a regular file (a FIFO)" \
  "$HEAPSNAP" gate --rules "$T/fifo" "$good"
h_trouble rules_dev_zero_refused "/dev/zero: not a regular file (a character device)" \
  "$HEAPSNAP" gate --rules /dev/zero "$good"
h_trouble suppressions_fifo_refused "fifo: not a regular file (a FIFO)" \
  "$HEAPSNAP" leaks --suppressions "$T/fifo" "$good"
h_trouble gate_suppressions_dev_zero_refused "/dev/zero: not a regular file" \
  "$HEAPSNAP" gate --suppressions /dev/zero "$good"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$T/big.toml"
h_trouble rules_file_capped "big.toml: larger than 1048576 bytes" \
  "$HEAPSNAP" gate --rules "$T/big.toml" "$good"
printf 'leak:a\n\0leak:b\n' >"$T/nul.supp"
h_trouble suppressions_nul_byte_refused "nul.supp: a NUL byte at offset 7" \
  "$HEAPSNAP" leaks --suppressions "$T/nul.supp" "$good"

# a module path inside a snapshot that names a FIFO: missing debug info, once
"$T/craft" names "$T/m.hsnap" "$T/fifo" "./prog" "/nonexistent/prog"
timeout 10 "$HEAPSNAP" top -n 0 "$T/m.hsnap" >"$T/m.out" 2>"$T/m.err"; rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c 'fifo: not a regular file (a FIFO); frames shown as module+offset' "$T/m.err")" = 1 ] \
   && grep -q '^\[fifo\]:0: size=' "$T/m.out"; then t_pass module_fifo_is_missing_debug_info
else t_fail module_fifo_is_missing_debug_info "exit $rc: $(head -c 300 "$T/m.err")"; fi

# --- 2. a sparse giant costs one header read ----------------------------------
truncate -s 10G "$T/sparse.hsnap"
h_trouble sparse_10g_refused_by_magic "sparse.hsnap: not a heapsnap snapshot (bad magic)" \
  "$HEAPSNAP" info "$T/sparse.hsnap"
cp "$good" "$T/sparse2.hsnap" && truncate -s 10G "$T/sparse2.hsnap"
h_trouble sparse_10g_refused_by_header_size "sparse2.hsnap: " "$HEAPSNAP" top "$T/sparse2.hsnap"
grep -q "trailing data" "$T/h.err" || t_fail sparse_10g_header_size_reason "$(cat "$T/h.err")"
