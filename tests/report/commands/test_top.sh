# tests/report/commands/test_top.sh - `heapsnap top` on fixtures whose answers are known from
# their source (see the comment at the top of each tests/fixtures/*.c): goldens for
# every key and option on sites.c and allocfns.c, and line-by-line checks for the
# C++ (newdelete.cc) and threaded (threads.c) fixtures.
. tests/fixtures/lib.sh
FX_TEST=top fx_ready sites allocfns newdelete threads sites_clang sites_clang_O2 \
  newdelete_clang newdelete_clang_O2 || return 0
G=tests/golden

# golden NAME SNAP ARGS...: top SNAP ARGS compared with tests/golden/NAME.txt
golden() {
  local name=$1 snap=$2; shift 2
  fx_top "$name" "$snap" "$@" && t_golden "$name" "$G/$name.txt" "$T/$name.txt"
}

# golden_only PATTERN NAME SNAP ARGS...: the same, keeping only fx_only PATTERN
golden_only() {
  local pat=$1 name=$2 snap=$3; shift 3
  fx_top "$name" "$snap" "$@" || return 0
  fx_only "$pat" "$T/$name.txt" >"$T/$name.only.txt"
  t_golden "$name" "$G/$name.txt" "$T/$name.only.txt"
}

# --- sites.c: every key -------------------------------------------------------
if fx_profile "$T/sites.hsnap" "$FX/sites" && [ -s "$T/sites.hsnap" ]; then
  t_pass top_sites_profiled
  S=$T/sites.hsnap
  golden top_sites_lineno "$S" --key lineno
  golden top_sites_filename "$S" --key filename
  golden top_sites_function "$S" --key function
  golden top_sites_module "$S" --key module
  golden top_sites_default_key "$S"
  golden top_sites_n3 "$S" --key lineno -n 3
  # cumulative and traceback also list libc's frames below main: compared without
  golden_only sites.c top_sites_cumulative "$S" --key lineno --cumulative -n 0
  golden_only sites.c top_sites_traceback "$S" --key traceback -n 0
  golden top_sites_include "$S" --key lineno --include 'node_new'
  golden top_sites_exclude "$S" --key lineno --exclude 'buf_new' --exclude 'node_*'
else
  t_fail top_sites_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"
fi

# --- allocfns.c: every allocation function -----------------------------------
if fx_profile "$T/allocfns.hsnap" "$FX/allocfns" && [ -s "$T/allocfns.hsnap" ]; then
  t_pass top_allocfns_profiled
  A=$T/allocfns.hsnap
  golden top_allocfns_lineno "$A" --key lineno -n 0
  golden top_allocfns_function "$A" --key function
  golden top_allocfns_filename "$A" --key filename
  golden top_allocfns_module "$A" --key module
  # each trace has one frame in allocfns.c (main): cumulative == lineno there
  golden_only allocfns.c top_allocfns_cumulative "$A" --key lineno --cumulative -n 0
else
  t_fail top_allocfns_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"
fi

