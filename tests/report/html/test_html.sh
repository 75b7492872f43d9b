# tests/report/html/test_html.sh - `heapsnap html` loaded in a real browser: headless
# Chromium renders the report of the demo fixture (three snapshots of one
# process, with a leak check), of spike (a heap that falls after its peak),
# of idlefree (a free the shim holds back, then idle) and of a snapshot
# whose names are hostile; the test reads the rendered DOM
# (flame graph frames and its "N small" boxes, the timeline with its resident set, sites, "Go to
# peak", round ticks and its fall, the tables, callers and callees, the size
# histogram, the loss records and cycles, the retainers' tree) and
# Chromium's console (no message at all: no script error, no blocked fetch).
# Screenshots of the pages: $T/html_demo.png and $T/html_spike.png (lib_html.sh's shot;
# HTML_SHOTS=DIR keeps copies).
# tier: full (a headless Chromium, a browser)
. tests/fixtures/lib.sh
. tests/report/html/lib_html.sh
FX_TEST=html fx_ready demo wideflame spike idlefree || return 0
chr_ready html_browser || return 0
# bytes: equal steps of a power of two bytes from 0, each label a whole number
# of one unit ("0 MiB 8 MiB 16 MiB"; a 1 MiB block sits on a line)
binticks() {
  grep -oE '<text [^>]*class="tick-v"[^>]*>[^<]*' "$1" | sed 's/.*>//' |
    awk '{ m = $2 == "B" ? 1 : $2 == "KiB" ? 1024 : $2 == "MiB" ? 1048576 : $2 == "GiB" ? 1073741824 : -1
           if (m < 0 || $1 != int($1) || (NR > 1 && $2 != unit)) bad = 1; unit = $2; v = $1 * m
           if (NR == 1 && v != 0) bad = 1; if (NR == 2) step = v; if (NR > 2 && v - prev != step) bad = 1; prev = v }
         END { p = 1; while (p < step) p *= 2; if (NR < 3 || bad || p != step) exit 1 }'
}

"$HEAPSNAP" run --leaks -o "$T/demo.%p.hsnap" -- "$FX/demo" "$T/first.hsnap" "$T/second.hsnap" \
  >/dev/null 2>"$T/run.err" || t_fail html_demo_profiled "$(head -c 300 "$T/run.err")"
