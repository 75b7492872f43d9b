# test_python_numpy_owner.sh - `top --owner` counts a numpy array's data
# buffer (and its dimensions) with the array (pyg_numpy_owned): numpy_owner.py's
# 10 arrays of 100000 float64 weigh their 8000000 bytes at their line, as
# numpy.ndarray, and `[no object]` loses them; 10 views of them, made where
# freed arrays' objects were, own no buffer (OWNDATA clear) and weigh only
# their objects and dimensions; an ndarray subclass's array carries its
# buffer under its class's name.  Debian's python3 (its python3-numpy).
. tests/shim/python/lib_py.sh

py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
  t_skip python_numpy_owner "Debian's python3-numpy is not installed"
  return 0
fi
script=tests/shim/python/numpy_owner.py
if ! py_run "$py" "$T/run" $script "$T/a.hsnap" || [ ! -s "$T/a.hsnap" ]; then
  t_fail python_numpy_owner_run "$(tail -c 300 "$T/run.err")"; return 0
fi
for o in "" --owner; do
  "$HEAPSNAP" top "$T/a.hsnap" --key lineno,type $o -n 0 --format json >"$T/l$o.json" 2>>"$T/top.err"
  "$HEAPSNAP" top "$T/a.hsnap" --key type $o -n 0 --format json >"$T/t$o.json" 2>>"$T/top.err"
done
# LINE TYPE: "bytes blocks" of that group, without then with --owner
got() {
  python3 - "$T" "$(py_line $script "$1")" "$2" <<'PY'
import json, sys
t, line, ty = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for o in ("", "--owner"):
    g = [x for x in json.load(open("%s/l%s.json" % (t, o)))["groups"] if x.get("type") == ty
         and x["frames"][0]["line"] == line and x["frames"][0]["file"].endswith("numpy_owner.py")]
    print(g[0]["bytes"] if g else 0, g[0]["blocks"] if g else 0, end=" ")
PY
}
out=$(cat "$T/run.out")
read -r b0 n0 b1 n1 <<<"$(got MARK_ARRAYS numpy.ndarray)"
if [ "$out" = "arrays=8000000 sub=400000 views_own=0" ] && [ "$n0" = 10 ] && [ "$n1" = 10 ] &&
   [ "$b0" -lt 4000 ] && [ "$b1" -ge 8000000 ] && [ "$b1" -lt 8010000 ]; then
  t_pass python_numpy_owner_arrays_carry_their_buffers
else t_fail python_numpy_owner_arrays_carry_their_buffers "$out; without, with --owner: $b0 $n0 $b1 $n1 $(head -c 200 "$T/top.err")"; fi

read -r b0 n0 b1 n1 <<<"$(got MARK_VIEWS numpy.ndarray)"
if [ "$n1" = 10 ] && [ "$b1" -gt 0 ] && [ "$b1" -lt 4000 ]; then
  t_pass python_numpy_owner_views_own_no_buffer
else t_fail python_numpy_owner_views_own_no_buffer "views with --owner: $b1 bytes in $n1"; fi

read -r b0 n0 b1 n1 <<<"$(got MARK_SUB __main__.Arr)"
if [ "$n1" = 1 ] && [ "$b1" -ge 400000 ] && [ "$b1" -lt 401000 ]; then
  t_pass python_numpy_owner_subclass_carries_its_buffer
else t_fail python_numpy_owner_subclass_carries_its_buffer "Arr without, with --owner: $b0 $n0 $b1 $n1"; fi

# [no object] with --owner: the 8400000 bytes of buffers are no longer there
drop=$(python3 - "$T/t.json" "$T/t--owner.json" <<'PY'
import json, sys
b = [sum(g["bytes"] for g in json.load(open(p))["groups"] if g.get("key") == "[no object]")
     for p in sys.argv[1:3]]
print(b[0] - b[1])
PY
)
if [ -n "$drop" ] && [ "$drop" -ge 8400000 ]; then
  t_pass python_numpy_owner_no_object_loses_the_buffers
else t_fail python_numpy_owner_no_object_loses_the_buffers "[no object] dropped by ${drop:-?} bytes"; fi
