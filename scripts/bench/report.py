"""The benchmark's report: the tables (wall time, the leak check, CPU time;
or, with --lsan, the LeakSanitizer set's), the targets judged on them, the
machine they ran on, printed aligned on stdout and, with --md, written as
Markdown.

A table is a list of rows of cell strings, its header first; judge.py
fills the cells and judges the targets on the rows as printed.  The
machine is read from /proc and /etc (not lscpu or free, which a minimal
system may lack or which need /sys); heaptrack's and valgrind's versions
are empty when they are not installed.
"""

import os
import shlex
import subprocess

import instrcount
import judge
import workloads as W

HEAD = ["workload", "plain", "heaptrack", "heapsnap", "hs/ht overhead", "hs fp", "hs sampled",
        "hs sampled+leaks", "plain fp build", "hs peak RSS", "LSan (clang)", "hs (clang)",
        "walk only", "bare", "hs/walk", "frames walked/alloc"]
LSAN_HEAD = ["workload", "plain", "LeakSanitizer", "heapsnap", "heapsnap --leaks", "hs/LSan",
             "hs --leaks/LSan", "LSan peak RSS", "hs peak RSS", "hs --leaks peak RSS",
             "LSan whole stacks (round 1)", "hs/LSan whole"]
LEAK_HEAD = ["leak check", "plain", "valgrind --leak-check=full", "valgrind: definitely lost",
             "heapsnap run --leaks"]
BY_NAME = {w.name: w for w in W.WORKLOADS}
# The CPU-time verdicts docs/performance.md keeps (doc_markdown): the ones a
# loaded machine's wall time blurs most.
DOC_CPU = ("- full stacks on the clang build", "- bookkeeping", "- deep stacks",
           "- heapsnap's added time")

MD_NOTE = """\
Each cell: wall time as a ratio to the plain run of the same round (hs fp: to the
frame-pointer build's plain run where the workload has one), the median over the
rounds, then the median peak RSS. `hs/ht overhead` is (heapsnap - plain) /
(heaptrack - plain) in each round, the median over the rounds; the target is at
most 0.33. `hs sampled` runs twice a round, the second time between the
round's second plain run and one more: its cell is the median of twice as many
ratios. `hs fp`, `hs sampled+leaks`, and heaptrack on %s, run
in the odd rounds only. `hs peak RSS` is heapsnap's peak RSS over the plain
runs' (paired, the median). `LSan (clang)` is the workload rebuilt with
`clang -fsanitize=leak`, as a ratio to the same source built by clang
without it, run in the same round, and `hs (clang)` heapsnap on that clang build
over the same base. `walk only` is an interposer that takes heapsnap's stack walk
(its memo included) on every allocation and records nothing, `bare` one that
only forwards (scripts/bench/programs/lib/interpose.c); `hs/walk` is heapsnap over walk
only, paired by round: what the bookkeeping adds. `frames walked/alloc`: the
frames the walk stepped by their rules per stack, of the frames per stack in all
(the rest came from the memo, each checked), from one run with HEAPSNAP_VERBOSE.
`!!status` marks a run that failed or changed the workload's output; `-` was not run."""

LSAN_NOTE = """\
Each cell: time as a ratio to the plain runs of the same round (the mean of
the plain run before the tools and the one after them), the median over the
rounds, then the median peak RSS; `hs/LSan` is heapsnap's time over
LeakSanitizer's in the same round, the median over the rounds; the peak RSS
columns are ratios to plain's, paired the same way. Our programs (churn1,
deep, churn2, cxx) run as their clang builds (`clang -O2 -g`), LeakSanitizer
being the same source built with `-fsanitize=leak`; Debian's binaries
(python3 with PYTHONMALLOC=malloc, sqlite3, jq, gcc) run with Debian's
`liblsan.so.0` preloaded (and scripts/bench/programs/lib/lsaninit.c after
it), `LSAN_OPTIONS=exitcode=0`, otherwise its defaults: its fast unwinder
follows frame pointers, which neither these builds nor Debian's binaries
keep, so its stacks stop after a frame or two where heapsnap's are whole.
`LSan whole stacks` is LeakSanitizer with `fast_unwind_on_malloc=0` (its
DWARF unwinder: whole stacks, as heapsnap's), run in round 1 only, so its
cells are one run each. heapsnap is `heapsnap run` (full stacks, its summary at the end included)
and `heapsnap run --leaks`.
`!!status` marks a run that failed or changed the workload's output; `-` was not run."""


def walked_cell(walked, n):
    """The walk's frames per stack: by rule "of" all ("0.04 of 5.0")."""
    return "%.2f of %.1f" % walked[n] if n in walked else "-"


