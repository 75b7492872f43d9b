# lib_serve.sh - helpers of tests/report/serve: `heapsnap serve` on a free
# 127.0.0.1 port, a profiled target (tests/shim/attach/target.c, driven by
# tests/shim/attach/lib_attach.sh's FIFOs) and bounded waits.  Every wait
# polls with a bound in seconds; none is a sleep standing for an event.
# Sourced after tests/shim/attach/lib_attach.sh.
SV_PIDS=""
sv_end() {
  local p
  for p in $SV_PIDS; do kill "$p" 2>/dev/null; done
  for p in $SV_PIDS; do wait "$p" 2>/dev/null; done
  SV_PIDS=""
}
trap sv_end EXIT

# sv_start [OPTIONS...]: heapsnap serve --listen 127.0.0.1:0 OPTIONS in the
# background; SV_PID, SV_PORT, SV_URL once it says where it listens.  With
# SV_UNDER set (a command and its words: strace ...), the agent runs under
# it, and SV_PIDS holds the agent too (the command may leave it running).
sv_start() {
  rm -f "$T/serve.err" # an earlier agent's line must not be read for this one's
  ${SV_UNDER:-} "$HEAPSNAP" serve --listen 127.0.0.1:0 "$@" 2>"$T/serve.err" &
  SV_PID=$!
  SV_PIDS="$SV_PIDS $SV_PID"
  SV_PORT=
  local end=$((SECONDS + 10))
  while [ $SECONDS -lt $end ] && [ -z "$SV_PORT" ]; do
    SV_PORT=$(sed -n 's|^heapsnap serve: listening on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$T/serve.err" 2>/dev/null)
    [ -n "$SV_PORT" ] || sleep 0.02
  done
  SV_URL=http://127.0.0.1:$SV_PORT
  [ -z "${SV_UNDER:-}" ] || SV_PIDS="$SV_PIDS $(pgrep -P "$SV_PID")"
  [ -n "$SV_PORT" ]
}

# sv_begin NAME: what every serve test starts with: curl is here, the
# target (tests/shim/attach/target.c) is built as $T/target and an agent
# is started (sv_start); else NAME fails with the reason and 1 is returned.
sv_begin() {
  if ! command -v curl >/dev/null; then
    t_fail "$1" "curl is not installed (scripts/install-deps.sh test installs it)"
    return 1
  fi
  t_build target tests/shim/attach/target.c -pthread
  sv_start && return 0
  t_fail "$1" "$(head -c 300 "$T/serve.err")"
  return 1
}

# sv_get PATH [CURL OPTIONS...]: the body into $T/body, the status echoed.
sv_get() {
  local path=$1; shift
  curl -s -m 10 -o "$T/body" -w '%{http_code}' "$@" "$SV_URL$path"
}

# sv_wait_for PATH ERE: until PATH's body has a line matching ERE (15 s).
sv_wait_for() {
  local end=$((SECONDS + 15))
  while [ $SECONDS -lt $end ]; do
    sv_get "$1" >/dev/null && grep -Eq -- "$2" "$T/body" && return 0
    sleep 0.05
  done
  return 1
}

# sv_wait_gone PATH ERE: until no line of PATH's body matches ERE (15 s).
sv_wait_gone() {
  local end=$((SECONDS + 15))
  while [ $SECONDS -lt $end ]; do
    sv_get "$1" >/dev/null && ! grep -Eq -- "$2" "$T/body" && return 0
    sleep 0.05
  done
  return 1
}

# sv_value FILE METRIC PID: the value of METRIC{pid="PID",...} in FILE.
sv_value() {
  awk -v m="$2" -v p="pid=\"$3\"" 'index($0, m "{") == 1 && index($0, p) { print $NF; exit }' "$1"
}

# sv_target [ENV=V...]: target.c preloaded with the shim (its state file on)
# and ENV, started through lib_attach's at_start; AT_PID.
sv_target() {
  at_start env HEAPSNAP_OUTPUT="$T/t.%p.hsnap" LD_PRELOAD="$SHIM" "$@" "$T/target"
}
