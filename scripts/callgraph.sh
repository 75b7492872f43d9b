#!/usr/bin/env bash
# scripts/callgraph.sh - the file-to-file call graph of built objects, and a
# check that files of different rooms do not call each other in a circle.
#
# Usage: scripts/callgraph.sh [-b OBJROOT] [-v] ROOM...
#   ROOM     a source folder (report, report/gate, shim/leak...); its files are
#            the objects OBJROOT/ROOM/*.o of sources ROOM/*.c that exist
#            (default OBJROOT: ${BUILD:-build}/obj); run from the repository root
#   -v       also list every edge "a.c -> b.c"
# An edge a -> b means a.o refers to a symbol (function or data) that b.o
# defines (nm: undefined in a, defined in b).  Cycles are the strongly
# connected components of two or more files.  A cycle inside one room is
# listed; a cycle whose files lie in different rooms is an error.
# Exit 0 when no cycle crosses rooms, 1 when one does, 2 on bad usage.
set -u
objroot=${BUILD:-build}/obj verbose=0
while getopts "b:v" opt; do
  case $opt in
    b) objroot=$OPTARG ;;
    v) verbose=1 ;;
    *) echo "usage: scripts/callgraph.sh [-b OBJROOT] [-v] ROOM..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: scripts/callgraph.sh [-b OBJROOT] [-v] ROOM..." >&2; exit 2; }

# One line per symbol: ROOM FILE D|U NAME
listing=$(for room in "$@"; do
  room=${room%/}
  ls "$objroot/$room"/*.o >/dev/null 2>&1 || { echo "callgraph: no objects in $objroot/$room" >&2; exit 2; }
  for o in "$objroot/$room"/*.o; do
    [ -e "$room/$(basename "${o%.o}").c" ] || continue # stale: its source is gone
    nm -P "$o" 2>/dev/null | awk -v room="$room" -v file="$room/$(basename "${o%.o}").c" '
      $2 == "U" { print room, file, "U", $1; next }
      $2 ~ /^[TDBRCVWG]$/ { print room, file, "D", $1 }'
  done
done) || exit 2

python3 - "$verbose" <<PY "$listing"
import sys
verbose = sys.argv[1] == "1"
text = sys.argv[2] if len(sys.argv) > 2 else ""
room_of, defs, uses = {}, {}, {}
for line in text.splitlines():
    room, f, kind, name = line.split(" ", 3)
    room_of[f] = room
    uses.setdefault(f, set())
    if kind == "D":
        defs.setdefault(name, set()).add(f)
    else:
        uses[f].add(name)
edges = {f: sorted({g for n in uses[f] for g in defs.get(n, ()) if g != f}) for f in uses}
# Tarjan's strongly connected components, iteratively.
index, low, onstack, stack, sccs, counter = {}, {}, set(), [], [], [0]
for root in sorted(edges):
    if root in index:
        continue
    work = [(root, 0)]
    while work:
        v, i = work.pop()
        if i == 0:
            index[v] = low[v] = counter[0]; counter[0] += 1
            stack.append(v); onstack.add(v)
        if i < len(edges[v]):
            work.append((v, i + 1))
            w = edges[v][i]
            if w not in index:
                work.append((w, 0))
            elif w in onstack:
                low[v] = min(low[v], index[w])
            continue
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); onstack.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))
        if work:
            u = work[-1][0]
            low[u] = min(low[u], low[v])
rooms = sorted(set(room_of.values()))
nedges = sum(len(v) for v in edges.values())
print("callgraph: %d rooms (%s), %d files, %d edges" % (len(rooms), " ".join(r + "/" for r in rooms), len(edges), nedges))
if verbose:
    for f in sorted(edges):
        for g in edges[f]:
            print("  %s -> %s" % (f, g))
bad = 0
for comp in sccs:
    crossing = len({room_of[f] for f in comp}) > 1
    bad += crossing
    print("%s: %s" % ("FAIL cycle across rooms" if crossing else "cycle inside " + room_of[comp[0]] + "/", " ".join(comp)))
if not sccs:
    print("no call cycles")
elif not bad:
    print("no cycle crosses rooms")
sys.exit(1 if bad else 0)
PY
