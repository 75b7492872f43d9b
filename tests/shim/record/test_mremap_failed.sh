# test_mremap_failed.sh - an mremap the kernel refuses leaves the mapped
# ranges as they were (reg_take, then reg_restore joining each piece back
# to what its cut left): mremapfail.c makes one fail with EFAULT (its old
# range over two mappings), one with EINVAL (MREMAP_FIXED without
# MREMAP_MAYMOVE, on a hole in a range's middle) and one with ENOMEM (a
# back piece that cannot grow in place).  The exit snapshot then holds the
# two ranges mapped (heapsnap info's mmap line, top's count per site),
# META's totals count no allocation the cuts made, and
# HEAPSNAP_SITELINE_CHECK finds the per-trace lines equal to the walk,
# with every mapping and with sampled weights.
. tests/shim/lib_shim.sh
if ! s_build mremapfail -O1 -fno-inline; then t_fail mremap_failed_builds "cc failed"; return 0 2>/dev/null || exit 0; fi
src=tests/shim/record/mremapfail.c
line() { grep -n "static char \*map_$1(" "$src" | cut -d: -f1; }

for how in every sampled; do
  if [ $how = every ]; then s=0; else s=4194304; fi
  LD_PRELOAD=$SHIM HEAPSNAP_SAMPLE=$s HEAPSNAP_SAMPLE_SEED=7 HEAPSNAP_SITELINE_CHECK=1 HEAPSNAP_VERBOSE=1 \
    HEAPSNAP_OUTPUT="$T/m.$how.hsnap" "$T/mremapfail" 2>"$T/m.$how.err"
  compared=$(sed -n 's/^heapsnap: siteline: check: traces compared with the walk: //p' "$T/m.$how.err" | tail -1)
  differed=$(sed -n 's/^heapsnap: siteline: check: traces that differed: //p' "$T/m.$how.err" | tail -1)
  if [ "${compared:-0}" -ge 2 ] && [ "$differed" = 0 ]; then t_pass "mremap_failed_lines_are_the_walk_$how"
  else t_fail "mremap_failed_lines_are_the_walk_$how" "compared '$compared', differed '$differed'"; fi
done

# the kernel refused each call (else the cases test nothing)
for c in "efault: Bad address" "einval: Invalid argument" "enomem: Cannot allocate memory"; do
  name=mremap_failed_kernel_refused_${c%%:*}
  grep -qxF "mremapfail: $c" "$T/m.every.err" && t_pass "$name" ||
    t_fail "$name" "$(grep '^mremapfail: '"${c%%:*}" "$T/m.every.err")"
done

"$HEAPSNAP" info "$T/m.every.hsnap" >"$T/info.txt" 2>&1
if grep -qxF "by kind:          malloc 0 B in 0 blocks, mmap 20.0 MiB in 2 ranges" "$T/info.txt" &&
   grep -qxF "total:            2 allocations, 0 frees" "$T/info.txt"; then
  t_pass mremap_failed_info_two_ranges
else
  t_fail mremap_failed_info_two_ranges "$(grep -E 'kind|total:' "$T/info.txt" | tr '\n' '|')"
fi

printf '%s\n' "$src:$(line one): size=16.0 MiB, count=1, average=16.0 MiB [untouched]" \
  "$src:$(line next): size=4096 KiB, count=1, average=4096 KiB [untouched]" | sort >"$T/want.txt"
"$HEAPSNAP" top --kind mmap -n 0 "$T/m.every.hsnap" 2>&1 | sort >"$T/top.txt"
if diff -u "$T/want.txt" "$T/top.txt" >"$T/top.diff"; then t_pass mremap_failed_exit_ranges_as_before
else t_fail mremap_failed_exit_ranges_as_before "$(tail -n +3 "$T/top.diff" | head -8 | tr '\n' '|')"; fi
