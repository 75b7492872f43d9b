# test_export_escapes.sh - every export format escapes what a snapshot
# holds as recorded: a program without debug information (its frames
# named "(in MODULE PATH)") in a directory whose name holds an escape
# sequence and a newline, run with such an argument; massif, folded and
# speedscope (JSON) keep no control byte but their own newlines, and
# massif names the sequence as "\x1b".
esc=$(printf 'd\033]0;pwned\007\n\033[2J')
mkdir -p "$T/$esc"
prog="$T/$esc/alloc"
cat >"$T/alloc.c" <<'C'
#include <stdlib.h>
int main(void)
{
    void *volatile keep = malloc(4096);
    (void)keep;
    return 0;
}
C
if ! t_build "$prog" "$T/alloc.c" -g0 -O0; then
  t_fail export_escapes_build "gcc failed"
  return 0
fi
HEAPSNAP_OUTPUT="$T/esc.hsnap" LD_PRELOAD="$SHIM" "$prog" "$esc" >"$T/run.out" 2>"$T/run.err"
if [ ! -s "$T/esc.hsnap" ]; then
  t_fail export_escapes_profiled "no snapshot: $(head -c 300 "$T/run.err")"
  return 0
fi
# ctl FILE: the lines of FILE that hold a control byte (a newline aside), or
# DEL; empty when none
ctl() { LC_ALL=C grep -n $'[\x01-\x09\x0b-\x1f\x7f]' "$1" | head -3 | cat -v; }
for fmt in massif folded speedscope; do
  if ! "$HEAPSNAP" export -f "$fmt" -o "$T/out.$fmt" "$T/esc.hsnap" 2>"$T/$fmt.err"; then
    t_fail "export_${fmt}_escapes_paths_and_command" "export exited $?: $(head -c 300 "$T/$fmt.err")"
    continue
  fi
  bad=$(ctl "$T/out.$fmt")
  if [ -z "$bad" ]; then t_pass "export_${fmt}_escapes_paths_and_command"
  else t_fail "export_${fmt}_escapes_paths_and_command" "$bad"; fi
done
if grep -qF '\x1b]0;pwned\x07\n\x1b[2J/alloc' "$T/out.massif" &&
   grep -q '^cmd: .*alloc d\\x1b' "$T/out.massif"; then
  t_pass export_massif_names_the_escapes
else t_fail export_massif_names_the_escapes "$(grep -E '^cmd:|\(in ' "$T/out.massif" | head -3 | tr '\n' '|')"; fi
