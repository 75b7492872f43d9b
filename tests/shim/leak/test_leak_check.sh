# tests/shim/leak/test_leak_check.sh - the in-process leak check (HEAPSNAP_LEAKS=1):
# classes per block, loss records, retainers, threads (stopped, unstopped,
# exited), TLS, dlopen, fork, the glibc top-chunk rule, the gc-like API,
# and `heapsnap run --leaks`.  Fixtures: tests/shim/leak/leaky.c (modes),
# gcapi.c, regroot.c, leakylib.c; snapshots are read with tests/shim/hsnap_dump.c --leaks.
# Blocks are named by their requested size (unique per role).

L=tests/shim/leak
t_build leaky $L/leaky.c -pthread -ldl &&
t_build gcapi $L/gcapi.c &&
t_build regroot $L/regroot.c -O2 -fomit-frame-pointer &&
t_build leakylib.so $L/leakylib.c -shared -fPIC &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail build "fixtures do not build"; return 0 2>/dev/null || exit 0; }

# l_run NAME MODE...: runs leaky under the shim with the leak check; the
# dump of each snapshot is $T/NAME.<pid>.txt (also $T/NAME.txt: the first).
l_run() {
  local name=$1; shift
  rm -f "$T/$name".*.hsnap
  HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/$name.%p.hsnap" LD_PRELOAD="$SHIM" "$T/leaky" "$@" \
    >"$T/$name.out" 2>"$T/$name.err"
  local rc=$? f
  for f in "$T/$name".*.hsnap; do
    [ -e "$f" ] && "$T/hsnap_dump" --leaks "$f" >"${f%.hsnap}.txt"
  done
  ls "$T/$name".*.txt 2>/dev/null | head -1 | xargs -r -I{} cp {} "$T/$name.txt"
  return $rc
}

