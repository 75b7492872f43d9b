#!/usr/bin/env python3
"""callgraph.py - file-to-file call edges from object files, and the cycles
they make between rooms.

Usage: scripts/callgraph.py [--shared=H,...] OBJDIR ROOM...
  e.g. scripts/callgraph.py build/obj shim/base shim/record shim

A room is a folder; its files are the sources ROOM/*.c and ROOM/*.cc (not
those of sub-folders, which are rooms of their own), read as OBJDIR/ROOM/*.o.
Run from the repository's root.  An edge A -> B is a symbol A leaves
undefined (nm: U, or weak: w, v) that B defines: a function (T, W, i) or
data (D, B, R, V; a thread-local is one of these too).  So a flag, a table,
a thread-local and a weak hook each count as a reference, as a call does.
Calls within a room may go in circles.  Between rooms they go one way: the rooms, condensed to one node
each, must make no cycle (a room that calls another through one file and
is called back through two others is a cycle, though no file is on one).
Prints the edges between rooms, the room graph's order, and every cycle,
of files across rooms and of rooms; exits 1 if there is one, 2 on trouble.

With --shared, includes count too: a file's #include "..." (found as
the compiler finds it: beside the file, then in each room) of another
room's header is an edge to that room, as a reference is, so a room that
includes the header of a room above it closes a room cycle.  The headers
named in --shared (contracts such as a file format or the option table,
which declare no room's code) may be included from anywhere.
"""
import re
import os
import subprocess
import sys
from collections import defaultdict

DEFS = "TWiDBRV"  # nm's kinds of a global definition: code, then data
USES = "Uwv"      # ... of a reference to one defined elsewhere (w, v: weak)


def nm_all(paths):
    """{path: (defined {symbol: kind}, undefined {symbol})}, one nm for all."""
    out = subprocess.run(["nm", "-A"] + paths, capture_output=True, text=True,
                         check=True).stdout
    syms = {p: ({}, set()) for p in paths}
    for line in out.splitlines():
        path, _, rest = line.partition(":")  # nm -A: "path:addr kind name"
        f = rest.split()
        if path not in syms:
            continue
        defined, undefined = syms[path]
        if len(f) == 2 and f[0] in USES:
            undefined.add(f[1])
        elif len(f) == 3:
            defined[f[2]] = f[1]
    return syms


def sccs(nodes, edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out


def include_edges(rooms, shared):
    """{(room, header's room): [#include lines]} for the includes of another
    room's header, the --shared ones left out."""
    out = defaultdict(list)
    for room in rooms:
        for name in sorted(os.listdir(room)):
            if not name.endswith((".c", ".cc", ".h")):
                continue
            path = os.path.join(room, name)
            with open(path, errors="replace") as fh:
                text = fh.read()
            for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M):
                if os.path.basename(inc) in shared:
                    continue
                for d in [room] + list(rooms):
                    cand = os.path.normpath(os.path.join(d, inc))
                    if os.path.isfile(cand):
                        break
                else:
                    continue  # generated, or outside the rooms
                hroom = os.path.dirname(cand)
                if hroom != room and hroom in rooms:
                    out[(room, hroom)].append(f"{name} includes {cand}")
    return out


def layers(rooms, redges):
    """The rooms of an acyclic room graph by height: a room comes after
    every room it calls; rooms of one height are joined with '|'."""
    height = {}

    def h(r):
        if r not in height:
            height[r] = 1 + max((h(b) for b in redges[r]), default=-1)
        return height[r]

    for r in rooms:
        h(r)
    out = []
    for level in range(max(height.values(), default=-1) + 1):
        out.append("|".join(sorted(r + "/" for r in rooms if height[r] == level)))
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    shared = None
    if argv[1].startswith("--shared="):
        shared = set(x for x in argv[1][len("--shared="):].split(",") if x)
        argv = argv[:1] + argv[2:]
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    objdir, rooms = argv[1], argv[2:]
    room_of, objs = {}, {}
    for room in rooms:
        if not os.path.isdir(room):
            print(f"callgraph: no folder {room} (run from the repository's root)", file=sys.stderr)
            return 2
        for name in sorted(os.listdir(room)):
            if name.endswith(".c") or name.endswith(".cc"):
                f = os.path.join(room, name[:name.rindex(".")])
                obj = os.path.join(objdir, f + ".o")
                if not os.path.exists(obj):
                    print(f"callgraph: {obj} is missing (build first)", file=sys.stderr)
                    return 2
                room_of[f] = room
                objs[f] = obj
    byobj = nm_all(list(objs.values())) if objs else {}
    syms = {f: byobj[o] for f, o in objs.items()}
    owner = {}
    for f, (defined, _) in syms.items():
        for s, t in defined.items():
            if t in DEFS:
                owner[s] = f
    edges, why = defaultdict(set), defaultdict(list)
    for f, (_, undefined) in syms.items():
        for s in sorted(undefined):
            g = owner.get(s)
            if g and g != f:
                edges[f].add(g)
                why[(f, g)].append(s)
    between = defaultdict(list)
    for (f, g), ss in why.items():
        if room_of[f] != room_of[g]:
            between[(room_of[f], room_of[g])].extend(ss)
    print("rooms:", " ".join(rooms))
    print("references between rooms:")
    for (a, b), ss in sorted(between.items()):
        names = sorted(set(ss))
        more = f" (+{len(names) - 6} more)" if len(names) > 6 else ""
        print(f"  {a}/ -> {b}/: {len(names)} symbols: {', '.join(names[:6])}{more}")
    if not between:
        print("  none")
    bad = 0
    for comp in sccs(sorted(syms), edges):
        if len(comp) < 2:
            continue
        crooms = sorted({room_of[f] for f in comp})
        if len(crooms) > 1:
            bad += 1
            print(f"CYCLE between rooms {', '.join(crooms)}: {' '.join(comp)}")
            for f in comp:
                for g in sorted(edges[f]):
                    if g in comp and room_of[f] != room_of[g]:
                        print(f"    {f} -> {g}: {', '.join(why[(f, g)][:4])}")
        else:
            print(f"within {crooms[0]}/ (allowed): {len(comp)} files call each other in circles: "
                  + " ".join(os.path.basename(f) for f in comp))
    redges = defaultdict(set)
    for (a, b) in between:
        redges[a].add(b)
    if shared is not None:
        incs = include_edges(rooms, shared)
        print("includes between rooms:")
        for (a, b), lines in sorted(incs.items()):
            more = f" (+{len(lines) - 2} more)" if len(lines) > 2 else ""
            print(f"  {a}/ -> {b}/: {'; '.join(lines[:2])}{more}")
            redges[a].add(b)
            between[(a, b)].extend("#include " + x.split(" includes ")[1] for x in lines)
        if not incs:
            print("  none")
    for room in rooms:
        redges[room]
    for comp in sccs(list(rooms), redges):
        if len(comp) > 1:
            bad += 1
            print(f"ROOM CYCLE: {', '.join(comp)} call each other:")
            for a in comp:
                for b in sorted(redges[a]):
                    if b in comp:
                        names = sorted(set(between[(a, b)]))
                        print(f"    {a}/ -> {b}/: {', '.join(names[:4])}")
    if not bad:
        print("room order, lowest first: " + " <- ".join(layers(rooms, redges)))
    print(f"cycles between rooms: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
