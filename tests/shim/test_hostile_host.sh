# test_hostile_host.sh - the shim in a host that behaves like a real service:
# it rewrites its process title over environ, chdirs away, takes over the
# snapshot signal, forks children that leave through _exit, forks while
# snapshots are written; and snapshot signals no program survives.
# tier: full (a service-like host through many scenarios, minutes under load)
. tests/shim/lib_shim.sh
s_build hostile || t_fail hostile_builds "cc failed"
s_build forksnap || t_fail forksnap_builds "cc failed"
s_dump_build

# ---- the process title: options are copied at start-up
mkdir -p "$T/title"
(cd "$T/title" && LD_PRELOAD=$SHIM HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/title/t.%p.%n.hsnap" \
   "$T/hostile" title >"$T/title.out" 2>"$T/title.err")
n=$(ls "$T/title" | grep -c '^t\.[0-9]*\.[01]\.hsnap$')
if [ "$n" = 2 ] && [ "$(ls -A "$T/title" | wc -l)" = 2 ] && [ ! -s "$T/title.err" ]; then
  t_pass title_rewrite_keeps_output_names
else
  t_fail title_rewrite_keeps_output_names "files: $(ls -A "$T/title" | tr '\n' ' ') err: $(head -c 200 "$T/title.err")"
fi

# ---- a relative HEAPSNAP_OUTPUT is resolved where the process started
mkdir -p "$T/start" "$T/away"
(cd "$T/start" && LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="rel.%p.hsnap" "$T/hostile" chdir "$T/away")
if ls "$T/start" | grep -q '^rel\.[0-9]*\.hsnap$' && [ -z "$(ls -A "$T/away")" ]; then
  t_pass relative_output_ignores_later_chdir
else
  t_fail relative_output_ignores_later_chdir "start: $(ls "$T/start" | tr '\n' ' ') away: $(ls -A "$T/away" | tr '\n' ' ')"
fi

# ---- the program's own handler for HEAPSNAP_SIGNAL wins, with one warning
LD_PRELOAD=$SHIM HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/h.%p.%n.hsnap" \
  "$T/hostile" handler >"$T/h.out" 2>"$T/h.err"
rc=$?
if [ "$rc" = 0 ] && grep -qx 'own handlers ran: 1 1' "$T/h.out" &&
   [ "$(grep -c 'installed its own handler for HEAPSNAP_SIGNAL' "$T/h.err")" = 1 ] &&
   [ "$(ls "$T" | grep -c '^h\.[0-9]*\.[0-9]*\.hsnap$')" = 1 ]; then   # the exit snapshot alone
  t_pass program_handler_for_snapshot_signal_wins_with_warning
else
  t_fail program_handler_for_snapshot_signal_wins_with_warning "rc=$rc out: $(cat "$T/h.out") err: $(head -c 300 "$T/h.err")"
fi
# without HEAPSNAP_SIGNAL, taking USR2 is nobody's business
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/h2.%p.hsnap" "$T/hostile" handler >"$T/h2.out" 2>"$T/h2.err"
if grep -qx 'own handlers ran: 1 1' "$T/h2.out" && [ ! -s "$T/h2.err" ]; then
  t_pass program_handler_unwatched_signal_silent
else
  t_fail program_handler_unwatched_signal_silent "out: $(cat "$T/h2.out") err: $(head -c 300 "$T/h2.err")"
fi

# ---- snapshot signals no program survives are refused, by name and number
bad=""
for s in SEGV SIGILL BUS FPE TRAP ABRT KILL STOP 11; do
  LD_PRELOAD=$SHIM HEAPSNAP_SIGNAL=$s HEAPSNAP_OUTPUT="$T/sig.%p.hsnap" "$T/hostile" chdir "$T" 2>"$T/sig.err"
  [ "$?" = 0 ] && [ "$(grep -c 'refusing HEAPSNAP_SIGNAL' "$T/sig.err")" = 1 ] || bad="$bad $s"
done
LD_PRELOAD=$SHIM HEAPSNAP_STOP_SIGNAL=SEGV HEAPSNAP_OUTPUT="$T/sig.%p.hsnap" "$T/hostile" chdir "$T" 2>"$T/stop.err"
grep -q 'refusing HEAPSNAP_STOP_SIGNAL' "$T/stop.err" || bad="$bad stop:SEGV"
if [ -z "$bad" ]; then t_pass fatal_snapshot_signals_refused
else t_fail fatal_snapshot_signals_refused "accepted:$bad ($(head -c 200 "$T/sig.err"))"; fi

# ---- forked children that leave through _exit write nothing by default
mkdir -p "$T/fe"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/fe/f.%p.hsnap" "$T/hostile" forkexit 5
n=$(ls "$T/fe" | wc -l)
if [ "$n" = 2 ]; then t_pass fork_children_quiet_at_underscore_exit
else t_fail fork_children_quiet_at_underscore_exit "$n snapshots, want 2 (parent, exit() child)"; fi
mkdir -p "$T/fa" "$T/fn"
LD_PRELOAD=$SHIM HEAPSNAP_CHILDREN=all HEAPSNAP_OUTPUT="$T/fa/f.%p.hsnap" "$T/hostile" forkexit 5
LD_PRELOAD=$SHIM HEAPSNAP_CHILDREN=none HEAPSNAP_OUTPUT="$T/fn/f.%p.hsnap" "$T/hostile" forkexit 5
na=$(ls "$T/fa" | wc -l) nn=$(ls "$T/fn" | wc -l)
if [ "$na" = 7 ] && [ "$nn" = 1 ]; then t_pass fork_children_all_and_none
else t_fail fork_children_all_and_none "all: $na (want 7), none: $nn (want 1)"; fi

# ---- a signal handler frees a tracked block while its thread is inside a hook
# (raisealloc.c, after the shim in LD_PRELOAD, raises the signal from inside
# the real malloc): the free is deferred, not lost (old code: 4-11 false leaks)
cc -g -O0 -shared -fPIC tests/shim/raisealloc.c -o "$T/libraisealloc.so" && s_build sigalloc ||
  t_fail sigalloc_builds "cc failed"
LD_PRELOAD="$SHIM:$T/libraisealloc.so" HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/sa.hsnap" "$T/sigalloc" 1000
rc=$?
"$HEAPSNAP" leaks "$T/sa.hsnap" >"$T/sa.txt" 2>&1
if [ "$rc" = 0 ] && grep -Eq '^ *direct: 0 bytes in 0 blocks' "$T/sa.txt" &&
   grep -q 'possibly lost: 0 bytes in 0 blocks' "$T/sa.txt"; then
  t_pass handler_frees_inside_hook_leave_no_false_leak
else
  t_fail handler_frees_inside_hook_leave_no_false_leak "exit $rc: $(grep -E 'direct|possibly|no leak' "$T/sa.txt" | tr '\n' ' ')"
fi

# ---- a PROT_NONE page inside a live block: the leak check scans around it
LD_PRELOAD=$SHIM HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/guard.hsnap" "$T/hostile" guard 2>"$T/guard.err"
rc=$?
"$HEAPSNAP" leaks "$T/guard.hsnap" >"$T/guard.txt" 2>&1
if [ "$rc" = 0 ] && grep -q '^200 bytes in 1 blocks are definitely lost' "$T/guard.txt" &&
   grep -q 'still reachable: 12388 bytes in 2 blocks' "$T/guard.txt" &&
   grep -q '^note: 1 blocks could not be read whole' "$T/guard.txt" &&
   s_dump "$T/guard.hsnap" | grep -qx 'partial 1'; then
  t_pass leak_check_scans_around_prot_none_page   # as valgrind: 200 lost, 12,388 reachable
else
  t_fail leak_check_scans_around_prot_none_page "exit $rc: $(head -c 300 "$T/guard.txt") $(head -c 200 "$T/guard.err")"
fi

# ---- a leak in a linked library's constructor, which runs before the shim's
cc -g -O0 -shared -fPIC tests/shim/early_lib.c -o "$T/libearly.so" &&
  cc -g -O0 tests/shim/early_main.c -o "$T/early_main" -L"$T" -learly -Wl,-rpath,"$T" ||
  t_fail early_builds "cc failed"
LD_PRELOAD=$SHIM HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/early.hsnap" "$T/early_main"
"$HEAPSNAP" leaks "$T/early.hsnap" >"$T/early.txt" 2>&1
if grep -q '^4242 bytes in 1 blocks are definitely lost' "$T/early.txt" &&
   grep -A1 '^4242 bytes' "$T/early.txt" | grep -q 'early_init (tests/shim/early_lib.c:11)'; then
  t_pass early_constructor_leak_seen      # valgrind: 4,242 bytes definitely lost
else
  t_fail early_constructor_leak_seen "$(head -c 400 "$T/early.txt")"
fi

# ---- the shim's fixed address space (RLIMIT_AS counts it): was 16 MiB
# (a 4 MiB region table in bss, the helper thread's 8 MiB stack), then
# 7784 KiB; 7360 since the stop's registry maps its slots and the main
# thread's vector save area when first needed (a program that starts no
# thread maps none); 5620 since the peak's per-thread lines are mapped
# eight at a time as threads claim them (the main thread maps one chunk,
# 260 KiB, of the 2 MiB the 64 lines took); 5684 at 0ece7db (code), 5496
# since the snapshot's streamed-blocks chunk and its two copy buffers are
# mapped while in use (side_copy, dest_copy), not held in .bss.
# 5668 at 40e799e9; 5736 since each allocating thread has a record
# (athr_recs, 24 KiB of .bss: top --key thread) and the deep memo sets'
# and HOLDERS' code.  5796 at 9198a472, 5800 since a page more of code
# (text +1.6 KiB: pyfr_trace's shared outer frames, the native names'
# ring).  5864 at 317b3a75, a page more of code (HEAPSNAP_PYTHON_NATIVE=
# caller: pyfr_caller, hook_stack_caller).  The bound, 5928 KiB, leaves
# 64 KiB.  The state file's pieces
# are mapped as they are used (0.3-0.7 MiB here, by timing; bounded by
# HEAPSNAP_STATE): not fixed, so left out.
# The least of three runs: under load, the helper thread's passing work
# (a transient map of its own, by timing) was once caught, 36 KiB more.
plain=$("$T/hostile" vmsize)
shim=
for _ in 1 2 3; do
  v=$(LD_PRELOAD=$SHIM HEAPSNAP_STATE=0 HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/vm.%p.hsnap" "$T/hostile" vmsize)
  [ -n "$v" ] && { [ -z "$shim" ] || [ "$v" -lt "$shim" ]; } && shim=$v
done
if [ -n "$plain" ] && [ -n "$shim" ] && [ $((shim - plain)) -lt 5928 ]; then
  t_pass shim_fixed_address_space_under_8mib
else
  t_fail shim_fixed_address_space_under_8mib "plain ${plain} kB, under the shim ${shim} kB: $((shim - plain)), want under 5928"
fi

# ---- a daemon expects each open() to return the lowest free number: the
# shim's helper opens the state file and a document's memfd at each
# heartbeat, in a descriptor table of its own, so none of them ever takes
# one of the program's numbers, even for an instant (20 heartbeats: a
# number taken for an instant at each is met within them)
mkdir -p "$T/lowfd"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/lowfd/h.%p.hsnap" \
  "$T/hostile" lowfd "$T/lowfd/h.%d.hsnap.state" 20 >"$T/lowfd.out" 2>&1
if grep -qx "stolen 0" "$T/lowfd.out" && [ "$(sed -n 's/^beats //p' "$T/lowfd.out")" -ge 20 ] 2>/dev/null
then t_pass helper_takes_no_descriptor_number_of_the_program
else t_fail helper_takes_no_descriptor_number_of_the_program "$(tr '\n' ' ' <"$T/lowfd.out")"; fi

# ---- two processes, one name without %p: none replaces another's (the
# manifest lists every snapshot written: each must still be there)
mkdir -p "$T/sn"
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/sn/same.hsnap" HEAPSNAP_MANIFEST="$T/sn.manifest" \
  sh -c "\"$T/hostile\" chdir \"$T\" & \"$T/hostile\" chdir \"$T\" & wait" 2>"$T/sn.err"
n=$(ls "$T/sn" | grep -c '^same\(\.[0-9]*\)\?\.hsnap$')
written=$(tr '\0' '\n' <"$T/sn.manifest" | sort -u | wc -l)
if [ "$n" -ge 2 ] && [ "$n" = "$written" ] && [ -e "$T/sn/same.hsnap" ] &&
   [ "$(grep -c 'written by another process' "$T/sn.err")" = $((n - 1)) ]; then
  t_pass shared_name_never_replaces_another_process
else
  t_fail shared_name_never_replaces_another_process "$n files, $written written: $(ls "$T/sn" | tr '\n' ' ') $(head -c 200 "$T/sn.err")"
fi
rm -f "$T"/sn/*; touch -d '1 hour ago' "$T/sn/same.hsnap"   # an earlier run's file is replaced
LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/sn/same.hsnap" "$T/hostile" chdir "$T" 2>"$T/sn2.err"
if [ "$(ls "$T/sn" | wc -l)" = 1 ] && [ -s "$T/sn/same.hsnap" ] && [ ! -s "$T/sn2.err" ]; then
  t_pass shared_name_replaces_earlier_runs_file
else
  t_fail shared_name_replaces_earlier_runs_file "$(ls -l "$T/sn" | tr '\n' ' ')"
fi
# under heapsnap run the run's own start (HEAPSNAP_RUN_START) tells an
# earlier run's file: back-to-back runs under one name, well within a
# second, replace it and never rename around it; two processes of one run
# still keep each other's
mkdir -p "$T/bb"
"$HEAPSNAP" run -q -o "$T/bb/same.hsnap" -- "$T/hostile" chdir "$T" 2>"$T/bb1.err"
"$HEAPSNAP" run -q -o "$T/bb/same.hsnap" -- "$T/hostile" chdir "$T" 2>"$T/bb2.err"
if [ "$(ls "$T/bb")" = same.hsnap ] && ! grep -q 'written by another process' "$T/bb2.err"; then
  t_pass run_back_to_back_same_name_replaces_never_renames
else
  t_fail run_back_to_back_same_name_replaces_never_renames "$(ls "$T/bb" | tr '\n' ' ') $(head -c 200 "$T/bb2.err")"
fi
rm -f "$T"/bb/*
"$HEAPSNAP" run -q -o "$T/bb/same.hsnap" -- \
  sh -c "\"$T/hostile\" chdir \"$T\" & \"$T/hostile\" chdir \"$T\" & wait" 2>"$T/bb3.err"
n=$(ls "$T/bb" | grep -c '^same\(\.[0-9]*\)\?\.hsnap$')
if [ "$n" -ge 2 ]; then t_pass run_shared_name_keeps_each_process_of_the_run
else t_fail run_shared_name_keeps_each_process_of_the_run "$(ls "$T/bb" | tr '\n' ' ') $(head -c 200 "$T/bb3.err")"; fi

# ---- heapsnap run --children sets it; a bad mode is refused
mkdir -p "$T/rc"
"$HEAPSNAP" run -o "$T/rc/r.%p.hsnap" --children all -- "$T/hostile" forkexit 3 >/dev/null 2>&1
"$HEAPSNAP" run --children bogus -- true 2>"$T/rc.err"; bad=$?
if [ "$(ls "$T/rc" | wc -l)" = 5 ] && [ "$bad" = 2 ] && grep -q -- '--children' "$T/rc.err"; then
  t_pass run_children_flag
else
  t_fail run_children_flag "$(ls "$T/rc" | wc -l) snapshots (want 5), bogus mode exit $bad"
fi

# ---- fork from a thread while snapshots are requested every 2 ms: no hang
hung=0 failed=0
for i in $(seq 1 20); do
  mkdir -p "$T/fs$i"
  timeout 30 env LD_PRELOAD=$SHIM HEAPSNAP_SIGNAL=USR2 HEAPSNAP_OUTPUT="$T/fs$i/s.%p.%n.hsnap" \
    "$T/forksnap" 12 40 >"$T/fs.out" 2>&1
  rc=$?
  [ "$rc" = 124 ] && hung=$((hung + 1))
  [ "$rc" != 0 ] && [ "$rc" != 124 ] && failed=$((failed + 1))
  rm -rf "$T/fs$i"
done
if [ "$hung" = 0 ] && [ "$failed" = 0 ]; then t_pass fork_during_snapshots_20_runs_no_hang
else t_fail fork_during_snapshots_20_runs_no_hang "$hung of 20 hung, $failed failed"; fi
hung=0 failed=0
for i in $(seq 1 5); do
  mkdir -p "$T/fl$i"
  timeout 60 env LD_PRELOAD=$SHIM HEAPSNAP_LEAKS=1 HEAPSNAP_SIGNAL=USR2 \
    HEAPSNAP_OUTPUT="$T/fl$i/s.%p.%n.hsnap" "$T/forksnap" 12 20 >"$T/fl.out" 2>&1
  rc=$?
  [ "$rc" = 124 ] && hung=$((hung + 1))
  [ "$rc" != 0 ] && [ "$rc" != 124 ] && failed=$((failed + 1))
  rm -rf "$T/fl$i"
done
if [ "$hung" = 0 ] && [ "$failed" = 0 ]; then t_pass fork_during_leak_checks_no_hang
else t_fail fork_during_leak_checks_no_hang "$hung of 5 hung, $failed failed: $(head -c 300 "$T/fl.out")"; fi

# ---- a program at its address-space limit (ulimit -v): it grows until
# malloc fails, then exits with what it grew still live, leaving the shim
# too little memory for its exit snapshot.  The snapshot is written
# without BLOCKS when that fits (snap_blocks_given_up), else the state file
# stays as the record, its last heartbeat given the stacks of the sites
# made since the helper's (state_unwritten), said so by run and by its
# reader (HSTATE_UNWRITTEN); either way `top` names the growing line first.
# Both went with the failure, and nothing was left.  A Python program that
# catches its MemoryError, and a short C one (hostile grow): its sites were
# made after the helper's last heartbeat.  A Python line is named by a
# state document's code records: the last beat makes one in the address
# space held back for it (state_reserve_room), or a line first met after
# the helper's last document would read as <unknown> (a loaded make check
# often starved the helper through the whole growth)
# aslimit NAME CMD LINE: the case NAME passes when `run -- sh -c "ulimit -v
# 300000; exec CMD"` exits 0 with one file, said as above, whose first site
# is LINE (file:line)
aslimit() {
  local d=$T/$1 got first said rc
  mkdir -p "$d"
  "$HEAPSNAP" run -o "$d/g.%p.hsnap" -- sh -c "ulimit -v 300000; exec $2" >"$d.out" 2>"$d.err"
  rc=$?
  got=$(ls "$d" | head -1)
  first=$([ -n "$got" ] && "$HEAPSNAP" top -n 1 "$d/$got" 2>"$d.top.err")
  case "$got" in
    *.hsnap.state) said=$(grep -c 'could not write its snapshot (above); its state at its end is in' "$d.err")
                   grep -q 'left when its exit snapshot found no memory' "$d.top.err" || said=0 ;;
    *.hsnap) said=$(grep -c 'this snapshot has the sites and the peak without them' "$d.err") ;;
    *) said=0 ;;
  esac
  if [ "$rc" = 0 ] && grep -q '^grew [0-9]' "$d.out" && [ "$said" = 1 ] &&
     [ "$(ls -A "$d" | wc -l)" = 1 ] && case "$first" in "$3: size="*) true ;; *) false ;; esac
  then t_pass "$1"
  else t_fail "$1" "rc $rc, files: $(ls -A "$d" | tr '\n' ' ') top: $first; $(head -c 400 "$d.err")"; fi
}
if [ -x /usr/bin/python3 ]; then
  cat >"$T/grow.py" <<'PY'
x = []
try:
    while True:
        x.append(bytearray(100000))
except MemoryError:
    print("grew", len(x))
PY
  aslimit address_space_limit_leaves_the_sites_python "/usr/bin/python3 $T/grow.py" "$T/grow.py:4"
else
  t_skip address_space_limit_leaves_the_sites_python "no /usr/bin/python3"
fi
aslimit address_space_limit_leaves_the_sites_native "$T/hostile grow" "tests/shim/hostile.c:75"
