# tests/shim/leak/test_leak_mapped.sh - memory the program maps itself is a
# root of the leak check (HEAPSNAP_MAPPED_ROOTS, shim/leak/roots.c), as for
# memcheck: blocks pointed to only from an anonymous mmap'd arena or a
# System V segment are still reachable, in place and on a fork, while the
# shim's own mappings, glibc's heaps and the blocks' own chunks never keep
# a leak alive.  Fixture: tests/shim/leak/mmaparena.c (valgrind: definitely
# lost 77 bytes in 1 blocks, still reachable 11,500 bytes in 13 blocks).

L=tests/shim/leak
t_build mmaparena $L/mmaparena.c &&
t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd || { t_fail leak_mapped_build "fixtures do not build"; return 0 2>/dev/null || exit 0; }

# m_classes [ENV...]: "size:class count" of the fixture's blocks at exit
m_classes() {
  rm -f "$T"/ma.*.hsnap
  env "$@" HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/ma.%p.hsnap" LD_PRELOAD="$SHIM" "$T/mmaparena" 2>"$T/ma.err"
  local f; f=$(ls "$T"/ma.*.hsnap 2>/dev/null | head -1)
  [ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" |
    awk '$1 == "block" && ($2 == 1000 || $2 == 500 || $2 == 77) { n[$2 ":" $3]++ }
         END { for (k in n) print k, n[k] }' | sort | tr '\n' ' '
}
want="1000:1 10 500:1 3 77:3 1 "
for fk in 0 1; do
  got=$(m_classes HEAPSNAP_LEAK_FORK=$fk)
  name=leak_mapped_arena_and_shm_are_roots_fork$fk
  if [ "$got" = "$want" ]; then t_pass $name; else t_fail $name "got '$got' want '$want'"; fi
done
got=$(m_classes HEAPSNAP_MAPPED_ROOTS=0)
if [ "$got" = "1000:3 10 500:3 3 77:3 1 " ]; then t_pass leak_mapped_roots_off_is_lsans_view
else t_fail leak_mapped_roots_off_is_lsans_view "got '$got'"; fi

# A library opened by a relative path (dlopen("./libleaky.so")) is named by
# its absolute path in the snapshot: its lines are found from any directory.
t_build reldlopen $L/reldlopen.c -ldl &&
t_build libleaky.so $L/leakylib.c -shared -fPIC || { t_fail leak_mapped_reldlopen_build "cc failed"; return 0 2>/dev/null || exit 0; }
rm -f "$T"/rel.*.hsnap
(cd "$T" && HEAPSNAP_OUTPUT="$T/rel.%p.hsnap" LD_PRELOAD="$SHIM" ./reldlopen 2>"$T/rel.err")
f=$(ls "$T"/rel.*.hsnap 2>/dev/null | head -1)
for dir in "$T" /; do
  got=$(cd "$dir" && "$HEAPSNAP" top "$f" 2>&1 | grep 'size=4321 B')
  name=relative_dlopen_symbolized_from_$( [ "$dir" = / ] && echo root || echo its_dir)
  case "$got" in *leakylib.c:10:*) t_pass $name ;; *) t_fail $name "top: '$got' $(head -c 200 "$T/rel.err")" ;; esac
done

# Roots whose pages were mostly never written (tests/shim/leak/sparsemap.c:
# a 256 MiB private mapping and a 64 MiB .bss array, one page of each
# written, holding the only pointers to blocks of 1,111 and 2,222 bytes;
# 333 lost) are read only where written (roots_written): the same
# verdicts in place and on a fork, and the check in place faults in none
# of the 81,920 untouched pages (it faulted in all of them: 82,016 minor
# faults, against 90 now).
t_build sparsemap $L/sparsemap.c -O1 -ldl || { t_fail leak_sparse_roots_build "cc failed"; return 0 2>/dev/null || exit 0; }
for fk in 0 1; do
  rm -f "$T"/sm.*.hsnap
  out=$(env HEAPSNAP_LEAK_FORK=$fk HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/sm.%p.hsnap" LD_PRELOAD="$SHIM" \
    "$T/sparsemap" 2>"$T/sm.err")
  f=$(ls "$T"/sm.*.hsnap 2>/dev/null | head -1)
  got=$([ -n "$f" ] && "$T/hsnap_dump" --leaks "$f" |
    awk '$1 == "block" && ($2 == 1111 || $2 == 2222 || $2 == 333) { print $2 ":" $3 }' | sort | tr '\n' ' ')
  name=leak_sparse_roots_verdicts_fork$fk
  if [ "$got" = "1111:1 2222:1 333:3 " ] && [ "${out%% *}" = collect ]; then t_pass $name
  else t_fail $name "got '$got' want '1111:1 2222:1 333:3 '; out '$out'; $(head -c 300 "$T/sm.err")"; fi
  if [ $fk = 0 ]; then
    faults=$(echo "$out" | awk '{print $4}')
    if [ -n "$faults" ] && [ "$faults" -lt 4096 ]; then t_pass "leak_check_reads_no_unwritten_root_pages ($faults faults)"
    else t_fail leak_check_reads_no_unwritten_root_pages "the check in place made '$faults' minor faults (81,920 pages untouched; at most 4,096)"; fi
  fi
done