if "$HEAPSNAP" html -o "$T/demo.html" "$T"/demo.*.hsnap "$T/first.hsnap" "$T/second.hsnap" 2>"$T/h.err"
then
  t_pass html_demo_written
  # One page: no link, script or style from anywhere else, and nothing to fetch.
  if grep -qiE '<(link|iframe|img)|src=|https?://[^"]*\.(js|css)' "$T/demo.html"; then
    t_fail html_self_contained "$(grep -oiE '<(link|iframe|img)[^>]*|src=[^ ]*' "$T/demo.html" | head -3)"
  else t_pass html_self_contained; fi
  dom html_csp_forbids_fetches "$T/demo.html" "Content-Security-Policy\" content=\"default-src 'none'"
  chr demo "$T/demo.html"
  quiet html_demo_no_console_messages "$T/demo.log"
  dom html_demo_drawn "$T/demo.dom" '<body[^>]* data-ready="1"'
  grep -q 'data-errors=' "$T/demo.dom" && t_fail html_demo_no_script_errors "$(grep -o 'data-errors="[0-9]*"' "$T/demo.dom")" \
    || t_pass html_demo_no_script_errors
  # flame graph: the stacks of demo.c (table_add holds the most at exit)
  dom html_flame_frames "$T/demo.dom" 'class="fg-frame[^"]*"' 8
  dom html_flame_site_frame "$T/demo.dom" 'class="fg-frame"[^>]*data-func="table_add"'
  dom html_flame_root "$T/demo.dom" 'data-func="all"'
  # timeline: one series, the three snapshots as dots, the traced peak
  dom html_timeline_series "$T/demo.dom" '<polyline [^>]*class="series"'
  dom html_timeline_snapshots "$T/demo.dom" '<circle [^>]*class="snap"' 3
  dom html_timeline_peak "$T/demo.dom" 'traced peak [0-9]'
  # memory over time (SITELINE): the resident set, the largest sites as lines
  # with their names in the legend, and "Go to peak"
  dom html_timeline_rss "$T/demo.dom" '<polyline [^>]*data-kind="rss"'
  dom html_timeline_site_lines "$T/demo.dom" '<polyline [^>]*data-kind="site"' 5
  dom html_timeline_site_legend "$T/demo.dom" '<span class="key" data-kind="site"[^>]*>tests/fixtures/demo.c:80 table_add \(site\)</span>'
  dom html_timeline_peak_button "$T/demo.dom" '<button class="go-peak">Go to peak</button>'
  # round ticks: time in equal steps of 1, 2 or 5 times a power of ten, from 0
  # ("0.0 s 0.5 s 1.0 s"); bytes as binticks says
  roundticks() { # CLASS: the ticks' numbers in order, the step equal and 1/2/5 x 10^k
    grep -oE "<text [^>]*class=\"$1\"[^>]*>[^<]*" "$T/demo.dom" | sed 's/.*>//; s/ [KMGT]*i*B$//; s/ s$//' |
      awk 'NR == 1 { if ($1 != 0) bad = 1 } NR == 2 { step = $1 } NR > 1 && ($1 - prev - step > 1e-9 || prev + step - $1 > 1e-9) { bad = 1 }
           { prev = $1 } END { m = step; while (m >= 10) m /= 10; while (m < 1 && m > 0) m *= 10;
             if (NR < 3 || bad || (m != 1 && m != 2 && m != 5)) exit 1 }'
  }
  binticks "$T/demo.dom" && t_pass html_timeline_binary_byte_ticks \
    || t_fail html_timeline_binary_byte_ticks "$(grep -oE '<text [^>]*class="tick-v"[^>]*>[^<]*' "$T/demo.dom" | sed 's/.*>//' | tr '\n' '|')"
  roundticks tick-t && t_pass html_timeline_round_time_ticks \
    || t_fail html_timeline_round_time_ticks "$(grep -oE '<text [^>]*class="tick-t"[^>]*>[^<]*' "$T/demo.dom" | sed 's/.*>//' | tr '\n' '|')"
  chr demopeak "$T/demo.html#peak" # as a click on it would: the page selects the peak
  quiet html_timeline_peak_no_console_messages "$T/demopeak.log"
  dom html_timeline_peak_marked "$T/demopeak.dom" '<circle [^>]*class="peak-mark"[^>]* visibility="visible"'
  dom html_timeline_peak_readout "$T/demopeak.dom" '<div class="readout" data-t="[0-9]+"><b>[0-9.]+ s — peak: traced heap [0-9.]+ [KM]iB</b>'
  dom html_timeline_peak_sites "$T/demopeak.dom" '<li data-kind="site"[^>]*>tests/fixtures/demo.c:80 table_add \(site\): [0-9.]+ [KM]iB</li>'
  # tables: the top sites and the diff of first.hsnap -> the exit snapshot
  dom html_top_table "$T/demo.dom" '<td>tests/fixtures/demo.c:80</td><td>table_add</td>'
  dom html_diff_table "$T/demo.dom" 'first.hsnap → .*demo\.[0-9]+\.hsnap'
  # the leak check: loss records, the cycle drawn, the retainers
  # records in the words of leaks' summary (issue 65: one vocabulary), the largest first
  dom html_leak_records "$T/demo.dom" '<summary>direct: [0-9,]+ (\([0-9,]+ direct, [0-9,]+ indirect\) )?bytes in [0-9,]+ blocks, loss record [0-9]+ of [0-9]+ — tests/fixtures/demo.c:[0-9]+</summary>'
  dom html_leak_cycle_record "$T/demo.dom" '<summary>cycle: [0-9,]+ bytes in [0-9,]+ blocks, loss record 1 of [0-9]+ — '
  dom html_leak_summary_words "$T/demo.dom" '<td>direct</td>.*<td>indirect</td>.*<td>cycle</td>.*<td>possibly lost</td>.*<td>suppressed</td>'
  nodom html_leak_no_valgrind_words "$T/demo.dom" 'definitely lost|indirectly lost|lost in a cycle'
  dom html_leak_cycle_drawn "$T/demo.dom" '<svg [^>]*class="ring"'
  # the retainers as a tree one opens: a site, and under it what keeps it alive
  dom html_retainers_tree "$T/demo.dom" '<div class="rtree retainers"><details class="rnode"><summary>tests/fixtures/demo.c:[0-9]+: [0-9]+ B still reachable in [0-9]+ blocks, kept alive by:</summary><div class="rleaf">'
  nodom html_retainers_not_a_dump "$T/demo.dom" '<pre class="retainers">'
  # callers and callees at the peak: table_add allocated the most itself
  # (demo.c), count_words calls it, and it calls table_grow
  dom html_calls_table "$T/demo.dom" '<table class="grid cc-table">.*<button class="cc-pick" data-func="table_add">'
  dom html_calls_picked "$T/demo.dom" '<div class="cc-picked" data-func="table_add"><h3>table_add — tests/fixtures/demo.c:[0-9]+</h3><p class="sub">inclusive [0-9.]+ [KM]iB \([0-9.]+%\), self [0-9.]+ [KM]iB</p>'
  dom html_calls_caller "$T/demo.dom" '<table class="grid cc-callers">.*<button class="cc-pick" data-func="count_words">count_words</button>.*<table class="grid cc-callees">'
  dom html_calls_callee "$T/demo.dom" '<table class="grid cc-callees">.*<button class="cc-pick" data-func="table_grow">table_grow</button>'
  # a click on a flame graph box picks its function in callers and callees
  { cat "$T/demo.html"; echo "<script>document.querySelector('.fg-frame[data-func=\"count_words\"]').click();</script>"; } >"$T/democlick.html"
  chr democlick "$T/democlick.html"
  dom html_calls_flame_click_picks "$T/democlick.dom" '<div class="cc-picked" data-func="count_words">'
  # the size histogram: demo keeps one 2 MiB table (demo.c:60) to the end; the
  # classes' blocks add up to the latest snapshot's live blocks
  dom html_sizes_histogram "$T/demo.dom" '<table class="grid hist">.*<tr data-lo="2097152"><td>2 MiB – 4 MiB</td><td class="num">1</td>'
  got=$(html_data "$T/demo.html" "sum(r[1] for r in d['sizes']) == sum(s['blocks'] for s in d['snapshots'] if s['latest'])")
  [ "$got" = True ] && t_pass html_sizes_count_every_live_block || t_fail html_sizes_count_every_live_block "$got"
  shot html_demo "$T/demo.html"
  # the peak (PEAK): the timeline's peak dot; the page opens on the peak's
  # bytes (the high-water mark), and page.html#exit on the live ones
  dom html_timeline_peak_dot "$T/demo.dom" '<circle [^>]*class="peak-dot"'
  dom html_opens_on_peak "$T/demo.dom" 'class="fg" data-value="peak_space"'
  dom html_opens_on_peak_view "$T/demo.dom" '<body[^>]* data-view="peak"'
  dom html_opens_on_peak_table "$T/demo.dom" '<h2>Top allocation sites \(at the peak\)</h2>'
  dom html_exit_one_click_away "$T/demo.dom" '<button class="view-exit">At exit</button>'
  chr demoexit "$T/demo.html#exit"
  quiet html_exit_no_console_messages "$T/demoexit.log"
  dom html_exit_flame_live "$T/demoexit.dom" 'class="fg" data-value="inuse_space"'
  dom html_exit_table_live "$T/demoexit.dom" '<h2>Top allocation sites \(live\)</h2>'
  chr demopeak "$T/demo.html#peak"
  quiet html_peak_no_console_messages "$T/demopeak.log"
  dom html_flame_switched_to_peak "$T/demopeak.dom" 'class="fg" data-value="peak_space"'
  dom html_flame_peak_frames "$T/demopeak.dom" 'class="fg-frame"[^>]*data-func="table_add"'
  # one box per function by default: main calls count_words at two lines, one box;
  # "Split by line" (page.html#lines) splits it
  dom html_flame_one_box_per_function "$T/demo.dom" 'class="fg" data-value="peak_space" data-layout="top-down"'
  n=$(grep -o 'class="fg-frame"[^>]*data-func="count_words"' "$T/demo.dom" | wc -l)
  [ "$n" = 1 ] && t_pass html_flame_function_not_split_by_line \
    || t_fail html_flame_function_not_split_by_line "$n count_words boxes, want 1"
  chr demolines "$T/demo.html#lines"
  quiet html_lines_no_console_messages "$T/demolines.log"
  dom html_flame_split_by_line "$T/demolines.dom" 'class="fg-frame"[^>]*data-func="count_words"' 2
  dom html_flame_split_by_line_layout "$T/demolines.dom" 'data-layout="top-down lines"'
  # inverted (bottom-up): the allocation sites first, their callers below
  chr demoinv "$T/demo.html#inverted"
  quiet html_inverted_no_console_messages "$T/demoinv.log"
  dom html_flame_inverted_layout "$T/demoinv.dom" 'class="fg" data-value="peak_space" data-layout="inverted"'
  first=$(grep -oE '<div class="fg-frame"[^>]*top: 18px[^>]*>' "$T/demoinv.dom" | grep -oE 'data-func="[^"]*"' | sort -u | tr '\n' ' ')
  [ "$first" = 'data-func="cache_remember" data-func="table_add" data-func="table_grow" ' ] \
    && t_pass html_flame_inverted_sites_first || t_fail html_flame_inverted_sites_first "first row: $first"
  dom html_flame_inverted_callers_below "$T/demoinv.dom" '<div class="fg-frame"[^>]*data-func="count_words" style="[^"]*top: 36px'
  # the timeline: the resident set's colour is its own; a line holds its value
  # until the next point (steps: no segment slopes across a stretch without points)
  heapc=$(grep -oE '<span class="key" data-kind="heap"[^>]*border-color: [^;]*' "$T/demo.dom" | sed 's/.*border-color: //')
  rssc=$(grep -oE '<span class="key" data-kind="rss"[^>]*border-color: [^;]*' "$T/demo.dom" | sed 's/.*border-color: //')
  [ -n "$heapc" ] && [ -n "$rssc" ] && [ "$heapc" != "$rssc" ] && t_pass html_timeline_rss_colour_distinct \
    || t_fail html_timeline_rss_colour_distinct "heap '$heapc', RSS '$rssc'"
  pts=$(grep -oE '<polyline points="[^"]*"[^>]*data-kind="heap"' "$T/demo.dom" | head -1 | sed 's/<polyline points="//; s/".*//')
  slopes=$(echo "$pts" | tr ' ' '\n' | awk -F, 'NR > 1 && $1 != x && $2 != y { n++ } { x = $1; y = $2 } END { print n + 0 }')
  [ -n "$pts" ] && [ "$slopes" = 0 ] && t_pass html_timeline_holds_values_between_points \
    || t_fail html_timeline_holds_values_between_points "$slopes sloped segments in the heap line"
