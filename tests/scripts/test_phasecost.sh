# test_phasecost.sh - scripts/bench/phasecost.py reads callgrind's output as
# callgrind_annotate does: a function's self cost goes to the source file of
# each line (inlined code to where it was written), a call's inclusive cost
# line is not counted again, and the allocations are the calls of the malloc
# family into the shim from outside it.  A synthetic file, so no valgrind run.

cat >"$T/cg.out" <<'EOF'
# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
ob=(1) /lib/libheapsnap.so
fl=(1) /src/shim/hooks.c
fn=(1) malloc
10 7
fi=(2) /src/shim/record/table.c
20 11
fe=(1)
12 2
cfl=(3) /src/shim/unwind/cfi.c
cfn=(2) unwind_again
calls=1 30
11 100
fn=(2)
fl=(3)
30 40
ob=(2) /bin/prog
fl=(4) /src/prog.c
fn=(3) main
5 9
cob=(1)
cfl=(1)
cfn=(1)
calls=3 10
6 160
cob=(1)
cfn=(4) free
calls=2 10
6 30
cfn=(5) calloc
calls=4 10
7 5
EOF

out=$(python3 - "$T/cg.out" <<'EOF'
import sys
sys.path.insert(0, "scripts/bench")
import phasecost
total, files, allocs = phasecost.parse(sys.argv[1], "/lib/libheapsnap.so")
print(total, allocs, " ".join("%s=%d" % (k, v) for k, v in sorted(files.items())))
EOF
)
want="69 3 /src/shim/hooks.c=9 /src/shim/record/table.c=11 /src/shim/unwind/cfi.c=40"
if [ "$out" = "$want" ]; then t_pass phasecost_self_cost_by_file
else t_fail phasecost_self_cost_by_file "got '$out', want '$want'"; fi

# ... and a file's phase, as docs/performance.md's table groups them.
out=$(python3 - <<'EOF2'
import sys
sys.path.insert(0, "scripts/bench")
import phasecost
print(" ".join(phasecost.phase(f) for f in (
    "/s/shim/unwind/cfi.c", "/s/shim/record/table.c", "/usr/lib/gcc/x/12/include/emmintrin.h",
    "/s/shim/record/traces.c", "/s/shim/record/peak.c", "/s/shim/record/pending.c",
    "/s/shim/base/deferred.c", "/s/shim/base/scrub.c", "/s/shim/hooks.c", "/s/shim/root.h",
    "/s/shim/python/frames/stack.c", "/s/shim/snapshot/siteline.c", "/s/shim/base/arena.c", None)))
EOF2
)
want="walk table table sums sums pending pending scrub hooks hooks python snapshot other other"
if [ "$out" = "$want" ]; then t_pass phasecost_phase_by_file
else t_fail phasecost_phase_by_file "got '$out', want '$want'"; fi
