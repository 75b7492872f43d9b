# test_python_cycle_paths.sh - a garbage cycle's path names the attribute
# at each step, as a Python developer reads it (`Node.next -> Node.next
# -> back`), on every CPython: 3.10 keeps attributes in an instance's
# __dict__ (a dict of its own, one step with its key), 3.11 and 3.12 in a
# values array its class's shared keys name, 3.13 inline in the object.
# A __slots__ member reads by its name too.  On 3.13 an instance whose
# attributes a dict took over keeps stale inline words (not references),
# and one whose __dict__ shares its inline values holds the values
# itself: the garbage is then what gc.collect() frees.
# tests/shim/python/cyclepaths.py makes them; a SKIP line names each
# CPython 3.10-3.13 absent.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_cycle_paths_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

total() { awk '/: size=/ { sub(/.*count=/, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }' "$1"; }

while read -r tag py; do
  s=$T/p-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" tests/shim/python/cyclepaths.py "$s" || [ ! -s "$s" ]; then
    t_fail "python_cycle_paths_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  want=$(cat "$T/run-$tag.out")
  "$HEAPSNAP" leaks "$s" >"$T/l-$tag.txt" 2>"$T/l-$tag.err"
  # each group's line, then its cycle: "TYPE<TAB>PATH"
  awk '/^  [0-9]+ [^ ]+ \(.*\) at .*cyclepaths.py:/ { t = $2; next }
       /^    cycle: / && t { sub(/^    cycle: /, ""); print t "\t" $0; t = "" }' \
    "$T/l-$tag.txt" >"$T/c-$tag.txt"
  ok=1
  for want_path in "__main__.Node	Node.next -> Node.next -> back" \
                   "__main__.Slot	Slot.peer -> Slot.peer -> back" \
                   "__main__.Wide	Wide.back -> back" \
                   "__main__.Stale	Stale.me -> back" \
                   "__main__.Shared	Shared.own -> back"; do
    grep -Fqx "$want_path" "$T/c-$tag.txt" || ok=0
  done
  if [ "$ok" = 1 ]; then t_pass "python_cycle_paths_name_attributes_$tag"
  else t_fail "python_cycle_paths_name_attributes_$tag" "$(tr '\n' '|' <"$T/c-$tag.txt" | head -c 600)"; fi

  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/g-$tag.txt" 2>&1
  got=$(total "$T/g-$tag.txt")
  if [ -n "$want" ] && [ "$got" = "$want" ]; then t_pass "python_cycle_paths_garbage_as_gc_collect_$tag"
  else t_fail "python_cycle_paths_garbage_as_gc_collect_$tag" "gc.collect() $want, top --garbage $got: $(tr '\n' '|' <"$T/g-$tag.txt" | head -c 300)"; fi
done < <(py_interpreters)

# Cycles of several attributes: the path printed for each group is a
# cycle through one of its objects (tests/shim/python/cycletree.py).  A
# child is held by its parent's children list at the index it was
# appended at: below 3 for a root's, 2 for a child's; a child is on two
# cycles (with its parent, with its children).  A Node's data list is on
# no cycle: it reads as held by one of the tree's.
tree=tests/shim/python/cycletree.py
lroot=$(py_line $tree '# ROOT'); lchild=$(py_line $tree '# CHILD$')
lgrand=$(py_line $tree '# GRANDCHILD'); lkids=$(py_line $tree '# CHILDREN')
ldata=$(py_line $tree '# DATA'); lring=$(py_line $tree 'a, b, c = A()')
while read -r tag py; do
  s=$T/t-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/tree-$tag" $tree "$s" || [ ! -s "$s" ]; then
    t_fail "python_cycle_paths_tree_run_$tag" "$(tail -c 300 "$T/tree-$tag.err")"; continue
  fi
  "$HEAPSNAP" leaks "$s" >"$T/tl-$tag.txt" 2>"$T/tl-$tag.err"
  # "TYPE:LINE<TAB>PATH" for each group made in cycletree.py
  awk '/^  [0-9]+ [^ ]+ \(.*\) at .*cycletree.py:[0-9]+$/ { t = $2 ":" $NF; sub(/:.*cycletree.py:/, ":", t); next }
       /^    cycle: / && t { sub(/^    cycle: /, ""); print t "\t" $0; t = "" }' \
    "$T/tl-$tag.txt" >"$T/tc-$tag.txt"
  tcyc='(Node\.children -> list\[[0-2]\] -> Node\.parent|list\[[0-2]\] -> Node\.parent -> Node\.children|Node\.parent -> Node\.children -> list\[[0-2]\]|dict\[.children.\] -> list\[[0-2]\] -> Node\.parent -> Node\.__dict__|dict\[.parent.\] -> Node\.children -> list\[[0-2]\] -> Node\.__dict__)'
  bad=
  for want in "__main__.Node:$lroot	Node\.children -> list\[[0-2]\] -> Node\.parent -> back" \
              "__main__.Node:$lchild	(Node\.parent -> Node\.children -> list\[[0-2]\]|Node\.children -> list\[[01]\] -> Node\.parent) -> back" \
              "__main__.Node:$lgrand	Node\.parent -> Node\.children -> list\[[01]\] -> back" \
              "list:$lkids	list\[[0-2]\] -> Node\.parent -> Node\.children -> back" \
              "list:$ldata	held by the cycle $tcyc -> back, through (Node\.data|(Node\.__dict__ -> )?dict\[.data.\]) -> list" \
              "__main__.A:$lring	A\.to_b -> B\.to_c -> C\.to_a -> back" \
              "__main__.B:$lring	B\.to_c -> C\.to_a -> A\.to_b -> back" \
              "__main__.C:$lring	C\.to_a -> A\.to_b -> B\.to_c -> back"; do
    grep -Eqx "$want" "$T/tc-$tag.txt" || bad="$bad ${want%%	*}"
  done
  if [ -z "$bad" ]; then t_pass "python_cycle_paths_tree_and_ring_are_cycles_$tag"
  else t_fail "python_cycle_paths_tree_and_ring_are_cycles_$tag" "wrong:$bad: $(tr '\n' '|' <"$T/tc-$tag.txt" | head -c 900)"; fi
  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/tg-$tag.txt" 2>&1
  want=$(cat "$T/tree-$tag.out"); got=$(total "$T/tg-$tag.txt")
  if [ -n "$want" ] && [ "$got" = "$want" ]; then t_pass "python_cycle_paths_tree_garbage_as_gc_collect_$tag"
  else t_fail "python_cycle_paths_tree_garbage_as_gc_collect_$tag" "gc.collect() $want, top --garbage $got"; fi
done < <(py_interpreters)
