# test_serve_fuzz.sh - heapsnap serve's endpoints fed seeded random requests:
# methods, paths, query strings (percent-encoded bytes, NULs, repeated and
# huge keys, numbers out of range), headers and bodies, over raw sockets.
# Each answer is a status the agent gives (200, 400, 404, 405) or one the
# library gives a request it refuses (413, 414, 431, 400, 501, 505), or no
# answer (a closed connection); no answer ever takes more than the
# connection's bound, and the agent still serves at the end.
# serial: its agent serves every profiled process of the host, other tests' too
. tests/report/serve/lib_serve.sh
sv_start || { t_fail serve_fuzz_starts "$(head -c 300 "$T/serve.err")"; return 0; }
python3 - "$SV_PORT" >"$T/fuzz.out" 2>"$T/fuzz.err" <<'PY'
import random, socket, sys, time
port = int(sys.argv[1])
rnd = random.Random(48)
ALLOWED = {200, 400, 404, 405, 413, 414, 431, 501, 505}
paths = ["/", "/metrics", "/targets", "/debug/pprof/heap", "/debug/pprof/allocs", "/debug/pprof/",
         "/metrics/", "//metrics", "/METRICS", "/targets.json", "/debug/pprof/heap/.."]
keys = ["pid", "seconds", "agent", "debug", "gc", "", "p%00id", "pid[]"]

def word():
    k = rnd.randrange(6)
    if k == 0:
        return str(rnd.randrange(-10, 2**40))
    if k == 1:
        return "".join("%%%02x" % rnd.randrange(256) for _ in range(rnd.randrange(1, 20)))
    if k == 2:
        return "x" * rnd.choice([0, 1, 100, 5000])
    if k == 3:
        return rnd.choice(["1e3", "0x10", " 7", "-0", "inf", "nan", "18446744073709551617"])
    if k == 4:
        return "".join(chr(rnd.randrange(33, 127)) for _ in range(rnd.randrange(1, 12)))
    return ""

def request():
    method = rnd.choice(["GET"] * 6 + ["HEAD", "POST", "PUT", "OPTIONS", "TRACE", "G\x00T", "BREW"])
    path = rnd.choice(paths)
    if rnd.random() < 0.7:
        qs = "&".join(rnd.choice(keys) + rnd.choice(["=", "", "=="]) + word()
                      for _ in range(rnd.randrange(1, 6)))
        path += "?" + qs
    if rnd.random() < 0.1:
        path = "/" + "".join(chr(rnd.randrange(1, 256)) for _ in range(rnd.randrange(1, 50)))
    version = rnd.choice(["HTTP/1.1"] * 8 + ["HTTP/1.0", "HTTP/2.0", "HTTP/1.1x", ""])
    head = ["Host: 127.0.0.1"]
    for _ in range(rnd.randrange(4)):
        head.append(rnd.choice(["Accept", "X-A", "Content-Length", "Transfer-Encoding", "Range"])
                    + ": " + word())
    body = b"" if rnd.random() < 0.8 else bytes(rnd.randrange(256) for _ in range(rnd.randrange(2000)))
    return ("%s %s %s\r\n%s\r\n\r\n" % (method, path, version, "\r\n".join(head))).encode(
        "latin-1") + body

answered = closed = bad = 0
slowest = 0.0
for i in range(400):
    req = request()
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    t0 = time.monotonic()
    try:
        s.sendall(req)
        s.shutdown(socket.SHUT_WR)
        data = s.recv(64)
    except OSError:
        data = b""
    slowest = max(slowest, time.monotonic() - t0)
    s.close()
    if not data:
        closed += 1
        continue
    parts = data.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit() \
            or int(parts[1]) not in ALLOWED:
        bad += 1
        print("unexpected answer to %r: %r" % (req[:120], data[:64]))
    else:
        answered += 1
print("answered %d closed %d bad %d slowest %.2f s" % (answered, closed, bad, slowest))
sys.exit(1 if bad or slowest > 12 else 0)
PY
rc=$?
if [ $rc = 0 ]; then t_pass serve_fuzzed_requests_get_errors_not_surprises
else t_fail serve_fuzzed_requests_get_errors_not_surprises "$(tail -n 3 "$T/fuzz.out" | tr '\n' ' ') $(tail -c 200 "$T/fuzz.err")"; fi
code=$(sv_get /metrics)
if [ "$code" = 200 ] && kill -0 "$SV_PID" 2>/dev/null; then t_pass serve_serves_after_the_fuzz
else t_fail serve_serves_after_the_fuzz "status $code: $(tail -c 300 "$T/serve.err")"; fi
