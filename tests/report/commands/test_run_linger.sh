# tests/report/commands/test_run_linger.sh - processes of a run that outlive
# its command: one still working when the command ends (a child that spends
# 2.5 s of CPU first, as a worker finalising on a loaded machine does) is
# waited for, and its snapshot is listed; one left idle (a sleeping daemon)
# is not waited for beyond a second or so (linger_wait), and is said, once,
# to still run, with its state file.
. tests/fixtures/lib.sh
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then t_skip run_linger "no /usr/bin/python3"; return 0; fi
cat >"$T/linger.py" <<'PY'
import os, sys, time
busy = sys.argv[1] == "busy"
if os.fork() == 0:
    if busy:
        t0 = time.process_time()
        while time.process_time() - t0 < 2.5:
            pass
    else:
        time.sleep(60)
    sys.exit(0)
PY
d=$T/busy && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/l.%p.hsnap" -- "$PY" "$T/linger.py" busy >/dev/null 2>"$d.err"
n=$(ls "$d" | grep -c '\.hsnap$'); listed=$(grep -c '^heapsnap: wrote ' "$d.err")
if [ "$n" = 2 ] && [ "$listed" = 2 ] && ! ls "$d" | grep -q '\.state$' && ! grep -q killed "$d.err"; then
  t_pass run_waits_for_a_child_still_working
else t_fail run_waits_for_a_child_still_working "$n files ($listed listed): $(ls "$d" | tr '\n' ' ') $(head -c 300 "$d.err")"; fi

d=$T/idle && mkdir -p "$d"
t0=$SECONDS
"$HEAPSNAP" run -o "$d/l.%p.hsnap" -- "$PY" "$T/linger.py" idle >/dev/null 2>"$d.err"
took=$((SECONDS - t0))
pkill -f "$T/linger.py idle" 2>/dev/null
if [ "$took" -lt 10 ] && [ "$(grep -c '^heapsnap: wrote ' "$d.err")" = 1 ]; then
  t_pass run_does_not_wait_for_an_idle_child
else t_fail run_does_not_wait_for_an_idle_child "took $took s: $(head -c 300 "$d.err")"; fi
# it is said once to still run (not to be killed), with its state file
if [ "$(grep -c 'still runs (the command left it behind)' "$d.err")" = 1 ] &&
   grep -Eq "^heapsnap: pid [0-9]+ still runs .*its state so far is in $d/l\.[0-9]+\.hsnap\.state " "$d.err" &&
   ! grep -q 'killed' "$d.err"; then
  t_pass run_names_an_idle_child_as_still_running
else t_fail run_names_an_idle_child_as_still_running "$(head -c 400 "$d.err")"; fi
# a command's background job that exec'd (sh forks, the child execs sleep)
# told its state twice, once a image: it is named once all the same
d=$T/bg && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/l.%p.hsnap" -- sh -c 'sleep 7.31 & :' >/dev/null 2>"$d.err"
pkill -f 'sleep 7.31' 2>/dev/null
if [ "$(grep -c 'still runs' "$d.err")" = 1 ] && ! grep -q 'killed' "$d.err"; then
  t_pass run_names_a_background_job_once
else t_fail run_names_a_background_job_once "$(head -c 400 "$d.err")"; fi
# a background job busy through its children: a shell that runs forty
# short commands one after another, then idles (as pyenv's python3 shim did
# while its helpers were traced): run waits for it until it idles (its
# children's CPU counts, linger_alive) and lists every snapshot written
# meanwhile (it stopped after the first second and listed 8)
d=$T/chain && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/l.%p.hsnap" -- sh -c \
  'sh -c "for i in \$(seq 40); do ls -R /usr/share/doc >/dev/null; done; sleep 7.33" >/dev/null 2>&1 & :' \
  >/dev/null 2>"$d.err"
sleep 2 # anything still to come is written now
listed=$(grep -c '^heapsnap: wrote ' "$d.err"); there=$(ls "$d" | grep -c '\.hsnap$')
pkill -f 'sleep 7.33' 2>/dev/null
if [ "$listed" -gt 30 ] && [ "$listed" = "$there" ]; then
  t_pass run_waits_for_a_job_busy_through_its_children
