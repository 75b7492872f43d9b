#!/usr/bin/env bash
# scripts/compare-stacks.sh - the stacks of C++ blocks made through the
# standard library's templates (tests/fixtures/cxxwrappers.cc), under
# Valgrind memcheck, LeakSanitizer and heapsnap, built at -O0 and -O2 with
# -g: for each line the fixture marks "@NAME", how many frames each tool
# lists before the first frame in the fixture (the program's own line), or
# "-" when it reports no block there; several counts are several records.
# docs/leaks.md ("C++") reads the table.
#
#   valgrind --leak-check=full --show-leak-kinds=all PROG
#   g++ -fsanitize=leak ...; LSAN_OPTIONS=use_globals=0 PROG   (keep[] is a
#       global: LSan reports every block, not only the leaked string)
#   heapsnap run --leaks PROG; heapsnap leaks -n 0 --kinds all --all-frames
#
# heapsnap's default (without --all-frames) lists 0 frames before it.
# Usage: scripts/compare-stacks.sh            Environment: BUILD, VALGRIND, CXX.
# Exit status: 0 when every tool ran, 2 on trouble.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VALGRIND=${VALGRIND:-valgrind}
CXX=${CXX:-g++}
HEAPSNAP=${HEAPSNAP:-$PWD/$BUILD/heapsnap}
src=tests/fixtures/cxxwrappers.cc

die() { echo "compare-stacks: $*" >&2; exit 2; }
command -v "$VALGRIND" >/dev/null || die "valgrind not found (scripts/install-deps.sh bench)"
[ -x "$HEAPSNAP" ] || die "$HEAPSNAP is not built (run make)"
tests/fixtures/build.sh cxxwrappers cxxwrappers_O2 || die "fixtures do not build"
tmp=$(mktemp -d) || die "no temporary directory"
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/table.py" <<'EOF2'
import json, re, sys
vg, ls, hs, src = sys.argv[1:5]
marks = {}
for i, l in enumerate(open(src), 1):
    m = re.search(r"/\* @([a-z_]+)", l)
    if m:
        marks[i] = m.group(1)
base = re.escape(src.rsplit("/", 1)[-1])
def records(path, head, frame):
    out, cur = [], None
    for l in open(path):
        l = re.sub(r"^==\d+== ?", "", l.rstrip("\n"))
        if head in l:
            cur = []
            out.append(cur)
        elif cur is not None and re.match(frame, l):
            cur.append(l)
        else:
            cur = None
    return out
def tally(recs):
    t = {}
    for fr in recs:
        for k, f in enumerate(fr):
            m = re.search(base + r":(\d+)", f)
            if m:
                t.setdefault(int(m.group(1)), set()).add(k)
                break
    return t
tv = tally(records(vg, "in loss record", r"\s+(at|by) 0x"))
tl = tally(records(ls, "leak of", r"\s+#\d+ "))
th = {}
for r in json.load(open(hs))["records"]:
    k = [f["site"] for f in r["frames"]].index(True)
    f = r["frames"][k]
    if f["file"] and f["file"].endswith(src):
        th.setdefault(f["line"], set()).add(k)
fmt = lambda s: "/".join(str(x) for x in sorted(s)) if s else "-"
print("%-22s %4s  %8s %5s %9s" % ("marker", "line", "memcheck", "LSan", "heapsnap"))
for line in sorted(marks):
    print("%-22s %4d  %8s %5s %9s" % (marks[line], line, fmt(tv.get(line)), fmt(tl.get(line)),
                                      fmt(th.get(line))))
EOF2

for o in O0 O2; do
  prog=$BUILD/fixtures/cxxwrappers; [ $o = O2 ] && prog=${prog}_O2
  "$VALGRIND" --leak-check=full --show-leak-kinds=all "$prog" >/dev/null 2>"$tmp/vg.txt" ||
    die "valgrind $prog failed: $(tail -c 300 "$tmp/vg.txt")"
  "$CXX" -fsanitize=leak -g -$o -fno-omit-frame-pointer -fdebug-prefix-map="$PWD"=. "$src" \
    -o "$tmp/lsan" 2>"$tmp/cc.err" || die "$CXX -fsanitize=leak: $(head -c 300 "$tmp/cc.err")"
  LSAN_OPTIONS=use_globals=0 "$tmp/lsan" 2>"$tmp/ls.txt" >/dev/null
  grep -q 'SUMMARY: LeakSanitizer' "$tmp/ls.txt" || die "LeakSanitizer reported nothing"
  "$HEAPSNAP" run --leaks -o "$tmp/hs.hsnap" "$prog" >/dev/null 2>&1 || die "heapsnap run $prog failed"
  "$HEAPSNAP" leaks -n 0 --kinds all --all-frames --format json "$tmp/hs.hsnap" >"$tmp/hs.json" ||
    die "heapsnap leaks failed"
  echo "== g++ -$o -g: frames before the first of $src"
  python3 "$tmp/table.py" "$tmp/vg.txt" "$tmp/ls.txt" "$tmp/hs.json" "$src" || die "table failed"
done
