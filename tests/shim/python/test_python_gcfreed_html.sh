# test_python_gcfreed_html.sh - the HTML report's table of what CPython's
# cycle collector freed per site (top_collected, from PYGCFREED): a program
# that drops 300 pairs of objects pointing at each other and collects them
# has 600 at their line in the data, and the table Chromium draws says so.
# One interpreter (the others' counts: test_python_gcfreed.sh).
. tests/shim/python/lib_py.sh

cat >"$T/pairs.py" <<'PY'
import gc
class Node:
    __slots__ = ("other",)
for i in range(300):
    a, b = Node(), Node()  # PAIR
    a.other, b.other = b, a
del a, b
gc.collect()
PY
pair=$(py_line "$T/pairs.py" '# PAIR')
read -r tag py < <(py_interpreters | head -1)
if [ -z "$py" ]; then
  t_skip python_gcfreed_html_table_data "no CPython 3.10-3.13 here"
  exit 0
fi
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/p.hsnap" "$py" "$T/pairs.py" 2>"$T/p.err"
if "$HEAPSNAP" html -o "$T/p.html" "$T/p.hsnap" 2>"$T/h.err"; then
  got=$(python3 - "$T/p.html" "pairs.py:$pair" <<'PY'
import json, re, sys
m = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', open(sys.argv[1]).read(), re.S)
rows = json.loads(m.group(1))["top_collected"] or []
print(sum(r["count"] for r in rows if r["site"].endswith(sys.argv[2])))
PY
)
  if [ "$got" = 600 ]; then t_pass python_gcfreed_html_table_data
  else t_fail python_gcfreed_html_table_data "pairs.py:$pair: $got in top_collected, want 600"; fi
  if command -v chromium >/dev/null; then
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$T/chr" --dump-dom "file://$T/p.html" >"$T/p.dom" 2>/dev/null
    if grep -q 'id="collected"><h2>Freed by the cycle collector' "$T/p.dom" &&
       grep -qE "<td>[^<]*pairs.py:$pair</td><td class=\"num\">600</td>" "$T/p.dom"
    then t_pass python_gcfreed_html_table_drawn
    else t_fail python_gcfreed_html_table_drawn "no collector table with 600 at pairs.py:$pair in the DOM"; fi
  else t_skip python_gcfreed_html_table_drawn "chromium is not installed"; fi
else t_fail python_gcfreed_html_table_data "$(head -c 300 "$T/h.err")"; fi
