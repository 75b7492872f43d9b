# test_python_types_merge.sh - merge and html carry the objects' types:
# two runs of tests/shim/python/cycles.py (garbage only the collector
# frees, and Node objects kept) merged: per type, the merged `top --key
# type` (and with --owner) is the sum of the inputs', and so is the
# garbage (`top --garbage`): merge keeps PYTYPES, its graph and PYOWNED.
# `html` carries a by-type table: its data and the page Chromium renders
# count Node as `top --key type` does.  On one CPython.
. tests/shim/python/lib_py.sh
. tests/report/html/lib_html.sh

read -r tag py < <(py_interpreters)
if [ -z "${py:-}" ]; then
  t_skip python_types_merge "no CPython 3.10-3.13 here"
  return 0
fi
# count FILE KEY: the count of top's line for KEY in FILE (0: none).
count() {
  awk -v k="$2: size=" 'index($0, k) == 1 { sub(/.*count=/, ""); sub(/[ ,].*/, ""); print; f = 1 }
                       END { if (!f) print 0 }' "$1"
}
for r in c d; do
  if ! py_run "$py" "$T/run-$r" tests/shim/python/cycles.py "$T/$r.hsnap" || [ ! -s "$T/$r.hsnap" ]; then
    t_fail "python_types_merge_run_$r" "$(tail -c 300 "$T/run-$r.err")"; return 0
  fi
done

# merge: every type's size and count is the sum of the inputs'.
if "$HEAPSNAP" merge -o "$T/m.hsnap" "$T/c.hsnap" "$T/d.hsnap" 2>"$T/m.err"; then
  for f in c d m; do
    "$HEAPSNAP" top "$T/$f.hsnap" --key type -n 0 --format json >"$T/$f.json" 2>>"$T/m.err"
    "$HEAPSNAP" top "$T/$f.hsnap" --key type --owner -n 0 --format json >"$T/$f.o.json" 2>>"$T/m.err"
    "$HEAPSNAP" top "$T/$f.hsnap" --garbage --key type -n 0 >"$T/$f.gar" 2>>"$T/m.err"
  done
  for o in "" .o; do
    got=$(python3 - "$T/c$o.json" "$T/d$o.json" "$T/m$o.json" "$T/m.json" <<'PY'
import json, sys
def types(p):
    return {g["type"]: (g["bytes"], g["blocks"]) for g in json.load(open(p))["groups"]}
a, b, m, plain = (types(p) for p in sys.argv[1:])
want = {t: tuple(x + y for x, y in zip(a.get(t, (0, 0)), b.get(t, (0, 0)))) for t in set(a) | set(b)}
bad = [t for t in want if want[t] != m.get(t)] + [t for t in m if t not in want]
print("ok" if not bad and len(m) > 10 else "differ: %s" % bad[:5],
      m.get("__main__.Node", (0, 0))[1], m["list"][0] > plain["list"][0])
PY
)
    name=python_merge_keeps_types; want="ok 220 False"
    [ "$o" = .o ] && name=python_merge_keeps_owners want="ok 220 True"
    if [ "$got" = "$want" ]; then t_pass $name
    else t_fail $name "$got, want $want $(head -c 200 "$T/m.err")"; fi
  done
  c=$(count "$T/c.gar" __main__.Node) d=$(count "$T/d.gar" __main__.Node) m=$(count "$T/m.gar" __main__.Node)
  if [ "$c" = 100 ] && [ "$m" = $((c + d)) ]; then t_pass python_merge_keeps_garbage
  else t_fail python_merge_keeps_garbage "inputs $c + $d, merged $m: $(head -c 200 "$T/m.err")"; fi
else t_fail python_merge_keeps_types "$(head -c 300 "$T/m.err")"; fi

# html: the data's by-type table, and the page that draws it.
"$HEAPSNAP" top "$T/c.hsnap" --key type -n 0 >"$T/c.txt" 2>/dev/null
n=$(count "$T/c.txt" __main__.Node)
if "$HEAPSNAP" html -o "$T/c.html" "$T/c.hsnap" 2>"$T/h.err"; then
  got=$(html_data "$T/c.html" '{r["type"]: r["count"] for r in d["top_types"] or []}.get("__main__.Node")')
  if [ "$n" -ge 110 ] && [ "$got" = "$n" ]; then t_pass python_html_types_table_data
  else t_fail python_html_types_table_data "html $got, top $n"; fi
  html_drawn python_html_types_table_drawn "$T/c.html" "no by-type table with Node $n in the DOM" \
    'id="types"><h2>Python objects by type' \
    "<td>__main__.Node</td><td class=\"num\">[^<]*</td><td class=\"num\">$n</td>"
else t_fail python_html_types_table_data "$(head -c 300 "$T/h.err")"; fi
