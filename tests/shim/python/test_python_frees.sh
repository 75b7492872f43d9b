# test_python_frees.sh - the allocator domains' wrappers free or resize the
# block underneath (PYTHONMALLOC=malloc: the object itself) with the guard
# set, after taking it off the books: it goes straight to the real free or
# realloc (deferred.c's defer_offbook), not through the stack of frees
# deferred under the guard, which a signal handler's frees still take
# (180,000 deferrals here before; now the shim's own few and the small
# blocks' reallocs, which still copy: hook_realloc_defers); the books stay
# right: the bytearray grown by realloc is one live block of its final size
# (100,000 bytes and bytearray's headroom); and a buffer or list that grows
# to tens of MiB adds to the peak resident memory what it adds without the
# shim (grow.py: ~1.0x the buffer; 1.80x and 1.17x when each growth of a
# block of any size was a copy).
. tests/shim/python/lib_py.sh

while read -r tag py; do
  PYTHONMALLOC=malloc HEAPSNAP_VERBOSE=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" \
    "$py" tests/shim/python/frees.py "$T/f-$tag.hsnap" >"$T/f-$tag.out" 2>"$T/f-$tag.err"
  n=$(sed -n 's/.*hooks: frees deferred under the guard: \([0-9]*\).*/\1/p' "$T/f-$tag.err" | tail -1)
  if [ -z "$n" ]; then
    t_fail "python_wrapper_frees_not_deferred_$tag" "no count: $(head -c 300 "$T/f-$tag.err")"
  elif [ "$n" -lt 10000 ]; then
    t_pass "python_wrapper_frees_not_deferred_$tag"
  else
    t_fail "python_wrapper_frees_not_deferred_$tag" "$n frees deferred under the guard"
  fi
  line=$("$HEAPSNAP" top "$T/f-$tag.hsnap" -n 0 --include '*frees.py' 2>/dev/null | grep 'frees\.py:12:')
  size=$(echo "$line" | sed -n 's/.*size=\([0-9.]*\) KiB, count=1,.*/\1/p')
  if [ -n "$size" ] && awk -v s="$size" 'BEGIN { exit !(s >= 97.6 && s <= 125) }'; then
    t_pass "python_realloc_books_stay_right_$tag"
  else
    t_fail "python_realloc_books_stay_right_$tag" "line 12: '$line'"
  fi
done < <(py_interpreters)

while read -r tag py; do
  for m in malloc pymalloc; do
    PYTHONMALLOC=$m LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/g.%p.hsnap" \
      "$py" tests/shim/python/grow.py >"$T/g-$tag-$m.out" 2>"$T/g-$tag-$m.err"
    r=$(awk '$1 == "grow" && $3 > w { w = $3 } END { if (NR == 2) print w }' "$T/g-$tag-$m.out")
    if [ -n "$r" ] && awk -v r="$r" 'BEGIN { exit !(r < 1.25) }'; then
      t_pass "python_growth_adds_no_copy_${tag}_$m"
    else
      t_fail "python_growth_adds_no_copy_${tag}_$m" \
        "peak growth over size '$r': $(cat "$T/g-$tag-$m.out") $(head -c 300 "$T/g-$tag-$m.err")"
    fi
  done
done < <(py_interpreters)
