# tests/report/commands/test_run.sh - `heapsnap run` end to end, and process life under the
# shim: exit status passed through (also death by signal), "wrote PATH" lines,
# an existing LD_PRELOAD kept, fixtures' output and status unchanged by the shim,
# fork (parent and child each write their own %p snapshot with their own
# allocations) and exec (the exec'd image is profiled).
. tests/fixtures/lib.sh
hs_re=$(printf '%s' "$HEAPSNAP" | sed 's/[].[\\*^$()+?{|]/\\&/g') # the command as run, in a regex
FX_TEST=run fx_ready sites allocfns newdelete threads forker execer || return 0
G=tests/golden

# --- exit status and the "wrote" lines ----------------------------------------
t_status run_exit_status 3 "$HEAPSNAP" run -o "$T/st.%p.hsnap" -- sh -c 'exit 3'
t_status run_killed_by_signal 143 "$HEAPSNAP" run -o "$T/sig.%p.hsnap" -- sh -c 'kill -TERM $$'

if "$HEAPSNAP" run -o "$T/w.%p.hsnap" -- "$FX/sites" >"$T/w.out" 2>"$T/w.err"; then
  path=$(sed -n 's/^heapsnap: wrote //p' "$T/w.err" | head -1)
  if [ -n "$path" ] && [ -s "$path" ] && [ "$(grep -c '^heapsnap: wrote ' "$T/w.err")" = 1 ]; then
    t_pass run_prints_wrote
  else t_fail run_prints_wrote "want one 'heapsnap: wrote PATH' naming an existing file: $(head -c 300 "$T/w.err")"; fi
  case "$path" in "$T"/w.[0-9]*.hsnap) t_pass run_expands_pid ;;
    *) t_fail run_expands_pid "wrote '$path', want $T/w.<pid>.hsnap" ;; esac
  if "$HEAPSNAP" top "$path" --key lineno >"$T/w.top" 2>&1; then
    t_golden run_sites_top "$G/top_sites_lineno.txt" "$T/w.top"
  else t_fail run_sites_top "top exited $?"; fi
else
  t_fail run_prints_wrote "heapsnap run -- sites exited $?: $(head -c 300 "$T/w.err")"
fi

# --- an existing LD_PRELOAD stays, after the shim ------------------------------
printf 'int heapsnap_test_marker;\n' >"$T/marker.c"
if gcc -shared -fPIC "$T/marker.c" -o "$T/marker.so" 2>"$T/cc.err"; then
  LD_PRELOAD=$T/marker.so "$HEAPSNAP" run -o "$T/pre.%p.hsnap" -- sh -c 'echo "$LD_PRELOAD"' \
    >"$T/pre.out" 2>"$T/pre.err"
  case "$(cat "$T/pre.out")" in
    *libheapsnap.so*"$T/marker.so"*) t_pass run_keeps_ld_preload ;;
    *) t_fail run_keeps_ld_preload "child saw LD_PRELOAD='$(cat "$T/pre.out")'" ;;
  esac
else
  t_fail run_keeps_ld_preload "cannot build a marker library: $(head -c 200 "$T/cc.err")"
fi

