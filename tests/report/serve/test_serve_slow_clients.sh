# test_serve_slow_clients.sh - heapsnap serve answers /metrics while 300
# slow clients on 127.0.0.1 hold connections (each sends its request's
# head a byte every 2-5 s, and connects again when closed: more than the
# agent's 256 connections), each scrape within 2 s; and a connection
# whose head still trickles in is closed at its deadline (5 s after the
# accept), not kept while it keeps sending.  About 35 s.
# serial: it holds 300 connections and measures answer times
. tests/report/serve/lib_serve.sh
if ! command -v curl >/dev/null; then
  t_fail serve_slow_clients_start "curl is not installed (scripts/install-deps.sh test installs it)"
  return 0
fi
sv_start || { t_fail serve_slow_clients_start "$(head -c 300 "$T/serve.err")"; return 0; }

# One slow client alone: its head, a byte a second, must be cut off
# within the deadline (5 s) and a second for the loop, not after 16 KiB.
python3 - "$SV_PORT" >"$T/one.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
t0 = time.monotonic()
head = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
for i in range(len(head)):
    if time.monotonic() - t0 > 12:
        break
    try:
        s.send(head[i:i + 1])
        s.settimeout(1)
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
print("closed after %.1f s" % (time.monotonic() - t0))
PY
secs=$(sed -n 's/^closed after \([0-9.]*\) s$/\1/p' "$T/one.out")
if [ -n "$secs" ] && awk -v s="$secs" 'BEGIN { exit !(s >= 4 && s < 8) }'; then
  t_pass serve_trickled_head_closed_at_its_deadline
else t_fail serve_trickled_head_closed_at_its_deadline "$(tr '\n' ' ' <"$T/one.out")"; fi

# 300 slow clients for 25 s; a scrape every 2 s meanwhile.
python3 - "$SV_PORT" 300 25 >"$T/slow.out" 2>&1 <<'PY' &
import random, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
head = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 20000 + b"\r\n\r\n"
rnd = random.Random(66)
socks = {}
def connect():
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks[s] = [0, time.monotonic() + rnd.uniform(0.1, 2)]
for _ in range(n):
    connect()
end = time.monotonic() + secs
reconnects = 0
while time.monotonic() < end:
    now = time.monotonic()
    for s, st in list(socks.items()):
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                raise OSError
            if st[1] <= now:
                s.send(head[st[0]:st[0] + 1])
                st[0] += 1
                st[1] = now + rnd.uniform(2, 5)
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            del socks[s]
            reconnects += 1
            time.sleep(0.001)
            connect()
    time.sleep(0.05)
print("reconnects %d open %d" % (reconnects, len(socks)))
PY
slow=$!
sleep 5 # the slow clients hold their connections
ok=0 bad=""
for i in 1 2 3 4 5 6 7 8; do
  r=$(curl -s -o "$T/m.$i" -m 2 -w '%{http_code} %{time_total}' "$SV_URL/metrics")
  case "$r" in 200\ *) ok=$((ok + 1)) ;; *) bad="$bad [$i: ${r:-no answer}]" ;; esac
  sleep 2
done
wait "$slow"
if [ "$ok" = 8 ]; then t_pass serve_scrapes_answered_beside_300_slow_clients
else t_fail serve_scrapes_answered_beside_300_slow_clients "$ok of 8 within 2 s:$bad; $(cat "$T/slow.out")"; fi
sv_get '/metrics?agent' >/dev/null
closed=$(awk '/^heapsnap_serve_connections_closed_total/ { s += $NF } END { print s + 0 }' "$T/body")
if [ "$closed" -gt 0 ] && kill -0 "$SV_PID" 2>/dev/null; then t_pass serve_counts_the_slow_connections_it_closed
else t_fail serve_counts_the_slow_connections_it_closed "closed $closed: $(grep closed "$T/body" | tr '\n' ' ')"; fi
