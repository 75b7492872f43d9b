"""The benchmark's runs: the tools it measures, the workloads' builds, every
timed run in its order, and bigsnap's snapshot rounds.

heapsnap is built into a private directory (build/bench/tools) and used
from there for the whole run, so a `make` or `make clean` in the shared
build/ cannot change or remove it mid-run.  Round 0 is an untimed warm-up
plain run of each workload (page cache, and the checksum that every run
under a tool must reproduce); then each round runs every workload under
its modes (workloads.py, wl_modes), alternating the tools so that drift on
the machine hits them all alike.

Wall time is taken around the whole command (heaptrack's includes its
heaptrack_interpret pipe).  Peak RSS is GNU time's %M, the largest single
process of the command's tree: GNU time runs the command because a process
forked from this runner keeps the runner's own RSS as its high-water mark
through exec.  CPU time is wait4's user+sys of the whole tree.  A run that
takes over RUN_LIMIT times the warm-up (at least RUN_FLOOR s, at most the
size's time-out) is stopped, marked "timeout", and not run again.

With lsan_set (bench.py --lsan) only issue 68's LeakSanitizer set runs,
our programs as their clang builds in every mode, and LeakSanitizer on
Debian's binaries is Debian's liblsan.so.0 preloaded (LIBLSAN) with
lsaninit.so after it (scripts/bench/programs/lib/lsaninit.c says why).
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import time

import judge
import workloads as W

RUN_LIMIT, RUN_FLOOR = 30, 60
TIMEOUTS = {"full": 300, "quick": 60, "smoke": 15}
CFLAGS = ["-O2", "-g", "-Wall", "-pthread"]
FP_FLAGS = [("-fomit-frame-pointer", ""), ("-fno-omit-frame-pointer", ".fp")]
# LeakSanitizer's column: the workloads judged against it, rebuilt with
# clang without and with LSan (its runtime: Debian's libclang-rt-dev);
# the mode's build suffix.
CLANG_FLAGS = [([], ".clang"), (["-fsanitize=leak"], ".lsan")]
LIBLSAN = "/usr/lib/x86_64-linux-gnu/liblsan.so.0"
BUILD_OF = {"plain_fp": ".fp", "hs_fp": ".fp", "plain_clang": ".clang", "lsan": ".lsan",
            "hs_clang": ".clang"}
HS_ENV = {"hs_fp": {"HEAPSNAP_UNWIND": "fp"}, "hs_sample": {"HEAPSNAP_SAMPLE": "524288"},
          "hs_sample_leaks": {"HEAPSNAP_SAMPLE": "524288", "HEAPSNAP_LEAKS": "1"},
          "hs_leaks": {"HEAPSNAP_LEAKS": "1"}, "hs": {}, "hs_clang": {}}
# The floors under heapsnap (scripts/bench/programs/lib/interpose.c): the mode, its
# library in build/bench/tools, and the flags beyond the interposer's own.
FLOORS = {"bare": ("libbare.so", []), "walk": ("libwalkonly.so", ["-DIP_WALK"])}
WALK_LINE = re.compile(r"unwind: (stacks asked|frames walked by rule|frames replayed from the "
                       r"last walk): (\d+)$", re.M)
SNAP_LINE = re.compile(r"^bigsnap blocks=(\d*) write_ms=([\d.]*) stall_ms=([\d.]*) ops=(\d*) "
                       r"base_ms=([\d.]*) shim_bytes=(\d*)$", re.M)
MEM_LINE = re.compile(r"^bigsnap_mem rss_kb=(\d*) hwm_kb=(\d*) children_maxrss_kb=(\d*)$", re.M)
LEAK_SCALE = 2.5   # the leak-check round keeps 2.5x the snapshot round's blocks


def say(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def tail_of(paths, limit):
    """The last two lines of the files at PATHS, on one line, at most LIMIT bytes."""
    data = b""
    for p in paths:
        try:
            with open(p, "rb") as f:
                data += f.read()
        except OSError:
            pass
    lines = data.splitlines(keepends=True)[-2:]
    return b"".join(lines).replace(b"\n", b" ")[:limit].decode(errors="replace")


def now_us():
    return time.monotonic_ns() // 1000


class Runner:
    """One benchmark: its options, its tools, and the runs made so far
    (runs: judge.Run rows; snaps: judge.SnapRound rows)."""

    def __init__(self, root, build, size, rounds, only, preload, work, lsan_set=False):
        self.root, self.size, self.rounds, self.only = root, size, rounds, only
        self.lsan_set = lsan_set
        self.preload, self.work = preload, work
        self.build_name, self.build = build, os.path.join(root, build)
        self.bin = os.path.join(self.build, "bench")
        self.tmo = TIMEOUTS[size]
        self.runs, self.snaps, self.found, self.want = [], [], {}, {}

    def selected(self, w):
        """Whether --only selects workload W (and --lsan, LSAN_SET, keeps
        to the LeakSanitizer set; without it LSAN_ONLY workloads do not run)."""
        ok = W.wl_in_lsan_set(w) if self.lsan_set else w.kind != W.LSAN_ONLY
        return ok and self.only in w.name

    # ------------------------------------------------------------ set-up
    def setup(self, install):
        """Installs the bench's packages (INSTALL), builds heapsnap, and looks
        for the other tools; False if one it cannot do without is missing."""
        if install and subprocess.call([os.path.join(self.root, "scripts/install-deps.sh"),
                                        "bench"], cwd=self.root) != 0:
            say("install-deps.sh bench failed; running with what is there")
        self.tools()
        if not self.preload and not os.access(self.hs_cli, os.X_OK):
            self.preload = True
        if not os.access("/usr/bin/time", os.X_OK):
            say("/usr/bin/time is missing (apt-get install time)")
            return False
        self.have_ht = shutil.which("heaptrack") is not None
        self.have_lsan = False  # build_workloads: clang built the LSan pair
        self.have_vg = shutil.which("valgrind") is not None
        py = "/usr/bin/python3"
        self.python = py if os.access(py, os.X_OK) else shutil.which("python3") or "python3"
        self.sqlite = shutil.which("sqlite3") or "sqlite3"
        self.jq = shutil.which("jq") or "jq"
        self.gcc = shutil.which("gcc") or "gcc"
        return True

    def tools(self):
        """Builds heapsnap into build/bench/tools; if the tree does not build,
        uses a copy of build/'s last good pair (or that directory's previous
        build).  Sets hs_shim ("" when there is none) and hs_cli."""
        tools = os.path.join(self.build, "bench", "tools")
        log = os.path.join(self.work, "make.log")
        with open(log, "wb") as f:
            rc = subprocess.call(["make", "--no-print-directory", "-s", "BUILD=" + tools,
                                  tools + "/libheapsnap.so", tools + "/heapsnap"],
                                 cwd=self.root, stdout=f, stderr=subprocess.STDOUT)
        if rc != 0:
            say("make failed: " + tail_of([log], 300))
            os.makedirs(tools, exist_ok=True)
            if os.path.isfile(os.path.join(self.build, "libheapsnap.so")):
                say("using a copy of the %s/libheapsnap.so and %s/heapsnap that are there"
                    % ((self.build_name,) * 2))
                for f in ("libheapsnap.so", "heapsnap"):
                    try:
                        shutil.copy2(os.path.join(self.build, f), tools)
                    except OSError:
                        pass
        self.hs_shim = os.path.join(tools, "libheapsnap.so")
        self.hs_cli = os.path.join(tools, "heapsnap")
        if not os.path.isfile(self.hs_shim):
            say("no libheapsnap.so: heapsnap columns are skipped")
            self.hs_shim = ""
        self.floors = self._build_floors(tools) if rc == 0 else {}
        self.lsan_preload = self._build_lsaninit(tools)

    def _build_lsaninit(self, tools):
        """The LD_PRELOAD value of LeakSanitizer on Debian's binaries
        (LIBLSAN, then lsaninit.so); "" (no lsan cell on them) without
        liblsan0 or when lsaninit.so does not build."""
        if not os.path.isfile(LIBLSAN):
            say("no %s (Debian's liblsan0): no LeakSanitizer on Debian's binaries" % LIBLSAN)
            return ""
        lib = os.path.join(tools, "lsaninit.so")
        p = subprocess.run(["gcc", "-O2", "-fPIC", "-shared",
                            os.path.join(self.root, "scripts/bench/programs/lib/lsaninit.c"),
                            "-o", lib], capture_output=True)
        if p.returncode != 0:
            say("cannot build lsaninit.so: %s" % p.stderr[:200].decode(errors="replace"))
            return ""
        return LIBLSAN + " " + lib

    def _build_floors(self, tools):
        """The bare interposer and the walk-only build (FLOORS), the latter
        linked with the unwind room's objects as heapsnap was built; {mode:
        library} of those that built."""
        src = os.path.join(self.root, "scripts/bench/programs/lib/interpose.c")
        unwind = sorted(glob.glob(os.path.join(tools, "obj/shim/unwind/*.o")))
        unwind += [os.path.join(tools, "obj/shim/base/spans.o")]  # span_sort (ehframe.c)
        out = {}
        for mode, (lib, flags) in FLOORS.items():
            path = os.path.join(tools, lib)
            cmd = ["gcc", "-O2", "-g", "-fPIC", "-shared", "-fno-omit-frame-pointer",
                   "-fvisibility=hidden", "-ftls-model=initial-exec", "-I" + self.root + "/shim",
                   src] + flags + (["-flto=auto", "-O3"] + unwind + ["-lunwind"] if flags else []) + \
                ["-o", path, "-ldl", "-pthread"]
            p = subprocess.run(cmd, capture_output=True)
            if p.returncode == 0:
                out[mode] = path
            else:
                say("cannot build %s: the %s column is skipped: %s"
                    % (lib, mode, p.stderr[:200].decode(errors="replace")))
        return out
    def build_workloads(self):
        """Builds scripts/bench/programs's C and C++ programs twice (FP_FLAGS), and fills
        in the workloads' scripts; False if one does not build."""
        os.makedirs(self.bin, exist_ok=True)
        srcs = sorted(glob.glob(self.root + "/scripts/bench/programs/*.c")) + \
            sorted(glob.glob(self.root + "/scripts/bench/programs/*.cc"))
        for src in srcs:
            cc = os.environ.get("CXX", "g++") if src.endswith(".cc") else os.environ.get("CC", "gcc")
            name = os.path.splitext(os.path.basename(src))[0]
            for flag, sfx in FP_FLAGS:
                out = os.path.join(self.bin, name + sfx)
                if self._newer(out, [src, __file__]):
                    continue
                p = subprocess.run(cc.split() + CFLAGS + ["-I" + self.root + "/shim", flag, src,
                                                          "-o", out], capture_output=True)
                if p.returncode != 0:
                    say("cannot build %s: %s" % (os.path.relpath(src, self.root),
                                                 p.stderr[:300].decode(errors="replace")))
                    return False
        self.have_lsan = self._build_lsan()
        for w in W.WORKLOADS:
            if w.prepare and self.selected(w) and self._call(
                    self.argv(w, False, w.prepare), os.path.join(self.work, "prepare.out"),
                    os.path.join(self.work, "prepare.err"), cwd=self.work) != 0:
                say("cannot prepare %s: %s" % (w.name, tail_of([os.path.join(self.work, "prepare.err")],
                                                              300)))
                return False
            if w.script:
                with open(os.path.join(self.root, w.script)) as f:
                    text = f.read().replace("@ROWS@", w.sizes[self.size])
                with open(os.path.join(self.work, os.path.basename(w.script)), "w") as f:
                    f.write(text)
        return True

    def _build_lsan(self):
        """Builds the LSan-judged workloads' programs with clang, plain and
        with -fsanitize=leak (CLANG_FLAGS); False (no lsan column) when
        clang or LSan's runtime is missing."""
        srcs = {os.path.join(self.root, "scripts/bench/programs", os.path.basename(w.command[0]).split("{")[0])
                for w in W.WORKLOADS if self.selected(w) and (W.wl_has_lsan(w) or self.lsan_set
                                                              and W.wl_has_fp(w))}
        cc = {".c": "clang", ".cc": "clang++"}
        for base in sorted(srcs):
            src = next((base + x for x in cc if os.path.isfile(base + x)), None)
            if not src or not shutil.which(cc[os.path.splitext(src)[1]]):
                say("no clang for %s: the lsan column is skipped" % os.path.relpath(base, self.root))
                return False
            for flags, sfx in CLANG_FLAGS:
                out = os.path.join(self.bin, os.path.basename(base) + sfx)
                if self._newer(out, [src, __file__]):
                    continue
                p = subprocess.run([cc[os.path.splitext(src)[1]]] + CFLAGS + flags + [src, "-o", out],
                                   capture_output=True)
                if p.returncode != 0:
                    say("cannot build %s with clang %s (libclang-rt-dev?): the lsan column is "
                        "skipped: %s" % (os.path.relpath(src, self.root), " ".join(flags),
                                         p.stderr[:200].decode(errors="replace")))
                    return False
        return bool(srcs)

    @staticmethod
    def _newer(path, than):
        try:
            t = os.stat(path).st_mtime
        except OSError:
            return False
        return all(t > os.stat(p).st_mtime for p in than)

    # ------------------------------------------------------------ the rounds
    def run_rounds(self):
        """The warm-up, then every round of every selected workload."""
        todo = [w for w in W.WORKLOADS if w.kind != W.SNAPSHOT and self.selected(w)]
        for w in todo:
            self.run_one(w, "plain", 0)
        for rnd in range(1, self.rounds + 1):
            for w in todo:
                # --smoke proves the floors run on the LSan-judged rows only
                floors = sorted(self.floors) if self.size != "smoke" or W.wl_has_lsan(w) else []
                modes = W.wl_modes(w, rnd, bool(self.hs_shim), self.have_ht, self.have_vg,
                                   self.lsan_ok(w), floors, self.lsan_set)
                say("round %d/%d: %s (%s)" % (rnd, self.rounds, w.name, " ".join(modes)))
                for mode in modes:
                    if mode.endswith("+"):
                        self.run_one(w, mode[:-1], self.rounds + rnd)
                    else:
                        self.run_one(w, mode, rnd)

    def lsan_ok(self, w):
        """Whether W can run under LeakSanitizer: clang built our programs,
        liblsan0 is there for Debian's binaries."""
        return self.have_lsan if W.wl_has_fp(w) else bool(self.lsan_set and self.lsan_preload)

    def build_of(self, mode, w):
        """wl_argv's FP for W under MODE: in the LeakSanitizer set our
        programs run as their clang builds, with LSan's for the lsan mode."""
        if not W.wl_has_fp(w):
            return False
        if self.lsan_set:
            return ".lsan" if mode in ("lsan", "lsan_whole") else ".clang"
        return BUILD_OF.get(mode, "")

    def run_walked(self):
        """Once per workload, untimed: heapsnap with HEAPSNAP_VERBOSE, whose
        exit counts give the frames its walk stepped by rule and the frames
        it took from the memo per stack asked (walked: {workload: (by rule,
        in all)})."""
        self.walked = {}
        if not self.hs_shim or self.lsan_set:
            return
        for w in W.WORKLOADS:
            if w.kind not in (W.COMPARE, W.HS_ONLY) or not self.selected(w):
                continue
            log = os.path.join(self.work, "walked.%s" % w.name)
            env = dict(os.environ, **w.env, HEAPSNAP_VERBOSE="1", LD_PRELOAD=self.hs_shim,
                       HEAPSNAP_OUTPUT=log + ".%p.hsnap")
            self._call(["timeout", "-k", "5", str(self.tmo)] + self.argv(w, False),
                       log + ".out", log + ".err", env=env, cwd=self.work)
            with open(log + ".err", errors="replace") as f:
                got = {k: int(v) for k, v in WALK_LINE.findall(f.read())}
            asked = got.get("stacks asked", 0)
            if asked:
                by_rule = got.get("frames walked by rule", 0)
                self.walked[w.name] = (by_rule / asked,
                                       (by_rule + got.get("frames replayed from the last walk", 0))
                                       / asked)
            for f in glob.glob(log + ".*.hsnap"):
                os.remove(f)

    def run_limit(self, w):
        """The time-out of one run of W, in seconds (RUN_LIMIT)."""
        us = next((r.wall_us for r in self.runs
                   if r.wl == w.name and r.mode == "plain" and r.round == 0), 0)
        return min(max(int(us * RUN_LIMIT / 1e6) + 1, RUN_FLOOR), self.tmo)

    def prefix(self, mode, w, rnd):
        """The words put before W's command under MODE, and the variables
        its environment gains.  Variables go in the environment, not an `env`
        word: exec'ing env costs ~2 ms a run, which the plain run does not
        pay (issue 21).  Only the shim reads HEAPSNAP_*, and LSan's runtime
        LSAN_OPTIONS, so timeout and GNU time, which see them too, ignore
        them; LD_PRELOAD alone must reach the command only, so the preload
        mode keeps `env` for it."""
        out = os.path.join(self.work, "out.%s.%d" % (w.name, rnd))
        if mode == "heaptrack":
            return ["heaptrack", "-o", out + ".heaptrack"], {}
        if mode == "valgrind":
            return ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite"], {}
        if mode in ("lsan", "lsan_whole"):  # its exit-time check as users run it; a find is no failure
            words = [] if W.wl_has_fp(w) else ["env", "LD_PRELOAD=" + self.lsan_preload]
            whole = ":fast_unwind_on_malloc=0" if mode == "lsan_whole" else ""
            return words, {"LSAN_OPTIONS": "exitcode=0" + whole}
        if mode in FLOORS:  # as the preload mode: LD_PRELOAD for the command alone
            return ["env", "LD_PRELOAD=" + self.floors[mode]], {}
        if mode not in HS_ENV:
            return [], {}
        env = dict(HS_ENV[mode])
        if self.preload:
            env["HEAPSNAP_OUTPUT"] = "%s.%%p.hsnap" % out
            return ["env", "LD_PRELOAD=" + self.hs_shim], env
        # hs_leaks is `heapsnap run --leaks`, its LEAK SUMMARY included
        return [self.hs_cli, "run"] + (["--leaks"] if mode == "hs_leaks" else []) + \
            ["-o", out + ".%p.hsnap", "--"], env

    def argv(self, w, fp, words=None):
        return W.wl_argv(w, self.size, fp, {"bin": self.bin, "python": self.python,
                                            "sqlite": self.sqlite, "jq": self.jq, "gcc": self.gcc,
                                            "work": self.work, "root": self.root}, words)

    def run_one(self, w, mode, rnd):
        """One timed run of W under MODE, appended to runs."""
        if any(r.wl == w.name and r.mode == mode and r.status == "timeout" for r in self.runs):
            self.runs.append(judge.Run(w.name, mode, rnd, 0, 0, "timeout", 0))   # do not wait twice
            return
        fp = self.build_of(mode, w)
        words, env = self.prefix(mode, w, rnd)
        cmd = ["timeout", "-k", "5", str(self.run_limit(w))] + words + self.argv(w, fp)
        log = os.path.join(self.work, "run.%s.%s" % (w.name, mode))
        rc, wall, rss, cpu = self._timed(cmd, dict(os.environ, **w.env, **env), log)
        with open(log + ".out", "rb") as f:
            sums = [ln for ln in f.read().splitlines() if ln.startswith(b"checksum ")]
        status = self._status(w, mode, rc, sums)
        if mode == "plain" and status == "ok" and w.name not in self.want:
            self.want[w.name] = sums
        if mode == "valgrind":
            self.found[w.name] = valgrind_found(log + ".err")
        if status != "ok":
            say("!! %s under %s: %s: %s" % (w.name, mode, status, tail_of([log + ".err"], 200)))
        self.runs.append(judge.Run(w.name, mode, rnd, wall, rss, status, cpu))
        for f in glob.glob(os.path.join(self.work, "out.%s.%d.*" % (w.name, rnd))):
            os.remove(f)

    def _timed(self, cmd, env, log):
        """Runs CMD in the scratch directory under GNU time: its exit status
        (128 + the signal that killed it), wall time in us, peak RSS in KiB,
        and user+sys in us."""
        timed = ["/usr/bin/time", "-f", "%M", "-o", log + ".rss"] + cmd
        with open(log + ".out", "wb") as out, open(log + ".err", "wb") as err:
            t0 = now_us()
            p = subprocess.Popen(timed, cwd=self.work, env=env, stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err)
            _, st, ru = os.wait4(p.pid, 0)
            t1 = now_us()
        p.returncode = rc = os.waitstatus_to_exitcode(st)
        with open(log + ".rss", errors="replace") as f:
            rss = [int(ln) for ln in f.read().split("\n") if ln.isdigit()]
        cpu = int((ru.ru_utime + ru.ru_stime) * 1e6)
        return (128 - rc if rc < 0 else rc), t1 - t0, rss[-1] if rss else 0, cpu

    def _status(self, w, mode, rc, sums):
        if rc in (124, 137):
            return "timeout"
        if rc != 0:
            return "exit%d" % rc
        if not sums:
            return "nochecksum"
        if w.name in self.want and sums != self.want[w.name]:
            return "mismatch"
        if mode != "plain" and w.name not in self.want:
            return "noplain"
        return "ok"

    # ------------------------------------------------------------ snapshots
    def run_snapshot(self):
        """Issue 4's snapshot and memory targets: per round, bigsnap under the
        shim (LD_PRELOAD: it calls heapsnap.h) keeps many live blocks and
        writes one snapshot while a second thread frees and replaces blocks
        of the same set, and reports the write's time, that thread's longest
        free+malloc meanwhile (how long the snapshot stopped it; base_ms: its
        longest in as long a window right after, without a snapshot) and the
        shim's own memory.  Then `heapsnap top` runs on the snapshot twice,
        symbolization included: the default key, and every frame of every
        trace, which must name bigsnap's leaf functions from their debug info."""
        w = W.wl_find("snapshot")
        if not (self.hs_shim and os.access(self.hs_cli, os.X_OK) and self.selected(w)):
            return
        for rnd in range(1, self.rounds + 1):
            say("round %d/%d: snapshot (bigsnap %s, then heapsnap top)"
                % (rnd, self.rounds, w.sizes[self.size]))
            self.snaps.append(self._snapshot_round(w, rnd))

    def _snapshot_round(self, w, rnd):
        out = os.path.join(self.work, "bigsnap")
        for f in glob.glob(out + ".*"):
            os.remove(f)
        env = dict(os.environ, HEAPSNAP_OUTPUT=out + ".exit.%p.hsnap", LD_PRELOAD=self.hs_shim)
        status = "ok"
        rc = self._call(["timeout", "-k", "5", str(self.tmo)] + self.argv(w, False) + [out + ".hsnap"],
                        out + ".out", out + ".err", env=env, cwd=self.work)
        if rc != 0:
            status = "exit%d" % rc
        with open(out + ".out", errors="replace") as f:
            m = SNAP_LINE.search(f.read())
        fields = [m.group(i) for i in (2, 3, 4, 6, 1, 5)] if m else ["0"] * 6
        if status == "ok" and not m:
            status = "noline"
        tmo = ["timeout", "-k", "5", str(self.tmo), self.hs_cli, "top"]
        t0 = now_us()
        rc = self._call(tmo + [out + ".hsnap"], out + ".top", out + ".toperr")
        if rc != 0:
            status = "top%d" % rc
        t1 = now_us()
        rc = self._call(tmo + ["-k", "traceback", "-n", "0", out + ".hsnap"], out + ".tb",
                        out + ".toperr", append=True)
        if rc != 0:
            status = "traceback%d" % rc
        t2 = now_us()
        with open(out + ".tb", errors="replace") as f:
            if status == "ok" and not re.search(r", in bs_leaf[0-3]$", f.read(), re.M):
                status = "unsymbolized"
        with open(out + ".out", errors="replace") as f:
            m = MEM_LINE.search(f.read())
        transient = int(m.group(2)) - int(m.group(1)) if m else 0
        leak, status = self._leak_round(w, out, status)
        if status != "ok":
            say("!! snapshot, round %d: %s: %s" % (rnd, status, tail_of([out + ".err", out + ".toperr"], 200)))
        return judge.SnapRound(*fields, t1 - t0, t2 - t1, transient, *leak, status)

    def _leak_round(self, w, out, status):
        """bigsnap in collect mode on LEAK_SCALE times the blocks: the leak
        check (on a fork of the process) and its snapshot while the second
        thread churns; its blocks, stall, window without a check and write."""
        argv = self.argv(w, False)
        argv[1] = str(int(float(argv[1]) * LEAK_SCALE))
        env = dict(os.environ, HEAPSNAP_OUTPUT=out + ".lexit.%p.hsnap", LD_PRELOAD=self.hs_shim)
        rc = self._call(["timeout", "-k", "5", str(self.tmo)] + argv + [out + ".leak.hsnap", "collect"],
                        out + ".leak.out", out + ".leak.err", env=env, cwd=self.work)
        with open(out + ".leak.out", errors="replace") as f:
            m = SNAP_LINE.search(f.read())
        if status == "ok" and (rc != 0 or not m):
            status = "leakcheck%d" % rc if rc else "leaknoline"
        return ([m.group(i) for i in (1, 3, 5, 2)] if m else ["0"] * 4), status

    def _call(self, cmd, out, err, append=False, **kw):
        with open(out, "wb") as o, open(err, "ab" if append else "wb") as e:
            rc = subprocess.call(cmd, stdin=subprocess.DEVNULL, stdout=o, stderr=e, **kw)
        return 128 - rc if rc < 0 else rc


def valgrind_found(path):
    """What valgrind found: "N blocks" from its last "definitely lost:" line."""
    try:
        with open(path, errors="replace") as f:
            hits = re.findall(r"definitely lost: [0-9,]* bytes in ([0-9,]*) blocks", f.read())
    except OSError:
        return ""
    return hits[-1].replace(",", "") + " blocks" if hits else ""
