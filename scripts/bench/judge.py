"""Judging the benchmark's runs: medians, paired ratios, the tables' cells,
and issue 4's targets.

A run is a Run row (the --raw file's line: workload mode round wall_us
rss_kb status cpu_us).  Round 0 is the warm-up plain run and is never
counted; rounds past ROUNDS hold sampled mode's second runs (workloads.py,
wl_modes).  Each cell is a paired ratio: in every round the tool's time is
divided by the base of the same round (base_of), and the cell is the median
of those ratios, so a slow spell of the machine that lasts longer than a
round hits a run and its base alike.

The targets are judged on the tables as they are printed (the cells'
text, read as awk reads a number), so a verdict never disagrees with the
figure it is printed beside.  A snapshot round is a SnapRound
(Runner._snapshot_round).
"""

import collections
import re

Run = collections.namedtuple("Run", "wl mode round wall_us rss_kb status cpu_us")
SnapRound = collections.namedtuple(
    "SnapRound", "write_ms stall_ms ops shim_bytes blocks base_ms top_us traceback_us transient_kb "
    "leak_blocks leak_stall_ms leak_base_ms leak_write_ms status")
Fail = collections.namedtuple("Fail", "status")

OVERHEAD_MAX = 0.33      # heapsnap's overhead over heaptrack's
THREADED_MAX = 1.5       # a threaded churn's heapsnap ratio over churn1's
SAMPLED_MAX = 1.05       # sampled mode's ratio to plain (issue 21; 1.10 in issue 4)
FULL_MAX = 2.0           # full stacks' ratio to plain (issue 21)
RSS_MAX = 1.25           # full stacks' peak RSS over plain's (issue 21)
BOOKS_MAX = 1.15         # heapsnap over the walk-only build (issue 33)
DEEP_MAX = 1.3           # deep's added time per allocation over churn1's (issue 33)
OPS_PER = {"deep": 4}    # allocations per unit of a workload's first argument


def median(values):
    """The median of VALUES, None if there are none."""
    v = sorted(values)
    if not v:
        return None
    h = len(v) // 2
    return v[h] if len(v) % 2 else (v[h - 1] + v[h]) / 2


class Judge:
    """The runs of one benchmark, ROUNDS rounds, and the questions asked of them."""

    def __init__(self, runs, rounds):
        self.runs = runs
        self.rounds = rounds

    def _by_round(self, wl, mode, field, ok_only=False):
        return {r.round: getattr(r, field) for r in self.runs
                if r.wl == wl and r.mode == mode and r.round > 0
                and (r.status == "ok" or not ok_only)}

    def med(self, wl, mode, field):
        """The median of FIELD over the counted rounds of WL under MODE: None
        if it never ran, Fail(status) if a round failed."""
        for r in self.runs:
            if r.wl == wl and r.mode == mode and r.round > 0 and r.status != "ok":
                return Fail(r.status)
        return median(self._by_round(wl, mode, field).values())

    def base_of(self, wl, base, rnd, field):
        """The time of BASE in round RND, 0 if it did not run.  A plain base
        is the mean of the round's plain and plain2 (where plain2 ran clean);
        past ROUNDS, the round's plain is round RND - ROUNDS's plain2, the
        run just before sampled mode's second run."""
        if base != "plain":
            return self._by_round(wl, base, field).get(rnd, 0)
        plain2 = self._by_round(wl, "plain2", field, ok_only=True)
        if rnd > self.rounds:
            first = plain2.get(rnd - self.rounds)
        else:
            first = self._by_round(wl, "plain", field).get(rnd)
        if first is None:
            return 0
        if rnd in plain2:
            return (first + plain2[rnd]) / 2
        return 0 if rnd > self.rounds else first

    def pratio(self, wl, mode, base, field):
        """The median over the rounds of MODE/BASE (paired): None if either
        never ran, Fail if a round of either failed."""
        for m in (mode, base):
            v = self.med(wl, m, field)
            if v is None or isinstance(v, Fail):
                return v
        ratios = []
        for rnd, t in self._by_round(wl, mode, field).items():
            b = self.base_of(wl, base, rnd, field)
            if b > 0:
                ratios.append(t / b)
        return median(ratios)

    def cell(self, wl, mode, base, field):
        """A table cell: "4.81x 123M" (paired ratio to BASE, median peak RSS),
        "!!status" for a failed run, "-" for one that did not run."""
        x = self.pratio(wl, mode, base, field)
        if x is None:
            return "-"
        if isinstance(x, Fail):
            return "!!" + x.status
        return "%.2fx %dM" % (x, int((self.med(wl, mode, "rss_kb") + 512) / 1024))

    def ratio_cell(self, wl, mode, base, field):
        """MODE over BASE, paired by round ("1.23x"), "-" or "!!status"."""
        x = self.pratio(wl, mode, base, field)
        if x is None:
            return "-"
        return "!!" + x.status if isinstance(x, Fail) else "%.2fx" % x

    def rss_ratio(self, wl, mode):
        """MODE's peak RSS over the plain runs' ("1.23x"; paired, the
        median), "-" or "!!status" as cell."""
        x = self.pratio(wl, mode, "plain", "rss_kb")
        if x is None:
            return "-"
        return "!!" + x.status if isinstance(x, Fail) else "%.2fx" % x

    def plain_cell(self, wl, field):
        """The plain column: median seconds and peak RSS."""
        w = self.med(wl, "plain", field)
        if w is None or isinstance(w, Fail):
            return "!!" + (w.status if w else "")
        return "%.3fs %dM" % (w / 1e6, int((self.med(wl, "plain", "rss_kb") + 512) / 1024))

    def frac(self, wl, field):
        """heapsnap's overhead as a fraction of heaptrack's: the median over
        the rounds of (hs - plain) / (ht - plain), plain being the round's
        base; "-" if one of the three never ran clean."""
        for m in ("plain", "heaptrack", "hs"):
            v = self.med(wl, m, field)
            if v is None or isinstance(v, Fail):
                return "-"
        ht = self._by_round(wl, "heaptrack", field)
        hs = self._by_round(wl, "hs", field)
        out = []
        for rnd in sorted({r.round for r in self.runs if r.wl == wl and r.round > 0}):
            p, h, s = self.base_of(wl, "plain", rnd, field), ht.get(rnd, 0), hs.get(rnd, 0)
            if h > p > 0:
                out.append((s - p) / (h - p))
        m = median(out)
        return "-" if m is None else "%.2f" % m


