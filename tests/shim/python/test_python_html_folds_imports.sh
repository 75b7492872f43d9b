# test_python_html_folds_imports.sh - `heapsnap html` of a Python program
# that imports modules (tests/shim/python/imports.py) opens with the
# interpreter's start-up and the import machinery folded away
# (heapsnapFold): the flame graph at load has the program's frames (build,
# its <module>) and no <frozen importlib._bootstrap> frame nor start-up C
# frame (Py_BytesMain, Py_InitializeFromConfig); page.html#all-frames, a
# click on "Fold start-up and imports" and `heapsnap html --all-frames`
# bring them back.  The top and diff tables fold the same way: no row keyed
# by an importlib line, an import's memory at its import line; unfolded,
# the importlib rows are back.  Loaded in headless Chromium as
# test_python_html.sh does.
. tests/shim/python/lib_py.sh
. tests/report/html/lib_html.sh

script=tests/shim/python/imports.py
l_leak=$(py_line tests/shim/python/imports_leak.py MARK_LEAK)
chr_ready python_html_fold_browser || return 0
read -r tag py < <(py_interpreters)
if [ -z "$py" ]; then
  t_skip python_html_fold "no CPython 3.10-3.13 here"; return 0
fi
machinery='data-func="(_find_and_load|_find_and_load_unlocked|_load_unlocked|_call_with_frames_removed|SourceLoader\.get_code)"'
startup='data-func="(Py_BytesMain|Py_InitializeFromConfig|pymain_run_python)"'

if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run" $script || ! ls "$T"/exit.*.hsnap >/dev/null 2>&1; then
  t_fail python_html_fold_run "$(tail -c 300 "$T/run.err")"; return 0
fi
html_load python_html_fold folded "$T/s.html" "$T"/exit.*.hsnap || return 0
# a second run of the same program: the page's diff table (earliest -> latest)
mkdir -p "$T/two" && cp "$T"/exit.*.hsnap "$T/two/"
if ! HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/two/exit.%p.hsnap" "$py" $script \
     >/dev/null 2>"$T/two.err" || ! "$HEAPSNAP" html -o "$T/two.html" "$T"/two/exit.*.hsnap 2>>"$T/two.err"; then
  t_fail python_html_fold_diff_written "$(head -c 300 "$T/two.err")"
fi
# a table's site cell (section top or diff, its rows alone)
cells() { # DOM SECTION: the site cells of that table, one a line
  sed -n "s/.*<section [^>]*id=\"$2\"//p" "$1" | sed 's:</section>.*::' | grep -oE '<td>[^<]*</td>' | sed 's/<[^>]*>//g'
}
imp_site='^&lt;frozen importlib\._bootstrap'
import_line="imports\.py:($(grep -n '^import ' $script | cut -d: -f1 | paste -sd'|'))\$"
table() { # NAME DOM SECTION WANT(1: importlib rows, 0: none and import lines)
  local got; got=$(cells "$2" "$3")
  if [ -z "$got" ]; then t_fail "$1" "no $3 table"
  elif [ "$4" = 1 ] && echo "$got" | grep -qE "$imp_site"; then t_pass "$1"
  elif [ "$4" = 0 ] && ! echo "$got" | grep -qE "$imp_site" && echo "$got" | grep -qE "$import_line"; then t_pass "$1"
  else t_fail "$1" "$(echo "$got" | head -8 | tr '\n' '|')"; fi
}
dom python_html_fold_by_default "$T/folded.dom" '<body data-view="[^"]*" data-frames="folded"[^>]* data-ready="1"'
dom python_html_fold_toggle_shown "$T/folded.dom" '<label><input type="checkbox" class="fold-startup"> Fold start-up and imports</label>'
dom python_html_fold_keeps_own_frames "$T/folded.dom" 'class="fg-frame"[^>]*data-func="build"'
nodom python_html_fold_no_import_machinery "$T/folded.dom" "$machinery"
nodom python_html_fold_no_startup_frames "$T/folded.dom" "$startup"
# the loss record of imports_leak's top-level malloc: its module under the import line
table python_html_fold_top_table "$T/folded.dom" top 0
dom python_html_fold_top_table_startup "$T/folded.dom" '<td>\[interpreter start-up\]</td>'
# heapsnapFold itself on three stacks with no Python frame (frames too narrow
# to draw are left out of the flame graph's DOM, so the page alone cannot
# pin them): under the main entry alone (the main file's compilation) and
# under Py_InitializeFromConfig they are start-up; a native thread's stays.
cat >"$T/foldunit.html" <<EOF
<body><script src="file://$PWD/report/html/fold.js"></script><script>
const fr = [['_start','',0,''], ['Py_BytesMain','',0,''], ['pymain_run_python','',0,''],
  ['_PyAST_Compile','',0,''], ['Py_InitializeFromConfig','',0,''], ['pyinit_main','',0,''],
  ['start_thread','',0,''], ['worker','',0,'']];
