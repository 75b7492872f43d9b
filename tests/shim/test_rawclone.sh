# test_rawclone.sh - children of the raw clone and clone3 system calls
# without CLONE_VM, from a parent whose other threads allocate without
# pause: no fork handler runs in them, so a shim lock held at the clone is
# never released there.  Each child must still exit at once (the shim takes
# its locks back and stops recording) and writes no snapshot; the parent's
# is written and reads back.
# tier: full (raw clone and clone3 children under load)
. tests/shim/lib_shim.sh
s_build rawclone || t_fail rawclone_builds "cc failed"
for how in clone clone3; do
  rm -f "$T"/rc.*.hsnap
  timeout 20 env HEAPSNAP_OUTPUT="$T/rc.%p.hsnap" LD_PRELOAD="$SHIM" "$T/rawclone" $how 60 >"$T/$how.out" 2>"$T/$how.err"; rc=$?
  if [ $rc = 77 ]; then
    t_skip "rawclone_${how}_child_exits" "the kernel has no $how"; t_skip "rawclone_${how}_child_writes_nothing" "no $how"
    continue
  fi
  if [ $rc = 0 ] && [ "$(cat "$T/$how.out")" = "done 60" ] && [ ! -s "$T/$how.err" ]; then
    t_pass "rawclone_${how}_child_exits"
  else t_fail "rawclone_${how}_child_exits" "exit $rc (124: hung): $(head -c 200 "$T/$how.out" "$T/$how.err" | tr '\n' ' ')"; fi
  set -- "$T"/rc.*.hsnap
  if [ $# = 1 ] && [ -e "$1" ] && "$HEAPSNAP" info "$1" | grep -q "^command: .*rawclone $how 60$"; then
    t_pass "rawclone_${how}_child_writes_nothing"
  else t_fail "rawclone_${how}_child_writes_nothing" "want the parent's snapshot only: $*"; fi
done
