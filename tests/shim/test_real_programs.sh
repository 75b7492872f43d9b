# test_real_programs.sh - programs nobody here wrote run unchanged under the
# shim (same stdout, stderr and exit status) and leave valid snapshots whose
# stacks reach their executable: python3 (also with PYTHONMALLOC=malloc),
# sort on a generated 100k-line file, gcc -c of a small file.
. tests/shim/lib_shim.sh
s_dump_build

# s_snaps_valid NAME PATTERN EXE_RE: every snapshot matching PATTERN is valid,
# one of them comes from an executable matching EXE_RE and has sites.
s_snaps_valid() {
  local name=$1 pat=$2 re=$3 f n=0 bad="" hit=0
  for f in $pat; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    if ! s_dump "$f" >"$f.dump" 2>"$f.err"; then bad="$bad $(cat "$f.err")"; continue; fi
    grep -Eq "^exe .*$re" "$f.dump" && grep -q '^site ' "$f.dump" && hit=1
  done
  if [ "$n" -gt 0 ] && [ -z "$bad" ] && [ "$hit" = 1 ]; then t_pass "$name"
  else t_fail "$name" "$n snapshots, invalid:$bad, match $re: $hit"; fi
}

if command -v python3 >/dev/null; then
  HEAPSNAP_OUTPUT="$T/py.%p.hsnap" s_same python3_same_output python3 -c 'print(sum(range(10)))'
  s_snaps_valid python3_snapshots_valid "$T/py.*.hsnap" 'python3'
  PYTHONMALLOC=malloc HEAPSNAP_OUTPUT="$T/pym.%p.hsnap" s_same python3_pythonmalloc_same_output \
    python3 -c 'import json; x = [str(i) * 10 for i in range(100000)]; print(len(json.dumps(x)))'
  s_snaps_valid python3_pythonmalloc_snapshots_valid "$T/pym.*.hsnap" 'python3'
  # with PYTHONMALLOC=malloc every object is a malloc: the 100k strings are seen
  best=0
  for f in "$T"/pym.*.hsnap.dump; do
    a=$(sed -n 's/.* allocs=\([0-9]*\) .*/\1/p' "$f"); [ "${a:-0}" -gt "$best" ] && best=$a
  done
  if [ "$best" -ge 100000 ]; then t_pass python3_pythonmalloc_counts_objects
  else t_fail python3_pythonmalloc_counts_objects "most allocations in one snapshot: $best"; fi
else
  t_skip python3_same_output "no python3"
fi

# the frame-pointer walker on a python built without frame pointers: rbp is
# then any value, and the walk must stop, never fault
if [ -x /usr/bin/python3 ]; then
  PYTHONMALLOC=malloc HEAPSNAP_UNWIND=fp HEAPSNAP_OUTPUT="$T/pyfp.%p.hsnap" s_same python3_fp_unwind_never_faults \
    /usr/bin/python3 -c 'd = {i: [str(i)] * 3 for i in range(200000)}; print(len(d))'
fi

seq 100000 | awk '{ print ($1 * 7919) % 100003 " line " $1 }' >"$T/lines.txt"
HEAPSNAP_OUTPUT="$T/sort.%p.hsnap" s_same sort_same_output sort "$T/lines.txt"
s_snaps_valid sort_snapshots_valid "$T/sort.*.hsnap" '/sort$'

printf '#include <stdio.h>\nint add(int a, int b) { return a + b; }\nint main(void) { printf("%%d\\n", add(1, 2)); return 0; }\n' >"$T/small.c"
(cd "$T" && gcc -c small.c -o plain.o)
HEAPSNAP_OUTPUT="$T/gcc.%p.hsnap" s_same gcc_same_output gcc -c "$T/small.c" -o "$T/shim.o"
if cmp -s "$T/plain.o" "$T/shim.o"; then t_pass gcc_same_object; else t_fail gcc_same_object "objects differ"; fi
s_snaps_valid gcc_snapshots_valid "$T/gcc.*.hsnap" '(cc1|gcc-12|gcc|as)$'