else
  t_fail html_demo_written "$(head -c 300 "$T/h.err")"
fi

# --- the timeline follows the heap down -----------------------------------------------
# heapfalls DOM: "ok" when the heap line comes down from its peak before its last
# (the exit) point, and ends below the peak; else why not, with the points
heapfalls() {
  local pts
  pts=$(grep -oE '<polyline points="[^"]*"[^>]*data-kind="heap"' "$1" | head -1 | sed 's/<polyline points="//; s/".*//')
  # SVG y grows downward: the peak is the least y
  echo "$pts" | tr ' ' '\n' | awk -F, -v pts="$pts" 'NF == 2 { x[NR] = $1; y[NR] = $2; n = NR; if (!top || $2 < y[top]) top = NR }
    END { if (!n) { print "no line"; exit } if (y[n] <= y[top] + 1) { print "ends at the peak: " pts; exit }
          for (i = top + 1; i < n; i++) if (x[i] < x[n] && y[i] > y[top] + 1) { print "ok"; exit } print "falls only at exit: " pts }'
}
# spike holds 5 MiB, reaches 21 MiB, frees 16 MiB and naps 250 ms before it exits: the
# heap line comes down from its peak before the exit point, and ends below the peak.
fx_profile "$T/spike.hsnap" "$FX/spike" || t_fail html_spike_profiled "$(head -c 300 "$T/fx.err")"
if "$HEAPSNAP" html -o "$T/spike.html" "$T/spike.hsnap" 2>"$T/spike.err"; then
  chr spike "$T/spike.html#exit"
  quiet html_spike_no_console_messages "$T/spike.log"
  fall=$(heapfalls "$T/spike.dom")
  [ "$fall" = ok ] && t_pass html_timeline_follows_heap_down || t_fail html_timeline_follows_heap_down "$fall"
  binticks "$T/spike.dom" && t_pass html_spike_binary_byte_ticks \
    || t_fail html_spike_binary_byte_ticks "$(grep -oE '<text [^>]*class="tick-v"[^>]*>[^<]*' "$T/spike.dom" | sed 's/.*>//' | tr '\n' '|')"
  shot html_spike "$T/spike.html#exit" 1200,1200
