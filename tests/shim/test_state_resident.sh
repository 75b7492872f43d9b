# test_state_resident.sh - the state file's pages that the helper writes
# (new stacks' nodes and traces, the documents) do not stay in the
# program's resident set: they are in the page cache and the file, not the
# program's RSS, so a program with many stacks does not pay them twice
# (state_let_go, state_publish).  The program is tests/shim/residentstacks.c
# (32,768 stacks); the state read after a kill still has them.  A beat that
# writes many stacks lets them go as it writes (tests/shim/beatstacks.c).
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

# Nor do they sit there while a beat writes them: a beat that writes many
# new stacks lets them go as it goes (state_stacks, every 256 KiB), where
# they stayed resident till its end.  tests/shim/beatstacks.c makes about
# 127,000 new nodes (2 MiB in the file) right after a beat, resets the
# high-water mark and waits two beats: the peak over the resident set
# before must stay under 1.5 MiB (about 0.8 with the document; 3 when the
# nodes stayed).  A beat during its burst ("busy") is tried again.
t_build beatstacks tests/shim/beatstacks.c -O0
out=busy
for _ in 1 2 3; do
  rm -rf "$T/beat"; mkdir -p "$T/beat"
  out=$(LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/beat/b.%p.hsnap" "$T/beatstacks" "$T/beat" 2>"$T/beat.err")
  [ "$out" = busy ] || break
done
spike=$(echo "$out" | sed -n 's/^spike=\(-\{0,1\}[0-9]*\) .*/\1/p')
stacks=$(echo "$out" | sed -n 's/.* stacks=\([0-9]*\)$/\1/p')
if [ "$out" = busy ]; then
  t_skip state_beat_lets_stacks_go_as_it_writes "a beat came during each of 3 bursts (a loaded machine)"
elif [ -n "$spike" ] && [ "${stacks:-0}" -ge 4096 ] && [ "$spike" -le 1536 ]; then
  t_pass "state_beat_lets_stacks_go_as_it_writes (peak +$spike KiB)"
else
  t_fail state_beat_lets_stacks_go_as_it_writes "'$out' $(head -c 200 "$T/beat.err")"
fi

# Nor does the file's creation fill the page cache: the header page is
# mapped without read-around (MADV_RANDOM, as the pieces are), where a first
# touch read the device's read_ahead_kb of the file's zeros past it (8 MiB,
# 2,052 pages, on a disk with read_ahead_kb 8192: most of a short process's
# start-up).  Right after start the file holds a few pages in the cache.
if command -v fincore >/dev/null; then
  mkdir -p "$T/ra"
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/ra/r.%p.hsnap" sleep 3 2>"$T/ra.err" & p=$!
  f=""
  for _ in $(seq 50); do
    f=$(ls "$T"/ra/*.state 2>/dev/null | head -1)
    [ -n "$f" ] && break
    sleep 0.1
  done
  sleep 0.3
  pages=$([ -n "$f" ] && fincore -n -b -o PAGES "$f" 2>/dev/null | tr -d ' ')
  kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
  if [ -n "$pages" ] && [ "$pages" -le 64 ]; then
    t_pass "state_creation_reads_no_window_around_the_header ($pages pages cached)"
  else
    t_fail state_creation_reads_no_window_around_the_header "state '$f': ${pages:-?} pages cached; $(head -c 200 "$T/ra.err")"
  fi
else
  t_skip state_creation_reads_no_window_around_the_header "no fincore (util-linux)"
fi
