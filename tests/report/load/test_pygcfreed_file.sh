# test_pygcfreed_file.sh - PYGCFREED read from a file: tests/fuzz/mkcorpus.c's
# gcfreed.hsnap says the collector freed 7 objects (448 B) at trace 0 and 2
# (96 B) at trace 2, the interpreter 12; `top --collected` sums them in the
# program's one file (--key filename: no debug information) and prints both totals, `merge` writes the section
# back, and the committed fuzz seed is this file.
if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail pygcfreed_mkcorpus_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
f=$T/c/gcfreed.hsnap
want="[prog]:0: collected=9, size=544 B|Collected: 9 objects (544 B) freed by the cycle collector at traced sites; the interpreter counts 12 collected (gc.get_stats())|"
got=$("$HEAPSNAP" top "$f" --collected --key filename 2>/dev/null | tr '\n' '|')
if [ "$got" = "$want" ]; then t_pass pygcfreed_top_collected_from_a_file
else t_fail pygcfreed_top_collected_from_a_file "$got"; fi
if "$HEAPSNAP" merge -o "$T/m.hsnap" "$f" "$f" 2>"$T/m.err" &&
   [ "$("$HEAPSNAP" top "$T/m.hsnap" --collected --key filename 2>/dev/null | tr '\n' '|')" = \
     "[prog]:0: collected=18, size=1088 B|Collected: 18 objects (1088 B) freed by the cycle collector at traced sites; the interpreter counts 24 collected (gc.get_stats())|" ]
then t_pass pygcfreed_merge_writes_it_back
else t_fail pygcfreed_merge_writes_it_back "$(head -c 200 "$T/m.err") $("$HEAPSNAP" top "$T/m.hsnap" --collected 2>&1 | head -3)"; fi
if cmp -s "$f" tests/fuzz/corpus/gcfreed.hsnap; then t_pass pygcfreed_fuzz_seed_current
else t_fail pygcfreed_fuzz_seed_current "tests/fuzz/corpus/gcfreed.hsnap differs from mkcorpus' (copy it)"; fi