else
  t_fail html_spike_written "$(head -c 300 "$T/spike.err")"
fi

# idlefree frees 1 MiB of its 1.3 MiB, held back by the shim (pending.c), and idles
# 300 ms: the line falls before the exit point (SITELINE's walks see the held free).
fx_profile "$T/idle.hsnap" "$FX/idlefree" held || t_fail html_idlefree_profiled "$(head -c 300 "$T/fx.err")"
if "$HEAPSNAP" html -o "$T/idle.html" "$T/idle.hsnap" 2>"$T/idle.err"; then
  chr idle "$T/idle.html#exit"
  quiet html_idlefree_no_console_messages "$T/idle.log"
  fall=$(heapfalls "$T/idle.dom")
  [ "$fall" = ok ] && t_pass html_timeline_falls_after_held_free || t_fail html_timeline_falls_after_held_free "$fall"
  shot html_idlefree "$T/idle.html#exit" 1200,1200
else
  t_fail html_idlefree_written "$(head -c 300 "$T/idle.err")"
fi

# --- callers and callees on known stacks ---------------------------------------------
# heapsnapCalls itself, on three stacks (outermost first), one recursive:
# main;a;b;a;c (10 B), main;a (5 B), main;b (1 B).  The default pick is the largest self,
# c (10 B); a's inclusive counts each stack once (15 B of 16), its self is 5 B, its callers
# are main (15 B) and b (10 B), its callees b and c (10 B each).
cat >"$T/callsunit.html" <<EOF
<body><script src="file://$PWD/report/html/calls.js"></script><script>
const fr = [['main','m.c',1,''], ['a','m.c',2,''], ['b','m.c',3,''], ['c','m.c',4,'']];
const stacks = [[[0, 1, 2, 1, 3], [10]], [[0, 1], [5]], [[0, 2], [1]]];
function el(tag, cls, ...kids) { const e = document.createElement(tag); if (cls) e.className = cls;
  for (const k of kids) e.append(k); return e; }
