# test_python_prewrap.sh - an object CPython's free list hands out again,
# made before the shim wrapped the allocator domains, is an object of the
# graph (pyw_preseed books the free lists' dead objects as blocks at the
# wrap; pyseed.c).  tests/shim/python/prewrap.py's module list KEEP holds
# 100 lists of 1000 items, which take every list of the free list: each
# of the 100000 items is held by the path gc.get_referrers builds
# ("module __main__, global KEEP (list) -> [...] (list) -> [...]
# (__main__.Item)"), the lists own their item arrays (`top --owner`: the
# lists' bytes exceed their own objects' by at least the arrays', as
# sys.getsizeof counts them) and retain the items (`top --retained`: list
# retains the arrays and what the Items retain, within 1%).  Before, a
# list made before the wrap was no object: its items were held
# "outside", its array was "[no object]" and retained by nothing.  On every CPython 3.10-3.13
# found (a SKIP line names each one absent).
. tests/shim/python/lib_py.sh

script=tests/shim/python/prewrap.py
for v in $(py_versions_missing); do
  t_skip "python_prewrap_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# field JSON TYPE FIELD: FIELD of TYPE's group in top's JSON (0: none).
field() {
  python3 -c 'import json, sys
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x["key"] == sys.argv[2]]
print(g[0][sys.argv[3]] if g else 0)' "$@"
}

while read -r tag py; do
  s=$T/p-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_prewrap_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  path=$(sed -n 1p "$T/run-$tag.out"); array=$(sed -n 2p "$T/run-$tag.out")
  "$HEAPSNAP" top "$s" --retainers --key type -n 0 >"$T/r-$tag.txt" 2>"$T/r-$tag.err"
  items=$(awk '/^  __main__.Item: / { on = 1; next } /^  [^ ]/ { on = 0 } on' "$T/r-$tag.txt")
  if [ "$path" = "module __main__, global KEEP (list) -> [...] (list) -> [...] (__main__.Item)" ] &&
     grep -Fqx "    100000 objects via $path" <<<"$items"; then
    t_pass "python_prewrap_freelist_list_holds_its_items_as_gc_get_referrers_$tag"
  else t_fail "python_prewrap_freelist_list_holds_its_items_as_gc_get_referrers_$tag" "want '$path': $(tr '\n' '|' <<<"$items" | head -c 400)"; fi
  "$HEAPSNAP" top "$s" --owner --key type -n 0 --format json >"$T/o-$tag.json" 2>"$T/o-$tag.err"
  "$HEAPSNAP" top "$s" --key type -n 0 --format json >"$T/l-$tag.json" 2>"$T/l-$tag.err"
  owned=$(field "$T/o-$tag.json" list bytes); own=$(field "$T/l-$tag.json" list bytes)
  if [ -n "$array" ] && [ "$array" -gt 500000 ] && [ $((owned - own)) -ge "$array" ]; then
    t_pass "python_prewrap_freelist_list_owns_its_item_array_$tag"
  else t_fail "python_prewrap_freelist_list_owns_its_item_array_$tag" "lists own $((owned - own)) B beyond their objects, the arrays are $array B"; fi
  "$HEAPSNAP" top "$s" --retained --key type -n 0 --format json >"$T/t-$tag.json" 2>"$T/t-$tag.err"
  lr=$(field "$T/t-$tag.json" list retained_bytes); ir=$(field "$T/t-$tag.json" __main__.Item retained_bytes)
  if [ "$ir" -gt 0 ] && [ "$lr" -ge $((ir * 99 / 100 + array)) ]; then
    t_pass "python_prewrap_freelist_list_retains_its_items_$tag"
  else t_fail "python_prewrap_freelist_list_retains_its_items_$tag" "list retains $lr B, the Items $ir B and the arrays $array B"; fi
done < <(py_interpreters)
