#!/usr/bin/env python3
"""fleetscale.py - the fleet agent at scale (issue 48, docs/fleet.md): N profiled
processes (scripts/bench/programs/fleetwork.c, preloaded with the shim) on this host,
`heapsnap serve` on a free 127.0.0.1 port, and Debian's prometheus on the shipped
dist/prometheus.yml scraping every process through /targets every second.

A window of SECONDS scraped: the scrapes missed (N x SECONDS expected, less the samples
of up == 1 Prometheus stored), the slowest and mean scrape, the agent's CPU (% of one
core) and its resident set (now and at most).  Then ROUNDS pairs of WINDOW seconds,
scraped and not (prometheus stopped by SIGSTOP), interleaved with the order alternating:
the workers' CPU time scraped over not, the median of the pairs' ratios (what being
scraped costs a process: its state file is read, the process itself is not touched).

As root, the workers and the agent run as nobody (setpriv), so that the agent serves them
alone, not the other profiled processes of a shared host.

Usage: scripts/bench/fleetscale.py [--procs 50] [--seconds 120] [--rounds 6] [--window 10]
Needs build/heapsnap and build/libheapsnap.so (make), prometheus (install-deps test).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_s(pid):
    """utime + stime of pid, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def query(prom, q):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        res = json.load(r)["data"]["result"]
    return float(res[0]["value"][1]) if res else 0.0


def wait_until(what, fn, state, seconds=60):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if fn():
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("fleetscale: %s did not happen within %d s: %s" % (what, seconds, state()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--procs", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=6, help="scraped/not window pairs")
    ap.add_argument("--window", type=int, default=10, help="seconds of each window")
    a = ap.parse_args()
    if not shutil.which("prometheus"):
        sys.exit("fleetscale: prometheus is not installed (scripts/install-deps.sh test)")
    work = tempfile.mkdtemp(prefix="hs-fleet-")
    procs = []
    try:
        exe = os.path.join(work, "fleetwork")
        subprocess.run(["gcc", "-O2", "-g", os.path.join(ROOT, "scripts/bench/programs/fleetwork.c"),
                        "-o", exe], check=True)
        shim = os.path.join(work, "libheapsnap.so")
        shutil.copy(os.path.join(BUILD, "libheapsnap.so"), shim)
        # As root, the workers and the agent run as nobody: an agent of its own user
        # serves these workers alone, not the other profiled processes of the host.
        alone = []
        if os.geteuid() == 0 and shutil.which("setpriv"):
            alone = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            os.chmod(work, 0o1777)
            for f in (exe, shim):
                os.chmod(f, 0o755)
        env = dict(os.environ, LD_PRELOAD=shim, HEAPSNAP_SERVICE="fleetwork",
                   HEAPSNAP_OUTPUT=os.path.join(work, "w.%p.hsnap"))
        workers = [subprocess.Popen(alone + [exe], env=env) for _ in range(a.procs)]
        procs += workers
        agent = subprocess.Popen(alone + [os.path.join(BUILD, "heapsnap"), "serve", "--listen",
                                          "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
        procs.append(agent)
        line = agent.stderr.readline()
        port = line.strip().rsplit(":", 1)[1].rstrip("/")
        pport = free_port()
        conf = open(os.path.join(ROOT, "dist/prometheus.yml")).read()
        conf = conf.replace("127.0.0.1:9464", "127.0.0.1:" + port).replace(": 15s", ": 1s")
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(conf)
        shutil.copy(os.path.join(ROOT, "dist/heapsnap-alerts.yml"), work)
        prom = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(work, "prometheus.yml"),
                                 "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
                                 "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(prom)
        url = "http://127.0.0.1:%d" % pport
        # the workers' targets only, whatever else the agent serves
        sel = 'job="heapsnap",instance=~".*[?]pid=(%s)"' % "|".join(str(w.pid) for w in workers)
        wait_until("every process a target of Prometheus (%d of them)" % a.procs,
                   lambda: query(url, 'count(up{%s})' % sel) == a.procs,
                   lambda: "%d up, %d workers alive" % (query(url, 'count(up{%s} == 1)' % sel),
                                                        sum(w.poll() is None for w in workers)))
        # the scraped window
        w0 = sum(cpu_s(w.pid) for w in workers)
        c0, t0 = cpu_s(agent.pid), time.monotonic()
        time.sleep(a.seconds)
        c1, t1 = cpu_s(agent.pid), time.monotonic()
        w1 = sum(cpu_s(w.pid) for w in workers)
        rng = "[%ds]" % a.seconds
        ok = query(url, 'sum(sum_over_time(up{%s}%s))' % (sel, rng))
        slowest = query(url, 'max(max_over_time(scrape_duration_seconds{%s}%s))' % (sel, rng))
        mean = query(url, 'avg(avg_over_time(scrape_duration_seconds{%s}%s))' % (sel, rng))
        rss, hwm = status_kib(agent.pid, "VmRSS"), status_kib(agent.pid, "VmHWM")
        # the workers' cost of being scraped: windows scraped and not (prometheus
        # stopped), interleaved, the order alternating; the median of the ratios
        ratios = []
        for r in range(a.rounds):
            got = {}
            for scraped in ((True, False) if r % 2 == 0 else (False, True)):
                prom.send_signal(signal.SIGCONT if scraped else signal.SIGSTOP)
                time.sleep(1)
                w_a = sum(cpu_s(w.pid) for w in workers)
                time.sleep(a.window)
                got[scraped] = sum(cpu_s(w.pid) for w in workers) - w_a
            ratios.append(got[True] / got[False] if got[False] > 0 else 0)
        prom.send_signal(signal.SIGCONT)
        expected = a.procs * a.seconds
        print("fleetscale: %d processes, scraped every 1 s for %d s (prometheus %s)"
              % (a.procs, a.seconds, subprocess.run(["prometheus", "--version"], capture_output=True,
                                                     text=True).stdout.split()[2]))
        print("  scrapes: %d expected, %d stored up, %d missed" % (expected, ok, max(0, expected - ok)))
        print("  scrape duration: mean %.1f ms, slowest %.1f ms" % (mean * 1e3, slowest * 1e3))
        print("  agent: %.2f%% of one core, RSS %.1f MiB (peak %.1f MiB)"
              % (100 * (c1 - c0) / (t1 - t0), rss / 1024, hwm / 1024))
        print("  workers' CPU in the scraped window: %.2f s" % (w1 - w0))
        print("  workers' CPU scraped / not, %d rounds of %d s: median %.3f (%s)"
              % (a.rounds, a.window, statistics.median(ratios),
                 " ".join("%.3f" % x for x in ratios)))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
