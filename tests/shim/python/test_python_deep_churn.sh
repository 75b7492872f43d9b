# test_python_deep_churn.sh - a Python stack 60 frames deep is exact after
# the frames under it changed: every allocation walks the thread's frames
# and takes the last walk's words for the outer frames that read the same
# (pyfr_walk_m), so an outer frame that moved on while
# the frames above it were popped and pushed again at the same addresses
# must still be read afresh.  deep_churn.py makes each site's block with a
# size of its own, 30 to 66 frames deep (recursion up and down, a caller
# moving on under re-pushed frames, a generator resumed under three
# callers, an exception unwound 30 frames, four threads at once) and
# records the stack sys._getframe gives on the same line; every block of
# those sizes in the snapshot (Snapshot.load) must carry that stack, frame
# for frame (HEAPSNAP_DEPTH=128: none cut).  A walk that reused an outer
# frame's instruction without reading it made 2,050 blocks wrong here.
# On every CPython 3.10-3.15 found.
. tests/shim/python/lib_py.sh

while read -r tag py; do
  d=$T/$tag
  mkdir -p "$d"
  HEAPSNAP_DEPTH=128 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/x.%p.hsnap" "$py" \
    tests/shim/python/deep_churn.py "$d/s.hsnap" "$d/want.json" >"$d/out" 2>&1
  PYTHONPATH="$PWD/python" HEAPSNAP="$HEAPSNAP" "$py" - "$d/s.hsnap" "$d/want.json" >"$d/check" 2>&1 <<'PY'
import json
import sys
import heapsnap
want = json.load(open(sys.argv[2]))
found, bad = set(), []
for t in heapsnap.Snapshot.load(sys.argv[1]).traces:
    fr = [[f.filename, f.lineno] for f in t.traceback][::-1]  # innermost first
    s = str(t.size)
    if s in want and fr and fr[0][0].endswith("deep_churn.py"):
        found.add(s)
        if fr != want[s]:
            bad.append("size %s: %d frames, want %d, first wrong %s" % (
                s, len(fr), len(want[s]),
                next((i for i in range(len(fr)) if i >= len(want[s]) or fr[i] != want[s][i]), len(fr))))
print("sites %d found %d wrong %d" % (len(want), len(found), len(bad)))
print("\n".join(bad[:3]))
PY
  if grep -qx 'sites 59 found 59 wrong 0' "$d/check"; then
    t_pass "python_deep_stacks_exact_after_churn_$tag"
  else
    t_fail "python_deep_stacks_exact_after_churn_$tag" \
      "$(head -c 400 "$d/check" | tr '\n' ' ') $(tail -c 300 "$d/out" | tr '\n' ' ')"
  fi
done < <(py_interpreters)
