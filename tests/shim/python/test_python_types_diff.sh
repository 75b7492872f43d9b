# test_python_types_diff.sh - issue 46 item 1's "diff carries the type":
# tests/shim/python/typesgrow.py makes 500 Order objects more between two
# snapshots (the gc's counts printed: 500, then 1000); `diff --key type`
# reads __main__.Order's count and its change as the gc counts them, `diff
# --key lineno,type` charges them to their line, and the JSON's group
# carries "type".  On every CPython 3.10-3.15 found (--key type reads no
# symbols: quick on each); a SKIP line names each one absent.  3.14's
# ctypes leaves a dead PyCFunction on its free list whose m_self, the
# class, sits where an instance's ob_type would: the first snapshot read
# one Order more (501) before.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_types_diff_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
script=tests/shim/python/typesgrow.py
line=$(py_line $script MARK_ORDER)
while read -r tag py; do
  s=$T/g-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s.0" ] || [ ! -s "$s.1" ] ||
     [ "$(tr '\n' ' ' <"$T/run-$tag.out")" != "500 1000 " ]; then
    t_fail "python_types_diff_run_$tag" "$(cat "$T/run-$tag.out" | tr '\n' ' ') $(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  "$HEAPSNAP" diff "$s.0" "$s.1" --key lineno,type -n 0 >"$T/l-$tag.txt" 2>&1
  if grep -Eq "^(.*/)?typesgrow\.py:$line \(__main__\.Order\): size=.*, count=1000 \(\+500\), " "$T/l-$tag.txt"; then
    t_pass "python_types_diff_key_lineno_type_$tag"
  else t_fail "python_types_diff_key_lineno_type_$tag" "$(grep -i order "$T/l-$tag.txt" | head -3)"; fi
  "$HEAPSNAP" diff "$s.0" "$s.1" --key type -n 0 >"$T/t-$tag.txt" 2>"$T/t-$tag.err"
  if grep -Eq '^__main__\.Order: size=[0-9.]+ KiB \(\+[0-9.]+ KiB\), count=1000 \(\+500\), ' "$T/t-$tag.txt"; then
    t_pass "python_types_diff_key_type_counts_as_gc_$tag"
  else t_fail "python_types_diff_key_type_counts_as_gc_$tag" "$(grep -i order "$T/t-$tag.txt") $(head -c 200 "$T/t-$tag.err")"; fi
  "$HEAPSNAP" diff "$s.0" "$s.1" --key type -n 0 --format json >"$T/j-$tag.json" 2>&1
  if python3 - "$T/j-$tag.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "heapsnap-diff" and doc["key"] == "type", (doc["schema"], doc["key"])
g = [g for g in doc["groups"] if g.get("type") == "__main__.Order"]
assert len(g) == 1 and g[0]["blocks"] == 1000 and g[0]["blocks_diff"] == 500, g
PY
  then t_pass "python_types_diff_json_carries_type_$tag"
  else t_fail "python_types_diff_json_carries_type_$tag" "$(head -c 300 "$T/j-$tag.json")"; fi
done < <(py_interpreters)
