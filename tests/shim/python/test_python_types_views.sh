# test_python_types_views.sh - the objects' types beyond top and diff:
# tests/shim/python/growtypes.py adds 100 Node and 100 lists of 100 ints
# at each of three snapshots and prints gc.get_objects()' count of Node
# and sys.getsizeof's total over the lists.  `top --owner` charges each
# list's item array to the list at its line: the line's lists then weigh
# what sys.getsizeof says, and still count 300 (the objects).
# `trend --key type` grows Node from 100 to what the gc counts, with ages
# per type, `--key lineno,type` in JSON puts the lists at their line;
# `merge` keeps the types (the merged table is the inputs' sum, per type)
# and the collector-only garbage of tests/shim/python/cycles.py; `html`
# carries a by-type table (its data, and the page Chromium renders).  On
# one CPython (the others are test_python_types.sh's).
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

for r in a b; do
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

# merge: every type's size and count is the sum of the inputs'.
if "$HEAPSNAP" merge -o "$T/m.hsnap" "$T/a.2" "$T/b.2" 2>"$T/m.err"; then
  for f in a.2 b.2 m.hsnap; do
    "$HEAPSNAP" top "$T/$f" --key type -n 0 --format json >"$T/$f.json" 2>>"$T/m.err"
    "$HEAPSNAP" top "$T/$f" --key type --owner -n 0 --format json >"$T/$f.o.json" 2>>"$T/m.err"
  done
  got=$(python3 - "$T/a.2.json" "$T/b.2.json" "$T/m.hsnap.json" <<'PY'
import json, sys
def types(p):
    return {g["type"]: (g["bytes"], g["blocks"]) for g in json.load(open(p))["groups"]}
a, b, m = (types(p) for p in sys.argv[1:])
want = {t: tuple(x + y for x, y in zip(a.get(t, (0, 0)), b.get(t, (0, 0)))) for t in set(a) | set(b)}
bad = [t for t in want if want[t] != m.get(t)] + [t for t in m if t not in want]
print("ok" if not bad and len(m) > 10 else "differ: %s" % bad[:5], m.get("__main__.Node", (0, 0))[1])
PY
)
  if [ "$got" = "ok 600" ]; then t_pass python_merge_keeps_types
  else t_fail python_merge_keeps_types "$got $(head -c 200 "$T/m.err")"; fi
  got=$(python3 - "$T/a.2.o.json" "$T/b.2.o.json" "$T/m.hsnap.o.json" "$T/m.hsnap.json" <<'PY'
import json, sys
def types(p):
    return {g["type"]: (g["bytes"], g["blocks"]) for g in json.load(open(p))["groups"]}
a, b, m, plain = (types(p) for p in sys.argv[1:])
want = {t: tuple(x + y for x, y in zip(a.get(t, (0, 0)), b.get(t, (0, 0)))) for t in set(a) | set(b)}
bad = [t for t in want if want[t] != m.get(t)] + [t for t in m if t not in want]
print("ok" if not bad and m["list"][0] > plain["list"][0] else "differ: %s" % bad[:5])
PY
)
  if [ "$got" = "ok" ]; then t_pass python_merge_keeps_owners
  else t_fail python_merge_keeps_owners "$got $(head -c 200 "$T/m.err")"; fi
else t_fail python_merge_keeps_types "$(head -c 300 "$T/m.err")"; fi

# merge keeps the graph: the collector-only garbage of two processes.
for r in c d; do py_run "$py" "$T/run-$r" tests/shim/python/cycles.py "$T/$r.hsnap"; done
"$HEAPSNAP" merge -o "$T/mc.hsnap" "$T/c.hsnap" "$T/d.hsnap" 2>"$T/mc.err"
for f in c d mc; do
  "$HEAPSNAP" top "$T/$f.hsnap" --garbage --key type -n 0 >"$T/$f.gar" 2>>"$T/mc.err"
done
c=$(count "$T/c.gar" __main__.Node) d=$(count "$T/d.gar" __main__.Node) mc=$(count "$T/mc.gar" __main__.Node)
if [ "$c" -ge 100 ] && [ "$mc" = $((c + d)) ]; then t_pass python_merge_keeps_garbage
else t_fail python_merge_keeps_garbage "inputs $c + $d, merged $mc: $(head -c 200 "$T/mc.err")"; fi

# html: the data's by-type table, and the page that draws it.
if "$HEAPSNAP" html -o "$T/a.html" "$T/a.0" "$T/a.2" 2>"$T/h.err"; then
  got=$(python3 - "$T/a.html" <<'PY'
import json, re, sys
m = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', open(sys.argv[1]).read(), re.S)
t = {r["type"]: r["count"] for r in json.loads(m.group(1))["top_types"] or []}
print(t.get("__main__.Node"), t.get("list", 0) >= 300)
PY
)
  if [ "$got" = "300 True" ]; then t_pass python_html_types_table_data
  else t_fail python_html_types_table_data "$got"; fi
  if command -v chromium >/dev/null; then
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$T/chr" --dump-dom "file://$T/a.html" >"$T/a.dom" 2>/dev/null
    if grep -q 'id="types"><h2>Python objects by type' "$T/a.dom" &&
       grep -qE '<td>__main__.Node</td><td class="num">[^<]*</td><td class="num">300</td>' "$T/a.dom"
    then t_pass python_html_types_table_drawn
    else t_fail python_html_types_table_drawn "no by-type table with Node 300 in the DOM"; fi
  else t_skip python_html_types_table_drawn "chromium is not installed"; fi
else t_fail python_html_types_table_data "$(head -c 300 "$T/h.err")"; fi
