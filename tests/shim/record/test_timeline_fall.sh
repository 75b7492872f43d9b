# tests/shim/record/test_timeline_fall.sh - the heap over time falls when a
# block is freed, before the process exits, also when the thread that freed
# it idles after: tests/fixtures/idlefree.c holds 1.3 MiB at its peak, frees
# 1 MiB, and naps 300 ms; "held" makes the shim hold that free back
# (pending.c's queue).  `heapsnap timeline --format json` (the points of
# SITELINE, or with HEAPSNAP_SITELINE=0 of TIMELINE alone) must have a point
# after the peak's, before the exit snapshot's own, at least 768 KiB lower
# than the peak.  Without SITELINE's helper a held free shows at the
# thread's next free or at exit (timeline_idle's limit), so that case is
# not asked.
. tests/fixtures/lib.sh
FX_TEST=timeline_fall fx_ready idlefree || return 0

# falls SNAP: "ok", or why not
falls() {
  "$HEAPSNAP" timeline --format json "$1" 2>"$T/tl.err" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["processes"][0]
pts = d["points"]
top = max(range(len(pts)), key=lambda i: pts[i]["heap"])
peak, last = pts[top]["heap"], pts[-1]
low = [p for p in pts[top + 1:-1] if p["heap"] <= peak - 768 * 1024]
if peak < 1280 * 1024: print("peak %d B, want 1.3 MiB" % peak)
elif last["heap"] > peak - 768 * 1024: print("the exit snapshot holds %d B of a %d B peak" % (last["heap"], peak))
elif not low: print("no point falls before exit: " + " ".join("%d:%d" % (p["t_ns"] // 1000000, p["heap"] // 1024) for p in pts))
else: print("ok")' 2>&1
}

for mode in plain held; do
  for sl in 0.1 0; do
    [ $mode = held ] && [ $sl = 0 ] && continue
    name=timeline_falls_after_${mode}_free; [ $sl = 0 ] && name=${name}_without_siteline
    if ! HEAPSNAP_SITELINE=$sl fx_profile "$T/$mode-$sl.hsnap" "$FX/idlefree" $mode; then
      t_fail "$name" "idlefree exited $?: $(head -c 300 "$T/fx.err")"; continue
    fi
    why=$(falls "$T/$mode-$sl.hsnap")
    [ "$why" = ok ] && t_pass "$name" || t_fail "$name" "$why $(head -c 200 "$T/tl.err")"
  done
done
