# lib_attach.sh - helpers of tests/shim/attach: a target that talks through two
# FIFOs (commands on fd 7, answers on fd 8), and heapsnap attach run in the
# background until heapsnap detach.  Every wait is for an event (a line, a
# file, a process's end), bounded; none is a sleep standing for one.

# at_start CMD...: starts CMD, waits for its "ready PID"; AT_PID, AT_TPID.
at_start() {
  rm -f "$T/in" "$T/out" "$T/transcript"
  mkfifo "$T/in" "$T/out"
  "$@" <"$T/in" >"$T/out" 2>"$T/target.err" &
  AT_TPID=$!
  exec 7>"$T/in" 8<"$T/out"
  AT_PID=
  read -t 20 -r _ AT_PID <&8 || true
  AT_DIR=$T/snaps.$AT_PID
  mkdir -p "$AT_DIR"
}

# at_cmd LINE: sends a command, reads its answer into AT_REPLY (and the
# transcript).
at_cmd() {
  echo "$1" >&7
  IFS= read -t 30 -r AT_REPLY <&8 || AT_REPLY="(no answer)"
  echo "$AT_REPLY" >>"$T/transcript"
}

# at_read: the next answer line, for a command that answers twice.
at_read() {
  IFS= read -t 30 -r AT_REPLY <&8 || AT_REPLY="(no answer)"
  echo "$AT_REPLY" >>"$T/transcript"
}

# at_end: q, and the target's exit status in AT_STATUS.  A target that has
# not ended 120 s after its q is a hang: its threads' states go to the
# transcript (at_threads), it is killed, and AT_STATUS reads 137.
at_end() {
  at_cmd q
  exec 7>&- 8<&-
  local until=$((SECONDS + 120))
  while kill -0 "$AT_TPID" 2>/dev/null && [ "$(at_state "$AT_TPID")" != Z ] &&
        [ "$SECONDS" -lt "$until" ]; do sleep 0.05; done
  if [ "$SECONDS" -ge "$until" ]; then
    echo "hung: $(at_threads "$AT_TPID")" >>"$T/transcript"
    kill -9 "$AT_TPID" 2>/dev/null
  fi
  wait "$AT_TPID"; AT_STATUS=$?
}

# at_state PID: its state letter (R, S, t, Z...), empty once reaped.
at_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

# at_threads PID: each thread's state, wait channel and system call, and
# its tracer, on one line: what a hang's failure message shows.
at_threads() {
  local t
  echo "tracer $(awk '/^TracerPid:/ {print $2}' "/proc/$1/status" 2>/dev/null);"
  for t in /proc/"$1"/task/*; do
    echo "${t##*/} $(awk '{print $3}' "$t/stat" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null)" \
         "[$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)];"
  done | tr '\n' ' '
}

# at_attach [OPTIONS...]: heapsnap attach AT_PID -o $AT_DIR/%p.hsnap OPTIONS in
# the background (AT_CLI), until it says it attached or ends; 0 when attached.
at_attach() {
  # The last session's file goes first: the job below truncates it only
  # once it runs, and on a loaded machine the first look came before that
  # and took the last "attached to" for this one (a detach then found no
  # socket, the attach still under way).
  rm -f "$T/attach.out" "$T/attach.err"
  "$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/%p.hsnap" "$@" >"$T/attach.out" 2>"$T/attach.err" &
  AT_CLI=$!
  # up to 60 s of wall time: on a loaded machine (two test files at once,
  # other work beside) an attach has taken over 30 s, and a caller that
  # went on too soon detached nothing and left the process attached
  local until=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$until" ]; do
    grep -qs '^heapsnap: attached to' "$T/attach.err" && return 0
    kill -0 "$AT_CLI" 2>/dev/null || return 1
    sleep 0.01
  done
  echo "at_attach: not attached after 60 s" >>"$T/attach.err"
  return 1
}

# at_detach: heapsnap detach AT_PID, then the attach's end; AT_DETACH_RC and
# AT_ATTACH_RC.
at_detach() {
  timeout 150 "$HEAPSNAP" detach "$AT_PID" >"$T/detach.out" 2>"$T/detach.err"; AT_DETACH_RC=$?
  # the attach ends once the socket is gone; a hang is a failure, not the file's timeout
  for _ in $(seq 3000); do kill -0 "$AT_CLI" 2>/dev/null || break; sleep 0.01; done
  kill -0 "$AT_CLI" 2>/dev/null && { echo "attach still running after detach" >>"$T/detach.err"; kill -9 "$AT_CLI"; }
  wait "$AT_CLI"; AT_ATTACH_RC=$?
}

# at_rss_kib PID: VmRSS in KiB.
at_rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# at_snap: the snapshot detach wrote for AT_PID.
at_snap() { echo "$AT_DIR/$AT_PID.hsnap"; }

# at_halt_hold STEP [OPTIONS...]: heapsnap attach AT_PID (AT_CLI) held at
# injection step STEP (HEAPSNAP_INJECT_HALT), still running; 0 when it got there.
at_halt_hold() {
  local step=$1 i; shift
  rm -f "$T/attach.out" "$T/attach.err" # the last halt's line is not this one's (at_attach)
  HEAPSNAP_INJECT_HALT=$step "$HEAPSNAP" attach "$AT_PID" -o "$AT_DIR/%p.hsnap" "$@" \
    >"$T/attach.out" 2>"$T/attach.err" &
  AT_CLI=$!
  for i in $(seq 1000); do
    grep -qs "^heapsnap: inject halt $step" "$T/attach.err" && break
    kill -0 "$AT_CLI" 2>/dev/null || break
    sleep 0.01
  done
  grep -q "^heapsnap: inject halt $step" "$T/attach.err"
}

# at_halt STEP [OPTIONS...]: at_halt_hold, then the attach SIGKILLed there.
at_halt() {
  at_halt_hold "$@"; local rc=$?
  kill -KILL "$AT_CLI" 2>/dev/null
  wait "$AT_CLI" 2>/dev/null
  return $rc
}

# at_attached: 0 when AT_PID has a session (its control socket answers).
at_attached() {
  [ -S "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ]
}

# at_regions: how many mappings of AT_PID are the memory an injected call
# maps for itself (512 KiB, anonymous, its header's magic at 448 KiB).
at_regions() {
  local range perms off dev ino path n=0 lo
  while read -r range perms off dev ino path; do
    lo=$((0x${range%-*}))
    [ -z "$path" ] && [ $((0x${range#*-} - lo)) = 524288 ] &&
      [ "$(dd if="/proc/$AT_PID/mem" bs=8 count=1 iflag=skip_bytes skip=$((lo + 458752)) 2>/dev/null |
          od -An -tx8 | tr -d ' ')" = 6a6e6970616e7368 ] && n=$((n + 1))
  done <"/proc/$AT_PID/maps"
  echo "$n"
}

# at_blobs: how many copies of the injected code AT_PID's code mappings
# hold (its first bytes: syscall; test r15, r15).
at_blobs() {
  python3 - "$AT_PID" <<'PY'
import sys
pid, sig, n = sys.argv[1], bytes.fromhex("0f054d85ff"), 0
with open(f"/proc/{pid}/mem", "rb") as mem:
    for line in open(f"/proc/{pid}/maps"):
        p = line.split()
        if len(p) >= 6 and "x" in p[1] and p[5].startswith("/"):
            lo, hi = (int(x, 16) for x in p[0].split("-"))
            mem.seek(lo)
            n += mem.read(hi - lo).count(sig)
print(n)
PY
}
