# test_python_html.sh - `heapsnap html` of a Python run, loaded in headless
# Chromium as tests/report/html/test_html.sh does: the page opens on the peak (the
# high-water mark, tests/shim/python/sites.py's MARK_PEAK line, freed before
# the snapshot) with "Python frames only" on (the flame graph holds the
# Python frames and none of the _json extension's, the top table goes by
# Python line), and page.html#exit shows the exit snapshot's live memory.
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
dom python_html_python_holders "$T/py.dom" '<section class="card" id="pyholders"><h2>Who holds the Python objects</h2><pre class="retainers">Python objects by type'
dom python_html_python_holders_named "$T/py.dom" '^    [0-9]+ objects?: module [^ ]+, global '
chr exit "$T/s.html#exit"
dom python_html_exit_view "$T/exit.dom" '<body data-view="exit python"'
dom python_html_exit_flame_live "$T/exit.dom" 'class="fg" data-value="inuse_space"'
nodom python_html_exit_table_without_freed_line "$T/exit.dom" "<td>tests/shim/python/sites.py:$l_peak</td>"
