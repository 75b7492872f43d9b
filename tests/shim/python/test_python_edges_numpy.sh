# test_python_edges_numpy.sh - a numpy view's base is an edge of the
# objects' graph (issue 67): an ndarray is no gc type, so the graph reads
# its fields conservatively (pygraph.c's pyg_opaque), and the view's base
# field is named as Python names it (pyknown.c).  edges_numpy.py keeps 10
# views of an 80 MB array in a list: `leaks --why` on the base's site
# names "global KEEP (list) -> [i] (numpy.ndarray) -> ndarray.base
# (numpy.ndarray)" where before it said "no path" (the program checks
# with v.base), and `top --retained` charges the list within 5% of the
# bytes tracemalloc sees freed when the program drops it.  On each
# CPython found where numpy imports (Debian's python3 with python3-numpy,
# scripts/install-deps.sh); a SKIP line names each one without.
. tests/shim/python/lib_py.sh

script=tests/shim/python/edges_numpy.py
l_base=$(py_line $script MARK_BASE) l_keep=$(py_line $script MARK_KEEP)
for v in $(py_versions_missing); do
  t_skip "python_edges_numpy_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
ran=0
while read -r tag py; do
  if ! "$py" -c 'import numpy' 2>/dev/null; then
    t_skip "python_edges_numpy_$tag" "numpy does not import on $py (Debian: python3-numpy, scripts/install-deps.sh)"
    continue
  fi
  ran=$((ran + 1))
  s=$T/n-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_edges_numpy_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  read -r freed same <"$T/run-$tag.out"
  # the base is made in numpy's own code (np.ones): its site is the
  # innermost Python line of its buffer's traceback (the one of 80 MB
  # through MARK_BASE), numpy's, where its object is made too
  "$HEAPSNAP" top "$s" --key traceback -n 0 --format json >"$T/t-$tag.json" 2>/dev/null
  site=$(python3 - "$T/t-$tag.json" "$l_base" <<'PY'
import json, sys
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x["bytes"] >= 80000000
     and any((f.get("file") or "").endswith("edges_numpy.py") and f.get("line") == int(sys.argv[2])
             for f in x["frames"])]
f = [f for f in g[0]["frames"] if (f.get("file") or "").endswith(".py") and f.get("line")] if g else []
print("%s:%d" % (f[0]["file"], f[0]["line"]) if f else "")
PY
)
  "$HEAPSNAP" leaks --why "${site:-edges_numpy.py:$l_base}" "$s" >"$T/w-$tag.txt" 2>&1
  if [ "$same" = 1 ] &&
     grep -Eq '^  1 object: module __main__, global KEEP \(list\) -> \[[0-9]\] \(numpy\.ndarray\) -> ndarray\.base \(numpy\.ndarray\)$' "$T/w-$tag.txt"; then
    t_pass "python_edges_numpy_view_base_named_$tag"
  else t_fail "python_edges_numpy_view_base_named_$tag" "base: $same, site $site; $(grep -v '^heapsnap: note' "$T/w-$tag.txt" | head -c 400 | tr '\n' '|')"; fi

  "$HEAPSNAP" top "$s" --retained --key lineno,type -n 0 --format json >"$T/l-$tag.json" 2>"$T/l-$tag.err"
  ret=$(python3 - "$T/l-$tag.json" "$l_keep" <<'PY'
import json, sys
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x.get("type") == "list"
     and x["frames"][0]["line"] == int(sys.argv[2]) and x["frames"][0]["file"].endswith("edges_numpy.py")]
print(g[0]["retained_bytes"] if g else 0)
PY
)
  if [ "${freed:-0}" -ge 80000000 ] && [ $((ret * 100)) -ge $((freed * 95)) ] &&
     [ $((ret * 100)) -le $((freed * 105)) ]; then
    t_pass "python_edges_numpy_views_list_retained_within_5pct_$tag"
  else t_fail "python_edges_numpy_views_list_retained_within_5pct_$tag" "freed ${freed:-?}, the list retains $ret $(head -c 200 "$T/l-$tag.err")"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then t_skip python_edges_numpy "numpy imports on no CPython here (Debian: python3-numpy)"; fi
