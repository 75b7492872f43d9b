#!/usr/bin/env python3
"""tests/shim/leak/classes/check.py - compares `heapsnap leaks` output with an expectation.

An expectation file (tests/shim/leak/classes/expect/<name>.txt) holds, besides # comments:

  direct: 16 bytes in 1 blocks              the six LEAK SUMMARY lines, in the
  indirect: 0 bytes in 0 blocks             fixed form of issue 3; a line may end
  cycle: 0 bytes in 0 blocks                in "+ runtime NAME" (add what fixture
  possibly lost: 0 bytes in 0 blocks        NAME, which allocates nothing, has in
  still reachable: 0 bytes in 0 blocks + runtime noleak     that class: the C
  suppressed: 0 bytes in 0 blocks           library's own blocks), or read
                                            "X: at least N bytes in M blocks",
                                            or "X: any" (not judged: the noleak
                                            fixtures that measure the runtime)
  record direct tests/shim/leak/classes/FILE.c:18 blocks=1 bytes=16 indirect=0
  record cycle tests/shim/leak/classes/FILE.c:19|tests/shim/leak/classes/FILE.c:20 blocks=2 bytes=112 indirect=0

Record lines give, per kind (direct or cycle) and allocation site, the sum of
the own blocks, own bytes and owned indirect bytes of the loss records of that
kind whose site is that line ("a|b": either site names the same group, for a
cycle whose root may be any member).  The listed groups must be exactly the
direct and cycle records found (grouping is by site, so one record per leak
or one per site both match).

Usage:
  check.py EXPECT TEXT [JSON] [--runtime FILE]   mismatches on stdout, exit 1
  check.py --summary TEXT                        "class bytes blocks" lines
  check.py --lint DIR                            expectation vs fixture sources
"""
import json
import os
import re
import sys

CLASSES = ["direct", "indirect", "cycle", "possibly lost", "still reachable", "suppressed"]
SUMMARY = re.compile(r"^\W*(direct|indirect|cycle|possibly lost|still reachable|suppressed):"
                     r"\s+([\d,]+) bytes in ([\d,]+) blocks?\b")
EXPECT = re.compile(r"^(direct|indirect|cycle|possibly lost|still reachable|suppressed):"
                    r"\s+(at least\s+)?(\d+) bytes in (\d+) blocks"
                    r"(?:\s*\+\s*runtime\s+(\S+))?\s*$")
RECORD = re.compile(r"^record\s+(direct|cycle)\s+(\S+)\s+blocks=(\d+)\s+bytes=(\d+)"
                    r"\s+indirect=(\d+)\s*$")
SITE = re.compile(r"(?:^|[\s(/])(?:\./)?(tests/shim/leak/classes/[\w.+-]+\.(?:c|cc)):(\d+)")
HEADER = re.compile(r"([\d,]+) (?:\(([\d,]+) \w+, ([\d,]+) indirect\) )?bytes in ([\d,]+) blocks?")
ALLOC = re.compile(r"\b(malloc|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|"
                   r"memalign|valloc|pvalloc|strdup|new|reserve)\b")


def num(s):
    return int(s.replace(",", ""))


def parse_summary(text):
    """{class: (bytes, blocks)} from the LEAK SUMMARY part of a report."""
    got = {}
    after = text.split("LEAK SUMMARY", 1)[-1]
    for line in after.splitlines():
        m = SUMMARY.match(line)
        if m and m.group(1) not in got:
            got[m.group(1)] = (num(m.group(2)), num(m.group(3)))
    return got


def kind_of(words):
    w = words.lower()
    for key, kind in (("cycle", "cycle"), ("indirect", "indirect"), ("possib", "possible"),
                      ("reachable", "reachable"), ("direct", "direct"), ("definitely", "direct")):
        if key in w:
            return kind
    return None


def records_from_text(text):
    """[(kind, site, blocks, bytes, indirect)] from the loss records of a text report.
    A record starts at a line with "N bytes in M blocks" (that is not a summary
    line); its site is the first fixture file:line in it."""
    recs, cur = [], None
    body = text.split("LEAK SUMMARY", 1)[0]
    for line in body.splitlines():
        m = HEADER.search(line)
        if m and not SUMMARY.match(line):
            if cur:
                recs.append(cur)
            total = num(m.group(1))
            own = num(m.group(2)) if m.group(2) else total
            ind = num(m.group(3)) if m.group(3) else 0
            rest = line[:m.start()] + " " + line[m.end():]
            cur = [kind_of(rest), None, num(m.group(4)), own, ind]
        s = SITE.search(line)
        if cur and cur[1] is None and s:
            cur[1] = "%s:%s" % (s.group(1), s.group(2))
    if cur:
        recs.append(cur)
    return [tuple(r) for r in recs]


def json_site(rec):
    site = rec.get("site")
    if isinstance(site, str):
        return site
    if isinstance(site, dict) and site.get("file"):
        return "%s:%s" % (site["file"], site.get("line", 0))
    frames = rec.get("frames") or rec.get("stack") or []
    idx = site if isinstance(site, int) else None
    for i, f in enumerate(frames):
        if idx == i or (idx is None and (f.get("site") or f.get("allocation_site"))):
            return "%s:%s" % (f.get("file"), f.get("line"))
    return None


