# test_python_workers.sh - multiprocessing's Pool workers under `heapsnap run`:
# ended by Pool.terminate() (SIGTERM) or by close(), forked or spawned, each
# worker leaves its own snapshot (term.c: a process that ran Python code writes
# before SIGTERM's default ends it), whose peak's top line is the worker's;
# no state file is left and run names every file of the run, and each
# worker's snapshot names the function it was started to run.  The shim stays
# a guest: a SIGTERM handler the program set runs as it expects, and the
# default still ends the program with SIGTERM's status (and getsignal still
# reads SIG_DFL).  Under a name without %p the name is the program's and
# each worker, forked or spawned, adds its pid.  A forked worker's snapshot
# holds its own blocks, the parent's it inherited summed apart.
. tests/shim/python/lib_py.sh
hs_re=$(printf '%s' "$HEAPSNAP" | sed 's/[].[\\*^$()+?{|]/\\&/g') # the command as run, in a regex

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(py_interpreters | head -1 | cut -d' ' -f2)
if [ -z "$PY" ]; then t_skip python_workers "no CPython 3.10-3.13 here"; return 0; fi
work=$(py_line tests/shim/python/pool.py MARK_WORK)

for how in "fork terminate" "spawn terminate" "spawn close"; do
  set -- $how
  name="python_pool_${1}_${2}_each_worker_writes"
  d=$T/$1-$2 && mkdir -p "$d"
  "$HEAPSNAP" run -o "$d/p.%p.hsnap" -- "$PY" tests/shim/python/pool.py "$1" "$2" >/dev/null 2>"$d.err"
  at=0 n=0
  for f in "$d"/*.hsnap; do
    n=$((n + 1))
    # 9-13 MiB at the worker's line (the stepped capture is within 1% or ~440 KiB;
    # under 10 MiB top prints KiB)
    "$HEAPSNAP" top --peak -n 1 "$f" 2>/dev/null | grep -Eq "pool\.py:$work: size=(9[2-9][0-9]{2} KiB|10[0-2][0-9]{2} KiB|1[0-2]\.[0-9] MiB)" && at=$((at + 1))
  done
  listed=$(grep -c '^heapsnap: wrote ' "$d.err")
  if [ "$at" = 2 ] && ! ls "$d" | grep -q '\.state$' && [ "$listed" = "$n" ] &&
     ! grep -q 'killed' "$d.err"; then t_pass "$name"
  else t_fail "$name" "$at of 2 workers at pool.py:$work, $n files ($listed listed): $(ls "$d" | tr '\n' ' ') $(head -c 300 "$d.err")"; fi
done

# run -o NAME (no %p) over a fork pool terminated, then one closed: NAME is
# the program's exit snapshot (the pid run started), each worker's is NAME
# with its pid, nothing says "another process", and next: opens NAME
d=$T/named && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/run.hsnap" -- "$PY" tests/shim/python/pool.py fork both >/dev/null 2>"$d.err" & rp=$!
wait "$rp"; rc=$?
"$HEAPSNAP" info "$d/run.hsnap" >"$d.info" 2>&1
bad=""
for f in "$d"/run.*.hsnap; do
  p=${f##*/run.}; p=${p%.hsnap}
  "$HEAPSNAP" info "$f" | grep -Eq "^pid: +$p \(parent [0-9]+\)$" || bad="$bad ${f##*/}"
done
nw=$(ls "$d" | grep -c '^run\.[0-9]*\.hsnap$')
if [ "$rc" = 0 ] && [ "$nw" = 4 ] && [ -z "$bad" ] &&
   grep -Eq "^pid: +[0-9]+ \(parent $rp\)$" "$d.info" && grep -Eq '^reason: +exit$' "$d.info" &&
   ! grep -q 'another process\|HEAPSNAP_OUTPUT' "$d.err" &&
   grep -Eq "^heapsnap: next: $hs_re (top|leaks)( --peak)? \S*named/run\.hsnap( |$)" "$d.err"
then t_pass python_run_o_names_the_programs_snapshot_and_workers_add_their_pid
else t_fail python_run_o_names_the_programs_snapshot_and_workers_add_their_pid "exit $rc, run $rp, $nw workers' files (bad:$bad): $(grep -E '^(pid|reason)' "$d.info" | tr '\n' ' ') $(head -c 400 "$d.err" | tr '\n' '|')"; fi

