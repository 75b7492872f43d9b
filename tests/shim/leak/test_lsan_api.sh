# tests/shim/leak/test_lsan_api.sh - LeakSanitizer's interface (lsan_*) on a
# program written for LSan and built normally (tests/shim/leak/lsanapi.c): each
# function's meaning and return values, the two hooks the program defines
# (found in its .symtab, or by dlsym when it exports them), the exit check
# they turn off, and what `leaks`, `gate` and `info` make of the snapshots.
# Blocks are named by their requested size; dumps by tests/shim/hsnap_dump.c.

L=tests/shim/leak
t_build lsanapi $L/lsanapi.c -pthread &&
t_build lsanapi_dyn $L/lsanapi.c -pthread -rdynamic &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail lsan_build "fixtures do not build"; return 0 2>/dev/null || exit 0; }
strip -o "$T/lsanapi_dyn_stripped" "$T/lsanapi_dyn" && strip -o "$T/lsanapi_stripped" "$T/lsanapi"

# a_run NAME PROG MODE: runs PROG MODE under the shim with HEAPSNAP_LEAKS=1;
# dumps each snapshot to $T/NAME.<pid>[.<n>].txt.
a_run() {
  local name=$1 prog=$2 f; shift 2
  rm -f "$T/$name".*
  HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/$name.%p.hsnap" LD_PRELOAD="$SHIM" "$T/$prog" "$@" \
    >"$T/$name.out" 2>"$T/$name.err"
  for f in "$T/$name".*.hsnap; do
    [ -e "$f" ] && "$T/hsnap_dump" --leaks "$f" >"${f%.hsnap}.txt"
  done
}

