# test_python_tracemalloc_from_start.sh - tracemalloc on from start-up
# (-X tracemalloc, PYTHONTRACEMALLOC=1) puts its hooks on the allocator
# domains before the shim wraps them: the shim's wrappers go beneath the
# hooks (domain.c's py_tm_entries), so that what the hooks allocate for
# themselves is recorded, at tracemalloc's own site.  Before, it ran
# inside the wrappers' guard, unseen, and the hash tables' entries chained
# after it read as lost: `run --gate` failed on `-c 'x=1'` on every
# version (3.15 again, 226 blocks, while its hooks, one function for all
# three domains where 3.10-3.14 had one for RAW apart, were not
# recognised).  Now, on every CPython 3.10-3.15 found (a SKIP line names each
# one absent): a clean program passes the gate; the program's line holds
# what tracemalloc counts there (within 20 blocks: tracemalloc's count
# is at its snapshot, heapsnap's at exit) and tracemalloc's tables are their own
# site; and a real leak in the same program still fails the gate, alone.
# With tracemalloc.stop() at the end (3.10-3.12 leave tracebacks behind,
# a built-in suppression): the gate passes on a clean run too, Debian's
# python3 without debug information included, where the tracebacks
# _PyTraceMalloc_NewReference made through tracemalloc's raw_malloc, in
# no hook, were a thousand lost blocks at the program's lines (pytm.c's
# RAW entry now tells those sites).
. tests/shim/python/lib_py.sh

prog=tests/shim/python/tm_fromstart.py
points=$(py_line "$prog" MARK_POINTS)
leak=$(py_line "$prog" MARK_LEAK)
for v in $(py_versions_missing); do
  t_skip "python_tracemalloc_from_start_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
