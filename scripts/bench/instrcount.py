#!/usr/bin/env python3
"""Instructions per malloc+free pair on the hot path, counted by callgrind
(issue 50): the same count on every run, whatever else the machine does,
where wall-time ratios on a shared machine move by a fifth.

Each workload runs under `setarch -R valgrind --tool=callgrind` twice, at
two lengths (the second with twice the pairs of the first, the same live
blocks), and a figure is the difference of the two runs' instructions over
the difference of their allocations: start-up, the exit snapshot and the
first fill cancel out.  The allocations are the calls of the malloc family
that reached heapsnap's hooks in the same runs.  The modes:

  plain    the workload alone
  bare     a pass-through shim (scripts/bench/programs/lib/interpose.c built
           plain: dlsym(RTLD_NEXT) forwarding, nothing else)
  walk     the same with heapsnap's stack walk on every allocation (-DIP_WALK)
  hs       heapsnap, full stacks (the default)
  sampled  heapsnap, HEAPSNAP_SAMPLE=524288, HEAPSNAP_SAMPLE_SEED=42

Each mode after plain is printed as what it adds to plain's pair.  Then
heapsnap's own instructions per pair, by part of the hot path (the source
file inlined code was written in: unwinding, table, traces, peaks, pending
frees, scrub, hooks, state) and by function (callgrind_annotate's inclusive
counts, per pair).

  scripts/bench/instrcount.py [--only PAT[,PAT...]] [--size quick|smoke] [--doc]
  scripts/bench/instrcount.py --check     # the drift test (make check)
  scripts/bench/instrcount.py --record    # rewrite the figures it checks

The kept workloads (issue 68) free nothing: their figure is per malloc
whose block stays live to the end, the exit snapshot's share included;
parser's and irbuild's is per allocation, most of them kept.

--check runs the short count (smoke size: 10,000 and 20,000 pairs of
churn1 and deep, and mallocs of kept64 and kept200; 100,000 and 200,000 of kept100k;
sampled churn1 ten times that) and fails when a figure is more than 5% over the one in
scripts/bench/hotpath.counts (kept200's 25%: DRIFT_OF; that file says how to update it).
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import phasecost  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COUNTS = os.path.join(ROOT, "scripts/bench/hotpath.counts")
SAMPLED = {"HEAPSNAP_SAMPLE": "524288", "HEAPSNAP_SAMPLE_SEED": "42"}
# The memory-over-time thread's walks of the live blocks and the state
# file's heartbeat come on the clock, so under callgrind with the machine's
# speed and load (a slower machine beats more often in the same run): not
# the hot path, left out.
QUIET = {"HEAPSNAP_SITELINE": "0", "HEAPSNAP_STATE": "0"}
PY_ENV = {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}
DRIFT = 1.05        # --check: a figure may grow by at most 5%
# ... but kept200's by 25%: which of its 200 walks overflow a deep set's
# eight ways depends on where the stack lies (cfi_first_hash takes rsp),
# so the environment moves it (1,401-1,410 from a shell, 1,583 under
# tests/run.sh); the deep sets' overflow it is there for cost 3,369.
DRIFT_OF = {"kept200": 1.25}

# name: (argv with {n} the run's length, the lengths by size, env).
# quick: a few hundred thousand pairs; smoke: what --check and the bench's
# --smoke use.  Two lengths each: the second twice the first.  {live}: the
# blocks kept alive, a tenth of the shorter run's allocations, so that
# nearly every allocation of both runs frees a block too (a pair).
LIVE = {"quick": 10000, "smoke": 1000}
WORKLOADS = collections.OrderedDict([
    ("churn1", ("{bin}/churn {n} {live} 1", {"quick": 100000, "smoke": 10000}, {})),
    ("deep", ("{bin}/deep {n} {live}", {"quick": 25000, "smoke": 2500}, {})),
    ("churn2", ("{bin}/churn {n} {live} 2", {"quick": 100000, "smoke": 10000}, {})),
    # issue 68: blocks allocated and kept to the end, 17 frames deep, from 64
    # distinct stacks and from 100,000 (every stack met at both lengths):
    # a figure is per malloc, the table's growth and the exit snapshot's
    # share included.
    ("kept64", ("{bin}/kept {n} 64", {"quick": 100000, "smoke": 10000}, {})),
    ("kept100k", ("{bin}/kept {n} 100000", {"quick": 100000, "smoke": 100000}, {})),
    # 200 stacks from one caller: more walks taking turns than sixteen deep
    # sets of eight held (cfimemo.h, CFI_DEEP_SET_BITS), fewer than cold
    ("kept200", ("{bin}/kept {n} 200", {"quick": 100000, "smoke": 10000}, {})),
    # programs that build, with temporaries among what they keep: a parser
    # (about 27 allocations a statement, 11 kept) and an IR builder (about
    # 550 a function, 400 kept)
    ("parser", ("{bin}/parser {n}", {"quick": 2000, "smoke": 500}, {})),
    ("irbuild", ("{bin}/irbuild {n}", {"quick": 200, "smoke": 50}, {})),
    ("python", ("{python} {root}/scripts/bench/programs/dicts.py {n}",
                {"quick": 2, "smoke": 1}, PY_ENV)),
])
MODES = ("plain", "bare", "walk", "hs", "sampled")
# --check's figures: (workload, times the smoke size's lengths, modes).  The
# sampled mode's few instructions a pair move by a whole walk's cost over
# the pairs as one sample more or less falls into the counted difference:
# ten times the pairs make that a tenth.
CHECKED = (("churn1", 1, ("hs",)), ("churn1", 10, ("sampled",)), ("deep", 1, ("hs",)),
           ("kept64", 1, ("hs",)), ("kept100k", 1, ("hs",)), ("kept200", 1, ("hs",)))
OUTER = ("thr_start",)   # the shim's thread trampoline: the whole program under it
BUDGET = {"churn1": 600, "deep": 900,   # issue 50: heapsnap over plain, a pair
          "kept64": 800, "kept100k": 1500}  # issue 68: a kept malloc

# The parts of the hot path, by the source file the instructions come from.
PARTS = (("unwinding", r"shim/unwind/|avxintrin\.h|xmmintrin\.h"),  # cfi.c's AVX pair compare
         ("table", r"shim/record/(table|table_hint|tblfilter|tblpool)\.c|shim/record/recinner\.h|emmintrin\.h"),
         ("traces", r"shim/record/(traces|frametree|sample)\.c"),
         ("peaks", r"shim/record/(peak|timepoints)\.c"),
         ("pending", r"shim/record/pending\.c|shim/base/deferred\.c"),
         ("scrub", r"shim/base/scrub\.c"),
         ("state", r"shim/state/|shim/snapshot/"),
         ("python", r"shim/python/"),
         ("hooks", r"shim/hooks/|shim/[^/]+\.[ch]$|shim/record/record\.h|shim/base/base\.h"))


def part(path):
    for name, pat in PARTS:
        if re.search(pat, path or ""):
            return name
    return "other"


PROGRAMS = ("churn", "deep", "kept", "parser", "irbuild")


def build(out):
    """The programs (PROGRAMS) as issue 50 counts them (-O2 -g
    -fno-omit-frame-pointer), the pass-through shim and the walk-only one."""
    os.makedirs(out, exist_ok=True)
    for prog in PROGRAMS:
        phasecost.sh(["gcc", "-O2", "-g", "-fno-omit-frame-pointer", "-pthread",
                      ROOT + "/scripts/bench/programs/%s.c" % prog, "-o", os.path.join(out, prog)])
    phasecost.build_floors(os.path.join(ROOT, os.environ.get("BUILD", "build")), out)


def inclusive(path):
    """{function: inclusive instructions} of the shim's functions (those
    with code in ROOT/shim/), as callgrind_annotate --inclusive=yes counts
    them: a function's own instructions, from whatever file LTO inlined
    them from, plus those of the calls it makes to other functions.
    (callgrind_annotate's own listing splits a function by source file and
    charges a tail call to more than one of the parts: not additive.)
    .lto_priv/.part suffixes are dropped."""
    names, own, calls, ours = {}, collections.Counter(), collections.Counter(), set()
    fn = cfn = fl = None
    skip, npos = False, 1

    def name(rest):
        m = re.match(r"\((\d+)\)(?: (.*))?", rest)
        if not m:
            return rest
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), "?")

    files = {}

    def fname(rest):
        m = re.match(r"\((\d+)\)(?: (.*))?", rest)
        if not m:
            return rest
        if m.group(2) is not None:
            files[m.group(1)] = m.group(2)
        return files.get(m.group(1), "?")

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                n = int(parts[npos]) if len(parts) > npos else 0
                if skip:
                    skip = False
                    if cfn != fn:
                        calls[fn] += n
                else:
                    own[fn] += n
                    if (fl or "").startswith(ROOT + "/shim/"):
                        ours.add(fn)
                continue
            if line.startswith("positions:"):
                npos = len(line.split(":", 1)[1].split())
                continue
            key, _, rest = line.partition("=")
            if key == "fn":
                fn = name(rest)
            elif key == "cfn":
                cfn = name(rest)
            elif key in ("fl", "fi", "fe"):
                fl = fname(rest)
            elif key in ("cfi", "cfl"):
                fname(rest)
            elif key == "calls":
                skip = True
    out = collections.Counter()
    for fn in ours:
        if fn in OUTER:
            continue
        out[re.sub(r"\.(lto_priv|part|constprop|isra|cold)\.\d+", "", fn)] += own[fn] + calls[fn]
    return out


class Counter:
    def __init__(self, work, shim, size):
        self.work, self.shim, self.size = work, shim, size
        self.bins = os.path.join(work, "bin")
        self.places = {"bin": self.bins, "python": "/usr/bin/python3", "root": ROOT}

    def env(self, mode):
        lib = {"bare": self.bins + "/libbare.so", "walk": self.bins + "/libwalk.so"}.get(
            mode, self.shim if mode in ("hs", "sampled") else "")
        e = dict(SAMPLED) if mode == "sampled" else {}
        if mode in ("hs", "sampled"):
            e.update(QUIET)
        if lib:
            e["LD_PRELOAD"] = lib
        return e, lib

    def run(self, name, mode, n, want_fns=False):
        """(instructions, allocations into the shim, {function: inclusive})
        of one callgrind run of workload NAME at length N."""
        argv_t, _, wenv = WORKLOADS[name]
        argv = argv_t.format(n=n, live=LIVE[self.size], **self.places).split()
        env, lib = self.env(mode)
        out = phasecost.callgrind(argv, dict(wenv, **env), self.work, "%s.%s.%d" % (name, mode, n))
        total, _files, allocs = phasecost.parse(out, os.path.realpath(lib) if lib else None)
        files = _files
        fns = inclusive(out) if want_fns else None
        os.unlink(out)
        return total, allocs, files, fns

    def workload(self, name, size, modes, detail=False, scale=1):
        """{mode: instructions a pair} for NAME (SCALE times SIZE's lengths),
        and with DETAIL heapsnap's own per pair by part and by function.  A
        pair is counted in the hs runs (or, without them, the sampled, then
        the bare ones)."""
        n1 = WORKLOADS[name][1][size] * scale
        runs = {}
        for mode in modes:
            runs[mode] = [self.run(name, mode, n, detail and mode == "hs") for n in (n1, 2 * n1)]
        counted = next(m for m in ("hs", "sampled", "bare") if m in runs)
        pairs = max(runs[counted][1][1] - runs[counted][0][1], 1)
        per = {m: (r[1][0] - r[0][0]) / pairs for m, r in runs.items()}
        parts, fns = collections.Counter(), collections.Counter()
        if detail and "hs" in runs:
            (a, b) = runs["hs"]
            for path in set(a[2]) | set(b[2]):
                parts[part(path)] += (b[2].get(path, 0) - a[2].get(path, 0)) / pairs
            for fn in set(a[3]) | set(b[3]):
                fns[fn] = (b[3].get(fn, 0) - a[3].get(fn, 0)) / pairs
        return per, pairs, parts, fns


# ------------------------------------------------------------------ reports
def table(results, wall=None):
    """The instruction table: plain's pair, then what each mode adds; with
    WALL (the bench's wall-time table, report.main_table), heapsnap's and
    sampled mode's wall ratios from the same bench run beside them."""
    head = ["workload", "pairs counted", "plain", "bare", "walk only", "heapsnap", "sampled",
            "budget"]
    if wall:
        head += ["heapsnap wall", "sampled wall"]
        cols = [wall[0].index("heapsnap"), wall[0].index("hs sampled")]
        by = {r[0]: [r[i].split()[0] for i in cols] for r in wall[1:]}
    rows = [head]
    for name, (per, pairs, _p, _f) in results.items():
        def add(m):
            return "-" if m not in per else "%+.0f" % (per[m] - per["plain"])
        budget = BUDGET.get(name)
        rows.append([name, "%d" % pairs, "%.0f" % per["plain"], add("bare"), add("walk"),
                     add("hs"), add("sampled"),
                     "-" if not budget or "hs" not in per else "%d (%s)" % (
                         budget, "met" if per["hs"] - per["plain"] <= budget else "over")])
        if wall:
            rows[-1] += by.get(name, ["-", "-"])
    return rows


def part_table(results):
    names = [n for n, _ in PARTS] + ["other"]
    rows = [["workload"] + names + ["all"]]
    for name, (_per, _pairs, parts, _f) in results.items():
        if parts:
            rows.append([name] + ["%.0f" % parts.get(p, 0) for p in names]
                        + ["%.0f" % sum(parts.values())])
    return rows


def fn_lines(results, top=12):
    out = []
    for name, (_per, _pairs, _parts, fns) in results.items():
        if fns:
            out.append("- %s: " % name + ", ".join(
                "`%s` %.0f" % (f, v) for f, v in fns.most_common(top) if v >= 1))
    return out


def md(rows):
    out = ["| " + " | ".join(r) + " |" for r in rows]
    return out[:1] + ["|" + "|".join("---" if i == 0 else "--:" for i in range(len(rows[0]))) + "|"] + out[1:]


def plain_rows(rows):
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.rjust(width[i]) if i else c.ljust(width[i]) for i, c in enumerate(r))
            for r in rows]