# a_exit NAME: the exit snapshot's dump (the one without a sequence number)
a_exit() { ls "$T/$1".*.txt | grep -Ev '\.[0-9]+\.[0-9]+\.txt$'; }
# a_seq NAME N: the dump of the Nth snapshot taken before the exit one
a_seq() { ls "$T/$1".*."$2".txt; }
# a_cls DUMP SIZE: the classes of the blocks of that size, sorted
a_cls() { awk -v s="$2" '$1 == "block" && $2 == s { print $3 }' "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }
# a_line NAME FILE LINE: FILE has exactly this line
a_line() {
  if grep -qxF "$3" "$2"; then t_pass "$1"; else t_fail "$1" "no line '$3' in $(basename "$2"): $(head -c 200 "$2" | tr '\n' ' ')"; fi
}
# a_expect NAME DUMP "SIZE:CLASSES"...: each size's classes (1 reachable,
# 3 direct, 6 ignored)
a_expect() {
  local name=$1 dump=$2 bad="" kv got; shift 2
  for kv in "$@"; do
    got=$(a_cls "$dump" "${kv%%:*}")
    [ "$got" = "${kv#*:}" ] || bad="$bad size ${kv%%:*}: got '$got' want '${kv#*:}';"
  done
  if [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "$bad"; fi
}

# ---- exported: the interface, never the program's two hooks ----
got=$(nm -D --defined-only "$SHIM" | awk '$3 ~ /^__lsan_/ { print $3 }' | sort | tr '\n' ' ')
want="__lsan_disable __lsan_do_leak_check __lsan_do_recoverable_leak_check __lsan_enable __lsan_ignore_object __lsan_register_root_region __lsan_unregister_root_region "
if [ "$got" = "$want" ]; then t_pass lsan_exports_interface_not_hooks
else t_fail lsan_exports_interface_not_hooks "got '$got'"; fi

# ---- without the shim the weak interface is absent ----
"$T/lsanapi" recover >"$T/plain.out" 2>&1
a_line lsan_program_runs_without_shim "$T/plain.out" "no lsan interface"

# ---- __lsan_do_recoverable_leak_check: 0, 1, 1; a snapshot each ----
a_run rec lsanapi recover
a_line lsan_recoverable_returns "$T/rec.out" "recover 0 1 1"
a_line lsan_recoverable_first_clean "$(a_seq rec 0)" "total 3 0 0"
a_line lsan_recoverable_second_1337 "$(a_seq rec 1)" "total 3 1 1337"
a_line lsan_recoverable_third_1360 "$(a_seq rec 2)" "total 3 2 1360"
"$HEAPSNAP" info "$T"/rec.*.1.hsnap >"$T/rec.info" 2>&1
a_line lsan_snapshot_reason "$T/rec.info" "reason:           lsan"
a_line lsan_recoverable_keeps_exit_check "$(a_exit rec)" "total 3 2 1360"

# ---- __lsan_do_leak_check: once; no check at exit after it ----
a_run chk lsanapi check
n=$(ls "$T"/chk.*.hsnap | wc -l)
if [ "$n" = 2 ]; then t_pass lsan_do_leak_check_once; else t_fail lsan_do_leak_check_once "$n snapshots"; fi
a_line lsan_do_leak_check_finds_666 "$(a_seq chk 0)" "total 3 1 666"
a_line lsan_no_exit_check_after_do_leak_check "$(a_exit chk)" "flags 10"
t_status lsan_gate_judges_do_leak_check 1 "$HEAPSNAP" gate "$T"/chk.*.hsnap
if grep -q '666 bytes in 1 blocks lost' "$T/status.out" && ! grep -q '777 bytes' "$T/status.out"; then
  t_pass lsan_gate_reads_the_checked_snapshot
else t_fail lsan_gate_reads_the_checked_snapshot "$(head -c 300 "$T/status.out" | tr '\n' ' ')"; fi
t_status lsan_leaks_on_unchecked_exit_snapshot 2 "$HEAPSNAP" leaks "$(ls "$T"/chk.*.hsnap | grep -Ev '\.[0-9]+\.[0-9]+\.hsnap$')"
if grep -q "__lsan_do_leak_check() ran it earlier" "$T/status.out"; then t_pass lsan_leaks_says_why_no_check
else t_fail lsan_leaks_says_why_no_check "$(head -c 300 "$T/status.out")"; fi
# without HEAPSNAP_LEAKS too: the program asked
rm -f "$T"/chk0.*
HEAPSNAP_OUTPUT="$T/chk0.%p.hsnap" LD_PRELOAD="$SHIM" "$T/lsanapi" check >/dev/null 2>&1
t_status lsan_do_leak_check_without_heapsnap_leaks 1 "$HEAPSNAP" gate "$T"/chk0.*.hsnap

# ---- __lsan_ignore_object: the block, what it holds; interior pointers ----
a_run ign lsanapi ignore
a_expect lsan_ignore_object "$(a_exit ign)" 16:6 666:1 4000:6 1337:3

# ---- __lsan_disable / __lsan_enable: nesting, per thread ----
a_run dis lsanapi disable
a_expect lsan_disable_nests_per_thread "$(a_exit dis)" 111:6 8:6 222:1 333:3 444:3
a_run same lsanapi same
a_expect lsan_disable_same_stack_only_that_block "$(a_exit same)" "555:3 3 6"
rm -f "$T"/samp.*
HEAPSNAP_SAMPLE=524288 HEAPSNAP_SAMPLE_SEED=1 HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/samp.%p.hsnap" \
  LD_PRELOAD="$SHIM" "$T/lsanapi" disable >/dev/null 2>&1
"$T/hsnap_dump" --leaks "$T"/samp.*.hsnap >"$T/samp.txt" 2>&1
a_expect lsan_disable_sampled_unsampled_blocks "$T/samp.txt" 111:6 8:6 222:1 333:3 444:3
n=$(grep -c '__lsan_enable without __lsan_disable' "$T/dis.err")
if [ "$n" = 1 ]; then t_pass lsan_unmatched_enable_warned_once; else t_fail lsan_unmatched_enable_warned_once "$n warnings"; fi

# ---- root regions: half PROT_NONE, unregistered by (p, size) only ----
# (LSan's roots: the program's own mappings are roots only when registered)
export HEAPSNAP_MAPPED_ROOTS=0
a_run roots lsanapi roots
a_line lsan_root_region_returns "$T/roots.out" "roots 0 0 1"
if grep -q '__lsan_unregister_root_region: no region registered' "$T/roots.err"; then
  t_pass lsan_unregister_wrong_size_warned
else t_fail lsan_unregister_wrong_size_warned "$(head -c 200 "$T/roots.err")"; fi
a_run kept lsanapi roots-kept
a_expect lsan_root_region_kept_to_exit "$(a_exit kept)" 1337:1
unset HEAPSNAP_MAPPED_ROOTS

# ---- __lsan_is_turned_off, found in .symtab, asked at the check ----
a_run off lsanapi off
a_line lsan_turned_off_recoverable_0 "$T/off.out" "off 0"
a_line lsan_turned_off_no_exit_check "$(a_exit off)" "flags 18"
t_status lsan_turned_off_gate_skips 0 "$HEAPSNAP" gate "$T"/off.*.hsnap
# exported (-rdynamic) and stripped: found by dlsym
a_run offdyn lsanapi_dyn_stripped off
a_line lsan_hooks_found_when_exported "$T/offdyn.out" "off 0"
# neither: a stripped executable's hooks cannot be found (README)
a_run offstrip lsanapi_stripped off
a_line lsan_hooks_stripped_unseen "$T/offstrip.out" "off 1"

# ---- __lsan_default_suppressions: in the snapshot, applied by leaks and gate ----
a_run supp lsanapi supp
"$HEAPSNAP" leaks "$T"/supp.*.hsnap >"$T/supp.leaks" 2>&1
a_line lsan_default_suppressions_applied "$T/supp.leaks" "   suppressed: 666 bytes in 1 blocks"
a_line lsan_default_suppressions_rest "$T/supp.leaks" "   direct: 1337 bytes in 1 blocks"
if grep -q "matched: leak:lsan_supp_leaker (lsanapi's __lsan_default_suppressions():2)" "$T/supp.leaks"; then
  t_pass lsan_default_suppressions_named
else t_fail lsan_default_suppressions_named "$(grep -A2 SUPPRESSIONS "$T/supp.leaks" | tr '\n' ' ')"; fi
"$HEAPSNAP" gate --format json "$T"/supp.*.hsnap >"$T/supp.json" 2>&1
if grep -q '"suppression": "leak:lsan_supp_leaker"' "$T/supp.json"; then
  t_pass lsan_default_suppressions_gate
else t_fail lsan_default_suppressions_gate "$(head -c 300 "$T/supp.json")"; fi
"$HEAPSNAP" info "$T"/supp.*.hsnap >"$T/supp.info" 2>&1
a_line lsan_default_suppressions_info "$T/supp.info" \
  "suppressions:     2 lines from the program's __lsan_default_suppressions()"

# ---- a program built with -fsanitize=leak carries LSan's own runtime:
# not supported (two interposers), but it runs, and the shim says so once ----
if t_build sanleak $L/lsanapi.c -pthread -fsanitize=leak 2>"$T/sanleak.build"; then
  HEAPSNAP_OUTPUT="$T/sanleak.%p.hsnap" LD_PRELOAD="$SHIM" "$T/sanleak" >"$T/sanleak.out" 2>"$T/sanleak.err"
  rc=$?
  n=$(grep -c "carries LeakSanitizer's own runtime" "$T/sanleak.err")
  if [ "$rc" = 0 ] && [ "$n" = 1 ]; then t_pass lsan_sanitized_program_runs_warned
  else t_fail lsan_sanitized_program_runs_warned "exit $rc, $n warnings: $(head -c 200 "$T/sanleak.err")"; fi
else
  t_skip lsan_sanitized_program_runs_warned "gcc -fsanitize=leak does not link here (liblsan)"
fi

# ---- merge keeps them: a merged leak check is judged under them ----
"$HEAPSNAP" merge "$T"/supp.*.hsnap "$(a_seq chk 0 | sed 's/\.txt$/.hsnap/')" -o "$T/merged.hsnap" >/dev/null 2>&1
"$HEAPSNAP" leaks "$T/merged.hsnap" >"$T/merged.leaks" 2>&1
a_line lsan_default_suppressions_survive_merge "$T/merged.leaks" "   suppressed: 666 bytes in 1 blocks"

# ---- the program's own have no file: annotations do not name one ----
"$HEAPSNAP" gate --format github "$T"/chk.*.hsnap >"$T/chk.gh" 2>&1
if grep -q '^::warning title=heapsnap stale suppression::' "$T/chk.gh" &&
   ! grep -q "file=lsanapi's" "$T/chk.gh"; then t_pass lsan_program_suppression_no_file_annotation
else t_fail lsan_program_suppression_no_file_annotation "$(grep stale "$T/chk.gh" | head -c 300)"; fi
"$HEAPSNAP" leaks --format json "$T"/supp.*.hsnap >"$T/supp.ljson" 2>&1
if python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["suppressions"]
assert [(x["name"], x["program"], x["records"], x["bytes"]) for x in s] == [("leak:lsan_supp_leaker", True, 1, 666)], s
' "$T/supp.ljson" 2>"$T/supp.pyerr"; then t_pass lsan_program_suppression_json
else t_fail lsan_program_suppression_json "$(tail -c 300 "$T/supp.pyerr")"; fi
