# test_privileges.sh - the shim in processes whose privileges change or are
# raised: a secure-execution process (a setuid program reached through
# /etc/ld.so.preload, in a private mount namespace whose /etc is a scratch
# copy: the machine's /etc is never touched) records, writes and starts
# nothing; no HEAPSNAP_* value puts a line into the manifest; setuid,
# setpriv's sequence and setresgid with capabilities behave as without the
# shim with its helper thread on; `heapsnap run` hears of the snapshots (and
# failures) of a worker that became nobody.  Needs root (SKIP otherwise).
if [ "$(id -u)" != 0 ]; then
  t_skip privileges "needs root (setuid programs, user changes)"
  return 0
fi
chmod 0711 "$T"
t_build privdrop tests/shim/privdrop.c
P=$T/privdrop

# ---- AT_SECURE: a setuid-root program run by nobody, the shim preloaded
# by /etc/ld.so.preload (in a private mount namespace)
S=$T/secure
mkdir -p "$S/etc" "$S/bin" "$S/out"
chmod 0755 "$S" "$S/bin"; chmod 0777 "$S/out"
cp "$SHIM" "$S/libheapsnap.so"; chmod 0755 "$S/libheapsnap.so"
cp "$P" "$S/bin/privdrop"; chown 0:0 "$S/bin/privdrop"; chmod 4755 "$S/bin/privdrop"
for f in ld.so.cache passwd group nsswitch.conf; do [ -e /etc/$f ] && cp -a /etc/$f "$S/etc/"; done
echo "$S/libheapsnap.so" >"$S/etc/ld.so.preload"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$S/victim"; chmod 0644 "$S/victim"
cp "$S/victim" "$S/victim.orig"
secure_run() { # VERBOSE: the program's stdout to $S/out.txt, stderr to $S/err.txt
  unshare -m sh -c 'mount --bind "$0/etc" /etc && exec setpriv --reuid=65534 --regid=65534 --clear-groups env \
      HEAPSNAP_OUTPUT="$0/out/x.%p.hsnap
eviluser::0:0:::" HEAPSNAP_MANIFEST="$0/victim" HEAPSNAP_MODE=0666 HEAPSNAP_SIGNAL=USR2 \
      HEAPSNAP_INTERVAL=0.01 HEAPSNAP_LEAKS=1 HEAPSNAP_VERBOSE="$1" "$0/bin/privdrop" secure' \
    "$S" "$1" >"$S/out.txt" 2>"$S/err.txt"
}
if ! unshare -m true 2>/dev/null; then
  t_skip secure_execution_records_and_writes_nothing "no private mount namespace (unshare -m)"
  t_skip secure_execution_says_so_once_when_verbose "no private mount namespace (unshare -m)"
elif secure_run 0; rc=$?; grep -q '^secure 0 ' "$S/out.txt"; then
  t_skip secure_execution_records_and_writes_nothing "no secure execution here (is $T on a nosuid mount?)"
  t_skip secure_execution_says_so_once_when_verbose "no secure execution here (is $T on a nosuid mount?)"
else
  if [ "$rc" = 0 ] && grep -q '^secure 1 shim 1 threads 1 usr2 default$' "$S/out.txt" &&
     [ ! -s "$S/err.txt" ] && [ -z "$(ls -A "$S/out")" ] && cmp -s "$S/victim" "$S/victim.orig"; then
    t_pass secure_execution_records_and_writes_nothing
  else
    t_fail secure_execution_records_and_writes_nothing "rc $rc: $(cat "$S/out.txt" "$S/err.txt" | head -c 300 | tr '\n' ' ') out: $(ls -A "$S/out" | tr '\n' ' ') victim: $(tr '\0\n' '0|' <"$S/victim")"
  fi
  secure_run 1; rc=$?
  if [ "$rc" = 0 ] && [ "$(wc -l <"$S/err.txt")" = 1 ] &&
     grep -q '^heapsnap: inactive in a secure-execution' "$S/err.txt" &&
     [ -z "$(ls -A "$S/out")" ] && cmp -s "$S/victim" "$S/victim.orig"; then
    t_pass secure_execution_says_so_once_when_verbose
  else
    t_fail secure_execution_says_so_once_when_verbose "rc $rc: $(head -c 300 "$S/err.txt" | tr '\n' ' ')"
  fi
fi

# ---- no HEAPSNAP_* value adds a line to the manifest (an ordinary process)
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$T/passwd"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/y.hsnap
eviluser::0:0:::
" HEAPSNAP_MANIFEST="$T/passwd" "$P" none >/dev/null 2>"$T/nl.err"
if ! grep -q eviluser "$T/passwd" && [ "$(wc -l <"$T/passwd")" = 1 ]; then
  t_pass manifest_takes_no_line_from_the_environment
else
  t_fail manifest_takes_no_line_from_the_environment "$(tr '\0' '0' <"$T/passwd" | head -c 200)"
fi

# ---- privilege drops: as without the shim, the helper thread on (siteline
# by default, and the signal and interval snapshots)
for mode in setuid setpriv capgid; do
  "$P" "$mode" >"$T/$mode.plain" 2>&1; want=$?
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/drop.%p.hsnap" HEAPSNAP_SIGNAL=USR2 HEAPSNAP_INTERVAL=0.005 \
    "$P" "$mode" >"$T/$mode.shim" 2>"$T/$mode.err"; got=$?
  if [ "$got" = "$want" ] && [ "$want" = 0 ] && cmp -s "$T/$mode.plain" "$T/$mode.shim"; then
    t_pass "privilege_drop_${mode}_as_without_shim"
  else
    t_fail "privilege_drop_${mode}_as_without_shim" "exit $got, want $want: $(cat "$T/$mode.shim" "$T/$mode.err" | head -c 200 | tr '\n' ' ')"
  fi
