# test_python_objects_thread.sh - a snapshot's Python object sections
# (PYTYPES, PYOWNED, PYRETAIN) made on a second thread while the first
# writes the stacks' (HEAPSNAP_PYTHON_OBJECTS_THREAD; snapshot.c's
# snap_apart_start, snapjob.c) say what the same sections made in turn say.
# tests/shim/python/objects_thread.py keeps 30,000 Items in a linked list,
# 20,000 lists in a dict and 300 dropped cycles (the collector off).  On
# every CPython 3.10-3.15 here, the exit snapshot of `run --leaks` with the
# second thread (1) and without (0): the same Items counted and the same
# bytes retained by them, the same cycles found garbage, the same leak
# verdicts; with 1 the verbose run says the thread made them, with 0 it
# does not.  Once, without the leak check (the objects typed as BLOCKS
# streams, not on the check's fork): the same; and interval snapshots taken
# on the helper while the program runs, each with its Items; and auto
# keeps to one thread where the process may run on one CPU (taskset).
. tests/shim/python/lib_py.sh

script=tests/shim/python/objects_thread.py

# facts SNAP OUT: the Items' count and retained bytes, the garbage count
# and the leak summary's verdict lines, one a line.
facts() {
  "$HEAPSNAP" top "$1" --retained --key type -n 0 --format json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
g = next((g for g in d["groups"] if g["key"].endswith(".Item")), {})
print("items", g.get("blocks"), "retained", g.get("retained_bytes"))'
  "$HEAPSNAP" info "$1" 2>/dev/null | sed -n 's/^python objects: *[0-9]*, //p'
  "$HEAPSNAP" leaks "$1" -n 0 2>/dev/null | grep -E '^ *(definitely|indirectly|possibly|in cycles)' || true
}

# snap TAG PY MODE LEAKS: the exit snapshot of PY running the script with
# HEAPSNAP_PYTHON_OBJECTS_THREAD=MODE, verbose (its messages in TAG.err).
snap() {
  HEAPSNAP_PYTHON_OBJECTS_THREAD=$3 HEAPSNAP_VERBOSE=1 "$HEAPSNAP" run -q $4 \
    -o "$T/$1.hsnap" -- "$2" $script >"$T/$1.out" 2>"$T/$1.err"
}

first=1
while read -r tag py; do
  runs=("$tag-1 1 --leaks" "$tag-0 0 --leaks")
  [ "$first" = 1 ] && runs+=("$tag-1n 1 " "$tag-0n 0 ")
  for r in "${runs[@]}"; do
    set -- $r
    snap "$1" "$py" "$2" "${3:-}"
  done
  for pair in "$tag-1 $tag-0 leaks" "$tag-1n $tag-0n plain"; do
    set -- $pair
    [ -e "$T/$1.err" ] || continue
    facts "$T/$1.hsnap" >"$T/$1.facts"
    facts "$T/$2.hsnap" >"$T/$2.facts"
    said=$(grep -c "objects' sections made on a second thread" "$T/$1.err")
    not=$(grep -c "objects' sections made on a second thread" "$T/$2.err")
    if grep -q '^items 30000 retained [1-9]' "$T/$1.facts" && grep -q '300 garbage' "$T/$1.facts" &&
       cmp -s "$T/$1.facts" "$T/$2.facts" && [ "$said" = 1 ] && [ "$not" = 0 ]; then
      t_pass "python_objects_thread_same_sections_${3}_$tag"
    else t_fail "python_objects_thread_same_sections_${3}_$tag" "thread said $said, in turn said $not; $(paste -sd'|' "$T/$1.facts") against $(paste -sd'|' "$T/$2.facts") $(grep -v '^heapsnap: note' "$T/$1.err" | grep -iE 'warn|cannot|error' | head -c 200)"; fi
  done
  if [ "$first" = 1 ] && command -v taskset >/dev/null; then # one CPU: auto keeps to one thread
    taskset -c 0 env HEAPSNAP_VERBOSE=1 "$HEAPSNAP" run -q -o "$T/one.hsnap" -- "$py" $script \
      >"$T/one.out" 2>"$T/one.err"
    said=$(grep -c "objects' sections made on a second thread" "$T/one.err")
    if [ "$said" = 0 ] && facts "$T/one.hsnap" | grep -q '^items 30000 retained [1-9]'; then
      t_pass python_objects_thread_auto_not_on_one_cpu
    else t_fail python_objects_thread_auto_not_on_one_cpu "thread said $said: $(facts "$T/one.hsnap" | head -1)"; fi
  fi
  if [ "$first" = 1 ]; then # interval snapshots, each on the helper, while the program runs
    rm -f "$T"/iv.*.hsnap
    HEAPSNAP_PYTHON_OBJECTS_THREAD=1 HEAPSNAP_VERBOSE=1 HEAPSNAP_INTERVAL=0.25 \
      HEAPSNAP_OUTPUT="$T/iv.hsnap" LD_PRELOAD=$SHIM "$py" $script hold >"$T/iv.out" 2>"$T/iv.err"
    # every one typed with retained sizes (top --retained refuses a snapshot
    # without them); those after the Items were made (the first may come
    # before: a loaded machine) count them all
    n=0 typed=0 good=0
    for f in "$T"/iv.[0-9]*.hsnap; do
      [ -e "$f" ] || continue
      n=$((n + 1))
      facts "$f" >"$T/iv.facts"
      "$HEAPSNAP" top "$f" --retained -n 1 >/dev/null 2>&1 && typed=$((typed + 1))
      grep -q '^items 30000 retained [1-9]' "$T/iv.facts" && good=$((good + 1))
    done
    said=$(grep -c "objects' sections made on a second thread" "$T/iv.err")
    if [ "$good" -ge 2 ] && [ "$typed" = "$n" ] && [ "$said" -ge "$n" ]; then
      t_pass python_objects_thread_interval_snapshots_typed
    else t_fail python_objects_thread_interval_snapshots_typed "$typed of $n interval snapshots typed, $good with all the Items, thread said $said"; fi
  fi
  first=0
done < <(py_interpreters)