const onView = [];
const pick = heapsnapCalls({ data: { frames: fr }, view: {}, onView: onView, vi: function () { return 0; },
  eachStack: function (how, cb) { for (const s of stacks) cb(s[0], s[1]); },
  el: el, size: function (n) { return n + ' B'; },
  section: function () { const s = el('section'); document.body.append(s); return s; }, navlink: function () {} });
onView[0]();
const first = document.querySelector('.cc-picked').dataset.func;
pick(1);
const rows = function (cls) { return Array.from(document.querySelectorAll('.' + cls + ' tbody tr')).map(function (tr) {
  return tr.cells[0].textContent + '=' + tr.cells[2].textContent; }).join(','); };
document.body.setAttribute('data-out', [first, document.querySelector('.cc-picked .sub').textContent,
  rows('cc-callers'), rows('cc-callees')].join('|'));
</script></body>
EOF
chr callsunit "$T/callsunit.html"
quiet html_calls_unit_no_console_messages "$T/callsunit.log"
dom html_calls_recursion_counted_once "$T/callsunit.dom" \
  'data-out="c\|inclusive 15 B \(93.8%\), self 5 B\|main=15 B,b=10 B\|b=10 B,c=10 B"'

# --- the bar budget -------------------------------------------------------------
# wideflame's stacks make over 5,000 bars split by line; its widest subtree (deep: 60% of
# the heap, 51 frames) is drawn whole, and the budget cuts the narrowest (frames of 2 px
# or more: Chromium's default window).
fx_profile "$T/wide.hsnap" "$FX/wideflame" || t_fail html_wide_profiled "$(head -c 300 "$T/fx.err")"
if "$HEAPSNAP" html -o "$T/wide.html" "$T/wide.hsnap" 2>"$T/wide.err"; then
  chr wide "$T/wide.html#lines" # its bars are many by call line
  quiet html_budget_no_console_messages "$T/wide.log"
  dom html_budget_applied "$T/wide.dom" 'class="fg" data-value="(inuse|peak)_space"[^>]* data-cut="1"'
  dom html_budget_keeps_widest_subtree "$T/wide.dom" 'class="fg-frame"[^>]*data-func="deep"' 51
  n=$(grep -oE 'class="fg-frame[^"]*"' "$T/wide.dom" | wc -l)
  [ "$n" -le 4010 ] && t_pass html_budget_bounds_bars || t_fail html_budget_bounds_bars "$n bars drawn"
  # In a narrow window (500 px) its 128 chains, split by line, are under 2 px each: each
  # parent's narrow children are one "N small" box (d3-flame-graph's minFrameSize), no
  # frame is a 1 px sliver (a frame under 2 px drew as one), and the budget is not reached.
  CHR_SIZE=500,900 chr narrow "$T/wide.html#lines"
  quiet html_narrow_no_console_messages "$T/narrow.log"
  dom html_flame_small_frames_merged "$T/narrow.dom" 'class="fg-frame fg-small"[^>]* data-small="[2-9][0-9]*"[^>]* data-func="[0-9]+ small"'
  nodom html_flame_no_slivers "$T/narrow.dom" 'class="fg-frame( fg-parent)?"[^>]*width: 1px;'
  nodom html_flame_small_frames_not_cut "$T/narrow.dom" 'class="fg"[^>]* data-cut="1"'
  shot html_narrow "$T/wide.html#lines" 500,900
