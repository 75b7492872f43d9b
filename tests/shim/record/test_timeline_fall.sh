# tests/shim/record/test_timeline_fall.sh - the heap over time falls when a
# block is freed, before the process exits, also when the thread that freed
# it idles after: tests/fixtures/idlefree.c holds 1.3 MiB at its peak, frees
# 1 MiB, and naps 300 ms; "held" makes the shim hold that free back
# (pending.c's queue).  `heapsnap timeline --format json` (the points of
# SITELINE, or with HEAPSNAP_SITELINE=0 of TIMELINE alone) must have a point
# after the peak's, before the exit snapshot's own, at least 768 KiB lower
# than the peak, and none after it back up there (the peak the exit snapshot
# captures leaves held frees out).  With HEAPSNAP_SITELINE=0 the helper still runs for the
# state file, whose wake-ups add the fall (timeline_idle); with
# HEAPSNAP_STATE=0 too there is no helper, and the free's own fold adds it
# (timeline_fall).  Without the helper a held free shows at the thread's
# next free or at exit (the limit docs/design.md states): not asked.
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
else:
    k = pts.index(low[0])
    back = [p for p in pts[k + 1:] if p["heap"] > peak - 768 * 1024]
    print("after its fall the heap is %d B again at %d ms" % (back[0]["heap"], back[0]["t_ns"] // 1000000) if back else "ok")' 2>&1
}

# run NAME MODE ENV...: idlefree MODE under the shim with ENV; NAME passes when it falls
run() {
  local name=$1 mode=$2; shift 2
  if ! env "$@" HEAPSNAP_OUTPUT="$T/$name.hsnap" LD_PRELOAD="$SHIM" "$FX/idlefree" $mode \
       >"$T/fx.out" 2>"$T/fx.err"; then
    t_fail "$name" "idlefree exited $?: $(head -c 300 "$T/fx.err")"; return
  fi
  local why; why=$(falls "$T/$name.hsnap")
  [ "$why" = ok ] && t_pass "$name" || t_fail "$name" "$why $(head -c 200 "$T/tl.err")"
}
for mode in plain held; do
  run timeline_falls_after_${mode}_free $mode
  run timeline_falls_after_${mode}_free_without_siteline $mode HEAPSNAP_SITELINE=0
done
run timeline_falls_after_plain_free_without_helper plain HEAPSNAP_SITELINE=0 HEAPSNAP_STATE=0
