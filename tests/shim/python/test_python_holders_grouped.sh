# test_python_holders_grouped.sh - `leaks --why SITE` groups the holders'
# paths that differ only by a key or an index (pyholders_print): the 40
# Items of holders_many.py, in four lists of a module's dict, are one line
# "40 objects via module __main__, global CACHE (dict) -> [...] (list) ->
# [...] (__main__.Item)" with three of their paths as examples, where they
# were forty "1 object" lines (eight shown, the rest "more"); a site whose
# objects take a few paths (the four lists, the Item held by a global)
# still lists each path as it is.  The same in JSON (heapsnap-leaks-why).
# `top --retainers --key type` groups a type's paths the same way (the
# one grouping, pyholders.c; before: five "1 object" paths, then "35
# more"), in JSON too (heapsnap-top-retainers: grouped, examples); both
# texts against golden files (tests/golden/holders_grouped_*.txt), the
# examples' keys and indices written N (which three come first follows
# the objects' addresses).  The biggest shapes are the ones shown, however
# many smaller ones come first (holders_shapes.py).
. tests/shim/python/lib_py.sh

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(py_interpreters | head -1 | cut -d' ' -f2)
if [ -z "$PY" ]; then t_skip python_holders_grouped "no CPython 3.10-3.13 here"; return 0; fi
script=tests/shim/python/holders_many.py
l_many=$(py_line $script MARK_MANY) l_one=$(py_line $script MARK_ONE)
s=$T/many.hsnap
if ! HEAPSNAP_LEAKS=1 py_run "$PY" "$T/run" $script "$s" || [ ! -s "$s" ]; then
  t_fail python_holders_grouped_run "$(tail -c 300 "$T/run.err")"; return 0
fi
"$HEAPSNAP" leaks --why "holders_many.py:$l_many" "$s" >"$T/many.txt" 2>"$T/many.err"
shape='module __main__, global CACHE (dict) -> [...] (list) -> [...] (__main__.Item)'
ex=$(grep -cE "^      (e\.g\.|    ) module __main__, global CACHE \(dict\) -> \['user[0-3]'\] \(list\) -> \[[0-9]\] \(__main__\.Item\)$" "$T/many.txt")
if grep -Fqx "  40 objects via $shape" "$T/many.txt" && [ "$ex" = 3 ] &&
   [ "$(grep -c '^      e\.g\. ' "$T/many.txt")" = 1 ] &&
   ! grep -q '__main__\.Item)$' <(grep '^  1 object' "$T/many.txt") &&
   ! grep -q 'more object' "$T/many.txt"
then t_pass leaks_why_groups_paths_that_differ_by_index
else t_fail leaks_why_groups_paths_that_differ_by_index "$ex examples: $(head -c 600 "$T/many.txt" | tr '\n' '|')"; fi
# a few paths of one shape (the four lists) stay one line each, as they are
if [ "$(grep -cE "^  1 object: module __main__, global CACHE \(dict\) -> \['user[0-3]'\] \(list\)$" "$T/many.txt")" = 4 ]
then t_pass leaks_why_few_paths_listed_as_they_are
else t_fail leaks_why_few_paths_listed_as_they_are "$(head -c 600 "$T/many.txt" | tr '\n' '|')"; fi
"$HEAPSNAP" leaks --why "holders_many.py:$l_one" "$s" >"$T/one.txt" 2>&1
if grep -Fqx "  1 object: module __main__, global ONE (__main__.Item)" "$T/one.txt" &&
   [ "$(grep -c '^  [0-9]' "$T/one.txt")" = 1 ]
then t_pass leaks_why_single_path_as_it_is
else t_fail leaks_why_single_path_as_it_is "$(head -c 400 "$T/one.txt" | tr '\n' '|')"; fi
# a Python process's arenas are registered roots too: the label says so,
# and the objects' holders are the objects, not an arena (a word inside an
# object is the object's: model.c's scan_root); breadth first, a few
# blocks below their root
# (before: "registered roots: 205 refs, first to reach 92 blocks", every one)
if ! grep -q '^   registered roots:' "$T/many.txt" &&
   sed -n '/kept alive by/{n;p;q}' "$T/many.txt" | grep -q '^   blocks from .*holders_many\.py:' &&
   ! grep -Eq '[0-9]{3,} blocks below' "$T/many.txt"
