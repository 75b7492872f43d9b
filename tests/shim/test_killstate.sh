# test_killstate.sh - a SIGKILL leaves the state file (shim/state/state.c), which
# top, top --peak, timeline, html and export read as a cut-short snapshot;
# run names the killed process and the file; a clean end leaves one file;
# while the process runs, its state file reads as a running one's;
# a full state file warns once and harms nothing; a damaged one is refused.
. tests/shim/lib_kill.sh

t_build killgrow tests/shim/killgrow.c -pthread
SITE='killgrow.c:[0-9]*: size=15.6 MiB, count=1000, average=16.0 KiB'

# kill_read NAME STATE: the readers on a state file of killgrow 1000.
kill_read() {
  local name=$1 st=$2
  if [ ! -f "$st" ]; then t_fail "${name}_leaves_a_state_file" "no $st: $(ls "$T/$name")"; return; fi
  t_pass "${name}_leaves_a_state_file"
  "$HEAPSNAP" top "$st" >"$T/$name.top" 2>"$T/$name.err"
  if grep -q "^tests/shim/$SITE" "$T/$name.top" &&
     grep -q "state pid [0-9]* left when it was killed.*cut short, no block list" "$T/$name.err"
  then t_pass "${name}_top_shows_the_growing_site"
  else t_fail "${name}_top_shows_the_growing_site" "$(head -c 300 "$T/$name.top" "$T/$name.err")"; fi
  "$HEAPSNAP" top --peak "$st" >"$T/$name.peak" 2>/dev/null
  if grep -q "$SITE" "$T/$name.peak"; then t_pass "${name}_top_peak_shows_the_site"
  else t_fail "${name}_top_peak_shows_the_site" "$(head -c 300 "$T/$name.peak")"; fi
  "$HEAPSNAP" timeline "$st" >"$T/$name.tl" 2>/dev/null
  if grep -q "killgrow.c:[0-9]*  load_chunk" "$T/$name.tl" && grep -q "15.6 MiB" "$T/$name.tl"
  then t_pass "${name}_timeline_shows_the_growth"
  else t_fail "${name}_timeline_shows_the_growth" "$(head -c 300 "$T/$name.tl")"; fi
  if "$HEAPSNAP" html "$st" -o "$T/$name.html" 2>/dev/null && grep -q "load_chunk" "$T/$name.html"
  then t_pass "${name}_html_reads_it"; else t_fail "${name}_html_reads_it" "no page"; fi
  if "$HEAPSNAP" export --format folded "$st" 2>/dev/null | grep -q "load_chunk (tests/shim/killgrow.c:[0-9]*) 16384000$"
  then t_pass "${name}_export_reads_it"; else t_fail "${name}_export_reads_it" "no folded line"; fi
  "$HEAPSNAP" leaks "$st" >"$T/$name.lk" 2>&1; local rc=$?
  if [ "$rc" = 2 ] && grep -q "killed.*no block list" "$T/$name.lk" && [ "$(wc -l <"$T/$name.lk")" -le 2 ]
  then t_pass "${name}_leaks_says_no_block_list"
  else t_fail "${name}_leaks_says_no_block_list" "exit $rc: $(head -c 300 "$T/$name.lk")"; fi
  if "$HEAPSNAP" info "$st" 2>/dev/null | grep -q "^reason: *killed"
  then t_pass "${name}_info_says_killed"; else t_fail "${name}_info_says_killed" "reason"; fi
}

# A plain preload with HEAPSNAP_OUTPUT, the state file at its default.
mkdir -p "$T/preload" && mkfifo "$T/preload.fifo"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/preload/k.%p.hsnap" "$T/killgrow" 1000 "$T/preload.fifo" &
pid=$!
kill_wait_fifo "$T/preload.fifo" && kill_settle "$T/preload/k.$pid.hsnap.state"
# While it runs, its state file reads as the state of a running process
# (it maps the file), not as one left by a kill.
"$HEAPSNAP" top "$T/preload/k.$pid.hsnap.state" >"$T/alive.top" 2>"$T/alive.err"
"$HEAPSNAP" info "$T/preload/k.$pid.hsnap.state" >"$T/alive.info" 2>/dev/null
"$HEAPSNAP" leaks "$T/preload/k.$pid.hsnap.state" >"$T/alive.lk" 2>&1
if grep -q "^tests/shim/$SITE" "$T/alive.top" &&
   grep -q "state of pid $pid, which still runs.*no block list" "$T/alive.err" &&
   ! grep -q killed "$T/alive.err" "$T/alive.info" "$T/alive.lk" &&
   grep -q "^reason: *running" "$T/alive.info" && grep -q "still runs.*no block list" "$T/alive.lk"
then t_pass state_of_a_running_process_reads_as_running
else t_fail state_of_a_running_process_reads_as_running "$(head -c 400 "$T/alive.err" "$T/alive.lk")"; fi
kill_now "$pid"
kill_read preload "$T/preload/k.$pid.hsnap.state"

