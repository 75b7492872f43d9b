# tests/report/symbols/test_sysroot_hint.sh - a snapshot read where its
# modules are not the run's files (made in a container or a chroot, read
# outside it): the first warning of a module missing, or of a build-id that
# differs, names HEAPSNAP_SYSROOT, once however many modules it names
# (before: "No such file or directory; frames shown as module+offset" for
# a Debian root's python3.13 and "build-id differs" for its libc, and
# nothing said of the way to read them); with HEAPSNAP_SYSROOT at the
# tree that holds them, no warning and the frames have their lines.  A
# module that is not a file (a FIFO: test_hostile) gets no hint.
cat >"$T/hint.c" <<'CEOF'
#include <stdlib.h>
void *volatile hint_sink;
__attribute__((noinline)) void hint_keep(void) { hint_sink = malloc(45); }
CEOF
cat >"$T/other.c" <<'CEOF'
#include <stdlib.h>
void *volatile other_sink;
__attribute__((noinline)) void other_keep(void) { other_sink = malloc(46); }
CEOF
cat >"$T/main.c" <<'CEOF'
void hint_keep(void);
void other_keep(void);
int main(void) { hint_keep(); other_keep(); return 0; }
CEOF
mkdir -p "$T/lib"
if ! (cd "$T" && cc -g -O0 -fPIC -shared hint.c -o lib/libhint.so &&
      cc -g -O0 -fPIC -shared other.c -o lib/libother.so &&
      cc -g -O0 main.c -o main -Llib -lhint -lother -Wl,-rpath,"$T/lib") 2>"$T/cc.err"; then
  t_fail sysroot_hint_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
(cd "$T" && HEAPSNAP_OUTPUT=$T/s.hsnap LD_PRELOAD=$SHIM ./main) >"$T/run.out" 2>&1 ||
  t_fail sysroot_hint_run "exit $?: $(head -c 300 "$T/run.out")"
if [ ! -s "$T/s.hsnap" ]; then t_fail sysroot_hint_snapshot_written "no snapshot"; return 0; fi

# The "container": the libraries moved under a root of their own.
mkdir -p "$T/ctr$T" && mv "$T/lib" "$T/ctr$T/lib"
hint='(a run in a container or a chroot? HEAPSNAP_SYSROOT=ITS_ROOT reads its files)'
env -u HEAPSNAP_SYSROOT "$HEAPSNAP" top "$T/s.hsnap" -n 0 >"$T/gone.txt" 2>"$T/gone.err"
if [ "$(grep -c 'libhint.so: .*No such file or directory; frames shown as module+offset' "$T/gone.err")" = 1 ] &&
   [ "$(grep -c 'libother.so: .*No such file or directory; frames shown as module+offset' "$T/gone.err")" = 1 ] &&
   [ "$(grep -cF "$hint" "$T/gone.err")" = 1 ]; then
  t_pass sysroot_hint_said_once_for_missing_modules
else t_fail sysroot_hint_said_once_for_missing_modules "$(tr '\n' '|' <"$T/gone.err" | head -c 600)"; fi

HEAPSNAP_SYSROOT=/:$T/ctr "$HEAPSNAP" top "$T/s.hsnap" -n 0 >"$T/root.txt" 2>"$T/root.err"
if ! grep -q 'warning' "$T/root.err" && grep -q '/hint.c:3: size=45 B, count=1,' "$T/root.txt"; then
  t_pass sysroot_read_there_without_warning
else t_fail sysroot_read_there_without_warning "$(tr '\n' '|' <"$T/root.err" | head -c 300) $(head -c 300 "$T/root.txt" | tr '\n' '|')"; fi

# A file of that name that is not the run's (another build-id): said too.
mkdir -p "$T/lib" && (cd "$T" && cc -g -O1 -fPIC -shared hint.c -o lib/libhint.so) 2>>"$T/cc.err"
env -u HEAPSNAP_SYSROOT "$HEAPSNAP" top "$T/s.hsnap" -n 0 >"$T/diff.txt" 2>"$T/diff.err"
if grep -q "libhint.so: build-id differs from the recorded one (file changed since the run?); symbols may be wrong $hint" "$T/diff.err" &&
   [ "$(grep -cF "$hint" "$T/diff.err")" = 1 ]; then
  t_pass sysroot_hint_said_for_another_build
else t_fail sysroot_hint_said_for_another_build "$(tr '\n' '|' <"$T/diff.err" | head -c 600)"; fi
