#!/usr/bin/env python3
"""adversarial.py - issue 66's adversarial pass, rerun (docs/security.md, "Rerunning
the adversarial pass"): seven campaigns, each bounded by a count and a time budget,
on 127.0.0.1 only, in a scratch directory removed at the end. One line each:

cycles   a target under `heapsnap run --live` (a pty), `attach`, `live` and `detach`,
         the CLI killed with SIGKILL or SIGTERM at a random moment (run: SIGKILL, as
         run forwards SIGTERM to its program by design); then a detach: target deaths,
         changed outputs (the target's own checksum), targets left traced
mutate   snapshots and state files (tests/fuzz/corpus and fresh ones) mutated (bit
         flips, truncation, splices, length fields, zeroed ranges), each read by every
         reading command (info, top by 4 keys, diff, leaks, gate in 5 formats, export
         in 6, html, merge, trend, timeline) under RLIMIT_AS 1 GiB and a timeout:
         crashes (signals), exits outside 0/1/2 (1: gate only), exit-2 reasons not
         one line ("heapsnap: note:" lines before it aside), timeouts, the largest resident set of one run
fuzz     `make fuzz FUZZ_SECONDS=N` (clang + libFuzzer): executions, crashes
http     requests against `heapsnap serve` (random paths, queries, methods, headers,
         bodies, pipelining, half-closed and abandoned connections), a well-formed
         /metrics probe after every 10: agent crashes, probes not answered in 5 s
env      every HEAPSNAP_* variable `heapsnap run --help` lists, set to hostile values,
         on a C program and python3: runs whose stdout or exit status changed, hangs,
         a planted link's target changed; plus secure-execution runs (a setuid
         program, the shim in /etc/ld.so.preload of a private mount namespace, as
         tests/shim/test_privileges.sh): the shim does nothing
threads  32 threads freeing each other's blocks, SIGUSR2 (HEAPSNAP_SIGNAL) every 10 ms:
         deadlocks (timeouts), and the exit snapshot's count and bytes at the site
         against the program's own
fsize    RLIMIT_FSIZE 8 KiB (ulimit -f 8): python3 building 100k strings, preloaded and
         under `heapsnap run`, HEAPSNAP_INTERVAL 0.2 or not, HEAPSNAP_STATE=64 or not:
         exit status or output changed, partial files left

Usage: scripts/bench/adversarial.py [--only c1,c2] [--quick] [--scale F] [--seed N]
  --quick   a smoke of every campaign in under a minute (tests/scripts/test_adversarial.sh)
  --scale F multiplies every count and budget (default 1: about 20 minutes in all)
Exit 0 when no campaign found anything, 1 when one did, 2 when it could not run.
Needs build/heapsnap and build/libheapsnap.so (make); fuzz needs clang.
"""

import argparse
import ctypes
import glob
import json
import os
import pty
import random
import re
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
HS = os.environ.get("HEAPSNAP", os.path.join(BUILD, "heapsnap"))
SHIM = os.environ.get("SHIM", os.path.join(BUILD, "libheapsnap.so"))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")
SIGNAME = {s.value: s.name for s in signal.Signals}

# The programs the campaigns run: each prints what it computed, deterministically.
CYCLE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    FILE *p = fopen(argv[1], "w"); fprintf(p, "%d\n", getpid()); fclose(p);
    int n = atoi(argv[3]); unsigned long sum = 0; void *keep[64] = {0};
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 64; j++) {
            size_t sz = 16 + (i * 64 + j) % 500;
            char *b = malloc(sz); memset(b, j, sz); sum += sz * (unsigned char)b[sz / 2];
            free(keep[j]); keep[j] = b;
        }
        usleep(1000);
    }
    p = fopen(argv[2], "w"); fprintf(p, "sum=%lu\n", sum); fclose(p);
    return 0;
}
"""

ENV_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    unsigned long sum = 0; char *keep[200];
    for (int i = 0; i < 200; i++) { keep[i] = malloc(32 + i); memset(keep[i], i, 32 + i); }
    for (int i = 0; i < 20000; i++) { char *b = malloc(1 + i % 300); b[0] = i; sum += b[0] & 255; free(b); }
    for (int i = 0; i < 200; i += 2) free(keep[i]);
    printf("sum=%lu\n", sum);
    return 0;
}
"""

