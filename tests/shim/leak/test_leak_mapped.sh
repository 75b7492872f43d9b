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
