# tests/shim/leak/test_leak_roots.sh - roots the leak check used to miss or
# wrongly keep: a pointer held only in a vector register of a stopped
# thread (xmm, ymm upper half, AVX-512's zmm16-31), the stack and TLS of a
# thread running its TLS destructors after its start routine returned
# (LeakSanitizer's detached_thread_dlsym), and the stale words that dead
# frames leave where exit()'s frames are built (LeakSanitizer's
# exit_atexit_stale_stack, pointer_to_self, large_allocation_leak).
# Fixtures: tests/shim/leak/vecreg.c, dying.c, dying_tl.cc, stale.c; snapshots are read
# with tests/shim/hsnap_dump.c --leaks.  Blocks are named by their size.

L=tests/shim/leak
t_build vecreg $L/vecreg.c -pthread &&
t_build dying $L/dying.c -pthread -ldl &&
t_build dying_tl $L/dying_tl.cc -pthread &&
t_build stale $L/stale.c -fno-stack-protector -Wl,-z,now &&
t_build argvdup $L/argvdup.c &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail build "fixtures do not build"; return 0 2>/dev/null || exit 0; }

# r_cls DUMP SIZE: the classes of the blocks of that size, sorted
r_cls() { awk -v s="$2" '$1 == "block" && $2 == s { print $3 }' "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }

# r_want NAME DUMP OUT WANT_OUT "SIZE:CLASS"...: the program printed WANT_OUT
# and each size's classes match
r_want() {
  local name=$1 dump=$2 out=$3 want=$4 bad="" kv; shift 4
  [ "$out" = "$want" ] || bad="printed '$out', want '$want';"
  for kv in "$@"; do
    local got; got=$(r_cls "$dump" "${kv%%:*}")
    [ "$got" = "${kv#*:}" ] || bad="$bad size ${kv%%:*}: got '$got' want '${kv#*:}';"
  done
  if [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "$bad"; fi
}

# r_run FIXTURE MODE: runs it under the shim, the check's snapshot into
# $T/FIXTURE.MODE.hsnap, dumped to .txt; prints what it printed
r_run() {
  local f=$1 m=$2
  rm -f "$T/$f.$m".*
  HEAPSNAP_OUTPUT="$T/$f.$m.exit.%p.hsnap" LD_PRELOAD="$SHIM" "$T/$f" "$m" "$T/$f.$m.hsnap" \
    2>"$T/$f.$m.err"
  [ -e "$T/$f.$m.hsnap" ] && "$T/hsnap_dump" --leaks "$T/$f.$m.hsnap" >"$T/$f.$m.txt"
}

# ---- vector registers ----
for reg in xmm ymm zmm; do
  case $reg in
    xmm) name=vector_register_xmm_is_a_root ;;
    ymm) name=vector_register_ymm_upper_half_is_a_root ;;
    zmm) name=vector_register_zmm16_31_is_a_root ;;
  esac
  out=$(r_run vecreg $reg)
  case "$out" in
    skip*) t_skip "$name" "${out#skip }" ;;
    *) r_want "$name" "$T/vecreg.$reg.txt" "$out" "collect 0" 9001:1 ;;
  esac
done
grep -qx 'unstopped 0' "$T/vecreg.xmm.txt" 2>/dev/null && t_pass vector_register_thread_stopped ||
  t_fail vector_register_thread_stopped "$(grep unstopped "$T/vecreg.xmm.txt" 2>&1)"

# ---- threads in their exit path ----
out=$(r_run dying tsd)
r_want key_destructor_of_detached_thread_is_scanned "$T/dying.tsd.txt" "$out" "collect 0" 6001:1
grep -qx 'unstopped 0' "$T/dying.tsd.txt" 2>/dev/null && t_pass thread_in_key_destructor_is_stopped ||
  t_fail thread_in_key_destructor_is_stopped "$(grep unstopped "$T/dying.tsd.txt" 2>&1)"