# heapsnap run: it names the process, the signal and the file.
mkdir -p "$T/run" && mkfifo "$T/run.fifo"
"$HEAPSNAP" run -o "$T/run/k.%p.hsnap" -- "$T/killgrow" 1000 "$T/run.fifo" 2>"$T/run.err" &
rpid=$!
kill_wait_fifo "$T/run.fifo"
cpid=$(kill_child "$rpid")
kill_settle "$T/run/k.$cpid.hsnap.state"
kill_now "$cpid"; [ -n "$cpid" ] || kill_now "$rpid"; wait "$rpid" 2>/dev/null
if grep -q "pid $cpid (.*killgrow) was killed by SIGKILL.*k.$cpid.hsnap.state" "$T/run.err" &&
   ! grep -q "no snapshot was written" "$T/run.err"
then t_pass "run_names_the_killed_process_its_signal_and_state"
else t_fail "run_names_the_killed_process_its_signal_and_state" "$(head -c 300 "$T/run.err")"; fi
kill_read run "$T/run/k.$cpid.hsnap.state"

# A clean end: the state file while it runs, then the snapshot and nothing else.
mkdir -p "$T/clean" && mkfifo "$T/clean.fifo"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/clean/k.%p.hsnap" "$T/killgrow" 10 "$T/clean.fifo" then-exit &
pid=$!
kill_wait_fifo "$T/clean.fifo"
during=$(ls -A "$T/clean" | tr '\n' ' ')
echo 1 >"$T/clean.fifo"; wait "$pid"
"$HEAPSNAP" run -o "$T/clean/r.%p.hsnap" -- "$T/killgrow" 10 - exit 2>/dev/null
left=$(ls -A "$T/clean" | tr '\n' ' ')
case "$during/$left" in
  "k.$pid.hsnap.state /k.$pid.hsnap r."[0-9]*".hsnap ") t_pass "clean_exit_leaves_exactly_the_snapshot" ;;
  *) t_fail "clean_exit_leaves_exactly_the_snapshot" "while running: $during; left: $left" ;;
esac

# A bound too small for the program's sites: one warning, the program unharmed,
# its exit snapshot whole, the state file gone.
mkdir -p "$T/full"
HEAPSNAP_STATE=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/full/m.hsnap" \
  "$T/killgrow" 100 - threads 2>"$T/full.err"; rc=$?
nwarn=$(grep -c "state file is full" "$T/full.err")
if [ "$rc" = 0 ] && [ "$nwarn" = 1 ] && [ "$(ls -A "$T/full")" = m.hsnap ] &&
   "$HEAPSNAP" top "$T/full/m.hsnap" 2>/dev/null | grep -q "killgrow.c:[0-9]*: size=1601 KiB, count=108,"
then t_pass "full_state_file_warns_once_and_harms_nothing"
else t_fail "full_state_file_warns_once_and_harms_nothing" "rc $rc, $nwarn warnings, $(ls -A "$T/full")"; fi

# A damaged state file is refused with exit 2 and one line, never a crash:
# truncated, a newer version, a directory past its room, a torn document.
st=$(ls "$T"/preload/k.*.hsnap.state 2>/dev/null | head -1)
if [ -f "$st" ]; then
  bad=0; why=""
  # kill_damage NAME OFFSET BYTES(printf) [truncate SIZE]
  kill_damage() {
    cp "$st" "$T/bad.state"
    if [ "$2" = truncate ]; then truncate -s "$3" "$T/bad.state"
    else printf "$3" | dd of="$T/bad.state" bs=1 seek="$2" conv=notrunc 2>/dev/null; fi
    "$HEAPSNAP" top "$T/bad.state" >"$T/bad.out" 2>&1; local rc=$?
    if [ "$rc" != 2 ] || [ "$(wc -l <"$T/bad.out")" != 1 ] || ! grep -q "state file: $4" "$T/bad.out"
    then bad=1; why="$why $1 (exit $rc: $(head -c 120 "$T/bad.out"))"; fi
  }
  kill_damage truncated truncate 8192 "header and file size disagree"
  kill_damage version 8 '\143' "unknown version"
  kill_damage ndir 156 '\377\377' "more chunks of cells"
  doc=$(od -An -t u8 -j 80 -N 8 "$st" | tr -d ' ')
  slot=$(od -An -t u4 -j 152 -N 4 "$st" | tr -d ' ')
  [ "$slot" = 1 ] && doc=$(od -An -t u8 -j 88 -N 8 "$st" | tr -d ' ')
  kill_damage torn_document $((doc + 40)) '\125\125\125' "its document does not match"
  if [ "$bad" = 0 ]; then t_pass "damaged_state_file_refused_in_one_line"
  else t_fail "damaged_state_file_refused_in_one_line" "$why"; fi
else
  t_fail "damaged_state_file_refused_in_one_line" "no state file to damage"
fi
