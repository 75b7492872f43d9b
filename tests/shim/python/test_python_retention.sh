# test_python_retention.sh - who holds a Python object, on every supported
# CPython here: tests/shim/python/retention.py holds one object of each
# class CaseN by a module global's list and dict, a class attribute, a
# closure's cell, an instance attribute (3.11 on: in the instance's values),
# nested containers and a local of a function running in another thread,
# and prints each one's path built step by step from gc.get_referrers().
# `top --retainers --key type` must give each CaseN exactly that path,
# from its named root ("module __main__, global TABLE (dict) -> ['k1']
# (__main__.Case7)", "frame FILE:LINE in worker, local rows (list) -> ...",
# "the interpreter's own state (function) -> ..." for a signal's handler).
# --key type reads symbols only to name a C stack's function (a note on
# stderr where there are none).  The same in
# JSON, and through the Python API (Snapshot.load's retainers(), and
# retention_path() in the process), on each.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_retention_${v}" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
# ret_as_gc SNAP PREFIX OUT N TXT NAME: top --retainers of SNAP (into TXT)
# gives each of the N objects the program printed in OUT as "PREFIXk PATH"
# (gc.get_referrers' path) that very path, one object each.
ret_as_gc() {
  local s=$1 prefix=$2 out=$3 n=$4 txt=$5 name=$6 want bad="" case path got
  "$HEAPSNAP" top --retainers --key type -n 0 "$s" >"$txt" 2>&1
  want=$(grep -c "^$prefix[0-9] " "$out")
  while read -r case path; do
    got=$(grep -A1 "^  __main__\.$case: 1 object," "$txt" | sed -n 's/^    1 object: //p')
    [ "$got" = "$path" ] || bad="$bad$case: gc says '$path', heapsnap '$got'; "
  done < <(grep "^$prefix[0-9] " "$out")
  if [ "$want" = "$n" ] && [ -z "$bad" ]; then t_pass "$name"
  else t_fail "$name" "$want cases; $bad"; fi
}

script=tests/shim/python/retention.py
while read -r tag py; do
  s=$T/r-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_retention_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  ret_as_gc "$s" Case "$T/run-$tag.out" 9 "$T/t-$tag.txt" "python_retention_paths_as_gc_get_referrers_$tag"
  # the same in JSON
  "$HEAPSNAP" top --retainers --key type -n 0 --format json "$s" >"$T/j-$tag.json" 2>"$T/j-$tag.err"
  if python3 - "$T/j-$tag.json" "$T/run-$tag.out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
got = {t["type"]: [p["path"] for p in t["paths"]] for t in doc["python_retainers"]}
for line in open(sys.argv[2]):
    case, path = line.rstrip("\n").split(" ", 1)
    assert got.get("__main__." + case) == [path], (case, got.get("__main__." + case), path)
assert doc["schema"] == "heapsnap-top-retainers"
PY
  then t_pass "python_retention_json_$tag"
  else t_fail "python_retention_json_$tag" "$(head -c 300 "$T/j-$tag.json")"; fi
done < <(py_interpreters)

# Held out: holders written as programs write them, not for heapsnap
# (heldout.py: a class attribute's cache dict, a memoizing decorator's
# closure, a default argument, a bound method in another module's list of
# callbacks), each path as gc.get_referrers() builds it (refpath.py).
while read -r tag py; do
  s=$T/h-$tag.hsnap
  if ! py_run "$py" "$T/held-$tag" tests/shim/python/heldout.py "$s" || [ ! -s "$s" ]; then
    t_fail "python_retention_heldout_run_$tag" "$(tail -c 300 "$T/held-$tag.err")"; continue
  fi
  ret_as_gc "$s" Held "$T/held-$tag.out" 4 "$T/ht-$tag.txt" "python_retention_heldout_paths_as_gc_get_referrers_$tag"
done < <(py_interpreters)

# The Python API, under each interpreter: a loaded .hsnap's retainers(),
# and retention_path() in the process, give the same paths.
while read -r tag py; do
  s=$T/r-$tag.hsnap
  [ -s "$s" ] || continue # its run failed: said above
  if HEAPSNAP="$HEAPSNAP" PYTHONPATH=python "$py" - "$s" >"$T/api-$tag.out" 2>&1 <<'PY'
import sys
import heapsnap
rows = heapsnap.Snapshot.load(sys.argv[1]).retainers(limit=0)
paths = {r["type"]: r["paths"][0]["path"] for r in rows}
assert paths["__main__.Case7"] == "module __main__, global TABLE (dict) -> ['k1'] (__main__.Case7)", paths.get("__main__.Case7")
class Held: pass
CACHE = {"k": [Held()]}
got = heapsnap.retention_path(CACHE["k"][0])
assert got == "module __main__, global CACHE (dict) -> ['k'] (list) -> [0] (__main__.Held)", got
PY
  then t_pass "python_retention_python_api_$tag"
  else t_fail "python_retention_python_api_$tag" "$(tail -c 400 "$T/api-$tag.out")"; fi
done < <(py_interpreters)