def doc_lines(results, command, commit, wall=None):
    """The page's block: one table (the modes, then heapsnap's own by part)
    and the inclusive counts of churn1's and deep's functions on one line."""
    main, parts = table(results, wall), part_table(results)
    by = {r[0]: r[1:-1] for r in parts}
    rows = [main[0] + ["own: " + p for p in parts[0][1:-1]]]
    rows += [r + by.get(r[0], ["-"] * (len(parts[0]) - 2)) for r in main[1:]]
    fns = [line[2:] for line in fn_lines(collections.OrderedDict(
        (k, v) for k, v in results.items() if k in ("churn1", "deep")), top=14)]
    return (["Command: `%s`, at %s (callgrind, `setarch -R`; instructions per malloc+free "
             "pair; python's figures move by up to a third from run to run, +1,519 to +2,557 "
             "seen for heapsnap: not a budget figure)."
             % (command, commit), ""] + md(rows)
            + ["", "Inclusive, per pair: " + "; ".join(fns) + "."])


def put_in_doc(lines):
    path = os.path.join(ROOT, "docs/performance.md")
    with open(path) as f:
        text = f.read().split("\n")
    try:
        a, b = text.index("<!-- instr:begin -->"), text.index("<!-- instr:end -->")
    except ValueError:
        return False
    with open(path, "w") as f:
        f.write("\n".join(text[:a + 1] + [""] + lines + [""] + text[b:]))
    return True