then t_pass leaks_why_objects_hold_objects
else t_fail leaks_why_objects_hold_objects "$(sed -n '/kept alive by/,$p' "$T/many.txt" | head -8 | tr '\n' '|')"; fi
"$HEAPSNAP" leaks --why "holders_many.py:$l_many" --format json "$s" >"$T/many.json" 2>/dev/null
got=$(python3 - "$T/many.json" "$shape" <<'EOF2'
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "heapsnap-leaks-why" and d["site"].startswith("holders_many.py:")
h = d["python_holders"][0]
g = [p for p in h["paths"] if p["grouped"]]
assert len(g) == 1 and g[0]["path"] == sys.argv[2] and g[0]["objects"] == 40, g
assert len(g[0]["examples"]) == 3 and len(set(g[0]["examples"])) == 3
assert all(re.fullmatch(r"module __main__, global CACHE \(dict\) -> \['user[0-3]'\] \(list\) -> \[\d\] \(__main__\.Item\)", e) for e in g[0]["examples"])
single = [p for p in h["paths"] if not p["grouped"]]
assert len(single) == 4 and all(p["objects"] == 1 and "examples" not in p for p in single)
assert d["retainers"] and "holders_many.py:" in d["retainers"][0]["site"]
print("ok")
EOF2
)
[ "$got" = ok ] && t_pass leaks_why_json_groups_with_examples ||
  t_fail leaks_why_json_groups_with_examples "$(head -c 600 "$T/many.json" | tr '\n' ' ')"

"$HEAPSNAP" top --retainers --key type -n 0 "$s" >"$T/top.txt" 2>/dev/null
awk '/^  __main__\.Item: / { on = 1; print; next } /^  [^ ]/ { on = 0 } on' "$T/top.txt" >"$T/item.txt"
if grep -Fqx "    40 objects via $shape" "$T/item.txt" &&
   [ "$(grep -cE "^        (e\.g\.|    ) module __main__, global CACHE \(dict\) -> \['user[0-3]'\] \(list\) -> \[[0-9]\] \(__main__\.Item\)$" "$T/item.txt")" = 3 ] &&
   grep -Fqx "    1 object: module __main__, global ONE (__main__.Item)" "$T/item.txt" &&
   ! grep -q 'more object' "$T/item.txt"
then t_pass top_retainers_groups_paths_as_leaks_why
else t_fail top_retainers_groups_paths_as_leaks_why "$(head -c 600 "$T/item.txt" | tr '\n' '|')"; fi
"$HEAPSNAP" top --retainers --key type -n 0 --format json "$s" >"$T/top.json" 2>/dev/null
got=$(python3 - "$T/top.json" "$shape" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "heapsnap-top-retainers"
t = [x for x in d["python_retainers"] if x["type"] == "__main__.Item"][0]
g = [p for p in t["paths"] if p["grouped"]]
assert len(g) == 1 and g[0]["path"] == sys.argv[2] and g[0]["objects"] == 40 and len(g[0]["examples"]) == 3, g
assert [p["path"] for p in t["paths"] if not p["grouped"]] == ["module __main__, global ONE (__main__.Item)"]
assert t["more_objects"] == 0
print("ok")
EOF2
)
[ "$got" = ok ] && t_pass top_retainers_json_groups_with_examples ||
  t_fail top_retainers_json_groups_with_examples "$got $(head -c 300 "$T/top.json" | tr '\n' ' ')"
