# test_serve_memory.sh - heapsnap serve's memory under six scrapers at once
# for 15 s (/metrics, ?pid=, /debug/pprof/heap now and with seconds=1,
# /targets, and bad requests) of a Python process with a few thousand
# stacks, the agent starved the while (stopped 0.15 s in every 0.75 s,
# as a loaded machine leaves it: many requests ready at each run, and
# every profiled process of the user served by /metrics, a make check's
# too): its peak stays under 400 MiB (the unit's MemoryMax is 512M) and
# once the scrapers stop, what it holds is under 200 MiB (it drops its
# symbols past 192 MiB, checked after each request; a read may allocate
# --read-limit, 128 MiB; every read's own tables are freed with it).  An
# agent whose --read-limit the process's state needs more than answers
# its profile 503 with the reason, and reads nothing.
# About 40 s.
# serial: it measures the agent's memory, and the agent reads every profiled process
. tests/report/serve/lib_serve.sh
if ! command -v curl >/dev/null; then
  t_fail serve_memory_start "curl is not installed (scripts/install-deps.sh test installs it)"
  return 0
fi
cat >"$T/heap.py" <<'PY'
import sys, time
import json, email.mime.multipart, http.server, asyncio, xml.dom.minidom, unittest, argparse
import decimal, sqlite3, logging.handlers, urllib.request, tarfile, zipfile, csv, difflib
import pydoc, inspect, ast, dataclasses, typing, statistics, fractions, concurrent.futures
keep = [dict((str(i), [j] * 8) for j in range(50)) for i in range(20000)]
print("ready", flush=True)
time.sleep(120)
PY
HEAPSNAP_OUTPUT="$T/py.%p.hsnap" LD_PRELOAD="$SHIM" python3 "$T/heap.py" >"$T/py.out" 2>"$T/py.err" &
py=$!
SV_PIDS="$SV_PIDS $py"
for _ in $(seq 600); do grep -qs ready "$T/py.out" && break; sleep 0.05; done
sv_start || { t_fail serve_memory_start "$(head -c 300 "$T/serve.err")"; return 0; }
if ! sv_wait_for "/metrics?pid=$py" '^heapsnap_heap_live_bytes'; then
  t_fail serve_memory_start "process $py not served: $(head -c 300 "$T/py.err")"
  return 0
fi
# starved: stopped and continued in bursts for the mix
(while kill -STOP "$SV_PID" 2>/dev/null; do sleep 0.15; kill -CONT "$SV_PID"; sleep 0.6; done) &
starve=$!
python3 - "$SV_PORT" "$py" 15 >"$T/mix.out" 2>&1 <<'PY'
import sys, threading, time, urllib.error, urllib.request
port, pid, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
paths = ["/metrics", "/metrics?pid=" + pid, "/debug/pprof/heap?pid=%s&seconds=1" % pid,
         "/targets", "/debug/pprof/heap?pid=" + pid, "/debug/pprof/heap?pid=x"]
done, errors = {}, []
def scrape(path):
    end, n = time.monotonic() + secs, 0
    while time.monotonic() < end:
        try:
            urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=60).read()  # starved: slow, not stuck
        except urllib.error.HTTPError as e:
            if e.code != 400 or "pid=x" not in path:
                errors.append("%s: %d" % (path, e.code))
        except Exception as e:
            errors.append("%s: %r" % (path, e))
        n += 1
    done[path] = n
threads = [threading.Thread(target=scrape, args=(p,)) for p in paths]
[t.start() for t in threads]
[t.join() for t in threads]
print("requests", sum(done.values()), "errors", len(errors), errors[:3])
PY
kill "$starve"; wait "$starve" 2>/dev/null; kill -CONT "$SV_PID"
sleep 2 # the loop idles: the allocator's free pages go back
rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SV_PID/status")
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SV_PID/status")
echo "agent: $(cat "$T/mix.out"); VmRSS $rss kB, VmHWM $hwm kB" >&2
if grep -q 'errors 0 ' "$T/mix.out"; then t_pass serve_memory_mix_answered
else t_fail serve_memory_mix_answered "$(cat "$T/mix.out")"; fi
if [ -n "$hwm" ] && [ "$hwm" -lt $((400 * 1024)) ]; then t_pass serve_memory_peak_under_400_mib
else t_fail serve_memory_peak_under_400_mib "VmHWM ${hwm:-?} kB"; fi
if [ -n "$rss" ] && [ "$rss" -lt $((200 * 1024)) ]; then t_pass serve_memory_returned_after_the_scrapers
else t_fail serve_memory_returned_after_the_scrapers "VmRSS ${rss:-?} kB after the mix (peak ${hwm:-?} kB)"; fi

# an agent whose read limit this state needs more than: 503, the reason named
first=$SV_PID
sv_start --read-limit 8 || { t_fail serve_memory_read_limit "$(head -c 300 "$T/serve.err")"; return 0; }
code=$(sv_get "/debug/pprof/heap?pid=$py")
rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$SV_PID/status")
if [ "$code" = 503 ] && grep -q "past the 8 MiB a read may cost here" "$T/body" && [ "${rss:-0}" -lt $((64 * 1024)) ]; then
  t_pass serve_memory_read_limit_refuses
else t_fail serve_memory_read_limit_refuses "HTTP $code: $(head -c 200 "$T/body"); VmHWM ${rss:-?} kB"; fi
