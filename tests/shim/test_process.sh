# test_process.sh - process life under the shim: fork (both sides write their
# own %p snapshot), exec through /bin/sh (the new image writes one too),
# HEAPSNAP_SIGNAL while running then a kill, HEAPSNAP_INTERVAL, and fatal
# signals (snapshot written, then the same death as without the shim, also
# while another thread's snapshot holds the lock).
# tier: full (fork, exec and signals across many processes)
. tests/shim/lib_shim.sh
s_dump_build
s_build forklife || t_fail forklife_builds "cc failed"
s_build alloc_all || t_fail alloc_all_builds "cc failed"
s_build fatalbusy -ldl || t_fail fatalbusy_builds "cc failed"
ulimit -c 0

# meta field from a dump: s_meta FILE FIELD
s_meta() { sed -n "s/^meta.* $2=\([0-9]*\).*/\1/p" "$1"; }

# ---- fork
HEAPSNAP_OUTPUT="$T/f.%p.hsnap" s_same fork_same_output "$T/forklife"
n=$(ls "$T"/f.*.hsnap 2>/dev/null | wc -l)
if [ "$n" = 2 ]; then t_pass fork_two_snapshots; else t_fail fork_two_snapshots "$n files"; fi
parent="" child=""
for f in "$T"/f.*.hsnap; do
  s_dump "$f" >"$f.dump" 2>&1 || continue
  s_site_funcs "$T/forklife" "$f.dump" >"$f.sites"
  if grep -q '^child_site 5 1110$' "$f.sites"; then child=$f; else parent=$f; fi
done
# the child's own blocks only: the 3 it inherited are summed apart (INHERITED)
if [ -n "$child" ] && [ -n "$parent" ] && grep -q '^parent_site 3 333$' "$parent.sites" &&
   grep -q '^parent_site 0 0$' "$child.sites" && ! grep -q '^child_site' "$parent.sites" &&
   [ "$(s_meta "$child.dump" ppid)" = "$(s_meta "$parent.dump" pid)" ] &&
   [ "$child" = "$T/f.$(s_meta "$child.dump" pid).hsnap" ]; then
  t_pass fork_child_writes_own_file_inherited_apart
else
  t_fail fork_child_writes_own_file_inherited_apart "parent=$parent child=$child"
fi
# HEAPSNAP_INHERITED=blocks: the child keeps the table and lists them
mkdir -p "$T/fb"
HEAPSNAP_INHERITED=blocks HEAPSNAP_OUTPUT="$T/fb/f.%p.hsnap" LD_PRELOAD=$SHIM "$T/forklife" >/dev/null 2>&1
child=""
for f in "$T"/fb/f.*.hsnap; do
  s_dump "$f" >"$f.dump" 2>&1 || continue
  s_site_funcs "$T/forklife" "$f.dump" >"$f.sites"
  grep -q '^child_site 5 1110$' "$f.sites" && child=$f
done
if [ -n "$child" ] && grep -q '^parent_site 3 333$' "$child.sites"; then
  t_pass fork_child_keeps_table_inherited_blocks
else
  t_fail fork_child_keeps_table_inherited_blocks "child=$child: $(cat "$child.sites" 2>/dev/null | tr '\n' ' ')"
fi