# --- two executables summed: one note on stderr, and --exe / --pid select -----
if [ -s "$T/sites.hsnap" ] && [ -s "$T/allocfns.hsnap" ]; then
  "$HEAPSNAP" top "$T/sites.hsnap" "$T/allocfns.hsnap" >"$T/mix.out" 2>"$T/mix.err"
  if [ "$(grep -c . "$T/mix.err")" = 1 ] &&
     grep -q '^heapsnap: note: summing snapshots of 2 executables (sites, allocfns); --exe NAME or --pid PID selects$' "$T/mix.err"
  then t_pass top_notes_mixed_executables
  else t_fail top_notes_mixed_executables "$(tr '\n' '|' <"$T/mix.err")"; fi
  "$HEAPSNAP" top "$T/sites.hsnap" >"$T/one.out" 2>/dev/null
  "$HEAPSNAP" top --exe sites "$T/sites.hsnap" "$T/allocfns.hsnap" >"$T/exe.out" 2>"$T/exe.err"
  pid=$("$HEAPSNAP" info "$T/sites.hsnap" | awk '/^pid:/ { print $2 }')
  "$HEAPSNAP" top --pid "$pid" "$T/allocfns.hsnap" "$T/sites.hsnap" >"$T/pid.out" 2>"$T/pid.err"
  if cmp -s "$T/one.out" "$T/exe.out" && cmp -s "$T/one.out" "$T/pid.out" &&
     [ ! -s "$T/exe.err" ] && [ ! -s "$T/pid.err" ]; then t_pass top_selects_by_exe_and_pid
  else t_fail top_selects_by_exe_and_pid "$(cat "$T/exe.err" "$T/pid.err" | tr '\n' '|')"; fi
  # --by-process: each process's own top under its header, by pid (neither is
  # the other's parent), a blank line between; no mixed-executables note
  "$HEAPSNAP" top "$T/allocfns.hsnap" >"$T/onea.out" 2>/dev/null
  apid=$("$HEAPSNAP" info "$T/allocfns.hsnap" | awk '/^pid:/ { print $2 }')
  { for p in $(printf '%s\n%s\n' "$pid" "$apid" | sort -n); do
      [ "$p" = "$pid" ] && { echo "== pid $p (sites) =="; cat "$T/one.out"; } ||
        { echo "== pid $p (allocfns) =="; cat "$T/onea.out"; }
      echo; done; } | sed '$d' >"$T/byp.want"
  "$HEAPSNAP" top --by-process "$T/allocfns.hsnap" "$T/sites.hsnap" >"$T/byp.out" 2>"$T/byp.err"
  if cmp -s "$T/byp.want" "$T/byp.out" && ! grep -q 'executables' "$T/byp.err" &&
     grep -qx 'heapsnap: 2 processes, each apart' "$T/byp.err"; then
    t_pass top_by_process_lists_each_apart
  else t_fail top_by_process_lists_each_apart "$(diff "$T/byp.want" "$T/byp.out" | head -8 | tr '\n' '|')"; fi
  # --by-process --format json: one object per process, in the text's order,
  # each with the groups of that process's own `top --format json`
  "$HEAPSNAP" top --format json "$T/sites.hsnap" >"$T/onej.json" 2>/dev/null
  "$HEAPSNAP" top --format json "$T/allocfns.hsnap" >"$T/oneaj.json" 2>/dev/null
  "$HEAPSNAP" top --by-process --format json "$T/allocfns.hsnap" "$T/sites.hsnap" \
    >"$T/bypj.json" 2>"$T/bypj.err"; rc=$?
  why=$(python3 - "$T/bypj.json" "$T/onej.json" "$T/oneaj.json" "$pid" "$apid" <<'PY' 2>&1
import json, sys
doc = json.load(open(sys.argv[1]))
one = {int(sys.argv[4]): json.load(open(sys.argv[2])), int(sys.argv[5]): json.load(open(sys.argv[3]))}
assert doc["schema"] == "heapsnap-top-by-process" and doc["version"] == 1, doc["schema"]
assert doc["read"]["summed"] is False and doc["read"]["processes"] == 2, doc["read"]
procs = doc["processes"]
assert [p["pid"] for p in procs] == sorted(one), [p["pid"] for p in procs]
for p in procs:
    want = one[p["pid"]]
    assert p["role"] == "alone" and p["children"] == 0, p["role"]
    assert p["exe"] == want["snapshots"][0]["exe"] and p["snapshot"]["pid"] == p["pid"], p["exe"]
    assert isinstance(p["parent"], int) and p["parent"] > 0, p["parent"]
    assert p["groups"] == want["groups"] and p["groups_total"] == want["groups_total"], p["pid"]
PY
)
  if [ "$rc" = 0 ] && [ -z "$why" ]; then t_pass top_by_process_json_per_process
  else t_fail top_by_process_json_per_process "exit $rc: $why $(head -c 200 "$T/bypj.err")"; fi
fi

