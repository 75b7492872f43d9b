# test_python_gcfreed_html.sh - the HTML report's table of what CPython's
# cycle collector freed per site (top_collected, from PYGCFREED): gcpairs.py
# drops 300 pairs of objects pointing at each other and collects them: 600
# at their line in the data, and the table Chromium draws says so.
# One interpreter (the others' counts: test_python_gcfreed.sh).
. tests/shim/python/lib_py.sh
. tests/shim/python/lib_gcfreed.sh
. tests/report/html/lib_html.sh

read -r tag py < <(py_gc_interpreters | head -1)
if [ -z "$py" ]; then
  t_skip python_gcfreed_html_table_data "no CPython 3.10-3.13 here"
  exit 0
fi
gc_pairs_run "$py" "$T/p.hsnap"
if "$HEAPSNAP" html -o "$T/p.html" "$T/p.hsnap" 2>"$T/h.err"; then
  got=$(html_data "$T/p.html" 'sum(r["count"] for r in d["top_collected"] or [] if r["site"].endswith(sys.argv[2]))' "gcpairs.py:$GC_PAIR_LINE")
  if [ "$got" = 600 ]; then t_pass python_gcfreed_html_table_data
  else t_fail python_gcfreed_html_table_data "gcpairs.py:$GC_PAIR_LINE: $got in top_collected, want 600"; fi
  html_drawn python_gcfreed_html_table_drawn "$T/p.html" \
    "no collector table with 600 at gcpairs.py:$GC_PAIR_LINE in the DOM" \
    'id="collected"><h2>Freed by the cycle collector' \
    "<td>[^<]*gcpairs.py:$GC_PAIR_LINE</td><td class=\"num\">600</td>"
else t_fail python_gcfreed_html_table_data "$(head -c 300 "$T/h.err")"; fi
