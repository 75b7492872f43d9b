# test_python_html.sh - `heapsnap html` of a Python run, loaded in headless
# Chromium as tests/report/html/test_html.sh does: the page opens on the peak (the
# high-water mark, tests/shim/python/sites.py's MARK_PEAK line, freed before
# the snapshot) with "Python frames only" on (the flame graph holds the
# Python frames and none of the _json extension's, the top table goes by
# Python line), and page.html#exit shows the exit snapshot's live memory.
# The page reads at a glance: the top table's retained column is filled
# (PYRETAIN; at the peak, each site's retained size at exit), the start-up
# and import lines are one row a click opens, who holds the objects is a
# tree of <details>, callers and callees pick peak_then_free's list (the
# most allocated by one function at the peak) under peak_then_free, and the
# size histogram counts every live block.  A screenshot: $T/python_html.png
# (lib_html.sh's shot; HTML_SHOTS=DIR keeps a copy).
# On Debian's python3 (else the first CPython 3.10-3.15 found).
. tests/shim/python/lib_py.sh
. tests/report/html/lib_html.sh

script=tests/shim/python/sites.py
l_peak=$(py_line $script MARK_PEAK)
chr_ready python_html_browser || return 0
read -r tag py < <(py_interpreters)
if [ -z "$py" ]; then
  t_skip python_html "no CPython 3.10-3.13 here"; return 0
fi

if ! py_run "$py" "$T/run" $script "$T/s.hsnap" json peak || [ ! -s "$T/s.hsnap" ]; then
  t_fail python_html_run "$(tail -c 300 "$T/run.err")"; return 0
fi
html_load python_html py "$T/s.html" "$T/s.hsnap" || return 0
dom python_html_drawn "$T/py.dom" '<body[^>]* data-ready="1"'
dom python_html_opens_on_peak_python_only "$T/py.dom" '<body data-view="peak python"'
dom python_html_flame_on_peak "$T/py.dom" 'class="fg" data-value="peak_space"'
dom python_html_peak_table_has_peak_line "$T/py.dom" "<td>tests/shim/python/sites.py:$l_peak</td><td>peak_then_free</td>"
dom python_html_flame_python_frames "$T/py.dom" 'class="fg-frame"[^>]*data-func="JSONDecoder.raw_decode"'
nodom python_html_flame_folds_extension "$T/py.dom" 'data-func="_json'
# who holds the Python objects: the paths from named roots, by type
dom python_html_python_holders "$T/py.dom" '<section class="card" id="pyholders"><h2>Who holds the Python objects</h2><div class="rtree retainers"><details class="rnode" open=""><summary>Python objects by type'
dom python_html_python_holders_named "$T/py.dom" '<details class="rnode"><summary>[^<]+: [0-9]+ objects?, [^<]+</summary><div class="rleaf">[0-9]+ objects?: (module [^ ]+, global |the interpreter)'
# the retained column: head and values, at the peak (from exit) and at exit
sz='[0-9.]+ (B|KiB|MiB)'
retained_rows() { # DOM: top table rows (not folded away) with a size, a retained size and a count
  sed -n 's/.*<section [^>]*id="top"//p' "$1" | sed 's:</section>.*::' | grep -oE "<tr>(<td[^>]*>[^<]*</td>){3}<td class=\"num\">$sz</td><td class=\"num\">$sz</td><td class=\"num\">[0-9,]+</td>" | wc -l
}
dom python_html_retained_head_at_peak "$T/py.dom" '<th class="num">retained \(at exit\)</th>'
n=$(retained_rows "$T/py.dom")
[ "$n" -ge 3 ] && t_pass python_html_retained_filled_at_peak || t_fail python_html_retained_filled_at_peak "$n rows with a retained size"
dom python_html_retained_json_line "$T/py.dom" "<td>[^<]*json/decoder.py:[0-9]+</td><td>(JSONDecoder\\.)?raw_decode</td><td class=\"num\">$sz</td><td class=\"num\">$sz</td>"
# start-up and imports: one row, and no row left of another file's <module> code
dom python_html_import_rows_folded "$T/py.dom" '<tr class="fold-row" title="click to show or hide its [0-9]+ rows"><td class="num">▸</td><td>\[start-up and imports\]</td><td>[0-9]+ sites</td>'
stray=$(sed -n 's/.*<section [^>]*id="top"//p' "$T/py.dom" | sed 's:</section>.*::' | grep -oE '<tr><td class="num">[0-9]+</td><td>[^<]*</td><td>&lt;module&gt;</td>' | grep -v "<td>$script:" | head -3)
[ -z "$stray" ] && t_pass python_html_no_import_module_rows || t_fail python_html_no_import_module_rows "$stray"
{ cat "$T/s.html"; echo "<script>document.querySelector('#top tr.fold-row').click();</script>"; } >"$T/open.html"
chr open "$T/open.html"
dom python_html_import_row_opens "$T/open.dom" '<tr class="fold-row open"[^>]*>.*<tr class="fold-member"><td class="num">[0-9]+</td>'
# callers and callees: the list of sites.py's MARK_PEAK line (a comprehension
# of its own before 3.12; on 3.10, without qualified names, one function with
# load_json's, at the first line seen), called by peak_then_free
dom python_html_calls_picked "$T/py.dom" "<div class=\"cc-picked\" data-func=\"((peak_then_free|peak_then_free\.&lt;locals&gt;\.&lt;listcomp&gt;)\"><h3>[^<]* — $script:$l_peak|&lt;listcomp&gt;\"><h3>&lt;listcomp&gt; — $script:[0-9]+)</h3>"
dom python_html_calls_caller "$T/py.dom" '<table class="grid cc-callers"><thead>.*</thead><tbody><tr><td><button class="cc-pick" data-func="(peak_then_free|&lt;module&gt;)">'
# the size histogram: every live block of the snapshot in a class
dom python_html_sizes_histogram "$T/py.dom" '<table class="grid hist">.*<tr data-lo="[0-9]+"><td>'
got=$(html_data "$T/s.html" "sum(r[1] for r in d['sizes']) == sum(s['blocks'] for s in d['snapshots'] if s['latest'])")
[ "$got" = True ] && t_pass python_html_sizes_every_live_block || t_fail python_html_sizes_every_live_block "$got"
shot python_html "$T/s.html"
chr exit "$T/s.html#exit"
dom python_html_exit_view "$T/exit.dom" '<body data-view="exit python"'
dom python_html_exit_flame_live "$T/exit.dom" 'class="fg" data-value="inuse_space"'
nodom python_html_exit_table_without_freed_line "$T/exit.dom" "<td>tests/shim/python/sites.py:$l_peak</td>"
dom python_html_retained_head_at_exit "$T/exit.dom" '<th class="num">retained</th>'
n=$(retained_rows "$T/exit.dom")
[ "$n" -ge 3 ] && t_pass python_html_retained_filled_at_exit || t_fail python_html_retained_filled_at_exit "$n rows with a retained size"
