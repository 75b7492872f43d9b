# test_python_types_views.sh - the objects' types in trend and top --owner:
# tests/shim/python/growtypes.py adds 100 Node and 100 lists of 100 ints
# at each of three snapshots and prints gc.get_objects()' count of Node
# and sys.getsizeof's total over the lists.  `trend --key type` grows
# Node from 100 to what the gc counts, with ages per type, `--key
# lineno,type` in JSON puts the lists at their line.  `top --owner`
# charges each list's item array to the list at its line: the line's lists
# then weigh what sys.getsizeof says, and still count 300 (the objects).
# On one CPython (the others are test_python_types.sh's).
. tests/shim/python/lib_py.sh

read -r tag py < <(py_interpreters)
if [ -z "${py:-}" ]; then
  t_skip python_types_views "no CPython 3.10-3.13 here"
  return 0
fi
script=tests/shim/python/growtypes.py
l_lists=$(py_line $script MARK_LISTS)
# count FILE KEY: the count of top's line for KEY in FILE (0: none).
count() {
  awk -v k="$2: size=" 'index($0, k) == 1 { sub(/.*count=/, ""); sub(/[ ,].*/, ""); print; f = 1 }
                       END { if (!f) print 0 }' "$1"
}

for r in a; do
  if ! py_run "$py" "$T/run-$r" $script "$T/$r" || [ ! -s "$T/$r.2" ]; then
    t_fail "python_types_views_run_$r" "$(tail -c 300 "$T/run-$r.err")"; return 0
  fi
done
gc=$(sed -n 's/^Node=\([0-9]*\) .*/\1/p' "$T/run-a.out")

# trend --key type: Node grew 100 -> 300 (the gc's count), ages 100 each.
"$HEAPSNAP" trend "$T/a.0" "$T/a.1" "$T/a.2" --key type -n 0 >"$T/tr.txt" 2>"$T/tr.err"
line=$(grep -A1 '^__main__.Node: ' "$T/tr.txt" | tr '\n' ' ')
if [ "$gc" = 300 ] && echo "$line" | grep -q "count=300 (+200),.*survived: 0:100 1:100 2:100"; then
  t_pass python_trend_key_type_grows_as_gc_counts
else t_fail python_trend_key_type_grows_as_gc_counts "gc $gc; $line $(head -c 200 "$T/tr.err")"; fi

# --key lineno,type in JSON: the 300 lists at their line, typed.
"$HEAPSNAP" trend "$T/a.0" "$T/a.1" "$T/a.2" --key lineno,type -n 0 --format json \
  >"$T/tr.json" 2>"$T/tr2.err"
got=$(python3 - "$T/tr.json" "$l_lists" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
s = [x for x in doc["sites"] if x.get("type") == "list"
     and x["key"].endswith("growtypes.py:%s (list)" % sys.argv[2])]
print(doc["key"], s[0]["first_blocks"] if s else "-", s[0]["last_blocks"] if s else "-")
PY
)
if [ "$got" = "lineno,type 100 300" ]; then t_pass python_trend_key_lineno_type_json
else t_fail python_trend_key_lineno_type_json "$got $(head -c 200 "$T/tr2.err")"; fi

"$HEAPSNAP" trend "$T/a.0" "$T/a.2" --key traceback,type >/dev/null 2>"$T/bad.err"
st=$?
if [ "$st" = 2 ] && [ "$(wc -l <"$T/bad.err")" = 1 ]; then t_pass python_trend_key_traceback_type_refused
else t_fail python_trend_key_traceback_type_refused "exit $st: $(head -c 200 "$T/bad.err")"; fi
HEAPSNAP_PYTHON=off py_run "$py" "$T/off" $script "$T/off"
"$HEAPSNAP" trend "$T/off.0" "$T/off.2" --key type >/dev/null 2>"$T/off.err"
st=$?
if [ "$st" = 2 ] && [ "$(wc -l <"$T/off.err")" = 1 ] && grep -q 'needs a snapshot of a Python process' "$T/off.err"
then t_pass python_trend_key_type_refused_without_objects
else t_fail python_trend_key_type_refused_without_objects "exit $st: $(head -c 200 "$T/off.err")"; fi

# --owner: the lists at their line carry their item arrays (sys.getsizeof);
# without it, the list headers alone.  The count is the objects'.
sizes=$(sed -n 's/.* lists=\([0-9]*\)$/\1/p' "$T/run-a.out")
for o in "" --owner; do
  "$HEAPSNAP" top "$T/a.2" --key lineno,type $o -n 0 --format json >"$T/own$o.json" 2>"$T/own.err"
done
got=$(python3 - "$T/own.json" "$T/own--owner.json" "$l_lists" <<'PY'
import json, sys
for p in sys.argv[1:3]:
    g = [x for x in json.load(open(p))["groups"] if x.get("type") == "list"
         and x["frames"][0]["line"] == int(sys.argv[3]) and x["frames"][0]["file"].endswith("growtypes.py")]
    print(g[0]["bytes"] if g else "-", g[0]["blocks"] if g else "-", end=" ")
PY
)
if [ -n "$sizes" ] && [ "$got" = "$((300 * 56)) 300 $sizes 300 " ]; then
  t_pass python_top_owner_lists_carry_their_item_arrays
else t_fail python_top_owner_lists_carry_their_item_arrays "getsizeof $sizes; without, with --owner: $got $(head -c 200 "$T/own.err")"; fi
"$HEAPSNAP" top "$T/off.2" --owner >/dev/null 2>"$T/offo.err"
st=$?
if [ "$st" = 2 ] && [ "$(wc -l <"$T/offo.err")" = 1 ]; then t_pass python_top_owner_refused_without_objects
else t_fail python_top_owner_refused_without_objects "exit $st: $(head -c 200 "$T/offo.err")"; fi