# ---------------------------------------------------------------- targets
def shown(text):
    """The number a cell shows ("1.23x 45M" -> 1.23, "0.25", "1.816s 17M"),
    None for "-" or "!!status"."""
    m = re.match(r"-?(\d+\.?\d*|\.\d+)", text)
    return float(m.group(0)) if m else None


def is_ratio(text):
    """Whether a cell shows a ratio ("1.23x 45M")."""
    return re.match(r"[0-9.]+x", text) is not None


def _tagged(rows, workloads, tag):
    return [r for r in rows if tag in workloads[r[0]].targets]


def targets(rows, workloads):
    """Issue 4's targets judged on a main table's ROWS (cells as printed,
    columns as report.HEAD), one line each; WORKLOADS maps names to entries."""
    out = []
    col = {"hs": 3, "frac": 4, "sampled": 6, "fp": 8, "rss": 9, "lsan": 10, "hs_clang": 11,
           "books": 14}
    fr = [(r[0], r[col["frac"]]) for r in _tagged(rows, workloads, "overhead")
          if shown(r[col["frac"]]) is not None]
    over = ["%s %s" % (w, v) for w, v in fr if float(v) > OVERHEAD_MAX]
    out.append("- full stacks, overhead at most 1/3 of heaptrack's: %d of %d met%s"
               % (len(fr) - len(over), len(fr), " (over: %s)" % " ".join(over) if over else ""))
    hs = {r[0]: shown(r[col["hs"]]) or 0 for r in rows}
    out += _threaded(rows, workloads, hs)
    out += _absolute(rows, workloads, col)
    sa = [(r[0], shown(r[col["sampled"]])) for r in _tagged(rows, workloads, "sampled")
          if is_ratio(r[col["sampled"]])]
    over = ["%s %.2fx" % (w, v) for w, v in sa if v > SAMPLED_MAX]
    if sa:
        out.append("- sampled at most %.2fx: %d of %d met%s"
                   % (SAMPLED_MAX, len(sa) - len(over), len(sa),
                      " (over: %s)" % " ".join(over) if over else ""))
    fp = [shown(r[col["fp"]]) for r in _tagged(rows, workloads, "noise") if is_ratio(r[col["fp"]])]
    if fp:
        out.append("- the noise floor: the frame-pointer build run plain, which should read "
                   "1.00x, read %.2fx to %.2fx" % (min(fp), max(fp)))
    return out


