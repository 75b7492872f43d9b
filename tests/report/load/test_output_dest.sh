# test_output_dest.sh - where the CLI's output goes (snap_save's
# save_begin, behind export, html, merge and gate -o): "-" is standard output
# for every one of them; a device, FIFO, or a symlink to one
# (/proc/self/fd/1), is written in place and stays what it was; a symlink to a
# regular file and another user's FIFO are refused (exit 2), untouched.
# Device nodes of the test's own (mknod): root only.
tests/fixtures/build.sh sites >/dev/null
HEAPSNAP_OUTPUT=$T/a.hsnap LD_PRELOAD="$SHIM" "$BUILD/fixtures/sites" >/dev/null 2>&1
snap=$T/a.hsnap
# Every command's output goes through one function: every command meets the
# main cases; the quick two (export and html symbolize) meet them all.
cmds="export merge html gate" quick="merge gate"

# out CMD DEST: CMD's output to DEST (-o DEST), its stdout through a pipe to
# $T/CMD.stdout; CMD's exit status
out() {
  case $1 in
  export) timeout 10 "$HEAPSNAP" export --format folded -o "$2" "$snap" ;;
  merge) timeout 10 "$HEAPSNAP" merge "$snap" -o "$2" ;;
  html) timeout 10 "$HEAPSNAP" html -o "$2" "$snap" ;;
  gate) timeout 10 "$HEAPSNAP" gate --fail-on none --format json -o "$2" "$snap" ;;
  esac 2>"$T/$1.err" | cat >"$T/$1.stdout"
  return "${PIPESTATUS[0]}"
}
# valid CMD FILE: FILE is what CMD writes
valid() {
  case $1 in
  export) [ -s "$2" ] && cmp -s "$2" "$T/ref.folded" ;;
  merge) "$HEAPSNAP" info "$2" >/dev/null 2>&1 ;;
  html) grep -q '</html>' "$2" ;;
  gate) "$py" -m json.tool "$2" >/dev/null 2>&1 ;;
  esac
}
"$HEAPSNAP" export --format folded "$snap" >"$T/ref.folded"
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3 # no version manager's wrapper

# --- "-" is standard output, for every command, and each --help says so ------
bad=""
mkdir -p "$T/dash" && cd "$T/dash" || return 0
for c in $cmds; do
  out $c - || bad="$bad $c(exit $?: $(head -c 100 "$T/$c.err"))"
  valid $c "$T/$c.stdout" || bad="$bad $c(not on stdout)"
done
[ -e "$T/dash/-" ] && bad="$bad (a file named - was written)"
cd - >/dev/null
[ -z "$bad" ] && t_pass output_dash_is_stdout_for_every_command || t_fail output_dash_is_stdout_for_every_command "$bad"
bad=""
for c in $cmds; do "$HEAPSNAP" $c --help | grep -q '"-"' || bad="$bad $c"; done
[ -z "$bad" ] && t_pass output_help_says_dash_is_stdout || t_fail output_help_says_dash_is_stdout "no \"-\" in --help of:$bad"

# --- standard output by name: /proc/self/fd/1, and a symlink to it -----------
ln -s /proc/self/fd/1 "$T/stdout"
for dest in /proc/self/fd/1 "$T/stdout"; do
  bad=""
  set -- $cmds; [ "$dest" = /proc/self/fd/1 ] || set -- $quick
  for c in "$@"; do
    out $c "$dest" || bad="$bad $c(exit $?: $(head -c 100 "$T/$c.err"))"
    valid $c "$T/$c.stdout" || bad="$bad $c(not on stdout)"
  done
  [ "$dest" = /proc/self/fd/1 ] && name=output_proc_self_fd_1_is_stdout || name=output_symlink_to_stdout_written_through
  [ "$dest" != /proc/self/fd/1 ] && [ ! -L "$T/stdout" ] && bad="$bad (the link was replaced)"
  [ -z "$bad" ] && t_pass $name || t_fail $name "$bad"
