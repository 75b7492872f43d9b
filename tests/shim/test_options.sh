# test_options.sh - HEAPSNAP_* handling: a bad value warns once and the
# default applies; an unwritable output directory warns and the program
# keeps its own output and status; %e and %% expand (%e to the name a program
# was started by: a symlink's, as Debian's redis-server -> redis-check-rdb); the manifest lists
# every snapshot; HEAPSNAP_DEPTH, HEAPSNAP_BLOCKS=0 and HEAPSNAP_FATAL=0.
. tests/shim/lib_shim.sh
s_dump_build
s_build alloc_all || t_fail alloc_all_builds "cc failed"
s_build forklife || t_fail forklife_builds "cc failed"
ulimit -c 0
"$T/alloc_all" >"$T/plain.out" 2>"$T/plain.err"; plain_status=$?

run_shim() { # run_shim VAR=VALUE...: alloc_all under the shim in $T
  (cd "$T" && env LD_PRELOAD="$SHIM" "$@" ./alloc_all >"$T/shim.out" 2>"$T/shim.err"; echo $? >"$T/shim.status")
}

# ---- bad values: one warning each, defaults used
run_shim HEAPSNAP_OUTPUT="$T/bad.hsnap" HEAPSNAP_DEPTH=abc HEAPSNAP_SIGNAL=NOSUCH HEAPSNAP_UNWIND=magic \
  HEAPSNAP_INTERVAL=-3 HEAPSNAP_BLOCKS=maybe
for var in DEPTH SIGNAL UNWIND INTERVAL BLOCKS; do
  choices= # a choice's warning names them
  [ "$var" = UNWIND ] && choices=' (one of auto|fp|libunwind)'
  n=$(grep -c "^heapsnap: bad value for HEAPSNAP_$var$choices, using the default\$" "$T/shim.err")
  if [ "$n" = 1 ]; then t_pass "bad_${var}_warns_once"; else t_fail "bad_${var}_warns_once" "$n warnings: $(head -c 300 "$T/shim.err")"; fi
done
if [ "$(wc -l <"$T/shim.err")" = 5 ] && cmp -s "$T/plain.out" "$T/shim.out" &&
   [ "$(cat "$T/shim.status")" = "$plain_status" ]; then t_pass bad_values_change_nothing_else
else t_fail bad_values_change_nothing_else "$(wc -l <"$T/shim.err") stderr lines, status $(cat "$T/shim.status")"; fi
if s_dump "$T/bad.hsnap" >"$T/bad.dump" 2>&1 && grep -q '^meta .* depth=64 .* flags=2$' "$T/bad.dump"; then t_pass bad_values_use_defaults
else t_fail bad_values_use_defaults "$(head -1 "$T/bad.dump")"; fi

# ---- a HEAPSNAP_* name in no table (a misspelling): one warning, with the
# nearest name when one is near; the CLI's own variables are known; the
# program's output and status stay; and the same under `heapsnap run`
run_shim HEAPSNAP_OUTPUT="$T/u.hsnap" HEAPSNAP_SAMPEL=1000 HEAPSNAP_PROGRESS=always HEAPSNAP_NOTHING_LIKE_IT=1
if [ "$(wc -l <"$T/shim.err")" = 2 ] &&
   grep -qx 'heapsnap: HEAPSNAP_SAMPEL is not a heapsnap variable: ignored (did you mean HEAPSNAP_SAMPLE?)' "$T/shim.err" &&
   grep -qx 'heapsnap: HEAPSNAP_NOTHING_LIKE_IT is not a heapsnap variable: ignored' "$T/shim.err" &&
   cmp -s "$T/plain.out" "$T/shim.out" && [ "$(cat "$T/shim.status")" = "$plain_status" ]
then t_pass unknown_variable_warns_once_with_nearest
else t_fail unknown_variable_warns_once_with_nearest "status $(cat "$T/shim.status"): $(head -c 400 "$T/shim.err" | tr '\n' '|')"; fi
(cd "$T" && HEAPSNAP_SAMPEL=1000 "$HEAPSNAP" run -o "$T/ur.%p.hsnap" -- ./alloc_all >/dev/null 2>"$T/run.err")
n=$(grep -c 'HEAPSNAP_SAMPEL is not a heapsnap variable: ignored (did you mean HEAPSNAP_SAMPLE?)' "$T/run.err")
[ "$n" = 1 ] && t_pass unknown_variable_warns_under_run || t_fail unknown_variable_warns_under_run "$n warnings: $(head -c 300 "$T/run.err")"