def _absolute(rows, workloads, col):
    """Issue 21's targets: full stacks at most FULL_MAX on every row, and
    at most LeakSanitizer's ratio where it ran; peak RSS at most RSS_MAX."""
    out = []

    def verdict(name, pairs, limit, fmt):
        over = ["%s %s" % (w, fmt % v) for w, v in pairs if v > limit]
        if pairs:
            out.append("- %s: %d of %d met%s" % (name, len(pairs) - len(over), len(pairs),
                                                 " (over: %s)" % " ".join(over) if over else ""))
    hs = [(r[0], shown(r[col["hs"]])) for r in rows if is_ratio(r[col["hs"]])]
    verdict("full stacks at most %.1fx plain, every workload" % FULL_MAX, hs, FULL_MAX, "%.2fx")
    ls = [(r[0], shown(r[col["hs"]]), shown(r[col["lsan"]])) for r in rows
          if "lsan" in workloads[r[0]].targets and is_ratio(r[col["hs"]])
          and is_ratio(r[col["lsan"]])]
    if ls:
        s = ["%s %.2fx vs %.2fx (%s)" % (w, h, l, "met" if h <= l else "over") for w, h, l in ls]
        out.append("- full stacks at most LeakSanitizer's ratio (clang -fsanitize=leak over the "
                   "clang build): " + ", ".join(s))
    ls = [(r[0], shown(r[col["hs_clang"]]), shown(r[col["lsan"]])) for r in rows
          if is_ratio(r[col["hs_clang"]]) and is_ratio(r[col["lsan"]])]
    if ls:
        s = ["%s %.2fx vs %.2fx (%s)" % (w, h, l, "met" if h <= l else "over by %.0f%%"
                                         % (100 * (h / l - 1))) for w, h, l in ls]
        out.append("- full stacks on the clang build at most LeakSanitizer's ratio there: "
                   + ", ".join(s))
    bk = [(r[0], shown(r[col["books"]])) for r in rows if is_ratio(r[col["books"]])]
    verdict("bookkeeping at most %.2fx the walk-only build (hs/walk)" % BOOKS_MAX, bk, BOOKS_MAX,
            "%.2fx")
    rss = [(r[0], shown(r[col["rss"]])) for r in rows if is_ratio(r[col["rss"]])]
    verdict("full stacks' peak RSS at most %.2fx plain's, every workload" % RSS_MAX, rss, RSS_MAX,
            "%.2fx")
    return out


def lsan_targets(rows):
    """Issue 68's targets judged on a LeakSanitizer-set table's ROWS (cells
    as printed, columns as report.LSAN_HEAD): heapsnap's full stacks, and
    heapsnap run --leaks beside LSan's own exit-time check, at most
    LeakSanitizer's time (their paired ratio to it at most 1.00x), full
    stacks at most FULL_MAX plain, and their peak RSS at most RSS_MAX."""
    out = []

    def verdict(name, col, limit):
        pairs = [(r[0], shown(r[col])) for r in rows if is_ratio(r[col])]
        over = ["%s %.2fx" % (w, v) for w, v in pairs if v > limit]
        if pairs:
            out.append("- %s: %d of %d met%s" % (name, len(pairs) - len(over), len(pairs),
                                                 " (over: %s)" % " ".join(over) if over else ""))
    verdict("full stacks at most LeakSanitizer's time (hs/LSan)", 5, 1.0)
    verdict("heapsnap run --leaks at most LeakSanitizer's time (hs --leaks/LSan)", 6, 1.0)
    verdict("full stacks at most LeakSanitizer's time with whole stacks, round 1 "
            "(hs/LSan whole)", 11, 1.0)
    verdict("full stacks at most %.1fx plain" % FULL_MAX, 3, FULL_MAX)
    verdict("full stacks' peak RSS at most %.2fx plain's" % RSS_MAX, 8, RSS_MAX)
    return out


def _threaded(rows, workloads, hs):
    """The threaded churn's verdict, and the same at equal live blocks per thread."""
    out = []
    base = [r[0] for r in _tagged(rows, workloads, "threaded_base")]
    if base and hs[base[0]] > 0:
        b = base[0]
        s = ["%s/%s = %.2f (%s)" % (r[0], b, hs[r[0]] / hs[b],
                                    "met" if hs[r[0]] / hs[b] <= THREADED_MAX else "over")
             for r in _tagged(rows, workloads, "threaded") if hs[r[0]] > 0]
        if s:
            out.append("- threaded churn within 1.5x of %s's ratio: %s" % (b, ", ".join(s)))
    # The same question with the live blocks per thread held equal: churn4
    # keeps 25,000 a thread, churn1 100,000, and with fewer the plain
    # program runs out of cache less, which raises every ratio; a lock
    # shared by the threads would raise this one too.
    base = [r[0] for r in _tagged(rows, workloads, "equal_live_base")]
    for r in _tagged(rows, workloads, "equal_live"):
        if base and hs[base[0]] > 0 and hs[r[0]] > 0:
            out.append("- the same at equal live blocks per thread (25,000; how threads scale, "
                       "not the target): %s/%s = %.2f" % (r[0], base[0], hs[r[0]] / hs[base[0]]))
    return out


