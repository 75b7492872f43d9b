#!/usr/bin/env python3
"""serveabuse.py - the fleet agent under abuse (issue 66, docs/security.md): every
client on 127.0.0.1, bounded in count and time.

slow: CLIENTS connections to `heapsnap serve`, each sending its request's head one
byte every 2-5 s and connecting again when closed, for SECONDS; meanwhile a /metrics
probe every second (2 s timeout): the probes answered, their slowest time, and the
connections the agent closed (heapsnap_serve_connections_closed_total).

mix: a Python process preloaded with the shim (20k dicts; a few thousand stacks) and
six scrapers at once for MIX seconds on /metrics, ?pid=, /debug/pprof/heap (now and with
seconds=1), /targets and a bad request: the agent's resident set before, at most
(sampled every 0.5 s, and VmHWM), and 3 s (and LINGER s) after the scrapers stop.

Usage: scripts/bench/serveabuse.py [--heapsnap build/heapsnap] [--clients 300]
       [--seconds 25] [--mix 15] [--linger S] [--only slow|mix]
Needs build/heapsnap and build/libheapsnap.so (make).
"""

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))

HEAP_PY = """
import sys, time
import json, email.mime.multipart, http.server, asyncio, xml.dom.minidom, unittest, argparse
import decimal, sqlite3, logging.handlers, urllib.request, tarfile, zipfile, csv, difflib
import pydoc, inspect, ast, dataclasses, typing, statistics, fractions, concurrent.futures
keep = [dict((str(i), [j] * 8) for j in range(50)) for i in range(20000)]
print("ready", flush=True)
time.sleep(float(sys.argv[1]))
"""


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def start_agent(heapsnap, tmp):
    err = open(os.path.join(tmp, "serve.err"), "w+")
    agent = subprocess.Popen([heapsnap, "serve", "--listen", "127.0.0.1:0"], stderr=err)
    for _ in range(500):
        err.seek(0)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", err.read())
        if m:
            return agent, int(m.group(1))
        time.sleep(0.02)
    agent.kill()
    sys.exit("serveabuse: the agent did not start")


def get(port, path, timeout):
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            body = r.read()
            return r.status, time.monotonic() - t0, body
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, time.monotonic() - t0, b""
    except Exception:
        return 0, time.monotonic() - t0, b""


def slow(port, clients, seconds):
    head = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 20000 + b"\r\n\r\n"
    rnd = random.Random(66)
    socks = {}
    stop = time.monotonic() + seconds
    closed = [0]

    def connect():
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks[s] = [0, time.monotonic() + rnd.uniform(0.1, 2)]

    def trickle():
        for _ in range(clients):
            connect()
        while time.monotonic() < stop:
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
                    closed[0] += 1
                    time.sleep(0.001)
                    connect()
            time.sleep(0.05)
        for s in socks:
            s.close()

    t = threading.Thread(target=trickle)
    t.start()
    time.sleep(3)
    probes = []
    while time.monotonic() < stop - 1:
        code, secs, _ = get(port, "/metrics", 2)
        probes.append((code, secs))
        time.sleep(max(0, 1 - secs))
    t.join()
    ok = [s for c, s in probes if c == 200]
    _, _, body = get(port, "/metrics?agent", 5)
    counts = dict(re.findall(rb'connections_closed_total\{why="(\w+)"\} (\d+)', body))
    print("slow: %d clients for %d s: %d of %d /metrics probes answered within 2 s "
          "(slowest %.3f s); the clients saw %d closes; the agent closed %s at the deadline, "
          "%s for newer ones" % (clients, seconds, len(ok), len(probes), max(ok or [0]), closed[0],
                                 counts.get(b"deadline", b"?").decode(),
                                 counts.get(b"evicted", b"?").decode()))


def mix(port, agent, pid, seconds, linger):
    paths = ["/metrics", "/metrics?pid=%d" % pid, "/debug/pprof/heap?pid=%d&seconds=1" % pid,
             "/targets", "/debug/pprof/heap?pid=%d" % pid, "/debug/pprof/heap?pid=x"]
    done = {}
    get(port, "/metrics", 10)
    before = status_kib(agent, "VmRSS")
    stop = time.monotonic() + seconds

    def scrape(path):
        n = bad = 0
        while time.monotonic() < stop:
            code, _, _ = get(port, path, 20)
            n += 1
            bad += code not in (200, 400)
        done[path] = (n, bad)

    ts = [threading.Thread(target=scrape, args=(p,)) for p in paths]
    for t in ts:
        t.start()
    most = before
    while any(t.is_alive() for t in ts):
        most = max(most, status_kib(agent, "VmRSS"))
        time.sleep(0.5)
    time.sleep(3)
    after, hwm = status_kib(agent, "VmRSS"), status_kib(agent, "VmHWM")
    print("mix: 6 scrapers for %d s: %d requests (%d failed); agent VmRSS %.0f MB before, "
          "%.0f MB at most (VmHWM %.0f MB), %.0f MB 3 s after"
          % (seconds, sum(n for n, _ in done.values()), sum(b for _, b in done.values()),
             before / 1024, most / 1024, hwm / 1024, after / 1024))
    if linger > 3:
        time.sleep(linger - 3)
        print("mix: %.0f MB %d s after" % (status_kib(agent, "VmRSS") / 1024, linger))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heapsnap", default=os.path.join(BUILD, "heapsnap"))
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=25)
    ap.add_argument("--mix", type=int, default=15)
    ap.add_argument("--only", choices=["slow", "mix"])
    ap.add_argument("--linger", type=int, default=0, help="also the VmRSS this long after the mix")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        target = None
        if a.only != "slow":
            env = dict(os.environ, LD_PRELOAD=os.path.join(BUILD, "libheapsnap.so"),
                       HEAPSNAP_OUTPUT=os.path.join(tmp, "py.%p.hsnap"))
            target = subprocess.Popen([sys.executable, "-c", HEAP_PY, "300"], env=env,
                                      stdout=subprocess.PIPE, text=True)
            target.stdout.readline()
        agent, port = start_agent(a.heapsnap, tmp)
        try:
            if a.only != "mix":
                slow(port, a.clients, a.seconds)
            if target:
                for _ in range(300):
                    if get(port, "/metrics?pid=%d" % target.pid, 5)[0] == 200:
                        break
                    time.sleep(0.05)
                mix(port, agent.pid, target.pid, a.mix, a.linger)
        finally:
            agent.terminate()
            agent.wait()
            if target:
                target.kill()
                target.wait()


if __name__ == "__main__":
    main()
