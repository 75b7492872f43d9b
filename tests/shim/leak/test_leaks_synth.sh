# tests/shim/leak/test_leaks_synth.sh - `heapsnap leaks` on the independent test writer's
# leak heap (tests/fuzz/snap_writer.h: 5 model records, every class, a
# 3-cycle, a self-reference, a cycle owned by a direct leak), whose answer is
# written down there: direct 72/3, indirect 32/2, cycle 80/6, possible
# 100/1, reachable 4103/2.  Its modules do not exist, so frames are
# "prog+0x..." - stable.  Goldens in tests/golden/leaks_*.txt.
# UPDATE_GOLDEN=1 rewrites them.

if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail mkcorpus_builds "$(head -c 300 "$T/cc.err")"
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
rm -f "$T/c"/bomb_*.hsnap "$T/c"/*_bad_*.hsnap # the seeds the reader refuses: not for these tests
S=$T/c/leaks.hsnap
G=tests/golden

# leaks_golden NAME ARGS...: stdout of `heapsnap leaks ARGS` vs leaks_NAME.txt
leaks_golden() {
  local name=$1; shift
  if ! "$HEAPSNAP" leaks "$@" >"$T/$name.out" 2>"$T/$name.err"; then
    t_fail "leaks_$name" "exit $?: $(head -c 300 "$T/$name.err")"; return
  fi
  t_golden "leaks_$name" "$G/leaks_$name.txt" "$T/$name.out"
}

leaks_golden synth_default "$S"
leaks_golden synth_all_refs --kinds all --refs "$S"
leaks_golden synth_sort_size --sort size --kinds direct,indirect "$S"
leaks_golden synth_n2 -n 2 "$S"
leaks_golden synth_possible --kinds possible,reachable "$S"

# The summary is the LEAKS totals exactly, whatever kinds are shown.
"$HEAPSNAP" leaks --kinds possible "$S" 2>/dev/null | sed -n '/^LEAK SUMMARY:/,/^   suppressed:/p' >"$T/sum.out"
cat >"$T/sum.want" <<'W'
LEAK SUMMARY:
   direct: 72 bytes in 3 blocks
   indirect: 32 bytes in 2 blocks
   cycle: 80 bytes in 6 blocks
   possibly lost: 100 bytes in 1 blocks
   still reachable: 4103 bytes in 2 blocks
   suppressed: 0 bytes in 0 blocks
W
if diff -u "$T/sum.want" "$T/sum.out" >"$T/sum.diff"; then t_pass leaks_summary_is_the_totals
else t_fail leaks_summary_is_the_totals "$(tr '\n' ' ' <"$T/sum.diff" | head -c 400)"; fi

# Record lines: default shows direct + cycle only, largest first.
"$HEAPSNAP" leaks -n 0 "$S" 2>/dev/null | grep 'in loss record' >"$T/hdr.out"
if grep -qx "72 (40 direct, 32 indirect) bytes in 2 blocks are definitely lost in loss record 1 of 4" "$T/hdr.out" &&
   ! grep -q 'possibly\|reachable\|indirectly lost in loss' "$T/hdr.out"; then t_pass leaks_default_kinds_largest_first
else t_fail leaks_default_kinds_largest_first "$(tr '\n' '|' <"$T/hdr.out")"; fi

# Filters: --include keeps records whose site matches; the summary follows.
"$HEAPSNAP" leaks -n 0 --include 'prog+0x40100f' "$S" 2>/dev/null >"$T/inc.out"
if grep -q '^   direct: 40 bytes in 2 blocks$' "$T/inc.out" && grep -q '^   cycle: 16 bytes in 2 blocks$' "$T/inc.out" &&
   [ "$(grep -c 'in loss record' "$T/inc.out")" = 2 ]; then t_pass leaks_include_filters_records_and_summary
else t_fail leaks_include_filters_records_and_summary "$(tr '\n' '|' <"$T/inc.out" | head -c 400)"; fi
"$HEAPSNAP" leaks --exclude 'prog' --kinds all "$S" 2>/dev/null >"$T/exc.out"
if grep -q '^   direct: 0 bytes in 0 blocks$' "$T/exc.out" && grep -q '^   still reachable: 4096 bytes in 1 blocks$' "$T/exc.out"; then
  t_pass leaks_exclude_by_module
else t_fail leaks_exclude_by_module "$(tr '\n' '|' <"$T/exc.out" | head -c 400)"; fi

# Two snapshots of the same heap: every record and total doubles, records merge.
"$HEAPSNAP" leaks "$S" "$S" 2>/dev/null >"$T/two.out"
if grep -q '^144 (80 direct, 64 indirect) bytes in 4 blocks are definitely lost in loss record 1 of 4$' "$T/two.out" &&
   grep -q '^   cycle: 160 bytes in 12 blocks$' "$T/two.out"; then t_pass leaks_many_snapshots_merge
else t_fail leaks_many_snapshots_merge "$(tr '\n' '|' <"$T/two.out" | head -c 400)"; fi

# --gen-suppressions: both syntaxes, and what they print suppresses the record.
leaks_golden synth_gen_lsan --gen-suppressions -n 1 "$S"
leaks_golden synth_gen_valgrind --gen-suppressions=valgrind -n 1 "$S"
"$HEAPSNAP" leaks --gen-suppressions=valgrind -n 1 "$S" 2>/dev/null | sed -n '/^{$/,/^}$/p' >"$T/gen.supp"
"$HEAPSNAP" leaks --suppressions "$T/gen.supp" "$S" 2>/dev/null >"$T/gen.out"
# (-n 1: the site of most bytes, prog+0x40102f, whose largest record is the 64 B
# cycle; definite = direct and cycle: the direct record at the same stack goes too)
if grep -q '^   suppressed: 96 bytes in 5 blocks$' "$T/gen.out" && grep -q '^   direct: 40 bytes in 2 blocks$' "$T/gen.out" &&
   grep -q '^   cycle: 16 bytes in 2 blocks$' "$T/gen.out"; then
  t_pass leaks_generated_suppression_suppresses
else t_fail leaks_generated_suppression_suppresses "$(tr '\n' '|' <"$T/gen.out" | head -c 400)"; fi

# A snapshot without a leak check, and bad options: exit 2, one line.
"$HEAPSNAP" leaks "$T/c/blocks.hsnap" >"$T/nl.out" 2>"$T/nl.err"; rc=$?
if [ "$rc" = 2 ] && [ ! -s "$T/nl.out" ] && [ "$(wc -l <"$T/nl.err")" = 1 ] &&
   grep -qF "heapsnap: $T/c/blocks.hsnap: no leak check in this snapshot (run with --leaks or HEAPSNAP_LEAKS=1)" "$T/nl.err"; then
  t_pass leaks_without_leaks_section
else t_fail leaks_without_leaks_section "exit $rc: $(cat "$T/nl.err")"; fi
t_status leaks_bad_kind 2 "$HEAPSNAP" leaks --kinds direct,lost "$S"
t_status leaks_bad_sort 2 "$HEAPSNAP" leaks --sort name "$S"
t_status leaks_bad_format 2 "$HEAPSNAP" leaks --format xml "$S"
t_status leaks_no_operand 2 "$HEAPSNAP" leaks
t_status leaks_missing_suppressions 2 "$HEAPSNAP" leaks --suppressions "$T/none.supp" "$S"
t_status leaks_help 0 "$HEAPSNAP" leaks --help
t_status leaks_exit_0_when_leaking 0 "$HEAPSNAP" leaks "$S"

# top --leaked: tracemalloc lines over direct + indirect + cycle blocks only
# (184 B in 11 blocks, all in the prog module; 4203 B of others are not).
"$HEAPSNAP" top --leaked --key module "$S" >"$T/tl.out" 2>"$T/tl.err"
if [ "$(cat "$T/tl.out")" = "prog: size=184 B, count=11, average=17 B" ]; then t_pass top_leaked_sums_leaked_blocks
else t_fail top_leaked_sums_leaked_blocks "$(cat "$T/tl.out" "$T/tl.err" | tr '\n' '|')"; fi
"$HEAPSNAP" top --key module "$S" >"$T/tall.out" 2>/dev/null
if grep -q '^libc.so.6: size=4196 B, count=2' "$T/tall.out"; then t_pass top_without_leaked_counts_all
else t_fail top_without_leaked_counts_all "$(tr '\n' '|' <"$T/tall.out")"; fi
"$HEAPSNAP" top --leaked "$T/c/blocks.hsnap" >"$T/tn.out" 2>"$T/tn.err"; rc=$?
if [ "$rc" = 2 ] && grep -q 'blocks.hsnap: no leak check in this snapshot' "$T/tn.err"; then t_pass top_leaked_needs_leak_check
else t_fail top_leaked_needs_leak_check "exit $rc: $(cat "$T/tn.err")"; fi

# --why SITE / top --retainers over the writer's RETAINERS (see snap_writer.h):
# trace 1's 4096 B block is held by a stack, trace 0's 7 B block by globals;
# then block by block from its HOLDERS (the writer's w_holders).
leaks_golden synth_why --why 'libc.so.6+0xfff' "$S"
"$HEAPSNAP" top --retainers -n 1 "$S" >"$T/tr.out" 2>/dev/null
if [ "$(head -1 "$T/tr.out")" = "libc.so.6+0xfff: 4096 B still reachable in 1 blocks, kept alive by:" ] &&
   [ "$(wc -l <"$T/tr.out")" = 3 ]; then t_pass top_retainers_biggest_first
else t_fail top_retainers_biggest_first "$(tr '\n' '|' <"$T/tr.out")"; fi
"$HEAPSNAP" leaks --why 'prog+0x40100f' "$S" >"$T/w0.out" 2>/dev/null
if [ "$(head -2 "$T/w0.out")" = "prog+0x40100f: 7 B still reachable in 1 blocks, kept alive by:
   module data (globals): 2 refs, first to reach 1 blocks, 7 B" ] &&
   grep -qx '   reachable 7 B at 0x6000: from module data at 0x601010' "$T/w0.out"; then t_pass leaks_why_globals
else t_fail leaks_why_globals "$(tr '\n' '|' <"$T/w0.out")"; fi
"$HEAPSNAP" leaks --why nope.c:3 "$S" >"$T/wn.out" 2>"$T/wn.err"; rc=$?
if [ "$rc" = 2 ] && grep -q 'heapsnap: leaks: --why nope.c:3: no allocation site by that name' "$T/wn.err"; then t_pass leaks_why_unknown_site
else t_fail leaks_why_unknown_site "exit $rc: $(cat "$T/wn.err")"; fi

# A trace recorded without frames is one placeholder, "<unknown>" in every
# field, and every command names it and a frame without a source file alike:
# top's key "<unknown>:0" and "prog+0x40100f" (a module without symbols:
# its address) (before: leaks printed "(in ??)" and gate "??:0" for both).
U=$T/c/leaks_noframes.hsnap
"$HEAPSNAP" top --leaked "$U" >"$T/u.top" 2>/dev/null
"$HEAPSNAP" leaks "$U" >"$T/u.leaks" 2>/dev/null
"$HEAPSNAP" gate "$U" --format json >"$T/u.gate" 2>/dev/null
if grep -q '^<unknown>:0: ' "$T/u.top" && grep -q '^prog+0x40100f: ' "$T/u.top" &&
   grep -q '^    at 0x0: <unknown> (<unknown>:0)$' "$T/u.leaks" &&
   grep -q 'cycle of 3 blocks: <unknown>:0 -> <unknown>:0 -> ' "$T/u.leaks" &&
   grep -q '"site": "<unknown>:0"' "$T/u.gate" && grep -q '"site": "prog+0x40100f"' "$T/u.gate" &&
   ! grep -q '"site": "??' "$T/u.gate" && ! grep -q '??' "$T/u.leaks"; then t_pass unknown_frame_reads_alike_in_top_leaks_gate
else t_fail unknown_frame_reads_alike_in_top_leaks_gate "$(cat "$T/u.top" "$T/u.leaks" "$T/u.gate" | grep -n 'unknown\|??\|prog' | head -8 | tr '\n' '|')"; fi