def added_ns(row, workloads, size):
    """heapsnap's added time per allocation on ROW, in ns, or None."""
    ops = int(workloads[row[0]].sizes[size].split()[0]) * OPS_PER.get(row[0], 1)
    if not (re.match(r"[0-9.]+s", row[1]) and is_ratio(row[3])):
        return None
    return shown(row[1]) * (shown(row[3]) - 1) * 1e9 / ops


def deep_cost(rows, workloads, size):
    """Issue 33's deep-stack target: deep's added time per allocation at
    most DEEP_MAX times churn1's; "" without both rows."""
    by = {r[0]: added_ns(r, workloads, size) for r in rows if r[0] in ("deep", "churn1")}
    d, c = by.get("deep"), by.get("churn1")
    if not d or not c:
        return ""
    return ("- deep stacks' added time per allocation at most %.1fx churn1's: %.0f ns vs %.0f ns, "
            "%.2fx (%s)" % (DEEP_MAX, d, c, d / c, "met" if d / c <= DEEP_MAX else
                            "over by %.0f%%" % (100 * (d / c / DEEP_MAX - 1))))


def per_op(rows, workloads, size):
    """heapsnap's added time per malloc-free pair on the rows tagged per_op,
    in ns: whether the shim's own cost grows with the threads (a lock or
    line shared by them would make it), apart from how the plain program's
    cost per operation changes (it falls: each thread has fewer live blocks).
    "" if no row has both figures."""
    parts = []
    for r in _tagged(rows, workloads, "per_op"):
        ops = int(workloads[r[0]].sizes[size].split()[0])
        p, x = shown(r[1]), shown(r[3])
        if re.match(r"[0-9.]+s", r[1]) and is_ratio(r[3]):
            parts.append(" %s %.0f ns (plain %.0f ns)" % (r[0], p * (x - 1) * 1e9 / ops, p * 1e9 / ops))
    return "- heapsnap's added time per malloc-free pair:" + ",".join(parts) if parts else ""


def snap_targets(snaps):
    """The snapshot and memory targets, judged on the medians over the
    rounds of SNAPS (SnapRound rows)."""
    bad = [s.status for s in snaps if s.status != "ok"]
    if bad:
        return ["- snapshots: !!%s (see the messages above)" % bad[0]]
    col = {f: median(float(getattr(s, f)) for s in snaps) for f in SnapRound._fields[:-1]}
    wmax = max(float(s.write_ms) for s in snaps)
    stmax = max(float(s.stall_ms) for s in snaps)
    n, b = col["blocks"], col["shim_bytes"]
    top, tb = col["top_us"], col["traceback_us"]

    def v(ok):
        return "met" if ok else "over"
    return [
        "- a snapshot of %d live blocks written in under 0.5 s: %.0f ms, the slowest %.0f ms (%s)"
        % (n, col["write_ms"], wmax, v(col["write_ms"] <= 500)),
        "- other threads stopped no longer: a second thread's longest free+malloc during the "
        "write %.1f ms, the worst %.1f ms (%d pairs meanwhile; %.1f ms in as long a window "
        "without a snapshot) (%s)" % (col["stall_ms"], stmax, col["ops"], col["base_ms"],
                                      v(col["stall_ms"] <= 500)),
        "- heapsnap top on it in under 2 s, symbolization included: %.2f s by line, %.2f s "
        "every frame of every trace (%s)" % (top / 1e6, tb / 1e6, v(max(top, tb) <= 2e6)),
        "- the shim's own memory at most 40 B per live block plus the trace table: %.1f B per "
        "live block, everything included (%.1f MiB) (%s)" % (b / n, b / 1048576, v(b / n <= 40)),
        "- writing the snapshot needs at most 8 B of memory per live block: %.1f B (the resident "
        "set's high-water mark during the write above the set before it; the churning thread's "
        "own growth included) (%s)" % (col["transient_kb"] * 1024 / n,
                                       v(col["transient_kb"] * 1024 / n <= 8)),
        "- a leak check of %d live blocks stops other threads at most 100 ms: a second thread's "
        "longest free+malloc during the check %.1f ms, the worst %.1f ms (%.1f ms in as long a "
        "window without one; the check and its snapshot took %.0f ms) (%s)"
        % (col["leak_blocks"], col["leak_stall_ms"], max(float(s.leak_stall_ms) for s in snaps),
           col["leak_base_ms"], col["leak_write_ms"], v(col["leak_stall_ms"] <= 100)),
    ]