out=$(HEAPSNAP_OUTPUT="$T/tl.exit.%p.hsnap" LD_PRELOAD="$SHIM" "$T/dying_tl" "$T/tl.hsnap" 2>"$T/tl.err")
[ -e "$T/tl.hsnap" ] && "$T/hsnap_dump" --leaks "$T/tl.hsnap" >"$T/tl.txt"
r_want thread_local_destructor_of_detached_thread_is_scanned "$T/tl.txt" "$out" "collect 0" 6101:1
out=$(r_run dying dlerror)
r_want dlerror_buffer_of_dying_thread_is_reachable "$T/dying.dlerror.txt" "$out" "collect 0"
out=$(r_run dying ended)
r_want ended_detached_thread_is_not_scanned "$T/dying.ended.txt" "$out" "collect 1" 6002:3
out=$(r_run dying churn)
if grep -q 'more than 1024' "$T/dying.churn.err"; then
  t_fail ended_threads_registrations_are_reused "$(head -c 200 "$T/dying.churn.err")"
else
  r_want ended_threads_registrations_are_reused "$T/dying.churn.txt" "$out" "collect 0" 6003:1
fi

# ---- stale frames at exit ----
# s_exit MODE: the exit snapshot's dump (the leak check at exit)
s_exit() {
  rm -f "$T"/stale.x.*
  HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/stale.x.%p.hsnap" LD_PRELOAD="$SHIM" "$T/stale" "$@" \
    >"$T/stale.out" 2>"$T/stale.err"
  local f; f=$(ls "$T"/stale.x.*.hsnap 2>/dev/null | head -1)
  [ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" >"$T/stale.$1.exit.txt"
}
# s_totals DUMP: the direct (3) and cycle (5) totals, "3 BLOCKS BYTES; 5 BLOCKS BYTES"
s_totals() { awk '$1 == "total" && ($2 == 3 || $2 == 5) { printf "%s%s %s %s", sep, $2, $3, $4; sep = "; " }' "$1"; }

s_exit return
r_want stale_main_frame_after_return_is_not_a_root "$T/stale.return.exit.txt" \
  "$(s_totals "$T/stale.return.exit.txt")" "3 3 33568435; 5 0 0" 7001:3 7002:3 33554432:3
s_exit exit
r_want stale_callee_frame_at_exit_call_is_not_a_root "$T/stale.exit.exit.txt" \
  "$(s_totals "$T/stale.exit.exit.txt")" "3 1 7012; 5 0 0" 7011:1 7022:1 7012:3
s_exit api "$T/stale.api.hsnap"
"$T/hsnap_dump" --leaks "$T/stale.api.hsnap" >"$T/stale.api.txt" 2>&1
r_want collect_scans_callers_stack_from_its_sp "$T/stale.api.txt" "$(cat "$T/stale.out")" \
  "collect 1" 7021:1 7022:1 7023:3

# argv[] at the top of the main thread's stack: 700 arguments make an array
# of 5.6 KiB, past the page after __libc_stack_end whatever the alignment,
# and every copy it points to must be reachable (before: the last ~200, or a
# few in one run in 30 with redis's handful, read as direct leaks).
rm -f "$T"/argvdup.*
HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/argvdup.%p.hsnap" LD_PRELOAD="$SHIM" "$T/argvdup" \
  $(seq -f 'argument-%g' 1 700) >"$T/argvdup.out" 2>"$T/argvdup.err"
f=$(ls "$T"/argvdup.*.hsnap 2>/dev/null | head -1)
[ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" >"$T/argvdup.txt"
got=$(awk '$1 == "block" && $2 == 77 { n[$3]++ } END { for (c in n) printf "%s:%d ", c, n[c] }' \
  "$T/argvdup.txt" 2>/dev/null)
if [ "$(cat "$T/argvdup.out")" = "copied 700" ] && [ "$got" = "1:700 " ]; then
  t_pass main_stack_argv_array_is_a_root
else
  t_fail main_stack_argv_array_is_a_root "blocks of 77 bytes by class: '$got' (want 1:700)"
fi
