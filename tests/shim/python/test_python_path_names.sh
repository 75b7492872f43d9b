# test_python_path_names.sh - the holders' paths name the fields of the
# standard library's C types that no member names (pymem_ctype_field): an
# lru_cache's result by "_lru_cache_wrapper.cache (dict) -> ['k']", an
# ABC's weak sets by "_abc_data._abc_registry" and its two caches; and a
# dict's int keys as gc.get_referrers' path writes them, "[-5]" (an int of
# more than 60 bits stays "[...]"), on every supported CPython here
# (pathnames.py proves the fields' places first).
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_path_names_${v}" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
while read -r tag py; do
  s=$T/c-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" tests/shim/python/pathnames.py "$s" || [ ! -s "$s" ] ||
     ! grep -q "fields where read" "$T/run-$tag.out"; then
    t_fail "python_paths_name_c_fields_and_int_keys_$tag" "$(tail -c 300 "$T/run-$tag.err")"
    continue
  fi
  "$HEAPSNAP" top --retainers --key type -n 0 --format json "$s" >"$T/j-$tag.json" 2>"$T/j-$tag.err"
  if python3 - "$T/j-$tag.json" >"$T/check-$tag.out" 2>&1 <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
paths = {t["type"]: [p["path"] for p in t["paths"]] for t in doc["python_retainers"]}
want = ("module __main__, global load (functools._lru_cache_wrapper) -> "
        "_lru_cache_wrapper.cache (dict) -> ['k'] (__main__.Cached)")
assert paths.get("__main__.Cached") == [want], paths.get("__main__.Cached")
sets = [p for p in paths["set"] if "(_abc._abc_data) -> " in p]
named = [p for p in sets if re.search(
    r"\(_abc\._abc_data\) -> _abc_data\._abc_(registry|cache|negative_cache) \(set\)$", p)]
assert sets and named == sets, sets
for t, k in (("Zero", "0"), ("Negative", "-5"), ("Big", str(2**59 + 3)), ("Huge", "...")):
    want = "module __main__, global BY_ID (dict) -> [%s] (__main__.%s)" % (k, t)
    assert paths.get("__main__." + t) == [want], paths.get("__main__." + t)
PY
  then t_pass "python_paths_name_c_fields_and_int_keys_$tag"
  else t_fail "python_paths_name_c_fields_and_int_keys_$tag" "$(head -c 400 "$T/check-$tag.out")"; fi
done < <(py_interpreters)
