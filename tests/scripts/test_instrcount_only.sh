# test_instrcount_only.sh - scripts/bench/instrcount.py --only picks the
# workloads whose name contains any of its comma-separated patterns (one
# pattern as before), and a pattern list that picks none is an error (exit
# 2, before any program is built), not an empty table that exits 0.  No
# valgrind run.

pick() {
  python3 -c 'import sys; sys.path.insert(0, "scripts/bench"); import instrcount as i
print(" ".join(n for n in i.WORKLOADS if i.picked(n, sys.argv[1])))' "$1"
}
got=$(pick kept64,kept100k,churn1)
if [ "$got" = "churn1 kept64 kept100k" ]; then t_pass instrcount_only_takes_a_list
else t_fail instrcount_only_takes_a_list "picked: $got"; fi
got=$(pick kept)
if [ "$got" = "kept64 kept100k kept200" ]; then t_pass instrcount_only_one_pattern_as_before
else t_fail instrcount_only_one_pattern_as_before "picked: $got"; fi

scripts/bench/instrcount.py --only nosuch,nor-this >"$T/none.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'no workload matches --only nosuch,nor-this' "$T/none.out"; then
  t_pass instrcount_only_matching_none_fails
else t_fail instrcount_only_matching_none_fails "exit $rc: $(head -c 300 "$T/none.out")"; fi

# The floors (phasecost.build_floors: the pass-through shim and the
# walk-only one, linked with the build's unwind objects) leave no symbol
# unbound: loaded with LD_BIND_NOW, a program runs under each.  (The
# walk-only shim once lacked arena_populate, which the rule cache calls as
# it grows: python's walk column died at its first growth.)
if python3 -c 'import sys; sys.path.insert(0, "scripts/bench"); import phasecost
phasecost.build_floors(sys.argv[1], sys.argv[2])' "${BUILD:-build}" "$T" >"$T/floors.out" 2>&1; then
  bad=
  for f in libbare.so libwalk.so; do
    LD_BIND_NOW=1 LD_PRELOAD="$T/$f" /bin/true 2>"$T/bind.err" || bad="$bad $f: $(head -c 200 "$T/bind.err")"
  done
  if [ -z "$bad" ]; then t_pass bench_floors_bind_every_symbol
  else t_fail bench_floors_bind_every_symbol "$bad"; fi
else
  t_fail bench_floors_bind_every_symbol "the floors do not build: $(tail -c 300 "$T/floors.out")"
fi
