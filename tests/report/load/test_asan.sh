# tests/report/load/test_asan.sh - runs the snapshot reader's unit test (every
# truncation, bit flips, overflowing counts, ...) under AddressSanitizer and
# UndefinedBehaviorSanitizer: a damaged file must be refused without a single
# out-of-bounds read or overflow.  Each case reports as asan_<case>.
bin=$T/test_snap_asan
if ! ${CC:-gcc} -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
     -std=gnu11 -D_GNU_SOURCE $ROOM_INC -Itests \
     tests/report/load/test_snap.c $(link_srcs tests/report/load/test_snap.c) -o "$bin" -lz -lzstd 2>"$T/cc.err"; then
  if grep -q "cannot find.*asan\|libasan" "$T/cc.err"; then
    t_skip asan_build "no AddressSanitizer runtime: $(head -c 200 "$T/cc.err")"
  else
    t_fail asan_build "$(head -c 300 "$T/cc.err" | tr '\n' ' ')"
  fi
else
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin" >"$T/asan.out" 2>"$T/asan.err"; rc=$?
  sed -n 's/^\(PASS\|FAIL\|SKIP\) /\1 asan_/p' "$T/asan.out"
  if [ "$rc" -ne 0 ] || grep -q "ERROR: \|runtime error" "$T/asan.err"; then
    t_fail asan_clean "exit $rc: $(grep -m1 -A3 'ERROR\|runtime error' "$T/asan.err" | tr '\n' ' ' | head -c 400)"
  else
    t_pass asan_clean
  fi
fi
