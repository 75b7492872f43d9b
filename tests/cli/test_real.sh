# tests/cli/test_real.sh - programs nobody here wrote run unchanged under
# `heapsnap run`: python3 (pymalloc and PYTHONMALLOC=malloc), sort on a generated
# 100k-line file, and gcc -c.  For each: stdout and exit status identical to a
# plain run, the snapshot(s) load, and `top` shows symbolized frames (a function
# name, not only module+0x...).
. tests/fixtures/lib.sh
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