# ------------------------------------------------------------ the drift test
def read_counts(path=COUNTS):
    """{(workload, mode): instructions heapsnap adds to plain's pair}."""
    out = {}
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) == 3:
                out[(words[0], words[1])] = float(words[2])
    return out


def measure_checked(c):
    got = {}
    for name, scale, modes in CHECKED:
        per, pairs, _p, _f = c.workload(name, "smoke", ("plain",) + modes, scale=scale)
        for m in modes:
            got[(name, m)] = per[m] - per["plain"]
    return got


def check(c, counts=COUNTS, measured=None, save=None):
    """1 when a figure is more than 5% (and 2 instructions: the sampled
    mode's figure is a few instructions) over COUNTS's.  MEASURED: figures
    read from that file (as --save writes them) instead of counted."""
    want = read_counts(counts)
    got = read_counts(measured) if measured else measure_checked(c)
    if save:
        with open(save, "w") as f:
            f.writelines("%s %s %.1f\n" % (k[0], k[1], v) for k, v in got.items())
    bad = 0
    for key, v in got.items():
        limit = want.get(key)
        if limit is None:
            print("%s %s: +%.0f a pair, no figure in %s" % (key[0], key[1], v, counts))
            bad = 1
            continue
        drift = DRIFT_OF.get(key[0], DRIFT)
        over = v > max(limit * drift, limit + 2)
        print("%s %s: +%.0f a pair, recorded +%.0f (%+.1f%%)%s" % (
            key[0], key[1], v, limit, 100.0 * (v / max(limit, 1) - 1),
            "  OVER %.0f%%" % (100 * (drift - 1)) if over else ""))
        bad |= over
    return int(bad)