# ---- fork with HEAPSNAP_SIGNAL: the child restarts the helper and answers
(cd "$T" && LD_PRELOAD=$SHIM HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/fs.%p.hsnap" ./forklife forksig "$T/fs" >"$T/fs.out" 2>&1)
f=$(ls "$T"/fs.*.0.hsnap 2>/dev/null | head -1)
if [ -n "$f" ] && grep -q 'child status 0' "$T/fs.out" && grep -q 'before exit: 1' "$T/fs.out" && s_dump "$f" >"$T/fs.dump" 2>&1 &&
   grep -q '^meta .* reason=2 seq=0 ' "$T/fs.dump"; then t_pass fork_child_answers_signal
else t_fail fork_child_answers_signal "$(tr '\n' ' ' <"$T/fs.out") files: $(ls "$T" | grep '^fs' | tr '\n' ' ')"; fi

# ---- exec through /bin/sh: sh forks and execs alloc_all
HEAPSNAP_OUTPUT="$T/e.%p.hsnap" s_same exec_same_output /bin/sh -c "\"$T/alloc_all\"; echo status \$?"
found=0
for f in "$T"/e.*.hsnap; do
  [ -e "$f" ] || continue
  s_dump "$f" >"$f.dump" 2>&1 && grep -q "^exe $T/alloc_all\$" "$f.dump" && found=1
done
# (dash leaves with _exit, so the shell itself writes none: only the new image)
if [ "$found" = 1 ]; then t_pass exec_new_image_writes_snapshot
else t_fail exec_new_image_writes_snapshot "$(ls "$T" | tr '\n' ' ')"; fi

# ---- HEAPSNAP_SIGNAL while running, then killed with SIGTERM
run_wait() { # run_wait PRELOAD SIGNALS...: runs forklife wait, sends signals after "ready"
  local pre=$1; shift
  rm -f "$T/w.out"
  LD_PRELOAD=$pre HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/s.%p.hsnap" "$T/forklife" wait >"$T/w.out" 2>"$T/w.err" &
  local pid=$! i
  for i in $(seq 100); do grep -q ready "$T/w.out" 2>/dev/null && break; sleep 0.05; done
  for sig in "$@"; do
    kill -s "$sig" "$pid"
    if [ "$sig" = USR2 ]; then
      for i in $(seq 100); do [ -e "$T/s.$pid.0.hsnap" ] && break; sleep 0.05; done
    fi
  done
  wait "$pid"; echo "status $?" >>"$T/w.out"
  echo "$pid" >"$T/w.pid"
}
run_wait "" TERM; cp "$T/w.out" "$T/w.plain"
run_wait "$SHIM" USR2 TERM; pid=$(cat "$T/w.pid")
if cmp -s "$T/w.plain" "$T/w.out" && [ ! -s "$T/w.err" ]; then t_pass signal_then_kill_same_output_and_status
else t_fail signal_then_kill_same_output_and_status "$(tr '\n' ' ' <"$T/w.out") vs $(tr '\n' ' ' <"$T/w.plain") $(head -c 200 "$T/w.err")"; fi
if [ -e "$T/s.$pid.0.hsnap" ] && s_dump "$T/s.$pid.0.hsnap" >"$T/s.dump" 2>&1 &&
   [ "$(s_meta "$T/s.dump" reason)" = 2 ]; then t_pass signal_snapshot_written
else t_fail signal_snapshot_written "$(ls "$T" | grep '^s\.' | tr '\n' ' ') $(head -2 "$T/s.dump" 2>/dev/null)"; fi
if ls "$T" | grep -q 'tmp'; then t_fail no_temporary_files_left "$(ls "$T" | grep tmp)"; else t_pass no_temporary_files_left; fi

# ---- HEAPSNAP_INTERVAL=1 over a 5 s run: several interval snapshots, then the exit one
rm -f "$T"/i.*.hsnap
HEAPSNAP_INTERVAL=1 HEAPSNAP_OUTPUT="$T/i.%p.%n.hsnap" s_same interval_same_output "$T/forklife" wait
n=0; exitsnap=0
for f in "$T"/i.*.hsnap; do
  [ -e "$f" ] && s_dump "$f" >"$f.dump" 2>&1 || continue
  case $(s_meta "$f.dump" reason) in
    3) n=$((n + 1)) ;;
    1) exitsnap=1; points=$(sed -n 's/^timeline //p' "$f.dump") ;;
  esac
done
if [ "$n" -ge 3 ] && [ "$exitsnap" = 1 ]; then t_pass interval_snapshots
else t_fail interval_snapshots "$n interval snapshots, exit snapshot: $exitsnap"; fi
# 500 allocations over 5 s: the timeline gets a point every 64th allocation
if [ "${points:-0}" -ge 4 ]; then t_pass timeline_points_recorded
else t_fail timeline_points_recorded "${points:-none} points"; fi

# ---- fatal signals: snapshot, then the same death
for how in segv abort; do
  rm -f "$T"/c.*.hsnap
  HEAPSNAP_OUTPUT="$T/c.%p.hsnap" s_same "fatal_${how}_same_status" "$T/forklife" crash "$how"
  f=$(ls "$T"/c.*.hsnap 2>/dev/null | head -1)
  if [ -n "$f" ] && s_dump "$f" >"$T/c.dump" 2>&1 && [ "$(s_meta "$T/c.dump" reason)" = 5 ] &&
     s_site_funcs "$T/forklife" "$T/c.dump" | grep -q '^crash_site 4 1332$'; then t_pass "fatal_${how}_snapshot"
  else t_fail "fatal_${how}_snapshot" "file '$f': $([ -n "$f" ] && head -1 "$T/c.dump" 2>/dev/null); files left: $(cd "$T" && ls -a | grep '^\.\?c\.' | tr '\n' ' '); shim's stderr: $(head -c 300 "$T/shim.err")"; fi
done

# ---- a fatal signal while another thread's snapshot (300000 blocks, tens
# of ms) holds the lock: the fatal one waits for it (lock_be_patient); the
# shim before it gave up after 2000 yields, silently, every time
rm -f "$T"/b.*.hsnap "$T"/api.hsnap
HEAPSNAP_OUTPUT="$T/b.%p.hsnap" s_same fatal_while_busy_same_status "$T/fatalbusy" 300000 "$T/api.hsnap" 2
f=$(ls "$T"/b.*.hsnap 2>/dev/null | head -1)
if [ -n "$f" ] && [ -s "$T/api.hsnap" ] && s_dump "$f" >"$T/b.dump" 2>&1 &&
   [ "$(s_meta "$T/b.dump" reason)" = 5 ]; then t_pass fatal_snapshot_waits_for_a_busy_lock
else t_fail fatal_snapshot_waits_for_a_busy_lock "file '$f', api.hsnap $([ -s "$T/api.hsnap" ] && echo written || echo missing); shim's stderr: $(head -c 300 "$T/shim.err")"; fi
