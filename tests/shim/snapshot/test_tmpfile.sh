# test_tmpfile.sh - how a snapshot reaches its name: through a temporary file
# created exclusively (O_EXCL|O_NOFOLLOW) beside it, named .<base>.tmp.XXXXXX,
# then renamed.  A symlink planted where the temporary file goes never makes
# the shim write through it, and snapshots are created 0600 (they hold the
# command line) unless HEAPSNAP_MODE asks for other permissions.
# tmpspy.so (listed before the shim) records the names rename(2) moves and can
# fix getrandom's bytes, so that a temporary name can be guessed.
tests/fixtures/build.sh sites >/dev/null
cc -shared -fPIC -O1 tests/shim/snapshot/tmpspy.c -o "$T/tmpspy.so" -ldl
prog=$PWD/$BUILD/fixtures/sites
umask 022
d=$T/out; mkdir -p "$d"

# the pattern of the temporary name, seen by rename
rm -f "$T/spy.log"
TMPSPY_LOG=$T/spy.log HEAPSNAP_OUTPUT=$d/a.hsnap LD_PRELOAD="$T/tmpspy.so:$SHIM" "$prog" >/dev/null 2>"$T/err"
tmp=$(grep -v '\.state\.tmp\.' "$T/spy.log" 2>/dev/null | head -1) # the state file's first (shim/state/state.c)
if [[ "$tmp" =~ ^$d/\.a\.hsnap\.tmp\.[A-Za-z0-9]{6}$ ]] && [ -s "$d/a.hsnap" ]; then t_pass tmpfile_name_dot_base_tmp_six_alnum
else t_fail tmpfile_name_dot_base_tmp_six_alnum "renamed from '$tmp'"; fi

# permissions: 0600 by default, whatever the umask allows; HEAPSNAP_MODE otherwise
mode=$(stat -c %a "$d/a.hsnap" 2>/dev/null)
if [ "$mode" = 600 ]; then t_pass tmpfile_snapshot_mode_0600
else t_fail tmpfile_snapshot_mode_0600 "mode $mode"; fi
HEAPSNAP_MODE=0640 HEAPSNAP_OUTPUT=$d/b.hsnap LD_PRELOAD="$SHIM" "$prog" >/dev/null 2>"$T/err"
mode=$(stat -c %a "$d/b.hsnap" 2>/dev/null)
if [ "$mode" = 640 ] && [ ! -s "$T/err" ]; then t_pass tmpfile_heapsnap_mode_option
else t_fail tmpfile_heapsnap_mode_option "mode $mode, stderr: $(head -c 200 "$T/err")"; fi
HEAPSNAP_MODE=rw HEAPSNAP_OUTPUT=$d/c.hsnap LD_PRELOAD="$SHIM" "$prog" >/dev/null 2>"$T/err"
mode=$(stat -c %a "$d/c.hsnap" 2>/dev/null)
if [ "$mode" = 600 ] && [ "$(grep -c HEAPSNAP_MODE "$T/err")" = 1 ]; then t_pass tmpfile_bad_mode_warns_once_uses_0600
else t_fail tmpfile_bad_mode_warns_once_uses_0600 "mode $mode, stderr: $(head -c 200 "$T/err")"; fi
# bits past 0777 (setuid, setgid, sticky): refused as a bad value
HEAPSNAP_MODE=4777 HEAPSNAP_OUTPUT=$d/s.hsnap LD_PRELOAD="$SHIM" "$prog" >/dev/null 2>"$T/err"
mode=$(stat -c %a "$d/s.hsnap" 2>/dev/null)
if [ "$mode" = 600 ] && [ "$(grep -c 'bad HEAPSNAP_MODE.*up to 0777' "$T/err")" = 1 ]; then
  t_pass tmpfile_mode_past_0777_refused_uses_0600
else t_fail tmpfile_mode_past_0777_refused_uses_0600 "mode $mode, stderr: $(head -c 200 "$T/err")"; fi

# a symlink at the old predictable name <final>.tmp.<pid>: the shell plants it
# for its own pid, then execs the program (same pid)
echo "precious" >"$T/victim"
HEAPSNAP_OUTPUT=$d/e.hsnap SHIM=$SHIM prog=$prog \
  sh -c 'ln -s "$0" "$HEAPSNAP_OUTPUT.tmp.$$"; exec env LD_PRELOAD="$SHIM" "$prog"' "$T/victim" >/dev/null 2>"$T/err"
if [ "$(cat "$T/victim")" = precious ] && [ -f "$d/e.hsnap" ] && [ ! -L "$d/e.hsnap" ]; then
  t_pass tmpfile_symlink_at_old_name_target_untouched
else t_fail tmpfile_symlink_at_old_name_target_untouched "victim now: $(head -c 60 "$T/victim" | tr -c '[:print:]' '.')"; fi

echo "precious" >"$T/victim"
# a symlink at a guessed new name: with getrandom's bytes fixed, a first run
# shows the name; a second finds a symlink there, must not write through it,
# and still writes its snapshot under another temporary name
rm -f "$T/spy.log"
TMPSPY_FIXED=1 TMPSPY_LOG=$T/spy.log HEAPSNAP_OUTPUT=$d/g.hsnap LD_PRELOAD="$T/tmpspy.so:$SHIM" "$prog" >/dev/null 2>&1
guess=$(head -1 "$T/spy.log" 2>/dev/null)
rm -f "$d/g.hsnap" "$T/spy.log"
if [ -n "$guess" ] && ln -s "$T/victim" "$guess"; then
  TMPSPY_FIXED=1 TMPSPY_LOG=$T/spy.log HEAPSNAP_OUTPUT=$d/g.hsnap LD_PRELOAD="$T/tmpspy.so:$SHIM" "$prog" >/dev/null 2>"$T/err"
  if [ "$(cat "$T/victim")" = precious ] && [ -L "$guess" ] && [ -f "$d/g.hsnap" ] && [ ! -L "$d/g.hsnap" ] &&
     [ "$(head -1 "$T/spy.log")" != "$guess" ]; then t_pass tmpfile_symlink_at_guessed_name_target_untouched
  else t_fail tmpfile_symlink_at_guessed_name_target_untouched "victim: $(head -c 60 "$T/victim" | tr -c '[:print:]' '.'), stderr: $(head -c 200 "$T/err")"; fi
else t_fail tmpfile_symlink_at_guessed_name_target_untouched "no temporary name seen (spy log empty)"; fi
