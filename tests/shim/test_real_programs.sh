# tests/shim/test_real_programs.sh - programs nobody here wrote run unchanged
# under the shim: python3 (pymalloc and PYTHONMALLOC=malloc), sort on a
# generated 100k-line file, gcc -c of a small file.  Twice over:
#   plain LD_PRELOAD: same stdout, stderr and exit status, and the snapshots
#     are valid for tests/shim/hsnap_dump.c with stacks that reach the
#     executable (cases python3_*, sort_*, gcc_*);
#   `heapsnap run`: same stdout and exit status, the snapshots load and `top`
#     shows symbolized frames, a function name, not only module+0x...
#     (cases real_*).
# tier: full (real programs (python3, sort, a compiler) under the shim)
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

# --- the same programs under `heapsnap run`, read by the CLI
[ -x "$HEAPSNAP" ] && [ -f "$SHIM" ] || { t_fail real "build/heapsnap or the shim is not built"; return 0; }

# same NAME CMD...: runs CMD plainly and under `heapsnap run` (snapshots in
# $T/NAME/), compares stdout and status; leaves the snapshots for the checks below.
same() {
  local name=$1; shift
  mkdir -p "$T/$name"
  "$@" >"$T/$name.plain" 2>/dev/null; local want=$?
  "$HEAPSNAP" run -o "$T/$name/s.%p.hsnap" -- "$@" >"$T/$name.shim" 2>"$T/$name.err"; local got=$?
  if [ "$got" != "$want" ]; then
    t_fail "real_${name}_unchanged" "exit $got under heapsnap run, $want plain: $(grep -v '^heapsnap: wrote' "$T/$name.err" | head -c 300 | tr '\n' ' ')"
  elif ! cmp -s "$T/$name.plain" "$T/$name.shim"; then
    t_fail "real_${name}_unchanged" "stdout differs: $(diff "$T/$name.plain" "$T/$name.shim" | head -c 300)"
  else t_pass "real_${name}_unchanged"; fi
}

# symbolized NAME KEY: every snapshot in $T/NAME loads, and the `top --key KEY`
# listings of them name at least one real function (not ??, not module+0x...).
symbolized() {
  local name=$1 key=$2 s n=0
  for s in "$T/$name"/*.hsnap; do
    [ -e "$s" ] || break
    if ! "$HEAPSNAP" top "$s" --key "$key" -n 20 >>"$T/$name.top" 2>"$T/$name.toperr"; then
      t_fail "real_${name}_loads" "top $s exited $?: $(head -c 300 "$T/$name.toperr")"; return
    fi
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] && t_pass "real_${name}_loads" || { t_fail "real_${name}_loads" "no snapshot written"; return; }
  local re='^[A-Za-z_][A-Za-z0-9_:<>~]*: size='
  [ "$key" = traceback ] && re='^  File ".*", line [0-9]+, in [A-Za-z_][A-Za-z0-9_]*$'
  if grep -E "$re" "$T/$name.top" | grep -vqE '\+0x|\?\?'; then t_pass "real_${name}_symbolized"
  else t_fail "real_${name}_symbolized" "no function name: $(head -5 "$T/$name.top" | tr '\n' '|')"; fi
}

# Debian's interpreter, not a version-manager wrapper script found first in PATH.
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
py='x = [str(i) * 10 for i in range(100000)]; d = {s: len(s) for s in x[::7]}; print(len(x), sum(d.values()))'
same python "$PY" -c "$py"
symbolized python function
same python_malloc env PYTHONMALLOC=malloc "$PY" -c "$py"
symbolized python_malloc function
# With PYTHONMALLOC=malloc each of the 100000 strings is a malloc the shim saw.
n=$("$HEAPSNAP" info "$T"/python_malloc/*.hsnap 2>/dev/null | sed -n 's/^total: *\([0-9]*\) allocations.*/\1/p' | head -1)
[ "${n:-0}" -ge 100000 ] && t_pass real_python_malloc_sees_objects \
  || t_fail real_python_malloc_sees_objects "info says ${n:-no} allocations, want >= 100000"
same python_exit3 "$PY" -c 'import sys; print("bye"); sys.exit(3)'
# The frame-pointer unwinder meets code without frame pointers (python, libc):
# it may lose frames but must never fault.
same python_malloc_fp env HEAPSNAP_UNWIND=fp PYTHONMALLOC=malloc "$PY" -c "$py"

awk 'BEGIN { for (i = 0; i < 100000; i++) printf "line %d %d\n", (i * 7919) % 100003, i }' >"$T/lines.txt"
same sort env LC_ALL=C sort "$T/lines.txt"
symbolized sort traceback

cat >"$T/small.c" <<'C'
#include <stdio.h>
struct point { int x, y; };
static int dist2(struct point p) { return p.x * p.x + p.y * p.y; }
int main(void) { struct point p = {3, 4}; printf("%d\n", dist2(p)); return 0; }
C
gcc -O2 -c "$T/small.c" -o "$T/small.plain.o" 2>/dev/null
same gcc gcc -O2 -c "$T/small.c" -o "$T/small.o"   # the second (shim) run writes small.o last
cmp -s "$T/small.o" "$T/small.plain.o" && t_pass real_gcc_same_object \
  || t_fail real_gcc_same_object "the object file differs from a plain compile"
symbolized gcc function
same gcc_fp env HEAPSNAP_UNWIND=fp gcc -O2 -c "$T/small.c" -o "$T/small_fp.o"
