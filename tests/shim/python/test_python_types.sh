# test_python_types.sh - each Python object's type, read at the snapshot:
# tests/shim/python/objtypes.py makes 1000 Node, 300 Slotted (__slots__)
# and 200 WithMeta (a metaclass) instances and 500 dicts at one line, and
# prints what gc.get_objects() counts of each class.  `top --key type`
# counts the classes as the gc does (__main__.Node), `--key lineno,type`
# puts the dicts at their line, JSON carries the type; with a thread that
# frees and makes big (unmapped) objects while snapshots are taken, the
# process lives and every snapshot has its types.  On every CPython
# 3.10-3.15 found; a SKIP line names each one absent.  Without CPython's
# objects (HEAPSNAP_PYTHON=off), --key type is refused with one line.
. tests/shim/python/lib_py.sh

script=tests/shim/python/objtypes.py
l_dicts=$(py_line $script MARK_DICTS)

for v in $(py_versions_missing); do
  t_skip "python_types_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# count FILE KEY: the count of top's line for KEY in FILE (0: none).
count() {
  awk -v k="$2: size=" 'index($0, k) == 1 { sub(/.*count=/, ""); sub(/,.*/, ""); print; f = 1 }
                       END { if (!f) print 0 }' "$1"
}

first=1
while read -r tag py; do
  s=$T/t-$tag.hsnap
  churn=""; [ "$first" = 1 ] && churn=churn # the churn once: its snapshots cost
  if ! py_run "$py" "$T/run-$tag" $script "$s" $churn || [ ! -s "$s" ]; then
    t_fail "python_types_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  "$HEAPSNAP" top "$s" --key type -n 0 >"$T/type-$tag.txt" 2>"$T/type-$tag.err"
  want=$(cat "$T/run-$tag.out")  # gc.get_objects()'s counts: Node=1000 Slotted=300 WithMeta=200
  got="Node=$(count "$T/type-$tag.txt" __main__.Node) Slotted=$(count "$T/type-$tag.txt" __main__.Slotted)"
  got="$got WithMeta=$(count "$T/type-$tag.txt" __main__.WithMeta)"
  if [ "$want" = "Node=1000 Slotted=300 WithMeta=200" ] && [ "$got" = "$want" ]; then
    t_pass "python_types_class_counts_match_gc_$tag"
  else t_fail "python_types_class_counts_match_gc_$tag" "gc: $want; top --key type: $got $(head -c 200 "$T/type-$tag.err")"; fi
  meta=$(count "$T/type-$tag.txt" __main__.Meta) dicts=$(count "$T/type-$tag.txt" dict)
  if [ "$meta" = 1 ] && [ "$dicts" -ge 500 ]; then t_pass "python_types_metaclass_and_builtins_named_$tag"
  else t_fail "python_types_metaclass_and_builtins_named_$tag" "__main__.Meta $meta, dict $dicts"; fi

  # The dicts at their line (the interpreter's free list of dicts may hand
  # out up to 80 it had, charged where they were made), in JSON with types.
  "$HEAPSNAP" top "$s" --key lineno,type -n 0 --format json >"$T/lt-$tag.json" 2>"$T/lt-$tag.err"
  at=$(python3 - "$T/lt-$tag.json" "$l_dicts" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
n = sum(g["blocks"] for g in doc["groups"]
        if g.get("type") == "dict" and g["frames"][0]["line"] == int(sys.argv[2])
        and g["frames"][0]["file"].endswith("objtypes.py"))
node = sum(g["blocks"] for g in doc["groups"] if g.get("type") == "__main__.Node")
print(n, node, doc["key"])
PY
)
  set -- $at
  if [ "${1:-0}" -ge 420 ] && [ "${1:-0}" -le 500 ] && [ "${2:-0}" = 1000 ] && [ "${3:-}" = lineno ]; then
    t_pass "python_types_per_line_and_type_json_$tag"
  else t_fail "python_types_per_line_and_type_json_$tag" "dicts at line $l_dicts: ${1:-?}, Node: ${2:-?} ($(head -c 200 "$T/lt-$tag.err"))"; fi

  if [ -n "$churn" ]; then
    ok=0
    for n in 0 1 2 3 4 5 6 7 8 9; do
      "$HEAPSNAP" top "$s.$n" --key type -n 0 2>/dev/null | grep -q '^__main__.Node: ' && ok=$((ok + 1))
    done
    if [ "$ok" = 10 ]; then t_pass "python_types_read_safely_while_objects_die_$tag"
    else t_fail "python_types_read_safely_while_objects_die_$tag" "$ok of 10 snapshots typed"; fi
  fi
  first=0
done < <(py_interpreters)

# No CPython objects read: one line, exit 2; and none past
# HEAPSNAP_PYTHON_OBJECTS live blocks.
py=$(py_interpreters | head -1 | cut -d' ' -f2)
if [ -n "$py" ]; then
  HEAPSNAP_PYTHON_OBJECTS=1000 py_run "$py" "$T/bound" $script "$T/bound.hsnap"
  if "$HEAPSNAP" top "$T/bound.hsnap" --key type >/dev/null 2>&1; then
    t_fail python_types_bounded_by_live_blocks "types read in a snapshot of more than 1000 blocks"
  elif "$HEAPSNAP" top "$T/bound.hsnap" -n 1 | grep -q 'size='; then t_pass python_types_bounded_by_live_blocks
  else t_fail python_types_bounded_by_live_blocks "no snapshot"; fi
  HEAPSNAP_PYTHON=off py_run "$py" "$T/off" $script "$T/off.hsnap"
  "$HEAPSNAP" top "$T/off.hsnap" --key type >"$T/off.out" 2>"$T/off.err"
  st=$?
  if [ "$st" = 2 ] && [ "$(wc -l <"$T/off.err")" = 1 ] && grep -q 'needs a snapshot of a Python process' "$T/off.err"; then
    t_pass python_types_refused_without_objects
  else t_fail python_types_refused_without_objects "exit $st: $(head -c 200 "$T/off.err")"; fi
fi
