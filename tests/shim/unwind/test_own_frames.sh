# tests/shim/unwind/test_own_frames.sh - heapsnap's own frames never appear in a
# user's stack: a thread's stack ends at libc's start_thread, without the
# shim's pthread_create wrapper under the start routine, in top's text,
# leaks' JSON and gate's SARIF.  (before: "thr_start (shim/threads.c)" or
# "libheapsnap.so+0x..." in every thread's stack)
cat >"$T/thr.c" <<'CEOF'
#include <pthread.h>
#include <stdlib.h>
static void *volatile sink;
static void *worker(void *arg)
{
    sink = malloc(100);      /* line 6: reachable */
    malloc(200);             /* line 7: definitely lost */
    return arg;
}
int main(void)
{
    pthread_t t;
    pthread_create(&t, 0, worker, 0);
    pthread_join(t, 0);
    return 0;
}
CEOF
if ! cc -g -O0 -fno-omit-frame-pointer "$T/thr.c" -o "$T/thr" -pthread 2>"$T/cc.err"; then
  t_fail own_frames_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT=$T/thr.hsnap LD_PRELOAD=$SHIM "$T/thr" >/dev/null 2>&1
if [ ! -s "$T/thr.hsnap" ]; then t_fail own_frames_snapshot_written "no snapshot"; return 0; fi

# own NAME FILE: passes when FILE names the thread's start routine and no shim frame
own() {
  if ! grep -q 'worker' "$2"; then t_fail "$1" "no worker frame: $(head -c 400 "$2" | tr '\n' '|')"
  elif grep -Eq 'libheapsnap|thr_start|(^|[^[:alnum:]_])shim/' "$2"; then # not a checkout named *shim
    t_fail "$1" "$(grep -Eo '.{0,60}(libheapsnap|thr_start|(^|[^[:alnum:]_])shim/).{0,40}' "$2" | head -3 | tr '\n' '|')"
  else t_pass "$1"; fi
}
"$HEAPSNAP" top "$T/thr.hsnap" --key traceback -n 0 >"$T/top.txt" 2>&1
own own_frames_absent_from_top_traceback "$T/top.txt"
"$HEAPSNAP" leaks "$T/thr.hsnap" >"$T/leaks.txt" 2>&1
own own_frames_absent_from_leaks_text "$T/leaks.txt"
"$HEAPSNAP" leaks "$T/thr.hsnap" --format json >"$T/leaks.json" 2>&1
own own_frames_absent_from_leaks_json "$T/leaks.json"
"$HEAPSNAP" gate "$T/thr.hsnap" --format sarif >"$T/gate.sarif" 2>&1
own own_frames_absent_from_gate_sarif "$T/gate.sarif"