# the same under spawn: the workers (and the resource tracker) are new
# programs, yet only the pid run started takes NAME (HEAPSNAP_RUN_PID): each
# worker's file carries its pid and a worker's peak line, nothing is said
d=$T/named-spawn && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/run.hsnap" -- "$PY" tests/shim/python/pool.py spawn close >/dev/null 2>"$d.err" & rp=$!
wait "$rp"; rc=$?
"$HEAPSNAP" info "$d/run.hsnap" >"$d.info" 2>&1
bad="" at=0
for f in "$d"/run.*.hsnap; do
  p=${f##*/run.}; p=${p%.hsnap}
  "$HEAPSNAP" info "$f" | grep -Eq "^pid: +$p \(parent [0-9]+\)$" || bad="$bad ${f##*/}"
  "$HEAPSNAP" top --peak -n 1 "$f" 2>/dev/null | grep -q "pool\.py:$work: " && at=$((at + 1))
done
nw=$(ls "$d" | grep -c '^run\.[0-9]*\.hsnap$')
if [ "$rc" = 0 ] && [ "$nw" -ge 2 ] && [ "$at" = 2 ] && [ -z "$bad" ] &&
   grep -Eq "^pid: +[0-9]+ \(parent $rp\)$" "$d.info" && grep -Eq '^reason: +exit$' "$d.info" &&
   ! grep -q 'another process' "$d.err" &&
   grep -Eq "^heapsnap: next: $hs_re (top|leaks)( --peak)? \S*named-spawn/run\.hsnap( |$)" "$d.err"
then t_pass python_run_o_spawn_workers_add_their_pid
else t_fail python_run_o_spawn_workers_add_their_pid "exit $rc, run $rp, $nw others' files ($at at pool.py:$work; bad:$bad): $(grep -E '^(pid|reason)' "$d.info" | tr '\n' ' ') $(head -c 400 "$d.err" | tr '\n' '|')"; fi

# the program's own SIGTERM handler runs as it expects (its exit status)
cat >"$T/own.py" <<'EOF2'
import os, signal, sys, time
def bye(sig, frame):
    print("handler", flush=True)
    os._exit(7)
signal.signal(signal.SIGTERM, bye)
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(5)
EOF2
out=$(LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/own.%p.hsnap" "$PY" "$T/own.py" 2>"$T/own.err"); rc=$?
[ "$rc" = 7 ] && [ "$out" = handler ] && t_pass python_sigterm_programs_handler_runs ||
  t_fail python_sigterm_programs_handler_runs "exit $rc, out '$out': $(head -c 200 "$T/own.err")"

# the default: getsignal reads SIG_DFL, the end is SIGTERM's (143), a snapshot is left
mkdir -p "$T/dfl"
out=$(LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/dfl/d.%p.hsnap" "$PY" -c '
import os, signal, time
print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
x = [bytearray(1000) for i in range(1000)]
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(5)' 2>"$T/dfl.err"); rc=$?
if [ "$rc" = 143 ] && [ "$out" = True ] && [ "$(ls "$T/dfl" | grep -c '\.hsnap$')" = 1 ] &&
   ! ls "$T/dfl" | grep -q state; then t_pass python_sigterm_default_status_kept_and_snapshot_left
else t_fail python_sigterm_default_status_kept_and_snapshot_left "exit $rc, out '$out': $(ls "$T/dfl" | tr '\n' ' ') $(head -c 200 "$T/dfl.err")"; fi
# HEAPSNAP_FATAL=0 turns the SIGTERM snapshot off too (its help says so):
# the same end, no snapshot
mkdir -p "$T/nofatal"
HEAPSNAP_FATAL=0 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/nofatal/d.%p.hsnap" "$PY" -c '
import os, signal, time
x = [bytearray(1000) for i in range(1000)]
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(5)' 2>"$T/nofatal.err"; rc=$?
if [ "$rc" = 143 ] && ! ls "$T/nofatal" | grep -q '\.hsnap$'; then t_pass python_sigterm_fatal_off_writes_no_snapshot
else t_fail python_sigterm_fatal_off_writes_no_snapshot "exit $rc: $(ls "$T/nofatal" | tr '\n' ' ') $(head -c 200 "$T/nofatal.err")"; fi

# the merged view of a run: top --by-process over every snapshot of the run
# names the parent's line and each fork worker's line apart, under a header
# per process (the parent first, then its workers by pid, each with the
# function multiprocessing started it to run); the default still
# sums them (and says so)
d=$T/sites && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/s.%p.hsnap" -- "$PY" tests/shim/python/poolsites.py >/dev/null 2>"$d.err"
lp=$(py_line tests/shim/python/poolsites.py MARK_PARENT)
l1=$(py_line tests/shim/python/poolsites.py MARK_ONE)
l2=$(py_line tests/shim/python/poolsites.py MARK_TWO)
"$HEAPSNAP" top -n 1 --by-process "$d"/s.*.hsnap >"$d.by" 2>"$d.byerr"
# the program's pid: its workers' parent (not the smallest pid: pids wrap)
ppid=$(t_snap_pids "$d"/s.*.hsnap |
  awk '{ pid[NR] = $1; par[$2] = 1 } END { for (i = 1; i <= NR; i++) if (pid[i] in par) { print pid[i]; exit } }')
# each header and the first line under it, on one line: "pid N: FILE:LINE"
got=$(awk '/^== pid / { p = $3; next } p != "" && NF { split($1, a, ":"); print "pid " p ": " a[2]; p = "" }' "$d.by" | tr '\n' ' ')
heads=$(grep -c '^== pid ' "$d.by")
w=$(grep -Ec "^== pid [0-9]+ \(python[0-9.]*\): child of pid $ppid, runs multiprocessing\.pool\.worker; inherited [0-9.]+ [KMG]iB in [0-9]+ blocks, not below ==\$" "$d.by")
if [ "$heads" = 3 ] && [ "$w" = 2 ] &&
   head -1 "$d.by" | grep -Eqx "== pid $ppid \(python[0-9.]*\): parent of 2 ==" &&
   echo "$got" | grep -Eq "^pid $ppid: $lp pid [0-9]+: ($l1 pid [0-9]+: $l2|$l2 pid [0-9]+: $l1) \$"
then t_pass top_by_process_names_parent_and_workers_apart
else t_fail top_by_process_names_parent_and_workers_apart "want parent $ppid at $lp, workers at $l1 and $l2; got '$got': $(head -c 400 "$d.by") $(head -c 200 "$d.byerr")"; fi
# the same in JSON: a "processes" list, the parent first (role "parent", 2
# children), each worker a "child" whose parent is the program's pid, and
# each process's first group at its own line, each worker what it runs
"$HEAPSNAP" top -n 1 --by-process --format json "$d"/s.*.hsnap >"$d.json" 2>/dev/null
why=$(python3 - "$d.json" "$ppid" "$lp" "$l1" "$l2" <<'PY' 2>&1
import json, sys
procs = json.load(open(sys.argv[1]))["processes"]
ppid, lp, l1, l2 = (int(a) for a in sys.argv[2:])
roles = [(p["role"], p["children"], p["parent"] if p["role"] == "child" else ppid) for p in procs]
assert roles == [("parent", 2, ppid), ("child", 0, ppid), ("child", 0, ppid)], roles
assert procs[0]["pid"] == ppid and all("python" in p["exe"] for p in procs), procs[0]["pid"]
assert "runs" not in procs[0] and all(p["runs"] == "multiprocessing.pool.worker" for p in procs[1:]), procs
lines = [p["groups"][0]["frames"][0]["line"] for p in procs]
assert lines[0] == lp and sorted(lines[1:]) == sorted([l1, l2]), lines
PY
)
if [ -z "$why" ]; then t_pass top_by_process_json_names_roles
else t_fail top_by_process_json_names_roles "$why"; fi
# a forked worker's snapshot holds what it made, not the parent's 4000
# bytearrays it inherited (summed apart: INHERITED, snapinherit.c)
own=0 inh=0
for f in "$d"/s.*.hsnap; do
  [ "$(basename "$f")" = "s.$ppid.hsnap" ] && continue
  "$HEAPSNAP" top -n 0 --key lineno "$f" 2>/dev/null >"$d.w"
  grep -Eq "poolsites\.py:($l1|$l2): size=" "$d.w" &&
    ! grep -q "poolsites\.py:$lp:" "$d.w" && own=$((own + 1))
  n=$("$HEAPSNAP" info --format json "$f" 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][0].get("inherited", {}).get("blocks", 0))')
  [ "${n:-0}" -ge 4000 ] && inh=$((inh + 1))
done
if [ "$own" = 2 ] && [ "$inh" = 2 ]; then t_pass python_fork_worker_writes_its_own_blocks_only
else t_fail python_fork_worker_writes_its_own_blocks_only "$own of 2 workers without the parent's line, $inh of 2 with 4000+ inherited blocks: $(head -c 300 "$d.w")"; fi
"$HEAPSNAP" top -n 1 "$d"/s.*.hsnap >"$d.sum" 2>"$d.sumerr"
if [ "$(grep -c . "$d.sum")" = 1 ] && ! grep -q '^==' "$d.sum" &&
   grep -qx 'heapsnap: 3 processes, summed' "$d.sumerr"; then t_pass top_run_default_still_sums
else t_fail top_run_default_still_sums "$(head -c 300 "$d.sum") $(head -c 200 "$d.sumerr")"; fi

# what each worker runs, on every interpreter found (3.10's codes have no
# qualified name): a ProcessPoolExecutor's fork workers run
# concurrent.futures.process._process_worker, a spawned Process its
# target; the parent runs nothing of multiprocessing's and says nothing
py_interpreters | while read -r tag py; do
  d=$T/roles-$tag && mkdir -p "$d"
  (cd tests/shim/python && "$HEAPSNAP" run -o "$d/r.%p.hsnap" -- "$py" poolroles.py) >/dev/null 2>"$d.err"
  got=$(for f in "$d"/r.*.hsnap; do "$HEAPSNAP" info "$f" 2>/dev/null | sed -n 's/^runs: *\([^ ]*\) (a multiprocessing worker)$/\1/p'; done | sort | tr '\n' ' ')
  want="concurrent.futures.process._process_worker concurrent.futures.process._process_worker poolroles.keep_some "
  n=$(ls "$d" | grep -c '\.hsnap$')
  if [ "$got" = "$want" ] && [ "$n" -ge 4 ]; then t_pass "python_worker_roles_named_$tag"
  else t_fail "python_worker_roles_named_$tag" "got '$got' in $n files: $(head -c 300 "$d.err")"; fi
done
