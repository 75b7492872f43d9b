# test_python_cycle_rings.sh - a single ring of cyclic garbage of each
# kind (tests/shim/python/cyclerings.py: instances with a __dict__ or
# __slots__, lists, dicts, a closure, a bound method on its instance, a
# tuple in a list, a class), each made once by a function that returned, is
# garbage in `top --garbage --key type` as the collector itself counts it
# (gc.collect() with gc.DEBUG_SAVEALL: its gc.garbage by type), type by
# type and in all.  A returned function's objects can stay in a stale
# slot of the running eval loop's C frame, which the conservative scan of
# the C stack reads: that word named a ring (3.12: the lists) but must
# not keep it alive, as it does not keep it from gc.collect() (pyg_mark's
# first round).  `leaks` names the class's cycle as a Python developer
# does, on every version: "ring_class.<locals>.RingClass.__mro__ ->
# tuple[0] -> back" (3.12 made __mro__ a getset: it read "type ->
# tuple[0]" from 3.11 on, and "type.__mro__" on 3.10).  On every CPython
# 3.10-3.13 found; a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

script=tests/shim/python/cyclerings.py
for v in $(py_versions_missing); do
  t_skip "python_cycle_rings_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

while read -r tag py; do
  s=$T/r-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_cycle_rings_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/g-$tag.txt" 2>"$T/g-$tag.err"
  # count TYPE: top's count for TYPE (0 when absent)
  count() { awk -v t="$1: " 'index($0, t) == 1 { sub(/.*count=/, ""); sub(/,.*/, ""); print; f = 1 } END { if (!f) print 0 }' "$T/g-$tag.txt"; }
  for pair in "inst __main__.RingInst" "slots __main__.RingSlot" "lists list" "dicts dict" \
              "closure function" "closure_cell cell" "bound method" "bound_instance __main__.RingMeth" \
              "tuple tuple" "class type"; do
    what=${pair% *}; type=${pair#* }
    want=$(awk -v t="$type" '$1 == t { print $2 }' "$T/run-$tag.out")
    got=$(count "$type")
    if [ -n "$want" ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ]; then
      t_pass "python_cycle_rings_${what}_as_gc_collect_$tag"
    else t_fail "python_cycle_rings_${what}_as_gc_collect_$tag" "gc frees ${want:-none} $type, top --garbage $got: $(tr '\n' '|' <"$T/g-$tag.txt" | head -c 300)"; fi
  done
  want=$(awk '$1 == "total" { print $2 }' "$T/run-$tag.out")
  got=$(awk '/: size=/ { sub(/.*count=/, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }' "$T/g-$tag.txt")
  if [ -n "$want" ] && [ "$got" = "$want" ]; then
    t_pass "python_cycle_rings_total_as_gc_collect_$tag"
  else t_fail "python_cycle_rings_total_as_gc_collect_$tag" "gc.collect() ${want:-?}, top --garbage $got"; fi
  "$HEAPSNAP" leaks "$s" >"$T/l-$tag.txt" 2>&1
  if grep -A1 -E '^  1 type \(.*\) at .*cyclerings\.py:[0-9]+$' "$T/l-$tag.txt" |
       grep -Fqx '    cycle: ring_class.<locals>.RingClass.__mro__ -> tuple[0] -> back'; then
    t_pass "python_cycle_rings_class_mro_named_$tag"
  else t_fail "python_cycle_rings_class_mro_named_$tag" "$(grep -A1 -E '^  1 type ' "$T/l-$tag.txt" | tr '\n' '|' | head -c 300)"; fi
done < <(py_interpreters)
