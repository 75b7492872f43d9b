# test_python_gcfreed.sh - what CPython's cycle collector freed over a run,
# per site (PYGCFREED, top --collected): tests/shim/python/gcfreed.py makes
# N trees of K nodes whose children point to their parent at one line and
# N acyclic leaves at another, drops both and lets the collector run.  The
# tree line shows N*K collected, the leaves' line nothing, and between the
# program's two snapshots heapsnap's total moves by what gc.get_stats()'
# collected sums move by, as the program itself printed them; each
# snapshot's interpreter figure is the program's.  With the collector off
# and no gc.collect(), nothing is collected; PYTHONMALLOC=malloc carries
# the counts too.  On every CPython 3.10-3.15 found (a SKIP line names
# each one absent); on the first, diff, merge and a killed program's state
# file (gcpairs.py's 600, lib_gcfreed.sh): the CLI's and the state file's,
# the same for every version.
. tests/shim/python/lib_py.sh
. tests/shim/python/lib_gcfreed.sh
. tests/shim/lib_kill.sh

script=tests/shim/python/gcfreed.py
N=60 K=7
tree=$(py_line $script '# TREE')
acyclic=$(py_line $script '# ACYCLIC')
py_gc_skips python_gcfreed
if [ -z "$(py_gc_interpreters)" ]; then
  t_skip python_gcfreed_watched "no CPython whose collector heapsnap watches here (3.10-3.15)"
  exit 0
fi
for v in $(py_versions_missing); do
  t_skip "python_gcfreed_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# js FILE EXPR: EXPR over top --format json's document d (Debian's python3).
js() { /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }
# line FILE LINE: the collected count of gcfreed.py:LINE's group in FILE's JSON (0: none).
line() { js "$1" "sum(g['collected'] for g in d['groups'] if g['key'].endswith('gcfreed.py:$2'))"; }

while read -r tag py; do
  a=$T/a-$tag.hsnap b=$T/b-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$a" "$b" $N $K || [ ! -s "$a" ] || [ ! -s "$b" ]; then
    t_fail "python_gcfreed_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  "$HEAPSNAP" top "$a" --collected --format json -n 1 >"$T/a-$tag.json" 2>/dev/null
  "$HEAPSNAP" top "$b" --collected --format json -n 0 >"$T/b-$tag.json" 2>"$T/b-$tag.err"
  got_tree=$(line "$T/b-$tag.json" "$tree") got_acyclic=$(line "$T/b-$tag.json" "$acyclic")
  if [ "$got_tree" = $((N * K)) ] && [ "$got_acyclic" = 0 ]; then
    t_pass "python_gcfreed_tree_line_n_times_k_acyclic_none_$tag"
  else t_fail "python_gcfreed_tree_line_n_times_k_acyclic_none_$tag" \
    "tree line $got_tree (want $((N * K))), acyclic line $got_acyclic: $(head -c 300 "$T/b-$tag.err")"; fi

  # The run's totals beside gc.get_stats(): the program printed its sums.
  pa=$(awk -v f="$a" '$1 == f { print $2 }' "$T/run-$tag.out")
  pb=$(awk -v f="$b" '$1 == f { print $2 }' "$T/run-$tag.out")
  ia=$(js "$T/a-$tag.json" 'd["collector"]["interpreter_collected"]')
  ib=$(js "$T/b-$tag.json" 'd["collector"]["interpreter_collected"]')
  oa=$(js "$T/a-$tag.json" 'd["collector"]["objects"]')
  ob=$(js "$T/b-$tag.json" 'd["collector"]["objects"]')
  if [ -n "$pa" ] && [ -n "$oa" ] && [ "$ia" = "$pa" ] && [ "$ib" = "$pb" ] &&
     [ $((ob - oa)) = $((pb - pa)) ] && [ $((pb - pa)) -ge $((N * K)) ]; then
    t_pass "python_gcfreed_totals_match_gc_get_stats_$tag"
  else t_fail "python_gcfreed_totals_match_gc_get_stats_$tag" \
    "gc.get_stats() $pa -> $pb, snapshots' interpreter $ia -> $ib, heapsnap $oa -> $ob"; fi
  groups=$(js "$T/b-$tag.json" 'sum(g["collected"] for g in d["groups"]) == d["collector"]["objects"] and d["groups_total"] > 0')
  if [ "$groups" = True ]; then t_pass "python_gcfreed_json_groups_sum_to_total_$tag"
  else t_fail "python_gcfreed_json_groups_sum_to_total_$tag" "$(head -c 300 "$T/b-$tag.json")"; fi
done < <(py_gc_interpreters)

# diff shows what was collected between the two; merge sums the runs'.
first=$(py_gc_interpreters | head -1 | cut -d' ' -f1)
a=$T/a-$first.hsnap b=$T/b-$first.hsnap
"$HEAPSNAP" diff "$a" "$b" --collected -n 0 >"$T/d.txt" 2>"$T/d.err"
if grep -q "gcfreed.py:$tree: collected=$((N * K)) (+$((N * K))), size=" "$T/d.txt"; then
  t_pass "python_gcfreed_diff_between_snapshots"
else t_fail "python_gcfreed_diff_between_snapshots" "$(head -c 300 "$T/d.txt" "$T/d.err")"; fi
ob=$(js "$T/b-$first.json" 'd["collector"]["objects"]')
if "$HEAPSNAP" info "$b" 2>/dev/null | grep -Eq "^gc collected: +$ob objects \(.*\) freed by the cycle collector"; then
  t_pass "python_gcfreed_info_line"
