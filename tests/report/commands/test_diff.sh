# tests/report/commands/test_diff.sh - `heapsnap diff` between two snapshots the api.c fixture
# takes through the public API (known changes in between, see its header), and
# the API's own numbers (get_traced_memory / reset_peak), printed by the program.
# api.c must also run without the shim (weak symbols absent) and exit 0.
. tests/fixtures/lib.sh
FX_TEST=diff fx_ready api || return 0
G=tests/golden

# golden_diff NAME OLD NEW ARGS...: diff OLD NEW ARGS, whole output (api.c makes
# no allocation but its own, so nothing else may appear)
golden_diff() {
  local name=$1 old=$2 new=$3; shift 3
  if ! "$HEAPSNAP" diff "$old" "$new" "$@" >"$T/$name.txt" 2>"$T/$name.err"; then
    t_fail "$name" "heapsnap diff exited $?: $(head -c 300 "$T/$name.err" | tr '\n' ' ')"; return 0
  fi
  t_golden "$name" "$G/$name.txt" "$T/$name.txt"
}

# Without the shim: the weak API symbols are NULL.
if "$FX/api" "$T/none_a.hsnap" "$T/none_b.hsnap" >"$T/noshim.out" 2>&1; then
  t_golden diff_api_without_shim "$G/api_output_noshim.txt" "$T/noshim.out"
else
  t_fail diff_api_without_shim "exit $? without the shim: $(head -c 300 "$T/noshim.out")"
fi
[ ! -e "$T/none_a.hsnap" ] && t_pass diff_api_without_shim_writes_nothing \
  || t_fail diff_api_without_shim_writes_nothing "a snapshot appeared without the shim"

if fx_profile "$T/exit.%p.hsnap" "$FX/api" "$T/a.hsnap" "$T/b.hsnap"; then
  t_pass diff_api_runs
else
  t_fail diff_api_runs "exit $? under the shim: $(head -c 300 "$T/fx.err")"
fi
t_golden diff_api_output "$G/api_output.txt" "$T/fx.out"

if [ -s "$T/a.hsnap" ] && [ -s "$T/b.hsnap" ]; then
  t_pass diff_api_snapshots_written
  golden_diff diff_api_lineno "$T/a.hsnap" "$T/b.hsnap" --key lineno -n 0
  golden_diff diff_api_n2 "$T/a.hsnap" "$T/b.hsnap" --key lineno -n 2
  golden_diff diff_api_reverse "$T/b.hsnap" "$T/a.hsnap" --key lineno
  golden_diff diff_api_same "$T/b.hsnap" "$T/b.hsnap" --key lineno
  golden_diff diff_api_function "$T/a.hsnap" "$T/b.hsnap" --key function
  golden_diff diff_api_filename "$T/a.hsnap" "$T/b.hsnap" --key filename
else
  t_fail diff_api_snapshots_written "heapsnap_take_snapshot wrote no a.hsnap/b.hsnap"
fi
