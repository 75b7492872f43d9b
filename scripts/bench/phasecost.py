#!/usr/bin/env python3
"""Instructions per allocation, by phase, from callgrind (deterministic: the
machine's load does not move them).  Each workload (workloads.py, at the
smoke size unless --size says otherwise) runs under valgrind's callgrind,
under `setarch -R`, five ways: plain; the bare interposer and the walk-only
build (scripts/bench/programs/lib/interpose.c, the bench's floors); heapsnap
(full stacks); heapsnap sampled (HEAPSNAP_SAMPLE=524288, seed 42).  Prints
the whole runs' instruction counts, and per allocation (the calls of the
malloc family the shim saw, from the same run):

  walk        walk only - bare: heapsnap's stack walk, on its own
  bookkeeping heapsnap - walk only: everything else (table, traces,
              pending, peak, siteline, the exit snapshot)
  hs/walk     heapsnap over walk only (issue 33's target: at most 1.15)
  sampled/bare  sampled heapsnap over the bare interposer (target: 1.02)

and heapsnap's own instructions split by the source file they come from
(inlined code counts where it was written): shim/unwind/ is the walk, the
rest of the shim the bookkeeping, by room and by phase (phase()).  --base LIB adds a column for
another build of the shim (a before/after comparison).

  scripts/bench/phasecost.py [--only churn1] [--size smoke] [--base OLD.so]
"""

import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ALLOC_FNS = {"malloc", "calloc", "realloc", "reallocarray", "posix_memalign",
             "aligned_alloc", "memalign", "valloc", "pvalloc"}
DEFAULT = ("churn1", "deep", "realloc", "cxx", "python")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build(build_dir, out):
    """The workloads' programs (as the bench builds them, no frame pointers)
    and the two floors, linked with BUILD_DIR's unwind objects."""
    os.makedirs(out, exist_ok=True)
    for src in glob.glob(ROOT + "/scripts/bench/programs/*.c") + \
            glob.glob(ROOT + "/scripts/bench/programs/*.cc"):
        cc = "g++" if src.endswith(".cc") else "gcc"
        sh([cc, "-O2", "-g", "-pthread", "-I" + ROOT + "/shim", src, "-o",
            os.path.join(out, os.path.splitext(os.path.basename(src))[0])])
    build_floors(build_dir, out)


def build_floors(build_dir, out):
    """The bench's two floors into OUT: libbare.so, the pass-through shim,
    and libwalk.so, the walk-only one (linked with BUILD_DIR's unwind
    objects)."""
    ip = ROOT + "/scripts/bench/programs/lib/interpose.c"
    base = ["gcc", "-O2", "-g", "-fPIC", "-shared", "-fno-omit-frame-pointer",
            "-fvisibility=hidden", "-ftls-model=initial-exec", "-I" + ROOT + "/shim", ip]
    sh(base + ["-o", out + "/libbare.so", "-ldl", "-pthread"])
    unwind = sorted(glob.glob(os.path.join(build_dir, "obj/shim/unwind/*.o")))
    unwind += [os.path.join(build_dir, "obj/shim/base/spans.o")]  # span_sort (ehframe.c)
    sh(base + ["-DIP_WALK", "-flto=auto", "-O3"] + unwind +
       ["-lunwind", "-o", out + "/libwalk.so", "-ldl", "-pthread"])


def parse(path, shim):
    """(total, {source file: self instructions in the shim}, allocation calls
    into the shim) from a callgrind output file."""
    names = collections.defaultdict(dict)
    total, files, allocs = 0, collections.Counter(), 0
    ob = fl = fi = cob = cfn = None
    skip = False
    npos = 1

    def name(kind, rest):
        m = re.match(r"\((\d+)\)(?: (.*))?", rest)
        if not m:
            return rest
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), "?")

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                if skip:
                    skip = False
                    continue
                parts = line.split()
                if len(parts) > npos:
                    n = int(parts[npos])
                    total += n
                    if ob == shim:
                        files[fi or fl] += n
                continue
            if line.startswith("positions:"):
                npos = len(line.split(":", 1)[1].split())
                continue
            key, _, rest = line.partition("=")
            if key == "ob":
                ob = name("ob", rest)
            elif key == "fl":
                fl = name("fl", rest)
                fi = None
            elif key in ("fi", "fe"):
                fi = name("fl", rest)
            elif key == "fn":
                name("fn", rest)
                fi = None
            elif key == "cob":
                cob = name("ob", rest)
            elif key in ("cfi", "cfl"):
                name("fl", rest)
            elif key == "cfn":
                cfn = name("fn", rest)
            elif key == "calls":
                skip = True
                if (cob or ob) == shim and cfn in ALLOC_FNS and ob != shim:
                    allocs += int(rest.split()[0])
                cob = None
    return total, files, allocs