def main_table(j, wls, field, walked):
    """The main table for the time FIELD (wall_us or cpu_us) over WLS;
    WALKED: runner.run_walked's figures."""
    rows = [HEAD]
    for w in wls:
        if w.kind not in (W.COMPARE, W.HS_ONLY):
            continue
        n, fpbase = w.name, "plain_fp" if W.wl_has_fp(w) else "plain"
        rows.append([n, j.plain_cell(n, field), j.cell(n, "heaptrack", "plain", field),
                     j.cell(n, "hs", "plain", field), j.frac(n, field),
                     j.cell(n, "hs_fp", fpbase, field), j.cell(n, "hs_sample", "plain", field),
                     j.cell(n, "hs_sample_leaks", "plain", field),
                     j.cell(n, "plain_fp", "plain", field), j.rss_ratio(n, "hs"),
                     j.cell(n, "lsan", "plain_clang", field),
                     j.cell(n, "hs_clang", "plain_clang", field), j.cell(n, "walk", "plain", field),
                     j.cell(n, "bare", "plain", field), j.ratio_cell(n, "hs", "walk", field),
                     walked_cell(walked, n)])
    return rows


def lsan_table(j, wls, field):
    """The LeakSanitizer set's table for the time FIELD over WLS (bench.py
    --lsan): plain, LSan, heapsnap and heapsnap run --leaks, heapsnap over
    LSan, and the peak RSS ratios."""
    rows = [LSAN_HEAD]
    for w in wls:
        n = w.name
        rows.append([n, j.plain_cell(n, field), j.cell(n, "lsan", "plain", field),
                     j.cell(n, "hs", "plain", field), j.cell(n, "hs_leaks", "plain", field),
                     j.ratio_cell(n, "hs", "lsan", field), j.ratio_cell(n, "hs_leaks", "lsan", field),
                     j.rss_ratio(n, "lsan"), j.rss_ratio(n, "hs"), j.rss_ratio(n, "hs_leaks"),
                     j.cell(n, "lsan_whole", "plain", field),
                     j.ratio_cell(n, "hs", "lsan_whole", field)])
    return rows


def leak_table(j, wls, found):
    """The leak-check table in wall time ([] without a leak workload): plain,
    valgrind and what it found, heapsnap."""
    rows = [[w.name, j.plain_cell(w.name, "wall_us"), j.cell(w.name, "valgrind", "plain", "wall_us"),
             found.get(w.name) or "-", j.cell(w.name, "hs_leaks", "plain", "wall_us")]
            for w in wls if w.kind == W.LEAKS]
    return [LEAK_HEAD] + rows if rows else []


def align(rows):
    """ROWS as lines, columns padded to their widest cell, two spaces apart."""
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(width[i]) for i, c in enumerate(r[:-1])) + "  " + r[-1]
            for r in rows]


def md_table(rows):
    """ROWS as a Markdown table."""
    out = ["| " + " | ".join(r) + " |" for r in rows]
    return out[:1] + ["|" + "---|" * len(rows[0])] + out[1:]


def verdicts(rows, size, cpu):
    """The targets judged on a main table; on the CPU table, the cost per
    malloc-free pair too."""
    out = judge.targets(rows[1:], BY_NAME)
    deep = judge.deep_cost(rows[1:], BY_NAME, size)
    op = judge.per_op(rows[1:], BY_NAME, size) if cpu else ""
    return out + ([deep] if deep else []) + ([op] if op else [])


# ---------------------------------------------------------------- the machine
def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _field(text, key, sep=":"):
    for line in text.splitlines():
        k, s, v = line.partition(sep)
        if s and k.strip() == key:
            return v.strip()
    return ""


