# test_python_numpy_retained.sh - `top --retained` charges a numpy array's
# data buffer (and its dimensions) to the array that owns it (pyg_numpy_owned
# tells the retained sizes' graph, as it tells --owner): numpy_retained.py's
# 10 arrays of 100000 float64 retain their 8000000 bytes at their line, as
# numpy.ndarray; their 10 views retain no buffer (OWNDATA clear), only
# their objects and dimensions; `--key type` charges numpy.ndarray every
# array's buffer; and a module-level dict that keeps 8 arrays alive through
# three levels of containers is charged, at its own line, what tracemalloc
# sees freed when the program drops it, within 1%; a list of 6 views whose
# bases only the views hold retains the bases' buffers at its line (a
# view's base field is an edge of the retained graph: before, each base
# was a root of its own and the list retained its views' objects only).
# On each CPython found
# where numpy imports (Debian's python3 with python3-numpy; pyenv's builds
# have no numpy): a SKIP line names each one without.
. tests/shim/python/lib_py.sh

script=tests/shim/python/numpy_retained.py
l_arrays=$(py_line $script MARK_ARRAYS) l_views=$(py_line $script MARK_VIEWS)
l_cache=$(py_line $script MARK_CACHE) l_viewed=$(py_line $script MARK_VIEWED)
for v in $(py_versions_missing); do
  t_skip "python_numpy_retained_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

ran=0
while read -r tag py; do
  if ! "$py" -c 'import numpy' 2>/dev/null; then
    t_skip "python_numpy_retained_$tag" "numpy does not import on $py (Debian: python3-numpy)"
    continue
  fi
  ran=$((ran + 1))
  s=$T/n-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_numpy_retained_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  read -r nbytes cached freed viewed <"$T/run-$tag.out"
  "$HEAPSNAP" top "$s" --retained --key lineno,type -n 0 --format json >"$T/l-$tag.json" 2>"$T/l-$tag.err"
  "$HEAPSNAP" top "$s" --retained --key type -n 0 --format json >"$T/t-$tag.json" 2>"$T/t-$tag.err"
  # "retained bytes blocks" of LINE's TYPE group, or "0 0 0"
  at() {
    python3 - "$T/l-$tag.json" "$1" "$2" <<'PY'
import json, sys
line, ty = int(sys.argv[2]), sys.argv[3]
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x.get("type") == ty
     and x["frames"][0]["line"] == line and x["frames"][0]["file"].endswith("numpy_retained.py")]
print(*(g[0]["retained_bytes"], g[0]["bytes"], g[0]["blocks"]) if g else (0, 0, 0))
PY
  }
  read -r ret own n <<<"$(at "$l_arrays" numpy.ndarray)"
  if [ "$nbytes" = 8000000 ] && [ "$n" = 10 ] && [ "$own" -lt 4000 ] &&
     [ "$ret" -ge 8000000 ] && [ "$ret" -lt 8010000 ]; then
    t_pass "python_numpy_retained_arrays_retain_their_buffers_$tag"
  else t_fail "python_numpy_retained_arrays_retain_their_buffers_$tag" "nbytes $nbytes; retained $ret, size $own, count $n $(head -c 200 "$T/l-$tag.err")"; fi

  read -r ret own n <<<"$(at "$l_views" numpy.ndarray)"
  if [ "$n" = 10 ] && [ "$ret" -ge "$own" ] && [ "$ret" -lt 4000 ]; then
    t_pass "python_numpy_retained_views_retain_no_buffer_$tag"
  else t_fail "python_numpy_retained_views_retain_no_buffer_$tag" "views: retained $ret, size $own, count $n"; fi

  # numpy.ndarray by type: every array's buffer (numpy's own arrays too)
  ty=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(next((g["retained_bytes"] for g in d["groups"] if g["key"] == "numpy.ndarray"), 0))' "$T/t-$tag.json")
  want=$((nbytes + cached + viewed))
  if [ "$ty" -ge "$want" ] && [ $((ty * 100)) -le $((want * 101)) ]; then
    t_pass "python_numpy_retained_by_type_charges_the_buffers_$tag"
  else t_fail "python_numpy_retained_by_type_charges_the_buffers_$tag" "numpy.ndarray retains $ty, the arrays' buffers $want $(head -c 200 "$T/t-$tag.err")"; fi

  read -r ret own n <<<"$(at "$l_cache" dict)"
  if [ "$cached" = 12800000 ] && [ "$freed" -ge "$cached" ] &&
     [ $((ret * 100)) -ge $((freed * 99)) ] && [ $((ret * 100)) -le $((freed * 101)) ]; then
    t_pass "python_numpy_retained_dict_through_containers_retains_all_$tag"
  else t_fail "python_numpy_retained_dict_through_containers_retains_all_$tag" "del freed ${freed:-?}, dict's line retains $ret (own $own)"; fi

  read -r ret own n <<<"$(at "$l_viewed" list)"
  if [ "$viewed" = 2400000 ] && [ "$ret" -ge "$viewed" ] && [ "$ret" -lt $((viewed + 8000)) ]; then
    t_pass "python_numpy_retained_views_list_retains_bases_only_views_hold_$tag"
  else t_fail "python_numpy_retained_views_list_retains_bases_only_views_hold_$tag" "bases ${viewed:-?} B; the views' list retains $ret (own $own)"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then t_skip python_numpy_retained "numpy imports on no CPython 3.10-3.13 here (Debian: python3-numpy)"; fi