else t_fail run_waits_for_a_job_busy_through_its_children "$listed listed of $there: $(grep -v wrote "$d.err" | head -c 300)"; fi
# untold_listed NAME SLEEP: the case NAME passes when the run in $d, whose
# job ends in `sleep SLEEP`, listed each of more than 20 snapshots written
# (looked at 2 s on, when anything still to come is written), and named a
# process still running, none killed
untold_listed() {
  sleep 2
  local listed there
  listed=$(grep -c '^heapsnap: wrote ' "$d.err"); there=$(ls "$d" | grep -c '\.hsnap$')
  pkill -f "sleep $2" 2>/dev/null
  if [ "$listed" -gt 20 ] && [ "$listed" = "$there" ] && grep -q 'still runs' "$d.err" &&
     ! grep -q killed "$d.err"; then t_pass "$1"
  else t_fail "$1" "$listed listed of $there: $(grep -v wrote "$d.err" | head -c 300)"; fi
}
# a background job that has told run nothing when the command ends (with
# --children none a fork child keeps no state file: it stands for a child
# whose own handler has not run yet, as on a loaded machine), then runs an
# untraced command and execs a busy shell: its parent's fork told run its
# pid (the shim's fork), so run waits for it to become one it can follow,
# and lists every snapshot the shell's commands write (it listed 1 of 22)
d=$T/untold && mkdir -p "$d"
"$HEAPSNAP" run --children none -o "$d/l.%p.hsnap" -- sh -c \
  '(env -u LD_PRELOAD sleep 0.2; exec sh -c "for i in \$(seq 20); do ls / >/dev/null; done; sleep 7.39") >/dev/null 2>&1 & :' \
  >/dev/null 2>"$d.err"
untold_listed run_waits_for_a_job_that_told_nothing_yet 7.39
# the same for a job started by posix_spawn (Python's os.posix_spawn; Rust's
# Command spawns so), whose child execs inside glibc past the exec hooks:
# started without the shim in its environment, it tells run nothing until
# it execs a traced shell; its parent's posix_spawn told run its pid
d=$T/spawned && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/l.%p.hsnap" -- "$PY" -c '
import os, sys
env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
inner = "for i in $(seq 20); do ls / >/dev/null; done; sleep 7.41"
os.posix_spawn("/bin/sh", ["sh", "-c", "sleep 0.2; exec env LD_PRELOAD=\"$1\" sh -c \"$2\" >/dev/null 2>&1",
                "sh", os.environ["LD_PRELOAD"], inner], env)
' >/dev/null 2>"$d.err"
untold_listed run_waits_for_a_spawned_job_that_told_nothing_yet 7.41
# a daemon made by glibc's daemon(), whose fork and whose parent's _exit are
# glibc's own, past the hooks: the shim's daemon forks and leaves through
# the hooked ones, so run hears of the child and waits for it while it
# works, and the parent writes its snapshot (run said none was written and
# returned at once, the daemon's snapshot left to a folder run had ended
# with); the daemon is what glibc's makes: a session leader in / with
# /dev/null for its standard streams
d=$T/daemon && mkdir -p "$d"
"$HEAPSNAP" run -o "$d/l.%p.hsnap" -- "$PY" -c '
import ctypes, os, sys, time
if ctypes.CDLL(None, use_errno=True).daemon(0, 0) != 0:
    raise SystemExit("daemon: errno %d" % ctypes.get_errno())
seen = [os.getsid(0) == os.getpid(), os.getcwd()] + [os.readlink("/proc/self/fd/%d" % i) for i in range(3)]
with open(sys.argv[1], "w") as f:
    f.write(" ".join(map(str, seen)))
t0 = time.process_time()
while time.process_time() - t0 < 1.5:
    pass
' "$d/seen" >/dev/null 2>"$d.err"
n=$(ls "$d" | grep -c '\.hsnap$'); listed=$(grep -c '^heapsnap: wrote ' "$d.err")
if [ "$n" = 2 ] && [ "$listed" = 2 ] && ! grep -Eq 'killed|still runs' "$d.err"; then
  t_pass run_waits_for_a_daemon
else t_fail run_waits_for_a_daemon "$n files ($listed listed): $(ls "$d" | tr '\n' ' ') $(head -c 300 "$d.err")"; fi
if [ "$(cat "$d/seen" 2>/dev/null)" = "True / /dev/null /dev/null /dev/null" ]; then
  t_pass daemon_is_glibcs_daemon
else t_fail daemon_is_glibcs_daemon "the daemon saw: $(cat "$d/seen" 2>&1)"; fi
