# tests/shim/leak/test_leak_runtime.sh - the C and C++ runtimes' own memory is a
# class of its own (issue 65): what only libc's, libstdc++'s or the loader's
# data holds (locale data, stdout's buffer, libstdc++'s emergency pool) is
# "runtime", never the program's "still reachable", while a stream the program
# opened and never closed, and a block in its static, stay its own: memcheck's
# answer after its __libc_freeres, without calling anything in the host.
# Fixtures: tests/shim/leak/runtime/ (their answers in their heads).
# Cases: leak_runtime_c_keeps_only_its_own, leak_runtime_c_stdout_buffer,
# leak_runtime_cxx_pool, leak_runtime_json_summary.
R=tests/shim/leak/runtime

# lr_run NAME: NAME under run --leaks (stdout to a file: a buffered stream),
# `leaks` text (all kinds) in $T/NAME.txt and JSON in $T/NAME.json; 0 when it ran
lr_run() {
  LANG=C.UTF-8 "$HEAPSNAP" run --leaks -o "$T/$1.hsnap" -- "$T/$1" >"$T/$1.out" 2>"$T/$1.run" &&
    { "$HEAPSNAP" leaks -n 0 --kinds all "$T/$1.hsnap" >"$T/$1.txt" 2>"$T/$1.err"; [ $? -le 1 ]; } &&
    { "$HEAPSNAP" leaks --format json "$T/$1.hsnap" >"$T/$1.json" 2>>"$T/$1.err"; [ $? -le 1 ]; }
}
lr_line() { sed -n "s/^   $2: //p" "$T/$1.txt" | head -n 1; }
# lr_lost NAME: the four lost kinds are empty ("" when so, else what is not)
lr_lost() {
  local c got bad=""
  for c in direct indirect cycle "possibly lost"; do
    got=$(lr_line "$1" "$c"); [ "$got" = "0 bytes in 0 blocks" ] || bad="$bad $c: '$got';"
  done
  echo "$bad"
}

if ! t_build rtkeep "$R/rtkeep.c" 2>"$T/cc.err" || ! t_build rtcxx "$R/rtcxx.cc" 2>>"$T/cc.err"; then
  for c in c_keeps_only_its_own c_stdout_buffer cxx_pool json_summary; do
    t_fail "leak_runtime_$c" "fixtures do not build: $(head -c 200 "$T/cc.err" | tr '\n' ' ')"
  done
  return 0 2>/dev/null || exit 0
fi

if lr_run rtkeep; then
  bad=$(lr_lost rtkeep)
  got=$(lr_line rtkeep "still reachable")
  case "$got" in *" bytes in 2 blocks") ;; *) bad="$bad still reachable: '$got', want 2 blocks;" ;; esac
  grep -q "main (tests/shim/leak/runtime/rtkeep.c:23)" "$T/rtkeep.txt" || bad="$bad no record at rtkeep.c:23 (the static's 64 bytes);"
  grep -q "main (tests/shim/leak/runtime/rtkeep.c:24)" "$T/rtkeep.txt" || bad="$bad no record at rtkeep.c:24 (the open FILE);"
  grep -q "^64 bytes in 1 blocks are still reachable" "$T/rtkeep.txt" || bad="$bad the static's 64 bytes not reachable;"
  if [ -z "$bad" ]; then t_pass leak_runtime_c_keeps_only_its_own; else t_fail leak_runtime_c_keeps_only_its_own "$bad"; fi
  rt=$(lr_line rtkeep runtime)
  bytes=${rt%% bytes*}
  if [ -n "$rt" ] && [ "${bytes:-0}" -ge 1024 ]; then t_pass leak_runtime_c_stdout_buffer
  else t_fail leak_runtime_c_stdout_buffer "runtime: '$rt', want at least stdout's buffer"; fi
else
  why="run or leaks failed: $(tail -c 300 "$T/rtkeep.run" "$T/rtkeep.err" 2>/dev/null | tr '\n' ' ')"
  t_fail leak_runtime_c_keeps_only_its_own "$why"; t_fail leak_runtime_c_stdout_buffer "$why"
fi

if lr_run rtcxx; then
  bad=$(lr_lost rtcxx)
  got=$(lr_line rtcxx "still reachable")
  [ "$got" = "0 bytes in 0 blocks" ] || bad="$bad still reachable: '$got';"
  rt=$(lr_line rtcxx runtime)
  bytes=${rt%% bytes*}
  [ -n "$rt" ] && [ "${bytes:-0}" -ge 65536 ] || bad="$bad runtime: '$rt', want libstdc++'s pool (>= 64 KiB);"
  if [ -z "$bad" ]; then t_pass leak_runtime_cxx_pool; else t_fail leak_runtime_cxx_pool "$bad"; fi
  if python3 - "$T/rtcxx.json" "$bytes" >"$T/json.err" 2>&1 <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert list(s) == ["direct", "indirect", "cycle", "possibly_lost", "still_reachable", "runtime",
                   "suppressed"], list(s)
assert s["runtime"]["bytes"] == int(sys.argv[2]) and s["still_reachable"]["blocks"] == 0, s
PY
  then t_pass leak_runtime_json_summary
  else t_fail leak_runtime_json_summary "$(tail -c 300 "$T/json.err" | tr '\n' ' ')"; fi
else
  why="run or leaks failed: $(tail -c 300 "$T/rtcxx.run" "$T/rtcxx.err" 2>/dev/null | tr '\n' ' ')"
  t_fail leak_runtime_cxx_pool "$why"; t_fail leak_runtime_json_summary "$why"
fi
