# tests/shim/leak/test_leak_dontfork.sh - pages the program marked MADV_DONTFORK
# (absent from a fork's child) or MADV_WIPEONFORK (zero there) hold the only
# pointers to blocks: the exit check's verdict is the same in place and on a
# fork (shim/leak/dontfork.c copies those pages for the child), as
# valgrind's.  Past the copy's bound, one warning and a snapshot all the same.
# Fixture: tests/shim/leak/dontfork.c (valgrind's figures in its comment).

L=tests/shim/leak
t_build dontfork $L/dontfork.c -O1 &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail leak_dontfork_build "fixtures do not build"; return 0 2>/dev/null || exit 0; }

# d_classes MODE [ENV...]: "size:class count" of the fixture's 63xx blocks at exit
d_classes() {
  local mode=$1; shift
  rm -f "$T"/df.*.hsnap
  env "$@" HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/df.%p.hsnap" LD_PRELOAD="$SHIM" "$T/dontfork" "$mode" \
    2>"$T/df.$mode.err" || echo "exit $?"
  local f; f=$(ls "$T"/df.*.hsnap 2>/dev/null | head -1)
  [ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" |
    awk '$1 == "block" && $2 > 6300 && $2 < 6400 { n[$2 ":" $3]++ }
         END { for (k in n) print k, n[k] }' | sort | tr '\n' ' '
}
for mode in map:6301 wipe:6302 block:6303; do
  size=${mode#*:} mode=${mode%:*}
  want="$size:1 40 6399:3 1 "
  for fk in 0 1; do
    got=$(d_classes $mode HEAPSNAP_LEAK_FORK=$fk)
    name=leak_dontfork_${mode}_is_a_root_fork$fk
    if [ "$got" = "$want" ]; then t_pass $name; else t_fail $name "got '$got' want '$want'"; fi
  done
done

# 65 MiB marked MADV_DONTFORK: in place every block is found; on a fork the
# pages are past the copy's bound, so one warning says the fork misses them,
# and the snapshot is written all the same.
got=$(d_classes big HEAPSNAP_LEAK_FORK=0)
if [ "$got" = "6304:1 40 6399:3 1 " ] && [ ! -s "$T/df.big.err" ]; then t_pass leak_dontfork_big_in_place
else t_fail leak_dontfork_big_in_place "got '$got' $(head -c 200 "$T/df.big.err")"; fi
got=$(d_classes big HEAPSNAP_LEAK_FORK=1)
warns=$(grep -c 'MADV_DONTFORK past 64 MiB' "$T/df.big.err")
if [ "$warns" = 1 ] && [ "$(wc -l <"$T/df.big.err")" = 1 ] && [ "$got" = "6304:3 40 6399:3 1 " ]; then
  t_pass leak_dontfork_past_bound_warns_once
else
  t_fail leak_dontfork_past_bound_warns_once "warnings $warns, got '$got': $(head -c 300 "$T/df.big.err")"
fi
