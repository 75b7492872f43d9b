# test_state_resident.sh - the state file's pages that the helper writes
# (new stacks' nodes and traces, the documents) do not stay in the
# program's resident set: they are in the page cache and the file, not the
# program's RSS, so a program with many stacks does not pay them twice
# (state_let_go, state_publish).  The program is tests/shim/residentstacks.c
# (32,768 stacks); the state read after a kill still has them.
. tests/shim/lib_kill.sh
t_build residentstacks tests/shim/residentstacks.c -O1 -fno-omit-frame-pointer -fno-inline
mkfifo "$T/ready"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/m.hsnap" HEAPSNAP_SITELINE=0 "$T/residentstacks" "$T/ready" \
  2>"$T/m.err" & p=$!
kill_wait_fifo "$T/ready"
f=$(ls "$T"/*.state 2>/dev/null | head -1)
[ -n "$f" ] && kill_settle "$f" && kill_settle "$f"
# the state file's resident KiB in the program, and its KiB on disk
rss=$(awk '/^[0-9a-f]+-[0-9a-f]+ /{s = ($6 ~ /\.state$/)} s && /^Rss:/{t += $2} END{print t + 0}' \
  "/proc/$p/smaps" 2>/dev/null)
disk=$(du -k "$f" 2>/dev/null | cut -f1)
kill_now "$p"
"$HEAPSNAP" info "$f" >"$T/info" 2>&1
traces=$(awk '/^traces:/{print $2}' "$T/info")
if [ -n "$f" ] && [ "${disk:-0}" -ge 1024 ] && [ "${traces:-0}" -ge 32768 ] &&
   [ "${rss:-99999}" -le $((disk / 4)) ]; then
  t_pass "state_pages_leave_the_resident_set (resident $rss KiB of $disk KiB)"
else
  t_fail state_pages_leave_the_resident_set "state '$f': resident ${rss:-?} KiB of ${disk:-?} KiB, traces ${traces:-?}; shim: $(head -c 200 "$T/m.err"); info: $(head -c 300 "$T/info")"
fi
