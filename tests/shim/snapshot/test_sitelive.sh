# test_sitelive.sh - a site-line point's per-site bytes from the hooks'
# lines (peak_live_bytes less the held frees) are the walk's: sitelive's
# heap, known site by site (kept blocks, reallocs, mapped ranges cut in
# pieces, blocks freed by another thread that holds the last of them back,
# fresh blocks of a waiting thread), stands still while the helper takes
# points every 10 ms; its last point must be the exit snapshot's own
# (summed by a walk) site for site, and both the known bytes.  Run twice:
# on the lines (HEAPSNAP_VERBOSE says the points came from them, and
# HEAPSNAP_SITELINE_CHECK compares the lines with the snapshot's walk
# trace by trace), and on the fallback walk (HEAPSNAP_PEAK=off keeps no
# lines).
. tests/shim/lib_shim.sh
s_build sitelive || t_fail sitelive_builds "cc failed"
src=tests/shim/snapshot/sitelive.c
line() { grep -n "/\* site: $1 \*/" "$src" | head -1 | cut -d: -f1; }
page=$(getconf PAGESIZE)

for way in lines walk; do
  rm -f "$T/sl.hsnap"
  if [ $way = lines ]; then peak=on; else peak=off; fi
  HEAPSNAP_PEAK=$peak HEAPSNAP_SITELINE=0.01 HEAPSNAP_SITELINE_COST=0 HEAPSNAP_VERBOSE=1 \
    HEAPSNAP_SITELINE_CHECK=1 HEAPSNAP_OUTPUT="$T/sl.hsnap" LD_PRELOAD=$SHIM \
    "$T/sitelive" 300 >/dev/null 2>"$T/sl.$way.err"
  lines=$(sed -n 's/^heapsnap: siteline: points from the lines: //p' "$T/sl.$way.err")
  walks=$(sed -n 's/^heapsnap: siteline: points from a walk: //p' "$T/sl.$way.err")
  if [ $way = lines ]; then
    ok=$([ "${lines:-0}" -ge 1 ] && [ "${walks:-1}" = 0 ] && echo 1)
  else
    ok=$([ "${lines:-1}" = 0 ] && [ "${walks:-0}" -ge 1 ] && echo 1)
  fi
  if [ -n "$ok" ]; then t_pass "sitelive_points_from_the_${way}"
  else t_fail "sitelive_points_from_the_${way}" "lines '$lines', walks '$walks'"; fi
  if ! "$HEAPSNAP" timeline --format json "$T/sl.hsnap" >"$T/sl.$way.json" 2>"$T/sl.$way.terr"; then
    t_fail "sitelive_last_point_is_the_snapshots_${way}" "$(head -c 300 "$T/sl.$way.terr")"
    continue
  fi
  why=$(python3 - "$T/sl.$way.json" "$src" "$page" \
        "$(line keep)" "$(line grow)" "$(line regrow)" "$(line map)" "$(line own)" "$(line tmp)" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
src, page = sys.argv[2], int(sys.argv[3])
keep, grow, regrow, mp, own, tmp = ("%s:%s" % (src, n) for n in sys.argv[4:10])
p = d["processes"][0]
names = [s["site"] for s in p["sites"]]
pts = [pt for pt in p["points"] if not pt.get("captured_peak")]
assert len(pts) >= 3, "%d points" % len(pts)
def sites(pt):
    return {names[i]: v for i, v in pt["sites"] if v}
last, snap = pts[-2], pts[-1]
a, b = sites(last), sites(snap)
assert a == b and last["heap"] == snap["heap"] and last["other"] == snap["other"], \
    "the helper's last point %s (heap %d), the snapshot's %s (heap %d)" % (a, last["heap"], b, snap["heap"])
want = {keep: 64 * 3000, mp: 39 * page, own: 32 * 700}
got = {k: b.get(k, 0) for k in want}
assert got == want, "%s, want %s" % (got, want)
assert b.get(grow, 0) + b.get(regrow, 0) == 120 * 500, (b.get(grow), b.get(regrow))
assert tmp not in b, "tmp holds %d bytes: the held frees counted" % b[tmp]
PY
)
  if [ -z "$why" ]; then t_pass "sitelive_last_point_is_the_snapshots_${way}"
  else t_fail "sitelive_last_point_is_the_snapshots_${way}" "$(echo "$why" | tail -2 | tr '\n' ' ')"; fi
done

# The check itself: on the lines it compared every trace and none
# differed; with no lines it compares nothing (and says nothing).
compared=$(sed -n 's/^heapsnap: siteline: check: traces compared with the walk: //p' "$T/sl.lines.err" | tail -1)
differed=$(sed -n 's/^heapsnap: siteline: check: traces that differed: //p' "$T/sl.lines.err" | tail -1)
if [ "${compared:-0}" -ge 6 ] && [ "$differed" = 0 ] && ! grep -q 'differ from the walk' "$T/sl.lines.err"; then
  t_pass sitelive_check_finds_the_lines_exact
else
  t_fail sitelive_check_finds_the_lines_exact "compared '$compared', differed '$differed'"
fi
walks=$(sed -n 's/^heapsnap: siteline: points from a walk: //p' "$T/sl.walk.err")
if [ "${walks:-0}" -ge 1 ] && ! grep -q 'siteline: check' "$T/sl.walk.err"; then
  t_pass sitelive_check_needs_lines
else
  t_fail sitelive_check_needs_lines "walks '$walks': $(grep 'siteline: check' "$T/sl.walk.err" | head -2)"
fi
