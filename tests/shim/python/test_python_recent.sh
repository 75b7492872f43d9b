# test_python_recent.sh - a loop's Python stacks come from the thread's
# recent splices (shim/python/frames/recent.c), not a splice and an intern
# each: recent.py's 100 callers take turns through 200 contexts (300 on
# 3.13, whose bytearray makes three allocations), each met again after all
# the others.  The loop's share is the difference of two runs, 20 and 40
# rounds, of HEAPSNAP_VERBOSE's counts ("python: stacks asked of the
# recent splices", "stacks found there"); at least 90% must be found, on
# every CPython 3.10-3.15 here.  The table of 1,024 contexts, whose words
# share a pool: Debian's 3.11 4,256 of 4,256, pyenv's 3.13.0 7,024 of
# 7,122; the old table of 128, each with its words in place: 1,072 of
# 4,236 and 498 of 6,245.
. tests/shim/python/lib_py.sh

counts() { # TAG PY ROUNDS: "ASKED FOUND"
  PYTHONHASHSEED=0 HEAPSNAP_STATE=0 HEAPSNAP_VERBOSE=1 LD_PRELOAD=$SHIM \
    HEAPSNAP_OUTPUT="$T/$1-$3.hsnap" "$2" -S tests/shim/python/recent.py 100 "$3" 2>&1 >/dev/null |
    awk -F': ' '/python: stacks asked of the recent splices/ { a = $NF }
                /python: stacks found there/ { f = $NF } END { print a + 0, f + 0 }'
}

while read -r tag py; do
  read -r a1 f1 < <(counts "$tag" "$py" 20)
  read -r a2 f2 < <(counts "$tag" "$py" 40)
  asked=$((a2 - a1)) found=$((f2 - f1))
  if [ "$asked" -lt 3000 ]; then
    t_fail "python_recent_splices_hold_a_loop_$tag" "20 more rounds asked $asked ($a1 -> $a2)"
  elif [ $((found * 10)) -ge $((asked * 9)) ]; then
    t_pass "python_recent_splices_hold_a_loop_$tag"
  else
    t_fail "python_recent_splices_hold_a_loop_$tag" "20 more rounds: $found of $asked found"
  fi
done < <(py_interpreters)