# golden: the examples' keys and indices as N
norm() { sed -E "s/\['user[0-9]+'\]/['userN']/g; s/\[[0-9]+\]/[N]/g; s/holders_many\.py:[0-9]+/holders_many.py:L/" "$1"; }
sed -n '/^Python objects at/,/^$/p' "$T/many.txt" >"$T/why.raw"
norm "$T/why.raw" >"$T/why.txt"
t_golden leaks_why_grouped_golden tests/golden/holders_grouped_leaks_why.txt "$T/why.txt"
norm "$T/item.txt" >"$T/item.norm"
t_golden top_retainers_grouped_golden tests/golden/holders_grouped_top_retainers.txt "$T/item.norm"

# the biggest shape is shown first even when the objects met first (the
# lowest addresses) take more shapes than are shown: every shape is
# counted before the shown ones are picked (pyhold_collect); before, the
# first eight met were kept and the forty went to "more"
s2=$T/shapes.hsnap
if ! py_run "$PY" "$T/shapes" tests/shim/python/holders_shapes.py "$s2" || [ ! -s "$s2" ]; then
  t_fail top_retainers_biggest_shape_first "$(tail -c 300 "$T/shapes.err")"
else
  "$HEAPSNAP" top --retainers --key type -n 0 "$s2" 2>/dev/null |
    awk '/^  __main__\.Shape: / { on = 1; print; next } /^  [^ ]/ { on = 0 } on' >"$T/shapes.txt"
  if [ "$(sed -n 2p "$T/shapes.txt")" = "    40 objects via module __main__, global MANY (list) -> [...] (__main__.Shape)" ] &&
     [ "$(grep -cE '^    1 object: module __main__, global G[0-9]+ \(__main__\.Shape\)$' "$T/shapes.txt")" = 7 ] &&
     grep -Fqx "    5 more objects by other paths" "$T/shapes.txt"
  then t_pass top_retainers_biggest_shape_first
  else t_fail top_retainers_biggest_shape_first "$(head -c 600 "$T/shapes.txt" | tr '\n' '|')"; fi
  # a key's control characters, NUL, backslash and quote escaped as repr escapes them
  "$HEAPSNAP" top --retainers --key type -n 0 "$s2" >"$T/odd.txt" 2>/dev/null
  if grep -Fq "global ODD (dict) -> ['a\\nb\\x1b[2J\\\\\\''] (__main__.Odd)" "$T/odd.txt" &&
     grep -Fq "global ODD (dict) -> ['\\x00z'] (__main__.Odd)" "$T/odd.txt" &&
     ! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$T/odd.txt"
  then t_pass top_retainers_keys_escaped
  else t_fail top_retainers_keys_escaped "$(grep ODD "$T/odd.txt" | head -3 | cat -v | tr '\n' '|')"; fi
fi

# a global's list from the free list: its items' roots carry their index
py_interpreters | while read -r tag fl; do
  f=$T/freelist.$tag.hsnap
  if ! py_run "$fl" "$T/fl.$tag" tests/shim/python/holders_freelist.py "$f" || [ ! -s "$f" ]; then
    t_fail "top_retainers_groups_a_free_lists_items_$tag" "$(tail -c 300 "$T/fl.$tag.err")"; continue
  fi
  "$HEAPSNAP" top --retainers --key type -n 0 "$f" 2>/dev/null |
    awk '/^  __main__\.Item: / { on = 1; print; next } /^  [^ ]/ { on = 0 } on' >"$T/fl.$tag.txt"
  if grep -Fqx "    40 objects via module __main__, global KEEP (list) -> [...] (__main__.Item)" "$T/fl.$tag.txt" &&
     ! grep -q 'more object\|^    1 object' "$T/fl.$tag.txt"
  then t_pass "top_retainers_groups_a_free_lists_items_$tag"
  else t_fail "top_retainers_groups_a_free_lists_items_$tag" "$(head -c 400 "$T/fl.$tag.txt" | tr '\n' '|')"; fi
done
py_versions_missing | while read -r v; do
  t_skip "top_retainers_groups_a_free_lists_items_$v" "no CPython $v here"
done