else t_fail "python_gcfreed_info_line" "$("$HEAPSNAP" info "$b" 2>&1 | grep -i collect)"; fi
if "$HEAPSNAP" merge "$b" "$b" -o "$T/m.hsnap" 2>"$T/m.err" &&
   "$HEAPSNAP" top "$T/m.hsnap" --collected --format json -n 0 >"$T/m.json" 2>/dev/null; then
  m=$(js "$T/m.json" "(d['collector']['objects'], d['collector']['interpreter_collected'], $(line "$T/m.json" "$tree"))")
  one=$(js "$T/b-$first.json" "(2 * d['collector']['objects'], 2 * d['collector']['interpreter_collected'], $((2 * N * K)))")
else m="merge failed: $(cat "$T/m.err")" one=; fi
if [ -n "$one" ] && [ "$m" = "$one" ]; then t_pass "python_gcfreed_merge_sums"
else t_fail "python_gcfreed_merge_sums" "merged $m, want $one"; fi

# PYTHONMALLOC=malloc: objects are malloc blocks (domain.c's py_free_raw).
while read -r tag py; do
  PYTHONMALLOC=malloc py_run "$py" "$T/malloc-$tag" $script "$T/ma-$tag.hsnap" "$T/mb-$tag.hsnap" $N $K
  "$HEAPSNAP" top "$T/mb-$tag.hsnap" --collected --format json -n 0 >"$T/mb-$tag.json" 2>/dev/null
  got=$(line "$T/mb-$tag.json" "$tree")
  if [ "$got" = $((N * K)) ]; then t_pass "python_gcfreed_pythonmalloc_malloc_$tag"
  else t_fail "python_gcfreed_pythonmalloc_malloc_$tag" "tree line $got, want $((N * K)): $(tail -c 200 "$T/malloc-$tag.err")"; fi
done < <(py_gc_interpreters)

# A program killed after a collection: its state file has the counts (the
# kill waits for a document with them: kill_settle).
py=$(py_gc_interpreters | head -1 | cut -d' ' -f2)
mkfifo "$T/k.fifo"
gc_pairs_run "$py" "$T/k.%p.hsnap" "$T/k.fifo"
pid=$gc_pairs_pid
kill_wait_fifo "$T/k.fifo" && kill_settle "$T/k.$pid.hsnap.state"
kill_now "$pid"
"$HEAPSNAP" top "$T/k.$pid.hsnap.state" --collected -n 0 >"$T/k.txt" 2>"$T/k.err"
if grep -q "gcpairs.py:$GC_PAIR_LINE: collected=600, " "$T/k.txt"; then
  t_pass "python_gcfreed_in_the_state_file"
else t_fail "python_gcfreed_in_the_state_file" "$(head -c 300 "$T/k.txt" "$T/k.err")"; fi

# The collector off, no gc.collect(): cycles made and dropped, none collected.
cat >"$T/off.py" <<'PY'
import gc
gc.disable()
import ctypes, sys
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
def collected():
    return sum(s["collected"] for s in gc.get_stats())
print(sys.argv[1], collected())
lib.heapsnap_take_snapshot(sys.argv[1].encode())
class Node:
    pass
for i in range(20000):
    a, b = Node(), Node()
    a.next, b.next = b, a
print(sys.argv[2], collected())
lib.heapsnap_take_snapshot(sys.argv[2].encode())
PY
while read -r tag py; do
  a=$T/oa-$tag.hsnap b=$T/ob-$tag.hsnap
  py_run "$py" "$T/off-$tag" "$T/off.py" "$a" "$b"
  "$HEAPSNAP" top "$a" --collected --format json >"$T/oa-$tag.json" 2>/dev/null
  "$HEAPSNAP" top "$b" --collected --format json >"$T/ob-$tag.json" 2>/dev/null
  oa=$(js "$T/oa-$tag.json" 'd["collector"]["objects"]')
  ob=$(js "$T/ob-$tag.json" 'd["collector"]["objects"]')
  ib=$(js "$T/ob-$tag.json" 'd["collector"]["interpreter_collected"]')
  pb=$(awk -v f="$b" '$1 == f { print $2 }' "$T/off-$tag.out")
  pa=$(awk -v f="$a" '$1 == f { print $2 }' "$T/off-$tag.out")
  if [ -n "$oa" ] && [ "$oa" = "$ob" ] && [ "$pa" = "$pb" ] && [ "$ib" = "$pb" ]; then
    t_pass "python_gcfreed_none_with_gc_disabled_$tag"
  else t_fail "python_gcfreed_none_with_gc_disabled_$tag" \
    "heapsnap $oa -> $ob, gc.get_stats() $pa -> $pb (snapshot: $ib) $(tail -c 200 "$T/off-$tag.err")"; fi
done < <(py_gc_interpreters)

# Refused in one line: a snapshot of no Python process, and views it is not.
printf 'int main(void) { return 0; }\n' >"$T/c.c"
if t_build "$T/c" "$T/c.c"; then
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/c.hsnap" "$T/c"
  "$HEAPSNAP" top "$T/c.hsnap" --collected >"$T/c.out" 2>"$T/c.err"; st=$?
  if [ "$st" = 2 ] && [ "$(wc -l <"$T/c.err")" = 1 ] && grep -q -- '--collected needs a snapshot of a Python process' "$T/c.err"; then
    t_pass "python_gcfreed_refused_without_python"
  else t_fail "python_gcfreed_refused_without_python" "exit $st: $(cat "$T/c.err")"; fi
fi
"$HEAPSNAP" top "$T/c.hsnap" --collected --peak >/dev/null 2>"$T/p.err"; st=$?
if [ "$st" = 2 ] && grep -q -- '--collected counts the collector' "$T/p.err"; then
  t_pass "python_gcfreed_collected_excludes_peak"
else t_fail "python_gcfreed_collected_excludes_peak" "exit $st: $(cat "$T/p.err")"; fi
