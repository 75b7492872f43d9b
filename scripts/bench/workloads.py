"""The benchmark's workloads: one entry each, the one place that says what a
workload runs, at which sizes, under which modes, and which targets judge it.

A command is a list of words with placeholders the runner fills in: {bin}
the directory of scripts/bench/programs/'s builds, {fp} "" or ".fp" (a command that
has {fp} is one of our own programs, built twice: without frame pointers,
what -O2 gives on x86-64, and with them), {size} the size's words,
{python}, {sqlite}, {jq}, {gcc} (Debian's binaries), {work} (the run's
scratch directory) and {root}.  A workload with a script has that file
copied into {work} with @ROWS@ replaced by its size; one with a prepare
command runs it once, untimed, before the warm-up (it writes the input
the workload reads).

The kinds decide the modes (wl_modes): COMPARE runs every tool, HS_ONLY
plain and heapsnap's default mode, LEAKS the exit-time leak check against
valgrind, SNAPSHOT is bigsnap's own step after the rounds (runner.py),
LSAN_ONLY runs in the LeakSanitizer set (bench.py --lsan) only.
The targets are judge.py's names: overhead, sampled, noise, per_op, and
threaded / threaded_base, equal_live / equal_live_base (a ratio of the
first's heapsnap cell over the base's), and lsan: the workload is also
built with clang twice, plain ({fp} = ".clang") and with
-fsanitize=leak (".lsan"), and LeakSanitizer's ratio (lsan over
plain_clang) is the bar heapsnap's full stacks must not pass (issue 21).
Every row of the main table is judged against issue 21's absolute
targets (full stacks at most 2.0x, peak RSS at most 1.25x).
lsan_set: the workload is one of issue 68's LeakSanitizer set, which
bench.py --lsan runs alone under plain, LeakSanitizer, heapsnap and
heapsnap run --leaks (wl_modes): our programs as their clang builds
(LeakSanitizer being -fsanitize=leak), Debian's binaries with Debian's
liblsan.so.0 preloaded.
"""

import collections

COMPARE, HS_ONLY, LEAKS, SNAPSHOT, LSAN_ONLY = "compare", "hs_only", "leaks", "snapshot", "lsan_only"
SIZES = ("full", "quick", "smoke")

Workload = collections.namedtuple(
    "Workload", "name desc command sizes kind targets env script ht_odd_only prepare")

COMMON = ("overhead", "sampled", "noise")
PY_ENV = {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}


def _wl(name, desc, command, full, quick, smoke, kind=COMPARE, targets=COMMON,
        env=None, script=None, ht_odd_only=False, prepare=None):
    return Workload(name, desc, command.split(), dict(zip(SIZES, (full, quick, smoke))),
                    kind, tuple(targets), env or {}, script, ht_odd_only,
                    prepare.split() if prepare else None)


# The order is the order of the runs in a round and of the table's rows.
# heaptrack runs in the odd rounds only on the threaded churns (ht_odd_only):
# there it takes 13-26x and 15 s a run, and heapsnap's overhead is a
# twentieth of its own (the limit is a third).
WORKLOADS = [
    _wl("churn1", "small-block churn, 1 thread", "{bin}/churn{fp} {size}",
        "10000000 100000 1", "3000000 100000 1", "200000 20000 1",
        targets=COMMON + ("per_op", "threaded_base", "lsan", "lsan_set")),
    _wl("deep", "allocations 12-60 frames deep", "{bin}/deep{fp} {size}",
        "750000 100000", "250000 100000", "20000 10000", targets=COMMON + ("lsan", "lsan_set")),
    _wl("churn2", "churn, 2 threads, cross-thread frees", "{bin}/churn{fp} {size}",
        "12000000 100000 2", "4000000 100000 2", "200000 20000 2",
        targets=COMMON + ("per_op", "threaded", "lsan_set"), ht_odd_only=True),
    _wl("churn4", "churn, 4 threads, cross-thread frees", "{bin}/churn{fp} {size}",
        "12000000 100000 4", "4000000 100000 4", "200000 20000 4",
        targets=COMMON + ("per_op", "threaded", "equal_live"), ht_odd_only=True),
    # There for the threaded churn's verdict, not for a target of its own.
    _wl("churn1_25k", "churn, 1 thread, as many live blocks as churn4 has per thread "
        "(full stacks only)", "{bin}/churn{fp} {size}",
        "6000000 25000 1", "2000000 25000 1", "200000 5000 1",
        kind=HS_ONLY, targets=("per_op", "equal_live_base", "lsan")),
    _wl("realloc", "realloc growth + calloc/memalign family", "{bin}/realloc{fp} {size}",
        "200000 20000", "60000 20000", "5000 2000"),
    _wl("cxx", "C++ std::map/std::string/std::vector", "{bin}/cxx{fp} {size}",
        "1000000 50000", "300000 50000", "20000 5000",
        targets=COMMON + ("lsan_set",)),
    _wl("python", "python3 PYTHONMALLOC=malloc, dicts of lists",
        "{python} {root}/scripts/bench/programs/dicts.py {size}", "150", "50", "4", env=PY_ENV,
        targets=COMMON + ("lsan_set",)),
    _wl("sqlite", "sqlite3 shell, insert/query script", "{sqlite} -init {work}/sqlite.sql :memory:",
        "150000", "50000", "3000", script="scripts/bench/programs/sqlite.sql",
        targets=COMMON + ("lsan_set",)),
    _wl("jq", "jq grouping the records of a JSON file of SIZE MB",
        "{jq} -r -f {root}/scripts/bench/programs/jqwork.jq {work}/jq.json", "40", "10", "1",
        kind=LSAN_ONLY, targets=("lsan_set",),
        prepare="{python} {root}/scripts/bench/programs/gendata.py json {work}/jq.json {size}"),
    _wl("gcc", "gcc -O2 -S on a generated file of SIZE functions",
        "{gcc} -O2 -S -o - {work}/gen.c", "100", "100", "5", kind=LSAN_ONLY, targets=("lsan_set",),
        prepare="{python} {root}/scripts/bench/programs/gendata.py csrc {work}/gen.c {size}"),
    _wl("leakcheck", "leak check: live blocks at exit, some leaked", "{bin}/leakcheck{fp} {size}",
        "1000000 1000", "1000000 1000", "20000 1000", kind=LEAKS, targets=()),
    _wl("snapshot", "one snapshot of many live blocks while a second thread churns them",
        "{bin}/bigsnap {size}", "1000000", "1000000", "100000", kind=SNAPSHOT, targets=()),
]


