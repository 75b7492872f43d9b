# test_fuzz.sh - `make fuzz` briefly: the libFuzzer + ASan/UBSan target over
# the snapshot reader (tests/fuzz/fuzz_load.c) builds from a clean tree, loads
# the committed seed corpus, and runs 10 s without a crash, leak or hang.
# The corpus holds real state files of a killed program (tests/fuzz/mkstate.sh),
# each one the reader takes whole, so the fuzzer starts inside the state reader.
# regress_*.bin are inputs that once crashed the reader, replayed each run:
# two_stats is killed_zstd.state with a second STATS section (its output
# buffer was sized for one).  bomb_* are decompression bombs (snap_writer.h's
# w_bomb, tests/report/load/mkbomb.c's state): a reader that inflates or
# allocates before it checks them passes libFuzzer's RSS limit and fails here.
# killed_peak_past_stacks.state is an early kill's state from a shim whose
# document's PEAK named traces it had no stacks for (statemin.py of it): the
# reader drops those items.
# Longer runs: make fuzz FUZZ_SECONDS=600.
if make --no-print-directory fuzz BUILD="$T/b" FUZZ_SECONDS=10 >"$T/fuzz.log" 2>&1; then
  if grep -q "Done [0-9]* runs" "$T/fuzz.log"; then t_pass fuzz_reader_10s_clean
  else t_fail fuzz_reader_10s_clean "no 'Done N runs' line: $(tail -c 300 "$T/fuzz.log" | tr '\n' ' ')"; fi
else
  t_fail fuzz_reader_10s_clean "$(grep -m1 -A2 'ERROR\|error:\|No such' "$T/fuzz.log" | tr '\n' ' ' | head -c 400)"
fi
seeds=$(ls tests/fuzz/corpus/*.hsnap 2>/dev/null | wc -l)
if [ "$seeds" -ge 4 ] && grep -q "INFO: seed corpus: files: [1-9]\|files found in tests/fuzz/corpus" "$T/fuzz.log"; then
  t_pass fuzz_seed_corpus_loaded
else t_fail fuzz_seed_corpus_loaded "$seeds seeds in tests/fuzz/corpus; log: $(grep -m2 'corpus' "$T/fuzz.log" | tr '\n' ' ')"; fi
states=$(ls tests/fuzz/corpus/*.state 2>/dev/null)
bad=""
for f in $states; do
  "$HEAPSNAP" info "$f" 2>/dev/null | grep -q "^reason: *killed" || bad="$bad $f"
done
if [ "$(echo "$states" | wc -w)" -ge 3 ] && [ -z "$bad" ]; then t_pass fuzz_state_seeds_load_whole
else t_fail fuzz_state_seeds_load_whole "state seeds: $(echo $states); not read as killed:$bad"; fi
