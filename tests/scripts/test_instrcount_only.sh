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