def wl_find(name):
    """The workload called NAME (KeyError if there is none)."""
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise KeyError(name)


def wl_has_fp(w):
    """Whether W is our own program, with a frame-pointer build."""
    return "{fp}" in " ".join(w.command)


def wl_has_lsan(w):
    """Whether W is judged against LeakSanitizer (its clang builds run)."""
    return "lsan" in w.targets and wl_has_fp(w)


def wl_in_lsan_set(w):
    """Whether W is one of issue 68's LeakSanitizer set (bench.py --lsan)."""
    return "lsan_set" in w.targets


def wl_modes(w, rnd, have_hs, have_ht, have_vg, have_lsan=False, floors=(), lsan_set=False):
    """The modes W runs under in round RND, in the order they alternate.

    The heapsnap modes run between two plain runs (plain, then plain2 before
    the long heaptrack or valgrind run), and each is divided by the mean of
    the two (judge.py's base_of): the slow spells of this machine last
    seconds, and heaptrack alone takes 15 s on the threaded churn, so a
    plain run before it was far from the runs after it.  hs_fp follows
    plain_fp, its own base, where W has a frame-pointer build (else it runs
    with the others).
    A mode written MODE+ is sampled mode's second run of the round: after
    plain2, then a plain run of its own (plain2+), before heaptrack.  Its
    figures go in as round ROUNDS + RND, whose base is that round's plain2
    and plain2+, so the sampled cell is the median of twice as many paired
    ratios: its target (1.05x since issue 21) is the thinnest margin judged, and one paired
    ratio moves by a tenth or more from round to round on this machine
    (docs/performance.md, "What is measured").  Three runs are left out of
    the even rounds to pay for it: hs_fp and hs_sample_leaks, which no
    target judges, and heaptrack where ht_odd_only.
    Where W is judged against LeakSanitizer (HAVE_LSAN: clang built it),
    its clang build runs plain, under LSan and under heapsnap right after
    heapsnap, plain_clang being the base of both.  FLOORS (the bare
    interposer, the walk-only build) run right after heapsnap too.
    In the LeakSanitizer set (LSAN_SET), W runs plain, under LSan (where
    HAVE_LSAN), heapsnap and heapsnap run --leaks, then plain2: the
    runner picks the clang builds of our programs for all of them.  In
    round 1 only, LSan runs a second time with whole stacks (lsan_whole:
    its DWARF unwinder, many times slower than the default mode's
    frame-pointer walk, which stops after a frame or two).
    """
    if lsan_set:
        ls = ["lsan"] + (["lsan_whole"] if rnd == 1 else []) if have_lsan else []
        return ["plain"] + ls + (["hs", "hs_leaks"] if have_hs else []) + ["plain2"]
    odd = rnd % 2 == 1
    ls = ["plain_clang", "lsan"] if have_lsan and wl_has_lsan(w) else []
    ls += ["hs_clang"] if ls and have_hs else []
    fl = list(floors) if have_hs else []
    if w.kind == HS_ONLY:
        return ["plain"] + (["hs"] if have_hs else []) + fl + ls + (["plain2"] if have_hs else [])
    if w.kind == LEAKS:
        return (["plain"] + (["hs_leaks"] if have_hs else [])
                + (["plain2", "valgrind"] if have_vg else []))
    fp = ["hs_fp"] if have_hs and odd else []
    m = ["plain_fp"] + fp + ["plain"] if wl_has_fp(w) else ["plain"]
    if have_hs:
        m += ["hs"] + fl + ls + ([] if wl_has_fp(w) else fp) + ["hs_sample"]
        m += ["hs_sample_leaks"] if odd else []
    m += ["plain2"]
    m += ["hs_sample+", "plain2+"] if have_hs else []
    if have_ht and (odd or not w.ht_odd_only):
        m += ["heaptrack"]
    return m


def wl_argv(w, size, fp, places, words=None):
    """W's command words at SIZE (full, quick or smoke); FP picks the
    build: False the default, True the frame-pointer one, or a suffix of
    its own (".clang", ".lsan"); PLACES fills the other placeholders.
    WORDS, when given, are filled in place of the command (its prepare)."""
    fill = dict(places, fp=fp if isinstance(fp, str) else ".fp" if fp else "")
    out = []
    for word in words or w.command:
        if word == "{size}":
            out += w.sizes[size].split()
        else:
            out.append(word.format(**fill))
    return out
