# test_python_cycles.sh - the objects' reference graph at a snapshot and
# the collector's rule over it: tests/shim/python/cycles.py drops 50 pairs
# of Node that point to each other and a Fin with a __del__ that points to
# itself, with the collector off, and prints what gc.collect() then frees.
# `top --garbage` counts the same objects (3.10: each Node's __dict__
# too, as the gc does), `leaks` names them per site and type with the
# cycle's path and the finalizer, and the 10 Node a list keeps are not
# garbage.  A clean program (json, re, dataclasses, asyncio, a thread)
# has the garbage gc.collect() finds there, and under the leak check no
# object the interpreter unmarshalled is "possibly lost".  On every
# CPython 3.10-3.15 found; a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

script=tests/shim/python/cycles.py
for v in $(py_versions_missing); do
  t_skip "python_cycles_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# total FILE: the counts of top's lines in FILE, summed.
total() { awk '/: size=/ { sub(/.*count=/, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }' "$1"; }

while read -r tag py; do
  s=$T/c-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_cycles_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  want=$(cat "$T/run-$tag.out")
  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/g-$tag.txt" 2>"$T/g-$tag.err"
  got=$(total "$T/g-$tag.txt")
  nodes=$(awk '/^__main__.Node: / { sub(/.*count=/, ""); sub(/,.*/, ""); print }' "$T/g-$tag.txt")
  if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$nodes" = 100 ]; then
    t_pass "python_cycles_garbage_matches_gc_collect_$tag"
  else t_fail "python_cycles_garbage_matches_gc_collect_$tag" "gc.collect() $want, top --garbage $got (Node ${nodes:-0}) $(head -c 200 "$T/g-$tag.err")"; fi

  # The report's lines (symbols are read lazily: under a second a version).
  if [ -n "$want" ]; then
    "$HEAPSNAP" leaks "$s" >"$T/l-$tag.txt" 2>/dev/null
    if grep -q "^$want Python objects .* are garbage awaiting the collector" "$T/l-$tag.txt" &&
       grep -Eq '^  [0-9]+ __main__.Fin \(.*\) at .*cycles.py:[0-9]+, with a finalizer' "$T/l-$tag.txt" &&
       grep -Eq '^    cycle: Node.next -> Node.next -> back$' "$T/l-$tag.txt" &&
       ! grep -Eq '^  [0-9]+ __main__.Node .*finalizer' "$T/l-$tag.txt"; then
      t_pass "python_cycles_leaks_names_site_type_path_finalizer_$tag"
    else t_fail "python_cycles_leaks_names_site_type_path_finalizer_$tag" "$(head -c 600 "$T/l-$tag.txt" | tr '\n' '|')"; fi
  else t_fail "python_cycles_leaks_names_site_type_path_finalizer_$tag" "cycles.py printed no gc.collect() count"; fi
done < <(py_interpreters)

# A clean program: what gc.collect() frees there (none, as a rule) and no more.
cat >"$T/clean.py" <<'PY'
import ctypes, gc, sys, threading
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
import json, re, dataclasses, asyncio
@dataclasses.dataclass
class P:
    x: int
json.dumps({"a": [P(1).x]}); re.compile(r"a+b")
async def f(): return 1
asyncio.run(f())
t = threading.Thread(target=lambda: None); t.start(); t.join()
gc.disable()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(gc.collect())
PY
while read -r tag py; do
  # Under the leak check: a gc object is referenced past its PyGC_Head, a
  # class instance's values array past its prefix, and neither is
  # "possibly lost" for that: the constants _compile_bytecode unmarshals
  # were 5000 such blocks.
  HEAPSNAP_LEAKS=1 py_run "$py" "$T/clean-$tag" "$T/clean.py" "$T/k-$tag.hsnap"
  want=$(cat "$T/clean-$tag.out")
  "$HEAPSNAP" leaks --kinds possible "$T/k-$tag.hsnap" >"$T/kl-$tag.txt" 2>/dev/null
  n=$(grep -A1 'possibly lost in loss' "$T/kl-$tag.txt" | grep -B1 '_compile_bytecode' |
      awk '/bytes in/ { n += $4 } END { print n + 0 }')
  if [ -s "$T/kl-$tag.txt" ] && [ "$n" -lt 100 ]; then t_pass "python_objects_not_possibly_lost_$tag"
  else t_fail "python_objects_not_possibly_lost_$tag" "$n blocks possibly lost at _compile_bytecode"; fi
  "$HEAPSNAP" top "$T/k-$tag.hsnap" --garbage --key type -n 0 >"$T/kg-$tag.txt" 2>&1
  got=$(total "$T/kg-$tag.txt")
  if [ -n "$want" ] && [ "$got" = "$want" ]; then t_pass "python_cycles_clean_program_as_gc_$tag"
  else t_fail "python_cycles_clean_program_as_gc_$tag" "gc.collect() $want, top --garbage $got: $(head -c 200 "$T/kg-$tag.txt")"; fi
done < <(py_interpreters)