# ---- good values
run_shim HEAPSNAP_OUTPUT="$T/d.hsnap" HEAPSNAP_DEPTH=3 HEAPSNAP_BLOCKS=0 HEAPSNAP_SIGNAL=SIGUSR1
if [ ! -s "$T/shim.err" ] && s_dump "$T/d.hsnap" >"$T/d.dump" 2>&1 && grep -q '^meta .* depth=3 .* flags=0$' "$T/d.dump" &&
   ! grep -q '^blocks' "$T/d.dump"; then t_pass depth_and_blocks_options
else t_fail depth_and_blocks_options "$(head -c 200 "$T/shim.err") $(head -1 "$T/d.dump")"; fi

# ---- unwritable output directory
run_shim HEAPSNAP_OUTPUT=/nonexistent/dir/x.%p.hsnap
n=$(grep -c '^heapsnap: cannot write /nonexistent/dir/x\.[0-9]*\.hsnap' "$T/shim.err")
if [ "$n" = 1 ] && [ "$(wc -l <"$T/shim.err")" = 1 ] && cmp -s "$T/plain.out" "$T/shim.out" &&
   [ "$(cat "$T/shim.status")" = "$plain_status" ]; then t_pass unwritable_output_warns_and_exits_normally
else t_fail unwritable_output_warns_and_exits_normally "status $(cat "$T/shim.status"): $(head -c 300 "$T/shim.err")"; fi

# ---- %e and %%, the manifest
run_shim HEAPSNAP_OUTPUT="$T/x.%e.%%.hsnap" HEAPSNAP_MANIFEST="$T/manifest"
if [ -e "$T/x.alloc_all.%.hsnap" ]; then t_pass output_expands_e_and_percent
else t_fail output_expands_e_and_percent "$(ls "$T" | tr '\n' ' ')"; fi
ln -sf "$T/alloc_all" "$T/redis-server"
(cd / && env LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/y.%e.hsnap" "$T/redis-server" >/dev/null 2>"$T/sym.err")
if [ -e "$T/y.redis-server.hsnap" ] && [ ! -e "$T/y.alloc_all.hsnap" ]; then t_pass output_e_is_the_symlink_started
else t_fail output_e_is_the_symlink_started "$(ls "$T" | grep '^y\.' | tr '\n' ' ') $(head -c 200 "$T/sym.err")"; fi
if [ "$(tr '\0' '\n' <"$T/manifest" 2>/dev/null)" = "$T/x.alloc_all.%.hsnap" ] &&
   [ "$(tail -c 1 "$T/manifest" | od -An -c | tr -d ' ')" = '\0' ]; then t_pass manifest_lists_snapshot
else t_fail manifest_lists_snapshot "$(cat "$T/manifest" 2>/dev/null)"; fi
(cd "$T" && LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT=rel.%p.hsnap HEAPSNAP_MANIFEST="$T/manifest2" ./forklife >/dev/null 2>&1)
if [ "$(tr '\0' '\n' <"$T/manifest2" | wc -l)" = 2 ] && tr '\0' '\n' <"$T/manifest2" | while read -r f; do [ -e "$f" ] && case $f in /*) ;; *) exit 1 ;; esac || exit 1; done
then t_pass manifest_absolute_paths_from_both_sides_of_fork
else t_fail manifest_absolute_paths_from_both_sides_of_fork "$(tr '\n' ' ' <"$T/manifest2")"; fi

# ---- HEAPSNAP_FATAL=0: no snapshot, same death
rm -f "$T"/c.*.hsnap
HEAPSNAP_FATAL=0 HEAPSNAP_OUTPUT="$T/c.%p.hsnap" s_same fatal_off_same_status "$T/forklife" crash segv
if ls "$T"/c.*.hsnap >/dev/null 2>&1; then t_fail fatal_off_writes_nothing "$(ls "$T"/c.*)"; else t_pass fatal_off_writes_nothing; fi