else
  t_fail html_wide_written "$(head -c 300 "$T/wide.err")"
fi

# --- a diff only between snapshots of one program -----------------------------------
# demo's snapshots and wideflame's (written later): the latest is wideflame's, and
# no earlier snapshot is of wideflame, so no diff across programs is offered.
if [ -s "$T/wide.hsnap" ] && "$HEAPSNAP" html -o "$T/mixed.html" "$T/first.hsnap" "$T"/demo.*.hsnap "$T/wide.hsnap" 2>"$T/mixed.err"; then
  chr mixed "$T/mixed.html"
  quiet html_mixed_no_console_messages "$T/mixed.log"
  dom html_mixed_drawn "$T/mixed.dom" '<body[^>]* data-ready="1"'
  grep -q 'id="diff"' "$T/mixed.dom" && t_fail html_diff_only_within_one_program "a diff across demo and wideflame" \
    || t_pass html_diff_only_within_one_program
else
  t_fail html_diff_only_within_one_program "html: $(head -c 300 "$T/mixed.err")"
fi

# --- hostile names ---------------------------------------------------------------
# The executable's name closes the data's <script> and opens another; module
# 0's name (the frames' function "NAME+0xoff") is markup with an event handler
# and opens an HTML comment.  The page must show them as text and run nothing.
if gcc -Ishim tests/report/craft.c -o "$T/craft" -lz 2>"$T/cc.err"; then
  "$T/craft" names "$T/ev.hsnap" '/nonexistent/<img src=x onerror="document.body.dataset.pwned=1"><!--' \
    './prog' '/x/</script><script>document.body.dataset.pwned=2</script>'
  if "$HEAPSNAP" html -o "$T/ev.html" "$T/ev.hsnap" 2>"$T/ev.err"; then
    n=$(grep -oi '</script' "$T/ev.html" | wc -l)
    [ "$n" = 2 ] && t_pass html_hostile_script_not_closed \
      || t_fail html_hostile_script_not_closed "$n </script in the page, want 2"
    grep -q '<!--' "$T/ev.html" && t_fail html_hostile_no_comment_opened "<!-- in the page" \
      || t_pass html_hostile_no_comment_opened
    chr ev "$T/ev.html"
    quiet html_hostile_no_console_messages "$T/ev.log"
    grep -q 'data-pwned' "$T/ev.dom" && t_fail html_hostile_nothing_runs "$(grep -o 'data-pwned="[0-9]"' "$T/ev.dom")" \
      || t_pass html_hostile_nothing_runs
    dom html_hostile_names_as_text "$T/ev.dom" '<h1 title="/x/&lt;/script&gt;&lt;script&gt;document.body.dataset.pwned=2&lt;/script&gt;">heapsnap: script&gt;</h1>'
    dom html_hostile_frame_as_text "$T/ev.dom" 'data-func="&lt;img src=x onerror=&quot;document.body.dataset.pwned=1&quot;&gt;&lt;!--\+0x'
    dom html_hostile_drawn "$T/ev.dom" '<body[^>]* data-ready="1"'
  else
    t_fail html_hostile_written "$(head -c 300 "$T/ev.err")"
  fi
else
  t_fail html_craft_build "$(head -c 300 "$T/cc.err")"
fi

# --- the command --------------------------------------------------------------------
t_status html_needs_output 2 "$HEAPSNAP" html "$T/first.hsnap"
t_status html_needs_snapshot 2 "$HEAPSNAP" html -o "$T/x.html"
"$HEAPSNAP" html -o - "$T/first.hsnap" 2>/dev/null | grep -q '^<!DOCTYPE html>' \
  && t_pass html_to_stdout || t_fail html_to_stdout "no page on stdout"