def callgrind(argv, env, work, tag):
    out = os.path.join(work, "cg." + tag)
    e = dict(os.environ, **env)
    e["HEAPSNAP_OUTPUT"] = os.path.join(work, "out.%p.hsnap")
    p = subprocess.run(["setarch", "-R", "valgrind", "--tool=callgrind",
                        "--callgrind-out-file=" + out] + argv, env=e, cwd=work,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise SystemExit("%s: %s exited %d: %s" % (tag, " ".join(argv), p.returncode,
                                                     p.stderr.decode(errors="replace")[-400:]))
    return out


def phase(path):
    """The bookkeeping's phase a shim source file's instructions belong to
    (docs/performance.md's table): the walk, the table (its SSE2 probes
    included), the per-trace sums (traces, their frame tree, the peak's
    cells, sampling's weights), the held and fresh blocks (pending.c, and
    deferred.c's frees), the scrub, the hooks (shim/hooks/: hooks.c,
    hookrecord.c, hookstack.c and hooks.h's inline glue; the shim's root;
    and shim/python/domain/, CPython's allocator wrappers, the hooks of
    Python's domains), python, snapshot."""
    p = path or ""
    for pat, name in ((r"shim/unwind/", "walk"), (r"shim/record/(table|table_hint|tblfilter)\.c|shim/record/recinner\.h|emmintrin\.h", "table"),
                      (r"shim/record/(traces|tracefail|frametree|peak|sample)\.c|shim/record/record\.h", "sums"),
                      (r"shim/record/pending\.c|shim/base/deferred\.c", "pending"),
                      (r"shim/base/scrub\.c", "scrub"), (r"shim/python/domain/", "hooks"),
                      (r"shim/python/", "python"),
                      (r"shim/snapshot/", "snapshot"), (r"shim/hooks/|shim/[^/]+\.[ch]$", "hooks")):
        if re.search(pat, p):
            return name
    return "other"


def room(path):
    m = re.search(r"shim/(unwind|record|snapshot|python|leak|base|hooks|state)/", path or "")
    if m:
        return m.group(1)
    return "hooks" if re.search(r"shim/[^/]+\.[ch]$", path or "") else "other"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="workloads whose name contains PAT")
    ap.add_argument("--size", default="smoke", choices=W.SIZES)
    ap.add_argument("--build", default="build", help="the shim's build directory")
    ap.add_argument("--base", default="", help="another libheapsnap.so, for a column")
    a = ap.parse_args()
    build_dir = os.path.join(ROOT, a.build)
    shim = os.path.join(build_dir, "libheapsnap.so")
    work = tempfile.mkdtemp(prefix="phasecost.")
    bins = os.path.join(work, "bin")
    build(build_dir, bins)
    places = {"bin": bins, "fp": "", "python": "/usr/bin/python3", "root": ROOT,
              "sqlite": "sqlite3", "work": work}
    todo = [w for w in W.WORKLOADS if (a.only in w.name if a.only else w.name in DEFAULT)
            and w.kind in (W.COMPARE, W.HS_ONLY)]
    sampled = {"HEAPSNAP_SAMPLE": "524288", "HEAPSNAP_SAMPLE_SEED": "42"}
    modes = [("plain", {}), ("bare", {"LD_PRELOAD": bins + "/libbare.so"}),
             ("walk", {"LD_PRELOAD": bins + "/libwalk.so"}), ("hs", {"LD_PRELOAD": shim}),
             ("sampled", dict(sampled, LD_PRELOAD=shim))]
    if a.base:
        modes += [("base", {"LD_PRELOAD": a.base}),
                  ("base_sampled", dict(sampled, LD_PRELOAD=a.base))]
    print("callgrind instructions, whole runs (setarch -R), %s size; shim %s" % (a.size, shim))
    for w in todo:
        if w.script:
            with open(os.path.join(ROOT, w.script)) as f:
                text = f.read().replace("@ROWS@", w.sizes[a.size])
            with open(os.path.join(work, os.path.basename(w.script)), "w") as f:
                f.write(text)
        argv = W.wl_argv(w, a.size, False, places)
        n, files, allocs = {}, None, 0
        for tag, env in modes:
            lib = env.get("LD_PRELOAD", "")
            out = callgrind(argv, dict(w.env, **env), work, w.name + "." + tag)
            n[tag], f, k = parse(out, os.path.realpath(lib) if lib else None)
            if tag == "hs":
                files, allocs = f, k
            os.unlink(out)
        per = max(allocs, 1)
        print("\n%s: %s  (%d allocations)" % (w.name, " ".join(argv), allocs))
        print("  " + "  ".join("%s %.1fM" % (t, v / 1e6) for t, v in n.items()))
        print("  per allocation: walk %.0f, bookkeeping %.0f; hs/walk %.3f; "
              "sampled/bare %.4f (bare/plain %.4f)" % (
                  (n["walk"] - n["bare"]) / per, (n["hs"] - n["walk"]) / per,
                  n["hs"] / n["walk"], n["sampled"] / n["bare"], n["bare"] / n["plain"]))
        if a.base:
            print("  base: bookkeeping %.0f per allocation; hs/base %.4f, sampled/base_sampled "
                  "%.4f" % ((n["base"] - n["walk"]) / per, n["hs"] / n["base"],
                            n["sampled"] / n["base_sampled"]))
        rooms = collections.Counter()
        for path, v in files.items():
            rooms[room(path)] += v
        print("  heapsnap's own, per allocation, by room: " + ", ".join(
            "%s %.0f" % (r, v / per) for r, v in rooms.most_common()))
        phases = collections.Counter()
        for path, v in files.items():
            phases[phase(path)] += v
        print("  ... by phase: " + ", ".join(
            "%s %.0f" % (r, v / per) for r, v in phases.most_common()))
        top = ", ".join("%s %.0f" % (os.path.relpath(p, ROOT) if p and p.startswith(ROOT) else p,
                                     v / per) for p, v in files.most_common(8))
        print("  ... by file: " + top)
        sys.stdout.flush()
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
