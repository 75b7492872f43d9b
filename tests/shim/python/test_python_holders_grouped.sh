# test_python_holders_grouped.sh - `leaks --why SITE` groups the holders'
# paths that differ only by a key or an index (pyholders_print): the 40
# Items of holders_many.py, in four lists of a module's dict, are one line
# "40 objects via module __main__, global CACHE (dict) -> [...] (list) ->
# [...] (__main__.Item)" with three of their paths as examples, where they
# were forty "1 object" lines (eight shown, the rest "more"); a site whose
# objects take a few paths (the four lists, the Item held by a global)
# still lists each path as it is.  The same in JSON (heapsnap-leaks-why).
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
