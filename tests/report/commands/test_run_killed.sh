# test_run_killed.sh - what a `heapsnap run` that is signalled leaves in
# TMPDIR: SIGHUP and SIGTERM (and SIGINT) sent to run are forwarded to CMD and
# run removes its manifest file once CMD ended; a signal run inherited as
# ignored (nohup, a background job) stays ignored for CMD; a run ended by
# SIGKILL leaves heapsnap-manifest.<its pid>.XXXXXX, which `heapsnap clean`
# removes once that pid is gone, and never while the run lives.
tmp=$T/tmp; mkdir -p "$tmp"
manifests() { ls -A "$tmp" | grep '^heapsnap-manifest\.' ; }
# start_run NAME: run -- sleep in the background ($rpid), the sleeping
# process's pid in $T/NAME.pid once it is there
start_run() {
  rm -f "$T/$1.pid"
  TMPDIR=$tmp "$HEAPSNAP" run -q -o "$T/$1.%p.hsnap" -- sh -c 'echo $$ >"$0"; exec sleep 5' "$T/$1.pid" \
    >/dev/null 2>"$T/$1.err" & rpid=$!
  for _ in $(seq 100); do [ -s "$T/$1.pid" ] && break; sleep 0.05; done
}

# (SIGINT is left out: a background job of a non-interactive shell starts
# with it ignored, which run keeps)
for sig in HUP TERM; do
  start_run "$sig"
  name=$(manifests)
  kill -"$sig" "$rpid"; wait "$rpid"; rc=$?
  want=$((128 + $(kill -l "$sig")))
  case "$name" in heapsnap-manifest.$rpid.??????) named=1 ;; *) named=0 ;; esac
  if [ "$rc" = "$want" ] && [ "$named" = 1 ] && [ -z "$(manifests)" ]; then
    t_pass "run_sig${sig,,}_forwarded_manifest_removed"
  else t_fail "run_sig${sig,,}_forwarded_manifest_removed" "status $rc (want $want), manifest was '$name', left: $(manifests | tr '\n' ' ')"; fi
done

# ---- an ignored signal stays ignored for CMD (sh keeps SIG_IGN from its start)
( trap '' INT; exec "$HEAPSNAP" run -q -o "$T/ign.%p.hsnap" -- sh -c 'kill -INT $$; echo alive' ) \
  >"$T/ign.out" 2>"$T/ign.err"; rc=$?
if [ "$rc" = 0 ] && [ "$(cat "$T/ign.out")" = alive ]; then t_pass run_ignored_signal_stays_ignored_for_cmd
else t_fail run_ignored_signal_stays_ignored_for_cmd "status $rc: $(head -c 200 "$T/ign.out" "$T/ign.err" | tr '\n' ' ')"; fi

# ---- SIGKILL: the manifest stays, named by run's pid; clean leaves it
# while that run lives (here: while another one does) and takes it after
start_run live; live=$rpid
start_run kill
kill -KILL "$rpid"; wait "$rpid" 2>/dev/null
kill -TERM "$(cat "$T/kill.pid")" 2>/dev/null
"$HEAPSNAP" clean --min-age 0 "$tmp" >"$T/clean.out" 2>"$T/clean.err"; rc=$?
left=$(manifests | tr '\n' ' ')
if [ "$rc" = 0 ] && grep -q "^removed $tmp/heapsnap-manifest\.$rpid\.[A-Za-z0-9]\{6\} (" "$T/clean.out" &&
   [ "$left" = "$(cd "$tmp" && ls -d heapsnap-manifest."$live".?????? 2>/dev/null | tr '\n' ' ')" ] && [ -n "$left" ]; then
  t_pass clean_removes_killed_runs_manifest_keeps_live_ones
else t_fail clean_removes_killed_runs_manifest_keeps_live_ones "status $rc, left: $left, out: $(head -c 300 "$T/clean.out" "$T/clean.err" | tr '\n' ' ')"; fi
kill -TERM "$live"; wait "$live" 2>/dev/null
if [ -z "$(manifests)" ]; then t_pass run_live_one_removes_its_own_after
else t_fail run_live_one_removes_its_own_after "left: $(manifests | tr '\n' ' ')"; fi