while read -r tag py; do
  PYTHONTRACEMALLOC=1 "$HEAPSNAP" run --gate -q -o "$T/c-$tag.%p.hsnap" -- "$py" \
    -c 'import json; x = json.dumps(list(range(1000)))' >"$T/c-$tag.out" 2>&1
  st=$?
  if [ "$st" = 0 ] && grep -q "^heapsnap gate: PASS" "$T/c-$tag.out"; then
    t_pass "python_gate_tracemalloc_from_start_clean_passes_$tag"
  else
    t_fail "python_gate_tracemalloc_from_start_clean_passes_$tag" "$(grep -E 'gate|FAIL|leaked' "$T/c-$tag.out" | head -4 | tr '\n' '|')"
  fi

  "$HEAPSNAP" run --gate -q -o "$T/s-$tag.%p.hsnap" -- "$py" -X tracemalloc "$prog" stop \
    >"$T/s-$tag.out" 2>&1
  if [ "$?" = 0 ] && grep -q "^heapsnap gate: PASS" "$T/s-$tag.out"; then
    t_pass "python_gate_tracemalloc_from_start_and_stop_passes_$tag"
  else
    t_fail "python_gate_tracemalloc_from_start_and_stop_passes_$tag" "$(grep -E 'gate|FAIL|leaked' "$T/s-$tag.out" | head -4 | tr '\n' '|')"
  fi

  "$HEAPSNAP" run --gate -q -o "$T/l-$tag.%p.hsnap" -- "$py" -X tracemalloc "$prog" leak \
    >"$T/l-$tag.out" 2>&1
  rc=$?
  # The three blocks are found at their line and nothing else fails.  A stale
  # word pointing inside a block (a conservative scan's limit, as valgrind's:
  # a 40000-byte block spans 5000 words of memory used before, and an old
  # pointer into it stays in a live block's unwritten tail or an arena) made
  # one of them "possible" rather than "direct" about once in ten runs on
  # Debian's python3: both count as found, and the gate's list, read again
  # with possible records failing too, holds no other record.
  # One block also read "reachable" now and then (pyenv-3.12, once in a full
  # run): calloc'd on the main thread, a block could take the address of an
  # array the interpreter had freed, and a dead list still named it.  Caught
  # with 300 blocks instead of 3 (3 runs of 7 had one; `leaks --why`: "from
  # a range given to heapsnap_register_root()", a pymalloc arena), and the
  # process's core read: the word was ob_item of a PyListObject (refcount 0,
  # ob_size 53884: take_snapshot's list of traces) kept on CPython's list
  # free list (the main interpreter's list.free_list[15] of 17), which reuses
  # the object and never clears ob_item; glibc had carved the calloc from
  # the start of that freed array.  The word is the host's: LeakSanitizer
  # keeps a reused block reachable through such a dead object too, and
  # memcheck differs only because its allocator hands freed addresses out
  # late.  The program now asks for the blocks on a thread of its own, from
  # a glibc arena mapped for it, where no array of the interpreter's was
  # freed (the kernel may still map it where the interpreter unmapped
  # memory: with 300 blocks, 1 run of about 35 had a stale interior word
  # make some "possible", accepted above, and none one reachable), and waits
  # for the kernel to drop that thread before it ends: join()
  # returns while the thread still ends in C, and an exit check that found
  # it there read the last block reachable "from the stack of thread N"
  # (pyenv-3.12, 300 blocks: 3 runs of 14 without the wait, 0 of 12 with it;
  # a shim matter, reported, not this test's).
  # -n 0: every finding (the gate shows one a site by default, and one
  # direct and one possible record share the line).
  "$HEAPSNAP" gate -n 0 --fail-on direct,cycle,possible "$T"/l-"$tag".*.hsnap >"$T/l-$tag.gate" 2>&1
  # When all three read "possible", run's own gate (direct and cycles, by
  # default) passes: found all the same (on Debian 13's 3.13, 4 runs of 10
  # at the end of stop 75, against 1 of 10 before it: issue 72's note).
  if [ "$rc" = 0 ] && ! grep -q "leaked (direct) at $prog:$leak " "$T/l-$tag.gate" &&
     grep -q "leaked (possible) at $prog:$leak " "$T/l-$tag.gate"; then rc=1; fi
  bad=$(grep -E "^  [0-9]+ bytes in [0-9]+ blocks leaked" "$T/l-$tag.gate" | grep -v "suppressed by" |
    grep -vE "^  [0-9]+ bytes in [0-9]+ blocks leaked \((direct|possible)\) at $prog:$leak ")
  found=$(sed -nE "s#^  ([0-9]+) bytes in ([0-9]+) blocks leaked \((direct|possible)\) at $prog:$leak .*#\1 \2#p" \
    "$T/l-$tag.gate" | awk '{b += $1; n += $2} END {print b + 0, n + 0}')
  if [ "$rc" = 1 ] && [ "$found" = "120000 3" ] && [ -z "$bad" ]; then
    t_pass "python_gate_tracemalloc_from_start_finds_the_leak_alone_$tag"
  else
    t_fail "python_gate_tracemalloc_from_start_finds_the_leak_alone_$tag" "rc $rc: $(grep -E 'gate|FAIL|leaked' "$T/l-$tag.gate" | head -4 | tr '\n' '|')"
  fi

  want=$(sed -n 's/^tracemalloc: count=//p' "$T/l-$tag.out")
  "$HEAPSNAP" top "$T"/l-"$tag".*.hsnap -n 0 >"$T/l-$tag.top" 2>/dev/null
  got=$(sed -n "s|^$prog:$points: size=.*, count=\([0-9,]*\),.*|\1|p" "$T/l-$tag.top" | tr -d ,)
  if [ -n "$want" ] && [ -n "$got" ] && [ "$got" -ge $((want - 20)) ] && [ "$got" -le $((want + 20)) ] &&
     grep -qE "^Modules/_tracemalloc.c:[0-9]+: |^Python/tracemalloc.c:[0-9]+: " "$T/l-$tag.top"; then
    t_pass "python_tracemalloc_from_start_tables_at_its_own_site_$tag"
  else
    t_fail "python_tracemalloc_from_start_tables_at_its_own_site_$tag" "tracemalloc counts $want, top $got: $(head -4 "$T/l-$tag.top" | tr '\n' '|')"
  fi
done < <(py_interpreters)