def record(c):
    got = measure_checked(c)
    with open(COUNTS) as f:
        head = [line for line in f if line.startswith("#")]
    with open(COUNTS, "w") as f:
        f.writelines(head)
        for (name, mode), v in got.items():
            f.write("%s %s %.0f\n" % (name, mode, v))
    print("".join("%s %s %.0f\n" % (k[0], k[1], v) for k, v in got.items()), end="")


def commit_of():
    p = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip() or "?"


def picked(name, only):
    """Whether workload NAME contains one of ONLY's comma-separated
    patterns (an empty ONLY picks every workload)."""
    pats = [p for p in only.split(",") if p]
    return not pats or any(p in name for p in pats)


def count(size, only, work, shim, detail=True):
    """Every workload (picked by ONLY) in every mode at SIZE."""
    c = Counter(work, shim, size)
    build(c.bins)
    results = collections.OrderedDict()
    for name in WORKLOADS:
        if not picked(name, only):
            continue
        results[name] = c.workload(name, size, MODES, detail)
    return results


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="",
                    help="workloads whose name contains PAT (PAT,PAT...: any of them)")
    ap.add_argument("--size", default="quick", choices=("quick", "smoke"))
    ap.add_argument("--doc", action="store_true",
                    help="put the tables into docs/performance.md (instr:begin/end)")
    ap.add_argument("--check", action="store_true", help="the drift test against " + COUNTS)
    ap.add_argument("--record", action="store_true", help="rewrite " + COUNTS)
    ap.add_argument("--counts", default=COUNTS, help="--check: the recorded figures")
    ap.add_argument("--save", default="", help="--check: write the figures measured to FILE")
    ap.add_argument("--measured", default="",
                    help="--check: read the figures from FILE (as --save wrote them), no runs")
    a = ap.parse_args(argv)
    shim = os.path.realpath(os.path.join(ROOT, os.environ.get("BUILD", "build"), "libheapsnap.so"))
    work = tempfile.mkdtemp(prefix="instrcount.")
    try:
        if a.check and a.measured:
            return check(None, a.counts, a.measured)
        if a.check or a.record:
            c = Counter(work, shim, "smoke")
            os.makedirs(c.bins)
            for prog in PROGRAMS:
                phasecost.sh(["gcc", "-O2", "-g", "-fno-omit-frame-pointer", "-pthread",
                              ROOT + "/scripts/bench/programs/%s.c" % prog, "-o",
                              os.path.join(c.bins, prog)])
            if a.check:
                return check(c, a.counts, a.measured, a.save)
            return record(c) or 0
        if not any(picked(name, a.only) for name in WORKLOADS):
            print("instrcount.py: no workload matches --only %s (%s)" % (a.only, " ".join(WORKLOADS)),
                  file=sys.stderr)
            return 2
        results = count(a.size, a.only, work, shim)
        print("instructions per malloc+free pair (callgrind, setarch -R), %s size; shim %s"
              % (a.size, shim))
        print("\n".join(plain_rows(table(results))))
        print("\nheapsnap's own, per pair, by part (self counts by source file):")
        print("\n".join(plain_rows(part_table(results))))
        print("\nby function, inclusive, per pair:")
        print("\n".join(fn_lines(results)))
        if a.doc and not put_in_doc(doc_lines(results, " ".join(
                ["scripts/bench/instrcount.py"] + argv), commit_of())):
            print("docs/performance.md has no instr:begin/instr:end lines", file=sys.stderr)
            return 2
        return 0
    finally:
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