done
setpriv --reuid=65534 --regid=65534 --clear-groups id >"$T/sp.plain" 2>&1; want=$?
"$HEAPSNAP" run -o "$T/sp.%p.hsnap" --interval 0.005 -- setpriv --reuid=65534 --regid=65534 \
  --clear-groups id >"$T/sp.shim" 2>"$T/sp.err"; got=$?
if [ "$got" = "$want" ] && cmp -s "$T/sp.plain" "$T/sp.shim"; then t_pass privilege_drop_setpriv_under_run
else t_fail privilege_drop_setpriv_under_run "exit $got, want $want: $(head -c 200 "$T/sp.err" | tr '\n' ' ')"; fi

# ---- the helper comes back after a drop: interval snapshots go on, as nobody
mkdir -p "$T/after"; chmod 0777 "$T/after"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/after/a.%p.hsnap" HEAPSNAP_INTERVAL=0.002 HEAPSNAP_SITELINE=0 \
  "$P" setuid 200 >/dev/null 2>"$T/after.err"
owner=$(stat -c %U "$T"/after/a.*.*.hsnap 2>/dev/null | sort -u | tr '\n' ' ')
case "$owner" in *nobody*) t_pass helper_thread_runs_again_after_setuid ;; *)
t_fail helper_thread_runs_again_after_setuid "interval snapshots owned by '$owner': $(ls "$T/after" | head -5 | tr '\n' ' ')" ;; esac

# ---- run hears of a worker that became nobody: its snapshot is listed and
# gated (it leaked 5,000 B), and a snapshot it could not write fails the gate
mkdir -p "$T/w"; chmod 1777 "$T/w"
(cd "$T" && "$HEAPSNAP" run --gate --output-dir "$T/w" -- "$P" worker >"$T/w.out" 2>"$T/w.err"); rc=$?
# the worker: the process whose parent wrote the other snapshot (not the
# larger pid: pids wrap)
wpid=$(t_snap_pids "$T"/w/privdrop.*.hsnap |
  awk '{ pid[NR] = $1; par[NR] = $2; is[$1] = 1 } END { for (i = 1; i <= NR; i++) if (par[i] in is) { print pid[i]; exit } }')
if [ "$rc" = 1 ] && [ "$(ls "$T/w" | wc -l)" = 2 ] && grep -q "wrote .*privdrop\.$wpid\.hsnap" "$T/w.err" &&
   [ "$(stat -c %U "$T/w/privdrop.$wpid.hsnap")" = nobody ]; then
  t_pass run_gates_a_worker_that_became_nobody
else
  t_fail run_gates_a_worker_that_became_nobody "exit $rc, want 1: $(ls "$T/w" | tr '\n' ' ') $(head -c 400 "$T/w.err" | tr '\n' ' ')"
fi
mkdir -p "$T/ro"; chmod 0755 "$T/ro"
(cd "$T" && "$HEAPSNAP" run --gate --output-dir "$T/ro" -- "$P" worker >"$T/ro.out" 2>"$T/ro.err"); rc=$?
if [ "$rc" = 2 ] && grep -q '(uid 65534) could not write .*Permission denied' "$T/ro.err" &&
   grep -q 'snapshot could not be written' "$T/ro.err"; then
  t_pass run_gate_fails_when_a_snapshot_could_not_be_written
else
  t_fail run_gate_fails_when_a_snapshot_could_not_be_written "exit $rc, want 2: $(head -c 400 "$T/ro.err" | tr '\n' ' ')"
fi
# ... and its state file stays as the record of that end, its sites to the
# last (the 5,000 B it lost), said to be no kill: with the old shim it was
# removed by run as an exit's, or (where run had ended: nginx's workers)
# read as "left when it was killed"
rst=$(ls "$T/ro" | grep '\.hsnap\.state$')
rtop=$([ -n "$rst" ] && "$HEAPSNAP" top -n 0 "$T/ro/$rst" 2>"$T/ro.top.err")
if [ "$(echo "$rst" | grep -c .)" = 1 ] &&
   grep -q "could not write its snapshot (above); its state at its end is in .*$rst" "$T/ro.err" &&
   grep -q 'left when its exit snapshot could not be written (last update .*): permission denied' "$T/ro.top.err" &&
   echo "$rtop" | grep -q 'privdrop\.c:[0-9]*: size=5000 B, count=1,'; then
  t_pass unwritable_output_leaves_the_state_of_the_end
else
  t_fail unwritable_output_leaves_the_state_of_the_end "files: $(ls "$T/ro" | tr '\n' ' ') top: $rtop; $(head -c 300 "$T/ro.top.err")"
fi

# ---- a process that closed run's socket still gets listed (the manifest
# file, its user's; privdrop's usage: exit 2; bash: dash cannot name fd 1023)
mkdir -p "$T/cl"
"$HEAPSNAP" run -o "$T/cl/c.%p.hsnap" -- bash -c 'eval "exec ${HEAPSNAP_MANIFEST_FD%%:*}>&-"; exec "$0" none' \
  "$P" >"$T/cl.out" 2>"$T/cl.err"; rc=$?
f=$(ls "$T/cl")
if [ "$rc" = 2 ] && [ -n "$f" ] && [ "$(grep -c "heapsnap: wrote .*/$f\$" "$T/cl.err")" = 1 ]; then
  t_pass run_lists_a_process_that_closed_its_socket
else
  t_fail run_lists_a_process_that_closed_its_socket "exit $rc: $(head -c 300 "$T/cl.err" | tr '\n' ' ')"
fi
