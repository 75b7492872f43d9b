# tests/report/model/test_json.sh - `--format json` of top, diff, info and trend
# (docs/json.md): each document is read by Python's strict json module
# (tests/report/model/jsonnorm.py) and compared, without the fields that change from
# run to run, with a golden file; the sites.c fixture's numbers are known
# from its source.  Bad --format values are exit 2 naming the flag.
. tests/fixtures/lib.sh
FX_TEST=json fx_ready sites api || return 0
G=tests/golden
NORM="python3 tests/report/model/jsonnorm.py command modules modules_unloaded traces timeline_points t_ns file_bytes uncompressed_bytes state_kib state_bound_kib"

# jgolden NAME CMD...: CMD's stdout through jsonnorm, compared with
# tests/golden/NAME.json
jgolden() {
  local name=$1; shift
  if ! "$@" >"$T/$name.raw" 2>"$T/$name.err"; then
    t_fail "$name" "exit $?: $(head -c 300 "$T/$name.err" | tr '\n' ' ')"; return 1
  fi
  if ! $NORM <"$T/$name.raw" >"$T/$name.json" 2>"$T/$name.err"; then
    t_fail "$name" "not JSON: $(head -c 300 "$T/$name.err")"; return 1
  fi
  t_golden "$name" "$G/$name.json" "$T/$name.json"
}

if ! fx_profile "$T/sites.hsnap" "$FX/sites" || [ ! -s "$T/sites.hsnap" ]; then
  t_fail json_sites_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; return 0
fi
S=$T/sites.hsnap

# --- top -----------------------------------------------------------------------
jgolden json_top_sites_lineno "$HEAPSNAP" top "$S" --format json
jgolden json_top_sites_function "$HEAPSNAP" top "$S" --format json --key function -n 2
# traceback: the frames from the site outward (those below main are libc's and
# differ between machines: checked up to main)
"$HEAPSNAP" top "$S" --format json --key traceback -n 1 --include node_new | python3 -c '
import json, sys
g = json.load(sys.stdin)["groups"][0]
fr = [(f["function"], f["file"], f["line"], f["module"]) for f in g["frames"][:3]]
assert (g["key"], g["bytes"], g["blocks"]) == ("tests/fixtures/sites.c:36", 1440, 30), g
assert fr == [("node_new", "tests/fixtures/sites.c", 36, "sites"),
              ("tree_build", "tests/fixtures/sites.c", 40, "sites"),
              ("main", "tests/fixtures/sites.c", 55, "sites")], fr
' 2>"$T/tb.err" && t_pass json_top_sites_traceback_frames ||
  t_fail json_top_sites_traceback_frames "$(tail -c 300 "$T/tb.err")"
jgolden json_top_sites_sort_allocations "$HEAPSNAP" top "$S" --format json --sort allocations -n 3

# the numbers agree with the text output, group for group
"$HEAPSNAP" top "$S" -n 0 --key filename >"$T/top.txt"
"$HEAPSNAP" top "$S" -n 0 --key filename --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
g = d["groups"][0]
assert d["schema"] == "heapsnap-top" and d["version"] == 1, d
assert d["groups_total"] == 1 and g["key"] == "tests/fixtures/sites.c:0", g
assert (g["bytes"], g["blocks"], g["file"]) == (1113473, 207, "tests/fixtures/sites.c"), g
' 2>"$T/check.err" && grep -qx 'tests/fixtures/sites.c:0: size=1087 KiB, count=207, average=5379 B' \
  "$T/top.txt" && t_pass json_top_matches_text ||
  t_fail json_top_matches_text "$(head -c 300 "$T/check.err")"

# --- diff ----------------------------------------------------------------------
fx_profile "$T/exit.hsnap" "$FX/api" "$T/a.hsnap" "$T/b.hsnap"
jgolden json_diff_api "$HEAPSNAP" diff "$T/a.hsnap" "$T/b.hsnap" --format json -n 3

# --- info: the sites.c numbers (test_info.sh's golden), machine-dependent
# counts left out -------------------------------------------------------------
jgolden json_info_sites "$HEAPSNAP" info "$S" --format json
# two snapshots: one document, both in order; a bad second file: exit 2, no output
"$HEAPSNAP" info "$T/a.hsnap" "$T/b.hsnap" --format json | python3 -c '
import json, sys
s = json.load(sys.stdin)["snapshots"]
assert [x["reason"] for x in s] == ["api", "api"] and s[0]["sequence"] < s[1]["sequence"], s
' 2>"$T/info2.err" && t_pass json_info_two_snapshots ||
  t_fail json_info_two_snapshots "$(tail -c 300 "$T/info2.err")"
echo garbage >"$T/bad.hsnap"
"$HEAPSNAP" info "$S" "$T/bad.hsnap" --format json >"$T/info3.out" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && [ ! -s "$T/info3.out" ] && t_pass json_info_bad_file_no_half_document ||
  t_fail json_info_bad_file_no_half_document "exit $rc, $(wc -c <"$T/info3.out") bytes out"

# --- trend: api.c's series (its exit snapshot left out) ------------------------
jgolden json_trend_api "$HEAPSNAP" trend "$T/a.hsnap" "$T/b.hsnap" "$T/exit.hsnap" --format json

# --- bad values ----------------------------------------------------------------
for cmd in info trend; do
  "$HEAPSNAP" $cmd "$S" "$S" --format=xml >"$T/bad.out" 2>"$T/bad.err"; rc=$?
  [ $rc -eq 2 ] && [ ! -s "$T/bad.out" ] &&
    grep -qx "heapsnap: $cmd: bad value for --format: 'xml' (text, json)" "$T/bad.err" &&
    t_pass "json_${cmd}_bad_format_names_flag" ||
    t_fail "json_${cmd}_bad_format_names_flag" "exit $rc: $(cat "$T/bad.err")"
done
for cmd in top diff; do
  "$HEAPSNAP" $cmd "$S" "$S" --format xml >"$T/bad.out" 2>"$T/bad.err"; rc=$?
  [ $rc -eq 2 ] && [ ! -s "$T/bad.out" ] &&
    grep -qx "heapsnap: $cmd: bad value for --format: 'xml' (text, json)" "$T/bad.err" &&
    t_pass "json_${cmd}_bad_format_names_flag" ||
    t_fail "json_${cmd}_bad_format_names_flag" "exit $rc: $(cat "$T/bad.err")"
done