def records_from_json(text):
    doc = json.loads(text)
    items = doc.get("records") or doc.get("loss_records") or [] if isinstance(doc, dict) else doc
    out = []
    for r in items:
        kind = r.get("kind") or r.get("class")
        site = json_site(r)
        m = SITE.search(" " + (site or ""))
        out.append((kind, "%s:%s" % (m.group(1), m.group(2)) if m else site,
                    int(r.get("blocks", 0)), int(r.get("bytes", 0)),
                    int(r.get("indirect_bytes", r.get("indirect", 0)))))
    return out


def load_expect(path):
    summ, recs = {}, {}
    for n, line in enumerate(open(path), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = EXPECT.match(line)
        r = RECORD.match(line)
        a = re.match(r"^([a-z ]+):\s+any$", line)
        if a and a.group(1) in CLASSES:
            summ[a.group(1)] = None
        elif m:
            summ[m.group(1)] = (bool(m.group(2)), int(m.group(3)), int(m.group(4)), m.group(5))
        elif r:
            recs[(r.group(1), r.group(2))] = tuple(int(r.group(i)) for i in (3, 4, 5))
        else:
            raise SystemExit("%s:%d: cannot read: %s" % (path, n, line))
    missing = [c for c in CLASSES if c not in summ]
    if missing:
        raise SystemExit("%s: no line for %s" % (path, ", ".join(missing)))
    return summ, recs


def load_runtime(path):
    base = {}
    if path and os.path.exists(path):
        for line in open(path):
            f = line.rsplit(None, 3)
            if len(f) == 4:
                base[(f[0], f[1].replace("_", " "))] = (int(f[2]), int(f[3]))
    return base


def check_summary(want, got, base, problems):
    for cls in CLASSES:
        if want[cls] is None:
            continue
        at_least, nbytes, nblocks, rt = want[cls]
        if rt:
            if (rt, cls) not in base:
                problems.append("%s: no runtime baseline from fixture %s" % (cls, rt))
                continue
            nbytes += base[(rt, cls)][0]
            nblocks += base[(rt, cls)][1]
        if cls not in got:
            problems.append("%s: no such line in the LEAK SUMMARY" % cls)
            continue
        gb, gn = got[cls]
        ok = (gb >= nbytes and gn >= nblocks) if at_least else (gb == nbytes and gn == nblocks)
        if not ok:
            problems.append("%s: got %d bytes in %d blocks, want %s%d bytes in %d blocks"
                            % (cls, gb, gn, "at least " if at_least else "", nbytes, nblocks))


def check_records(want, recs, problems):
    groups = {}
    for kind, site, blocks, nbytes, ind in recs:
        if kind not in ("direct", "cycle"):
            continue
        key = (kind, site)
        for wk, ws in want:
            if wk == kind and site in ws.split("|"):
                key = (wk, ws)
        g = groups.setdefault(key, [0, 0, 0])
        g[0] += blocks
        g[1] += nbytes
        g[2] += ind
    for key in sorted(set(want) | set(groups), key=str):
        w, g = want.get(key), groups.get(key)
        fmt = "blocks=%d bytes=%d indirect=%d"
        if w is None:
            problems.append("unexpected record %s %s %s" % (key[0], key[1], fmt % tuple(g)))
        elif g is None:
            problems.append("missing record %s %s %s" % (key[0], key[1], fmt % w))
        elif tuple(g) != w:
            problems.append("record %s %s: got %s, want %s"
                            % (key[0], key[1], fmt % tuple(g), fmt % w))


def lint(directory):
    """Every fixture has an expectation whose record sites are allocation lines."""
    problems = []
    srcs = sorted(f for f in os.listdir(directory)
                  if f.endswith((".c", ".cc")) and not f.startswith("lib"))
    for src in srcs:
        name = src.rsplit(".", 1)[0]
        if not os.path.exists(os.path.join(directory, "expect", name + ".txt")):
            problems.append("%s: no expect/%s.txt" % (src, name))
    for exp in sorted(os.listdir(os.path.join(directory, "expect"))):
        try:
            _, recs = load_expect(os.path.join(directory, "expect", exp))
        except SystemExit as e:
            problems.append(str(e))
            continue
        for _, sites in recs:
            for site in sites.split("|"):
                path, line = site.rsplit(":", 1)
                try:
                    text = open(path).read().split("\n")[int(line) - 1]
                except (OSError, IndexError):
                    problems.append("%s: %s does not exist" % (exp, site))
                    continue
                if not ALLOC.search(text):
                    problems.append("%s: %s is not an allocation: %s" % (exp, site, text.strip()))
    return problems


def main(argv):
    if len(argv) == 3 and argv[1] == "--summary":
        for cls, (b, n) in parse_summary(open(argv[2]).read()).items():
            print("%s %d %d" % (cls.replace(" ", "_"), b, n))
        return 0
    if len(argv) == 3 and argv[1] == "--lint":
        problems = lint(argv[2])
    else:
        runtime = None
        if "--runtime" in argv:
            i = argv.index("--runtime")
            runtime = argv[i + 1]
            argv = argv[:i] + argv[i + 2:]
        if len(argv) not in (3, 4):
            print(__doc__.split("Usage:")[1], file=sys.stderr)
            return 2
        want_summ, want_recs = load_expect(argv[1])
        text = open(argv[2]).read()
        problems = []
        check_summary(want_summ, parse_summary(text), load_runtime(runtime), problems)
        recs = None
        if len(argv) == 4 and os.path.getsize(argv[3]) > 0:
            try:
                recs = records_from_json(open(argv[3]).read())
            except (ValueError, AttributeError, TypeError):
                recs = None
        if recs is None:
            recs = records_from_text(text)
        check_records(want_recs, recs, problems)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