done

# --- a device node: written in place; /dev/full's error proves it -------------
if ! mknod "$T/null" c 1 3 2>/dev/null || ! mknod "$T/full" c 1 7 2>/dev/null; then
  t_skip output_char_device_stays_a_device "mknod refused (not root?)"
  t_skip output_device_receives_the_write "mknod refused (not root?)"
else
  bad=""
  for c in $cmds; do
    out $c "$T/null" || bad="$bad $c(exit $?: $(head -c 100 "$T/$c.err"))"
    [ -c "$T/null" ] || { bad="$bad $c(replaced)"; rm -f "$T/null"; mknod "$T/null" c 1 3; }
  done
  [ -z "$bad" ] && t_pass output_char_device_stays_a_device || t_fail output_char_device_stays_a_device "$bad"
  bad=""
  for c in $quick; do
    out $c "$T/full"; rc=$?
    [ $rc = 2 ] || bad="$bad $c(exit $rc)"
    [ $c = merge ] && ! grep -q "full: No space left on device" "$T/$c.err" && bad="$bad $c($(head -c 100 "$T/$c.err"))"
    [ -c "$T/full" ] || { bad="$bad $c(replaced)"; rm -f "$T/full"; mknod "$T/full" c 1 7; }
  done
  [ -z "$bad" ] && t_pass output_device_receives_the_write || t_fail output_device_receives_the_write "$bad"
fi

# --- a FIFO: its reader gets the output (the CLI waits for it, like cat) -----
mkfifo "$T/fifo"
bad=""
for c in $cmds; do
  timeout 10 cat "$T/fifo" >"$T/fifo.out" & r=$!
  out $c "$T/fifo" || bad="$bad $c(exit $?: $(head -c 100 "$T/$c.err"))"
  wait $r || bad="$bad $c(reader: exit $?)"
  valid $c "$T/fifo.out" || bad="$bad $c(reader got $(wc -c <"$T/fifo.out") bytes)"
  [ -p "$T/fifo" ] || { bad="$bad $c(replaced)"; rm -f "$T/fifo"; mkfifo "$T/fifo"; }
done
[ -z "$bad" ] && t_pass output_fifo_reader_gets_the_output || t_fail output_fifo_reader_gets_the_output "$bad"

# --- refused, untouched: a symlink to a regular file, another user's FIFO ----
echo precious >"$T/victim"
ln -s "$T/victim" "$T/link"
bad=""
for c in $quick; do
  out $c "$T/link"; rc=$?
  [ $rc = 2 ] || bad="$bad $c(exit $rc)"
  grep -q "link: a symbolic link to a regular file" "$T/$c.err" || bad="$bad $c($(head -c 100 "$T/$c.err"))"
  [ -L "$T/link" ] || { bad="$bad $c(link replaced)"; rm -f "$T/link"; ln -s "$T/victim" "$T/link"; }
done
[ "$(cat "$T/victim")" = precious ] || bad="$bad (victim written)"
[ -z "$bad" ] && t_pass output_symlink_to_regular_file_refused || t_fail output_symlink_to_regular_file_refused "$bad"
mkfifo "$T/theirs"
if ! chown nobody "$T/theirs" 2>/dev/null; then t_skip output_other_users_fifo_refused "chown refused (not root?)"
else
  bad=""
  for c in $quick; do
    out $c "$T/theirs"; rc=$?
    [ $rc = 2 ] && grep -q "theirs: a device, FIFO or socket of another user" "$T/$c.err" || bad="$bad $c(exit $rc: $(head -c 100 "$T/$c.err"))"
    [ -p "$T/theirs" ] || { bad="$bad $c(replaced)"; rm -f "$T/theirs"; mkfifo "$T/theirs"; chown nobody "$T/theirs"; }
  done
  [ -z "$bad" ] && t_pass output_other_users_fifo_refused || t_fail output_other_users_fifo_refused "$bad"
fi