# --- the caller's HEAPSNAP_OUTPUT is the default pattern; -o still wins -------
mkdir -p "$T/envout"
HEAPSNAP_OUTPUT="$T/envout/mine.%p.hsnap" "$HEAPSNAP" run -- "$FX/sites" >/dev/null 2>"$T/envout.err"
set -- "$T"/envout/*.hsnap
case "$#:$1" in
  1:"$T"/envout/mine.[0-9]*.hsnap) t_pass run_honours_heapsnap_output ;;
  *) t_fail run_honours_heapsnap_output "wrote $*: $(head -c 200 "$T/envout.err")" ;;
esac
HEAPSNAP_OUTPUT="$T/envout/not.%p.hsnap" "$HEAPSNAP" run -o "$T/envout/o.%p.hsnap" -- "$FX/sites" \
  >/dev/null 2>&1
set -- "$T"/envout/o.*.hsnap
[ $# = 1 ] && [ -s "$1" ] && ! ls "$T"/envout/not.* >/dev/null 2>&1 && t_pass run_o_beats_heapsnap_output \
  || t_fail run_o_beats_heapsnap_output "files: $(ls "$T/envout")"
HEAPSNAP_OUTPUT="$T/envout/not.%p.hsnap" "$HEAPSNAP" run --output-dir "$T/envout/dir" -- "$FX/sites" \
  >/dev/null 2>&1
set -- "$T"/envout/dir/sites.*.hsnap
[ $# = 1 ] && [ -s "$1" ] && ! ls "$T"/envout/not.* >/dev/null 2>&1 && t_pass run_output_dir_beats_heapsnap_output \
  || t_fail run_output_dir_beats_heapsnap_output "files: $(ls -R "$T/envout")"

# --- the shim changes nothing: same stdout, stderr and status as a plain run ---
for f in sites allocfns newdelete threads forker; do
  "$FX/$f" >"$T/plain.out" 2>"$T/plain.err"; want=$?
  fx_profile "$T/same.$f.%p.hsnap" "$FX/$f"; got=$?
  if [ "$got" != "$want" ]; then t_fail "run_unchanged_$f" "exit $got under the shim, $want without"
  elif ! cmp -s "$T/plain.out" "$T/fx.out" || ! cmp -s "$T/plain.err" "$T/fx.err"; then
    t_fail "run_unchanged_$f" "output differs: $(diff "$T/plain.err" "$T/fx.err" | head -c 200)"
  else t_pass "run_unchanged_$f"; fi
done

# --- fork: two snapshots, each with its own allocations (the child's without the
# 3 blocks it inherited: HEAPSNAP_INHERITED's summary) ---------------------------
mkdir -p "$T/fork"
if "$HEAPSNAP" run -o "$T/fork/f.%p.hsnap" -- "$FX/forker" >/dev/null 2>"$T/fork.err"; then
  t_pass run_fork_status
else t_fail run_fork_status "exit $?: $(head -c 300 "$T/fork.err")"; fi
set -- "$T"/fork/f.*.hsnap
if [ $# = 2 ] && [ -s "$1" ] && [ -s "$2" ]; then
  t_pass run_fork_two_snapshots
  shared='tests/fixtures/forker.c:35: size=3333 B, count=3, average=1111 B'
  child='tests/fixtures/forker.c:21: size=22.8 KiB, count=7, average=3333 B'
  parent='tests/fixtures/forker.c:27: size=10.8 KiB, count=5, average=2222 B'
  nparent=0; nchild=0
  for s in "$@"; do
    "$HEAPSNAP" top "$s" --key lineno -n 0 >"$T/ft.txt" 2>&1
    fx_only forker.c "$T/ft.txt" >"$T/ftf.txt"
    # the child's: its own blocks (the inherited ones summed apart, INHERITED)
    if [ "$(cat "$T/ftf.txt")" = "$child" ]; then nchild=$((nchild + 1))
    elif [ "$(cat "$T/ftf.txt")" = "$(printf '%s\n%s' "$parent" "$shared")" ]; then nparent=$((nparent + 1))
    else sed 's/^/    /' "$T/ftf.txt"; fi
  done
  [ $nparent = 1 ] && [ $nchild = 1 ] && t_pass run_fork_contents \
    || t_fail run_fork_contents "want one parent-only and one child-only snapshot (parent $nparent, child $nchild)"
else
  t_fail run_fork_two_snapshots "want 2 snapshots, got $#: $*"
fi

# --- fork under a name without %p: the name is the program's, though its child
# (exit() before the parent) writes first; the child's takes its pid, silently
mkdir -p "$T/forkname"
"$HEAPSNAP" run -o "$T/forkname/f.hsnap" -- "$FX/forker" >/dev/null 2>"$T/forkname.err" & rp=$!
wait "$rp"; rc=$?
kid=$(ls "$T/forkname" | sed -n 's/^f\.\([0-9]*\)\.hsnap$/\1/p')
if [ "$rc" = 0 ] && [ "$(ls "$T/forkname" | wc -l)" = 2 ] && [ -n "$kid" ] &&
   "$HEAPSNAP" info "$T/forkname/f.hsnap" | grep -Eq "^pid: +[0-9]+ \(parent $rp\)$" &&
   "$HEAPSNAP" info "$T/forkname/f.$kid.hsnap" | grep -Eq "^pid: +$kid " &&
   ! grep -q 'another process' "$T/forkname.err" &&
   grep -Eq "^heapsnap: next: $hs_re top (--peak )?\S*forkname/f\.hsnap( |$)" "$T/forkname.err"
then t_pass run_o_without_pid_names_the_parent_not_its_fork_child
else t_fail run_o_without_pid_names_the_parent_not_its_fork_child "exit $rc, run $rp: $(ls "$T/forkname" | tr '\n' ' ') $(head -c 400 "$T/forkname.err" | tr '\n' '|')"; fi

# --- exec through /bin/sh: the last image is profiled, the first is not --------
mkdir -p "$T/exec"
if "$HEAPSNAP" run -o "$T/exec/e.%p.hsnap" -- "$FX/execer" "$FX/sites" >/dev/null 2>"$T/exec.err"; then
  t_pass run_exec_status
else t_fail run_exec_status "exit $?: $(head -c 300 "$T/exec.err")"; fi
set -- "$T"/exec/e.*.hsnap
if [ $# = 1 ] && [ -s "$1" ]; then
  t_pass run_exec_one_snapshot
  "$HEAPSNAP" top "$1" --key lineno >"$T/et.txt" 2>&1
  t_golden run_exec_profiles_new_image "$G/top_sites_lineno.txt" "$T/et.txt"
else
  t_fail run_exec_one_snapshot "want 1 snapshot (one pid, one exit), got $#: $*"
fi

# run's channel to the shim (HEAPSNAP_MANIFEST_FD) sits at a high number:
# the command's first descriptors (3, 4, 5) are free, as without run.
out=$("$HEAPSNAP" run -o "$T/fdlow.%p.hsnap" -- sh -c 'for f in 3 4 5 6; do [ -e /proc/$$/fd/$f ] && echo "fd $f open"; done; true' 2>/dev/null)
[ -z "$out" ] && t_pass run_leaves_low_descriptors_free || t_fail run_leaves_low_descriptors_free "$out"

# run's own start loads no HTTP server: libmicrohttpd (and GnuTLS with it)
# is dlopened by `serve` alone (report/serve/mhdload.c), not by every command.
libs=$(LD_DEBUG=libs "$HEAPSNAP" run -q -o "$T/nohttp.%p.hsnap" -- true 2>&1 | grep -E 'calling init: .*(microhttpd|gnutls)' | head -2)
[ -z "$libs" ] && t_pass run_start_loads_no_http_library || t_fail run_start_loads_no_http_library "$libs"
# nor C++: the rules reader (toml++, libstdc++) is libheapsnap-toml.so, opened
# when a rules file is read (report/load/tomlload.c)
libs=$(LD_DEBUG=libs "$HEAPSNAP" run -q -o "$T/nocxx.%p.hsnap" -- true 2>&1 | grep -E 'calling init: .*(libstdc|tomlplusplus)' | head -2)
[ -z "$libs" ] && t_pass run_start_loads_no_cxx_library || t_fail run_start_loads_no_cxx_library "$libs"
