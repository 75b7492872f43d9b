# test_python_views_retained.sh - a base held only by views is retained by
# what holds the views (docs/python.md, "A base held only by views"): a
# list of 6 memoryviews of bytes objects that only the views hold
# (views_retained.py) retains the bases' bytes at the list's line with
# `top --retained --key lineno,type` (a memoryview holds its exporter
# through its managed buffer, gc types the graph walks).  numpy's views
# are test_python_numpy_retained.sh's.  On every CPython 3.10-3.15 found;
# a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

script=tests/shim/python/views_retained.py
l_views=$(py_line $script MARK_VIEWS)
for v in $(py_versions_missing); do
  t_skip "python_views_retained_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
while read -r tag py; do
  s=$T/v-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_views_retained_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  bases=$(cat "$T/run-$tag.out")
  "$HEAPSNAP" top "$s" --retained --key lineno,type -n 0 --format json >"$T/l-$tag.json" 2>"$T/l-$tag.err"
  ret=$(python3 - "$T/l-$tag.json" "$l_views" <<'PY'
import json, sys
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x.get("type") == "list"
     and x["frames"][0]["line"] == int(sys.argv[2]) and x["frames"][0]["file"].endswith("views_retained.py")]
print(g[0]["retained_bytes"] if g else 0)
PY
)
  if [ -n "$bases" ] && [ "$bases" -ge 600000 ] && [ "$ret" -ge "$bases" ] && [ "$ret" -lt $((bases + 8000)) ]; then
    t_pass "python_views_retained_memoryviews_list_retains_bases_$tag"
  else t_fail "python_views_retained_memoryviews_list_retains_bases_$tag" "bases ${bases:-?} B; the views' list retains ${ret:-?} $(head -c 200 "$T/l-$tag.err")"; fi
done < <(py_interpreters)
