# test_python_fields.sh - an object of a type the collector does not know
# (no Py_TPFLAGS_HAVE_GC) owns the native blocks its fields hold at their
# start (pyg_fields_owned): tests/shim/python/fields.py's 20 decimal.Decimal
# hold 5000-digit coefficients in blocks of their own; `top --retained
# --key type` charges decimal.Decimal what sys.getsizeof() counts of them
# (objects and coefficients), within 2%, and so does `top --owner`, where
# Decimal is no gc type (3.10-3.12) and where it is one (3.13: before,
# the graph's walk retained it, and `--owner` left its coefficients
# "[no object]").  Without, Decimal retained its 104-byte objects only.
# An object of a gc type whose blocks the graph does not follow owns them
# too: 10 array.array('d') of 20000 items weigh what sys.getsizeof()
# says with `top --owner --key type` (before: their 80-byte objects,
# the buffers "[no object]").  The program keeps 40 blocks of no bytes
# too: the fields seen by the graph's walk are kept whatever their number
# (HEAPSNAP_VERBOSE=1 counts no object whose fields were read again; with
# more than 16, every such object's fields were).  On every CPython
# 3.10-3.15 found (a SKIP line names each one absent).
. tests/shim/python/lib_py.sh

script=tests/shim/python/fields.py
for v in $(py_versions_missing); do
  t_skip "python_fields_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# grp FILE [TYPE]: the bytes (retained_bytes when --retained) of TYPE
# (decimal.Decimal) in FILE's JSON
grp() {
  python3 -c 'import json, sys
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x["key"] == sys.argv[2]]
print(g[0].get("retained_bytes", g[0]["bytes"]) if g else 0)' "$1" "${2:-decimal.Decimal}" 2>/dev/null
}
# near GOT WANT: GOT within 2% of WANT
near() { [ -n "$1" ] && [ "$2" -gt 40000 ] && [ $(($1 * 100)) -ge $(($2 * 98)) ] && [ $(($1 * 100)) -le $(($2 * 102)) ]; }

while read -r tag py; do
  s=$T/f-$tag.hsnap
  if ! HEAPSNAP_VERBOSE=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_fields_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  again=$(grep -o 'objects whose fields were read again: [0-9]*' "$T/run-$tag.err" | awk '{print $NF}' | sort -u | tr '\n' ' ')
  if [ "$again" = "0 " ]; then t_pass "python_fields_kept_with_empty_blocks_$tag"
  else t_fail "python_fields_kept_with_empty_blocks_$tag" "objects read again: '${again:-no count}'"; fi
  read -r want gctype arrays <"$T/run-$tag.out"
  "$HEAPSNAP" top "$s" --retained --key type -n 0 --format json >"$T/r-$tag.json" 2>"$T/r-$tag.err"
  got=$(grp "$T/r-$tag.json")
  if near "$got" "$want"; then t_pass "python_fields_nongc_object_retains_its_blocks_$tag"
  else t_fail "python_fields_nongc_object_retains_its_blocks_$tag" "Decimal retains ${got:-?}, getsizeof ${want:-?} $(head -c 200 "$T/r-$tag.err")"; fi
  "$HEAPSNAP" top "$s" --owner --key type -n 0 --format json >"$T/o-$tag.json" 2>"$T/o-$tag.err"
  got=$(grp "$T/o-$tag.json")
  kind=$([ "$gctype" = 1 ] && echo gc_object || echo nongc_object)
  if near "$got" "$want"; then t_pass "python_fields_${kind}_owns_its_blocks_$tag"
  else t_fail "python_fields_${kind}_owns_its_blocks_$tag" "Decimal with --owner ${got:-?}, getsizeof ${want:-?} $(head -c 200 "$T/o-$tag.err")"; fi
  got=$(grp "$T/o-$tag.json" array.array)
  if near "$got" "$arrays"; then t_pass "python_fields_gc_object_owns_its_buffer_$tag"
  else t_fail "python_fields_gc_object_owns_its_buffer_$tag" "array.array with --owner ${got:-?}, getsizeof ${arrays:-?}"; fi
done < <(py_interpreters)
