# tests/shim/leak/test_leaks_supp.sh - `heapsnap leaks --suppressions` with both
# syntaxes in one run over the test writer's leak heap (see test_leaks_synth.sh):
# what each suppression takes out of the summary, the SUPPRESSIONS list
# (matched with counts, stale ones), and bad files.

if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail mkcorpus_builds "$(head -c 300 "$T/cc.err")"
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
rm -f "$T/c"/bomb_*.hsnap "$T/c"/*_bad_*.hsnap # the seeds the reader refuses: not for these tests
S=$T/c/leaks.hsnap

# Trace 2's stack is prog+0x40102f <- prog+0x40103f <- prog+0x40104f; it
# holds record D (direct 32), the cycles C+E (64/4) and the indirect 32/2.
cat >"$T/lsan.supp" <<'EOF2'
# LeakSanitizer syntax
leak:prog+0x40103f
leak:never_called_anywhere
EOF2
cat >"$T/vg.supp" <<'EOF2'
{
   the_big_direct
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:prog+0x40100f
   ...
}
{
   stale_block
   Memcheck:Leak
   fun:nothing_like_this
}
{
   cond_is_ignored
   Memcheck:Cond
   fun:whatever
}
EOF2
"$HEAPSNAP" leaks --suppressions "$T/lsan.supp" --suppressions "$T/vg.supp" "$S" \
  >"$T/out" 2>"$T/err"; rc=$?
sed -n '/^LEAK SUMMARY:/,$p' "$T/out" | sed "s|$T/||" >"$T/sum"
cat >"$T/want" <<'EOF2'
LEAK SUMMARY:
   direct: 0 bytes in 0 blocks
   indirect: 0 bytes in 0 blocks
   cycle: 0 bytes in 0 blocks
   possibly lost: 100 bytes in 1 blocks
   still reachable: 4103 bytes in 2 blocks
   suppressed: 184 bytes in 11 blocks
SUPPRESSIONS:
   matched: leak:prog+0x40103f (lsan.supp:2): 3 records, 128 bytes in 7 blocks
   stale: leak:never_called_anywhere (lsan.supp:3)
   matched: the_big_direct (vg.supp:1): 2 records, 56 bytes in 4 blocks
   stale: stale_block (vg.supp:9)
EOF2
if [ "$rc" = 0 ] && diff -u "$T/want" "$T/sum" >"$T/d"; then t_pass supp_both_syntaxes_matched_and_stale
else t_fail supp_both_syntaxes_matched_and_stale "exit $rc: $(tr '\n' '|' <"$T/d" | head -c 600) $(head -c 200 "$T/err")"; fi
if ! grep -q 'in loss record' "$T/out"; then t_pass supp_suppressed_records_not_shown
else t_fail supp_suppressed_records_not_shown "$(grep 'in loss record' "$T/out" | head -3 | tr '\n' '|')"; fi

# match-leak-kinds: a reachable-only block leaves the direct leak alone.
cat >"$T/reach.supp" <<'EOF2'
{
   reachable_only
   Memcheck:Leak
   match-leak-kinds: reachable
   fun:prog+0x40100f
}
EOF2
"$HEAPSNAP" leaks --suppressions "$T/reach.supp" "$S" >"$T/r.out" 2>/dev/null
if grep -q '^   direct: 72 bytes in 3 blocks$' "$T/r.out" && grep -q '^   still reachable: 4096 bytes in 1 blocks$' "$T/r.out" &&
   grep -q '^   suppressed: 7 bytes in 1 blocks$' "$T/r.out"; then t_pass supp_match_leak_kinds
else t_fail supp_match_leak_kinds "$(sed -n '/SUMMARY/,$p' "$T/r.out" | tr '\n' '|')"; fi

# Bad suppression files: exit 2, one line naming FILE:LINE.
printf 'leak:ok\nrace:foo\n' >"$T/bad.supp"
"$HEAPSNAP" leaks --suppressions "$T/bad.supp" "$S" >"$T/b.out" 2>"$T/b.err"; rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$T/b.err")" = 1 ] && grep -qF "heapsnap: $T/bad.supp:2: unknown suppression 'race:foo'" "$T/b.err"; then
  t_pass supp_bad_line_names_file_and_line
else t_fail supp_bad_line_names_file_and_line "exit $rc: $(cat "$T/b.err")"; fi
printf '{\n  open\n  Memcheck:Leak\n  fun:x\n' >"$T/open.supp"
"$HEAPSNAP" leaks --suppressions "$T/open.supp" "$S" >"$T/o.out" 2>"$T/o.err"; rc=$?
if [ "$rc" = 2 ] && grep -q "open.supp:4: block 'open' has no closing" "$T/o.err"; then t_pass supp_unclosed_block
else t_fail supp_unclosed_block "exit $rc: $(cat "$T/o.err")"; fi
