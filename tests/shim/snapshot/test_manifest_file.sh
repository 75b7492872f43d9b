# test_manifest_file.sh - the file HEAPSNAP_MANIFEST names
# (name_manifest_append): a snapshot's path is appended to a regular file,
# but the open follows no link and blocks on nothing: a symlink another
# user planted in a shared directory (to a root-owned file, for a root
# process) is refused with one warning and its target left as it was, and
# so is a FIFO; under heapsnap run (HEAPSNAP_MANIFEST_FD) a manifest that
# is gone is not made again; an append past the file size limit fails with
# one warning.  The program's output and status never change.
t_build fewblocks tests/shim/snapshot/fewblocks.c
prog=$T/fewblocks
warns() { grep -c '^heapsnap: ' "$1"; }
"$prog" >"$T/plain.out" 2>&1; want=$?
# M MANIFEST OUT [VAR=VALUE...]: the program preloaded, stdout $T/o, stderr
# $T/e, status $rc (137: held up for 20 s)
M() { timeout -s KILL 20 env LD_PRELOAD="$SHIM" HEAPSNAP_MANIFEST="$1" HEAPSNAP_OUTPUT="$2" "${@:3}" "$prog" >"$T/o" 2>"$T/e"; rc=$?; }

# ---- a regular file: the path appended, NUL-ended
: >"$T/m.list"
M "$T/m.list" "$T/a.hsnap"
if [ "$rc" = "$want" ] && [ "$(tr '\0' '|' <"$T/m.list")" = "$T/a.hsnap|" ] && [ ! -s "$T/e" ]; then
  t_pass manifest_regular_file_gets_the_path
else t_fail manifest_regular_file_gets_the_path "status $rc: $(tr '\0' '|' <"$T/m.list" | head -c 200) err: $(head -c 200 "$T/e")"; fi

# ---- a symlink planted in a shared (sticky, world-writable) directory
mkdir -p "$T/shared"; chmod 1777 "$T/shared"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$T/victim"; chmod 0644 "$T/victim"
cp "$T/victim" "$T/victim.orig"
ln -s "$T/victim" "$T/shared/m.list"
M "$T/shared/m.list" "$T/b.hsnap"
if cmp -s "$T/victim" "$T/victim.orig"; then t_pass manifest_symlink_target_unchanged
else t_fail manifest_symlink_target_unchanged "the link's target now holds: $(tr '\0' '|' <"$T/victim" | head -c 200)"; fi
if [ "$rc" = "$want" ] && [ "$(warns "$T/e")" = 1 ] &&
   grep -q "^heapsnap: HEAPSNAP_MANIFEST $T/shared/m.list is a symbolic link: not followed" "$T/e" &&
   cmp -s "$T/plain.out" "$T/o" && [ -s "$T/b.hsnap" ]; then
  t_pass manifest_symlink_refused_with_one_line
else t_fail manifest_symlink_refused_with_one_line "status $rc: $(head -c 300 "$T/e" | tr '\n' ' ')"; fi
# a dangling one is not followed to make its target either
ln -s "$T/shared/made" "$T/shared/dangling"
M "$T/shared/dangling" "$T/c.hsnap"
if [ ! -e "$T/shared/made" ] && [ "$(warns "$T/e")" = 1 ]; then t_pass manifest_dangling_symlink_makes_nothing
else t_fail manifest_dangling_symlink_makes_nothing "$(ls -A "$T/shared" | tr '\n' ' '): $(head -c 200 "$T/e")"; fi

# ---- a FIFO without a reader: refused at once, the program not held up
mkfifo "$T/fifo"
start=$(date +%s%N)
M "$T/fifo" "$T/d.hsnap"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$rc" = "$want" ] && [ "$ms" -lt 3000 ] && [ "$(warns "$T/e")" = 1 ]; then
  t_pass manifest_fifo_refused_without_blocking
else t_fail manifest_fifo_refused_without_blocking "status $rc after $ms ms: $(head -c 200 "$T/e")"; fi

# ---- under run (a channel named, its socket gone): the manifest run made
# is appended to, one that is gone is not made again
: >"$T/run.list"
M "$T/run.list" "$T/e1.hsnap" HEAPSNAP_MANIFEST_FD=1019:1 HEAPSNAP_STATE=0
M2_rc=$rc
M "$T/gone.list" "$T/e2.hsnap" HEAPSNAP_MANIFEST_FD=1019:1 HEAPSNAP_STATE=0
if [ "$M2_rc" = "$want" ] && [ "$(tr '\0' '|' <"$T/run.list")" = "$T/e1.hsnap|" ] && [ "$rc" = "$want" ] &&
   [ ! -e "$T/gone.list" ]; then
  t_pass manifest_under_run_not_made_again
else t_fail manifest_under_run_not_made_again "run.list: $(tr '\0' '|' <"$T/run.list" | head -c 200); gone.list $( [ -e "$T/gone.list" ] && echo made || echo absent)"; fi

# ---- a manifest already past the file size limit: the append fails with
# one warning, the program (whose small snapshot fits) is unharmed
head -c 20000 /dev/zero | tr '\0' a >"$T/big.list"
(ulimit -f 16 && exec env LD_PRELOAD="$SHIM" HEAPSNAP_STATE=0 HEAPSNAP_MANIFEST="$T/big.list" \
  HEAPSNAP_OUTPUT="$T/f.hsnap" /bin/true) >"$T/o" 2>"$T/e"; rc=$?
if [ "$rc" = 0 ] && [ "$(warns "$T/e")" = 1 ] && grep -q "^heapsnap: cannot append to $T/big.list: the file size limit" "$T/e" &&
   [ "$(stat -c %s "$T/big.list")" = 20000 ] && [ -s "$T/f.hsnap" ]; then
  t_pass manifest_past_file_size_limit_host_unharmed
else t_fail manifest_past_file_size_limit_host_unharmed "status $rc: $(head -c 200 "$T/e")"; fi
