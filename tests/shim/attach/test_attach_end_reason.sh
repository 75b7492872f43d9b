# test_attach_end_reason.sh - heapsnap attach says why its session ended
# when nobody detached: a process that ends by itself "has ended", also
# while its parent has not reaped it yet (a zombie: kill(pid, 0) still
# succeeds on it, and the session said "was detached (heapsnap detach)");
# a `heapsnap detach` from elsewhere says "was detached".
. tests/shim/attach/lib_attach.sh
cat >"$T/ender.c" <<'C'
#include <stdlib.h>
#include <unistd.h>
/* allocates until the file argv[1] appears, then returns */
int main(int argc, char **argv)
{
    for (int i = 0; argc > 1 && access(argv[1], F_OK) != 0 && i < 3000; i++) {
        free(malloc(64));
        usleep(10000);
    }
    return 0;
}
C
t_build ender "$T/ender.c"
# end_case NAME HOW: ender started under a parent that never reaps it
# (sh, then exec sleep), attached, then ended by HOW (exit: the file
# appears; detach: heapsnap detach); the attach's last line must match WANT
end_case() {
  local name=$1 how=$2 want=$3
  rm -f "$T/stop" "$T/ender.pid"
  sh -c '"$1" "$2" & echo $! >"$3"; exec sleep 40' sh "$T/ender" "$T/stop" "$T/ender.pid" &
  local holder=$!
  for _ in $(seq 200); do [ -s "$T/ender.pid" ] && break; sleep 0.02; done
  local pid; pid=$(cat "$T/ender.pid" 2>/dev/null)
  "$HEAPSNAP" attach "$pid" -o "$T/end.%p.hsnap" >"$T/end.out" 2>"$T/end.err" &
  local cli=$!
  for _ in $(seq 3000); do grep -qs '^heapsnap: attached to' "$T/end.err" && break
    kill -0 "$cli" 2>/dev/null || break; sleep 0.01; done
  if [ "$how" = exit ]; then touch "$T/stop"; else "$HEAPSNAP" detach "$pid" >/dev/null 2>&1; fi
  for _ in $(seq 1500); do kill -0 "$cli" 2>/dev/null || break; sleep 0.02; done
  kill "$cli" 2>/dev/null
  wait "$cli"
  touch "$T/stop"
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
  if grep -q "$want" "$T/end.err"; then t_pass "$name"
  else t_fail "$name" "$(tail -n 3 "$T/end.err" | tr '\n' ' ')"; fi
}
end_case attach_says_a_process_that_ended_unreaped_has_ended exit "^heapsnap: process [0-9]* has ended$"
end_case attach_says_a_detach_from_elsewhere_detached detach "^heapsnap: process [0-9]* was detached (heapsnap detach)$"