# l_cls DUMP SIZE: the classes of the blocks of that size, sorted
l_cls() { awk -v s="$2" '$1 == "block" && $2 == s { print $3 }' "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }

# l_expect NAME DUMP "SIZE:CLASSES" ...: each size's classes must match
l_expect() {
  local name=$1 dump=$2 bad="" kv; shift 2
  for kv in "$@"; do
    local got; got=$(l_cls "$dump" "${kv%%:*}")
    [ "$got" = "${kv#*:}" ] || bad="$bad size ${kv%%:*}: got '$got' want '${kv#*:}';"
  done
  if [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "$bad"; fi
}

# l_line NAME DUMP LINE: the dump has exactly this line
l_line() {
  if grep -qxF "$3" "$2"; then t_pass "$1"; else t_fail "$1" "no line '$3' in $(basename "$2")"; fi
}

# ---- no leak, and the flag ----
l_run none none
l_line leaks_flag_set "$T/none.txt" "flags 6"
l_line no_leak_no_direct "$T/none.txt" "total 3 0 0"
HEAPSNAP_OUTPUT="$T/off.hsnap" LD_PRELOAD="$SHIM" "$T/leaky" basic
"$T/hsnap_dump" --leaks "$T/off.hsnap" >"$T/off.txt"
if grep -q '^total\|^ret' "$T/off.txt" || ! grep -qx 'flags 2' "$T/off.txt"; then
  t_fail no_leaks_section_when_off "$(head -3 "$T/off.txt" | tr '\n' ' ')"
else t_pass no_leaks_section_when_off; fi

# ---- the classes ----
l_run basic basic
B=$T/basic.txt
l_expect reachable_from_data_bss_tls "$B" 1001:1 1007:1 1008:1 1011:1 8000:1 "1012:1 1 1 1 1"
l_expect direct_leak "$B" 1002:3
l_expect lost_list_direct_and_indirect "$B" 1003:3 "1004:4 4 4"
l_expect leaked_two_cycle "$B" 1005:5 1006:5
l_expect self_reference_is_direct_not_a_cycle "$B" 1013:3
l_expect xor_hidden_pointer_is_leaked "$B" 1009:3
l_expect interior_only_is_possible "$B" 1010:2
l_expect glibc_top_chunk_pointer_is_not_a_reference "$B" 24:3
l_line totals_direct "$B" "total 3 5 4051"
l_line totals_indirect "$B" "total 4 3 3012"
l_line totals_cycle "$B" "total 5 2 2011"
l_line record_list_owns_its_tail "$B" "record 3 1003 1 1003 3 3012"
l_line record_two_cycle "$B" "record 5 1005 2 2011 0 0"
l_line retainer_block_site "$B" "ret 1012 0 8000 5 5 5060"
l_line retainer_data_root "$B" "ret 8000 1 - 1 1 8000"
l_line retainer_tls_root "$B" "ret 1011 4 - 1 1 1011"
l_line retainer_cycle_member "$B" "ret 1008 0 1007 1 1 1008"

# ---- threads ----
if l_run threads threads; then
  l_expect thread_stack_and_tls_reachable "$T/threads.txt" 2001:1 2002:1
  l_expect exited_thread_leaks_direct "$T/threads.txt" 2003:3 2004:3
  l_line threads_all_stopped "$T/threads.txt" "unstopped 0"
else t_fail threads "exit $?: $(head -c 300 "$T/threads.err")"; fi
if l_run blocked blocked; then
  l_line thread_blocking_signals_is_stopped "$T/blocked.txt" "unstopped 0"
  l_expect thread_blocking_signals_stack_and_tls_reachable "$T/blocked.txt" 2001:1 2002:1
else t_fail blocked "exit $?: $(head -c 300 "$T/blocked.err")"; fi
"$T/leaky" threads >"$T/plain.out" 2>&1; want=$?
if [ "$want" = 0 ] && [ ! -s "$T/threads.err" ] && cmp -s "$T/plain.out" "$T/threads.out"; then
  t_pass threads_program_unchanged
else t_fail threads_program_unchanged "plain exit $want; stderr: $(head -c 200 "$T/threads.err")"; fi

# ---- dlopen, fork ----
if l_run dlopen dlopen "$T/leakylib.so"; then
  l_expect dlopened_library_global_is_a_root "$T/dlopen.txt" 3001:1
else t_fail dlopen "exit $?: $(head -c 300 "$T/dlopen.err")"; fi
if l_run fork fork; then
  got=""
  for f in "$T"/fork.*.txt; do [ "$f" = "$T/fork.txt" ] || got="$got$(l_cls "$f" 4001)/"; done
  case "$got" in 3//|/3/) t_pass forked_child_checks_its_own_heap ;;
    *) t_fail forked_child_checks_its_own_heap "4001 per snapshot: '$got'" ;; esac
else t_fail fork "exit $?"; fi

# ---- checks from another thread and from the HEAPSNAP_SIGNAL helper ----
if l_run worker worker "$T/worker.hsnap"; then
  "$T/hsnap_dump" --leaks "$T/worker.hsnap" >"$T/worker.txt"
  l_expect collect_from_a_thread_sees_both_stacks "$T/worker.txt" 5101:1 5102:1
  l_line collect_from_a_thread_stops_main "$T/worker.txt" "unstopped 0"
else t_fail collect_from_a_thread "exit $?: $(head -c 300 "$T/worker.err")"; fi
rm -f "$T"/sig.*.hsnap
HEAPSNAP_LEAKS=1 HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/sig.%n.hsnap" LD_PRELOAD="$SHIM" \
  "$T/leaky" signal "$T/sig.0.hsnap" >"$T/sig.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && [ -e "$T/sig.0.hsnap" ]; then
  "$T/hsnap_dump" --leaks "$T/sig.0.hsnap" >"$T/sig.txt"
  l_expect signal_snapshot_checks_leaks "$T/sig.txt" 5201:1
  l_line signal_helper_stops_main "$T/sig.txt" "unstopped 0"
else t_fail signal_snapshot_checks_leaks "exit $rc, $(ls "$T" | grep sig | tr '\n' ' ')"; fi

# ---- the caller's registers: five blocks held only in rbx and r12-r15 ----
got=$(HEAPSNAP_OUTPUT="$T/rr.%p.hsnap" LD_PRELOAD="$SHIM" "$T/regroot" 2>"$T/regroot.err")
if [ "$got" = "collect 1" ]; then t_pass collect_sees_callers_registers
else t_fail collect_sees_callers_registers "want 'collect 1' (only 4006 lost), got '$got'"; fi

# ---- the API ----
cat >"$T/gcapi.want" <<'W'
refcount 3
refcount_interior 3
refcount_none -1
referrers 3
  kind 0 size 5002 where h0 site yes
  kind 0 size 5002 where h1 site yes
  kind 1 size 0 where g_a site -
referents 2 5001=g_a 5001=g_a
referrers_count_only 3
collect 2
ignore 0
collect_ignored 2
register 0
collect_registered 1
unregister 0 -1
collect_unregistered 2
get_count 1 1 new 1
W
# g_map is an mmap'd page: a root only when registered with the program's
# own mappings left out of the roots (LSan's way)
HEAPSNAP_MAPPED_ROOTS=0 HEAPSNAP_OUTPUT="$T/g.%p.hsnap" LD_PRELOAD="$SHIM" "$T/gcapi" "$T/gc.hsnap" >"$T/gcapi.out" 2>"$T/gcapi.err"
if diff -u "$T/gcapi.want" "$T/gcapi.out" >"$T/gcapi.diff"; then t_pass gc_api_results
else t_fail gc_api_results "output differs"; sed 's/^/    /' "$T/gcapi.diff" | head -30; fi
"$T/hsnap_dump" --leaks "$T/gc.hsnap" >"$T/gc.txt" 2>&1
l_expect collect_snapshot_ignored_and_user_root "$T/gc.txt" 5003:3 5004:6 5005:1
l_line retainer_user_root "$T/gc.txt" "ret 5005 5 - 1 1 5005"
if [ "$("$T/gcapi")" = "no shim" ]; then t_pass gc_api_without_shim
else t_fail gc_api_without_shim "weak symbols resolved without the shim"; fi

# ---- heapsnap run --leaks ----
if [ -x "$HEAPSNAP" ]; then
  "$HEAPSNAP" run --leaks -o "$T/run.%p.hsnap" -- "$T/leaky" basic >"$T/run.out" 2>&1
  f=$(ls "$T"/run.*.hsnap 2>/dev/null | head -1)
  if [ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" | grep -qx 'total 3 5 4051'; then t_pass run_leaks_option
  else t_fail run_leaks_option "no snapshot with the leak check: $(head -c 200 "$T/run.out")"; fi
else
  t_fail run_leaks_option "$HEAPSNAP not built"
fi