THREADS_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define NT 32
#define SLOTS 4096
static void *slots[SLOTS];
static size_t sizes[SLOTS];
static pthread_mutex_t mu[64];
static int iters;
__attribute__((noinline)) static void *churn_alloc(size_t n) { return malloc(n); }
static void *work(void *arg) {
    unsigned s = (unsigned)(size_t)arg * 2654435761u + 1;
    for (int i = 0; i < iters; i++) {
        s = s * 1103515245u + 12345u;
        size_t sz = 8 + (s >> 8) % 700;
        void *p = churn_alloc(sz);
        memset(p, 0, 8);
        unsigned k = (s >> 12) % SLOTS;
        pthread_mutex_lock(&mu[k % 64]);
        void *old = slots[k]; slots[k] = p; sizes[k] = sz;   /* often another thread's block */
        pthread_mutex_unlock(&mu[k % 64]);
        free(old);
    }
    return NULL;
}
int main(int argc, char **argv) {
    iters = atoi(argv[1]);
    for (int i = 0; i < 64; i++) pthread_mutex_init(&mu[i], NULL);
    printf("ready\n"); fflush(stdout);
    pthread_t t[NT];
    for (long i = 0; i < NT; i++) pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < NT; i++) pthread_join(t[i], NULL);
    unsigned long n = 0, bytes = 0;
    for (int i = 0; i < SLOTS; i++) if (slots[i]) { n++; bytes += sizes[i]; }
    printf("done live %lu bytes %lu\n", n, bytes); fflush(stdout);
    return 0;
}
"""

PY_FSIZE = "x=[str(i)*3 for i in range(100000)]; print(len(x))"


def cc(src, out, tmp, *flags):
    path = os.path.join(tmp, os.path.basename(out) + ".c")
    with open(path, "w") as f:
        f.write(src)
    subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", path, "-o", out] + list(flags), check=True)
    return out


def reap(proc, timeout):
    """Waits for proc at most timeout s (then SIGKILL): (status, maxrss KiB, timed out)."""
    end = time.monotonic() + timeout
    while True:
        if proc.returncode is not None:  # reaped already (Popen.send_signal polls)
            return proc.returncode, 0, False
        pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(st)
            return proc.returncode, ru.ru_maxrss, False
        if time.monotonic() > end:
            proc.kill()
            pid, st, ru = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(st)
            return proc.returncode, ru.ru_maxrss, True
        time.sleep(0.003)


def sh(cmd, timeout=60, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace", **kw)
    except subprocess.TimeoutExpired:
        return None


# ---------------------------------------------------------------- cycles
def tracer(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return int(re.search(r"TracerPid:\s*(\d+)", f.read()).group(1))
    except OSError:
        return 0


def camp_cycles(a, tmp, rnd):
    exe = cc(CYCLE_C, os.path.join(tmp, "cycle"), tmp)
    iters = "600"
    ref = os.path.join(tmp, "cyc.ref")
    subprocess.run([exe, ref + ".pid", ref, iters], check=True)
    want = open(ref).read()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: run's orphaned program is ours to reap
    n = deaths = changed = traced = 0
    kinds = {}
    end = time.monotonic() + a.budget("cycles", 240)
    while n < a.count("cycles", 120) and time.monotonic() < end:
        mode = ("run", "attach", "live", "detach")[n % 4]
        sig = signal.SIGKILL if mode == "run" or rnd.random() < 0.5 else signal.SIGTERM
        pidf, outf = os.path.join(tmp, "cyc.pid"), os.path.join(tmp, "cyc.out")
        for f in (pidf, outf):
            if os.path.exists(f):
                os.unlink(f)
        snaps = os.path.join(tmp, "cyc.%p.hsnap")
        target = cli = None
        master = None
        if mode == "run":
            master, slave = pty.openpty()
            cli = subprocess.Popen([HS, "run", "--live", "-q", "-o", snaps, "--", exe, pidf, outf, iters],
                                   stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, start_new_session=True)
            os.close(slave)
            for _ in range(3000):
                if os.path.exists(pidf) and open(pidf).read().endswith("\n"):
                    break
                time.sleep(0.002)
            tpid = int(open(pidf).read())
        else:
            target = subprocess.Popen([exe, pidf, outf, iters])
            tpid = target.pid
            time.sleep(rnd.uniform(0.01, 0.15))
            if mode == "attach":
                cli = subprocess.Popen([HS, "attach", str(tpid), "--duration", "1", "-o", snaps],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elif mode == "live":
                master, slave = pty.openpty()
                cli = subprocess.Popen([HS, "live", str(tpid), "-o", snaps], stdin=slave, stdout=slave,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
                os.close(slave)
            else:
                bg = subprocess.Popen([HS, "attach", str(tpid), "--duration", "30", "-o", snaps],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.25)
                cli = subprocess.Popen([HS, "detach", str(tpid)], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0, 0.5))
        try:
            cli.send_signal(sig)
        except ProcessLookupError:
            pass
        reap(cli, 30)
        if master is not None:
            os.close(master)
        if mode == "detach":
            bg.terminate()
            reap(bg, 30)
        time.sleep(0.05)
        if tracer(tpid):
            traced += 1
        if mode != "run":  # whatever was left attached ends now, as a user would end it
            sh([HS, "detach", str(tpid)], timeout=30)
        if target is not None:
            rc = reap(target, 60)[0]
        else:
            try:
                pid, st = os.waitpid(tpid, 0)
                rc = os.waitstatus_to_exitcode(st)
            except ChildProcessError:
                rc = None
        died = rc != 0
        deaths += died
        got = open(outf).read() if os.path.exists(outf) else ""
        changed += (not died) and got != want
        kinds[mode] = kinds.get(mode, 0) + 1
        if died or (got != want):
            a.note("cycles: %s killed by %s: target rc %s, output %r" % (mode, sig.name, rc, got))
        for f in glob.glob(os.path.join(tmp, "cyc.*.hsnap")):
            os.unlink(f)
        n += 1
    a.found += deaths + changed + traced
    return "cycles: %d (%s): %d target deaths, %d output changes, %d left traced" % (
        n, ", ".join("%s %d" % kv for kv in sorted(kinds.items())), deaths, changed, traced)


# ---------------------------------------------------------------- mutate
def mutate(data, other, rnd):
    b = bytearray(data)
    how = rnd.choice(("flip", "trunc", "splice", "length", "zero", "dup"))
    if not b:
        return bytes(other[: rnd.randrange(len(other) + 1)]), "splice"
    if how == "flip":
        for _ in range(rnd.randint(1, 8)):
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
    elif how == "trunc":
        del b[rnd.randrange(len(b)):]
    elif how == "splice":
        i, j = rnd.randrange(len(b)), rnd.randrange(len(other) + 1)
        b = b[:i] + other[j:]
    elif how == "length":
        for _ in range(rnd.randint(1, 3)):
            w = rnd.choice((4, 8))
            i = rnd.randrange(max(1, len(b) - w)) & ~3
            v = rnd.choice((0, 1, 0x7FFFFFFF, 0x80000004, 0xFFFFFFFF, 2 ** 63 - 1, 2 ** 64 - 1,
                            len(b), len(b) + 1, 1 << 40))
            b[i:i + w] = (v & ((1 << (8 * w)) - 1)).to_bytes(w, "little")
    elif how == "zero":
        i = rnd.randrange(len(b))
        b[i:i + rnd.randint(1, 4096)] = bytes(min(len(b) - i, 4096))[: len(b[i:i + 4096])]
    else:
        i = rnd.randrange(len(b))
        j = min(len(b), i + rnd.randint(1, 4096))
        b = b[:j] + b[i:j] + b[j:]
    return bytes(b), how


def reading_commands(f, g, out):
    cmds = [["info", f], ["top", f], ["top", f, "-k", "traceback"], ["top", f, "-k", "function", "--peak"],
            ["top", f, "-k", "type", "--format", "json"], ["diff", g, f], ["leaks", f], ["gate", f],
            ["trend", g, f], ["timeline", f], ["html", f, "-o", out + ".html"],
            ["merge", f, g, "-o", out + ".merged"]]
    cmds += [["gate", f, "--format", x, "-o", out + "." + x] for x in ("json", "junit", "sarif", "github")]
    cmds += [["export", "-f", x, "-o", out + "." + x, f]
             for x in ("pprof", "folded", "speedscope", "massif", "tracemalloc", "tracemalloc-binary")]
    return cmds


def seeds(tmp):
    files = sorted(glob.glob(os.path.join(ROOT, "tests/fuzz/corpus/*")))
    d = os.path.join(tmp, "seedrun")
    os.makedirs(d)
    exe = cc(ENV_C, os.path.join(tmp, "seedprog"), tmp)
    # fresh ones: a snapshot with a leak check, one per interval, and a killed run's state file
    subprocess.run([HS, "run", "-q", "--leaks", "--interval", "0.005", "-o", os.path.join(d, "s.%p.%n.hsnap"),
                    "--", exe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ, LD_PRELOAD=SHIM, HEAPSNAP_STATE="64", HEAPSNAP_OUTPUT=os.path.join(d, "k.%p.hsnap"))
    p = subprocess.Popen([PY, "-c", "import time; x=[dict(a=i) for i in range(20000)]; print(1, flush=True); "
                          "time.sleep(30)"], env=env, stdout=subprocess.PIPE)
    p.stdout.readline()
    time.sleep(0.3)
    p.kill()
    p.wait()
    files += sorted(glob.glob(os.path.join(d, "*.hsnap")))[-3:]
    for st in glob.glob("/tmp/heapsnap-%d/%d.state" % (os.getuid(), p.pid)) + \
            glob.glob(os.path.join(d, "*%d*state*" % p.pid)):
        shutil.copy(st, os.path.join(d, "killed.fresh.state"))
        files.append(os.path.join(d, "killed.fresh.state"))
    return [f for f in files if os.path.isfile(f) and os.path.getsize(f) > 0]


# A line of these before the reason says what the file is (a killed run's state file, a
# module without debug information); it is not the reason, which must be one line.
NOTE = "heapsnap: note: "


def camp_mutate(a, tmp, rnd):
    pool = [open(f, "rb").read() for f in seeds(tmp)]
    work = os.path.join(tmp, "mut")
    os.makedirs(work)
    files = runs = crashes = odd = multiline = timeouts = 0
    maxrss = 0
    hows = {}

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    end = time.monotonic() + a.budget("mutate", 360)
    while files < a.count("mutate", 400) and time.monotonic() < end:
        data, how = mutate(rnd.choice(pool), rnd.choice(pool), rnd)
        hows[how] = hows.get(how, 0) + 1
        suffix = ".state" if rnd.random() < 0.3 else ".hsnap"
        f = os.path.join(work, "m%d%s" % (files, suffix))
        g = os.path.join(work, "g%d.hsnap" % files)
        with open(f, "wb") as o:
            o.write(data)
        with open(g, "wb") as o:
            o.write(rnd.choice(pool))
        files += 1
        for cmd in reading_commands(f, g, os.path.join(work, "out")):
            if time.monotonic() > end:
                break
            with open(os.path.join(work, "err"), "w+") as err:
                p = subprocess.Popen([HS] + cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                     preexec_fn=limits, cwd=work)
                rc, rss, late = reap(p, 30)
                err.seek(0)
                msg = err.read()
            runs += 1
            maxrss = max(maxrss, rss)
            if late:
                timeouts += 1
                a.note("mutate: timeout: heapsnap %s (%s)" % (" ".join(cmd), how))
                shutil.copy(f, os.path.join(a.keep, os.path.basename(f))) if a.keep else None
            elif rc < 0:
                crashes += 1
                a.note("mutate: %s: heapsnap %s (%s)" % (SIGNAME.get(-rc, rc), " ".join(cmd), how))
                shutil.copy(f, os.path.join(a.keep, os.path.basename(f))) if a.keep else None
            elif rc not in (0, 2) and not (rc == 1 and cmd[0] == "gate"):
                odd += 1
                a.note("mutate: exit %d: heapsnap %s: %s" % (rc, " ".join(cmd), msg[-200:]))
            elif rc == 2 and len([x for x in msg.splitlines() if x.strip() and not x.startswith(NOTE)]) != 1:
                multiline += 1
                a.note("mutate: exit 2 with %d lines: heapsnap %s: %r" % (
                    len(msg.splitlines()), " ".join(cmd), msg[:300]))
        for x in glob.glob(os.path.join(work, "*")):
            if os.path.isfile(x):
                os.unlink(x)
            elif os.path.isdir(x):
                shutil.rmtree(x, ignore_errors=True)
    a.found += crashes + odd + multiline + timeouts
    return ("mutate: %d files (%s) from %d seeds, %d runs: %d crashes, %d exits outside 0/1/2, "
            "%d exit-2 reasons not one line, %d timeouts; largest RSS %.1f MB" % (
                files, ", ".join("%s %d" % kv for kv in sorted(hows.items())), len(pool), runs, crashes, odd,
                multiline, timeouts, maxrss / 1024))


# ---------------------------------------------------------------- fuzz
def camp_fuzz(a, tmp, rnd):
    secs = max(5, int(a.budget("fuzz", 120)))
    if not shutil.which("clang"):
        a.found += 1
        return "fuzz: not run: no clang"
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "fuzz", "FUZZ_SECONDS=%d" % secs,
                        "BUILD=" + os.path.relpath(BUILD, ROOT)], capture_output=True, text=True, errors="replace")
    log = r.stdout + r.stderr
    m = re.search(r"Done (\d+) runs in (\d+) second", log)
    crash = len(re.findall(r"==\d+==ERROR|ERROR: libFuzzer|SUMMARY: (Address|Undefined)", log))
    if r.returncode != 0 or not m:
        crash = max(crash, 1)
        a.note("fuzz: make fuzz exited %d: %s" % (r.returncode, log[-600:]))
    a.found += crash
    return "fuzz: %s executions in %s s (make fuzz FUZZ_SECONDS=%d): %d crashes" % (
        m.group(1) if m else "?", m.group(2) if m else "?", secs, crash)


# ---------------------------------------------------------------- http
def http_junk(rnd, pid, port):
    meth = rnd.choice(("GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
                       "CONNECT", "G\x00ET", "get", "X" * rnd.randint(1, 9000)))
    path = rnd.choice(("/metrics", "/metrics?pid=%d" % pid, "/metrics?agent", "/targets", "/debug/pprof/heap",
                       "/debug/pprof/heap?pid=%d" % pid, "/debug/pprof/allocs?pid=%d" % pid,
                       "/debug/pprof/heap?pid=%d&seconds=1" % pid, "/", "//", "/../../etc/passwd",
                       "/metrics?pid=-1", "/metrics?pid=99999999999999999999", "/metrics?pid=%n%s",
                       "/debug/pprof/heap?pid=%d&seconds=%s" % (pid, rnd.choice(("0", "-1", "61", "1e9", "x", ""))),
                       "/%00", "/" + "a" * rnd.randint(1, 20000), "/metrics?" + "&".join(["a=b"] * 500),
                       "*", "http://127.0.0.1/metrics", "/\xff\xfe", "/metrics%0d%0aX: y"))
    if rnd.random() < 0.3:
        path += rnd.choice(("?", "&", "#", "%", "%zz", "?pid=", "&seconds=1"))
    ver = rnd.choice(("HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", "", "HTTP/1.1 extra"))
    hdrs = ["Host: 127.0.0.1:%d" % port]
    for _ in range(rnd.randint(0, 6)):
        hdrs.append(rnd.choice(("Accept: application/openmetrics-text; version=1.0.0",
                                "Accept-Encoding: gzip", "Connection: close", "Connection: keep-alive",
                                "Content-Length: %d" % rnd.choice((0, 5, -1, 2 ** 63, 99999999)),
                                "Transfer-Encoding: chunked", "Expect: 100-continue",
                                "X-" + "h" * rnd.randint(1, 8000) + ": v", "NoColon", ": empty",
                                "Host: a\x00b", "Range: bytes=0-", "X: " + "\x1b[2J" * 50)))
    body = b""
    if rnd.random() < 0.3:
        body = rnd.choice((b"0\r\n\r\n", b"ffffffffffffffff\r\nx", b"zz\r\n", os.urandom(rnd.randint(1, 3000))))
    req = ("%s %s %s\r\n%s\r\n\r\n" % (meth, path, ver, "\r\n".join(hdrs))).encode("latin-1", "replace") + body
    if rnd.random() < 0.1:
        req = os.urandom(rnd.randint(1, 2000))
    return req


def http_send(port, data, rnd, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    try:
        how = rnd.random()
        if how < 0.15:  # pipelined
            s.sendall(data * rnd.randint(2, 5))
        elif how < 0.3:  # trickled in pieces
            for i in range(0, len(data), max(1, len(data) // 4)):
                s.sendall(data[i:i + max(1, len(data) // 4)])
                time.sleep(0.01)
        else:
            s.sendall(data)
        if rnd.random() < 0.3:
            s.shutdown(socket.SHUT_WR)  # half-closed
        if read and rnd.random() < 0.8:
            while s.recv(65536):
                pass
    except OSError:
        pass
    finally:
        if rnd.random() < 0.2:  # abandoned with a reset
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()


def probe(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        got = b""
        while len(got) < 12:
            c = s.recv(4096)
            if not c:
                break
            got += c
        s.close()
        return got.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def camp_http(a, tmp, rnd):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import serveabuse
    exe = cc(ENV_C.replace('printf("sum=%lu\\n", sum);', 'printf("sum=%lu\\n", sum); fflush(stdout); sleep(600);')
             .replace("#include <string.h>", "#include <string.h>\n#include <unistd.h>"),
             os.path.join(tmp, "served"), tmp)
    env = dict(os.environ, LD_PRELOAD=SHIM, HEAPSNAP_STATE="64", HEAPSNAP_OUTPUT=os.path.join(tmp, "srv.%p.hsnap"))
    target = subprocess.Popen([exe], env=env, stdout=subprocess.PIPE)
    target.stdout.readline()
    agent, port = serveabuse.start_agent(HS, tmp)
    n = probes = missed = crashed = 0
    lock = threading.Lock()
    end = time.monotonic() + a.budget("http", 180)
    total = a.count("http", 20000)
    seed = rnd.random()

    def client(k):
        nonlocal n, probes, missed
        r = random.Random(seed * 1000 + k)
        while time.monotonic() < end and agent.poll() is None:
            with lock:
                if n >= total:
                    return
                n += 1
                do_probe = n % 10 == 0
            http_send(port, http_junk(r, target.pid, port), r)
            if do_probe:
                ok = probe(port)
                with lock:
                    probes += 1
                    missed += not ok

    ts = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    crashed = agent.poll() is not None
    if crashed:
        a.note("http: the agent ended: %s" % agent.returncode)
    else:
        agent.terminate()
        agent.wait()
    target.kill()
    target.wait()
    a.found += crashed + missed
    return "http: %d requests, %d probes: %d agent crashes, %d probes not answered" % (n, probes, crashed, missed)


# ---------------------------------------------------------------- env
def env_vars():
    out = subprocess.run([HS, "run", "--help"], capture_output=True, text=True).stdout
    names = sorted(set(re.findall(r"^  (HEAPSNAP_[A-Z_]+)", out, re.M)))
    return [n for n in names if n not in ("HEAPSNAP_MANIFEST_FD",)] + ["HEAPSNAP_MANIFEST_FD"]


def hostile_values(tmp):
    fifo = os.path.join(tmp, "fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    victim = os.path.join(tmp, "victim")
    with open(victim, "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    link = os.path.join(tmp, "planted")
    if not os.path.lexists(link):
        os.symlink(victim, link)
    d = os.path.join(tmp, "adir")
    os.makedirs(d, exist_ok=True)
    return ["", "x" * 100000, "-1", "0", "-9223372036854775809", "18446744073709551616",
            "99999999999999999999999999", "1e309", "nan", "0.0000000001", "0x7fffffff", "%n%n%s%s%p%p",
            "%p.%n.%e.%%.%", "a\nb", "\x1b[31m\x01", "/dev/full", fifo, link, d, d + "/%p/../../x", "KILL",
            "SEGV", "RTMAX-1", "STOP", " 1", "1 ", "USR2,USR1", "/proc/self/mem", "/nonexistent/dir/x"], victim


def camp_env(a, tmp, rnd):
    exe = cc(ENV_C, os.path.join(tmp, "envprog"), tmp)
    wd = os.path.join(tmp, "envrun")
    os.makedirs(wd)
    values, victim = hostile_values(tmp)
    before = open(victim).read()
    progs = [("c", [exe]), ("python3", [PY, "-c", "import json; x=[str(i)*3 for i in range(20000)]; "
                                                   "print(len(x), json.dumps(x[:3]))"])]
    ref = {}
    for name, cmd in progs:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=wd)
        ref[name] = (r.returncode, r.stdout)
    cases = [(p, v, x) for p in progs for v in env_vars() for x in values]
    rnd.shuffle(cases)
    cases.sort(key=lambda c: c[0][0] != "c")  # every C case first, then python3's as time allows
    n = changed = hangs = 0
    per = {}
    end = time.monotonic() + a.budget("env", 240)
    for (name, cmd), var, val in cases[: a.count("env", 2000)]:
        if time.monotonic() > end:
            break
        env = dict(os.environ, LD_PRELOAD=SHIM)
        env[var] = val
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, cwd=wd, env=env, timeout=30, errors="replace",
                               stdin=subprocess.DEVNULL)
            if (r.returncode, r.stdout) != ref[name]:
                changed += 1
                a.note("env: %s=%r on %s: exit %d %r, want %r" % (var, val[:60], name, r.returncode,
                                                                 r.stdout[:80], ref[name]))
        except subprocess.TimeoutExpired:
            hangs += 1
            a.note("env: %s=%r on %s: no end in 30 s" % (var, val[:60], name))
        n += 1
        per[name] = per.get(name, 0) + 1
        for x in os.listdir(wd):
            p = os.path.join(wd, x)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    link_hit = open(victim).read() != before
    if link_hit:
        a.note("env: the planted link's target changed: %r" % open(victim).read()[:200])
    sec_n, sec_bad, sec_note = secure_runs(a, tmp)
    a.found += changed + hangs + link_hit + sec_bad
    return ("env: %d runs (%d variables x %d values; %s): %d changed, %d hangs, planted link's target %s; "
            "secure execution: %d runs, %d where the shim did something%s" % (
                n, len(env_vars()), len(values), ", ".join("%s %d" % kv for kv in sorted(per.items())),
                changed, hangs, "changed" if link_hit else "unchanged", sec_n, sec_bad, sec_note))


def secure_runs(a, tmp):
    """tests/shim/test_privileges.sh's AT_SECURE setup: privdrop setuid root, run by nobody, the
    shim in /etc/ld.so.preload of a private mount namespace, under hostile HEAPSNAP_* sets."""
    if os.getuid() != 0 or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        return 0, 0, " (not run: needs root and unshare -m)"
    S = os.path.join(tmp, "secure")
    for d in ("etc", "bin", "out"):
        os.makedirs(os.path.join(S, d))
    os.chmod(tmp, 0o711)
    os.chmod(os.path.dirname(tmp), 0o711)  # nobody must reach the setuid program
    os.chmod(S, 0o755)
    os.chmod(os.path.join(S, "bin"), 0o755)
    os.chmod(os.path.join(S, "out"), 0o777)
    shutil.copy(SHIM, os.path.join(S, "libheapsnap.so"))
    os.chmod(os.path.join(S, "libheapsnap.so"), 0o755)
    prog = os.path.join(S, "bin", "privdrop")
    subprocess.run(["gcc", "-g", "-O0", "-I" + os.path.join(ROOT, "shim"), os.path.join(ROOT, "tests/shim/privdrop.c"),
                    "-o", prog, "-pthread"], check=True)
    os.chown(prog, 0, 0)
    os.chmod(prog, 0o4755)
    for f in ("ld.so.cache", "passwd", "group", "nsswitch.conf"):
        if os.path.exists("/etc/" + f):
            shutil.copy2("/etc/" + f, os.path.join(S, "etc", f))
    with open(os.path.join(S, "etc", "ld.so.preload"), "w") as f:
        f.write(os.path.join(S, "libheapsnap.so") + "\n")
    victim = os.path.join(S, "victim")
    with open(victim, "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    os.chmod(victim, 0o644)
    sets = [
        'HEAPSNAP_OUTPUT="$0/out/x.%p.hsnap\neviluser::0:0:::" HEAPSNAP_MANIFEST="$0/victim"',
        'HEAPSNAP_SIGNAL=USR2 HEAPSNAP_INTERVAL=0.01 HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$0/out/y.hsnap"',
        'HEAPSNAP_MODE=04777 HEAPSNAP_STATE=64 HEAPSNAP_OUTPUT="$0/out/z.hsnap" HEAPSNAP_FATAL=1',
        'HEAPSNAP_OUTPUT=/etc/shadow HEAPSNAP_MANIFEST=/etc/passwd HEAPSNAP_CHILDREN=all',
        'HEAPSNAP_OUTPUT="$0/victim" HEAPSNAP_SITELINE=0.001 HEAPSNAP_SAMPLE=1 HEAPSNAP_DEPTH=256',
        'HEAPSNAP_VERBOSE=0 HEAPSNAP_MANIFEST="$0/out/m" HEAPSNAP_PYTHON=3.12 HEAPSNAP_PEAK=on HEAPSNAP_SIGNAL=SEGV',
    ]
    bad = 0
    for envs in sets[: max(1, a.count("secure", 6))]:
        r = subprocess.run(["unshare", "-m", "sh", "-c", 'mount --bind "$0/etc" /etc && exec setpriv --reuid=65534 '
                            '--regid=65534 --clear-groups env %s "$0/bin/privdrop" secure' % envs, S],
                           capture_output=True, text=True, timeout=60)
        ok = (r.returncode == 0 and r.stdout.strip() == "secure 1 shim 1 threads 1 usr2 default" and not r.stderr
              and not os.listdir(os.path.join(S, "out"))
              and open(victim).read() == "root:x:0:0:root:/root:/bin/sh\n")
        if not ok:
            bad += 1
            a.note("env: secure execution with %s: rc %d %r %r" % (envs, r.returncode, r.stdout, r.stderr[:200]))
    return len(sets[: max(1, a.count("secure", 6))]), bad, ""


# ---------------------------------------------------------------- threads
def camp_threads(a, tmp, rnd):
    exe = cc(THREADS_C, os.path.join(tmp, "churn"), tmp, "-pthread")
    d = os.path.join(tmp, "thr")
    os.makedirs(d)
    runs = deadlocks = wrong = signals = skipped = 0
    end = time.monotonic() + a.budget("threads", 120)
    iters = str(a.count("threads_iters", 60000))
    while runs < a.count("threads", 20) and time.monotonic() < end:
        env = dict(os.environ, LD_PRELOAD=SHIM, HEAPSNAP_SIGNAL="USR2",
                   HEAPSNAP_OUTPUT=os.path.join(d, "t.%p.%n.hsnap"))
        errf = open(os.path.join(d, "err"), "w+")
        p = subprocess.Popen([exe, iters], env=env, stdout=subprocess.PIPE, stderr=errf, text=True)
        p.stdout.readline()
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(p.stdout))
        reader.start()
        deadline = time.monotonic() + 120
        while not lines and p.poll() is None and time.monotonic() < deadline:
            try:
                p.send_signal(signal.SIGUSR2)
                signals += 1
            except ProcessLookupError:
                break
            time.sleep(0.01)
        try:
            p.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            deadlocks += 1
            a.note("threads: no end in 120 s (%d signals)" % signals)
            p.kill()
            p.wait()
        reader.join()
        errf.seek(0)
        skipped += len(re.findall(r"^heapsnap: cannot write", errf.read(), re.M))
        errf.close()
        runs += 1
        m = re.search(r"done live (\d+) bytes (\d+)", "".join(lines))
        snaps = sorted(glob.glob(os.path.join(d, "t.%d.*.hsnap" % p.pid)), key=lambda s: int(s.split(".")[-2]))
        got = None
        if m and snaps and p.returncode == 0:
            r = sh([HS, "top", snaps[-1], "-k", "function", "-n", "0", "--format", "json"])
            if r and r.returncode == 0:
                for g in json.loads(r.stdout)["groups"]:
                    if g.get("function") == "churn_alloc":
                        got = (g.get("blocks"), g.get("bytes"))
        if not m or got != (int(m.group(1)), int(m.group(2))):
            wrong += 1
            a.note("threads: rc %s, program %s, last of %d snapshots %s" % (
                p.returncode, m.group(0) if m else "?", len(snaps), got))
        for s in snaps:
            os.unlink(s)
    a.found += deadlocks + wrong
    return ("threads: %d runs of 32 threads x %s allocations, %d SIGUSR2 10 ms apart: %d deadlocks, "
            "%d exit snapshots' counts wrong; %d signalled snapshots not written (a warning each)" % (
                runs, iters, signals, deadlocks, wrong, skipped))


# ---------------------------------------------------------------- fsize
def camp_fsize(a, tmp, rnd):
    d = os.path.join(tmp, "fs")
    os.makedirs(d)

    def lim():
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    ref = subprocess.run([PY, "-c", PY_FSIZE], capture_output=True, text=True, preexec_fn=lim)
    n = changed = partial = 0
    end = time.monotonic() + a.budget("fsize", 120)
    cases = [(how, iv, st) for how in ("preload", "run") for iv in ("", "0.2") for st in ("", "64")]
    for how, iv, st in cases * max(1, a.count("fsize_rounds", 3)):
        if time.monotonic() > end:
            break
        env = dict(os.environ)
        out = os.path.join(d, "py.%p.hsnap")
        if iv:
            env["HEAPSNAP_INTERVAL"] = iv
        if st:
            env["HEAPSNAP_STATE"] = st
        if how == "preload":
            env.update(LD_PRELOAD=SHIM, HEAPSNAP_OUTPUT=out)
            cmd = [PY, "-c", PY_FSIZE]
        else:
            cmd = [HS, "run", "-q", "-o", out, "--", PY, "-c", PY_FSIZE]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, preexec_fn=lim, cwd=d, timeout=120)
        n += 1
        if (r.returncode, r.stdout) != (ref.returncode, ref.stdout):
            changed += 1
            a.note("fsize: %s interval=%s state=%s: exit %d %r (want %d %r): %s" % (
                how, iv, st, r.returncode, r.stdout, ref.returncode, ref.stdout, r.stderr[-200:]))
        for f in os.listdir(d):
            p = os.path.join(d, f)
            bad = f.startswith(".") or (f.endswith(".hsnap") and subprocess.run(
                [HS, "info", p], capture_output=True).returncode != 0)
            if bad:
                partial += 1
                a.note("fsize: %s interval=%s state=%s left %s (%d bytes)" % (how, iv, st, f, os.path.getsize(p)))
            os.unlink(p)
    a.found += changed + partial
    return "fsize: %d runs under RLIMIT_FSIZE 8 KiB (python3 exit %d, %r): %d changed, %d partial files" % (
        n, ref.returncode, ref.stdout.strip(), changed, partial)


CAMPAIGNS = [("cycles", camp_cycles), ("mutate", camp_mutate), ("fuzz", camp_fuzz), ("http", camp_http),
             ("env", camp_env), ("threads", camp_threads), ("fsize", camp_fsize)]
QUICK = {"cycles": (8, 12), "mutate": (6, 10), "fuzz": (0, 5), "http": (300, 6), "env": (40, 8),
         "secure": (1, 0), "threads": (2, 12), "threads_iters": (3000, 0), "fsize": (8, 10),
         "fsize_rounds": (1, 0)}


class Args:
    def __init__(self, ns):
        self.ns = ns
        self.found = 0
        self.notes = []
        self.keep = ns.keep

    def count(self, name, n):
        if self.ns.quick:
            return QUICK[name][0]
        return max(1, int(n * self.ns.scale))

    def budget(self, name, s):
        if self.ns.quick:
            return QUICK[name][1]
        return s * self.ns.scale

    def note(self, line):
        self.notes.append(line)
        print("  " + line, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=66)
    ap.add_argument("--keep", default="", help="copy the inputs that crashed or hung a command here")
    ns = ap.parse_args()
    for p in (HS, SHIM):
        if not os.path.exists(p):
            print("adversarial.py: %s missing (make)" % p, file=sys.stderr)
            return 2
    want = [c for c in ns.only.split(",") if c]
    names = [n for n, _ in CAMPAIGNS]
    for w in want:
        if w not in names:
            print("adversarial.py: no campaign %r (%s)" % (w, ", ".join(names)), file=sys.stderr)
            return 2
    if ns.quick and not want:
        want = [n for n in names if n != "fuzz"]  # fuzz builds with clang: minutes, not a smoke
    a = Args(ns)
    if ns.keep:
        os.makedirs(ns.keep, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="adversarial.")
    rc = 0
    try:
        for name, fn in CAMPAIGNS:
            if want and name not in want:
                continue
            t0 = time.monotonic()
            sub = os.path.join(tmp, name)
            os.makedirs(sub)
            rnd = random.Random("%d.%s" % (ns.seed, name))
            before = a.found
            line = fn(a, sub, rnd)
            print("%s (%.0f s)%s" % (line, time.monotonic() - t0, "" if a.found == before else "  FOUND"),
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if a.found else rc


if __name__ == "__main__":
    sys.exit(main())