def _out(cmd, cwd=None):
    """The standard output of CMD, "" if it cannot run."""
    try:
        return subprocess.run(cmd, capture_output=True, cwd=cwd, timeout=30).stdout.decode(
            errors="replace").rstrip("\n")
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(root, load0):
    """What the run ran on, one "- " line each."""
    cpu = _read("/proc/cpuinfo")
    model = _field(cpu, "model name") or _field(_out(["lscpu"]), "Model name") or "?"
    mem_kb = int((_field(_read("/proc/meminfo"), "MemTotal").split() or ["0"])[0])
    pretty = shlex.split(_field(_read("/etc/os-release"), "PRETTY_NAME", "=") or "''")
    pretty = pretty[0] if pretty else ""
    git = _out(["git", "log", "-1", "--format=%h %s"], cwd=root).encode()[:70].decode(errors="ignore")
    return [
        "- CPU: %s, %d cores (nproc)" % (model, len(os.sched_getaffinity(0))),
        "- memory: %d GiB" % (mem_kb // 1048576),
        "- kernel: %s; %s (%s)" % (os.uname().release, pretty, _read("/etc/debian_version").strip()),
        "- heaptrack: %s; valgrind: %s" % (_out(["heaptrack", "--version"]).split("\n")[0],
                                          _out(["valgrind", "--version"])),
        "- load average before / after the run: %s / %s" % (load0, load_average()),
        "- heapsnap: %s" % git,
    ]


def load_average():
    return " ".join(_read("/proc/loadavg").split()[:3])


# ---------------------------------------------------------------- the report
class Report:
    """The tables of one benchmark (runner.Runner R), ready to print."""

    def __init__(self, r):
        self.r = r
        j = judge.Judge(r.runs, r.rounds)
        wls = [w for w in W.WORKLOADS if r.selected(w)]
        walked = getattr(r, "walked", {})
        self.wall = main_table(j, wls, "wall_us", walked)
        self.cpu = main_table(j, wls, "cpu_us", walked)
        self.leaks = leak_table(j, wls, r.found)
        self.snap_size = BY_NAME["snapshot"].sizes[r.size]
        self.lsan_set = r.lsan_set
        if r.lsan_set:
            self.wall, self.cpu = lsan_table(j, wls, "wall_us"), lsan_table(j, wls, "cpu_us")

    def lsan_lines(self, md):
        """The LeakSanitizer set's report: its tables and verdicts, CPU
        time first (what a shared machine blurs least); MD: as Markdown."""
        tab = md_table if md else align
        out = ["CPU time (user+sys of the whole command tree):", ""] + tab(self.cpu)
        out += ["", "Wall time:", ""] + tab(self.wall)
        out += ["", "Issue 68's targets, CPU time:", ""] + judge.lsan_targets(self.cpu[1:])
        out += ["", "The same, wall time:", ""] + judge.lsan_targets(self.wall[1:])
        return out

    def lines(self):
        """The printed report, after the runs."""
        if self.lsan_set:
            return self.lsan_lines(False)
        out = ["# wall time"] + align(self.wall)
        if self.leaks:
            out += [""] + align(self.leaks)
        out += ["", "# CPU time (user+sys of the whole command tree)"] + align(self.cpu)
        out += ["", "# issue 4's and issue 21's targets, wall time"] + verdicts(self.wall, self.r.size, False)
        out += ["# the same, CPU time"] + verdicts(self.cpu, self.r.size, True)
        if self.r.snaps:
            out += ["", "# snapshots and memory (bigsnap %s, medians of %d)"
                    % (self.snap_size, self.r.rounds)] + judge.snap_targets(self.r.snaps)
        if getattr(self, "instr", None):
            out += ["", "# instructions per malloc+free pair (callgrind), beside the wall ratios"]
            out += align(instrcount.table(self.instr, self.wall))
        return out

    def doc_markdown(self, command, seconds, machine_lines):
        """The shorter Markdown that docs/performance.md keeps (--doc): the
        wall-time tables and every verdict; the page says what the columns
        mean."""
        r = self.r
        out = ["Command: `%s` (%s sizes, %d round(s), %d s in all). %s."
               % (command, r.size, r.rounds, seconds, "; ".join(m[2:] for m in machine_lines)),
               ""] + md_table(self.wall)
        if self.leaks:
            out += [""] + md_table(self.leaks)
        out += ["", "Targets, wall time:", ""] + verdicts(self.wall, r.size, False)
        out += ["", "CPU time (user+sys), where it tells more:", ""]
        out += [v for v in verdicts(self.cpu, r.size, True) if v.startswith(DOC_CPU)]
        if r.snaps:
            out += ["", "Snapshots and memory (`bigsnap %s`, medians of %d):" % (self.snap_size, r.rounds),
                    ""] + judge.snap_targets(r.snaps)
        return out

    def markdown(self, command, seconds, machine_lines):
        """The report as Markdown; COMMAND is how the bench was called."""
        r = self.r
        if self.lsan_set:
            return (["Command: `%s` (%s sizes, %d round(s), %d s in all)" % (command, r.size, r.rounds,
                                                                          seconds), ""]
                    + machine_lines + [""] + self.lsan_lines(True) + ["", LSAN_NOTE, ""]
                    + ["- `%s`: %s, argv `%s`" % (w.name, w.desc, w.sizes[r.size])
                       for w in W.WORKLOADS if r.selected(w)])
        out = ["Command: `%s` (%s sizes, %d round(s), %d s in all)" % (command, r.size, r.rounds, seconds),
               ""] + machine_lines + [""] + md_table(self.wall)
        if self.leaks:
            out += [""] + md_table(self.leaks)
        out += ["", "Issue 4's and issue 21's targets, wall time:", ""] + verdicts(self.wall, r.size, False)
        out += ["", "CPU time:", ""] + verdicts(self.cpu, r.size, True)
        if r.snaps:
            out += ["", "Snapshots and memory (`bigsnap %s`, medians of %d):" % (self.snap_size, r.rounds),
                    ""] + judge.snap_targets(r.snaps)
        odd = " and ".join(w.name for w in W.WORKLOADS if w.ht_odd_only)
        out += ["", MD_NOTE % odd, ""]
        out += ["- `%s`: %s, argv `%s`" % (w.name, w.desc, w.sizes[r.size]) for w in W.WORKLOADS]
        out += ["", "The same runs in CPU time (user+sys of the command and all its children, so",
                "heaptrack's includes heaptrack_interpret); less sensitive to a busy machine:",
                ""] + md_table(self.cpu)
        return out
