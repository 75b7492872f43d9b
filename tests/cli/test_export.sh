# tests/cli/test_export.sh - `heapsnap export` read back by the real readers:
# go tool pprof (pprof), a golden (folded), ajv with speedscope's own schema
# (speedscope) and valgrind's ms_print (massif), on fixtures whose answers
# are known from their source (tests/fixtures/sites.c, inlined.c, api.c).
. tests/fixtures/lib.sh
FX_TEST=export fx_ready sites inlined api || return 0
G=tests/golden
fx_profile "$T/sites.hsnap" "$FX/sites" || t_fail export_sites_profiled "sites exited $?"
fx_profile "$T/inl.hsnap" "$FX/inlined" || t_fail export_inlined_profiled "inlined exited $?"
S=$T/sites.hsnap

# exp NAME ARGS...: heapsnap export ARGS into $T/NAME (fails NAME on an error)
exp() {
  local name=$1; shift
  "$HEAPSNAP" export "$@" >"$T/$name" 2>"$T/$name.err" && return 0
  t_fail "$name" "export $* exited $?: $(head -c 300 "$T/$name.err")"; return 1
}
# has NAME FILE PATTERN: FILE has a line matching the extended regex PATTERN
has() {
  if grep -qE -- "$3" "$2"; then t_pass "$1"
  else t_fail "$1" "no line matches '$3' in: $(head -c 600 "$2" | tr '\n' '|')"; fi
}

# --- folded ---------------------------------------------------------------------
# Outermost first, site last; the libc start-up frames above main differ
# between machines, so the golden starts at main.
if exp export_folded -f folded "$S"; then
  sed 's/^.*;main (/main (/' "$T/export_folded" >"$T/folded.txt"
  t_golden export_folded_sites "$G/export_folded_sites.txt" "$T/folded.txt"
  grep -q '^_start;' "$T/export_folded" && t_pass export_folded_outermost_first \
    || t_fail export_folded_outermost_first "$(head -1 "$T/export_folded")"
fi
if exp export_folded_alloc -f folded --value alloc_objects "$S"; then
  # line 59: 40 allocated, 20 freed (inuse 5120 B, alloc 40 blocks)
  has export_folded_alloc_objects "$T/export_folded_alloc" ';main \(tests/fixtures/sites.c:59\) 40$'
fi

# --- pprof ---------------------------------------------------------------------
if ! command -v go >/dev/null; then
  t_fail export_pprof "go is not installed (scripts/install-deps.sh test installs golang-go)"
elif exp export_pprof -f pprof -o "$T/sites.pb.gz" "$S"; then
  pp() { HOME=$T PPROF_TMPDIR=$T timeout 60 go tool pprof "$@" 2>"$T/pprof.err"; }
  gzip -t "$T/sites.pb.gz" && t_pass export_pprof_gzip || t_fail export_pprof_gzip "not gzip"
  # sites.c's header: main holds 1070113 B itself, buf_new 40960 B.
  pp -top -unit=B -nodecount=2 "$T/sites.pb.gz" >"$T/pp.top"
  has export_pprof_top_main "$T/pp.top" '^ +1070113B .* main$'
  has export_pprof_top_buf_new "$T/pp.top" '^ +40960B .* buf_new$'
  has export_pprof_default_inuse "$T/pp.top" '^Type: inuse_space$'
  # every allocation ever made: 227 blocks (20 of line 59's 40 were freed)
  pp -top -sample_index=alloc_objects "$T/sites.pb.gz" >"$T/pp.alloc"
  has export_pprof_alloc_objects "$T/pp.alloc" 'of 227 total'
  pp -top -sample_index=inuse_objects -lines -nodecount=40 "$T/sites.pb.gz" >"$T/pp.lines"
  has export_pprof_lines "$T/pp.lines" '^ +20 .* main tests/fixtures/sites.c:59$'
  pp -traces "$T/sites.pb.gz" >"$T/pp.traces"
  if awk '/node_new/ {getline a; getline b; if (a ~ /tree_build/ && b ~ /^ +main$/) ok=1}
          END {exit !ok}' "$T/pp.traces"; then t_pass export_pprof_traces_callers
  else t_fail export_pprof_traces_callers "no node_new < tree_build < main trace"; fi
  bid=$(readelf -n "$FX/sites" | sed -n 's/.*Build ID: *//p')
  pp -raw "$T/sites.pb.gz" >"$T/pp.raw"
  has export_pprof_mapping_build_id "$T/pp.raw" "^1: 0x[0-9a-f]+/0x[0-9a-f]+/0x0 .*/sites $bid "
  has export_pprof_locations_have_lines "$T/pp.raw" ' main tests/fixtures/sites.c:52 '
  # inlined.c: grab is inlined into fill: one location, two Line entries
  if exp export_pprof_inl -f pprof -o "$T/inl.pb.gz" "$T/inl.hsnap"; then
    pp -traces "$T/inl.pb.gz" >"$T/inl.traces"
    if awk '/grab \(inline\)/ {getline a; if (a ~ /^ +fill$/) ok=1} END {exit !ok}' "$T/inl.traces"
    then t_pass export_pprof_inline_lines
    else t_fail export_pprof_inline_lines "$(head -c 400 "$T/inl.traces" | tr '\n' '|')"; fi
  fi
fi
# pprof is binary: refused on a terminal, written with -o or to a pipe
if command -v script >/dev/null; then
  script -qec "$HEAPSNAP export -f pprof $S" /dev/null >"$T/tty.out" 2>&1; rc=$?
  if [ $rc = 2 ] && grep -q "binary: not writing it to a terminal" "$T/tty.out"; then
    t_pass export_pprof_refuses_terminal
  else t_fail export_pprof_refuses_terminal "exit $rc: $(head -c 200 "$T/tty.out")"; fi
fi
"$HEAPSNAP" export -f pprof "$S" | gzip -t 2>/dev/null && t_pass export_pprof_to_pipe \
  || t_fail export_pprof_to_pipe "not gzip on a pipe"

# --- the command --------------------------------------------------------------
t_status export_needs_format 2 "$HEAPSNAP" export "$S"
t_status export_unknown_format 2 "$HEAPSNAP" export -f svg "$S"
t_status export_unknown_value 2 "$HEAPSNAP" export -f folded --value peak "$S"
t_status export_needs_snapshot 2 "$HEAPSNAP" export -f folded
printf 'old' >"$T/out.folded"
"$HEAPSNAP" export -f folded -o "$T/out.folded" "$S" 2>"$T/o.err"
if cmp -s "$T/out.folded" "$T/export_folded" && [ -z "$(ls -A "$T" | grep '\.tmp\.')" ]; then
  t_pass export_output_replaces_atomically
else t_fail export_output_replaces_atomically "$(head -c 200 "$T/out.folded")"; fi
"$HEAPSNAP" export -f folded -o "$T/nodir/x" "$S" >/dev/null 2>"$T/nodir.err"; rc=$?
[ $rc = 2 ] && grep -q "nodir/x" "$T/nodir.err" && t_pass export_output_error_names_file \
  || t_fail export_output_error_names_file "exit $rc: $(cat "$T/nodir.err")"