# --- newdelete.cc: C++ new in every form, charged to the user's line ----------
# libstdc++ allocates its emergency exception pool before main (charged to the
# runtime, not to this file), so only this file's lines are compared.
if fx_profile "$T/newdelete.hsnap" "$FX/newdelete" && [ -s "$T/newdelete.hsnap" ]; then
  t_pass top_newdelete_profiled
  N=$T/newdelete.hsnap
  golden_only newdelete.cc top_newdelete_lineno "$N" --key lineno -n 0
  golden_only newdelete.cc top_newdelete_cumulative "$N" --key lineno --cumulative -n 0
  if fx_top top_newdelete_function "$N" --key function -n 0; then
    if grep -Eq 'operator new|_Zn[wa]m|^malloc|^aligned_alloc' "$T/top_newdelete_function.txt"; then
      t_fail top_newdelete_function "a site is charged to the allocator, not its caller"
      sed 's/^/    /' "$T/top_newdelete_function.txt" | head -20
    elif ! grep -qx 'main: size=5226 B, count=17, average=307 B' "$T/top_newdelete_function.txt"; then
      t_fail top_newdelete_function "want 'main: size=5226 B, count=17' (every block of newdelete.cc)"
      sed 's/^/    /' "$T/top_newdelete_function.txt" | head -20
    else t_pass top_newdelete_function; fi
  fi
else
  t_fail top_newdelete_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"
fi

# --- clang builds: no .debug_aranges, and the same answers as gcc's -----------
# (before: every frame of a clang -g binary read "[sites_clang]:0")
for fx in sites_clang sites_clang_O2; do
  if fx_profile "$T/$fx.hsnap" "$FX/$fx" && [ -s "$T/$fx.hsnap" ]; then
    fx_top "$fx.l" "$T/$fx.hsnap" --key lineno &&
      t_golden "top_${fx}_lineno_as_gcc" "$G/top_sites_lineno.txt" "$T/$fx.l.txt"
    fx_top "$fx.f" "$T/$fx.hsnap" --key function &&
      t_golden "top_${fx}_function_as_gcc" "$G/top_sites_function.txt" "$T/$fx.f.txt"
    fx_top "$fx.t" "$T/$fx.hsnap" --key traceback -n 0 &&
      fx_only sites.c "$T/$fx.t.txt" >"$T/$fx.t.only" &&
      t_golden "top_${fx}_traceback_as_gcc" "$G/top_sites_traceback.txt" "$T/$fx.t.only"
  else t_fail "top_${fx}_profiled" "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; fi
done
for fx in newdelete_clang newdelete_clang_O2; do
  if fx_profile "$T/$fx.hsnap" "$FX/$fx" && [ -s "$T/$fx.hsnap" ]; then
    fx_top "$fx" "$T/$fx.hsnap" --key lineno -n 0 && fx_only newdelete.cc "$T/$fx.txt" >"$T/$fx.only" &&
      t_golden "top_${fx}_lineno_as_gcc" "$G/top_newdelete_lineno.txt" "$T/$fx.only"
  else t_fail "top_${fx}_profiled" "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; fi
done

# --- threads.c: 4 threads, cross-thread frees ---------------------------------
if fx_profile "$T/threads.hsnap" "$FX/threads" && [ -s "$T/threads.hsnap" ]; then
  t_pass top_threads_profiled
  golden_only threads.c top_threads_lineno "$T/threads.hsnap" --key lineno -n 0
else
  t_fail top_threads_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"
fi

# --- services' malloc front ends (redis zmalloc*, nginx ngx_alloc, OpenSSL
# CRYPTO_*) are wrappers: the site is the function that called them ----------
if fx_ready svcwrap && fx_profile "$T/svcwrap.hsnap" "$FX/svcwrap" &&
   fx_top top_service_wrappers_charged_to_callers "$T/svcwrap.hsnap" --key function -n 0; then
  got=$(grep -E '^(redis_site|ngx_site|ssl_site|z[a-z_]*|ngx_alloc|CRYPTO_zalloc):' \
        "$T/top_service_wrappers_charged_to_callers.txt" | tr '\n' '|')
  if [ "$got" = "redis_site: size=1200 B, count=2, average=600 B|ngx_site: size=300 B, count=1, average=300 B|ssl_site: size=50 B, count=1, average=50 B|" ]; then
    t_pass top_service_wrappers_charged_to_callers
  else t_fail top_service_wrappers_charged_to_callers "got $got"; fi
else
  t_fail top_service_wrappers_charged_to_callers "svcwrap does not build or run: $(head -c 300 "$T/fx.err")"
fi