const fold = heapsnapFold(fr, function () { return false; });
const name = function (s) { return s.map(function (f) { return fr[f][0]; }).join(';'); };
document.body.setAttribute('data-out', [name(fold([0, 1, 2, 3], false)),
  name(fold([0, 1, 4, 5, 3], false)), name(fold([6, 7], false))].join('|'));
</script></body>
EOF
chr foldunit "$T/foldunit.html"
dom python_html_fold_main_entry_is_startup "$T/foldunit.dom" \
  'data-out="\[interpreter start-up\];_PyAST_Compile\|\[interpreter start-up\];_PyAST_Compile\|start_thread;worker"'
dom python_html_fold_loss_record "$T/folded.dom" '<ol class="stack"><li>&lt;module&gt; \([^)]*imports_leak.py:'"$l_leak"'\)</li><li>&lt;module&gt; \([^)]*imports.py:[0-9]+\)</li></ol>'

chr all "$T/s.html#all-frames"
dom python_html_all_frames_hash "$T/all.dom" '<body data-view="[^"]*" data-frames="all"[^>]* data-ready="1"'
dom python_html_all_frames_import_machinery "$T/all.dom" "$machinery"
dom python_html_all_frames_loss_record "$T/all.dom" '<ol class="stack"><li>&lt;module&gt; \([^)]*imports_leak.py:'"$l_leak"'\)</li><li>_call_with_frames_removed '
table python_html_all_frames_top_table "$T/all.dom" top 1
dom python_html_all_frames_keeps_own_frames "$T/all.dom" 'class="fg-frame"[^>]*data-func="build"'

# the checkbox itself: the page, then a click on it, as a reader would
{ cat "$T/s.html"; echo "<script>document.querySelector('input.fold-startup').click();</script>"; } >"$T/click.html"
chr click "$T/click.html"
dom python_html_fold_toggle_unfolds "$T/click.dom" '<body data-view="[^"]*" data-frames="all"'
dom python_html_fold_toggle_import_machinery "$T/click.dom" "$machinery"
table python_html_fold_toggle_top_table "$T/click.dom" top 1
if [ -s "$T/two.html" ]; then
  chr twofolded "$T/two.html"
  table python_html_fold_diff_table "$T/twofolded.dom" diff 0
  chr twoall "$T/two.html#all-frames"
  table python_html_all_frames_diff_table "$T/twoall.dom" diff 1
fi

# heapsnap html --all-frames: the same page, opened unfolded
if "$HEAPSNAP" html --all-frames -o "$T/all.html" "$T"/exit.*.hsnap 2>"$T/h2.err"; then
  chr allopt "$T/all.html"
  dom python_html_all_frames_option "$T/allopt.dom" '<body data-view="[^"]*" data-frames="all"[^>]* data-ready="1"'
  dom python_html_all_frames_option_import_machinery "$T/allopt.dom" "$machinery"
else
  t_fail python_html_all_frames_option "$(head -c 300 "$T/h2.err")"
fi
