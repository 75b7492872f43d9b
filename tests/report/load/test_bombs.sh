# tests/report/load/test_bombs.sh - small files that declare huge sizes
# (tests/report/load/mkbomb.c: a 66 KB snapshot whose TRACES claims
# 0x0fffffff traces over 2 GiB of zeros, a frame of 8 GiB, a TRACES that
# declares 48 MiB over a frame of 2 GiB, a state file's document of 2 GiB,
# a sparse state of 0x0fffffff traces) are refused by every reader before
# it inflates or allocates: exit 2, one line that names the section and
# the bound, a peak RSS under 64 MiB, well under 10 s; the shim's own
# files still read: 2.5 million equal blocks, BLOCKS packed
# (hsnap_packed.h) ~6,800 times.  The CLI runs under
# a 4 GiB address-space limit so that a regression fails instead of
# swamping the machine.
if ! ${CC:-gcc} -O1 -Ishim tests/report/load/mkbomb.c -o "$T/mkbomb" -lz 2>"$T/cc.err"; then
  t_fail bombs_generator_builds "$(head -c 300 "$T/cc.err" | tr '\n' ' ')"
  return 0 2>/dev/null || exit 0
fi
if [ ! -x /usr/bin/time ]; then
  t_skip bombs_refused_within_bound "no /usr/bin/time (Debian package time)"
  return 0 2>/dev/null || exit 0
fi
# bomb KIND WANT: the file mkbomb KIND writes, read by `heapsnap info`
bomb() {
  local kind=$1 want=$2 f=$T/bomb_$1 rc rss secs lines
  "$T/mkbomb" "$kind" "$f" || { t_fail "bomb_${kind}_refused" "mkbomb $kind failed"; return; }
  (ulimit -v 4194304; /usr/bin/time -f "%M %e" -o "$T/time_$kind" \
     timeout 20 "$HEAPSNAP" info "$f" >"$T/out_$kind" 2>"$T/err_$kind"); rc=$?
  read -r rss secs < <(tail -1 "$T/time_$kind")
  lines=$(wc -l <"$T/err_$kind")
  if [ "$rc" != 2 ] || [ "$lines" != 1 ] || ! grep -q "$want" "$T/err_$kind"; then
    t_fail "bomb_${kind}_refused" "exit $rc, $lines lines: $(head -c 300 "$T/err_$kind" | tr '\n' ' ')"
  elif [ "$rss" -ge 65536 ]; then
    t_fail "bomb_${kind}_refused" "peak RSS ${rss} KB (bound 64 MiB)"
  elif [ "${secs%.*}" -ge 3 ]; then
    t_fail "bomb_${kind}_refused" "$secs s"
  else
    t_pass "bomb_${kind}_refused"
  fi
}
bomb traces 'section TRACES: declares 2147483652 bytes, past the 64 MiB'
bomb frame8g 'section STATS: declares 8589934596 bytes, past the 64 MiB'
bomb liar 'section TRACES: its zstd frame holds more than the 50331648 bytes declared'
bomb state 'state file: section STATS: declares .* bytes, past the 64 MiB'
bomb sparse 'state file: its .*: declares .* bytes, past the 64 MiB'
# a real snapshot of 2.5 million equal blocks: ~12 KB packed from 80 MB,
# read whole
printf '#include <stdlib.h>\nint main(void)\n{\n    for (int i = 0; i < 2500000; i++)\n        if (!malloc(16))\n            return 1;\n    return 0;\n}\n' >"$T/many.c"
t_build many "$T/many.c"
HEAPSNAP_OUTPUT="$T/many.hsnap" HEAPSNAP_SITELINE=0 LD_PRELOAD="$SHIM" "$T/many"
if "$HEAPSNAP" info "$T/many.hsnap" >"$T/many.out" 2>"$T/many.err" &&
   grep -q "^live blocks: *2500000" "$T/many.out"; then
  t_pass bombs_bound_keeps_a_real_snapshot_of_2_5m_blocks
else
  t_fail bombs_bound_keeps_a_real_snapshot_of_2_5m_blocks "$(grep -v warning "$T/many.err" | head -c 300)"
fi
# the files the shim writes compressed still read whole (not the seeds
# made to be refused, *_bad_*)
bad=""
for f in tests/fuzz/corpus/zstd_*.hsnap tests/fuzz/corpus/killed_zstd.state; do
  case $f in *_bad_*) continue ;; esac
  "$HEAPSNAP" info "$f" >/dev/null 2>"$T/ok.err" || bad="$bad $f: $(head -c 200 "$T/ok.err")"
done
if [ -z "$bad" ]; then t_pass bombs_bound_keeps_real_files
else t_fail bombs_bound_keeps_real_files "$bad"; fi
