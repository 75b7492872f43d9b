# test_hooks.sh - every interposed function behaves as without the shim, and
# its blocks are charged to the right call site with the right size; C++
# new/delete are seen through libstdc++; only the interposed names and the
# API are exported.
. tests/shim/lib_shim.sh
s_dump_build

s_build alloc_all || t_fail alloc_all_builds "cc failed"
out="$T/all.%p.hsnap"
HEAPSNAP_OUTPUT=$out s_same alloc_all_same_output_and_status "$T/alloc_all"
snap=$(ls "$T"/all.*.hsnap 2>/dev/null | head -1)
if [ -z "$snap" ]; then
  t_fail alloc_all_snapshot_written "no snapshot in $T"
else
  t_pass alloc_all_snapshot_written
  s_dump "$snap" >"$T/all.dump" 2>"$T/all.dumperr"
  t_status alloc_all_snapshot_valid 0 s_dump "$snap"
  s_site_funcs "$T/alloc_all" "$T/all.dump" | sort >"$T/sites"
  # function, live count, live bytes: each allocation function charged to its caller
  for want in "keep_malloc 1 1000" "keep_calloc 1 2000" "keep_realloc 1 3000" \
              "keep_rarray 1 4000" "keep_memalign 1 5000" "keep_pmalign 1 6000" \
              "keep_aligned 1 7168" "keep_valloc 1 8000" "keep_pvalloc 1 9000" \
              "loop_site 10 1110"; do
    fn=${want%% *}
    if grep -qx "$want" "$T/sites"; then t_pass "site_$fn"
    else t_fail "site_$fn" "want '$want', have: $(grep "^$fn " "$T/sites" | tr '\n' ';')"; fi
  done
  # short-lived and failed allocations leave nothing live in edge_cases
  if awk '$1=="edge_cases" && $2!=0 {bad=1} END{exit bad}' "$T/sites"; then t_pass edge_cases_leave_nothing_live
  else t_fail edge_cases_leave_nothing_live "$(grep ^edge_cases "$T/sites" | tr '\n' ';')"; fi
  # the realloc'd block is charged once, at the realloc call, with its new size
  n=$(grep -c '^keep_realloc ' "$T/sites")
  if [ "$n" -ge 1 ] && ! grep -q '^keep_realloc 1 10$' "$T/sites"; then t_pass realloc_charged_to_new_size
  else t_fail realloc_charged_to_new_size "$(grep ^keep_realloc "$T/sites" | tr '\n' ';')"; fi
  if grep -q '^meta .* foreign=0 ' "$T/all.dump"; then t_pass no_foreign_frees_in_own_program
  else t_fail no_foreign_frees_in_own_program "$(head -1 "$T/all.dump")"; fi
fi

# C++: new/new[]/delete reach the hooks through libstdc++
if t_build cxx tests/shim/cxx_new.cc; then
  HEAPSNAP_OUTPUT="$T/cxx.hsnap" s_same cxx_same_output "$T/cxx"
  s_dump "$T/cxx.hsnap" >"$T/cxx.dump" 2>&1
  s_site_funcs "$T/cxx" "$T/cxx.dump" >"$T/cxx.sites"
  if grep -q '^_Z9make_foosv 7 336$\|^make_foos() 7 336$' "$T/cxx.sites" &&
     grep -q '^_Z10make_arrayv 1 400$\|^make_array() 1 400$' "$T/cxx.sites"; then t_pass cxx_new_charged_to_caller
  else t_fail cxx_new_charged_to_caller "$(tr '\n' ';' <"$T/cxx.sites")"; fi
else
  t_skip cxx_new_charged_to_caller "g++ failed"
fi

# exports: only the interposed names (pthread_create: the leak check's thread registry; the
# joins, pthread_detach and pthread_exit: an unjoined thread's return value; _exit and
# _Exit: the exit snapshot of processes that skip atexit, like dash; fork: the parent tells
# heapsnap run its child's pid (life.c's fork); sigaction and signal: a
# program taking over HEAPSNAP_SIGNAL is noticed; pthread_sigmask and sigprocmask: the leak
# check's stop signal is never blocked; dlclose: an unloaded library's module record
# is kept; the set*id family: the helper thread stopped around them, shim/creds.c; the exec
# family: HEAPSNAP_EXEC_SNAPSHOT, shim/exec.c; posix_spawn, posix_spawnp and daemon: the child's pid, as fork's; the mmap family and mprotect: shim/hooks/maphooks.c), heapsnap_*
# and LeakSanitizer's interface (lsan_*; never the program's hooks)
nm -D --defined-only "$SHIM" | awk '{print $3}' | sort >"$T/exports"
printf '%s\n' aligned_alloc calloc dlclose free malloc malloc_usable_size memalign posix_memalign \
  mmap mmap64 mprotect mremap munmap pthread_create pvalloc realloc reallocarray valloc _exit _Exit fork daemon sigaction signal \
  pthread_sigmask sigprocmask pthread_exit pthread_detach pthread_join pthread_tryjoin_np pthread_timedjoin_np \
  pthread_clockjoin_np \
  setuid setgid seteuid setegid setreuid setregid setresuid setresgid setgroups initgroups \
  execve execv execvp execvpe fexecve execveat execl execlp execle posix_spawn posix_spawnp \
  __lsan_disable __lsan_do_leak_check __lsan_do_recoverable_leak_check __lsan_enable \
  __lsan_ignore_object __lsan_register_root_region __lsan_unregister_root_region | sort >"$T/want_exports"
grep '^heapsnap_' "$T/exports" >>"$T/want_exports"
sort -o "$T/want_exports" "$T/want_exports"
if cmp -s "$T/exports" "$T/want_exports" && grep -q '^heapsnap_take_snapshot$' "$T/exports"; then t_pass exports_only_hooks_and_api
else t_fail exports_only_hooks_and_api "$(diff "$T/want_exports" "$T/exports" | tr '\n' ' ')"; fi
